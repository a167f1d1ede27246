//! A cart as checkout sees it: lines with their base amounts, and a shipping fee per store.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ErrorCode, FieldError};
use crate::template::MAX_AMOUNT;
use crate::text::{id_in_place, text_in_place};

/// The most lines a cart may have.
pub const MAX_LINES: usize = 1_000;

/// One line of a cart, as the API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    #[serde(deserialize_with = "crate::text::de_id")]
    #[schema(value_type = crate::text::Id)]
    pub line_id: String,
    #[serde(deserialize_with = "crate::text::de_id")]
    #[schema(value_type = crate::text::Id)]
    pub sku: String,
    #[serde(deserialize_with = "crate::text::de_id")]
    #[schema(value_type = crate::text::Id)]
    pub store_id: String,
    #[serde(
        default,
        deserialize_with = "crate::text::de_label",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<crate::text::Label>)]
    pub category: Option<String>,
    /// The list price of one unit, minor units.
    pub unit_price: i64,
    /// The activity price (活动价) of one unit, when the line is sold at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_price: Option<i64>,
    pub qty: i64,
}

impl Line {
    /// (activity price if present, else unit price) × qty.
    pub fn base(&self) -> i64 {
        self.activity_price.unwrap_or(self.unit_price) * self.qty
    }
}

/// A cart whose lines and fees have been checked. Build it with [`Cart::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    lines: Vec<Line>,
    shipping: BTreeMap<String, i64>,
}

fn bad(code: ErrorCode, field: String, message: &str) -> FieldError {
    FieldError::new(code, field, message)
}

impl Cart {
    /// Refuses empty or oversized carts, duplicate line ids, non-positive prices or quantities,
    /// activity prices above the unit price, and fees for stores with no line.
    pub fn parse(lines: Vec<Line>, shipping: BTreeMap<String, i64>) -> Result<Cart, FieldError> {
        if lines.is_empty() {
            return Err(bad(
                ErrorCode::EmptyList,
                "lines".into(),
                "a cart needs at least one line",
            ));
        }
        if lines.len() > MAX_LINES {
            return Err(bad(
                ErrorCode::TooLarge,
                "lines".into(),
                "a cart has at most 1000 lines",
            ));
        }
        let mut ids = HashSet::new();
        let mut total: i64 = 0;
        let mut lines = lines;
        for (i, l) in lines.iter_mut().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            id_in_place(f("line_id"), &mut l.line_id)?;
            id_in_place(f("sku"), &mut l.sku)?;
            id_in_place(f("store_id"), &mut l.store_id)?;
            if let Some(c) = &mut l.category {
                text_in_place(f("category"), c, 128)?;
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            if !ids.insert(l.line_id.as_str()) {
                return Err(bad(
                    ErrorCode::InvalidValue,
                    f("line_id"),
                    "line ids must be unique",
                ));
            }
            if l.qty < 1 {
                return Err(bad(ErrorCode::NotPositive, f("qty"), "must be at least 1"));
            }
            if l.qty > 100_000 {
                return Err(bad(ErrorCode::TooLarge, f("qty"), "at most 100000"));
            }
            if l.unit_price < 1 {
                return Err(bad(
                    ErrorCode::NotPositive,
                    f("unit_price"),
                    "must be a positive amount",
                ));
            }
            if l.unit_price > MAX_AMOUNT {
                return Err(bad(ErrorCode::TooLarge, f("unit_price"), "too large"));
            }
            if let Some(a) = l.activity_price {
                if a < 1 {
                    return Err(bad(
                        ErrorCode::NotPositive,
                        f("activity_price"),
                        "must be a positive amount",
                    ));
                }
                if a > l.unit_price {
                    return Err(bad(
                        ErrorCode::InvalidValue,
                        f("activity_price"),
                        "must not exceed unit_price",
                    ));
                }
            }
            total = total.saturating_add(
                l.activity_price
                    .unwrap_or(l.unit_price)
                    .saturating_mul(l.qty),
            );
            if total > MAX_AMOUNT {
                return Err(bad(
                    ErrorCode::TooLarge,
                    f("qty"),
                    "the cart's total is too large",
                ));
            }
        }
        for (store, fee) in &shipping {
            if !lines.iter().any(|l| &l.store_id == store) {
                return Err(bad(
                    ErrorCode::InvalidValue,
                    format!("shipping.{store}"),
                    "no line of the cart is from this store",
                ));
            }
            if *fee < 0 || *fee > MAX_AMOUNT {
                return Err(bad(
                    ErrorCode::Negative,
                    format!("shipping.{store}"),
                    "must be a non-negative amount",
                ));
            }
        }
        Ok(Cart { lines, shipping })
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn shipping(&self) -> &BTreeMap<String, i64> {
        &self.shipping
    }

    /// Σ base amounts.
    pub fn subtotal(&self) -> i64 {
        self.lines.iter().map(Line::base).sum()
    }
}
