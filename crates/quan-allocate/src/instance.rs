//! The instance: members × options with an expected cost and value per pair, in flat columns.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Range;

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

    /// The bytes of member `m`'s id.
    #[inline]
    fn id_bytes(&self, m: usize) -> &[u8] {
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

fn row(row: u64, reason: Reason) -> InputError {
    InputError::Row { row, reason }
}

/// Rounds toward +∞ (`up`) or −∞ into an `f32`; `None` beyond `f32`'s range.
fn to_f32(x: f64, up: bool) -> Option<f32> {
    let f = x as f32;
    if f.is_infinite() {
        return None;
    }
    let f = if up && (f as f64) < x {
        step(f, true)
    } else if !up && (f as f64) > x {
        step(f, false)
    } else {
        f
    };
    f.is_finite().then_some(f)
}

/// The next `f32` above (`up`) or below a finite `f`.
fn step(f: f32, up: bool) -> f32 {
    if f == 0.0 {
        let tiny = f32::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let bits = f.to_bits();
    // Away from zero is one more in the magnitude's bits, toward zero one less.
    let away = (f > 0.0) == up;
    f32::from_bits(if away { bits + 1 } else { bits - 1 })
}

/// An empty slot of the member table.
const EMPTY: u64 = u64::MAX;

/// Builds an [`Instance`] row by row, checking each: the one place a row is judged, whichever
/// reader it came from.
///
/// The file must hold the rows of one member next to each other (any order of members, any
/// order of options within a member). A member seen again after another member is refused, so
/// no member can get two options; ids are interned in an open-addressing table whose slots hold
/// a member's index and 32 bits of its hash (so a probe rarely reads another id), at most
/// 16 bytes per member.
pub struct Builder {
    inst: Instance,
    table: Vec<u64>,
    hasher: std::collections::hash_map::RandomState,
    option_of: HashMap<String, u8>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            inst: Instance {
                starts: vec![0],
                ..Instance::default()
            },
            table: vec![EMPTY; 1024],
            hasher: Default::default(),
            option_of: HashMap::new(),
        }
    }
}

impl Builder {
    /// A builder ready for about `rows` rows (a hint: it grows past it), so that a large file
    /// is not copied as its columns double.
    pub fn with_capacity(rows: usize) -> Self {
        let mut b = Builder::default();
        b.inst.option.reserve_exact(rows);
        b.inst.cost.reserve_exact(rows);
        b.inst.value.reserve_exact(rows);
        b
    }

    /// Adds row number `n` (from 1).
    pub fn push(
        &mut self,
        n: u64,
        member: &str,
        option: &str,
        cost: f64,
        value: f64,
    ) -> Result<(), InputError> {
        if member.is_empty() {
            return Err(row(n, Reason::Empty("member_id")));
        }
        if option.is_empty() {
            return Err(row(n, Reason::Empty("option")));
        }
        if !cost.is_finite() {
            return Err(row(n, Reason::NotFinite("cost")));
        }
        if !value.is_finite() {
            return Err(row(n, Reason::NotFinite("value")));
        }
        if cost < 0.0 {
            return Err(row(n, Reason::NegativeCost));
        }
        let cost = to_f32(cost, true).ok_or_else(|| row(n, Reason::TooLarge("cost")))?;
        let value = to_f32(value, false).ok_or_else(|| row(n, Reason::TooLarge("value")))?;
        if self.inst.pairs() >= u32::MAX as usize {
            return Err(InputError::File("more than 4,294,967,294 rows".into()));
        }
        // Few options (the usual case): a scan beats hashing the name on every row.
        let known = if self.inst.options.len() <= 16 {
            self.inst
                .options
                .iter()
                .position(|x| x == option)
                .map(|i| i as u8)
        } else {
            self.option_of.get(option).copied()
        };
        let o = match known {
            Some(o) => o,
            None => {
                if self.inst.options.len() >= MAX_OPTIONS {
                    return Err(row(n, Reason::TooManyOptions));
                }
                let o = self.inst.options.len() as u8;
                self.inst.options.push(option.to_string());
                self.option_of.insert(option.to_string(), o);
                o
            }
        };
        let members = self.inst.members();
        let same = members > 0 && self.inst.id_bytes(members - 1) == member.as_bytes();
        if same {
            let range = self.inst.starts[members - 1] as usize..self.inst.pairs();
            if self.inst.option[range].contains(&o) {
                return Err(row(
                    n,
                    Reason::Duplicate {
                        member: member.into(),
                        option: option.into(),
                    },
                ));
            }
        } else {
            let hash = self.hasher.hash_one(member);
            if self.find(member, hash).is_some() {
                return Err(row(
                    n,
                    Reason::NotGrouped {
                        member: member.into(),
                    },
                ));
            }
            if members > 0 {
                self.inst.starts.push(self.inst.pairs() as u32);
            }
            self.intern(member, hash);
        }
        self.inst.option.push(o);
        self.inst.cost.push(cost);
        self.inst.value.push(value);
        Ok(())
    }

    /// The instance of every row pushed.
    pub fn finish(mut self) -> Instance {
        if self.inst.members() > 0 {
            self.inst.starts.push(self.inst.pairs() as u32);
        }
        self.inst.ids.shrink_to_fit();
        self.inst.id_ends.shrink_to_fit();
        self.inst.starts.shrink_to_fit();
        self.inst.option.shrink_to_fit();
        self.inst.cost.shrink_to_fit();
        self.inst.value.shrink_to_fit();
        self.inst
    }

    fn find(&self, id: &str, hash: u64) -> Option<u32> {
        let mask = self.table.len() - 1;
        let tag = hash >> 32;
        let mut s = hash as usize & mask;
        loop {
            match self.table[s] {
                EMPTY => return None,
                t if t >> 32 == tag && self.inst.id_bytes(t as u32 as usize) == id.as_bytes() => {
                    return Some(t as u32)
                }
                _ => s = (s + 1) & mask,
            }
        }
    }

    fn intern(&mut self, id: &str, hash: u64) {
        let m = self.inst.members() as u32;
        self.inst.ids.extend_from_slice(id.as_bytes());
        self.inst.id_ends.push(self.inst.ids.len() as u64);
        if (m as usize + 1) * 4 > self.table.len() * 3 {
            // Grow to keep the load under 3/4: re-place every member.
            self.table = vec![EMPTY; self.table.len() * 2];
            for i in 0..m {
                let h = self.hasher.hash_one(self.inst.member_id(i as usize));
                self.place(i, h);
            }
        }
        self.place(m, hash);
    }

    fn place(&mut self, m: u32, hash: u64) {
        let mask = self.table.len() - 1;
        let mut s = hash as usize & mask;
        while self.table[s] != EMPTY {
            s = (s + 1) & mask;
        }
        self.table[s] = (hash >> 32) << 32 | m as u64;
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
