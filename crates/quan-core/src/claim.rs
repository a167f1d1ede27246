//! Claiming (领券): the rules of docs/DOMAIN.md section 5, checked in their fixed order.
//!
//! The checks split in two. [`precheck`] needs only the template, the request and the member's
//! facts; [`ClaimBook`] adds the counting rules (per-user, per-day, stock) and keeps the counts of
//! a whole batch of claims, so that a store can decide many claims inside one transaction and
//! write them with one commit (group commit) while the invariants still hold claim by claim.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use crate::error::{ErrorCode, FieldError};
use crate::template::{Audience, Channel, DistributionMode, Template, TemplateStatus};
use crate::zone::TenantZone;

/// How a claim reaches the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The customer claims from the coupon center (or the app) directly.
    Public,
    /// With a signed link; `valid` is the outcome of [`crate::link::verify`].
    Link { valid: bool },
    /// With a pre-made claim code; `valid` says the code exists, is unused and is this template's.
    Code { valid: bool },
    /// Granted by customer service or a store guide.
    Service,
    /// Granted by a campaign.
    Campaign,
}

/// What quan knows of the claiming user, for audience and `member_only` checks.
///
/// Buying is not joining (docs/DOMAIN.md section 7): a customer known only from orders has
/// `paid_orders` but is no member, and has no join time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFacts {
    /// Joined the membership (created or put as a member, a `signup`, a member import).
    pub is_member: bool,
    /// When they joined; `None` for a non-member.
    pub joined_at: Option<Timestamp>,
    pub tier: Option<String>,
    pub paid_orders: i64,
    /// Membership of the template's audience segment, when it has one.
    pub in_segment: bool,
}

/// One claim, as the rules see it.
#[derive(Debug, Clone)]
pub struct ClaimAsk<'a> {
    pub user_id: &'a str,
    pub channel: Option<Channel>,
    pub region: Option<&'a str>,
    pub route: Route,
    pub member: &'a MemberFacts,
}

/// The claims a user already holds of one template: in all, and on the claim's local day
/// (`day`, the tenant-local day number the claim counts on: [`claim_day`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: i64,
    pub today: i64,
    pub day: i64,
}

/// The checks that need no counting, in the order of docs/DOMAIN.md section 5:
/// status and claim window, route, link, channel, region, audience.
pub fn precheck(
    template: &Template,
    status: TemplateStatus,
    ask: &ClaimAsk,
    now: Timestamp,
) -> Result<(), ErrorCode> {
    let spec = template.spec();
    if status != TemplateStatus::Active
        || spec.claim_window.as_ref().is_some_and(|w| !w.contains(now))
    {
        return Err(ErrorCode::NotClaimableNow);
    }
    route_allowed(template, ask)?;
    if let Some(channels) = &spec.channels {
        if !ask.channel.is_some_and(|c| channels.contains(&c)) {
            return Err(ErrorCode::ChannelNotAllowed);
        }
    }
    if let Some(regions) = &spec.regions {
        if !ask
            .region
            .is_some_and(|r| regions.iter().any(|allowed| region_within(r, allowed)))
        {
            return Err(ErrorCode::RegionNotAllowed);
        }
    }
    if !in_audience(&spec.audience, ask, now) {
        return Err(ErrorCode::NotInAudience);
    }
    Ok(())
}

/// The channel of a store guide's grant outside its tasks: a guide grants only `service_only`
/// templates (other coupons reach members through the guide's tasks), and always through the
/// store guide channel.
pub fn guide_grant(template: &Template, channel: Option<Channel>) -> Result<Channel, FieldError> {
    if !template
        .spec()
        .distribution
        .has(DistributionMode::ServiceOnly)
    {
        return Err(FieldError::new(
            ErrorCode::Forbidden,
            "template_id",
            "a store guide grants service_only templates only; other coupons go through tasks",
        ));
    }
    match channel {
        None | Some(Channel::StoreGuide) => Ok(Channel::StoreGuide),
        Some(_) => Err(FieldError::new(
            ErrorCode::Forbidden,
            "channel",
            "a store guide grants through the store_guide channel",
        )),
    }
}

fn route_allowed(template: &Template, ask: &ClaimAsk) -> Result<(), ErrorCode> {
    use DistributionMode::*;
    let d = &template.spec().distribution;
    if d.has(MemberOnly) && !ask.member.is_member {
        return Err(ErrorCode::RouteNotAllowed);
    }
    let open = d.has(Public) || d.has(MemberOnly);
    match ask.route {
        Route::Service if d.has(ServiceOnly) || d.has(Public) => Ok(()),
        Route::Campaign if d.has(CampaignOnly) || d.has(Public) => Ok(()),
        Route::Service | Route::Campaign => Err(ErrorCode::RouteNotAllowed),
        Route::Public if d.has(LinkOnly) => Err(ErrorCode::NeedsLink),
        Route::Public if open => Ok(()),
        Route::Public => Err(ErrorCode::RouteNotAllowed),
        Route::Link { valid } | Route::Code { valid } => {
            if !(open || d.has(LinkOnly)) {
                Err(ErrorCode::RouteNotAllowed)
            } else if !valid {
                Err(ErrorCode::InvalidLink)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether the template's distribution can ever honour a claim by `route` (a signed link or a
/// claim code, say): the route rule of [`precheck`] for a member holding a valid one. Links and
/// codes made for a template that can never honour them would take stock for nothing.
pub fn honours(template: &Template, route: Route) -> bool {
    let member = MemberFacts {
        is_member: true,
        ..MemberFacts::default()
    };
    let ask = ClaimAsk {
        user_id: "",
        channel: None,
        region: None,
        route,
        member: &member,
    };
    route_allowed(template, &ask).is_ok()
}

/// A region matches an allowed code when it is that code or lies under it: `44-03` is within `44`.
pub fn region_within(region: &str, allowed: &str) -> bool {
    region == allowed
        || (region.len() > allowed.len()
            && region.starts_with(allowed)
            && matches!(region.as_bytes()[allowed.len()], b'-' | b'/' | b'.'))
}

fn in_audience(audience: &Audience, ask: &ClaimAsk, now: Timestamp) -> bool {
    let m = ask.member;
    match audience {
        Audience::All => true,
        Audience::New => m.paid_orders == 0,
        Audience::Returning => m.paid_orders > 0,
        Audience::Tiers { tiers } => m.tier.as_ref().is_some_and(|t| tiers.contains(t)),
        Audience::Segment { .. } => m.in_segment,
        Audience::Users { user_ids } => user_ids.iter().any(|u| u == ask.user_id),
        Audience::NewMembers { within_days } => m.joined_at.is_some_and(|j| {
            j <= now
                && now.duration_since(j)
                    < SignedDuration::from_hours(within_days.saturating_mul(24))
        }),
    }
}

/// The counting rules over one template for a batch of claims decided in one transaction.
///
/// The store loads each user's stored [`Counts`] (under the template's lock) and the remaining
/// stock; the book adds the claims it accepts, so later claims of the same batch see them.
#[derive(Debug)]
pub struct ClaimBook<'t> {
    template: &'t Template,
    status: TemplateStatus,
    remaining: Option<i64>,
    /// The batch's accepted claims per user, and per user and local day.
    accepted: HashMap<String, i64>,
    accepted_on: HashMap<(String, i64), i64>,
}

impl<'t> ClaimBook<'t> {
    /// `remaining`: stock left, `None` for unlimited.
    pub fn new(template: &'t Template, status: TemplateStatus, remaining: Option<i64>) -> Self {
        Self {
            template,
            status,
            remaining,
            accepted: HashMap::new(),
            accepted_on: HashMap::new(),
        }
    }

    pub fn template(&self) -> &Template {
        self.template
    }

    /// Stock left after the claims accepted so far.
    pub fn remaining(&self) -> Option<i64> {
        self.remaining
    }

    /// Decides one claim. `stored`: the user's claims committed before this batch, counted
    /// on the local day of `now`. On success the claim is counted for the rest of the batch.
    pub fn decide(
        &mut self,
        ask: &ClaimAsk,
        stored: Counts,
        now: Timestamp,
    ) -> Result<(), ErrorCode> {
        precheck(self.template, self.status, ask, now)?;
        let spec = self.template.spec();
        let held = self.accepted.get(ask.user_id).copied().unwrap_or(0);
        let held_today = self
            .accepted_on
            .get(&(ask.user_id.to_string(), stored.day))
            .copied()
            .unwrap_or(0);
        if spec
            .per_user_limit
            .is_some_and(|limit| stored.total + held >= limit)
        {
            return Err(ErrorCode::UserLimit);
        }
        if spec
            .per_user_daily_limit
            .is_some_and(|limit| stored.today + held_today >= limit)
        {
            return Err(ErrorCode::DailyLimit);
        }
        // A claim code's coupon was counted against the stock when the code was made.
        let takes_stock = !matches!(ask.route, Route::Code { .. });
        if takes_stock && self.remaining == Some(0) {
            return Err(ErrorCode::OutOfStock);
        }
        if takes_stock {
            self.remaining = self.remaining.map(|r| r - 1);
        }
        *self.accepted.entry(ask.user_id.to_string()).or_default() += 1;
        *self
            .accepted_on
            .entry((ask.user_id.to_string(), stored.day))
            .or_default() += 1;
        Ok(())
    }
}

/// The local day number that daily limits count on.
pub fn claim_day(zone: &TenantZone, at: Timestamp) -> i64 {
    zone.day_number(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::spec;
    use crate::template::{ClaimWindow, Distribution, TemplateSpec};

    fn template(edit: impl FnOnce(&mut TemplateSpec)) -> Template {
        let mut s = spec();
        edit(&mut s);
        Template::parse(s).unwrap()
    }

    fn now() -> Timestamp {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn ask<'a>(member: &'a MemberFacts, route: Route) -> ClaimAsk<'a> {
        ClaimAsk {
            user_id: "u1",
            channel: Some(Channel::App),
            region: Some("44-03"),
            route,
            member,
        }
    }

    fn first_refusal(
        t: &Template,
        status: TemplateStatus,
        a: &ClaimAsk,
        stored: Counts,
    ) -> Result<(), ErrorCode> {
        ClaimBook::new(t, status, t.spec().stock).decide(a, stored, now())
    }

    #[test]
    fn every_reason_in_its_order() {
        let m = MemberFacts::default();
        let plain = template(|_| {});
        let ok = ask(&m, Route::Public);
        assert_eq!(
            first_refusal(&plain, TemplateStatus::Draft, &ok, Counts::default()),
            Err(ErrorCode::NotClaimableNow)
        );
        let closed = template(|s| {
            s.claim_window = Some(ClaimWindow {
                from: Some(now() + SignedDuration::from_secs(1)),
                until: None,
            })
        });
        assert_eq!(
            first_refusal(&closed, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::NotClaimableNow)
        );
        let service =
            template(|s| s.distribution = Distribution(vec![DistributionMode::ServiceOnly]));
        assert_eq!(
            first_refusal(&service, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::RouteNotAllowed)
        );
        assert_eq!(
            first_refusal(
                &service,
                TemplateStatus::Active,
                &ask(&m, Route::Service),
                Counts::default()
            ),
            Ok(())
        );
        let members =
            template(|s| s.distribution = Distribution(vec![DistributionMode::MemberOnly]));
        assert_eq!(
            first_refusal(&members, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::RouteNotAllowed)
        );
        let hidden = template(|s| s.distribution = Distribution(vec![DistributionMode::LinkOnly]));
        assert_eq!(
            first_refusal(&hidden, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::NeedsLink)
        );
        let bad_link = ask(&m, Route::Link { valid: false });
        assert_eq!(
            first_refusal(
                &hidden,
                TemplateStatus::Active,
                &bad_link,
                Counts::default()
            ),
            Err(ErrorCode::InvalidLink)
        );
        let good_link = ask(&m, Route::Link { valid: true });
        assert_eq!(
            first_refusal(
                &hidden,
                TemplateStatus::Active,
                &good_link,
                Counts::default()
            ),
            Ok(())
        );
        let web = template(|s| s.channels = Some(vec![Channel::Web]));
        assert_eq!(
            first_refusal(&web, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::ChannelNotAllowed)
        );
        let beijing = template(|s| s.regions = Some(vec!["11".into()]));
        assert_eq!(
            first_refusal(&beijing, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::RegionNotAllowed)
        );
        let guangdong = template(|s| s.regions = Some(vec!["44".into()]));
        assert_eq!(
            first_refusal(&guangdong, TemplateStatus::Active, &ok, Counts::default()),
            Ok(())
        );
        let returning = template(|s| s.audience = Audience::Returning);
        assert_eq!(
            first_refusal(&returning, TemplateStatus::Active, &ok, Counts::default()),
            Err(ErrorCode::NotInAudience)
        );
        assert_eq!(
            first_refusal(
                &plain,
                TemplateStatus::Active,
                &ok,
                Counts {
                    total: 1,
                    today: 0,
                    day: 0
                }
            ),
            Err(ErrorCode::UserLimit)
        );
        let daily = template(|s| {
            s.per_user_limit = Some(5);
            s.per_user_daily_limit = Some(1);
        });
        assert_eq!(
            first_refusal(
                &daily,
                TemplateStatus::Active,
                &ok,
                Counts {
                    total: 1,
                    today: 1,
                    day: 0
                }
            ),
            Err(ErrorCode::DailyLimit)
        );
        assert_eq!(
            first_refusal(
                &daily,
                TemplateStatus::Active,
                &ok,
                Counts {
                    total: 1,
                    today: 0,
                    day: 0
                }
            ),
            Ok(())
        );
        let one = template(|s| s.stock = Some(1));
        let mut book = ClaimBook::new(&one, TemplateStatus::Active, Some(1));
        assert_eq!(book.decide(&ok, Counts::default(), now()), Ok(()));
        let other = ClaimAsk {
            user_id: "u2",
            ..ok.clone()
        };
        assert_eq!(
            book.decide(&other, Counts::default(), now()),
            Err(ErrorCode::OutOfStock)
        );
    }

    #[test]
    fn a_batch_counts_its_own_claims() {
        let m = MemberFacts::default();
        let t = template(|s| {
            s.stock = Some(10);
            s.per_user_limit = Some(2);
            s.per_user_daily_limit = None;
        });
        let mut book = ClaimBook::new(&t, TemplateStatus::Active, Some(10));
        let a = ask(&m, Route::Public);
        assert_eq!(
            book.decide(
                &a,
                Counts {
                    total: 1,
                    today: 1,
                    day: 0
                },
                now()
            ),
            Ok(())
        );
        assert_eq!(
            book.decide(
                &a,
                Counts {
                    total: 1,
                    today: 1,
                    day: 0
                },
                now()
            ),
            Err(ErrorCode::UserLimit)
        );
        assert_eq!(book.remaining(), Some(9));
    }

    #[test]
    fn audiences_read_member_facts() {
        let joined = now() - SignedDuration::from_hours(24 * 3);
        let m = MemberFacts {
            is_member: true,
            joined_at: Some(joined),
            tier: Some("gold".into()),
            paid_orders: 2,
            in_segment: true,
        };
        let a = ask(&m, Route::Public);
        let check = |aud: Audience| in_audience(&aud, &a, now());
        assert!(check(Audience::Returning));
        assert!(!check(Audience::New));
        assert!(check(Audience::Tiers {
            tiers: vec!["gold".into()]
        }));
        assert!(!check(Audience::Tiers {
            tiers: vec!["vip".into()]
        }));
        assert!(check(Audience::Segment {
            segment_id: "s".into()
        }));
        assert!(check(Audience::Users {
            user_ids: vec!["u1".into()]
        }));
        assert!(check(Audience::NewMembers { within_days: 4 }));
        assert!(!check(Audience::NewMembers { within_days: 3 }));

        // A buyer who never joined: orders count, membership does not.
        let buyer = MemberFacts {
            paid_orders: 2,
            ..MemberFacts::default()
        };
        let a = ask(&buyer, Route::Public);
        assert!(in_audience(&Audience::Returning, &a, now()));
        assert!(!in_audience(
            &Audience::NewMembers { within_days: 400 },
            &a,
            now()
        ));
    }

    #[test]
    fn regions_nest_by_separator_only() {
        assert!(region_within("44", "44"));
        assert!(region_within("44-03", "44"));
        assert!(!region_within("440", "44"));
        assert!(!region_within("4", "44"));
    }
}
