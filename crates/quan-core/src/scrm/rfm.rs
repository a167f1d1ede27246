//! RFM: recency, frequency and monetary scores 1..5 by quintile, and the S/A/B/C tiers.
//!
//! Over the members with at least one counted order in the window (`window_days` ending at the
//! as-of time), each dimension is `NTILE(5) OVER (ORDER BY value ASC, member_id ASC)`: the
//! most recent last order, the most orders and the most money score 5; equal values are broken
//! by member id (compared as strings). Members without an order in the window score 0 and are
//! tier C. The tier comes from the sum `r + f + m` (3..15) and the configured minimums: by
//! default S ≥ 13, A ≥ 10, B ≥ 7, else C.
//!
//! A full recompute also yields the [`Cuts`]: the first `(value, member id)` of quintiles 2..5
//! per dimension. Between full recomputes a member whose orders changed is scored against
//! those cuts ([`Cuts::score`]), which places it exactly where the full ranking would if no one
//! else had moved.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ErrorCode, FieldError};

/// The RFM tier: S (high value, light touch), A and B (strong touch), C (nurture).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum RfmTier {
    S,
    A,
    B,
    C,
}

impl RfmTier {
    pub fn as_str(self) -> &'static str {
        match self {
            RfmTier::S => "S",
            RfmTier::A => "A",
            RfmTier::B => "B",
            RfmTier::C => "C",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S" => Some(RfmTier::S),
            "A" => Some(RfmTier::A),
            "B" => Some(RfmTier::B),
            "C" => Some(RfmTier::C),
            _ => None,
        }
    }
}

/// The minimum `r + f + m` of each tier above C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierMins {
    pub s: u8,
    pub a: u8,
    pub b: u8,
}

/// How RFM is computed: the window and the tier mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RfmConfig {
    /// Days of orders that count, ending at the as-of time (default 365).
    pub window_days: u32,
    /// Tier minimums over `r + f + m` (default S 13, A 10, B 7).
    pub tiers: TierMins,
}

impl Default for RfmConfig {
    fn default() -> Self {
        RfmConfig {
            window_days: 365,
            tiers: TierMins { s: 13, a: 10, b: 7 },
        }
    }
}

impl RfmConfig {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.window_days == 0 || self.window_days > 3650 {
            return Err(FieldError::new(
                ErrorCode::InvalidValue,
                "window_days",
                "must be 1..3650",
            ));
        }
        let TierMins { s, a, b } = self.tiers;
        if !(s <= 15 && s > a && a > b && b >= 3) {
            return Err(FieldError::new(
                ErrorCode::InvalidValue,
                "tiers",
                "need 15 >= s > a > b >= 3",
            ));
        }
        Ok(())
    }

    /// The window's first instant (exclusive): orders paid after it and up to `as_of` count.
    pub fn window_start(&self, as_of: Timestamp) -> Timestamp {
        as_of
            .checked_sub(jiff::SignedDuration::from_hours(
                24 * i64::from(self.window_days),
            ))
            .unwrap_or(Timestamp::MIN)
    }

    /// The tier of scores `r`, `f`, `m` (all 0: no orders, tier C).
    pub fn tier(&self, r: u8, f: u8, m: u8) -> RfmTier {
        let sum = r + f + m;
        if r == 0 || f == 0 || m == 0 {
            RfmTier::C
        } else if sum >= self.tiers.s {
            RfmTier::S
        } else if sum >= self.tiers.a {
            RfmTier::A
        } else if sum >= self.tiers.b {
            RfmTier::B
        } else {
            RfmTier::C
        }
    }
}

/// A member's scores; `r = f = m = 0` for members without an order in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RfmScore {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub tier: RfmTier,
}

impl RfmScore {
    pub const NONE: RfmScore = RfmScore {
        r: 0,
        f: 0,
        m: 0,
        tier: RfmTier::C,
    };
}

/// One member's raw values in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmInput {
    pub member_id: String,
    /// The last order's paid time, in microseconds.
    pub last: i64,
    pub frequency: i64,
    pub monetary: i64,
}

/// The first `(value, member id)` of quintiles 2..5 of each dimension (fewer when there are
/// fewer than five members).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cuts {
    pub r: Vec<(i64, String)>,
    pub f: Vec<(i64, String)>,
    pub m: Vec<(i64, String)>,
}

impl Cuts {
    /// Scores one member's values against the cuts of the last full recompute.
    pub fn score(&self, input: &RfmInput, config: &RfmConfig) -> RfmScore {
        let one = |cuts: &[(i64, String)], v: i64| {
            1 + cuts
                .iter()
                .filter(|(cv, cid)| (v, input.member_id.as_str()) >= (*cv, cid.as_str()))
                .count() as u8
        };
        let (r, f, m) = (
            one(&self.r, input.last),
            one(&self.f, input.frequency),
            one(&self.m, input.monetary),
        );
        RfmScore {
            r,
            f,
            m,
            tier: config.tier(r, f, m),
        }
    }
}

/// `NTILE(5)` of the 0-based rank `i` among `n`: the first `n % 5` tiles hold one more.
pub fn ntile5(i: usize, n: usize) -> u8 {
    let (q, extra) = (n / 5, n % 5);
    let big = extra * (q + 1);
    let tile = if i < big {
        i / (q + 1)
    } else {
        extra + (i - big) / q.max(1)
    };
    tile as u8 + 1
}

/// Scores every member of `inputs` (one entry per member with orders in the window); the
/// scores come back in the order of `inputs`, with the cuts for incremental scoring.
pub fn score_all(inputs: &[RfmInput], config: &RfmConfig) -> (Vec<RfmScore>, Cuts) {
    let n = inputs.len();
    let mut scores = vec![[0u8; 3]; n];
    let mut cuts = Cuts::default();
    let mut order: Vec<usize> = (0..n).collect();
    for (dim, value) in [
        |x: &RfmInput| x.last,
        |x: &RfmInput| x.frequency,
        |x: &RfmInput| x.monetary,
    ]
    .into_iter()
    .enumerate()
    {
        order.sort_unstable_by(|&a, &b| {
            (value(&inputs[a]), &inputs[a].member_id)
                .cmp(&(value(&inputs[b]), &inputs[b].member_id))
        });
        let dim_cuts = match dim {
            0 => &mut cuts.r,
            1 => &mut cuts.f,
            _ => &mut cuts.m,
        };
        let mut previous = 0;
        for (rank, &i) in order.iter().enumerate() {
            let tile = ntile5(rank, n);
            if tile != previous && tile > 1 {
                dim_cuts.push((value(&inputs[i]), inputs[i].member_id.clone()));
            }
            previous = tile;
            scores[i][dim] = tile;
        }
    }
    let scores = scores
        .into_iter()
        .map(|[r, f, m]| RfmScore {
            r,
            f,
            m,
            tier: config.tier(r, f, m),
        })
        .collect();
    (scores, cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(id: &str, last: i64, frequency: i64, monetary: i64) -> RfmInput {
        RfmInput {
            member_id: id.into(),
            last,
            frequency,
            monetary,
        }
    }

    #[test]
    fn ntile_matches_sql() {
        // NTILE(5) over 7 rows: 1,1,2,2,3,4,5.
        let tiles: Vec<u8> = (0..7).map(|i| ntile5(i, 7)).collect();
        assert_eq!(tiles, [1, 1, 2, 2, 3, 4, 5]);
        let tiles: Vec<u8> = (0..3).map(|i| ntile5(i, 3)).collect();
        assert_eq!(tiles, [1, 2, 3]);
        let tiles: Vec<u8> = (0..10).map(|i| ntile5(i, 10)).collect();
        assert_eq!(tiles, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    }

    /// Ten members computed by hand: recency by last order, ties by id; frequency and money.
    #[test]
    fn hand_computed_quintiles_and_tiers() {
        let members = [
            input("m01", 100, 1, 500),
            input("m02", 900, 9, 9000),
            input("m03", 800, 8, 8000),
            input("m04", 100, 2, 700),
            input("m05", 500, 5, 5000),
            input("m06", 600, 1, 100),
            input("m07", 700, 7, 7000),
            input("m08", 300, 3, 3000),
            input("m09", 400, 4, 4000),
            input("m10", 950, 10, 20000),
        ];
        let cfg = RfmConfig::default();
        let (scores, cuts) = score_all(&members, &cfg);
        // Recency ascending: m01(100) m04(100) m08 m09 m05 m06 m07 m03 m02 m10.
        let r: Vec<u8> = scores.iter().map(|s| s.r).collect();
        assert_eq!(r, [1, 5, 4, 1, 3, 3, 4, 2, 2, 5]);
        // Frequency ascending: m01(1) m06(1) m04(2) m08 m09 m05 m07 m03 m02 m10.
        let f: Vec<u8> = scores.iter().map(|s| s.f).collect();
        assert_eq!(f, [1, 5, 4, 2, 3, 1, 4, 2, 3, 5]);
        // Money ascending: m06(100) m01(500) m04(700) m08 m09 m05 m07 m03 m02 m10.
        let m: Vec<u8> = scores.iter().map(|s| s.m).collect();
        assert_eq!(m, [1, 5, 4, 2, 3, 1, 4, 2, 3, 5]);
        let tiers: String = scores.iter().map(|s| s.tier.as_str()).collect();
        // sums: 3, 15, 12, 5, 9, 5, 12, 6, 8, 15
        assert_eq!(tiers, "CSACBCACBS");
        assert_eq!(
            cuts.r[0],
            (300, "m08".to_string()),
            "quintile 2 starts at m08"
        );
        // Scoring a member against the cuts places it where the full ranking put it.
        for (member, score) in members.iter().zip(&scores) {
            assert_eq!(cuts.score(member, &cfg), *score, "{}", member.member_id);
        }
        // A member who ordered again moves up against the same cuts.
        let moved = input("m01", 960, 2, 900);
        assert_eq!(cuts.score(&moved, &cfg).r, 5);
    }

    #[test]
    fn no_orders_is_tier_c_and_config_is_checked() {
        let cfg = RfmConfig::default();
        assert_eq!(cfg.tier(0, 0, 0), RfmTier::C);
        assert_eq!(cfg.tier(5, 4, 4), RfmTier::S);
        assert_eq!(cfg.tier(4, 3, 3), RfmTier::A);
        assert_eq!(cfg.tier(3, 2, 2), RfmTier::B);
        assert_eq!(cfg.tier(2, 2, 2), RfmTier::C);
        let (scores, cuts) = score_all(&[], &cfg);
        assert!(scores.is_empty() && cuts.r.is_empty());
        let bad = RfmConfig {
            window_days: 365,
            tiers: TierMins { s: 10, a: 10, b: 7 },
        };
        assert_eq!(bad.validate().unwrap_err().field, "tiers");
    }
}
