//! Budget-constrained coupon allocation (docs/DOMAIN.md section 10): for members × options,
//! each pair with an expected cost and an expected incremental value, choose at most one option
//! per member to maximise the total value within a budget, optional per-option stock and an
//! optional minimum ROI per coupon. A multiple-choice knapsack.
//!
//! - [`instance`]: the [`Instance`], pairs in flat columns grouped by member (an option index
//!   `u8`, cost and value `f32`, a bit for whether they were rounded, member ids in one buffer),
//!   about 9 bytes a pair and 12 a member, and the [`Builder`] that checks rows one by one.
//! - `rows.rs`: the checks of every row, whichever reader it came from, over a run of rows;
//!   `join.rs`: runs read apart (Parquet row groups) joined, with the checks that span them.
//! - [`read`]: CSV and Parquet readers (Parquet row groups in parallel) that refuse a malformed
//!   file with its row number and [`Reason`], as reading it row by row would.
//! - [`solve`]: the solver (`solve/dual.rs` the multipliers and passes, `solve/finish.rs` the
//!   exact finish). The budget and each stocked option get a Lagrange multiplier; for
//!   fixed multipliers each member independently takes the option of best reduced value
//!   `value − λ·cost − μ_option` (or nothing), one parallel pass over the members (rayon). The
//!   dual function is minimised along each multiplier in turn by false position alternated with
//!   bisection, from a sample's answer on a large instance; once the bracket is found, passes
//!   look only at the members whose choice differs between its ends. Every pass gives a true
//!   upper bound on the LP relaxation (weak duality, for any multipliers ≥ 0); at the least one
//!   the bound is evaluated over the file's own numbers (the stored ones widened by their
//!   rounding, and the arithmetic's own rounding added), so the gap is honest for the file. The primal allocation at
//!   the final multipliers is repaired (stock) and filled greedily (budget left), then an exact
//!   finish fixes every member whose alternatives would cost the bound more than the gap and
//!   searches the rest by branch and bound; on small instances that makes the answer optimal.
//!
//! Money in the domain core is integral minor units; here costs and values are *expected*
//! amounts (a probability times a face value), inherently fractional, so they are floating
//! point, rounded so the stored instance never flatters an allocation ([`Instance`]).
//! Nothing here does I/O beyond reading what the caller hands in.

pub mod instance;
mod join;
pub mod read;
mod rows;
pub mod solve;

pub use instance::{Builder, InputError, Instance, Reason, MAX_OPTIONS, NONE};
pub use solve::{solve, solve_with, Allocation, ConstraintError, Constraints, Settings};
