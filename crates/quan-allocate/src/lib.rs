//! Budget-constrained coupon allocation (domain.md section 10): for members × options, each pair
//! with an expected cost and an expected incremental value, choose at most one option per member
//! to maximise the total value within a budget, optional per-option stock and an optional
//! minimum ROI per coupon. A multiple-choice knapsack.
//!
//! - [`instance`]: the [`Instance`], pairs in flat columns grouped by member (an option index
//!   `u8`, cost and value `f32`, member ids in one buffer), about 9 bytes a pair and 12 a member,
//!   and the [`Builder`] that checks every row, whichever reader it came from.
//! - [`read`]: streaming CSV and Parquet readers that refuse a malformed file with its row number
//!   and [`Reason`].
//! - [`solve`]: the solver (`solve/dual.rs` the multipliers and passes, `solve/finish.rs` the
//!   exact finish). The budget and each stocked option get a Lagrange multiplier; for
//!   fixed multipliers each member independently takes the option of best reduced value
//!   `value − λ·cost − μ_option` (or nothing), one parallel pass over the members (rayon). The
//!   dual function is minimised along each multiplier in turn by false position alternated with
//!   bisection. Every pass gives a true upper bound on the LP relaxation (weak duality, for any
//!   multipliers ≥ 0), and the least is reported, so the gap is honest. The primal allocation at
//!   the final multipliers is repaired (stock) and filled greedily (budget left), then an exact
//!   finish fixes every member whose alternatives would cost the bound more than the gap and
//!   searches the rest by branch and bound; on small instances that makes the answer optimal.
//!
//! Money in the domain core is integral minor units; here costs and values are *expected*
//! amounts (a probability times a face value), inherently fractional, so they are floating
//! point, rounded so the stored instance never flatters an allocation ([`Instance`]).
//! Nothing here does I/O beyond reading what the caller hands in.

pub mod instance;
pub mod read;
pub mod solve;

pub use instance::{Builder, InputError, Instance, Reason, MAX_OPTIONS, NONE};
pub use solve::{solve, solve_with, Allocation, ConstraintError, Constraints, Settings};
