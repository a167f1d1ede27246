//! Isotonic calibration: a monotone map from raw scores to probabilities (pool adjacent violators).

use serde::{Deserialize, Serialize};

/// A non-decreasing piecewise-linear map from raw scores to probabilities, fitted by pool
/// adjacent violators on a held-out fold. Between the knots it interpolates, so distinct
/// raw scores mostly stay distinct (the ranking, and so the AUC, survives calibration);
/// outside them it is flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isotonic {
    /// Knots: the mean raw score of each pooled block, increasing.
    pub x: Vec<f64>,
    /// The share of positives of each block, non-decreasing.
    pub y: Vec<f64>,
}

impl Isotonic {
    /// Fits on (raw score, outcome) pairs. Panics on an empty fold.
    pub fn fit(scores: &[f64], labels: &[bool]) -> Self {
        assert_eq!(scores.len(), labels.len());
        assert!(!scores.is_empty(), "isotonic calibration needs a fold");
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        // Blocks of (sum of x, sum of y, weight); equal scores start in one block.
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        let mut last: Option<f64> = None;
        for &i in &order {
            let (x, y) = (scores[i], f64::from(u8::from(labels[i])));
            match (last, blocks.last_mut()) {
                (Some(l), Some(b)) if l == x => {
                    b.0 += x;
                    b.1 += y;
                    b.2 += 1.0;
                }
                _ => blocks.push((x, y, 1.0)),
            }
            last = Some(x);
            // Pool while the last block's mean falls below the one before it.
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 <= b.1 / b.2 {
                    break;
                }
                blocks.pop();
                blocks[n - 2] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
            }
        }
        Isotonic {
            x: blocks.iter().map(|b| b.0 / b.2).collect(),
            y: blocks.iter().map(|b| b.1 / b.2).collect(),
        }
    }

    /// The calibrated probability of a raw score.
    pub fn apply(&self, s: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        if s.is_nan() || x.is_empty() {
            return f64::NAN;
        }
        if s <= x[0] {
            return y[0];
        }
        let n = x.len();
        if s >= x[n - 1] {
            return y[n - 1];
        }
        let j = x.partition_point(|&k| k <= s);
        let (x0, x1, y0, y1) = (x[j - 1], x[j], y[j - 1], y[j]);
        y0 + (y1 - y0) * (s - x0) / (x1 - x0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_violators_and_stays_monotone() {
        let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let y = [false, true, false, false, true, true];
        let iso = Isotonic::fit(&s, &y);
        assert!(iso.y.windows(2).all(|w| w[0] <= w[1]), "{iso:?}");
        assert!(iso.x.windows(2).all(|w| w[0] < w[1]), "{iso:?}");
        // 0.2, 0.3, 0.4 (1 of 3) pool into one block: 0.1 is 0, the pool 1/3, then 1 and 1
        // (equal neighbours are not violators).
        assert_eq!(iso.y, vec![0.0, 1.0 / 3.0, 1.0, 1.0]);
        assert_eq!(iso.apply(0.0), 0.0);
        assert!((iso.apply(0.3) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(iso.apply(0.9), 1.0);
        let mid = iso.apply(0.45);
        assert!(mid > 1.0 / 3.0 && mid < 1.0, "interpolated: {mid}");
    }

    #[test]
    fn equal_scores_share_one_probability() {
        let iso = Isotonic::fit(&[0.5, 0.5, 0.5, 0.5], &[true, false, false, false]);
        assert_eq!(iso.y, vec![0.25]);
        assert_eq!(iso.apply(0.1), 0.25);
    }
}
