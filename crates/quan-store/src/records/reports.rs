//! What the console reports from: short links' targets and a period's activity per template.

use jiff::Timestamp;

/// A short link to record: `code` stands for the signed `link` of `template_id` until
/// `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShortLink {
    pub code: String,
    pub template_id: String,
    pub link: String,
    pub expires_at: Timestamp,
    pub now: Timestamp,
}

/// A recorded short link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLink {
    pub code: String,
    pub template_id: String,
    pub link: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// One template's activity in a period (docs/DOMAIN.md section 2's counters, counted by when).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateActivity {
    pub template_id: String,
    /// Coupons created for members: claims and grants (not of a claim code), and claim codes
    /// made.
    pub issued: i64,
    /// Coupons that reached a wallet (claim codes count when claimed).
    pub claimed: i64,
    /// Coupons redeemed.
    pub used: i64,
}

/// The period's activity per template, the same SQL on both backends (`$1` from, `$2` until,
/// in microseconds): claims and grants issue and claim, claim codes issue when made and claim
/// when used; used is what the period's moves did to the template's used count
/// (`CouponStatus::used_delta`: a redemption adds one, a refund giving a redeemed coupon back
/// takes one), so a period's figures and the cumulative counters agree. `{only}` narrows
/// every part to some templates ([`activity_sql`]).
const ACTIVITY: &str = "\
SELECT template_id, CAST(SUM(issued) AS BIGINT), CAST(SUM(claimed) AS BIGINT), CAST(SUM(used) AS BIGINT) FROM (
    SELECT template_id, SUM(CASE WHEN route = 'claim_code' THEN 0 ELSE 1 END) AS issued, COUNT(*) AS claimed, 0 AS used
      FROM coupons WHERE {only} claimed_at >= $1 AND claimed_at < $2 GROUP BY template_id
    UNION ALL
    SELECT template_id, COUNT(*), 0, 0 FROM claim_codes WHERE {only} created_at >= $1 AND created_at < $2 GROUP BY template_id
    UNION ALL
    SELECT template_id, 0, 0, SUM(CASE WHEN to_status = 'redeemed' THEN 1 ELSE -1 END) FROM coupon_ledger
      WHERE {only} (to_status = 'redeemed' OR from_status = 'redeemed') AND at >= $1 AND at < $2 GROUP BY template_id
) AS activity GROUP BY template_id ORDER BY template_id";

/// [`ACTIVITY`] of every template, or (`some`) of the templates listed in `$3`: their claim
/// codes, which a print run makes by the million, then read through their index by template
/// and time.
pub(crate) fn activity_sql(some: bool) -> &'static str {
    static EVERY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| ACTIVITY.replace("{only}", ""));
    static SOME: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| ACTIVITY.replace("{only}", "template_id = ANY($3) AND"));
    if some {
        &SOME
    } else {
        &EVERY
    }
}

/// What a claim by one user of one template would be decided on, read without claiming (the
/// coupon center shows with it whether each coupon can be claimed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimant {
    /// The member's facts, when the template's audience or distribution needs them.
    pub facts: quan_core::claim::MemberFacts,
    /// The user's claims of the template per tenant-local claim day: `(day, count)`.
    pub days: Vec<(i64, i64)>,
}

impl Claimant {
    /// The user's claims of the template in all and on local day `today`.
    pub fn counts(&self, today: i64) -> quan_core::claim::Counts {
        quan_core::claim::Counts {
            total: self.days.iter().map(|(_, n)| n).sum(),
            today: self
                .days
                .iter()
                .filter(|(d, _)| *d == today)
                .map(|(_, n)| n)
                .sum(),
            day: today,
        }
    }
}
