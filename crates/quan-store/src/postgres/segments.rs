//! The placeholder spelling of the postgres statements not yet written once (`scrm`'s SQL).

/// The n-th placeholder of this backend, for the shared SQL of `scrm`.
pub(super) fn ph(n: usize) -> String {
    format!("${n}")
}
