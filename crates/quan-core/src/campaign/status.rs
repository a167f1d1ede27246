//! Where a campaign stands (draft, active, paused, ended) and the changes an operator asks for.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a campaign stands: created as `draft`; members enter and are treated only while
/// `active`; `ended` is final (by the operator, its end time, or its budget spent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Active,
    Paused,
    Ended,
}

/// A status change an operator asks for (the API answers the ones a campaign's status allows
/// with each campaign, so clients show them without knowing the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    Activate,
    Pause,
    Resume,
    End,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => CampaignStatus::Draft,
            "active" => CampaignStatus::Active,
            "paused" => CampaignStatus::Paused,
            "ended" => CampaignStatus::Ended,
            _ => return None,
        })
    }

    /// The status after `action`, or `None` when it is not allowed from here. Repeating the
    /// current state is allowed, so retries are safe; an ended campaign stays ended.
    pub fn apply(self, action: CampaignAction) -> Option<CampaignStatus> {
        use CampaignStatus::*;
        match (self, action) {
            (Draft | Active, CampaignAction::Activate) => Some(Active),
            (Active | Paused, CampaignAction::Pause) => Some(Paused),
            (Paused | Active, CampaignAction::Resume) => Some(Active),
            (_, CampaignAction::End) => Some(Ended),
            _ => None,
        }
    }

    /// The status changes that move a campaign on from here (repeating the current status is
    /// allowed but changes nothing).
    pub fn actions(self) -> Vec<CampaignAction> {
        use CampaignAction::*;
        [Activate, Pause, Resume, End]
            .into_iter()
            .filter(|a| self.apply(*a).is_some_and(|to| to != self))
            .collect()
    }
}

impl CampaignAction {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "activate" => CampaignAction::Activate,
            "pause" => CampaignAction::Pause,
            "resume" => CampaignAction::Resume,
            "end" => CampaignAction::End,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignAction::*;
    use super::CampaignStatus::*;

    #[test]
    fn transitions() {
        assert_eq!(Draft.apply(Activate), Some(Active));
        assert_eq!(Draft.apply(Resume), None);
        assert_eq!(Draft.apply(Pause), None);
        assert_eq!(Active.apply(Pause), Some(Paused));
        assert_eq!(Paused.apply(Activate), None);
        assert_eq!(Paused.apply(Resume), Some(Active));
        assert_eq!(Ended.apply(Resume), None);
        assert_eq!(Ended.apply(Activate), None);
        assert_eq!(Ended.apply(End), Some(Ended));
    }

    #[test]
    fn actions_move_on() {
        assert_eq!(Draft.actions(), vec![Activate, End]);
        assert_eq!(Active.actions(), vec![Pause, End]);
        assert_eq!(Paused.actions(), vec![Resume, End]);
        assert_eq!(Ended.actions(), vec![]);
    }
}
