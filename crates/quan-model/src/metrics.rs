//! How good scores are: AUC, Brier score, expected calibration error, reliability bins.

use serde::Serialize;

/// The area under the ROC curve: the chance that a random positive scores above a random
/// negative, ties counting one half. `None` without both a positive and a negative.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mid-ranks of tied groups (1-based).
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += order[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * mid;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    Some((rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// The mean squared difference between the probability and the outcome.
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(probs.len(), labels.len());
    let sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    sum / probs.len().max(1) as f64
}

/// One bin of a reliability table: predictions in `[lo, hi)` (the last bin includes 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    /// The mean predicted probability in the bin.
    pub predicted: f64,
    /// The share of positives in the bin.
    pub observed: f64,
}

/// `bins` equal-width bins over [0, 1]; empty bins are left out.
pub fn reliability(probs: &[f64], labels: &[bool], bins: usize) -> Vec<Bin> {
    assert_eq!(probs.len(), labels.len());
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (&p, &y) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sums[b].0 += 1;
        sums[b].1 += p;
        sums[b].2 += usize::from(y);
    }
    sums.iter()
        .enumerate()
        .filter(|(_, s)| s.0 > 0)
        .map(|(i, &(count, p, pos))| Bin {
            lo: i as f64 / bins as f64,
            hi: (i + 1) as f64 / bins as f64,
            count,
            predicted: p / count as f64,
            observed: pos as f64 / count as f64,
        })
        .collect()
}

/// Expected calibration error: the count-weighted mean gap between predicted and observed.
pub fn ece(probs: &[f64], labels: &[bool], bins: usize) -> f64 {
    let n = probs.len().max(1) as f64;
    reliability(probs, labels, bins)
        .iter()
        .map(|b| b.count as f64 / n * (b.predicted - b.observed).abs())
        .sum()
}

/// The calibration of a set of predictions, as the backtest reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub brier: f64,
    /// The Brier score of always predicting the base rate, for comparison.
    pub brier_base_rate: f64,
    pub ece: f64,
    pub bins: Vec<Bin>,
}

impl Calibration {
    /// Ten equal-width bins.
    pub fn measure(probs: &[f64], labels: &[bool]) -> Self {
        let rate = labels.iter().filter(|&&l| l).count() as f64 / labels.len().max(1) as f64;
        Calibration {
            brier: brier(probs, labels),
            brier_base_rate: brier(&vec![rate; labels.len()], labels),
            ece: ece(probs, labels, 10),
            bins: reliability(probs, labels, 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_known_orderings() {
        let y = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &y), Some(1.0));
        assert_eq!(auc(&[0.4, 0.3, 0.2, 0.1], &y), Some(0.0));
        assert_eq!(auc(&[0.5; 4], &y), Some(0.5), "all tied");
        // Positives at 0.2 and 0.4, negatives at 0.1 and 0.3: three of the four pairs in order.
        assert_eq!(auc(&[0.1, 0.3, 0.2, 0.4], &y), Some(0.75));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn brier_and_ece_by_hand() {
        let y = [true, false, true, false];
        assert!((brier(&[1.0, 0.0, 1.0, 0.0], &y)).abs() < 1e-12);
        assert!((brier(&[0.5; 4], &y) - 0.25).abs() < 1e-12);
        // All at 0.5 in one bin, observed 0.5: no calibration error.
        assert!(ece(&[0.5; 4], &y, 10).abs() < 1e-12);
        // All at 0.9, observed 0.5: error 0.4.
        assert!((ece(&[0.9; 4], &y, 10) - 0.4).abs() < 1e-12);
        let bins = reliability(&[0.05, 0.95, 0.95, 1.0], &y, 10);
        assert_eq!(bins.len(), 2);
        assert_eq!((bins[1].count, bins[1].observed), (3, 1.0 / 3.0));
    }
}
