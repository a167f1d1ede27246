//! The daily counters' arithmetic (docs/DOMAIN.md section 9): what a coupon's ledger entry
//! adds to `coupon_counts`, and which sales entries an order's change makes for
//! `sales_counts`. The writes and `rebuild` both add up through here, so they agree.

use std::collections::BTreeMap;

use quan_core::coupon::CouponStatus;

/// A row of `coupon_counts`: a template, campaign (`""` none), store (`""` platform), claim
/// route and tenant-local day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CouponKey {
    pub template_id: String,
    pub campaign_id: String,
    pub store_id: String,
    pub route: String,
    pub day: i64,
}

/// What entries add to a row of `coupon_counts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CouponDelta {
    /// Coupons that came into wallets (claimed or granted).
    pub claimed: i64,
    /// Redemptions.
    pub used: i64,
    /// Redemptions undone (a refund gave the coupon back).
    pub returned: i64,
    /// Money given, net of refunds.
    pub given: i64,
}

impl CouponDelta {
    /// What a ledger entry from `from` (`None`: the coupon was made) to `to`, changing the
    /// money its coupon gave by `given`, adds.
    pub fn of(from: Option<CouponStatus>, to: CouponStatus, given: i64) -> CouponDelta {
        let redeemed = |s: Option<CouponStatus>| s == Some(CouponStatus::Redeemed);
        CouponDelta {
            claimed: i64::from(from.is_none()),
            used: i64::from(!redeemed(from) && redeemed(Some(to))),
            returned: i64::from(redeemed(from) && !redeemed(Some(to))),
            given,
        }
    }

    fn add(&mut self, d: CouponDelta) {
        self.claimed += d.claimed;
        self.used += d.used;
        self.returned += d.returned;
        self.given += d.given;
    }

    fn is_zero(&self) -> bool {
        *self == CouponDelta::default()
    }
}

/// Deltas summed per row, in key order (no zero rows): one upsert per row.
#[derive(Debug, Default)]
pub(crate) struct CouponCounts(BTreeMap<CouponKey, CouponDelta>);

impl CouponCounts {
    pub fn add(&mut self, key: CouponKey, delta: CouponDelta) {
        self.0.entry(key).or_default().add(delta);
    }

    pub fn rows(&self) -> impl Iterator<Item = (&CouponKey, &CouponDelta)> {
        self.0.iter().filter(|(_, d)| !d.is_zero())
    }
}

/// What a sales entry is kept per: a coupon's template or its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SaleKind {
    Template,
    Campaign,
}

impl SaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SaleKind::Template => "template",
            SaleKind::Campaign => "campaign",
        }
    }
}

/// A line of the sales ledger: an order's count and GMV for one template or campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SaleEntry {
    pub kind: SaleKind,
    pub key: String,
    pub orders: i64,
    pub gmv: i64,
}

/// One of an order's coupons, as a sale counts it: its template and campaign, and whether it
/// is used in the order before and after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SaleCoupon<'a> {
    pub template_id: &'a str,
    pub campaign_id: Option<&'a str>,
    pub before: bool,
    pub after: bool,
}

/// The sales entries of an order whose coupons change from `before` to `after` used, its
/// payable (less refunds) going from `payable_before` to `payable_after`: per template and
/// campaign of its coupons, the order counts (once, with its payable) while at least one of
/// their coupons is used in it. Entries that change nothing are left out.
pub(crate) fn sale_entries(
    coupons: &[SaleCoupon<'_>],
    payable_before: i64,
    payable_after: i64,
) -> Vec<SaleEntry> {
    let mut keys: BTreeMap<(SaleKind, &str), (bool, bool)> = BTreeMap::new();
    for c in coupons {
        let campaign = c.campaign_id.map(|k| (SaleKind::Campaign, k));
        for k in std::iter::once((SaleKind::Template, c.template_id)).chain(campaign) {
            let e = keys.entry(k).or_default();
            e.0 |= c.before;
            e.1 |= c.after;
        }
    }
    let part = |counted: bool, payable: i64| if counted { (1, payable) } else { (0, 0) };
    keys.into_iter()
        .filter_map(|((kind, key), (before, after))| {
            let (o0, g0) = part(before, payable_before);
            let (o1, g1) = part(after, payable_after);
            (o0 != o1 || g0 != g1).then(|| SaleEntry {
                kind,
                key: key.to_string(),
                orders: o1 - o0,
                gmv: g1 - g0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use CouponStatus::*;

    #[test]
    fn a_coupons_life_adds_up_to_what_it_is() {
        // Made, locked, redeemed for 5.00, 2.00 of it refunded, then given back whole.
        let life = [
            CouponDelta::of(None, Claimed, 0),
            CouponDelta::of(Some(Claimed), Locked, 0),
            CouponDelta::of(Some(Locked), Redeemed, 500),
            CouponDelta::of(Some(Redeemed), Redeemed, -200),
            CouponDelta::of(Some(Redeemed), Claimed, -300),
        ];
        let mut sum = CouponDelta::default();
        for d in life {
            sum.add(d);
        }
        assert_eq!(
            sum,
            CouponDelta {
                claimed: 1,
                used: 1,
                returned: 1,
                given: 0
            }
        );
        assert_eq!(
            CouponDelta::of(Some(Redeemed), Expired, -100).returned,
            1,
            "a refund after the coupon's end gives it back expired"
        );
    }

    fn coupon<'a>(t: &'a str, c: Option<&'a str>, before: bool, after: bool) -> SaleCoupon<'a> {
        SaleCoupon {
            template_id: t,
            campaign_id: c,
            before,
            after,
        }
    }

    fn rows(entries: &[SaleEntry]) -> Vec<(SaleKind, &str, i64, i64)> {
        entries
            .iter()
            .map(|e| (e.kind, e.key.as_str(), e.orders, e.gmv))
            .collect()
    }

    #[test]
    fn an_order_counts_once_per_template_and_campaign() {
        // Paid: two coupons of one campaign (templates a and b), one of no campaign (a).
        let paid = sale_entries(
            &[
                coupon("a", Some("c1"), false, true),
                coupon("b", Some("c1"), false, true),
                coupon("a", None, false, true),
            ],
            0,
            9_000,
        );
        assert_eq!(
            rows(&paid),
            vec![
                (SaleKind::Template, "a", 1, 9_000),
                (SaleKind::Template, "b", 1, 9_000),
                (SaleKind::Campaign, "c1", 1, 9_000),
            ]
        );
        // A refund gives b's coupon back and 4,000 of the payable: b's template loses the
        // order; a and the campaign keep it, with 5,000.
        let refund = sale_entries(
            &[
                coupon("a", Some("c1"), true, true),
                coupon("b", Some("c1"), true, false),
            ],
            9_000,
            5_000,
        );
        assert_eq!(
            rows(&refund),
            vec![
                (SaleKind::Template, "a", 0, -4_000),
                (SaleKind::Template, "b", -1, -9_000),
                (SaleKind::Campaign, "c1", 0, -4_000),
            ]
        );
        assert!(sale_entries(&[coupon("a", None, true, true)], 100, 100).is_empty());
    }
}
