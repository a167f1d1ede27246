//! The holdout: a stable hashed share of a campaign's audience, recorded but never treated.

use sha2::{Digest, Sha256};

/// Whether `user_id` is held out of `campaign_id` at `holdout_bp` basis points: the first 8
/// bytes of SHA-256(campaign, 0, user) modulo 10,000, below the share. The same pair always
/// answers the same, in every process.
pub fn held_out(campaign_id: &str, user_id: &str, holdout_bp: u32) -> bool {
    if holdout_bp == 0 {
        return false;
    }
    let mut h = Sha256::new();
    h.update(campaign_id.as_bytes());
    h.update([0]);
    h.update(user_id.as_bytes());
    let digest = h.finalize();
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    n % 10_000 < u64::from(holdout_bp)
}

/// Whether `user_id` is in the global holdout at `bp` basis points: kept out of every
/// campaign. Its hash is [`held_out`]'s with an empty campaign id, which no campaign has, so
/// the global holdout is drawn independently of every campaign's own.
pub fn in_global_holdout(user_id: &str, bp: u32) -> bool {
    held_out("", user_id, bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_is_close_to_the_rate_and_stable() {
        let held = (0..100_000)
            .filter(|i| held_out("cmp-1", &format!("u{i}"), 1_000))
            .count();
        assert!((9_500..10_500).contains(&held), "{held}");
        assert_eq!(
            held_out("cmp-1", "u7", 1_000),
            held_out("cmp-1", "u7", 1_000)
        );
        assert!(!held_out("cmp-1", "u7", 0));
        assert!(held_out("cmp-1", "u7", 10_000));
    }

    #[test]
    fn the_global_holdout_is_its_own_draw() {
        let global: Vec<bool> = (0..1000)
            .map(|i| in_global_holdout(&format!("u{i}"), 5_000))
            .collect();
        let campaign: Vec<bool> = (0..1000)
            .map(|i| held_out("a", &format!("u{i}"), 5_000))
            .collect();
        assert_ne!(global, campaign);
        assert!(!in_global_holdout("u1", 0));
    }

    #[test]
    fn campaigns_hold_out_different_members() {
        let a: Vec<bool> = (0..1000)
            .map(|i| held_out("a", &format!("u{i}"), 5_000))
            .collect();
        let b: Vec<bool> = (0..1000)
            .map(|i| held_out("b", &format!("u{i}"), 5_000))
            .collect();
        assert_ne!(a, b);
    }
}
