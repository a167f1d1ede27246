//! Who is in a segment: [`admits`] decides one member's membership from facts its caller read
//! (the claim paths of both backends and [`in_segment`] call it); [`rule_members`] evaluates a
//! rule for every member at once; [`purchase_query`] is the SQL of a purchase condition.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use quan_core::scrm::{History, LifecycleConfig, Purchase, Rule};

use super::{lifecycle_config, MemberRecord, SegmentDefinition, SegmentRecord};
use crate::traits::{Members, Segments, Settings};
use crate::Result;

/// What deciding one member's membership of a segment needs, read by the caller.
pub(crate) enum Membership<'a> {
    /// A listed segment: whether the member is on its list (`false` when there is no segment).
    Listed(bool),
    /// A rule segment: the member's record (`None`: not a member, who meets no rule), the
    /// lifecycle gaps in force, and this member's answer to each purchase condition of the rule.
    Rule {
        rule: &'a Rule,
        member: Option<&'a MemberRecord>,
        lifecycle: &'a LifecycleConfig,
        purchased: &'a HashMap<Purchase, bool>,
    },
}

/// Whether the member is in the segment at `as_of`: on the list, or a member whose stored
/// facts, stage as of `as_of` and purchases meet the rule (an unanswered condition is unmet).
pub(crate) fn admits(membership: Membership<'_>, as_of: Timestamp) -> bool {
    match membership {
        Membership::Listed(listed) => listed,
        Membership::Rule {
            rule,
            member,
            lifecycle,
            purchased,
        } => {
            let Some(member) = member else {
                return false;
            };
            let view = member.view(&member.history, as_of, lifecycle);
            rule.matches(&view, as_of, &mut |p| {
                purchased.get(p).copied().unwrap_or(false)
            })
        }
    }
}

/// A segment's members as of `as_of`, in id order.
pub async fn segment_members(
    store: &(impl Settings + Members + Segments + ?Sized),
    segment: &SegmentRecord,
    as_of: Timestamp,
) -> Result<Vec<String>> {
    match &segment.definition {
        SegmentDefinition::Listed(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            Ok(ids)
        }
        SegmentDefinition::Rule(rule) => rule_members(store, rule, as_of).await,
    }
}

/// The members a rule selects as of `as_of`, in id order: every member's facts are read once,
/// each distinct purchase condition is one query for all members.
pub async fn rule_members(
    store: &(impl Settings + Members + Segments + ?Sized),
    rule: &Rule,
    as_of: Timestamp,
) -> Result<Vec<String>> {
    let lifecycle = lifecycle_config(store).await?;
    let mut purchases: HashMap<Purchase, HashSet<String>> = HashMap::new();
    for p in rule.purchases() {
        let who = store.purchase_members(&p, as_of).await?;
        purchases.insert(p, who);
    }
    let histories = if uses_stage(rule) {
        Some(store.histories(as_of).await?)
    } else {
        None
    };
    let none = History::default();
    let members = store.all_members().await?;
    let mut out = Vec::new();
    for m in &members {
        let history = match &histories {
            Some(h) => h.get(&m.profile.id).unwrap_or(&none),
            None => &m.history,
        };
        let view = m.view(history, as_of, &lifecycle);
        if rule.matches(&view, as_of, &mut |p| {
            purchases.get(p).is_some_and(|s| s.contains(&m.profile.id))
        }) {
            out.push(m.profile.id.clone());
        }
    }
    out.sort();
    Ok(out)
}

fn uses_stage(rule: &Rule) -> bool {
    match rule {
        Rule::Stage { .. } => true,
        Rule::And { rules } | Rule::Or { rules } => rules.iter().any(uses_stage),
        Rule::Not { rule } => uses_stage(rule),
        _ => false,
    }
}

/// Whether one member is in a segment at `as_of`, outside any transaction (claims decide the
/// same with [`admits`] inside their transaction).
pub async fn in_segment(
    store: &(impl Settings + Members + Segments + ?Sized),
    segment_id: &str,
    member_id: &str,
    as_of: Timestamp,
) -> Result<bool> {
    let Some(segment) = store.segment(segment_id).await? else {
        return Ok(admits(Membership::Listed(false), as_of));
    };
    match &segment.definition {
        SegmentDefinition::Listed(ids) => Ok(admits(
            Membership::Listed(ids.iter().any(|m| m == member_id)),
            as_of,
        )),
        SegmentDefinition::Rule(rule) => rule_admits(store, rule, member_id, as_of).await,
    }
}

/// Whether a rule selects one member at `as_of` (the same answer as [`rule_members`]).
pub async fn rule_admits(
    store: &(impl Settings + Members + Segments + ?Sized),
    rule: &Rule,
    member_id: &str,
    as_of: Timestamp,
) -> Result<bool> {
    let member = store.member(member_id).await?;
    let lifecycle = lifecycle_config(store).await?;
    let mut purchased = HashMap::new();
    if member.is_some() {
        for p in rule.purchases() {
            let yes = store.member_purchased(member_id, &p, as_of).await?;
            purchased.insert(p, yes);
        }
    }
    Ok(admits(
        Membership::Rule {
            rule,
            member: member.as_ref(),
            lifecycle: &lifecycle,
            purchased: &purchased,
        },
        as_of,
    ))
}

/// A value bound to a shared SCRM query.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

/// The SQL of a purchase condition, selecting the ids of the members who meet it (with
/// `member`, only that member).
pub(crate) fn purchase_query(
    p: &Purchase,
    as_of: Timestamp,
    member: Option<&str>,
) -> (String, Vec<Bind>) {
    // Numbers are cast: `sum(amount) >= $n` would otherwise ask PostgreSQL for a NUMERIC.
    let ph = |n: usize| format!("${n}::bigint");
    let text = |n: usize| format!("${n}");
    let since = p.since(as_of).unwrap_or(Timestamp::MIN).as_microsecond();
    let window = format!(
        "counted = 1 AND paid_at > {} AND paid_at <= {}",
        ph(1),
        ph(2)
    );
    let mut binds = vec![Bind::Int(since), Bind::Int(as_of.as_microsecond())];
    let one = |binds: &mut Vec<Bind>| match member {
        Some(m) => {
            binds.push(Bind::Text(m.to_string()));
            format!(" AND user_id = {}", text(binds.len()))
        }
        None => String::new(),
    };
    let sql = match p {
        Purchase::Bought { category, .. } => {
            binds.push(Bind::Text(category.clone()));
            let cat = text(binds.len());
            let one = one(&mut binds);
            format!("SELECT DISTINCT user_id FROM member_order_lines WHERE category = {cat} AND {window}{one}")
        }
        Purchase::Spent { min, .. } | Purchase::Orders { min, .. } => {
            let measure = if matches!(p, Purchase::Spent { .. }) {
                "sum(amount)"
            } else {
                "count(*)"
            };
            binds.push(Bind::Int(*min));
            let min = ph(binds.len());
            let one = one(&mut binds);
            format!("SELECT user_id FROM member_orders WHERE {window}{one} GROUP BY user_id HAVING {measure} >= {min}")
        }
    };
    (sql, binds)
}
