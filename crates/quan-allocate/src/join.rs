//! Runs joined into an [`Instance`] as they come, in order, with the checks that span runs:
//! options numbered by first appearance in the file, a member whose rows go on from one run
//! into the next, and a member seen again in a later run.
//!
//! Each run checked its own rows as a sequential reader would have, given the rows before it;
//! what it could not see (the runs before it) is checked here, and of all the refusals the
//! earliest row wins, among a row's refusals the check a sequential reader makes first. So the
//! file is refused exactly as reading it row by row would refuse it. A run's members are
//! appended to the instance's columns and the run dropped as soon as the runs before it are
//! in, so a file's members are not held twice.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::instance::{InputError, Instance, Reason, MAX_OPTIONS, NONE};
use crate::rows::{Refusal, Run, MEMBER, OPTIONS};

/// The pairs of every row of the file, as the readers wrote them; a run's rows are
/// `first_row − 1 ..` of these.
pub(crate) struct Pairs {
    pub(crate) option: Vec<u8>,
    pub(crate) cost: Vec<f32>,
    pub(crate) value: Vec<f32>,
}

impl Run {
    /// The instance of a run that is the whole file and checked grouping itself: its local
    /// options are the file's, nothing to join.
    pub(crate) fn into_instance(self, pairs: Pairs) -> Instance {
        let mut starts = self.starts;
        starts.push(if starts.is_empty() {
            0
        } else {
            self.rows as u32
        });
        let (ids, ends, options, rounded) = (self.ids, self.id_ends, self.options, self.rounded);
        Instance::from_parts(ids, ends, starts, pairs, options, rounded)
    }
}

/// The file's columns so far, from the runs joined.
#[derive(Default)]
pub(crate) struct Joiner {
    /// Rows in the file, for the room the columns are given once the first run is in.
    file_rows: usize,
    ids: Vec<u8>,
    id_ends: Vec<u64>,
    starts: Vec<u32>,
    rounded: Vec<u64>,
    rows: u64,
    options: Vec<String>,
    index: HashMap<String, u8>,
    /// The last member so far: its id and its options (as bits).
    open: Option<(Vec<u8>, [u64; 4])>,
    /// Whether every id so far is above the one before it.
    unsorted: bool,
    refused: Option<Refusal>,
}

impl Joiner {
    /// A joiner for a file of `rows` rows.
    pub(crate) fn new(rows: usize) -> Self {
        let mut j = Joiner {
            file_rows: rows,
            ..Joiner::default()
        };
        j.rounded.reserve(rows.div_ceil(64) + 1);
        j
    }

    fn refuse(&mut self, r: Refusal) {
        self.refused = Refusal::first(self.refused.take(), Some(r));
    }

    /// Whether nothing from row `row` on can change the outcome (an earlier row is refused).
    pub(crate) fn moot(&self, row: u64) -> bool {
        self.first_refused() < row
    }

    /// The first refused row so far (`u64::MAX` for none).
    pub(crate) fn first_refused(&self) -> u64 {
        self.refused.as_ref().map_or(u64::MAX, |r| r.row)
    }

    /// Joins the next run; `option` is its rows' options (local indices, renumbered here).
    pub(crate) fn push(&mut self, mut run: Run, option: &mut [u8]) {
        if self.moot(run.first_row) {
            return;
        }
        if let Some(r) = run.refused.take() {
            self.refuse(r);
        }
        // The run's options numbered as the file's.
        let mut remap = Vec::with_capacity(run.options.len());
        for (name, &row) in run.options.iter().zip(&run.option_rows) {
            let o = match self.index.get(name) {
                Some(&o) => o,
                None if self.options.len() >= MAX_OPTIONS => {
                    self.refuse(Refusal::new(row, OPTIONS, Reason::TooManyOptions));
                    NONE
                }
                None => {
                    let o = self.options.len() as u8;
                    self.options.push(name.clone());
                    self.index.insert(name.clone(), o);
                    o
                }
            };
            remap.push(o);
        }
        let option = &mut option[..run.rows];
        if remap.iter().enumerate().any(|(i, &o)| o as usize != i) {
            for o in option.iter_mut() {
                *o = remap[*o as usize];
            }
        }
        if run.members() == 0 {
            return;
        }
        // A member going on from the run before: its options there and here must differ.
        let mut first = 0;
        if let Some((last, set)) = &mut self.open {
            if run.id(0) == last.as_slice() {
                first = 1;
                for i in run.rows_of(0) {
                    let o = option[i];
                    if set[o as usize >> 6] & (1 << (o & 63)) != 0 {
                        let reason = Reason::Duplicate {
                            member: String::from_utf8_lossy(last).into_owned(),
                            option: self.options.get(o as usize).cloned().unwrap_or_default(),
                        };
                        let r = Refusal::new(run.first_row + i as u64, MEMBER, reason);
                        self.refused = Refusal::first(self.refused.take(), Some(r));
                        break;
                    }
                    set[o as usize >> 6] |= 1 << (o & 63);
                }
            } else if run.id(0) < last.as_slice() {
                self.unsorted = true;
            }
        }
        self.unsorted |= !run.sorted;
        // The run's members appended (the first counted once if it goes on).
        if self.ids.capacity() == 0 {
            // Room for the file at this run's members and id bytes per row, with a margin (the
            // columns grow past it if need be).
            let share = self.file_rows as f64 / run.rows.max(1) as f64 * 1.25;
            self.ids
                .reserve((run.ids.len() as f64 * share) as usize + 4096);
            let members = (run.members() as f64 * share) as usize + 1024;
            self.id_ends.reserve(members.min(self.file_rows));
            self.starts.reserve(members.min(self.file_rows) + 1);
        }
        let skip = if first == 1 {
            run.id_ends[0] as usize
        } else {
            0
        };
        let at = self.ids.len() as u64 - skip as u64;
        self.ids.extend_from_slice(&run.ids[skip..]);
        self.id_ends
            .extend(run.id_ends[first..].iter().map(|&e| at + e));
        let off = (run.first_row - 1) as u32;
        self.starts
            .extend(run.starts[first..].iter().map(|&s| off + s));
        if run.members() > first {
            let m = run.members() - 1;
            let mut set = [0u64; 4];
            for i in run.rows_of(m) {
                let o = option[i];
                set[o as usize >> 6] |= 1 << (o & 63);
            }
            self.open = Some((run.id(m).to_vec(), set));
        }
        // The rounding bits, shifted to the run's place.
        let (word, shift) = ((off as usize) >> 6, off & 63);
        let words = (off as usize + run.rows).div_ceil(64);
        if self.rounded.len() < words {
            self.rounded.resize(words, 0);
        }
        for (i, &w) in run.rounded.iter().enumerate() {
            self.rounded[word + i] |= w << shift;
            if shift != 0 && w >> (64 - shift) != 0 {
                self.rounded[word + i + 1] |= w >> (64 - shift);
            }
        }
        self.rows = run.first_row - 1 + run.rows as u64;
    }

    /// The instance of the runs joined, or the file's first refused row.
    pub(crate) fn finish(mut self, pairs: Pairs) -> Result<Instance, InputError> {
        self.starts.push(self.rows as u32);
        let inst = Instance::from_parts(
            self.ids,
            self.id_ends,
            self.starts,
            pairs,
            self.options,
            self.rounded,
        );
        if self.unsorted {
            if let Some(m) = regrouped(&inst) {
                let reason = Reason::NotGrouped {
                    member: inst.member_id(m).into(),
                };
                let r = Refusal::new(inst.pairs_of(m).start as u64 + 1, MEMBER, reason);
                self.refused = Refusal::first(self.refused.take(), Some(r));
            }
        }
        match self.refused {
            Some(r) => Err(r.error),
            None => Ok(inst),
        }
    }
}

/// The first member (by index) whose id an earlier member has too, by a table shared by the
/// threads: a slot holds 32 bits of an id's hash and the least index seen with that id, so
/// whichever order the threads insert in, every later occurrence of an id is reported.
fn regrouped(inst: &Instance) -> Option<usize> {
    use rayon::prelude::*;
    const EMPTY: u64 = u64::MAX;
    let slots = (inst.members() * 2).next_power_of_two().max(64);
    let table: Vec<AtomicU64> = (0..slots).map(|_| AtomicU64::new(EMPTY)).collect();
    let mask = slots - 1;
    let hasher = RandomState::new();
    let insert = |m: usize| -> Option<usize> {
        let id = inst.id_bytes(m);
        let hash = hasher.hash_one(id);
        let mine = (hash >> 32) << 32 | m as u64;
        let mut s = hash as usize & mask;
        loop {
            let cur = table[s].load(Ordering::Acquire);
            if cur == EMPTY {
                match table[s].compare_exchange(EMPTY, mine, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return None,
                    Err(_) => continue,
                }
            }
            let other = cur as u32 as usize;
            if cur >> 32 == hash >> 32 && inst.id_bytes(other) == id {
                if other < m {
                    return Some(m);
                }
                match table[s].compare_exchange(cur, mine, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(other),
                    Err(_) => continue,
                }
            }
            s = (s + 1) & mask;
        }
    };
    (0..inst.members())
        .into_par_iter()
        .with_min_len(1 << 12)
        .filter_map(insert)
        .min()
}
