//! Who is a member (buying is not joining): the facts a claim reads, what a profile write did,
//! and the SQL by which a signup reaches a customer's row.
//!
//! A `members` row is a customer. One who joined (created or put as a member, a `signup`, a
//! member import) has a join time and is a member; one known only from orders (ingested, or a
//! paid checkout order) has none, but keeps its history, aggregates and RFM. Joining later
//! gives the row its join time and keeps the rest.

use jiff::Timestamp;
use quan_core::claim::MemberFacts;

use super::{MemberProfile, Written};

/// The columns of a customer's row that a claim reads, in [`FactsRow`] order.
pub(crate) const FACTS_COLS: &str = "joined_at, tier, paid_orders";

/// A customer's row as a claim reads it ([`FACTS_COLS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FactsRow {
    /// `None`: a buyer known only from orders, who never joined.
    pub joined_at: Option<Timestamp>,
    pub tier: Option<String>,
    pub paid_orders: i64,
}

/// The facts a claim is decided on, the one place both backends make them: a member is a
/// customer with a join time; a buyer who never joined keeps its orders (`new` / `returning`
/// audiences read them) but is no member and has no join time (`member_only`, `new_members`);
/// `row` is `None` for a user quan has no row of.
pub(crate) fn member_facts(row: Option<FactsRow>, in_segment: bool) -> MemberFacts {
    match row {
        Some(r) => MemberFacts {
            is_member: r.joined_at.is_some(),
            joined_at: r.joined_at,
            tier: r.tier,
            paid_orders: r.paid_orders,
            in_segment,
        },
        None => MemberFacts {
            in_segment,
            ..MemberFacts::default()
        },
    }
}

/// What writing the profile `new` over `before` (the stored profile, when the customer has a
/// row) does: `Unchanged` for the same profile; `Inserted` when it makes a member of one who was
/// none (no row, or a buyer who never joined: a new member); else `Updated`.
pub fn profile_written(before: Option<&MemberProfile>, new: &MemberProfile) -> Written {
    match before {
        Some(b) if b == new => Written::Unchanged,
        Some(b) if b.joined_at.is_some() || new.joined_at.is_none() => Written::Updated,
        _ => Written::Inserted,
    }
}

/// The SQL of a `signup` (binds: the user, the event's time, now): a new customer is created
/// joined at the event's time, a buyer who never joined joins then, and a member keeps its join
/// time. `ph(n)` writes the n-th placeholder of the backend.
pub(crate) const SIGNUP_SQL: &str = "INSERT INTO members (id, joined_at, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET joined_at = excluded.joined_at, updated_at = excluded.updated_at \
     WHERE members.joined_at IS NULL";

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(joined_at: Option<Timestamp>, points: i64) -> MemberProfile {
        MemberProfile {
            id: "ana".into(),
            joined_at,
            tier: None,
            region: None,
            channel: None,
            guide_id: None,
            points,
            tags: vec![],
            attributes: serde_json::json!({}),
        }
    }

    #[test]
    fn a_member_is_one_who_joined() {
        let joined = Some(Timestamp::UNIX_EPOCH);
        let row = |joined_at| FactsRow {
            joined_at,
            tier: None,
            paid_orders: 3,
        };
        let buyer = member_facts(Some(row(None)), false);
        assert_eq!(
            (buyer.is_member, buyer.joined_at, buyer.paid_orders),
            (false, None, 3)
        );
        let member = member_facts(Some(row(joined)), true);
        assert_eq!(
            (member.is_member, member.joined_at, member.in_segment),
            (true, joined, true)
        );
        assert_eq!(member_facts(None, false), MemberFacts::default());
    }

    #[test]
    fn joining_is_a_new_member() {
        use Written::*;
        let (buyer, member) = (profile(None, 0), profile(Some(Timestamp::UNIX_EPOCH), 0));
        let richer = profile(Some(Timestamp::UNIX_EPOCH), 5);
        let cases = [
            (None, &member, Inserted),
            (None, &buyer, Inserted),
            (Some(&buyer), &member, Inserted),
            (Some(&member), &member, Unchanged),
            (Some(&member), &richer, Updated),
            (Some(&member), &buyer, Updated),
            (Some(&buyer), &profile(None, 5), Updated),
        ];
        for (before, new, want) in cases {
            assert_eq!(profile_written(before, new), want, "{before:?} -> {new:?}");
        }
    }
}
