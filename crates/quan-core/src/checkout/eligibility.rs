//! Whether a coupon may be used on a cart at all, and why not: the one rule that quotes,
//! orders and counter redemption share.
//!
//! A coupon is usable when its validity covers the time, the local weekday and hour are among
//! its usable ones, the channel, region and order number are allowed ([`usable`]), and at least
//! one line of the cart is in its scope and not excluded by an activity price
//! ([`eligible_lines`]). The first rule that fails is the reason, with its stable code.

use super::cart::{Cart, Line};
use super::solver::{Offer, QuoteContext};
use crate::claim::region_within;
use crate::error::ErrorCode;
use crate::template::{Scope, Template};

/// Why a coupon cannot be used on a cart, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unusable {
    NotYetValid,
    Expired,
    OutsideUsableWeekdays,
    OutsideUsableHours,
    WrongChannel,
    WrongRegion,
    WrongOrder,
    /// No line of the cart is from the coupon's store.
    WrongStore,
    /// The coupon's store (or the platform) has lines, but none in its categories or products.
    OutOfScope,
    /// Every line in scope is sold at an activity price, and the coupon excludes those.
    ActivityPriceExcluded,
}

impl Unusable {
    /// The stable code of this reason (also the `reason` of a quote's `not_applied`).
    pub fn code(self) -> ErrorCode {
        match self {
            Unusable::NotYetValid => ErrorCode::NotYetValid,
            Unusable::Expired => ErrorCode::Expired,
            Unusable::OutsideUsableWeekdays => ErrorCode::OutsideUsableWeekdays,
            Unusable::OutsideUsableHours => ErrorCode::OutsideUsableHours,
            Unusable::WrongChannel => ErrorCode::WrongChannel,
            Unusable::WrongRegion => ErrorCode::WrongRegion,
            Unusable::WrongOrder => ErrorCode::WrongOrder,
            Unusable::WrongStore => ErrorCode::WrongStore,
            Unusable::OutOfScope => ErrorCode::OutOfScope,
            Unusable::ActivityPriceExcluded => ErrorCode::ActivityPriceExcluded,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.code().as_str()
    }
}

/// Whether a coupon may be used at all at this time, channel, region and order number.
pub fn usable(offer: &Offer, ctx: &QuoteContext) -> Result<(), Unusable> {
    let spec = offer.template.spec();
    if ctx.at < offer.valid_from {
        return Err(Unusable::NotYetValid);
    }
    if ctx.at >= offer.valid_until {
        return Err(Unusable::Expired);
    }
    let local = ctx.zone.zoned(ctx.at);
    if let Some(days) = &spec.usable_weekdays {
        if !days.contains(&i64::from(local.weekday().to_monday_one_offset())) {
            return Err(Unusable::OutsideUsableWeekdays);
        }
    }
    let hours = offer.template.usable_hours();
    if !hours.is_empty()
        && !hours
            .iter()
            .any(|(from, until)| *from <= local.time() && local.time() < *until)
    {
        return Err(Unusable::OutsideUsableHours);
    }
    if let Some(channels) = &spec.channels {
        if !ctx.channel.is_some_and(|c| channels.contains(&c)) {
            return Err(Unusable::WrongChannel);
        }
    }
    if let Some(regions) = &spec.regions {
        if !ctx
            .region
            .as_deref()
            .is_some_and(|r| regions.iter().any(|a| region_within(r, a)))
        {
            return Err(Unusable::WrongRegion);
        }
    }
    if let Some(orders) = &spec.usable_on_orders {
        if !orders.contains(&ctx.order_number) {
            return Err(Unusable::WrongOrder);
        }
    }
    Ok(())
}

/// Whether the line is of the coupon's store (every line is, for a platform coupon).
fn in_store(template: &Template, line: &Line) -> bool {
    template
        .spec()
        .scope
        .store_id()
        .is_none_or(|s| line.store_id == s)
}

/// Whether the line is in the coupon's categories or products (given it is in its store).
fn in_scope(template: &Template, line: &Line) -> bool {
    let in_categories = |cats: &[String]| line.category.as_ref().is_some_and(|c| cats.contains(c));
    match &template.spec().scope {
        Scope::Platform { categories } => categories.as_deref().is_none_or(in_categories),
        Scope::Store { .. } => true,
        Scope::Category { categories, .. } => in_categories(categories),
        Scope::Product { skus, .. } => skus.contains(&line.sku),
    }
}

/// Whether the coupon may take this line: its store, its scope, and not an excluded activity price.
pub fn line_eligible(template: &Template, line: &Line) -> bool {
    let excluded = template.spec().excludes_activity_price && line.activity_price.is_some();
    !excluded && in_store(template, line) && in_scope(template, line)
}

/// The cart lines (among `candidates`, in their order) the coupon may take, or why none.
pub fn eligible_lines(
    template: &Template,
    cart: &Cart,
    candidates: impl IntoIterator<Item = usize>,
) -> Result<Vec<usize>, Unusable> {
    let lines = cart.lines();
    let (mut store, mut scope) = (false, false);
    let mut out = Vec::new();
    for i in candidates {
        let line = &lines[i];
        if !in_store(template, line) {
            continue;
        }
        store = true;
        if !in_scope(template, line) {
            continue;
        }
        scope = true;
        if line_eligible(template, line) {
            out.push(i);
        }
    }
    match (out.is_empty(), store, scope) {
        (false, _, _) => Ok(out),
        (true, false, _) => Err(Unusable::WrongStore),
        (true, true, false) => Err(Unusable::OutOfScope),
        (true, true, true) => Err(Unusable::ActivityPriceExcluded),
    }
}

/// Every rule at once: usable now, and the lines of `cart` it may take.
pub fn check(offer: &Offer, ctx: &QuoteContext, cart: &Cart) -> Result<Vec<usize>, Unusable> {
    usable(offer, ctx)?;
    eligible_lines(offer.template, cart, 0..cart.lines().len())
}
