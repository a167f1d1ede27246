//! [`Campaign::parse`]: every rule of a campaign as written ([`super::spec`]), each naming the
//! field at fault; holding a [`Campaign`] means it is valid.

use jiff::civil::Time;
use jiff::Timestamp;

use super::spec::*;
use crate::text::Id;
use crate::{ErrorCode, FieldError};

/// A campaign whose every part has been checked. Build it with [`Campaign::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    spec: CampaignSpec,
    at: Option<Time>,
}

impl Campaign {
    /// Checks every part; the error names the field (`trigger.weekdays[2]`, `actions[1]`).
    /// Whether named templates exist and may be granted is the caller's to check
    /// ([`Campaign::template_refs`]).
    pub fn parse(spec: CampaignSpec) -> Result<Campaign, FieldError> {
        let bad = |code, field: &str, message: &str| Err(FieldError::new(code, field, message));
        let mut at = None;
        match &spec.trigger {
            Trigger::Event {
                delay_hours, data, ..
            } => {
                if data.as_ref().is_some_and(|d| d.len() > 16) {
                    return bad(ErrorCode::TooLarge, "trigger.data", "at most 16 keys");
                }
                if delay_hours.is_some_and(|h| h > MAX_DELAY_HOURS) {
                    return bad(
                        ErrorCode::TooLarge,
                        "trigger.delay_hours",
                        "at most a year (8784 hours)",
                    );
                }
            }
            Trigger::Schedule { weekdays, at: when } => {
                if weekdays.is_empty() {
                    return bad(ErrorCode::EmptyList, "trigger.weekdays", "name a weekday");
                }
                for (i, d) in weekdays.iter().enumerate() {
                    if !(1..=7).contains(d) {
                        return bad(
                            ErrorCode::InvalidValue,
                            &format!("trigger.weekdays[{i}]"),
                            "an ISO weekday, 1 (Monday) to 7",
                        );
                    }
                }
                if when == "24:00" {
                    return bad(ErrorCode::InvalidValue, "trigger.at", "00:00..23:59");
                }
                at = Some(crate::template::parse::hhmm("trigger.at", when)?);
            }
            Trigger::Inactivity { hours, .. } => {
                if *hours == 0 {
                    return bad(ErrorCode::NotPositive, "trigger.hours", "at least 1");
                }
                if *hours > MAX_DELAY_HOURS {
                    return bad(ErrorCode::TooLarge, "trigger.hours", "at most 8784");
                }
            }
            Trigger::Once => {}
        }
        spec.audience.check()?;
        if spec.actions.is_empty() {
            return bad(ErrorCode::EmptyList, "actions", "a campaign does something");
        }
        if spec.actions.len() > MAX_PACK {
            return bad(ErrorCode::TooLarge, "actions", "at most 20 actions");
        }
        for (i, a) in spec.actions.iter().enumerate() {
            if let Action::GrantPack { template_ids, cac } = a {
                let field = format!("actions[{i}].template_ids");
                if template_ids.is_empty() {
                    return bad(ErrorCode::EmptyList, &field, "a pack has templates");
                }
                if template_ids.len() > MAX_PACK {
                    return bad(ErrorCode::TooLarge, &field, "at most 20 templates");
                }
                if let Some(c) = cac {
                    if c.expected_use_bp > 10_000 {
                        return bad(
                            ErrorCode::InvalidValue,
                            &format!("actions[{i}].cac.expected_use_bp"),
                            "0..10000 basis points",
                        );
                    }
                    if c.ltv < 0 {
                        return bad(
                            ErrorCode::Negative,
                            &format!("actions[{i}].cac.ltv"),
                            "must not be negative",
                        );
                    }
                }
            }
        }
        check_allocation(&spec)?;
        let grants = spec.actions.iter().map(grants_of).sum::<usize>();
        if grants > MAX_PACK {
            return bad(
                ErrorCode::TooLarge,
                "actions",
                "at most 20 coupons per member",
            );
        }
        if let Some(cap) = &spec.frequency_cap {
            if cap.count == 0 {
                return bad(ErrorCode::NotPositive, "frequency_cap.count", "at least 1");
            }
            if cap.days == 0 {
                return bad(ErrorCode::NotPositive, "frequency_cap.days", "at least 1");
            }
            if cap.days > 3660 {
                return bad(ErrorCode::TooLarge, "frequency_cap.days", "at most 3660");
            }
        }
        if let Some(b) = &spec.budget {
            if b.count.is_none() && b.amount.is_none() {
                return bad(
                    ErrorCode::MissingField,
                    "budget",
                    "give a count, an amount or both",
                );
            }
            for (field, v) in [("budget.count", b.count), ("budget.amount", b.amount)] {
                if v.is_some_and(|v| v < 1) {
                    return bad(ErrorCode::NotPositive, field, "at least 1");
                }
            }
        }
        if spec.holdout_bp > 10_000 {
            return bad(
                ErrorCode::InvalidValue,
                "holdout_bp",
                "0..10000 basis points",
            );
        }
        match spec.attribution_days {
            Some(0) => return bad(ErrorCode::NotPositive, "attribution_days", "at least 1"),
            Some(d) if d > MAX_ATTRIBUTION_DAYS => {
                return bad(ErrorCode::TooLarge, "attribution_days", "at most 365")
            }
            _ => {}
        }
        if let (Some(s), Some(e)) = (spec.starts_at, spec.ends_at) {
            if e <= s {
                return bad(ErrorCode::WindowInverted, "ends_at", "after starts_at");
            }
        }
        Ok(Campaign { spec, at })
    }

    pub fn spec(&self) -> &CampaignSpec {
        &self.spec
    }

    pub fn into_spec(self) -> CampaignSpec {
        self.spec
    }

    /// The local time of a schedule trigger.
    pub fn schedule_at(&self) -> Option<Time> {
        self.at
    }

    /// The templates granted to each treated member, in action order (packs flattened).
    pub fn grants(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for a in &self.spec.actions {
            match a {
                Action::Grant { template_id } => out.push(template_id.as_str()),
                Action::GrantPack { template_ids, .. } => {
                    out.extend(template_ids.iter().map(Id::as_str))
                }
                _ => {}
            }
        }
        out
    }

    /// The allocating action, when the campaign has one: its entries each carry the template
    /// the allocation chose, which is what a treatment grants.
    pub fn allocation(&self) -> Option<Allocation<'_>> {
        self.spec.actions.iter().find_map(|a| match a {
            Action::Allocate {
                template_ids,
                budget,
                min_roi_bp,
                expected_use_bp,
            } => Some(Allocation {
                template_ids,
                budget: *budget,
                min_roi_bp: *min_roi_bp,
                expected_use_bp: expected_use_bp.unwrap_or(DEFAULT_EXPECTED_USE_BP),
            }),
            _ => None,
        })
    }

    /// Every template the campaign names, with the field that names it: each must exist and
    /// be distributed `campaign_only`.
    pub fn template_refs(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (i, a) in self.spec.actions.iter().enumerate() {
            match a {
                Action::Grant { template_id } => {
                    out.push((format!("actions[{i}].template_id"), template_id.as_str()))
                }
                Action::GrantPack { template_ids, .. } | Action::Allocate { template_ids, .. } => {
                    for (j, t) in template_ids.iter().enumerate() {
                        out.push((format!("actions[{i}].template_ids[{j}]"), t.as_str()));
                    }
                }
                Action::Task {
                    template_id: Some(t),
                    ..
                }
                | Action::Message {
                    link_template_id: Some(t),
                    ..
                } => out.push((
                    format!(
                        "actions[{i}].{}",
                        if matches!(a, Action::Task { .. }) {
                            "template_id"
                        } else {
                            "link_template_id"
                        }
                    ),
                    t.as_str(),
                )),
                _ => {}
            }
        }
        out
    }

    /// Whether an event of the trigger's kind matches its `data` filter.
    pub fn matches_event(&self, data: &serde_json::Value) -> bool {
        match &self.spec.trigger {
            Trigger::Event {
                data: Some(want), ..
            } => want.iter().all(|(k, v)| data.get(k) == Some(v)),
            _ => true,
        }
    }

    /// Whether the campaign runs at `now`: inside its start and end times.
    pub fn in_window(&self, now: Timestamp) -> bool {
        self.spec.starts_at.is_none_or(|s| now >= s) && !self.past_end(now)
    }

    /// Whether the campaign's end time has come by `now`.
    pub fn past_end(&self, now: Timestamp) -> bool {
        self.spec.ends_at.is_some_and(|e| now >= e)
    }
}

fn grants_of(a: &Action) -> usize {
    match a {
        Action::Grant { .. } => 1,
        Action::GrantPack { template_ids, .. } => template_ids.len(),
        Action::Allocate { .. } => 1,
        _ => 0,
    }
}

/// The redemption rate an allocation assumes without a model, basis points.
pub const DEFAULT_EXPECTED_USE_BP: u32 = 1000;

/// An allocating action, read from the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation<'a> {
    pub template_ids: &'a [Id],
    /// The expected cost allowed, minor units.
    pub budget: i64,
    pub min_roi_bp: Option<u32>,
    pub expected_use_bp: u32,
}

/// An allocation decides over the whole audience at once, so it needs a `once` trigger; it is
/// the campaign's only grant, names 1 to 20 distinct templates and a positive budget.
fn check_allocation(spec: &CampaignSpec) -> Result<(), FieldError> {
    let bad = |code, field: String, message: &str| Err(FieldError::new(code, &field, message));
    let mut seen = false;
    for (i, a) in spec.actions.iter().enumerate() {
        let Action::Allocate {
            template_ids,
            budget,
            min_roi_bp,
            expected_use_bp,
        } = a
        else {
            continue;
        };
        if seen {
            return bad(
                ErrorCode::InvalidValue,
                format!("actions[{i}]"),
                "one allocate action per campaign",
            );
        }
        seen = true;
        if !matches!(spec.trigger, Trigger::Once) {
            return bad(
                ErrorCode::InvalidValue,
                "trigger.kind".into(),
                "an allocate action decides over the whole audience at once: use a `once` trigger",
            );
        }
        let field = format!("actions[{i}].template_ids");
        if template_ids.is_empty() {
            return bad(
                ErrorCode::EmptyList,
                field,
                "name the templates to choose from",
            );
        }
        if template_ids.len() > MAX_PACK {
            return bad(ErrorCode::TooLarge, field, "at most 20 templates");
        }
        for (j, t) in template_ids.iter().enumerate() {
            if template_ids[..j].contains(t) {
                return bad(
                    ErrorCode::InvalidValue,
                    format!("{field}[{j}]"),
                    "named twice",
                );
            }
        }
        if *budget < 1 {
            return bad(
                ErrorCode::NotPositive,
                format!("actions[{i}].budget"),
                "at least 1",
            );
        }
        if expected_use_bp.is_some_and(|bp| !(1..=10_000).contains(&bp)) {
            return bad(
                ErrorCode::InvalidValue,
                format!("actions[{i}].expected_use_bp"),
                "1..10000 basis points",
            );
        }
        if min_roi_bp.is_some_and(|bp| bp > 1_000_000) {
            return bad(
                ErrorCode::TooLarge,
                format!("actions[{i}].min_roi_bp"),
                "at most 1000000 (100x)",
            );
        }
    }
    if seen {
        if let Some(i) = spec
            .actions
            .iter()
            .position(|a| matches!(a, Action::Grant { .. } | Action::GrantPack { .. }))
        {
            return bad(
                ErrorCode::InvalidValue,
                format!("actions[{i}]"),
                "an allocating campaign grants what the allocation chooses, nothing else",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<Campaign, FieldError> {
        Campaign::parse(serde_json::from_value(v).expect("shape"))
    }

    fn base() -> serde_json::Value {
        serde_json::json!({"name": "c", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": "t1"}]})
    }

    #[test]
    fn an_allocation_is_read_and_checked() {
        let mut body = base();
        body["actions"] = serde_json::json!([{"kind": "allocate", "template_ids": ["a", "b"],
            "budget": 5000, "min_roi_bp": 20000}, {"kind": "message", "channel": "sms", "text": "hi"}]);
        let c = parse(body.clone()).unwrap();
        let a = c.allocation().expect("an allocation");
        assert_eq!(
            (a.budget, a.min_roi_bp, a.expected_use_bp),
            (5000, Some(20000), 1000)
        );
        assert_eq!(a.template_ids.len(), 2);
        assert!(c.grants().is_empty(), "what is granted is the entry's");
        assert_eq!(
            c.template_refs(),
            vec![
                ("actions[0].template_ids[0]".to_string(), "a"),
                ("actions[0].template_ids[1]".to_string(), "b")
            ]
        );
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut b = body.clone();
            edit(&mut b);
            parse(b).err().map(|e| e.field)
        };
        let field = |f: &str| Some(f.to_string());
        assert_eq!(
            refused(&|b| b["trigger"] = serde_json::json!({"kind": "event", "event": "signup"})),
            field("trigger.kind")
        );
        assert_eq!(
            refused(&|b| b["actions"][0]["budget"] = 0.into()),
            field("actions[0].budget")
        );
        assert_eq!(
            refused(&|b| b["actions"][0]["template_ids"] = serde_json::json!(["a", "a"])),
            field("actions[0].template_ids[1]")
        );
        assert_eq!(
            refused(&|b| b["actions"][0]["expected_use_bp"] = 10_001.into()),
            field("actions[0].expected_use_bp")
        );
        assert_eq!(
            refused(&|b| b["actions"][1] = serde_json::json!({"kind": "grant", "template_id": "c"})),
            field("actions[1]")
        );
        assert_eq!(
            refused(&|b| b["actions"][1] = b["actions"][0].clone()),
            field("actions[1]")
        );
    }

    #[test]
    fn a_minimal_campaign_parses_with_defaults() {
        let c = parse(base()).unwrap();
        assert_eq!(c.spec().audience, Audience::All);
        assert_eq!(c.spec().holdout_bp, 0);
        assert_eq!(c.grants(), vec!["t1"]);
    }

    #[test]
    fn each_part_is_refused_with_its_field() {
        let cases = [
            (
                "trigger",
                serde_json::json!({"kind": "schedule", "weekdays": [], "at": "10:00"}),
                "trigger.weekdays",
            ),
            (
                "trigger",
                serde_json::json!({"kind": "schedule", "weekdays": [4, 8], "at": "10:00"}),
                "trigger.weekdays[1]",
            ),
            (
                "trigger",
                serde_json::json!({"kind": "schedule", "weekdays": [4], "at": "25:00"}),
                "trigger.at",
            ),
            (
                "trigger",
                serde_json::json!({"kind": "inactivity", "since": "joined", "hours": 0}),
                "trigger.hours",
            ),
            ("actions", serde_json::json!([]), "actions"),
            (
                "actions",
                serde_json::json!([{"kind": "grant_pack", "template_ids": []}]),
                "actions[0].template_ids",
            ),
            (
                "frequency_cap",
                serde_json::json!({"count": 0, "days": 7}),
                "frequency_cap.count",
            ),
            ("budget", serde_json::json!({}), "budget"),
            ("budget", serde_json::json!({"amount": 0}), "budget.amount"),
            ("holdout_bp", serde_json::json!(10001), "holdout_bp"),
            ("attribution_days", serde_json::json!(0), "attribution_days"),
            (
                "attribution_days",
                serde_json::json!(366),
                "attribution_days",
            ),
        ];
        for (key, value, field) in cases {
            let mut body = base();
            body[key] = value;
            assert_eq!(parse(body).unwrap_err().field, field, "{key}");
        }
        let mut body = base();
        body["starts_at"] = "2026-03-02T00:00:00Z".into();
        body["ends_at"] = "2026-03-01T00:00:00Z".into();
        assert_eq!(parse(body).unwrap_err().code, ErrorCode::WindowInverted);
    }

    #[test]
    fn template_refs_name_their_fields() {
        let mut body = base();
        body["actions"] = serde_json::json!([
            {"kind": "grant_pack", "template_ids": ["a", "b"]},
            {"kind": "task", "title": "call", "template_id": "c"},
            {"kind": "message", "channel": "sms", "text": "hi", "link_template_id": "d"}
        ]);
        let c = parse(body).unwrap();
        let refs: Vec<_> = c
            .template_refs()
            .into_iter()
            .map(|(f, t)| format!("{f}={t}"))
            .collect();
        assert_eq!(
            refs,
            [
                "actions[0].template_ids[0]=a",
                "actions[0].template_ids[1]=b",
                "actions[1].template_id=c",
                "actions[2].link_template_id=d"
            ]
        );
        assert_eq!(c.grants(), vec!["a", "b"]);
    }
}
