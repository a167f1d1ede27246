//! [`Template::parse`]: every rule of docs/DOMAIN.md section 2, each naming the field at fault.

use jiff::civil::Time;

use super::{
    Audience, Benefit, DistributionMode, Scope, Template, TemplateSpec, Validity, MAX_AMOUNT,
    MAX_DAYS, MAX_LIST,
};
use crate::error::{ErrorCode, FieldError};

type Check = Result<(), FieldError>;

fn fail(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Check {
    Err(FieldError::new(code, field, message))
}

fn amount(field: &str, v: i64) -> Check {
    if v < 0 {
        return fail(ErrorCode::Negative, field, "must not be negative");
    }
    if v > MAX_AMOUNT {
        return fail(
            ErrorCode::TooLarge,
            field,
            format!("must be at most {MAX_AMOUNT}"),
        );
    }
    Ok(())
}

fn positive(field: &str, v: i64, max: i64) -> Check {
    if v < 1 {
        return fail(ErrorCode::NotPositive, field, "must be at least 1");
    }
    if v > max {
        return fail(ErrorCode::TooLarge, field, format!("must be at most {max}"));
    }
    Ok(())
}

fn rate(field: &str, v: i64) -> Check {
    if !(1..=9999).contains(&v) {
        return fail(
            ErrorCode::RateOutOfRange,
            field,
            "must be within 1..9999 basis points",
        );
    }
    Ok(())
}

fn list<T>(field: &str, v: &[T]) -> Check {
    if v.is_empty() {
        return fail(ErrorCode::EmptyList, field, "must not be empty");
    }
    if v.len() > MAX_LIST {
        return fail(
            ErrorCode::TooLarge,
            field,
            format!("must have at most {MAX_LIST} elements"),
        );
    }
    Ok(())
}

/// The longest template description, in bytes: it is shown in every member's coupon center.
pub const DESCRIPTION_MAX: usize = 2_000;

/// A template's text by the one free-text rule (`crate::text::free_text`), at most 256 bytes.
fn text(field: &str, v: &str) -> Check {
    crate::text::free_text(v, 256, false).map_err(|(code, message)| {
        let message = match code {
            ErrorCode::TooLarge => "must be at most 256 bytes",
            _ => message,
        };
        FieldError::new(code, field, message)
    })
}

fn texts(field: &str, v: &[String]) -> Check {
    list(field, v)?;
    v.iter()
        .enumerate()
        .try_for_each(|(i, s)| text(&format!("{field}[{i}]"), s))
}

/// Trims every id of the template and checks it with the one id rule.
fn ids(spec: &mut TemplateSpec) -> Check {
    use crate::text::id_in_place;
    match &mut spec.scope {
        Scope::Platform { .. } => {}
        Scope::Store { store_id } | Scope::Category { store_id, .. } => {
            id_in_place("scope.store_id", store_id)?
        }
        Scope::Product { store_id, skus } => {
            id_in_place("scope.store_id", store_id)?;
            for (i, sku) in skus.iter_mut().enumerate() {
                id_in_place(format!("scope.skus[{i}]"), sku)?;
            }
        }
    }
    if let Benefit::Gift { gift_sku, .. } = &mut spec.benefit {
        id_in_place("benefit.gift_sku", gift_sku)?;
    }
    match &mut spec.audience {
        Audience::Segment { segment_id } => id_in_place("audience.segment_id", segment_id)?,
        Audience::Users { user_ids } => {
            for (i, u) in user_ids.iter_mut().enumerate() {
                id_in_place(format!("audience.user_ids[{i}]"), u)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(crate) fn hhmm(field: &str, v: &str) -> Result<Time, FieldError> {
    let bad = || {
        FieldError::new(
            ErrorCode::InvalidValue,
            field,
            "must be a local time HH:MM (00:00..24:00)",
        )
    };
    if v == "24:00" {
        return Ok(Time::MAX);
    }
    let (h, m) = v.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl Template {
    /// Checks every rule of docs/DOMAIN.md section 2; the error names the first field at fault.
    pub fn parse(mut spec: TemplateSpec) -> Result<Template, FieldError> {
        text("name", &spec.name)?;
        if let Some(d) = &spec.description {
            crate::text::free_text(d, DESCRIPTION_MAX, true)
                .map_err(|(code, message)| FieldError::new(code, "description", message))?;
        }
        ids(&mut spec)?;
        check_scope(&spec.scope, &spec.benefit)?;
        check_benefit(&spec.benefit)?;
        check_validity(&spec.validity)?;
        let mut hours = Vec::new();
        if let Some(ranges) = &spec.usable_hours {
            list("usable_hours", ranges)?;
            for (i, r) in ranges.iter().enumerate() {
                let from = hhmm(&format!("usable_hours[{i}].from"), &r.from)?;
                let until = hhmm(&format!("usable_hours[{i}].until"), &r.until)?;
                if until <= from {
                    fail(
                        ErrorCode::WindowInverted,
                        format!("usable_hours[{i}].until"),
                        "must be after from",
                    )?;
                }
                hours.push((from, until));
            }
        }
        if let Some(days) = &spec.usable_weekdays {
            list("usable_weekdays", days)?;
            for (i, d) in days.iter().enumerate() {
                if !(1..=7).contains(d) {
                    fail(
                        ErrorCode::InvalidValue,
                        format!("usable_weekdays[{i}]"),
                        "must be an ISO weekday 1..7",
                    )?;
                }
            }
        }
        check_audience(&spec.audience)?;
        if let Some(orders) = &spec.usable_on_orders {
            list("usable_on_orders", orders)?;
            for (i, n) in orders.iter().enumerate() {
                positive(&format!("usable_on_orders[{i}]"), *n, 1_000_000)?;
            }
        }
        if let Some(channels) = &spec.channels {
            list("channels", channels)?;
        }
        if let Some(regions) = &spec.regions {
            texts("regions", regions)?;
        }
        if let Some(stock) = spec.stock {
            positive("stock", stock, MAX_AMOUNT)?;
        }
        if let Some(n) = spec.per_user_limit {
            positive("per_user_limit", n, 1_000_000)?;
        }
        if let Some(n) = spec.per_user_daily_limit {
            positive("per_user_daily_limit", n, 1_000_000)?;
        }
        if let Some(w) = &spec.claim_window {
            if let (Some(from), Some(until)) = (w.from, w.until) {
                if until <= from {
                    fail(
                        ErrorCode::WindowInverted,
                        "claim_window.until",
                        "must be after claim_window.from",
                    )?;
                }
            }
        }
        list("distribution", &spec.distribution.0)?;
        if spec.distribution.has(DistributionMode::Public)
            && spec.distribution.has(DistributionMode::LinkOnly)
        {
            fail(
                ErrorCode::DistributionConflict,
                "distribution",
                "public excludes link_only",
            )?;
        }
        let f = &spec.funding;
        for (field, v) in [
            ("funding.platform_bp", f.platform_bp),
            ("funding.merchant_bp", f.merchant_bp),
            ("funding.supplier_bp", f.supplier_bp),
        ] {
            if !(0..=10_000).contains(&v) {
                fail(
                    ErrorCode::FundingNotWhole,
                    field,
                    "must be within 0..10000 basis points",
                )?;
            }
        }
        if f.platform_bp + f.merchant_bp + f.supplier_bp != 10_000 {
            fail(
                ErrorCode::FundingNotWhole,
                "funding",
                "shares must sum to 10000 basis points",
            )?;
        }
        if let Some(v) = spec.face_value {
            amount("face_value", v)?;
        }
        Ok(Template { spec, hours })
    }
}

fn check_scope(scope: &Scope, benefit: &Benefit) -> Check {
    match scope {
        Scope::Platform { categories } => {
            if let Some(c) = categories {
                texts("scope.categories", c)?;
            }
        }
        Scope::Store { store_id } => text("scope.store_id", store_id)?,
        Scope::Category {
            store_id,
            categories,
        } => {
            text("scope.store_id", store_id)?;
            texts("scope.categories", categories)?;
        }
        Scope::Product { store_id, skus } => {
            text("scope.store_id", store_id)?;
            texts("scope.skus", skus)?;
        }
    }
    let whole = matches!(
        scope,
        Scope::Store { .. } | Scope::Platform { categories: None }
    );
    if matches!(benefit, Benefit::Gift { .. } | Benefit::FreeShipping { .. }) && !whole {
        fail(
            ErrorCode::ScopeNotAllowed,
            "scope.kind",
            "gift and free-shipping coupons take store or platform scope only",
        )?;
    }
    Ok(())
}

fn check_benefit(benefit: &Benefit) -> Check {
    match benefit {
        Benefit::Reduction { threshold, off } => {
            amount("benefit.threshold", *threshold)?;
            positive("benefit.off", *off, MAX_AMOUNT)?;
            if *threshold > 0 && off > threshold {
                fail(
                    ErrorCode::ReductionExceedsThreshold,
                    "benefit.off",
                    "must not exceed the threshold",
                )?;
            }
        }
        Benefit::Percent {
            min_amount,
            min_items,
            rate_bp,
            cap,
        } => {
            if min_amount.is_some() && min_items.is_some() {
                fail(
                    ErrorCode::InvalidValue,
                    "benefit.min_items",
                    "give min_amount or min_items, not both",
                )?;
            }
            if let Some(v) = min_amount {
                amount("benefit.min_amount", *v)?;
            }
            if let Some(v) = min_items {
                amount("benefit.min_items", *v)?;
            }
            rate("benefit.rate_bp", *rate_bp)?;
            if let Some(c) = cap {
                positive("benefit.cap", *c, MAX_AMOUNT)?;
            }
        }
        Benefit::Tiered { tiers } => {
            list("benefit.tiers", tiers)?;
            let mut last = 0;
            for (i, t) in tiers.iter().enumerate() {
                positive(
                    &format!("benefit.tiers[{i}].min_items"),
                    t.min_items,
                    1_000_000,
                )?;
                rate(&format!("benefit.tiers[{i}].rate_bp"), t.rate_bp)?;
                if t.min_items <= last {
                    fail(
                        ErrorCode::InvalidValue,
                        format!("benefit.tiers[{i}].min_items"),
                        "tiers must rise in min_items",
                    )?;
                }
                last = t.min_items;
            }
        }
        Benefit::Gift {
            threshold,
            gift_sku,
        } => {
            amount("benefit.threshold", *threshold)?;
            text("benefit.gift_sku", gift_sku)?;
        }
        Benefit::FreeShipping { threshold, cap } => {
            amount("benefit.threshold", *threshold)?;
            if let Some(c) = cap {
                positive("benefit.cap", *c, MAX_AMOUNT)?;
            }
        }
    }
    Ok(())
}

fn check_validity(validity: &Validity) -> Check {
    match validity {
        Validity::Fixed {
            valid_from,
            valid_until,
        } => {
            if valid_until <= valid_from {
                fail(
                    ErrorCode::WindowInverted,
                    "validity.valid_until",
                    "must be after valid_from",
                )?;
            }
        }
        Validity::Relative { days, .. } => positive("validity.days", *days, MAX_DAYS)?,
    }
    Ok(())
}

fn check_audience(audience: &Audience) -> Check {
    match audience {
        Audience::All | Audience::New | Audience::Returning => Ok(()),
        Audience::Tiers { tiers } => texts("audience.tiers", tiers),
        Audience::Segment { segment_id } => text("audience.segment_id", segment_id),
        Audience::Users { user_ids } => texts("audience.user_ids", user_ids),
        Audience::NewMembers { within_days } => {
            positive("audience.within_days", *within_days, MAX_DAYS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::spec;

    type Edit = Box<dyn FnOnce(&mut TemplateSpec)>;

    fn refused(edit: impl FnOnce(&mut TemplateSpec)) -> (ErrorCode, String) {
        let mut s = spec();
        edit(&mut s);
        let e = Template::parse(s).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn the_api_example_is_valid() {
        let t = Template::parse(spec()).unwrap();
        assert_eq!(t.face_value(), 1000);
    }

    #[test]
    fn every_rule_names_its_field() {
        use ErrorCode::*;
        let cases: Vec<(Edit, ErrorCode, &str)> = vec![
            (
                Box::new(|s| {
                    s.benefit = Benefit::Reduction {
                        threshold: 500,
                        off: 1000,
                    }
                }),
                ReductionExceedsThreshold,
                "benefit.off",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Reduction {
                        threshold: 0,
                        off: 0,
                    }
                }),
                NotPositive,
                "benefit.off",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Percent {
                        min_amount: None,
                        min_items: None,
                        rate_bp: 10_000,
                        cap: None,
                    }
                }),
                RateOutOfRange,
                "benefit.rate_bp",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Percent {
                        min_amount: None,
                        min_items: None,
                        rate_bp: 8000,
                        cap: Some(0),
                    }
                }),
                NotPositive,
                "benefit.cap",
            ),
            (Box::new(|s| s.stock = Some(0)), NotPositive, "stock"),
            (
                Box::new(|s| s.per_user_limit = Some(0)),
                NotPositive,
                "per_user_limit",
            ),
            (
                Box::new(|s| s.per_user_daily_limit = Some(-1)),
                NotPositive,
                "per_user_daily_limit",
            ),
            (
                Box::new(|s| s.funding.merchant_bp = 9000),
                FundingNotWhole,
                "funding",
            ),
        ];
        for (edit, code, field) in cases {
            assert_eq!(refused(edit), (code, field.to_string()));
        }
    }
}
