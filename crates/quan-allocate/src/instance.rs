//! The instance: members × options with an expected cost and value per pair, in flat columns.

use std::fmt;
use std::ops::Range;

use crate::join::Pairs;
use crate::rows::Run;

/// The choice of a member given no option.
pub const NONE: u8 = u8::MAX;

/// At most this many distinct options in one instance (an option is a `u8`, `NONE` aside).
pub const MAX_OPTIONS: usize = 255;

/// Members × options, grouped by member, in flat columns (no heap allocation per member or
/// row): the member ids are one byte buffer with an end offset per member, and the pairs of
/// member `m` are `starts[m]..starts[m + 1]` of the `option`, `cost` and `value` columns.
///
/// Costs and values are expected amounts (a redemption probability times a face value), so they
/// are fractional; they are kept as `f32` (about 7 significant digits) to halve the memory and
/// the bandwidth of every pass of the solver. The rounding is one-sided, so the stored instance
/// never flatters an allocation: a cost is rounded up and a value down, hence a spend computed
/// on the stored costs is never below what the file's exact costs add up to, an objective never
/// above, and a pair meets a minimum ROI on the stored numbers only if it meets it on the file's.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    ids: Vec<u8>,
    id_ends: Vec<u64>,
    starts: Vec<u32>,
    option: Vec<u8>,
    cost: Vec<f32>,
    value: Vec<f32>,
    options: Vec<String>,
    /// A bit per pair: whether its cost or value was rounded (the file's number is not an
    /// `f32`).
    rounded: Vec<u64>,
}

impl Instance {
    /// How many members (each has at least one pair).
    pub fn members(&self) -> usize {
        self.id_ends.len()
    }

    /// How many member-option pairs.
    pub fn pairs(&self) -> usize {
        self.option.len()
    }

    /// The id of member `m`, as the file gave it.
    pub fn member_id(&self, m: usize) -> &str {
        let start = if m == 0 { 0 } else { self.id_ends[m - 1] } as usize;
        let end = self.id_ends[m] as usize;
        // Every id was pushed as a &str, so the bytes between two ends are valid UTF-8.
        std::str::from_utf8(&self.ids[start..end]).expect("ids are UTF-8")
    }

    pub(crate) fn from_parts(
        ids: Vec<u8>,
        id_ends: Vec<u64>,
        starts: Vec<u32>,
        pairs: Pairs,
        options: Vec<String>,
        rounded: Vec<u64>,
    ) -> Instance {
        Instance {
            ids,
            id_ends,
            starts,
            option: pairs.option,
            cost: pairs.cost,
            value: pairs.value,
            options,
            rounded,
        }
    }

    /// The bytes of member `m`'s id.
    #[inline]
    pub(crate) fn id_bytes(&self, m: usize) -> &[u8] {
        let start = if m == 0 { 0 } else { self.id_ends[m - 1] } as usize;
        &self.ids[start..self.id_ends[m] as usize]
    }

    /// The distinct options, in order of first appearance; an option index is a position here.
    pub fn options(&self) -> &[String] {
        &self.options
    }

    /// The index of the option named `name`.
    pub fn option_index(&self, name: &str) -> Option<u8> {
        self.options.iter().position(|o| o == name).map(|i| i as u8)
    }

    /// The pairs of member `m`, as indices into [`Instance::option`], [`Instance::cost`] and
    /// [`Instance::value`].
    #[inline]
    pub fn pairs_of(&self, m: usize) -> Range<usize> {
        self.starts[m] as usize..self.starts[m + 1] as usize
    }

    /// The option of each pair.
    pub fn option(&self) -> &[u8] {
        &self.option
    }

    /// The expected cost of each pair (rounded up to `f32`).
    pub fn cost(&self) -> &[f32] {
        &self.cost
    }

    /// The expected incremental value of each pair (rounded down to `f32`).
    pub fn value(&self) -> &[f32] {
        &self.value
    }

    /// Whether pair `j`'s cost or value was rounded: the file's number is not an `f32`, so the
    /// stored one is off by less than one `f32` step (up for a cost, down for a value).
    #[inline]
    pub fn rounded(&self, j: usize) -> bool {
        self.rounded[j >> 6] >> (j & 63) & 1 != 0
    }

    /// An instance from rows in memory (tests, small callers); rows numbered from 1.
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = (&'a str, &'a str, f64, f64)>,
    ) -> Result<Instance, InputError> {
        let mut b = Builder::default();
        for (i, (member, option, cost, value)) in rows.into_iter().enumerate() {
            b.push(i as u64 + 1, member, option, cost, value)?;
        }
        Ok(b.finish())
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The header (or the Parquet schema) lacks a column.
    #[error("missing column {0:?}: the file needs member_id, option, cost and value")]
    MissingColumn(&'static str),
    /// A data row is malformed; rows are numbered from 1, the header not counted.
    #[error("row {row}: {reason}")]
    Row { row: u64, reason: Reason },
    /// The file cannot be read at all (not CSV or Parquet, truncated, too large).
    #[error("{0}")]
    File(String),
}

/// What is wrong with a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// A column is empty or null.
    Empty(&'static str),
    /// A number that does not parse.
    Unparsable { column: &'static str, text: String },
    /// NaN or an infinity.
    NotFinite(&'static str),
    /// Finite, but beyond what the solver keeps (|x| > 3.4e38).
    TooLarge(&'static str),
    /// A cost below zero.
    NegativeCost,
    /// The same member and option twice.
    Duplicate { member: String, option: String },
    /// A member whose rows are not all adjacent.
    NotGrouped { member: String },
    /// More than [`MAX_OPTIONS`] distinct options.
    TooManyOptions,
    /// Not valid UTF-8, or the row has the wrong number of fields.
    Malformed(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Empty(c) => write!(f, "{c} is empty"),
            Reason::Unparsable { column, text } => write!(f, "{column} {text:?} is not a number"),
            Reason::NotFinite(c) => write!(f, "{c} is not a finite number"),
            Reason::TooLarge(c) => write!(f, "{c} is too large"),
            Reason::NegativeCost => write!(f, "cost is negative"),
            Reason::Duplicate { member, option } => {
                write!(f, "member {member:?} has option {option:?} twice")
            }
            Reason::NotGrouped { member } => write!(
                f,
                "member {member:?} appeared in earlier rows and again here: the rows of one member must be adjacent (sort the file by member_id)"
            ),
            Reason::TooManyOptions => write!(f, "more than {MAX_OPTIONS} distinct options"),
            Reason::Malformed(m) => write!(f, "{m}"),
        }
    }
}

/// Rounds toward +∞ (`up`) or −∞ into an `f32`; `None` beyond `f32`'s range.
#[inline]
pub(crate) fn to_f32(x: f64, up: bool) -> Option<f32> {
    let f = x as f32;
    if f.is_infinite() {
        return None;
    }
    // The step is taken about half the time, at random: chosen without a branch.
    let off = if up { (f as f64) < x } else { (f as f64) > x };
    let stepped = step(f, up);
    let f = if off { stepped } else { f };
    f.is_finite().then_some(f)
}

/// The next `f32` above (`up`) or below a finite `f`.
#[inline]
pub(crate) fn step(f: f32, up: bool) -> f32 {
    if f == 0.0 {
        let tiny = f32::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let bits = f.to_bits();
    // Away from zero is one more in the magnitude's bits, toward zero one less.
    let away = (f > 0.0) == up;
    f32::from_bits(if away { bits + 1 } else { bits - 1 })
}

/// Builds an [`Instance`] row by row, checking each as it comes ([`crate::rows`] makes the checks
/// every reader shares).
///
/// The file must hold the rows of one member next to each other (any order of members, any
/// order of options within a member). A member seen again after another member is refused, so
/// no member can get two options. While the ids rise (a file sorted by member) that needs no
/// table; after the first id below the one before, ids are interned in an open-addressing table
/// whose slots hold a member's index and 32 bits of its hash (so a probe rarely reads another
/// id), at most 16 bytes per member.
pub struct Builder {
    run: Run,
    pairs: Pairs,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::with_capacity(0)
    }
}

impl Builder {
    /// A builder ready for about `rows` rows (a hint: it grows past it), so that a large file
    /// is not copied as its columns double.
    pub fn with_capacity(rows: usize) -> Self {
        Builder {
            run: Run::new(1, true),
            pairs: Pairs {
                option: Vec::with_capacity(rows),
                cost: Vec::with_capacity(rows),
                value: Vec::with_capacity(rows),
            },
        }
    }

    /// Adds row number `n` (from 1). A refused row is not taken; the builder stays usable.
    pub fn push(
        &mut self,
        n: u64,
        member: &str,
        option: &str,
        cost: f64,
        value: f64,
    ) -> Result<(), InputError> {
        let (o, c, v) = self
            .run
            .push(n, member, option, None, cost, value)
            .map_err(|r| r.error)?;
        self.pairs.option.push(o);
        self.pairs.cost.push(c);
        self.pairs.value.push(v);
        Ok(())
    }

    /// The instance of every row pushed.
    pub fn finish(mut self) -> Instance {
        self.pairs.option.shrink_to_fit();
        self.pairs.cost.shrink_to_fit();
        self.pairs.value.shrink_to_fit();
        let mut inst = self.run.into_instance(self.pairs);
        inst.ids.shrink_to_fit();
        inst.id_ends.shrink_to_fit();
        inst.starts.shrink_to_fit();
        inst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_members_and_interns_options() {
        let i = Instance::from_rows([
            ("a", "x", 1.0, 2.0),
            ("a", "y", 2.0, 3.0),
            ("b", "y", 1.5, 1.0),
        ])
        .unwrap();
        assert_eq!(i.members(), 2);
        assert_eq!(i.pairs(), 3);
        assert_eq!(i.member_id(1), "b");
        assert_eq!(i.options(), ["x", "y"]);
        assert_eq!(i.pairs_of(0), 0..2);
        assert_eq!(i.pairs_of(1), 2..3);
        assert_eq!(i.option()[2], 1);
    }

    #[test]
    fn rounding_never_flatters() {
        let i = Instance::from_rows([("a", "x", 0.1, 0.1)]).unwrap();
        assert!(i.cost()[0] as f64 >= 0.1);
        assert!((i.value()[0] as f64) <= 0.1);
        assert!(i.cost()[0] as f64 - 0.1 < 1e-8);
    }

    #[test]
    fn refuses_bad_rows_with_their_number() {
        type Rows<'a> = &'a [(&'a str, &'a str, f64, f64)];
        let cases: [(Rows, Reason); 6] = [
            (
                &[("a", "x", 1.0, 1.0), ("a", "x", 2.0, 1.0)],
                Reason::Duplicate {
                    member: "a".into(),
                    option: "x".into(),
                },
            ),
            (
                &[
                    ("a", "x", 1.0, 1.0),
                    ("b", "x", 1.0, 1.0),
                    ("a", "y", 1.0, 1.0),
                ],
                Reason::NotGrouped { member: "a".into() },
            ),
            (
                &[("a", "x", 1.0, 1.0), ("b", "x", -1.0, 1.0)],
                Reason::NegativeCost,
            ),
            (
                &[("a", "x", 1.0, 1.0), ("b", "x", 1.0, f64::NAN)],
                Reason::NotFinite("value"),
            ),
            (
                &[("a", "x", 1.0, 1.0), ("b", "x", f64::INFINITY, 1.0)],
                Reason::NotFinite("cost"),
            ),
            (
                &[("a", "x", 1.0, 1.0), ("b", "x", 1e300, 1.0)],
                Reason::TooLarge("cost"),
            ),
        ];
        for (rows, reason) in cases {
            let n = rows.len() as u64;
            assert_eq!(
                Instance::from_rows(rows.iter().copied()).unwrap_err(),
                InputError::Row { row: n, reason }
            );
        }
    }

    #[test]
    fn many_members_intern_exactly() {
        let ids: Vec<String> = (0..50_000).map(|i| format!("m{i}")).collect();
        let mut b = Builder::default();
        for (i, id) in ids.iter().enumerate() {
            b.push(i as u64 + 1, id, "x", 1.0, 1.0).unwrap();
        }
        // Any earlier member, seen again, is caught however large the table grew.
        let err = b.push(50_001, "m123", "x", 1.0, 1.0).unwrap_err();
        assert!(matches!(
            err,
            InputError::Row {
                row: 50_001,
                reason: Reason::NotGrouped { .. }
            }
        ));
        let i = b.finish();
        assert_eq!(i.members(), 50_000);
        assert_eq!(i.member_id(49_999), "m49999");
    }
}
