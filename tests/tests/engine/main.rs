//! Integration tests of the core engine against real redis-server processes.

mod commands;
mod connections;
mod keyspace;
mod malformed;
mod pipeline;
mod registry;
mod stats;
mod table;
mod tls_fixture;
mod transaction_failures;
