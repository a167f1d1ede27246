//! Segment rules: conditions over member fields, lifecycle stage, RFM and purchases, combined
//! with and / or / not; their validation and their evaluation for one member.
//!
//! Purchase conditions (bought a category, spent, ordered, within a number of days) need the
//! order history; evaluation asks the caller for them through a closure keyed by [`Purchase`],
//! so a store can answer each distinct purchase condition with one query for all members.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{RfmScore, RfmTier, Stage};
use crate::error::{ErrorCode, FieldError};

/// How deep rules may nest, and how many conditions one segment may hold.
pub const MAX_DEPTH: usize = 8;
pub const MAX_CONDITIONS: usize = 64;
const MAX_LIST: usize = 1000;
const MAX_DAYS: u32 = 3650;

/// An inclusive range of RFM scores (0..5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRange {
    #[serde(default)]
    pub min: Option<u8>,
    #[serde(default)]
    pub max: Option<u8>,
}

impl ScoreRange {
    fn contains(&self, v: u8) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// A segment rule. Leaves test one fact of a member; `and`, `or` and `not` combine them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Every rule holds.
    And {
        #[schema(no_recursion)]
        rules: Vec<Rule>,
    },
    /// At least one rule holds.
    Or {
        #[schema(no_recursion)]
        rules: Vec<Rule>,
    },
    /// The rule does not hold.
    Not {
        #[schema(no_recursion)]
        rule: Box<Rule>,
    },
    /// The lifecycle stage is one of these.
    Stage { stages: Vec<Stage> },
    /// The RFM tier is one of these.
    RfmTier { tiers: Vec<RfmTier> },
    /// The RFM scores lie in these ranges (absent: any).
    Rfm {
        #[serde(default)]
        r: Option<ScoreRange>,
        #[serde(default)]
        f: Option<ScoreRange>,
        #[serde(default)]
        m: Option<ScoreRange>,
    },
    /// The membership tier is one of these.
    Tier { tiers: Vec<String> },
    /// The member carries this tag.
    Tag { tag: String },
    /// The member's region is one of these.
    Region { regions: Vec<String> },
    /// The member came through one of these channels.
    Channel { channels: Vec<String> },
    /// The member is assigned to this store guide.
    Guide { guide_id: String },
    /// The member's points lie in this range.
    Points {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    /// The member joined within the last `days` days (a customer who never joined does not).
    JoinedWithin { days: u32 },
    /// The member bought a product of `category` within the last `within_days` days.
    Bought { category: String, within_days: u32 },
    /// The member spent at least `min` (minor units), within the last `within_days` days or ever.
    Spent {
        min: i64,
        #[serde(default)]
        within_days: Option<u32>,
    },
    /// The member placed at least `min` orders, within the last `within_days` days or ever.
    Orders {
        min: i64,
        #[serde(default)]
        within_days: Option<u32>,
    },
}

/// A condition on the order history, answered by the caller for each member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Purchase {
    Bought { category: String, within_days: u32 },
    Spent { min: i64, within_days: Option<u32> },
    Orders { min: i64, within_days: Option<u32> },
}

impl Purchase {
    /// Where its window starts (exclusive), for an as-of time; `None`: all history up to it.
    pub fn since(&self, as_of: Timestamp) -> Option<Timestamp> {
        let days = match self {
            Purchase::Bought { within_days, .. } => Some(*within_days),
            Purchase::Spent { within_days, .. } | Purchase::Orders { within_days, .. } => {
                *within_days
            }
        }?;
        Some(days_before(as_of, days))
    }
}

fn days_before(t: Timestamp, days: u32) -> Timestamp {
    t.checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(Timestamp::MIN)
}

/// The facts of one customer that rules read (purchases come separately).
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub id: &'a str,
    /// When they joined the membership; `None` for a buyer who never joined.
    pub joined_at: Option<Timestamp>,
    pub tier: Option<&'a str>,
    pub region: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub guide_id: Option<&'a str>,
    pub points: i64,
    pub tags: &'a [String],
    pub stage: Stage,
    pub rfm: RfmScore,
}

impl Rule {
    /// Whether `member` satisfies the rule as of `as_of`; `purchased` answers purchase leaves.
    pub fn matches(
        &self,
        member: &Member,
        as_of: Timestamp,
        purchased: &mut dyn FnMut(&Purchase) -> bool,
    ) -> bool {
        let has = |list: &[String], v: Option<&str>| v.is_some_and(|v| list.iter().any(|x| x == v));
        match self {
            Rule::And { rules } => rules.iter().all(|r| r.matches(member, as_of, purchased)),
            Rule::Or { rules } => rules.iter().any(|r| r.matches(member, as_of, purchased)),
            Rule::Not { rule } => !rule.matches(member, as_of, purchased),
            Rule::Stage { stages } => stages.contains(&member.stage),
            Rule::RfmTier { tiers } => tiers.contains(&member.rfm.tier),
            Rule::Rfm { r, f, m } => {
                r.is_none_or(|x| x.contains(member.rfm.r))
                    && f.is_none_or(|x| x.contains(member.rfm.f))
                    && m.is_none_or(|x| x.contains(member.rfm.m))
            }
            Rule::Tier { tiers } => has(tiers, member.tier),
            Rule::Tag { tag } => member.tags.iter().any(|t| t == tag),
            Rule::Region { regions } => has(regions, member.region),
            Rule::Channel { channels } => has(channels, member.channel),
            Rule::Guide { guide_id } => member.guide_id == Some(guide_id.as_str()),
            Rule::Points { min, max } => {
                min.is_none_or(|m| member.points >= m) && max.is_none_or(|m| member.points <= m)
            }
            Rule::JoinedWithin { days } => member
                .joined_at
                .is_some_and(|j| j > days_before(as_of, *days) && j <= as_of),
            Rule::Bought { .. } | Rule::Spent { .. } | Rule::Orders { .. } => {
                purchased(&self.purchase().expect("a purchase leaf"))
            }
        }
    }

    /// The purchase condition of a purchase leaf.
    pub fn purchase(&self) -> Option<Purchase> {
        match self {
            Rule::Bought {
                category,
                within_days,
            } => Some(Purchase::Bought {
                category: category.clone(),
                within_days: *within_days,
            }),
            Rule::Spent { min, within_days } => Some(Purchase::Spent {
                min: *min,
                within_days: *within_days,
            }),
            Rule::Orders { min, within_days } => Some(Purchase::Orders {
                min: *min,
                within_days: *within_days,
            }),
            _ => None,
        }
    }

    /// Every distinct purchase condition of the rule, in the order they appear.
    pub fn purchases(&self) -> Vec<Purchase> {
        let mut out = Vec::new();
        self.walk(&mut |r| {
            if let Some(p) = r.purchase() {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        });
        out
    }

    fn walk(&self, f: &mut dyn FnMut(&Rule)) {
        f(self);
        match self {
            Rule::And { rules } | Rule::Or { rules } => rules.iter().for_each(|r| r.walk(f)),
            Rule::Not { rule } => rule.walk(f),
            _ => {}
        }
    }

    /// Refuses empty lists, out-of-range numbers and rules too deep or too large; the error
    /// names the field by its path under `at` (e.g. `rule.rules[1].stages`).
    pub fn validate(&self, at: &str) -> Result<(), FieldError> {
        let mut conditions = 0;
        self.check(at, 1, &mut conditions)
    }

    fn check(&self, at: &str, depth: usize, conditions: &mut usize) -> Result<(), FieldError> {
        let err =
            |code, field: &str, msg: &str| Err(FieldError::new(code, format!("{at}.{field}"), msg));
        if depth > MAX_DEPTH {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                at,
                "rules nest at most 8 deep",
            ));
        }
        *conditions += 1;
        if *conditions > MAX_CONDITIONS {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                at,
                "a segment holds at most 64 conditions",
            ));
        }
        fn list<T>(at: &str, field: &str, v: &[T]) -> Result<(), FieldError> {
            if v.is_empty() {
                return Err(FieldError::new(
                    ErrorCode::EmptyList,
                    format!("{at}.{field}"),
                    "must not be empty",
                ));
            }
            if v.len() > MAX_LIST {
                return Err(FieldError::new(
                    ErrorCode::TooLarge,
                    format!("{at}.{field}"),
                    "at most 1000 entries",
                ));
            }
            Ok(())
        }
        fn text(at: &str, field: &str, v: &str) -> Result<(), FieldError> {
            if v.is_empty() || v.len() > 200 {
                return Err(FieldError::new(
                    ErrorCode::InvalidValue,
                    format!("{at}.{field}"),
                    "must be 1..200 bytes",
                ));
            }
            Ok(())
        }
        let days = |field: &str, d: u32| {
            if d == 0 || d > MAX_DAYS {
                err(ErrorCode::InvalidValue, field, "must be 1..3650 days")
            } else {
                Ok(())
            }
        };
        match self {
            Rule::And { rules } | Rule::Or { rules } => {
                list(at, "rules", rules)?;
                for (i, r) in rules.iter().enumerate() {
                    r.check(&format!("{at}.rules[{i}]"), depth + 1, conditions)?;
                }
                Ok(())
            }
            Rule::Not { rule } => rule.check(&format!("{at}.rule"), depth + 1, conditions),
            Rule::Stage { stages } => list(at, "stages", stages),
            Rule::RfmTier { tiers } => list(at, "tiers", tiers),
            Rule::Rfm { r, f, m } => {
                if r.is_none() && f.is_none() && m.is_none() {
                    return err(ErrorCode::MissingField, "r", "give at least one of r, f, m");
                }
                for (name, range) in [("r", r), ("f", f), ("m", m)] {
                    if let Some(range) = range {
                        if range.min.or(range.max).is_some_and(|v| v > 5)
                            || range.max.is_some_and(|v| v > 5)
                        {
                            return err(ErrorCode::InvalidValue, name, "scores are 0..5");
                        }
                        if let (Some(lo), Some(hi)) = (range.min, range.max) {
                            if lo > hi {
                                return err(ErrorCode::WindowInverted, name, "min is above max");
                            }
                        }
                    }
                }
                Ok(())
            }
            Rule::Tier { tiers } => {
                list(at, "tiers", tiers)?;
                tiers.iter().try_for_each(|t| text(at, "tiers", t))
            }
            Rule::Region { regions } => {
                list(at, "regions", regions)?;
                regions.iter().try_for_each(|t| text(at, "regions", t))
            }
            Rule::Channel { channels } => {
                list(at, "channels", channels)?;
                channels.iter().try_for_each(|t| text(at, "channels", t))
            }
            Rule::Tag { tag } => text(at, "tag", tag),
            Rule::Guide { guide_id } => text(at, "guide_id", guide_id),
            Rule::Points { min, max } => match (min, max) {
                (None, None) => err(ErrorCode::MissingField, "min", "give min, max or both"),
                (Some(lo), Some(hi)) if lo > hi => {
                    err(ErrorCode::WindowInverted, "max", "min is above max")
                }
                _ => Ok(()),
            },
            Rule::JoinedWithin { days: d } => days("days", *d),
            Rule::Bought {
                category,
                within_days,
            } => {
                text(at, "category", category)?;
                days("within_days", *within_days)
            }
            Rule::Spent { min, within_days } | Rule::Orders { min, within_days } => {
                if *min < 1 {
                    return err(ErrorCode::NotPositive, "min", "must be at least 1");
                }
                within_days.map_or(Ok(()), |d| days("within_days", d))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrm::RfmScore;

    fn rule(json: &str) -> Rule {
        serde_json::from_str(json).unwrap()
    }

    fn member<'a>(tags: &'a [String], stage: Stage, tier: RfmTier) -> Member<'a> {
        Member {
            id: "m1",
            joined_at: Some("2026-01-10T00:00:00Z".parse().unwrap()),
            tier: Some("gold"),
            region: Some("sh"),
            channel: Some("wechat"),
            guide_id: None,
            points: 120,
            tags,
            stage,
            rfm: RfmScore {
                r: 4,
                f: 2,
                m: 5,
                tier,
            },
        }
    }

    #[test]
    fn and_or_not_over_fields_and_purchases() {
        let tags = vec!["vip".to_string()];
        let m = member(&tags, Stage::AtRisk, RfmTier::A);
        let now: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
        let r = rule(
            r#"{"kind": "and", "rules": [
                {"kind": "stage", "stages": ["at_risk", "lapsed"]},
                {"kind": "or", "rules": [{"kind": "tag", "tag": "vip"}, {"kind": "points", "min": 1000}]},
                {"kind": "not", "rule": {"kind": "bought", "category": "milk", "within_days": 30}}
            ]}"#,
        );
        assert!(r.validate("rule").is_ok());
        assert_eq!(r.purchases().len(), 1);
        assert!(r.matches(&m, now, &mut |_| false));
        assert!(
            !r.matches(&m, now, &mut |_| true),
            "bought milk: not in the segment"
        );
        let active = member(&tags, Stage::Active, RfmTier::A);
        assert!(!r.matches(&active, now, &mut |_| false));
        let rfm = rule(r#"{"kind": "rfm", "r": {"min": 4}, "m": {"min": 5, "max": 5}}"#);
        assert!(rfm.matches(&m, now, &mut |_| unreachable!()));
        let rfm = rule(r#"{"kind": "rfm", "f": {"min": 3}}"#);
        assert!(!rfm.matches(&m, now, &mut |_| unreachable!()));
        let joined = rule(r#"{"kind": "joined_within", "days": 30}"#);
        assert!(joined.matches(&m, now, &mut |_| unreachable!()));
        let joined = rule(r#"{"kind": "joined_within", "days": 20}"#);
        assert!(!joined.matches(&m, now, &mut |_| unreachable!()));
        let buyer = Member {
            joined_at: None,
            ..m
        };
        let joined = rule(r#"{"kind": "joined_within", "days": 3650}"#);
        assert!(
            !joined.matches(&buyer, now, &mut |_| unreachable!()),
            "a buyer who never joined"
        );
        let tier = rule(r#"{"kind": "rfm_tier", "tiers": ["S", "A"]}"#);
        assert!(tier.matches(&m, now, &mut |_| unreachable!()));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = [
            (
                r#"{"kind": "and", "rules": []}"#,
                "rule.rules",
                ErrorCode::EmptyList,
            ),
            (
                r#"{"kind": "or", "rules": [{"kind": "stage", "stages": []}]}"#,
                "rule.rules[0].stages",
                ErrorCode::EmptyList,
            ),
            (
                r#"{"kind": "not", "rule": {"kind": "bought", "category": "x", "within_days": 0}}"#,
                "rule.rule.within_days",
                ErrorCode::InvalidValue,
            ),
            (
                r#"{"kind": "spent", "min": 0}"#,
                "rule.min",
                ErrorCode::NotPositive,
            ),
            (
                r#"{"kind": "rfm", "r": {"min": 6}}"#,
                "rule.r",
                ErrorCode::InvalidValue,
            ),
            (
                r#"{"kind": "rfm", "f": {"min": 4, "max": 2}}"#,
                "rule.f",
                ErrorCode::WindowInverted,
            ),
            (r#"{"kind": "rfm"}"#, "rule.r", ErrorCode::MissingField),
            (
                r#"{"kind": "tag", "tag": ""}"#,
                "rule.tag",
                ErrorCode::InvalidValue,
            ),
        ];
        for (json, field, code) in bad {
            let e = rule(json).validate("rule").unwrap_err();
            assert_eq!((e.field.as_str(), e.code), (field, code), "{json}");
        }
        let mut deep = r#"{"kind": "tag", "tag": "x"}"#.to_string();
        for _ in 0..MAX_DEPTH {
            deep = format!(r#"{{"kind": "not", "rule": {deep}}}"#);
        }
        assert_eq!(
            rule(&deep).validate("rule").unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert!(
            serde_json::from_str::<Rule>(r#"{"kind": "tag", "tag": "x", "extra": 1}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Rule>(r#"{"kind": "stage", "stages": ["sleeping"]}"#).is_err()
        );
    }
}
