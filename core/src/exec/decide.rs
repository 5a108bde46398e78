//! The one failure decision (ARCHITECTURE §6): after a request failed — an error reply with
//! its typed code, or a connection failure at a stage — what happens next: the reply is the
//! answer, fail, fail as indeterminate, follow a redirect, or retry (elsewhere, after a
//! backoff), and whether the topology must be refreshed. Pure; single calls, pipelines and
//! transactions all ask it, and the engine only applies the answer. One test per row of
//! the table, named after the row.

use crate::error::{ErrorKind, ServerCode};
use crate::stats::RefreshReason;

/// Redirects followed per request before giving up (a healthy migration needs 1–2).
pub(crate) const MAX_REDIRECTS: u32 = 5;
/// Connection retries per request with standalone nodes: one fresh connection.
pub(crate) const MAX_RETRIES: u32 = 1;
/// Connection retries per request in cluster mode (next replica, the primary, the new
/// primary after a failover); the call's deadline bounds them too.
pub(crate) const CLUSTER_MAX_RETRIES: u32 = 16;

/// Where a connection failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Getting a connection (connect + handshake): the command was not sent.
    Connect,
    /// After the command was (or may have been) written.
    Sent,
}

/// What went wrong with one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Failure<'e> {
    /// The server answered with an error reply (the connection is fine).
    Reply(&'e ServerCode),
    /// The connection failed with an error of `kind` at `stage`.
    Connection { kind: ErrorKind, stage: Stage },
}

/// What the request has been through, and what it is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Attempt {
    /// A read-only command: safe to repeat.
    pub readonly: bool,
    /// The user opted in to retrying writes after an I/O failure.
    pub retry_writes: bool,
    /// Cluster mode (redirects and cluster replies mean something).
    pub cluster: bool,
    /// Connection retries so far.
    pub conn_retries: u32,
    /// Redirects followed so far.
    pub redirects: u32,
    /// Another untried candidate node exists.
    pub has_alternative: bool,
    /// This request already asked for an immediate refresh.
    pub refreshed: bool,
    /// A MOVED names the node that answered it (a stale view on the answering node).
    pub moved_to_self: bool,
    /// The call's deadline has not passed (a timeout was the node's own, shorter budget).
    pub time_left: bool,
}

/// What to do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// The reply (an error reply included) is the command's answer.
    Done,
    /// Report the error as it is.
    Fail,
    /// Report it as [`ErrorKind::Indeterminate`]: a write may have executed.
    FailIndeterminate,
    /// Too many redirects: report the last one as an error.
    TooManyRedirects,
    /// Send it to the reply's redirect target (after `ASKING` for ASK; MOVED also patches
    /// the slot's owner in the snapshot).
    Redirect { asking: bool },
    /// Send it again, to `to`; `backoff` waits first.
    Retry { to: RetryTo, backoff: bool },
}

/// Where a retried request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryTo {
    /// The same node (TRYAGAIN: the slot is mid-migration there).
    SameNode,
    /// The target resolved anew from the current snapshot (the view was stale).
    Reroute,
    /// Another candidate: the node that failed goes behind the others.
    Elsewhere,
}

/// Whether the topology should be refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// No.
    No,
    /// Count the event; refresh (in the background) once `refresh.on_redirects` /
    /// `on_failures` events have been counted since the last refresh.
    Counted(RefreshReason),
    /// Refresh in the background: the request can make progress without it.
    Soon(RefreshReason),
    /// The request needs a new view before it can progress: refresh before its next
    /// attempt, asking the node that answered first when `ask_first`.
    Now { ask_first: bool },
}

/// The decision: what to do with the request, and about the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub next: Next,
    pub refresh: Refresh,
}

const fn decision(next: Next, refresh: Refresh) -> Decision {
    Decision { next, refresh }
}

/// Decide what follows `failure` of a request that is `attempt`.
pub(crate) fn decide(failure: Failure<'_>, attempt: &Attempt) -> Decision {
    match failure {
        Failure::Reply(code) => after_reply(code, attempt),
        Failure::Connection { kind, stage } => after_connection_failure(kind, stage, attempt),
    }
}

fn after_reply(code: &ServerCode, a: &Attempt) -> Decision {
    use Refresh::{Counted, No, Now, Soon};
    // A node that cannot serve now: a read goes to another candidate, at once if it has
    // one; a write waits a little for the cluster to settle and goes to the slot's owner.
    let not_now = Next::Retry {
        to: if a.readonly {
            RetryTo::Elsewhere
        } else {
            RetryTo::Reroute
        },
        backoff: !(a.readonly && a.has_alternative),
    };
    match code {
        // Redirects and cluster replies mean nothing from standalone nodes: the answer.
        ServerCode::Moved(_)
        | ServerCode::Ask(_)
        | ServerCode::ClusterDown
        | ServerCode::MasterDown
        | ServerCode::ReadOnly
        | ServerCode::TryAgain
            if !a.cluster =>
        {
            decision(Next::Done, No)
        }
        ServerCode::Moved(_) | ServerCode::Ask(_) if a.redirects >= MAX_REDIRECTS => {
            decision(Next::TooManyRedirects, No)
        }
        // A MOVED to the node that sent it: following it is pointless until the view is
        // new (the answering node knows better: ask it first).
        ServerCode::Moved(_) if a.moved_to_self && !a.refreshed => {
            decision(Next::Redirect { asking: false }, Now { ask_first: true })
        }
        // A chain of MOVED: follow it, and refresh without waiting for the count.
        ServerCode::Moved(_) if a.redirects >= 1 => decision(
            Next::Redirect { asking: false },
            Soon(RefreshReason::Topology),
        ),
        ServerCode::Moved(_) => decision(
            Next::Redirect { asking: false },
            Counted(RefreshReason::Moved),
        ),
        ServerCode::Ask(_) => decision(Next::Redirect { asking: true }, No),
        ServerCode::TryAgain => decision(
            Next::Retry {
                to: RetryTo::SameNode,
                backoff: true,
            },
            No,
        ),
        ServerCode::Loading => decision(not_now, No),
        ServerCode::ClusterDown | ServerCode::MasterDown => {
            decision(not_now, Soon(RefreshReason::Topology))
        }
        ServerCode::ReadOnly if !a.refreshed => decision(
            Next::Retry {
                to: RetryTo::Reroute,
                backoff: false,
            },
            Now { ask_first: true },
        ),
        ServerCode::ReadOnly => decision(
            Next::Retry {
                to: RetryTo::Reroute,
                backoff: true,
            },
            No,
        ),
        _ => decision(Next::Done, No),
    }
}

fn after_connection_failure(kind: ErrorKind, stage: Stage, a: &Attempt) -> Decision {
    use Refresh::{Counted, No};
    let max = if a.cluster {
        CLUSTER_MAX_RETRIES
    } else {
        MAX_RETRIES
    };
    let may_retry = a.conn_retries < max;
    // The only candidate (a primary) is down: wait for a failover before the next try.
    let retry = Next::Retry {
        to: RetryTo::Elsewhere,
        backoff: a.cluster && !a.has_alternative,
    };
    let counted = Counted(RefreshReason::Failures);
    match (stage, kind) {
        (Stage::Connect, ErrorKind::Connect) if may_retry => decision(retry, counted),
        // The node did not connect or answer the handshake within its share of the time
        // (stalled); nothing was sent and the call still has time: go elsewhere.
        (Stage::Connect, ErrorKind::Timeout) if a.time_left && may_retry => {
            decision(retry, counted)
        }
        (Stage::Connect, ErrorKind::Auth) => decision(Next::Fail, No),
        (Stage::Connect, _) => decision(Next::Fail, counted),
        (Stage::Sent, ErrorKind::Io | ErrorKind::Timeout)
            if (a.readonly || a.retry_writes) && may_retry =>
        {
            decision(retry, counted)
        }
        (Stage::Sent, ErrorKind::Io | ErrorKind::Timeout | ErrorKind::Protocol) if !a.readonly => {
            decision(Next::FailIndeterminate, counted)
        }
        (Stage::Sent, _) => decision(Next::Fail, counted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RedirectTarget;

    fn cluster_read() -> Attempt {
        Attempt {
            readonly: true,
            cluster: true,
            has_alternative: true,
            ..Attempt::default()
        }
    }

    fn cluster_write() -> Attempt {
        Attempt {
            cluster: true,
            ..Attempt::default()
        }
    }

    fn moved() -> ServerCode {
        ServerCode::Moved(RedirectTarget {
            slot: 1,
            addr: "h:1".into(),
        })
    }

    fn ask() -> ServerCode {
        ServerCode::Ask(RedirectTarget {
            slot: 1,
            addr: "h:1".into(),
        })
    }

    fn reply(code: &ServerCode, a: Attempt) -> Decision {
        decide(Failure::Reply(code), &a)
    }

    fn conn(kind: ErrorKind, stage: Stage, a: Attempt) -> Decision {
        decide(Failure::Connection { kind, stage }, &a)
    }

    const RETRY_ELSEWHERE: Next = Next::Retry {
        to: RetryTo::Elsewhere,
        backoff: false,
    };
    const REROUTE_AFTER_BACKOFF: Next = Next::Retry {
        to: RetryTo::Reroute,
        backoff: true,
    };

    #[test]
    fn plain_error_reply_is_the_answer() {
        for code in [ServerCode::Other, ServerCode::Busy, ServerCode::NoScript] {
            assert_eq!(
                reply(&code, cluster_write()),
                decision(Next::Done, Refresh::No)
            );
        }
    }

    #[test]
    fn cluster_replies_from_standalone_nodes_are_the_answer() {
        for code in [
            moved(),
            ask(),
            ServerCode::ClusterDown,
            ServerCode::ReadOnly,
        ] {
            assert_eq!(
                reply(&code, Attempt::default()),
                decision(Next::Done, Refresh::No)
            );
        }
    }

    #[test]
    fn moved_is_followed_and_counts_towards_a_refresh() {
        assert_eq!(
            reply(&moved(), cluster_write()),
            decision(
                Next::Redirect { asking: false },
                Refresh::Counted(RefreshReason::Moved)
            )
        );
    }

    #[test]
    fn circular_moved_refreshes_now_asking_the_answering_node_once() {
        let circular = Attempt {
            moved_to_self: true,
            ..cluster_write()
        };
        assert_eq!(
            reply(&moved(), circular),
            decision(
                Next::Redirect { asking: false },
                Refresh::Now { ask_first: true }
            )
        );
        let after_refresh = Attempt {
            refreshed: true,
            ..circular
        };
        assert_eq!(
            reply(&moved(), after_refresh).refresh,
            Refresh::Counted(RefreshReason::Moved)
        );
    }

    #[test]
    fn repeated_moved_is_followed_and_refreshes_in_the_background() {
        let second = Attempt {
            redirects: 1,
            ..cluster_write()
        };
        assert_eq!(
            reply(&moved(), second),
            decision(
                Next::Redirect { asking: false },
                Refresh::Soon(RefreshReason::Topology)
            )
        );
    }

    #[test]
    fn ask_is_followed_once_with_asking_and_no_refresh() {
        assert_eq!(
            reply(&ask(), cluster_write()),
            decision(Next::Redirect { asking: true }, Refresh::No)
        );
    }

    #[test]
    fn redirects_past_the_limit_fail() {
        let many = Attempt {
            redirects: MAX_REDIRECTS,
            ..cluster_write()
        };
        assert_eq!(reply(&moved(), many).next, Next::TooManyRedirects);
        assert_eq!(reply(&ask(), many).next, Next::TooManyRedirects);
    }

    #[test]
    fn tryagain_retries_the_same_target_after_a_backoff() {
        assert_eq!(
            reply(&ServerCode::TryAgain, cluster_write()),
            decision(
                Next::Retry {
                    to: RetryTo::SameNode,
                    backoff: true
                },
                Refresh::No
            )
        );
    }

    #[test]
    fn loading_moves_a_read_elsewhere_at_once_and_a_write_waits() {
        assert_eq!(
            reply(&ServerCode::Loading, cluster_read()).next,
            RETRY_ELSEWHERE
        );
        assert_eq!(
            reply(&ServerCode::Loading, cluster_write()).next,
            REROUTE_AFTER_BACKOFF
        );
    }

    #[test]
    fn clusterdown_and_masterdown_retry_and_refresh_in_the_background() {
        for code in [ServerCode::ClusterDown, ServerCode::MasterDown] {
            assert_eq!(
                reply(&code, cluster_write()),
                decision(
                    REROUTE_AFTER_BACKOFF,
                    Refresh::Soon(RefreshReason::Topology)
                )
            );
            assert_eq!(reply(&code, cluster_read()).next, RETRY_ELSEWHERE);
        }
    }

    #[test]
    fn readonly_refreshes_now_asking_the_demoted_primary_then_backs_off() {
        assert_eq!(
            reply(&ServerCode::ReadOnly, cluster_write()),
            decision(
                Next::Retry {
                    to: RetryTo::Reroute,
                    backoff: false
                },
                Refresh::Now { ask_first: true }
            )
        );
        let again = Attempt {
            refreshed: true,
            ..cluster_write()
        };
        assert_eq!(
            reply(&ServerCode::ReadOnly, again),
            decision(REROUTE_AFTER_BACKOFF, Refresh::No)
        );
    }

    #[test]
    fn refused_connection_retries_any_command_elsewhere() {
        let d = conn(ErrorKind::Connect, Stage::Connect, cluster_write());
        assert_eq!(
            d,
            decision(
                Next::Retry {
                    to: RetryTo::Elsewhere,
                    backoff: true
                },
                Refresh::Counted(RefreshReason::Failures)
            ),
            "a write whose only node is down waits for a failover"
        );
        assert_eq!(
            conn(ErrorKind::Connect, Stage::Connect, cluster_read()).next,
            RETRY_ELSEWHERE
        );
    }

    #[test]
    fn refused_connection_out_of_attempts_fails_as_not_sent() {
        let standalone = Attempt {
            conn_retries: MAX_RETRIES,
            ..Attempt::default()
        };
        assert_eq!(
            conn(ErrorKind::Connect, Stage::Connect, standalone).next,
            Next::Fail
        );
        let cluster = Attempt {
            conn_retries: CLUSTER_MAX_RETRIES,
            ..cluster_write()
        };
        assert_eq!(
            conn(ErrorKind::Connect, Stage::Connect, cluster).next,
            Next::Fail
        );
    }

    #[test]
    fn rejected_handshake_fails_without_retry_or_refresh() {
        assert_eq!(
            conn(ErrorKind::Auth, Stage::Connect, cluster_read()),
            decision(Next::Fail, Refresh::No)
        );
    }

    #[test]
    fn deadline_passing_before_sending_fails_as_not_sent() {
        assert_eq!(
            conn(ErrorKind::Timeout, Stage::Connect, cluster_write()).next,
            Next::Fail
        );
    }

    #[test]
    fn node_stalling_before_sending_retries_elsewhere_while_the_call_has_time() {
        let with_time = Attempt {
            time_left: true,
            ..cluster_read()
        };
        assert_eq!(
            conn(ErrorKind::Timeout, Stage::Connect, with_time),
            decision(RETRY_ELSEWHERE, Refresh::Counted(RefreshReason::Failures))
        );
    }

    #[test]
    fn read_failing_after_send_retries_elsewhere() {
        for kind in [ErrorKind::Io, ErrorKind::Timeout] {
            assert_eq!(
                conn(kind, Stage::Sent, cluster_read()).next,
                RETRY_ELSEWHERE
            );
        }
    }

    #[test]
    fn read_failing_after_send_out_of_attempts_fails() {
        let spent = Attempt {
            conn_retries: MAX_RETRIES,
            readonly: true,
            ..Attempt::default()
        };
        assert_eq!(conn(ErrorKind::Io, Stage::Sent, spent).next, Next::Fail);
    }

    #[test]
    fn write_failing_after_send_is_indeterminate() {
        for kind in [ErrorKind::Io, ErrorKind::Timeout, ErrorKind::Protocol] {
            assert_eq!(
                conn(kind, Stage::Sent, cluster_write()),
                decision(
                    Next::FailIndeterminate,
                    Refresh::Counted(RefreshReason::Failures)
                )
            );
        }
    }

    #[test]
    fn write_failing_after_send_is_retried_when_opted_in() {
        let opted = Attempt {
            retry_writes: true,
            ..Attempt::default()
        };
        assert!(matches!(
            conn(ErrorKind::Io, Stage::Sent, opted).next,
            Next::Retry { .. }
        ));
        let spent = Attempt {
            conn_retries: MAX_RETRIES,
            ..opted
        };
        assert_eq!(
            conn(ErrorKind::Io, Stage::Sent, spent).next,
            Next::FailIndeterminate
        );
    }

    #[test]
    fn broken_connection_before_sending_fails_as_it_is() {
        for kind in [ErrorKind::Io, ErrorKind::Protocol] {
            assert_eq!(
                conn(kind, Stage::Connect, cluster_write()).next,
                Next::Fail,
                "{kind}"
            );
        }
    }

    #[test]
    fn garbled_reply_to_a_write_is_indeterminate_even_when_retries_are_opted_in() {
        let opted = Attempt {
            retry_writes: true,
            ..Attempt::default()
        };
        assert_eq!(
            conn(ErrorKind::Protocol, Stage::Sent, opted).next,
            Next::FailIndeterminate
        );
    }

    #[test]
    fn garbled_reply_to_a_read_fails_as_protocol_error() {
        assert_eq!(
            conn(ErrorKind::Protocol, Stage::Sent, cluster_read()).next,
            Next::Fail
        );
    }
}
