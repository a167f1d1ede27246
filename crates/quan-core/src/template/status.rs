//! Where a template stands (draft, active, paused, ended) and the changes an operator asks for.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a template stands: created as `draft`, claimable only while `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Draft,
    Active,
    Paused,
    Ended,
}

/// A status change an operator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Activate,
    Pause,
    End,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Draft => "draft",
            TemplateStatus::Active => "active",
            TemplateStatus::Paused => "paused",
            TemplateStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => TemplateStatus::Draft,
            "active" => TemplateStatus::Active,
            "paused" => TemplateStatus::Paused,
            "ended" => TemplateStatus::Ended,
            _ => return None,
        })
    }

    /// The status after `action`, or `None` when the action is not allowed from here.
    /// Repeating the current state (activating an active template) is allowed, so retries are safe.
    pub fn apply(self, action: StatusAction) -> Option<TemplateStatus> {
        use TemplateStatus::*;
        match (self, action) {
            (Draft | Active | Paused, StatusAction::Activate) => Some(Active),
            (Active | Paused, StatusAction::Pause) => Some(Paused),
            (Draft | Active | Paused | Ended, StatusAction::End) => Some(Ended),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_is_final_and_drafts_cannot_pause() {
        assert_eq!(TemplateStatus::Ended.apply(StatusAction::Activate), None);
        assert_eq!(TemplateStatus::Draft.apply(StatusAction::Pause), None);
        assert_eq!(
            TemplateStatus::Paused.apply(StatusAction::Activate),
            Some(TemplateStatus::Active)
        );
        assert_eq!(
            TemplateStatus::Active.apply(StatusAction::End),
            Some(TemplateStatus::Ended)
        );
    }
}
