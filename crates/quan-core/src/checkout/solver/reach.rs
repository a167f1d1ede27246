//! Which sums of per-store losses the stores from `k` on can make, as bitsets (subset sums).
//!
//! A store's *loss* in a configuration is its best merchant money off minus the configuration's.
//! When a platform coupon's lines are whole stores, the base it sees grows by exactly the loss,
//! so "the least loss of the stores left that still reaches the threshold" bounds the search
//! exactly, where a relaxation would let it wander over every near-miss.

/// Achievable loss sums of every suffix of the stores, up to `top` (bit `top` means "`top` or
/// more").
pub(super) struct Reach {
    top: usize,
    words: usize,
    /// `bits[k]`: the sums the stores `k..` can make.
    bits: Vec<Vec<u64>>,
}

impl Reach {
    /// `losses[s]`: the distinct losses store `s` can take (empty: the store does not count).
    pub fn new(losses: &[Vec<i64>], top: usize) -> Reach {
        let words = top / 64 + 1;
        let mut bits = vec![vec![0u64; words]; losses.len() + 1];
        bits[losses.len()][0] = 1;
        for s in (0..losses.len()).rev() {
            let (done, rest) = bits.split_at_mut(s + 1);
            let (dst, src) = (&mut done[s], &rest[0]);
            if losses[s].is_empty() {
                dst.copy_from_slice(src);
                continue;
            }
            for &loss in &losses[s] {
                or_shifted(dst, src, loss.max(0) as usize, top);
            }
        }
        Reach { top, words, bits }
    }

    /// The least sum at least `from` that stores `k..` can make: `Some(from)` at worst when
    /// only "`top` or more" is left to say, `None` when no sum is that large.
    pub fn least_from(&self, k: usize, from: i64) -> Option<i64> {
        let bits = &self.bits[k];
        let from = from.max(0) as usize;
        if from >= self.top {
            let saturated = bits[self.top / 64] >> (self.top % 64) & 1 == 1;
            return saturated.then_some(from as i64);
        }
        let mut w = from / 64;
        let mut word = bits[w] & (!0u64 << (from % 64));
        loop {
            if word != 0 {
                let v = w * 64 + word.trailing_zeros() as usize;
                return Some(v.min(self.top).max(from) as i64);
            }
            w += 1;
            if w == self.words {
                return None;
            }
            word = bits[w];
        }
    }
}

/// `dst |= src << shift`, with every sum past `top` folded into bit `top`.
fn or_shifted(dst: &mut [u64], src: &[u64], shift: usize, top: usize) {
    let words = dst.len();
    let (ws, bs) = (shift / 64, shift % 64);
    for i in (0..words).rev() {
        if i < ws {
            break;
        }
        let j = i - ws;
        let mut v = src[j] << bs;
        if bs > 0 && j > 0 {
            v |= src[j - 1] >> (64 - bs);
        }
        dst[i] |= v;
    }
    // Sums past the last word or past `top`: does src hold any bit at or beyond top - shift?
    let from = top.saturating_sub(shift);
    let overflow = if shift > top {
        src.iter().any(|&w| w != 0)
    } else {
        let w = from / 64;
        (src[w] & (!0u64 << (from % 64))) != 0 || src[w + 1..].iter().any(|&x| x != 0)
    };
    let last = top / 64;
    dst[last] &= if top % 64 == 63 {
        !0
    } else {
        (1u64 << (top % 64 + 1)) - 1
    };
    if overflow {
        dst[last] |= 1u64 << (top % 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(losses: &[Vec<i64>], top: i64) -> Vec<i64> {
        let mut all = vec![0i64];
        for l in losses {
            if l.is_empty() {
                continue;
            }
            all = all
                .iter()
                .flat_map(|a| l.iter().map(move |b| (a + b).min(top)))
                .collect();
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    #[test]
    fn least_sums_match_enumeration() {
        let losses = vec![
            vec![0, 3, 70],
            vec![],
            vec![0, 64, 65, 129],
            vec![0, 1],
            vec![5, 200],
        ];
        for top in [10usize, 63, 64, 100, 127, 128, 300, 1000] {
            let reach = Reach::new(&losses, top);
            let want = sums(&losses, top as i64);
            for from in -3..(top as i64 + 20) {
                let expected = want
                    .iter()
                    .copied()
                    .find(|&v| v >= from.min(top as i64))
                    .map(|v| {
                        if v == top as i64 {
                            from.max(top as i64)
                        } else {
                            v
                        }
                    });
                assert_eq!(reach.least_from(0, from), expected, "top {top} from {from}");
            }
        }
    }
}
