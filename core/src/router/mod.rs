//! Routing: from a command and the topology to a [`plan::Plan`] — which nodes get which
//! (sub-)requests and how their replies merge. Pure: no I/O, unit-tested without a server.

pub(crate) mod plan;
pub(crate) mod prefix;
pub(crate) mod read_from;
pub(crate) mod scan_cursor;
