//! The best combination of a member's coupons for a cart (domain.md section 6), exactly.
//!
//! The search is exact, not greedy. Stores are independent in the merchant layer (a merchant
//! coupon and the lines it can take belong to one store), so each store's legal merchant
//! configurations (a set of its coupons, at most one store-wide, and an assignment of each
//! eligible line to one of them) are enumerated once. The search then walks the stores, picking
//! one configuration each; at each complete choice it tries every platform coupon (on the base
//! left after the merchant layer, which is where greedy goes wrong) and the best placement of
//! free-shipping coupons, and keeps the best by the order of section 6.4. A branch is cut only
//! when even the most it could still add leaves it strictly below the best found, so ties are
//! never lost.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::cart::Cart;
use super::money::{apportion, discount};
use crate::claim::region_within;
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
    /// `not_yet_valid`, `expired`, `outside_usable_hours`, `wrong_channel`, `wrong_region`,
    /// `wrong_order`, `wrong_store` (no line it applies to), `below_threshold`, `excluded`,
    /// or `not_best` (usable, but the best combination does better without it).
    pub reason: String,
}

/// The priced cart: `payable = subtotal − discount + shipping − shipping_waived`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
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

/// The most merchant configurations one store may have before the quote is refused.
const MAX_CONFIGS: usize = 20_000;
/// The most complete combinations evaluated before the quote is refused.
const MAX_LEAVES: usize = 200_000;
/// The most line assignments tried for one store's merchant layer before the quote is refused.
const MAX_ASSIGNMENTS: usize = 200_000;

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
    store_wide: bool,
    /// Indices of the cart lines it is eligible for.
    lines: Vec<usize>,
    pinned: bool,
}

/// A discount coupon in use: (candidate index, discount, share per line index).
type Use = (usize, i64, Vec<(usize, i64)>);
/// A free-shipping coupon placed: (candidate index, store, fee waived).
type Placed = (usize, String, i64);

/// A placement of free-shipping coupons, ranked as section 6.4 ranks combinations.
struct Placement {
    total: i64,
    expiries: Vec<Timestamp>,
    ids: Vec<String>,
    placed: Vec<Placed>,
}

impl Placement {
    fn better_than(&self, other: &Placement) -> bool {
        other
            .total
            .cmp(&self.total)
            .then(self.placed.len().cmp(&other.placed.len()))
            .then_with(|| self.expiries.cmp(&other.expiries))
            .then_with(|| self.ids.cmp(&other.ids))
            == Ordering::Less
    }
}

/// One store's merchant layer: which coupons, with which discounts on which lines.
#[derive(Debug, Clone, Default)]
struct Config {
    /// (candidate index, discount, shares per line index)
    used: Vec<Use>,
    total: i64,
}

/// The order of section 6.4: more money off; fewer coupons; earlier expiries; smaller ids;
/// then lines given to the smaller coupon id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rank {
    total: i64,
    count: usize,
    expiries: Vec<Timestamp>,
    ids: Vec<String>,
    assignment: Vec<String>,
}

impl Rank {
    /// `Less` means better.
    fn cmp_better(&self, other: &Rank) -> Ordering {
        other
            .total
            .cmp(&self.total)
            .then(self.count.cmp(&other.count))
            .then_with(|| self.expiries.cmp(&other.expiries))
            .then_with(|| {
                self.ids
                    .iter()
                    .map(|s| s.as_bytes())
                    .cmp(other.ids.iter().map(|s| s.as_bytes()))
            })
            .then_with(|| self.assignment.cmp(&other.assignment))
    }
}

/// Whether a coupon may be used at all at this time, channel, region and order; the reason if not.
fn usable(offer: &Offer, ctx: &QuoteContext) -> Result<(), &'static str> {
    let spec = offer.template.spec();
    if ctx.at < offer.valid_from {
        return Err("not_yet_valid");
    }
    if ctx.at >= offer.valid_until {
        return Err("expired");
    }
    let local = ctx.zone.zoned(ctx.at);
    if let Some(days) = &spec.usable_weekdays {
        if !days.contains(&i64::from(local.weekday().to_monday_one_offset())) {
            return Err("outside_usable_hours");
        }
    }
    let hours = offer.template.usable_hours();
    if !hours.is_empty()
        && !hours
            .iter()
            .any(|(from, until)| *from <= local.time() && local.time() < *until)
    {
        return Err("outside_usable_hours");
    }
    if let Some(channels) = &spec.channels {
        if !ctx.channel.is_some_and(|c| channels.contains(&c)) {
            return Err("wrong_channel");
        }
    }
    if let Some(regions) = &spec.regions {
        if !ctx
            .region
            .as_deref()
            .is_some_and(|r| regions.iter().any(|a| region_within(r, a)))
        {
            return Err("wrong_region");
        }
    }
    if let Some(orders) = &spec.usable_on_orders {
        if !orders.contains(&ctx.order_number) {
            return Err("wrong_order");
        }
    }
    Ok(())
}

fn line_eligible(template: &Template, line: &super::Line) -> bool {
    let spec = template.spec();
    if spec.excludes_activity_price && line.activity_price.is_some() {
        return false;
    }
    let in_categories = |cats: &[String]| line.category.as_ref().is_some_and(|c| cats.contains(c));
    match &spec.scope {
        Scope::Platform { categories } => categories.as_deref().is_none_or(in_categories),
        Scope::Store { store_id } => &line.store_id == store_id,
        Scope::Category {
            store_id,
            categories,
        } => &line.store_id == store_id && in_categories(categories),
        Scope::Product { store_id, skus } => &line.store_id == store_id && skus.contains(&line.sku),
    }
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
    let mut not_applied = Vec::new();
    let mut cands: Vec<Cand> = Vec::new();
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
                reason: reason.into(),
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
        let eligible: Vec<usize> = (0..lines.len())
            .filter(|&i| line_eligible(offer.template, &lines[i]))
            .collect();
        if eligible.is_empty() {
            if pinned {
                return Err(QuoteError::PinNotApplicable(offer.coupon_id.clone()));
            }
            not_applied.push(NotApplied {
                coupon_id: offer.coupon_id.clone(),
                reason: "wrong_store".into(),
            });
            continue;
        }
        cands.push(Cand {
            offer,
            role,
            store: spec.scope.store_id(),
            store_wide: matches!(spec.scope, Scope::Store { .. }),
            lines: eligible,
            pinned,
        });
    }

    // The merchant layer, store by store.
    let mut stores: Vec<&str> = lines.iter().map(|l| l.store_id.as_str()).collect();
    stores.sort_unstable();
    stores.dedup();
    let mut per_store: Vec<Vec<Config>> = Vec::with_capacity(stores.len());
    for store in &stores {
        let mine: Vec<usize> = (0..cands.len())
            .filter(|&c| cands[c].role == Role::Merchant && cands[c].store == Some(store))
            .collect();
        let configs = merchant_configs(&cands, &mine, cart)?;
        if configs.is_empty() {
            let pinned = mine
                .iter()
                .find(|&&c| cands[c].pinned)
                .expect("only pins empty a store");
            return Err(QuoteError::PinNotApplicable(
                cands[*pinned].offer.coupon_id.clone(),
            ));
        }
        per_store.push(configs);
    }
    let platforms: Vec<usize> = (0..cands.len())
        .filter(|&c| cands[c].role == Role::Platform)
        .collect();
    let shippers: Vec<usize> = (0..cands.len())
        .filter(|&c| cands[c].role == Role::Shipping)
        .collect();
    let bases: Vec<i64> = lines.iter().map(super::Line::base).collect();

    let mut search = Search {
        cart,
        cands: &cands,
        stores: &stores,
        per_store: &per_store,
        platforms: &platforms,
        shippers: &shippers,
        bases: &bases,
        best: None,
        leaves: 0,
        suffix_max: Vec::new(),
        platform_max: 0,
        shipping_max: 0,
    };
    search.prepare();
    let mut chosen = Vec::with_capacity(stores.len());
    search.walk(&mut chosen)?;
    let Some(best) = search.best else {
        let pinned = cands
            .iter()
            .find(|c| c.pinned)
            .map(|c| c.offer.coupon_id.clone())
            .unwrap_or_default();
        return Err(QuoteError::PinNotApplicable(pinned));
    };

    // Gifts: per store (platform gifts: per order), the soonest-expiring gift whose threshold the
    // base before coupons meets.
    let mut gifts = Vec::new();
    let mut gift_used = vec![false; cands.len()];
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
            .filter(|&c| matches!(&cands[c].offer.template.spec().benefit, Benefit::Gift { threshold, .. } if base >= *threshold))
            .min_by(|&a, &b| {
                let (a, b) = (cands[a].offer, cands[b].offer);
                a.valid_until.cmp(&b.valid_until).then_with(|| a.coupon_id.as_bytes().cmp(b.coupon_id.as_bytes()))
            });
        if let Some(c) = pick {
            if let Benefit::Gift { gift_sku, .. } = &cands[c].offer.template.spec().benefit {
                gifts.push(GiftLine {
                    coupon_id: cands[c].offer.coupon_id.clone(),
                    store_id: scope.map(str::to_string),
                    sku: gift_sku.clone(),
                    qty: 1,
                });
                gift_used[c] = true;
            }
        }
    }

    let used: Vec<bool> = (0..cands.len())
        .map(|c| {
            gift_used[c]
                || best
                    .coupons
                    .iter()
                    .any(|a| a.coupon_id == cands[c].offer.coupon_id)
        })
        .collect();
    for (c, cand) in cands.iter().enumerate() {
        if used[c] {
            continue;
        }
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

/// Whether two candidates are coupons of one template.
fn same_template(a: &Cand, b: &Cand) -> bool {
    a.offer.template_id == b.offer.template_id
}

/// Whether a coupon misses its threshold even on every line it could take, alone.
fn below_threshold_alone(cand: &Cand, cart: &Cart) -> bool {
    let lines = cart.lines();
    let b: i64 = cand.lines.iter().map(|&i| lines[i].base()).sum();
    let n: i64 = cand.lines.iter().map(|&i| lines[i].qty).sum();
    match &cand.offer.template.spec().benefit {
        Benefit::Gift { threshold, .. } | Benefit::FreeShipping { threshold, .. } => b < *threshold,
        benefit => discount(benefit, b, n).is_none(),
    }
}

/// Every legal merchant configuration of one store: subsets of its coupons (at most one
/// store-wide), each line eligible for a used coupon given to exactly one of them, every used
/// coupon with at least one line and its threshold met on exactly its lines. Pins must be used.
fn merchant_configs(
    cands: &[Cand],
    mine: &[usize],
    cart: &Cart,
) -> Result<Vec<Config>, QuoteError> {
    let lines = cart.lines();
    let mut out = Vec::new();
    let mut tried = 0usize;
    let n = mine.len();
    if n > 16 {
        return Err(QuoteError::TooComplex);
    }
    for mask in 0u32..(1 << n) {
        let set: Vec<usize> = (0..n)
            .filter(|b| mask & (1 << b) != 0)
            .map(|b| mine[b])
            .collect();
        if set.iter().filter(|&&c| cands[c].store_wide).count() > 1 {
            continue;
        }
        // At most one coupon of any one template (domain.md 6): a wallet may hold two coupons of
        // one template, and without this both were used (e.g. on different lines).
        if set.iter().enumerate().any(|(k, &a)| {
            set[k + 1..]
                .iter()
                .any(|&b| same_template(&cands[a], &cands[b]))
        }) {
            continue;
        }
        if mine.iter().any(|&c| cands[c].pinned && !set.contains(&c)) {
            continue;
        }
        // Lines any used coupon may take, with their choices (in coupon-id order).
        let mut contested: Vec<(usize, Vec<usize>)> = Vec::new();
        for i in 0..lines.len() {
            let mut takers: Vec<usize> = set
                .iter()
                .copied()
                .filter(|&c| cands[c].lines.contains(&i))
                .collect();
            if !takers.is_empty() {
                takers.sort_by(|&a, &b| {
                    cands[a]
                        .offer
                        .coupon_id
                        .as_bytes()
                        .cmp(cands[b].offer.coupon_id.as_bytes())
                });
                contested.push((i, takers));
            }
        }
        let mut pick = vec![0usize; contested.len()];
        loop {
            tried += 1;
            if tried > MAX_ASSIGNMENTS {
                return Err(QuoteError::TooComplex);
            }
            if let Some(config) = evaluate(cands, &set, &contested, &pick, cart) {
                out.push(config);
                if out.len() > MAX_CONFIGS {
                    return Err(QuoteError::TooComplex);
                }
            }
            // Next assignment (odometer).
            let mut k = 0;
            while k < pick.len() {
                pick[k] += 1;
                if pick[k] < contested[k].1.len() {
                    break;
                }
                pick[k] = 0;
                k += 1;
            }
            if k == pick.len() {
                break;
            }
        }
    }
    Ok(out)
}

fn evaluate(
    cands: &[Cand],
    set: &[usize],
    contested: &[(usize, Vec<usize>)],
    pick: &[usize],
    cart: &Cart,
) -> Option<Config> {
    let lines = cart.lines();
    let mut config = Config::default();
    for &c in set {
        let taken: Vec<usize> = contested
            .iter()
            .zip(pick)
            .filter(|((_, takers), &p)| takers[p] == c)
            .map(|((i, _), _)| *i)
            .collect();
        if taken.is_empty() {
            return None;
        }
        let b: i64 = taken.iter().map(|&i| lines[i].base()).sum();
        let n: i64 = taken.iter().map(|&i| lines[i].qty).sum();
        let d = discount(&cands[c].offer.template.spec().benefit, b, n)?;
        let weights: Vec<i64> = taken.iter().map(|&i| lines[i].base()).collect();
        let shares = apportion(d, &weights);
        config.total += d;
        config
            .used
            .push((c, d, taken.into_iter().zip(shares).collect()));
    }
    Some(config)
}

/// The best combination found so far.
struct Best {
    rank: Rank,
    money_off: i64,
    waived: i64,
    coupons: Vec<Applied>,
}

struct Search<'s, 'a, 't> {
    cart: &'s Cart,
    cands: &'s [Cand<'a, 't>],
    stores: &'s [&'s str],
    per_store: &'s [Vec<Config>],
    platforms: &'s [usize],
    shippers: &'s [usize],
    bases: &'s [i64],
    best: Option<Best>,
    leaves: usize,
    /// suffix_max[k]: the most the merchant layers of stores k.. can give.
    suffix_max: Vec<i64>,
    /// The most any platform coupon can give (on the base before merchant coupons).
    platform_max: i64,
    /// The most free shipping can waive.
    shipping_max: i64,
}

impl Search<'_, '_, '_> {
    fn prepare(&mut self) {
        let maxes: Vec<i64> = self
            .per_store
            .iter()
            .map(|cs| cs.iter().map(|c| c.total).max().unwrap_or(0))
            .collect();
        self.suffix_max = vec![0; maxes.len() + 1];
        for k in (0..maxes.len()).rev() {
            self.suffix_max[k] = self.suffix_max[k + 1] + maxes[k];
        }
        let lines = self.cart.lines();
        self.platform_max = self
            .platforms
            .iter()
            .map(|&p| {
                let b: i64 = self.cands[p].lines.iter().map(|&i| self.bases[i]).sum();
                let n: i64 = self.cands[p].lines.iter().map(|&i| lines[i].qty).sum();
                upper_discount(&self.cands[p].offer.template.spec().benefit, b, n)
            })
            .max()
            .unwrap_or(0);
        self.shipping_max = self.cart.shipping().values().sum();
    }

    fn walk(&mut self, chosen: &mut Vec<usize>) -> Result<(), QuoteError> {
        let k = chosen.len();
        if let Some(best) = &self.best {
            let so_far: i64 = chosen
                .iter()
                .enumerate()
                .map(|(s, &c)| self.per_store[s][c].total)
                .sum();
            if so_far + self.suffix_max[k] + self.platform_max + self.shipping_max < best.rank.total
            {
                return Ok(());
            }
        }
        if k == self.per_store.len() {
            return self.leaf(chosen);
        }
        for c in 0..self.per_store[k].len() {
            chosen.push(c);
            self.walk(chosen)?;
            chosen.pop();
        }
        Ok(())
    }

    fn leaf(&mut self, chosen: &[usize]) -> Result<(), QuoteError> {
        let lines = self.cart.lines();
        let mut merchant_share = vec![0i64; lines.len()];
        let mut assignment = vec![String::new(); lines.len()];
        let mut applied: Vec<Use> = Vec::new();
        for (s, &c) in chosen.iter().enumerate() {
            for (cand, d, shares) in &self.per_store[s][c].used {
                for &(i, a) in shares {
                    merchant_share[i] += a;
                    assignment[i].clone_from(&self.cands[*cand].offer.coupon_id);
                }
                applied.push((*cand, *d, shares.clone()));
            }
        }
        let merchant_total: i64 = applied.iter().map(|a| a.1).sum();
        let pinned_platform = self
            .platforms
            .iter()
            .copied()
            .find(|&p| self.cands[p].pinned);
        let options: Vec<Option<usize>> = match pinned_platform {
            Some(p) => vec![Some(p)],
            None => std::iter::once(None)
                .chain(self.platforms.iter().map(|&p| Some(p)))
                .collect(),
        };
        for platform in options {
            self.leaves += 1;
            if self.leaves > MAX_LEAVES {
                return Err(QuoteError::TooComplex);
            }
            let mut all = applied.clone();
            let mut line_discount = merchant_share.clone();
            let mut money_off = merchant_total;
            if let Some(p) = platform {
                let eligible = &self.cands[p].lines;
                let weights: Vec<i64> = eligible
                    .iter()
                    .map(|&i| self.bases[i] - merchant_share[i])
                    .collect();
                let b: i64 = weights.iter().sum();
                let n: i64 = eligible.iter().map(|&i| lines[i].qty).sum();
                let Some(d) = discount(&self.cands[p].offer.template.spec().benefit, b, n) else {
                    continue;
                };
                let shares = apportion(d, &weights);
                for (&i, &a) in eligible.iter().zip(&shares) {
                    line_discount[i] += a;
                }
                money_off += d;
                all.push((p, d, eligible.iter().copied().zip(shares).collect()));
            }
            let Some((waived, shipping)) = self.place_shipping(&line_discount) else {
                continue;
            };
            self.consider(all, shipping, money_off, waived, &assignment);
        }
        Ok(())
    }

    /// The best placement of free-shipping coupons on shipments (each coupon on at most one
    /// shipment, each shipment waived by at most one coupon), with pins placed; `None` when a
    /// pinned coupon cannot be placed. Ties: fewer coupons, earlier expiries, smaller ids.
    fn place_shipping(&self, line_discount: &[i64]) -> Option<(i64, Vec<Placed>)> {
        let lines = self.cart.lines();
        let fees: Vec<(&str, i64)> = self
            .stores
            .iter()
            .filter_map(|s| self.cart.shipping().get(*s).map(|f| (*s, *f)))
            .collect();
        let after: BTreeMap<&str, i64> = fees
            .iter()
            .map(|(s, _)| {
                (
                    *s,
                    lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.store_id == *s)
                        .map(|(i, _)| self.bases[i] - line_discount[i])
                        .sum(),
                )
            })
            .collect();
        // Each shipper may go to any shipment it can serve, or to none.
        let options: Vec<Vec<Option<usize>>> = self
            .shippers
            .iter()
            .map(|&c| {
                let (threshold, cap) = match &self.cands[c].offer.template.spec().benefit {
                    Benefit::FreeShipping { threshold, cap } => (*threshold, *cap),
                    _ => unreachable!("shippers are free-shipping coupons"),
                };
                let mut o: Vec<Option<usize>> = fees
                    .iter()
                    .enumerate()
                    .filter(|(_, (s, fee))| {
                        *fee > 0
                            && self.cands[c].store.is_none_or(|own| own == *s)
                            && after[s] >= threshold
                    })
                    .map(|(k, _)| Some(k))
                    .collect();
                let _ = cap;
                if !self.cands[c].pinned {
                    o.insert(0, None);
                }
                o
            })
            .collect();
        let mut best: Option<Placement> = None;
        let mut pick = vec![0usize; options.len()];
        if options.iter().any(Vec::is_empty) {
            return None;
        }
        loop {
            let mut taken = vec![false; fees.len()];
            let mut ok = true;
            let mut placed = Vec::new();
            for (j, &c) in self.shippers.iter().enumerate() {
                if let Some(k) = options[j][pick[j]] {
                    // One shipment per coupon, one coupon per shipment, and at most one coupon
                    // of any one template (two free-shipping coupons of one template on two
                    // shipments were allowed before).
                    if taken[k]
                        || placed
                            .iter()
                            .any(|p: &Placed| same_template(&self.cands[p.0], &self.cands[c]))
                    {
                        ok = false;
                        break;
                    }
                    taken[k] = true;
                    let cap = match &self.cands[c].offer.template.spec().benefit {
                        Benefit::FreeShipping { cap, .. } => *cap,
                        _ => None,
                    };
                    let waived = cap.map_or(fees[k].1, |cap| fees[k].1.min(cap));
                    placed.push((c, fees[k].0.to_string(), waived));
                }
            }
            if ok {
                let total: i64 = placed.iter().map(|p| p.2).sum();
                let mut expiries: Vec<Timestamp> = placed
                    .iter()
                    .map(|p| self.cands[p.0].offer.valid_until)
                    .collect();
                expiries.sort();
                let mut ids: Vec<String> = placed
                    .iter()
                    .map(|p| self.cands[p.0].offer.coupon_id.clone())
                    .collect();
                ids.sort();
                let candidate = Placement {
                    total,
                    expiries,
                    ids,
                    placed,
                };
                if best.as_ref().is_none_or(|b| candidate.better_than(b)) {
                    best = Some(candidate);
                }
            }
            let mut k = 0;
            while k < pick.len() {
                pick[k] += 1;
                if pick[k] < options[k].len() {
                    break;
                }
                pick[k] = 0;
                k += 1;
            }
            if k == pick.len() {
                break;
            }
        }
        best.map(|b| (b.total, b.placed))
    }

    fn consider(
        &mut self,
        discounts: Vec<Use>,
        shipping: Vec<Placed>,
        money_off: i64,
        waived: i64,
        assignment: &[String],
    ) {
        let mut expiries: Vec<Timestamp> = discounts
            .iter()
            .map(|d| self.cands[d.0].offer.valid_until)
            .chain(shipping.iter().map(|s| self.cands[s.0].offer.valid_until))
            .collect();
        expiries.sort();
        let mut ids: Vec<String> = discounts
            .iter()
            .map(|d| self.cands[d.0].offer.coupon_id.clone())
            .chain(
                shipping
                    .iter()
                    .map(|s| self.cands[s.0].offer.coupon_id.clone()),
            )
            .collect();
        ids.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let rank = Rank {
            total: money_off + waived,
            count: ids.len(),
            expiries,
            ids,
            assignment: assignment.to_vec(),
        };
        if self
            .best
            .as_ref()
            .is_some_and(|b| rank.cmp_better(&b.rank) != Ordering::Less)
        {
            return;
        }
        let lines = self.cart.lines();
        let mut coupons: Vec<Applied> = discounts
            .into_iter()
            .map(|(c, d, shares)| Applied {
                coupon_id: self.cands[c].offer.coupon_id.clone(),
                discount: d,
                lines: shares
                    .into_iter()
                    .map(|(i, amount)| LineShare {
                        line_id: lines[i].line_id.clone(),
                        amount,
                    })
                    .collect(),
                store_id: None,
            })
            .collect();
        coupons.extend(shipping.into_iter().map(|(c, store, waived)| Applied {
            coupon_id: self.cands[c].offer.coupon_id.clone(),
            discount: waived,
            lines: vec![],
            store_id: Some(store),
        }));
        self.best = Some(Best {
            rank,
            money_off,
            waived,
            coupons,
        });
    }
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
        _ => 0,
    }
}
