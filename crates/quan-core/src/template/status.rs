//! Where a template stands (draft, active, paused, ended) and the changes an operator asks for.

use crate::{ErrorCode, FieldError};

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

/// What an operator may do to a template in its status: edit it, or change its status. The
/// API answers these with each template, so clients show them without knowing the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateAction {
    Edit,
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

    /// Only a draft's content can be edited.
    pub fn editable(self) -> bool {
        self == TemplateStatus::Draft
    }

    /// What may be done from here: an edit (a draft), and each status change that moves the
    /// template on (repeating the current status is allowed but changes nothing).
    pub fn actions(self) -> Vec<TemplateAction> {
        let edit = self.editable().then_some(TemplateAction::Edit);
        let moves = [
            (StatusAction::Activate, TemplateAction::Activate),
            (StatusAction::Pause, TemplateAction::Pause),
            (StatusAction::End, TemplateAction::End),
        ]
        .into_iter()
        .filter(|(change, _)| self.apply(*change).is_some_and(|to| to != self))
        .map(|(_, action)| action);
        edit.into_iter().chain(moves).collect()
    }
}

/// The stock left after an edit of a template whose status is `status` and which has `issued`
/// coupons (and claim codes) already: only a draft is edited, and its new `stock` may not fall
/// below what was issued, which it keeps counting (codes made for a draft took their stock).
pub fn stock_after_edit(
    status: TemplateStatus,
    issued: i64,
    stock: Option<i64>,
) -> Result<Option<i64>, FieldError> {
    if !status.editable() {
        return Err(FieldError::new(
            ErrorCode::InvalidState,
            "status",
            "only a draft template can be edited",
        ));
    }
    match stock {
        Some(stock) if stock < issued => Err(FieldError::new(
            ErrorCode::InvalidValue,
            "stock",
            format!("stock {stock} is below the {issued} already issued (claim codes made for this draft)"),
        )),
        stock => Ok(stock.map(|s| s - issued)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_move_on() {
        use TemplateAction::*;
        use TemplateStatus::*;
        assert_eq!(Draft.actions(), vec![Edit, Activate, End]);
        assert_eq!(Active.actions(), vec![Pause, End]);
        assert_eq!(Paused.actions(), vec![Activate, End]);
        assert_eq!(Ended.actions(), vec![]);
    }

    #[test]
    fn an_edit_keeps_what_was_issued() {
        use TemplateStatus::*;
        assert_eq!(stock_after_edit(Draft, 10, Some(25)), Ok(Some(15)));
        assert_eq!(stock_after_edit(Draft, 10, None), Ok(None));
        assert_eq!(stock_after_edit(Draft, 10, Some(10)), Ok(Some(0)));
        assert_eq!(
            stock_after_edit(Draft, 10, Some(9)).unwrap_err().field,
            "stock"
        );
        assert_eq!(
            stock_after_edit(Active, 0, Some(9)).unwrap_err().code,
            ErrorCode::InvalidState
        );
    }

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
