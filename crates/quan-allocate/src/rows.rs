//! A run of consecutive rows, checked and interned: the per-row checks every reader shares.
//!
//! A reader cuts a file into runs (a Parquet row group, or the whole file) and feeds each run's
//! rows, in order, to a [`Run`]; [`crate::join`] then joins the runs into an [`Instance`]
//! (`crate::Instance`) and makes the checks that span runs. A run stops at its first refused
//! row: any error at a later row cannot be the file's first.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::instance::{to_f32, InputError, Reason, MAX_OPTIONS};

/// A refused row. A row can fail several checks; `rank` orders them as the checks are made, so
/// that among refusals of the same row the one a sequential reader would give wins.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) row: u64,
    pub(crate) rank: u8,
    pub(crate) error: InputError,
}

/// The ranks of the checks, in the order a row is checked.
pub(crate) const FIELD: u8 = 0;
pub(crate) const OPTIONS: u8 = 1;
pub(crate) const MEMBER: u8 = 2;

impl Refusal {
    pub(crate) fn new(row: u64, rank: u8, reason: Reason) -> Self {
        Refusal {
            row,
            rank,
            error: InputError::Row { row, reason },
        }
    }

    /// The earlier of two refusals (by row, then by the order of the checks).
    pub(crate) fn first(a: Option<Refusal>, b: Option<Refusal>) -> Option<Refusal> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if (b.row, b.rank) < (a.row, a.rank) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }
}

/// A member table slot that holds nothing.
const EMPTY: u64 = u64::MAX;

/// The rows of one run: its members (ids in one buffer with an end offset each, and the first
/// row of each, relative to the run), its options by first appearance, and which pairs were
/// rounded. The pairs themselves are written by the reader wherever it keeps them.
pub(crate) struct Run {
    /// The number (from 1) of the run's first row.
    pub(crate) first_row: u64,
    /// Rows taken.
    pub(crate) rows: usize,
    pub(crate) ids: Vec<u8>,
    pub(crate) id_ends: Vec<u64>,
    pub(crate) starts: Vec<u32>,
    /// The run's options in order of first appearance (a local index is a position here), and
    /// the row each first appeared in.
    pub(crate) options: Vec<String>,
    pub(crate) option_rows: Vec<u64>,
    option_of: HashMap<String, u8>,
    /// The options of the last member so far, a bit per local index.
    current: [u64; 4],
    /// Whether every member's id is above the one before it (bytewise): then no member can have
    /// appeared before, without any table.
    pub(crate) sorted: bool,
    /// Whether this run refuses a member seen again after another itself (a whole file in one
    /// run); otherwise joining the runs checks it across all of them.
    regroup: bool,
    /// Once the run is not sorted (and checks regrouping): an open-addressing table of its
    /// members, each slot a member's index and 32 bits of its id's hash.
    table: Vec<u64>,
    hasher: std::collections::hash_map::RandomState,
    /// A bit per row: whether its cost or value was rounded to `f32` (not exact).
    pub(crate) rounded: Vec<u64>,
    /// The first refused row, kept by a reader that stops there.
    pub(crate) refused: Option<Refusal>,
}

impl Run {
    /// A run from row `first_row`; `regroup`: whether it checks alone that members are grouped.
    pub(crate) fn new(first_row: u64, regroup: bool) -> Self {
        Run {
            first_row,
            rows: 0,
            ids: Vec::new(),
            id_ends: Vec::new(),
            starts: Vec::new(),
            options: Vec::new(),
            option_rows: Vec::new(),
            option_of: HashMap::new(),
            current: [0; 4],
            sorted: true,
            regroup,
            table: Vec::new(),
            hasher: Default::default(),
            rounded: Vec::new(),
            refused: None,
        }
    }

    pub(crate) fn members(&self) -> usize {
        self.id_ends.len()
    }

    /// The id bytes of the run's member `m`.
    #[inline]
    pub(crate) fn id(&self, m: usize) -> &[u8] {
        let start = if m == 0 { 0 } else { self.id_ends[m - 1] } as usize;
        &self.ids[start..self.id_ends[m] as usize]
    }

    /// The rows of the run's member `m`, relative to the run.
    pub(crate) fn rows_of(&self, m: usize) -> std::ops::Range<usize> {
        let end = self.starts.get(m + 1).map_or(self.rows, |&s| s as usize);
        self.starts[m] as usize..end
    }

    /// The local index of option `name`, interned if new (refused beyond [`MAX_OPTIONS`]).
    #[inline]
    pub(crate) fn option(&mut self, n: u64, name: &str) -> Result<u8, Reason> {
        // Few options (the usual case): a scan beats hashing the name on every row.
        let known = if self.options.len() <= 16 {
            self.options.iter().position(|x| x == name).map(|i| i as u8)
        } else {
            self.option_of.get(name).copied()
        };
        if let Some(o) = known {
            return Ok(o);
        }
        if self.options.len() >= MAX_OPTIONS {
            return Err(Reason::TooManyOptions);
        }
        let o = self.options.len() as u8;
        self.options.push(name.to_string());
        self.option_rows.push(n);
        self.option_of.insert(name.to_string(), o);
        Ok(o)
    }

    /// Checks row number `n`, the run's next, and takes it: its option's local index and its
    /// cost and value rounded to `f32`, for the caller to keep. `known`: the option's local
    /// index when the caller has it already (a dictionary's value seen before).
    #[inline]
    pub(crate) fn push(
        &mut self,
        n: u64,
        member: &str,
        option: &str,
        known: Option<u8>,
        cost: f64,
        value: f64,
    ) -> Result<(u8, f32, f32), Refusal> {
        let field = |reason| Refusal::new(n, FIELD, reason);
        if member.is_empty() {
            return Err(field(Reason::Empty("member_id")));
        }
        if option.is_empty() {
            return Err(field(Reason::Empty("option")));
        }
        if !cost.is_finite() {
            return Err(field(Reason::NotFinite("cost")));
        }
        if !value.is_finite() {
            return Err(field(Reason::NotFinite("value")));
        }
        if cost < 0.0 {
            return Err(field(Reason::NegativeCost));
        }
        let c = to_f32(cost, true).ok_or_else(|| field(Reason::TooLarge("cost")))?;
        let v = to_f32(value, false).ok_or_else(|| field(Reason::TooLarge("value")))?;
        if self.first_row - 1 + self.rows as u64 >= u32::MAX as u64 {
            return Err(Refusal {
                row: n,
                rank: FIELD,
                error: InputError::File("more than 4,294,967,294 rows".into()),
            });
        }
        let o = match known {
            Some(o) => o,
            None => self
                .option(n, option)
                .map_err(|reason| Refusal::new(n, OPTIONS, reason))?,
        };
        let members = self.members();
        let id = member.as_bytes();
        let (same, above) = match members {
            0 => (false, true),
            _ => match id.cmp(self.id(members - 1)) {
                std::cmp::Ordering::Equal => (true, false),
                o => (false, o == std::cmp::Ordering::Greater),
            },
        };
        let bit = 1u64 << (o & 63);
        if same {
            if self.current[o as usize >> 6] & bit != 0 {
                return Err(Refusal::new(
                    n,
                    MEMBER,
                    Reason::Duplicate {
                        member: member.into(),
                        option: option.into(),
                    },
                ));
            }
        } else {
            if self.regroup && !(self.sorted && above) {
                if self.sorted {
                    self.build_table();
                }
                let hash = self.hasher.hash_one(id);
                if self.find(id, hash) {
                    return Err(Refusal::new(
                        n,
                        MEMBER,
                        Reason::NotGrouped {
                            member: member.into(),
                        },
                    ));
                }
                self.intern(hash);
            }
            self.sorted &= above;
            self.ids.extend_from_slice(id);
            self.id_ends.push(self.ids.len() as u64);
            self.starts.push(self.rows as u32);
            self.current = [0; 4];
        }
        self.current[o as usize >> 6] |= bit;
        if self.rows.is_multiple_of(64) {
            self.rounded.push(0);
        }
        if c as f64 != cost || v as f64 != value {
            self.rounded[self.rows >> 6] |= 1 << (self.rows & 63);
        }
        self.rows += 1;
        Ok((o, c, v))
    }

    /// The table of the members so far, once the run turns out not sorted.
    fn build_table(&mut self) {
        self.table = vec![EMPTY; (self.members() * 2).next_power_of_two().max(1024)];
        for m in 0..self.members() {
            let hash = self.hasher.hash_one(self.id(m));
            self.place(m as u32, hash);
        }
    }

    fn find(&self, id: &[u8], hash: u64) -> bool {
        let mask = self.table.len() - 1;
        let tag = hash >> 32;
        let mut s = hash as usize & mask;
        loop {
            match self.table[s] {
                EMPTY => return false,
                t if t >> 32 == tag && self.id(t as u32 as usize) == id => return true,
                _ => s = (s + 1) & mask,
            }
        }
    }

    /// Enters the member about to be pushed (index `members()`), growing the table to keep its
    /// load under 3/4.
    fn intern(&mut self, hash: u64) {
        let m = self.members() as u32;
        if (m as usize + 1) * 4 > self.table.len() * 3 {
            self.table = vec![EMPTY; self.table.len() * 2];
            for i in 0..m {
                let h = self.hasher.hash_one(self.id(i as usize));
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
