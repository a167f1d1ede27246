//! The solver against an independent brute force of docs/DOMAIN.md section 6.
//!
//! - `generate`: random carts and wallets, with thresholds spread around the bases they meet.
//! - `brute`: the brute force over every legal combination, independent of `solver/`.
//! - `property`: the property, which compares the brute force's best with `quote()`.
//!
//! Readings of section 6 made here: "at most one coupon of any one template" tells templates
//! apart by address (the callers build one `&Template` per template); a shipment is a store with
//! a fee above 0; the last tie-break (assignments) compares each line's merchant coupon id in the
//! order of the cart's lines; which of several equally good shipments a free-shipping coupon
//! waives is not specified, so the quote's choice is checked for legality rather than compared.
//! Gift coupons, usable hours, channels, regions and `usable_on_orders` are not generated.

mod brute;
mod generate;
mod property;

use jiff::Timestamp;

fn now() -> Timestamp {
    "2026-06-01T04:00:00Z".parse().unwrap()
}
