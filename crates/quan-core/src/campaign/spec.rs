//! A campaign as an operator writes it (`POST /v1/campaigns`); [`super::checked`] checks it into
//! a [`super::Campaign`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::scrm::{RfmTier, Stage};
use crate::text::{Id, Label, Name, Note};
use crate::{ErrorCode, FieldError};

/// The most templates one pack grants.
pub const MAX_PACK: usize = 20;
/// The longest delay after an event, in hours (a year).
pub const MAX_DELAY_HOURS: u32 = 24 * 366;
/// The attribution window a campaign takes when it names none, in days.
pub const DEFAULT_ATTRIBUTION_DAYS: u32 = 14;
/// The longest attribution window, in days.
pub const MAX_ATTRIBUTION_DAYS: u32 = 365;

/// A campaign's definition, as written (the body of `POST /v1/campaigns`): checked by
/// [`super::Campaign::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    #[schema(value_type = String)]
    pub name: Name,
    pub trigger: Trigger,
    /// Who may enter; default everyone.
    #[serde(default)]
    pub audience: Audience,
    /// What an entered (and not held-out) member gets, all or none.
    pub actions: Vec<Action>,
    /// At most `count` treatments of one member within `days` days.
    #[serde(default)]
    pub frequency_cap: Option<FrequencyCap>,
    #[serde(default)]
    pub budget: Option<Budget>,
    /// The share of the audience held out (0..10000 basis points), by a stable hash of campaign
    /// and member: recorded, never treated.
    #[serde(default)]
    #[schema(maximum = 10000)]
    pub holdout_bp: u32,
    /// How long after entering a member's orders count for the campaign's review, in days
    /// (1..=365; default 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 365)]
    pub attribution_days: Option<u32>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
}

impl CampaignSpec {
    /// The days after entering in which a member's orders count for the review (the one
    /// default, [`DEFAULT_ATTRIBUTION_DAYS`]).
    pub fn attribution_days(&self) -> u32 {
        self.attribution_days.unwrap_or(DEFAULT_ATTRIBUTION_DAYS)
    }
}

/// What makes members enter a campaign. (Fission, lotteries and points come as further kinds.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Each event of this kind enters its member, `delay_hours` after the event; with
    /// `data`, only events whose data has these keys with these values (a completed group
    /// order: `{"group": "completed"}`).
    Event {
        event: EventKind,
        #[serde(default)]
        #[schema(maximum = 8784)]
        delay_hours: Option<u32>,
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        data: Option<serde_json::Map<String, serde_json::Value>>,
    },
    /// Every listed ISO weekday (Monday = 1) at `at` (HH:MM, tenant-local), the audience as of
    /// then.
    Schedule { weekdays: Vec<u8>, at: String },
    /// Members whose join (or last order) is at least `hours` old, with no order since.
    Inactivity {
        since: Since,
        #[schema(minimum = 1, maximum = 8784)]
        hours: u32,
    },
    /// The audience as of activation, once.
    Once,
}

/// The events a campaign can wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Signup,
    OrderPaid,
    OrderShipped,
    OrderConfirmed,
    Review,
    Follow,
    Share,
    CheckIn,
    TierChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::Signup,
        EventKind::OrderPaid,
        EventKind::OrderShipped,
        EventKind::OrderConfirmed,
        EventKind::Review,
        EventKind::Follow,
        EventKind::Share,
        EventKind::CheckIn,
        EventKind::TierChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Signup => "signup",
            EventKind::OrderPaid => "order_paid",
            EventKind::OrderShipped => "order_shipped",
            EventKind::OrderConfirmed => "order_confirmed",
            EventKind::Review => "review",
            EventKind::Follow => "follow",
            EventKind::Share => "share",
            EventKind::CheckIn => "check_in",
            EventKind::TierChanged => "tier_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What an inactivity trigger counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Since {
    Joined,
    LastOrder,
}

/// Who may enter a campaign. (Named `CampaignAudience` in the API's document: a template's
/// `Audience` is another union, and one name would hide it.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = CampaignAudience)]
pub enum Audience {
    /// Everyone.
    #[default]
    All,
    Segment {
        segment_id: Id,
    },
    /// Membership tiers.
    Tiers {
        #[schema(value_type = Vec<String>)]
        tiers: Vec<Label>,
    },
    /// Lifecycle stages.
    Stages {
        stages: Vec<Stage>,
    },
    /// RFM tiers (S, A, B, C).
    RfmTiers {
        tiers: Vec<RfmTier>,
    },
}

impl Audience {
    /// A rule-shaped audience names at least one tier or stage; the error names the field.
    pub fn check(&self) -> Result<(), FieldError> {
        let empty =
            |field: &str, message: &str| Err(FieldError::new(ErrorCode::EmptyList, field, message));
        match self {
            Audience::Tiers { tiers } if tiers.is_empty() => empty("audience.tiers", "name a tier"),
            Audience::Stages { stages } if stages.is_empty() => {
                empty("audience.stages", "name a stage")
            }
            Audience::RfmTiers { tiers } if tiers.is_empty() => {
                empty("audience.tiers", "name an RFM tier")
            }
            _ => Ok(()),
        }
    }
}

/// What a treated member gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A coupon, through the `campaign_only` route.
    Grant { template_id: Id },
    /// Several coupons, all or none; `cac` checks the pack's expected cost against the CAC
    /// ceiling (80% of LTV).
    GrantPack {
        template_ids: Vec<Id>,
        #[serde(default)]
        cac: Option<CacCheck>,
    },
    /// A task for the member's store guide: its material, a suggested message and the coupon
    /// the guide may grant.
    Task {
        #[schema(value_type = String)]
        title: Name,
        #[serde(default)]
        template_id: Option<Id>,
        #[serde(default)]
        #[schema(value_type = Option<String>)]
        material: Option<Note>,
        #[serde(default)]
        #[schema(value_type = Option<String>)]
        message: Option<Note>,
    },
    /// One of several coupons, or none, for each member (docs/DOMAIN.md section 10): the audience
    /// is scored against every template by the tenant's redemption model, and a
    /// multiple-choice knapsack picks what earns the most expected value for an expected cost
    /// of at most `budget` (the face value of the coupons expected to be used, minor units).
    /// `min_roi_bp`: leave out a coupon whose expected value is below this share of its
    /// expected cost. `expected_use_bp`: the redemption rate assumed while the tenant's history
    /// is too thin to train a model on (default 1000, 10%).
    Allocate {
        template_ids: Vec<Id>,
        budget: i64,
        #[serde(default)]
        min_roi_bp: Option<u32>,
        #[serde(default)]
        expected_use_bp: Option<u32>,
    },
    /// A message through the channel's webhook; with `link_template_id`, it carries the
    /// member's signed claim link for that template.
    Message {
        channel: MessageChannel,
        #[schema(value_type = String)]
        text: Note,
        #[serde(default)]
        link_template_id: Option<Id>,
    },
}

/// The figures a pack's cost is checked against (docs/DOMAIN.md section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacCheck {
    /// The share of granted coupons expected to be used, basis points.
    pub expected_use_bp: u32,
    /// A member's lifetime value, minor units.
    pub ltv: i64,
}

/// Where messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Sms,
    Wechat,
    AppPush,
    Email,
}

impl MessageChannel {
    pub const ALL: [MessageChannel; 4] = [
        MessageChannel::Sms,
        MessageChannel::Wechat,
        MessageChannel::AppPush,
        MessageChannel::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Sms => "sms",
            MessageChannel::Wechat => "wechat",
            MessageChannel::AppPush => "app_push",
            MessageChannel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MessageChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// At most `count` treatments of a member within `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    pub count: u32,
    pub days: u32,
}

/// What a campaign may spend: coupons granted (`count`) and their face value (`amount`, minor
/// units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default)]
    pub count: Option<i64>,
    #[serde(default)]
    pub amount: Option<i64>,
}
