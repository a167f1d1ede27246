//! A batch of writes keyed by id planned as writing them one at a time would: each write sees
//! the stored value, or the batch's own earlier write of the same id.

use std::collections::HashMap;

use super::Written;

/// What a batch does: each write's outcome in the batch's order, and the rows to write (the
/// last written version of each id, in the order ids were first written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<'a, T> {
    pub written: Vec<Written>,
    pub rows: Vec<&'a T>,
}

/// Plans `batch` over `stored` (what is stored under the ids, before the batch): `decide` says
/// what writing one item over what is there does, `after` what an item leaves stored once
/// written (`Inserted` or `Updated`; `Unchanged` and `Conflict` leave it as it was).
pub fn plan<'a, T, S>(
    mut stored: HashMap<String, S>,
    batch: &'a [T],
    id: impl Fn(&T) -> &str,
    mut decide: impl FnMut(Option<&S>, &T) -> Written,
    after: impl Fn(&T) -> S,
) -> Batch<'a, T> {
    let mut written = Vec::with_capacity(batch.len());
    let mut rows: Vec<&'a T> = Vec::new();
    let mut slot: HashMap<&'a str, usize> = HashMap::new();
    for item in batch {
        let key = id(item);
        let w = decide(stored.get(key), item);
        if matches!(w, Written::Inserted | Written::Updated) {
            stored.insert(key.to_string(), after(item));
            match slot.get(key) {
                Some(&i) => rows[i] = item,
                None => {
                    slot.insert(id(item), rows.len());
                    rows.push(item);
                }
            }
        }
        written.push(w);
    }
    Batch { written, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A write of `value` under `id`; the store keeps values, refuses a negative one over a
    /// stored one (a conflict) and leaves an equal one unchanged.
    fn decide(before: Option<&i32>, (_, v): &(String, i32)) -> Written {
        match before {
            None => Written::Inserted,
            Some(b) if b == v => Written::Unchanged,
            Some(_) if *v < 0 => Written::Conflict,
            Some(_) => Written::Updated,
        }
    }

    fn run<'a>(
        stored: &HashMap<String, i32>,
        batch: &'a [(String, i32)],
    ) -> Batch<'a, (String, i32)> {
        plan(stored.clone(), batch, |w| &w.0, decide, |w| w.1)
    }

    proptest! {
        #[test]
        fn a_batch_is_its_writes_one_at_a_time(
            stored in proptest::collection::hash_map("[a-c]", -2i32..3, 0..3),
            batch in proptest::collection::vec(("[a-d]", -2i32..3), 0..12),
        ) {
            let batch: Vec<(String, i32)> = batch;
            let planned = run(&stored, &batch);
            // One at a time: each write planned alone over what the writes before it left.
            let mut state = stored.clone();
            let mut written = Vec::new();
            for w in &batch {
                let one = run(&state, std::slice::from_ref(w));
                for row in &one.rows {
                    state.insert(row.0.clone(), row.1);
                }
                written.extend(one.written);
            }
            prop_assert_eq!(&planned.written, &written);
            // The rows written leave the store as the writes one at a time did.
            let mut after = stored.clone();
            for row in &planned.rows {
                after.insert(row.0.clone(), row.1);
            }
            prop_assert_eq!(after, state);
            // One row per id.
            let mut ids: Vec<&str> = planned.rows.iter().map(|r| r.0.as_str()).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), planned.rows.len());
        }
    }
}
