//! The one retry decision for connection-level failures (ARCHITECTURE §6): from what
//! failed, at which stage, for what kind of command, to retry or fail — and whether the
//! failure must be reported as indeterminate. Pure; one test per row. (Error replies that
//! mean "not executed" — MOVED, TRYAGAIN… — are classified in `redirect`.)

use crate::error::ErrorKind;

/// Extra attempts after the first for standalone nodes (one fresh connection); cluster mode
/// allows more (other replicas, the primary, a failover). The call's deadline bounds both.
pub(crate) const MAX_RETRIES: u32 = 1;

/// Where the failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Getting a connection (connect + handshake): the command was not sent.
    Connect,
    /// After the command was (or may have been) written.
    Sent,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Try again (on a fresh connection, or another node for reads).
    Retry,
    /// Report the error as it is.
    Fail,
    /// Report it as [`ErrorKind::Indeterminate`]: a write may have executed.
    FailIndeterminate,
}

/// Decide after a failure of `kind` at `stage`, `attempt` retries in, at most `max`
/// retries. `readonly` commands are safe to repeat; everything else counts as a write
/// unless `retry_writes` opts in.
pub(crate) fn decide(
    kind: ErrorKind,
    stage: Stage,
    readonly: bool,
    retry_writes: bool,
    attempt: u32,
    max: u32,
) -> Action {
    let may_retry = attempt < max;
    match stage {
        Stage::Connect => match kind {
            ErrorKind::Connect if may_retry => Action::Retry,
            _ => Action::Fail,
        },
        Stage::Sent => {
            let repeatable = readonly || retry_writes;
            match kind {
                // A read that timed out on a stalled node may still have time elsewhere (the
                // engine gives reads with alternatives half the remaining time per attempt).
                ErrorKind::Io | ErrorKind::Timeout if repeatable && may_retry => Action::Retry,
                ErrorKind::Io | ErrorKind::Timeout | ErrorKind::Protocol if !readonly => {
                    Action::FailIndeterminate
                }
                _ => Action::Fail,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u32 = MAX_RETRIES;

    #[test]
    fn should_retry_connect_failure_once_for_any_command() {
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 0, M),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 1, M),
            Action::Fail
        );
    }

    #[test]
    fn should_not_retry_auth_failure() {
        assert_eq!(
            decide(ErrorKind::Auth, Stage::Connect, true, true, 0, M),
            Action::Fail
        );
    }

    #[test]
    fn should_fail_connect_timeout_without_retry() {
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Connect, true, false, 0, M),
            Action::Fail
        );
    }

    #[test]
    fn should_retry_read_after_io_error() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, true, false, 0, M),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, true, false, 1, M),
            Action::Fail
        );
    }

    #[test]
    fn should_report_write_after_io_error_as_indeterminate() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, false, 0, M),
            Action::FailIndeterminate
        );
    }

    #[test]
    fn should_retry_write_after_io_error_when_opted_in() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, true, 0, M),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, true, 1, M),
            Action::FailIndeterminate
        );
    }

    #[test]
    fn should_report_write_timeout_as_indeterminate_and_retry_read_timeout_elsewhere() {
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Sent, false, false, 0, M),
            Action::FailIndeterminate
        );
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Sent, true, false, 0, M),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Sent, true, false, 1, M),
            Action::Fail
        );
    }

    #[test]
    fn should_report_garbled_reply_to_write_as_indeterminate() {
        assert_eq!(
            decide(ErrorKind::Protocol, Stage::Sent, false, false, 0, M),
            Action::FailIndeterminate
        );
        assert_eq!(
            decide(ErrorKind::Protocol, Stage::Sent, true, false, 0, M),
            Action::Fail
        );
    }

    #[test]
    fn should_keep_retrying_unsent_requests_while_cluster_attempts_remain() {
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 7, 16),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 16, 16),
            Action::Fail
        );
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, true, false, 3, 16),
            Action::Retry
        );
    }
}
