//! The one retry decision (ARCHITECTURE §6): from what failed, at which stage, for what
//! kind of command, to retry or fail — and whether the failure must be reported as
//! indeterminate. Pure; one test per row.

use crate::error::ErrorKind;

/// Extra attempts after the first, per call (the call's deadline bounds them too).
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
    /// Try again on a fresh connection.
    Retry,
    /// Report the error as it is.
    Fail,
    /// Report it as [`ErrorKind::Indeterminate`]: a write may have executed.
    FailIndeterminate,
}

/// Decide after a failure of `kind` at `stage`. `readonly` commands are safe to repeat;
/// everything else counts as a write unless `retry_writes` opts in.
pub(crate) fn decide(
    kind: ErrorKind,
    stage: Stage,
    readonly: bool,
    retry_writes: bool,
    attempt: u32,
) -> Action {
    let may_retry = attempt < MAX_RETRIES;
    match stage {
        Stage::Connect => match kind {
            ErrorKind::Connect if may_retry => Action::Retry,
            _ => Action::Fail,
        },
        Stage::Sent => {
            let repeatable = readonly || retry_writes;
            match kind {
                ErrorKind::Io if repeatable && may_retry => Action::Retry,
                // A timeout used the call's deadline: nothing left to retry with.
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

    #[test]
    fn should_retry_connect_failure_once_for_any_command() {
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 0),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Connect, Stage::Connect, false, false, 1),
            Action::Fail
        );
    }

    #[test]
    fn should_not_retry_auth_failure() {
        assert_eq!(
            decide(ErrorKind::Auth, Stage::Connect, true, true, 0),
            Action::Fail
        );
    }

    #[test]
    fn should_fail_connect_timeout_without_retry() {
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Connect, true, false, 0),
            Action::Fail
        );
    }

    #[test]
    fn should_retry_read_after_io_error_on_fresh_connection() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, true, false, 0),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, true, false, 1),
            Action::Fail
        );
    }

    #[test]
    fn should_report_write_after_io_error_as_indeterminate() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, false, 0),
            Action::FailIndeterminate
        );
    }

    #[test]
    fn should_retry_write_after_io_error_when_opted_in() {
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, true, 0),
            Action::Retry
        );
        assert_eq!(
            decide(ErrorKind::Io, Stage::Sent, false, true, 1),
            Action::FailIndeterminate
        );
    }

    #[test]
    fn should_report_write_timeout_as_indeterminate_and_read_timeout_as_timeout() {
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Sent, false, false, 0),
            Action::FailIndeterminate
        );
        assert_eq!(
            decide(ErrorKind::Timeout, Stage::Sent, true, false, 0),
            Action::Fail
        );
    }

    #[test]
    fn should_report_garbled_reply_to_write_as_indeterminate() {
        assert_eq!(
            decide(ErrorKind::Protocol, Stage::Sent, false, false, 0),
            Action::FailIndeterminate
        );
        assert_eq!(
            decide(ErrorKind::Protocol, Stage::Sent, true, false, 0),
            Action::Fail
        );
    }
}
