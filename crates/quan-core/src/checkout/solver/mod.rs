//! The best combination of a member's coupons for a cart (docs/DOMAIN.md section 6), exactly.
//!
//! - this module: the answer's types, and which wallet coupons may be used at all (and in which
//!   layer), gifts, and why the others were left out.
//! - [`merchant`]: each store's legal merchant configurations, deduplicated by what the rest of
//!   the cart can see of them.
//! - [`reach`]: which sums of per-store losses the remaining stores can make (an exact bound).
//! - [`search`]: for each platform option, a branch and bound over stores that never cuts a
//!   combination that could tie the best.
//! - [`bound`]: the search's upper bounds, the relaxed one and the exact one.
//! - [`incumbent`]: each complete choice priced, and the tie-breaks of section 6.4.
//! - [`shipping`]: the best placement of free-shipping coupons on shipments.
//!
//! Why it is exact is written in docs/ARCHITECTURE.md ("Why the solver is exact").

mod bound;
mod incumbent;
mod merchant;
mod reach;
mod search;
mod shipping;

#[cfg(test)]
pub(crate) use search::RELAXED;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::cart::Cart;
use super::eligibility::{eligible_lines, line_eligible, usable};
use super::money::{apportion, discount};
use crate::template::{Benefit, Channel, Scope, Template};
use crate::zone::TenantZone;

/// A coupon of the member's wallet, as pricing needs it.
#[derive(Debug, Clone)]
pub struct Offer<'t> {
    pub coupon_id: String,
    /// The coupon's template id: a combination holds at most one coupon of any one template.
    pub template_id: String,
    pub template: &'t Template,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
}

/// When, where and for which order the quote is asked.
#[derive(Debug, Clone)]
pub struct QuoteContext {
    pub at: Timestamp,
    pub zone: TenantZone,
    pub channel: Option<Channel>,
    pub region: Option<String>,
    /// Which paid order of the member this would be (1 = first), for `usable_on_orders`.
    pub order_number: i64,
}

/// A coupon in the chosen combination, with its share of every line it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Applied {
    pub coupon_id: String,
    /// Money off, or the shipping fee waived for a free-shipping coupon.
    pub discount: i64,
    pub lines: Vec<LineShare>,
    /// The store whose shipment a free-shipping coupon waives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct LineShare {
    pub line_id: String,
    pub amount: i64,
}

/// A gift line a gift coupon adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct GiftLine {
    pub coupon_id: String,
    pub store_id: Option<String>,
    pub sku: String,
    pub qty: i64,
}

/// A wallet coupon left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct NotApplied {
    pub coupon_id: String,
    /// `not_yet_valid`, `expired`, `outside_usable_weekdays`, `outside_usable_hours`,
    /// `wrong_channel`, `wrong_region`, `wrong_order`, `wrong_store` (no line of its store),
    /// `out_of_scope` (no line in its categories or products), `activity_price_excluded` (its
    /// lines are all at activity prices), `below_threshold`, `excluded`, or `not_best` (usable,
    /// but the best combination does better without it).
    pub reason: String,
}

/// The priced cart: `payable = subtotal − discount + shipping − shipping_waived`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Quote {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub shipping_waived: i64,
    pub payable: i64,
    /// The shipping fee of each store's shipment, as asked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shipping_by_store: BTreeMap<String, i64>,
    pub coupons: Vec<Applied>,
    pub gifts: Vec<GiftLine>,
    pub not_applied: Vec<NotApplied>,
}

/// Why a quote cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// A pinned coupon cannot legally be used (with the other pins).
    #[error("coupon {0} cannot be used on this cart")]
    PinNotApplicable(String),
    /// The search grew past its budget (a pathological wallet); pin or exclude coupons.
    #[error("too many combinations to search")]
    TooComplex,
}

/// The layer a usable coupon plays in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Merchant,
    Platform,
    Shipping,
    Gift,
}

/// A usable coupon, classified, with the lines it may take.
struct Cand<'a, 't> {
    offer: &'a Offer<'t>,
    role: Role,
    store: Option<&'a str>,
    /// Its store's position in [`Layout::stores`] (merchant, store-scope shipping and gifts).
    store_idx: Option<usize>,
    store_wide: bool,
    /// Indices of the cart lines it is eligible for, in cart order.
    lines: Vec<usize>,
    pinned: bool,
    /// 1 + the position of its coupon id among all candidates' ids, compared byte-wise: ids
    /// compare as their ranks do, and 0 stands for "no coupon" (the empty id sorts first).
    rank: u32,
}

impl Cand<'_, '_> {
    fn benefit(&self) -> &Benefit {
        &self.offer.template.spec().benefit
    }

    fn expiry(&self) -> Timestamp {
        self.offer.valid_until
    }

    fn same_template(&self, other: &Cand) -> bool {
        self.offer.template_id == other.offer.template_id
    }
}

/// The cart's stores, sorted, and each one's lines in cart order.
struct Layout<'c> {
    stores: Vec<&'c str>,
    store_lines: Vec<Vec<usize>>,
}

impl<'c> Layout<'c> {
    fn new(cart: &'c Cart) -> Layout<'c> {
        let lines = cart.lines();
        let mut stores: Vec<&str> = lines.iter().map(|l| l.store_id.as_str()).collect();
        stores.sort_unstable();
        stores.dedup();
        let mut store_lines = vec![Vec::new(); stores.len()];
        for (i, l) in lines.iter().enumerate() {
            let s = stores
                .binary_search(&l.store_id.as_str())
                .expect("every line's store is listed");
            store_lines[s].push(i);
        }
        Layout {
            stores,
            store_lines,
        }
    }
}

/// A cheap upper estimate of the merchant-layer walk `quote` may make for `cart` and `offers`:
/// per store, 2^(its merchant coupons) × Π over its lines of the coupons eligible for the line.
/// Callers use it to run small quotes in place and send large ones to a worker thread.
pub fn effort(cart: &Cart, offers: &[Offer]) -> u64 {
    let lines = cart.lines();
    let layout = Layout::new(cart);
    let mut takers = vec![0u64; lines.len()];
    let mut coupons = vec![0u32; layout.stores.len()];
    for offer in offers {
        let spec = offer.template.spec();
        if spec.scope.is_platform()
            || matches!(
                spec.benefit,
                Benefit::Gift { .. } | Benefit::FreeShipping { .. }
            )
        {
            continue;
        }
        let Some(s) = spec
            .scope
            .store_id()
            .and_then(|id| layout.stores.binary_search(&id).ok())
        else {
            continue;
        };
        coupons[s] += 1;
        for &i in &layout.store_lines[s] {
            if line_eligible(offer.template, &lines[i]) {
                takers[i] += 1;
            }
        }
    }
    layout
        .store_lines
        .iter()
        .zip(&coupons)
        .map(|(own, &n)| {
            own.iter().fold(1u64 << n.min(63), |acc, &i| {
                acc.saturating_mul(takers[i].max(1))
            })
        })
        .fold(0u64, u64::saturating_add)
}

/// Prices `cart` with the best legal combination of `offers`. `pin`: coupons that must be used;
/// `exclude`: coupons that must not.
pub fn quote(
    cart: &Cart,
    offers: &[Offer],
    ctx: &QuoteContext,
    pin: &[String],
    exclude: &[String],
) -> Result<Quote, QuoteError> {
    let lines = cart.lines();
    let layout = Layout::new(cart);
    let mut not_applied = Vec::new();
    let mut cands: Vec<Cand> = Vec::new();
    let all_lines: Vec<usize> = (0..lines.len()).collect();
    for offer in offers {
        let pinned = pin.contains(&offer.coupon_id);
        if exclude.contains(&offer.coupon_id) && !pinned {
            not_applied.push(NotApplied {
                coupon_id: offer.coupon_id.clone(),
                reason: "excluded".into(),
            });
            continue;
        }
        if let Err(reason) = usable(offer, ctx) {
            if pinned {
                return Err(QuoteError::PinNotApplicable(offer.coupon_id.clone()));
            }
            not_applied.push(NotApplied {
                coupon_id: offer.coupon_id.clone(),
                reason: reason.as_str().into(),
            });
            continue;
        }
        let spec = offer.template.spec();
        let role = match (&spec.benefit, spec.scope.is_platform()) {
            (Benefit::Gift { .. }, _) => Role::Gift,
            (Benefit::FreeShipping { .. }, _) => Role::Shipping,
            (_, true) => Role::Platform,
            (_, false) => Role::Merchant,
        };
        let store_idx = spec
            .scope
            .store_id()
            .and_then(|s| layout.stores.binary_search(&s).ok());
        let candidates: &[usize] = match (spec.scope.store_id(), store_idx) {
            (None, _) => &all_lines,
            (Some(_), Some(s)) => &layout.store_lines[s],
            (Some(_), None) => &[],
        };
        let eligible = match eligible_lines(offer.template, cart, candidates.iter().copied()) {
            Ok(eligible) => eligible,
            Err(reason) => {
                if pinned {
                    return Err(QuoteError::PinNotApplicable(offer.coupon_id.clone()));
                }
                not_applied.push(NotApplied {
                    coupon_id: offer.coupon_id.clone(),
                    reason: reason.as_str().into(),
                });
                continue;
            }
        };
        cands.push(Cand {
            offer,
            role,
            store: spec.scope.store_id(),
            store_idx,
            store_wide: matches!(spec.scope, Scope::Store { .. }),
            lines: eligible,
            pinned,
            rank: 0,
        });
    }
    let (mut cands, twins) = best_twins(cands)?;
    let mut by_id: Vec<usize> = (0..cands.len()).collect();
    by_id.sort_by(|&a, &b| {
        cands[a]
            .offer
            .coupon_id
            .as_bytes()
            .cmp(cands[b].offer.coupon_id.as_bytes())
    });
    for (r, &c) in by_id.iter().enumerate() {
        cands[c].rank = r as u32 + 1;
    }

    let best = search::best(cart, &cands, layout)?;

    // Gifts: per store (platform gifts: per order), the soonest-expiring gift whose threshold the
    // base before coupons meets.
    let mut gifts = Vec::new();
    let mut used = vec![false; cands.len()];
    for &c in &best.used {
        used[c] = true;
    }
    let mut gift_scopes: Vec<Option<&str>> = cands
        .iter()
        .filter(|c| c.role == Role::Gift)
        .map(|c| c.store)
        .collect();
    gift_scopes.sort_unstable();
    gift_scopes.dedup();
    for scope in gift_scopes {
        let base: i64 = lines
            .iter()
            .filter(|l| scope.is_none_or(|s| l.store_id == s))
            .map(super::Line::base)
            .sum();
        let pick = (0..cands.len())
            .filter(|&c| cands[c].role == Role::Gift && cands[c].store == scope)
            .filter(|&c| matches!(cands[c].benefit(), Benefit::Gift { threshold, .. } if base >= *threshold))
            .min_by(|&a, &b| {
                let (a, b) = (cands[a].offer, cands[b].offer);
                a.valid_until.cmp(&b.valid_until).then_with(|| a.coupon_id.as_bytes().cmp(b.coupon_id.as_bytes()))
            });
        if let Some(c) = pick {
            if let Benefit::Gift { gift_sku, .. } = cands[c].benefit() {
                gifts.push(GiftLine {
                    coupon_id: cands[c].offer.coupon_id.clone(),
                    store_id: scope.map(str::to_string),
                    sku: gift_sku.clone(),
                    qty: 1,
                });
                used[c] = true;
            }
        }
    }

    let unused = cands
        .iter()
        .enumerate()
        .filter(|&(c, _)| !used[c])
        .map(|(_, cand)| cand)
        .chain(&twins);
    for cand in unused {
        if cand.pinned {
            return Err(QuoteError::PinNotApplicable(cand.offer.coupon_id.clone()));
        }
        let reason = if below_threshold_alone(cand, cart) {
            "below_threshold"
        } else {
            "not_best"
        };
        not_applied.push(NotApplied {
            coupon_id: cand.offer.coupon_id.clone(),
            reason: reason.into(),
        });
    }
    let subtotal = cart.subtotal();
    let shipping: i64 = cart.shipping().values().sum();
    Ok(Quote {
        subtotal,
        discount: best.money_off,
        shipping,
        shipping_waived: best.waived,
        payable: subtotal - best.money_off + shipping - best.waived,
        shipping_by_store: cart.shipping().clone(),
        coupons: best.coupons,
        gifts,
        not_applied,
    })
}

/// Splits the candidates into the ones the search needs and their twins. A combination holds
/// at most one coupon of a template, and twins (coupons of one template) are alike on every
/// cart but for their expiry and id, so the twin expiring soonest (then the smallest id) beats
/// the others in every combination by the tie-breaks of section 6.4; a pinned twin stands for
/// its template instead. So the search sees one coupon per template however many the wallet
/// holds, and the answer is the same.
#[allow(clippy::type_complexity)]
fn best_twins<'a, 't>(
    cands: Vec<Cand<'a, 't>>,
) -> Result<(Vec<Cand<'a, 't>>, Vec<Cand<'a, 't>>), QuoteError> {
    let mut best: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in cands.iter().enumerate() {
        let template = c.offer.template_id.as_str();
        let Some(&b) = best.get(template) else {
            best.insert(template, i);
            continue;
        };
        let kept = &cands[b];
        if c.pinned && kept.pinned {
            return Err(QuoteError::PinNotApplicable(c.offer.coupon_id.clone()));
        }
        let sooner = (c.offer.valid_until, c.offer.coupon_id.as_bytes())
            < (kept.offer.valid_until, kept.offer.coupon_id.as_bytes());
        if c.pinned || (!kept.pinned && sooner) {
            best.insert(template, i);
        }
    }
    let keep: std::collections::HashSet<usize> = best.into_values().collect();
    let (mut kept, mut twins) = (Vec::new(), Vec::new());
    for (i, c) in cands.into_iter().enumerate() {
        if keep.contains(&i) {
            kept.push(c);
        } else {
            twins.push(c);
        }
    }
    Ok((kept, twins))
}

/// Whether a coupon misses its threshold even on every line it could take, alone.
fn below_threshold_alone(cand: &Cand, cart: &Cart) -> bool {
    let lines = cart.lines();
    let b: i64 = cand.lines.iter().map(|&i| lines[i].base()).sum();
    let n: i64 = cand.lines.iter().map(|&i| lines[i].qty).sum();
    match cand.benefit() {
        Benefit::Gift { threshold, .. } | Benefit::FreeShipping { threshold, .. } => b < *threshold,
        benefit => discount(benefit, b, n).is_none(),
    }
}

/// Each used discount coupon's share of its lines: `apportion` over their bases (`weights`).
fn shares_of(amount: i64, lines: &[usize], weights: impl Fn(usize) -> i64) -> Vec<(usize, i64)> {
    let w: Vec<i64> = lines.iter().map(|&i| weights(i)).collect();
    lines.iter().copied().zip(apportion(amount, &w)).collect()
}

/// An upper bound of what a discount benefit can give on at most base `b` and `n` items.
fn upper_discount(benefit: &Benefit, b: i64, n: i64) -> i64 {
    match benefit {
        Benefit::Reduction { off, .. } => (*off).min(b),
        Benefit::Percent { rate_bp, cap, .. } => {
            let d = (i128::from(b) * i128::from(10_000 - rate_bp) / 10_000) as i64;
            cap.map_or(d, |c| d.min(c))
        }
        Benefit::Tiered { .. } => discount(benefit, b, n).unwrap_or(0),
        Benefit::Gift { .. } | Benefit::FreeShipping { .. } => 0,
    }
}
