//! The dual bound against the LP relaxation solved independently (microlp's simplex), of the
//! numbers as stored and of the file's own numbers.

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use proptest::prelude::*;
use quan_allocate::{solve, solve_with, Constraints, Instance, Settings};

/// A pair of the LP: its member, option, cost and value.
type Pair = (usize, u8, f64, f64);

/// The pairs as the instance stores them (rounded to `f32`).
fn stored(inst: &Instance) -> Vec<Pair> {
    (0..inst.members())
        .flat_map(|m| {
            inst.pairs_of(m).map(move |j| {
                (
                    m,
                    inst.option()[j],
                    inst.cost()[j] as f64,
                    inst.value()[j] as f64,
                )
            })
        })
        .collect()
}

/// The pairs with the file's own numbers (`f64`, not rounded).
fn file(inst: &Instance, rows: &Rows) -> Vec<Pair> {
    let mut member = 0;
    rows.iter()
        .enumerate()
        .map(|(i, (m, o, c, v))| {
            if i > 0 && rows[i - 1].0 != *m {
                member += 1;
            }
            assert_eq!(inst.member_id(member), m);
            (member, inst.option_index(o).unwrap(), *c, *v)
        })
        .collect()
}

/// The LP relaxation: 0 ≤ x ≤ 1 per eligible pair, Σ x ≤ 1 per member, Σ c·x ≤ budget,
/// Σ x ≤ stock per stocked option; maximise Σ v·x. Eligible: value > 0 and value ≥ ROI × cost.
fn lp(pairs: &[Pair], c: &Constraints) -> f64 {
    let mut p = Problem::new(OptimizationDirection::Maximize);
    let mut budget = Vec::new();
    let mut stock: Vec<Vec<_>> = vec![Vec::new(); c.stock().len()];
    let mut one: Vec<Vec<_>> = Vec::new();
    for &(m, o, cost, value) in pairs {
        if !(value > 0.0 && value >= c.min_roi() * cost) {
            continue;
        }
        let x = p.add_var(value, (0.0, 1.0));
        if one.len() <= m {
            one.resize(m + 1, Vec::new());
        }
        one[m].push((x, 1.0));
        budget.push((x, cost));
        if let Some(k) = c.stock().iter().position(|&(s, _)| s == o) {
            stock[k].push((x, 1.0));
        }
    }
    for vars in one.iter().filter(|v| !v.is_empty()) {
        p.add_constraint(vars, ComparisonOp::Le, 1.0);
    }
    if budget.is_empty() {
        return 0.0;
    }
    p.add_constraint(&budget, ComparisonOp::Le, c.budget());
    for (k, vars) in stock.iter().enumerate() {
        if !vars.is_empty() {
            p.add_constraint(vars, ComparisonOp::Le, c.stock()[k].1 as f64);
        }
    }
    p.solve()
        .expect("the relaxation is feasible (x = 0)")
        .objective()
}

type Rows = Vec<(String, String, f64, f64)>;

fn instance() -> impl Strategy<Value = (Rows, f64, Vec<Option<u64>>, f64)> {
    let member = prop::collection::vec(
        prop::option::weighted(0.8, (0.0f64..40.0, -5.0f64..100.0)),
        4,
    );
    (
        prop::collection::vec(member, 1..=40),
        0.0f64..800.0,
        prop::collection::vec(prop::option::weighted(0.3, 0u64..=10), 4),
        prop::sample::select(vec![0.0, 0.0, 1.2, 2.0]),
    )
        .prop_map(|(members, budget, stock, roi)| {
            let mut rows = Vec::new();
            for (m, opts) in members.into_iter().enumerate() {
                for (o, pair) in opts.into_iter().enumerate() {
                    if let Some((c, v)) = pair {
                        rows.push((format!("m{m}"), format!("o{o}"), c, v));
                    }
                }
            }
            (rows, budget, stock, roi)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_bound_is_above_the_lp_and_tight_without_stock((rows, budget, stock, roi) in instance()) {
        let inst = Instance::from_rows(rows.iter().map(|(m, o, c, v)| (m.as_str(), o.as_str(), *c, *v))).unwrap();
        let mut c = Constraints::new(budget).unwrap().with_min_roi(roi).unwrap();
        let unstocked = c.clone();
        for (o, s) in stock.iter().enumerate() {
            let name = format!("o{o}");
            if let (Some(n), Some(_)) = (s, inst.option_index(&name)) {
                c = c.with_stock(&inst, &name, *n).unwrap();
            }
        }
        let (stored, file) = (stored(&inst), file(&inst, &rows));
        // Σ over members of their largest |value|: what the rounding allowance is relative to.
        let mut largest = vec![0.0f64; inst.members()];
        for &(m, _, _, v) in &file {
            largest[m] = largest[m].max(v.abs());
        }
        let size: f64 = largest.iter().sum();
        let sampled = Settings { sampled: 0, ..Settings::default() };
        for (c, a) in [&unstocked, &c].into_iter().flat_map(|c| [(c, solve(&inst, c)), (c, solve_with(&inst, c, &sampled))]) {
            let relaxed = lp(&stored, c);
            // The file's own numbers: the bound is for them, not only for the rounded ones
            // (which lower the LP optimum by about 1e-7 relative, far more than this tolerance).
            let exact = lp(&file, c);
            let tol = 1e-7 * relaxed.abs().max(1.0);
            prop_assert!(a.upper_bound >= relaxed - tol, "bound {} below the LP optimum {relaxed}", a.upper_bound);
            prop_assert!(a.upper_bound >= exact - 1e-9 * exact.abs().max(1.0), "bound {} below the file's LP optimum {exact}", a.upper_bound);
            prop_assert!(a.objective <= relaxed + tol, "objective {} above the LP optimum {relaxed}", a.objective);
            if c.stock().is_empty() {
                // One multiplier, searched to its crossing: the bound is the LP optimum, up to
                // the allowance for the rounding of the pairs' numbers (relative to them).
                let scale = relaxed.abs().max(size).max(1.0);
                prop_assert!(a.upper_bound <= relaxed + 1e-6 * scale, "bound {} loose against {relaxed}", a.upper_bound);
            }
        }
    }
}
