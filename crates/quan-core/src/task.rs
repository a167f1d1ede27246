//! Store-guide tasks (docs/DOMAIN.md sections 1 and 8): a task is `open` until its guide completes
//! it with an outcome, once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorCode;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(TaskStatus::Open),
            "done" => Some(TaskStatus::Done),
            _ => None,
        }
    }
}

/// What completing a task with an outcome does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Open: it becomes done with this outcome.
    Complete,
    /// Already done with this very outcome: a retry, answered with the task as it is.
    Repeat,
}

/// Completing a task in `status` (done with `outcome`) with `asked`: once, and a retry with the
/// same outcome is the same completion; another outcome is refused (`invalid_state`).
pub fn complete(
    status: TaskStatus,
    outcome: Option<&str>,
    asked: &str,
) -> Result<Completion, ErrorCode> {
    match status {
        TaskStatus::Open => Ok(Completion::Complete),
        TaskStatus::Done if outcome == Some(asked) => Ok(Completion::Repeat),
        TaskStatus::Done => Err(ErrorCode::InvalidState),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_completed_once_and_a_retry_with_the_same_outcome_repeats_it() {
        use TaskStatus::*;
        assert_eq!(complete(Open, None, "called"), Ok(Completion::Complete));
        assert_eq!(
            complete(Done, Some("called"), "called"),
            Ok(Completion::Repeat)
        );
        assert_eq!(
            complete(Done, Some("called"), "no answer"),
            Err(ErrorCode::InvalidState)
        );
        for s in [Open, Done] {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
        }
    }
}
