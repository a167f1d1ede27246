//! The backend-neutral parts of claiming: the core's view of a claim, and
//! the decision of a whole batch ([`plan_batch`]) that both backends write.

use std::collections::{HashMap, HashSet};

use quan_core::claim::{ClaimAsk, ClaimBook, Counts, MemberFacts, Route};
use quan_core::coupon::{validity_window, LedgerEvent};
use quan_core::template::{Audience, DistributionMode, Template, TemplateStatus};
use quan_core::zone::TenantZone;
use quan_core::ErrorCode;

use crate::ids::{new_code, new_id};
use crate::records::{ClaimCommand, ClaimOutcome, ClaimRoute, ClaimedCoupon};
use crate::{Result, StoreError};

/// Whether deciding a claim of `template` needs the member's row.
pub(crate) fn needs_member(template: &Template) -> bool {
    !matches!(
        template.spec().audience,
        Audience::All | Audience::Users { .. }
    ) || template
        .spec()
        .distribution
        .has(DistributionMode::MemberOnly)
}

/// The segment a template's audience names, if any.
pub(crate) fn audience_segment(template: &Template) -> Option<&str> {
    match &template.spec().audience {
        Audience::Segment { segment_id } => Some(segment_id),
        _ => None,
    }
}

/// The core's view of a claim. `code_valid`: the claim code checked out (for code claims).
pub(crate) fn ask<'a>(
    cmd: &'a ClaimCommand,
    member: &'a MemberFacts,
    code_valid: bool,
) -> ClaimAsk<'a> {
    let route = match &cmd.route {
        ClaimRoute::Public => Route::Public,
        ClaimRoute::Link { valid } => Route::Link { valid: *valid },
        ClaimRoute::Code(_) => Route::Code { valid: code_valid },
        ClaimRoute::Service => Route::Service,
        ClaimRoute::Campaign(_) => Route::Campaign,
    };
    ClaimAsk {
        user_id: &cmd.user_id,
        channel: cmd.channel,
        region: cmd.region.as_deref(),
        route,
        member,
    }
}

/// The coupon a successful claim creates, with its validity and the local day it counts on.
pub(crate) fn new_coupon(
    cmd: &ClaimCommand,
    template: &Template,
    zone: &TenantZone,
) -> (ClaimedCoupon, i64) {
    let (valid_from, valid_until) = validity_window(template, cmd.now, zone);
    let coupon = ClaimedCoupon {
        coupon_id: new_id("cpn", cmd.now.as_millisecond()),
        code: new_code(),
        template_id: cmd.template_id.clone(),
        user_id: cmd.user_id.clone(),
        valid_from,
        valid_until,
    };
    (coupon, zone.day_number(cmd.now))
}

/// Whether a claim's template is outside the stores the caller is confined to.
pub(crate) fn hidden_from(cmd: &ClaimCommand, store_id: Option<&str>) -> bool {
    cmd.stores
        .as_ref()
        .is_some_and(|stores| !store_id.is_some_and(|s| stores.iter().any(|o| o == s)))
}

/// What a batch of claims of one template needs from the database, read under its lock.
pub(crate) struct BatchFacts {
    pub store_id: Option<String>,
    pub status: TemplateStatus,
    pub remaining: Option<i64>,
    /// Committed idempotency records of the batch's keys: (API key, key) → (body hash, answer).
    pub prior: HashMap<(String, String), (String, Option<String>)>,
    /// The batch's claim codes that exist for this template and are unused.
    pub usable_codes: HashSet<String>,
    pub members: HashMap<String, MemberFacts>,
    /// Committed claims of this template per (user, local day).
    pub counts: HashMap<(String, i64), i64>,
}

/// Rows to insert for the accepted claims of a batch, column by column.
#[derive(Default)]
pub(crate) struct NewCoupons {
    pub id: Vec<String>,
    pub user: Vec<String>,
    pub code: Vec<String>,
    pub route: Vec<String>,
    /// The campaign a grant is made for.
    pub campaign: Vec<Option<String>>,
    pub claimed_at: Vec<i64>,
    pub day: Vec<i64>,
    pub from: Vec<i64>,
    pub until: Vec<i64>,
    pub actor: Vec<String>,
    pub event: Vec<String>,
}

/// Claim codes a batch uses up, column by column.
#[derive(Default)]
pub(crate) struct UsedCodes {
    pub code: Vec<String>,
    pub user: Vec<String>,
    pub coupon: Vec<String>,
    pub at: Vec<i64>,
}

/// Idempotency records a batch writes, column by column.
#[derive(Default)]
pub(crate) struct IdemRows {
    pub key_id: Vec<String>,
    pub key: Vec<String>,
    pub hash: Vec<String>,
    pub response: Vec<String>,
    pub at: Vec<i64>,
}

/// The decided batch: one outcome per claim, and what to write.
pub(crate) struct BatchPlan {
    pub outcomes: Vec<ClaimOutcome>,
    pub coupons: NewCoupons,
    pub codes: UsedCodes,
    pub idem: IdemRows,
    /// Stock left after the batch.
    pub remaining: Option<i64>,
    pub claimed: i64,
    /// Claims that took stock (claim-code claims were issued when the code was made).
    pub issued: i64,
}

/// Decides every claim of a batch in order, with the rules of the core and the batch's own
/// earlier claims counted: the same answer as deciding them one by one.
pub(crate) fn plan_batch(
    template: &Template,
    facts: BatchFacts,
    cmds: &[ClaimCommand],
    zone: &TenantZone,
) -> Result<BatchPlan> {
    let BatchFacts {
        store_id,
        status,
        remaining,
        prior,
        mut usable_codes,
        members,
        counts,
    } = facts;
    let mut totals: HashMap<&str, i64> = HashMap::new();
    for ((user, _), n) in &counts {
        *totals.entry(user.as_str()).or_default() += n;
    }
    let mut book = ClaimBook::new(template, status, remaining);
    let mut outcomes: Vec<ClaimOutcome> = Vec::with_capacity(cmds.len());
    let mut first_of_key: HashMap<(&str, &str), (&str, usize)> = HashMap::new();
    let mut new = NewCoupons::default();
    let mut used = UsedCodes::default();
    let mut idem = IdemRows::default();
    let no_member = MemberFacts::default();
    for (i, cmd) in cmds.iter().enumerate() {
        if hidden_from(cmd, store_id.as_deref()) {
            outcomes.push(ClaimOutcome::NotFound);
            continue;
        }
        if let Some(key) = &cmd.idempotency {
            if let Some((hash, response)) = prior.get(&(key.key_id.clone(), key.key.clone())) {
                outcomes.push(if *hash != key.request_hash {
                    ClaimOutcome::IdempotencyMismatch
                } else if let Some(r) = response {
                    serde_json::from_str(r)
                        .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")))?
                } else {
                    ClaimOutcome::Refused(ErrorCode::InFlight)
                });
                continue;
            }
            if let Some((hash, first)) = first_of_key.get(&(key.key_id.as_str(), key.key.as_str()))
            {
                outcomes.push(if *hash == key.request_hash {
                    outcomes[*first].clone()
                } else {
                    ClaimOutcome::IdempotencyMismatch
                });
                continue;
            }
            first_of_key.insert((&key.key_id, &key.key), (&key.request_hash, i));
        }
        // A code is used by the claim it admits, not by one refused later for a limit.
        let code_valid = match &cmd.route {
            ClaimRoute::Code(code) => usable_codes.contains(code),
            _ => false,
        };
        let member = members.get(&cmd.user_id).unwrap_or(&no_member);
        let day = zone.day_number(cmd.now);
        let stored = Counts {
            total: totals.get(cmd.user_id.as_str()).copied().unwrap_or(0),
            today: counts
                .get(&(cmd.user_id.clone(), day))
                .copied()
                .unwrap_or(0),
            day,
        };
        let outcome = match book.decide(&ask(cmd, member, code_valid), stored, cmd.now) {
            Err(reason) => ClaimOutcome::Refused(reason),
            Ok(()) => {
                let (coupon, day) = new_coupon(cmd, template, zone);
                new.id.push(coupon.coupon_id.clone());
                new.user.push(cmd.user_id.clone());
                new.code.push(coupon.code.clone());
                new.route.push(cmd.route.as_str().to_string());
                new.campaign.push(match &cmd.route {
                    ClaimRoute::Campaign(id) => Some(id.clone()),
                    _ => None,
                });
                new.claimed_at.push(cmd.now.as_microsecond());
                new.day.push(day);
                new.from.push(coupon.valid_from.as_microsecond());
                new.until.push(coupon.valid_until.as_microsecond());
                new.actor.push(cmd.actor.clone());
                let event = if matches!(cmd.route, ClaimRoute::Service | ClaimRoute::Campaign(_)) {
                    LedgerEvent::Granted
                } else {
                    LedgerEvent::Claimed
                };
                new.event.push(event.as_str().to_string());
                if let ClaimRoute::Code(code) = &cmd.route {
                    usable_codes.remove(code);
                    used.code.push(code.clone());
                    used.user.push(cmd.user_id.clone());
                    used.coupon.push(coupon.coupon_id.clone());
                    used.at.push(cmd.now.as_microsecond());
                }
                ClaimOutcome::Claimed(coupon)
            }
        };
        if let Some(key) = &cmd.idempotency {
            idem.key_id.push(key.key_id.clone());
            idem.key.push(key.key.clone());
            idem.hash.push(key.request_hash.clone());
            idem.response
                .push(serde_json::to_string(&outcome).expect("outcome serializes"));
            idem.at.push(cmd.now.as_microsecond());
        }
        outcomes.push(outcome);
    }
    let claimed = new.id.len() as i64;
    let issued = claimed - used.code.len() as i64;
    Ok(BatchPlan {
        outcomes,
        coupons: new,
        codes: used,
        idem,
        remaining: book.remaining(),
        claimed,
        issued,
    })
}

#[cfg(test)]
mod batch_equals_one_at_a_time {
    //! Planning a batch of claims gives the same answers as planning them one at a time, each
    //! seeing what the ones before it wrote: stock, per-user and per-day counts, used claim
    //! codes and idempotency records.
    use std::collections::{HashMap, HashSet};

    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;
    use quan_core::template::{Template, TemplateStatus};
    use quan_core::zone::TenantZone;

    use super::{plan_batch, BatchFacts, BatchPlan};
    use crate::records::{ClaimCommand, ClaimOutcome, ClaimRoute, IdempotencyKey};

    fn template(stock: Option<i64>, per_user: Option<i64>, daily: Option<i64>) -> Template {
        let spec = serde_json::json!({
            "name": "t",
            "scope": {"kind": "platform"},
            "benefit": {"kind": "reduction", "threshold": 0, "off": 1000},
            "validity": {"kind": "relative", "days": 30},
            "distribution": ["public", "service_only"],
            "funding": {"platform_bp": 10000, "merchant_bp": 0},
            "stock": stock, "per_user_limit": per_user, "per_user_daily_limit": daily,
        });
        Template::parse(serde_json::from_value(spec).unwrap()).unwrap()
    }

    /// A claim: its user, its route (0 public, 1 service, 2 a code), the code or key it uses,
    /// the hour it arrives and its body (for idempotency).
    type Ask = (u8, u8, u8, u8, Option<(u8, u8)>);

    fn command(ask: &Ask) -> ClaimCommand {
        let (user, route, code, hour, key) = *ask;
        ClaimCommand {
            template_id: "t".into(),
            user_id: format!("u{user}"),
            channel: None,
            region: None,
            route: match route {
                0 => ClaimRoute::Public,
                1 => ClaimRoute::Service,
                _ => ClaimRoute::Code(format!("c{code}")),
            },
            idempotency: key.map(|(k, body)| IdempotencyKey {
                key_id: "api".into(),
                key: format!("k{k}"),
                request_hash: format!("h{body}"),
            }),
            actor: "test".into(),
            stores: None,
            now: Timestamp::UNIX_EPOCH + SignedDuration::from_hours(i64::from(hour) * 7),
        }
    }

    fn facts(remaining: Option<i64>, codes: &HashSet<String>) -> BatchFacts {
        BatchFacts {
            store_id: None,
            status: TemplateStatus::Active,
            remaining,
            prior: HashMap::new(),
            usable_codes: codes.clone(),
            members: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    /// What an outcome says, without the coupon's random id and code.
    fn answer(o: &ClaimOutcome) -> String {
        match o {
            ClaimOutcome::Claimed(c) => format!("claimed {} {}", c.user_id, c.valid_until),
            other => format!("{other:?}"),
        }
    }

    /// The facts after `plan` is written: as a store would read them for the next claim.
    fn written(f: &mut BatchFacts, plan: &BatchPlan, zone: &TenantZone) {
        f.remaining = plan.remaining;
        for (i, user) in plan.coupons.user.iter().enumerate() {
            let day =
                zone.day_number(Timestamp::from_microsecond(plan.coupons.claimed_at[i]).unwrap());
            *f.counts.entry((user.clone(), day)).or_default() += 1;
        }
        for code in &plan.codes.code {
            f.usable_codes.remove(code);
        }
        for i in 0..plan.idem.key.len() {
            f.prior.insert(
                (plan.idem.key_id[i].clone(), plan.idem.key[i].clone()),
                (
                    plan.idem.hash[i].clone(),
                    Some(plan.idem.response[i].clone()),
                ),
            );
        }
    }

    proptest! {
        #[test]
        fn a_batch_decides_as_its_claims_one_by_one(
            stock in proptest::option::of(1i64..6),
            per_user in proptest::option::of(1i64..3),
            daily in proptest::option::of(1i64..3),
            codes in 0u8..4,
            asks in proptest::collection::vec(
                (0u8..4, 0u8..3, 0u8..5, 0u8..6, proptest::option::of((0u8..3, 0u8..2))),
                1..24,
            ),
        ) {
            let t = template(stock, per_user, daily);
            let zone = TenantZone::utc();
            let usable: HashSet<String> = (0..codes).map(|c| format!("c{c}")).collect();
            let mut cmds: Vec<ClaimCommand> = asks.iter().map(command).collect();
            cmds.sort_by_key(|c| c.now);

            let batch = plan_batch(&t, facts(stock, &usable), &cmds, &zone).unwrap();

            let mut seen = facts(stock, &usable);
            let mut one_by_one = Vec::new();
            for cmd in &cmds {
                let plan = plan_batch(&t, BatchFacts { prior: seen.prior.clone(), usable_codes: seen.usable_codes.clone(), counts: seen.counts.clone(), members: HashMap::new(), ..facts(seen.remaining, &HashSet::new()) }, std::slice::from_ref(cmd), &zone).unwrap();
                written(&mut seen, &plan, &zone);
                one_by_one.push(plan.outcomes[0].clone());
            }
            let batch_answers: Vec<String> = batch.outcomes.iter().map(answer).collect();
            let single_answers: Vec<String> = one_by_one.iter().map(answer).collect();
            prop_assert_eq!(batch_answers, single_answers);
            prop_assert_eq!(batch.remaining, seen.remaining);
        }
    }
}
