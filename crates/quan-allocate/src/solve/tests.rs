//! The solver against brute force, an LP, and its constraints.

use proptest::prelude::*;

use super::*;
use crate::instance::NONE;

/// The exact optimum by trying every allocation.
fn brute(inst: &Instance, c: &Constraints) -> f64 {
    fn go(inst: &Instance, c: &Constraints, m: usize, left: f64, used: &mut [u64]) -> f64 {
        if m == inst.members() {
            return 0.0;
        }
        let mut best = go(inst, c, m + 1, left, used);
        for j in inst.pairs_of(m) {
            let (cost, value) = (inst.cost()[j], inst.value()[j]);
            let o = inst.option()[j];
            let k = c.stock().iter().position(|&(s, _)| s == o);
            if !c.eligible(cost, value) || cost as f64 > left {
                continue;
            }
            if let Some(k) = k {
                if used[k] >= c.stock()[k].1 {
                    continue;
                }
                used[k] += 1;
            }
            let v = value as f64 + go(inst, c, m + 1, left - cost as f64, used);
            best = best.max(v);
            if let Some(k) = k {
                used[k] -= 1;
            }
        }
        best
    }
    go(inst, c, 0, c.budget(), &mut vec![0; c.stock().len()])
}

/// Checks every limit on an allocation and that its figures are its own.
fn check_feasible(inst: &Instance, c: &Constraints, a: &Allocation) {
    assert_eq!(a.choice.len(), inst.members());
    let (mut value, mut spend, mut chosen) = (0.0, 0.0, 0);
    let mut used = vec![0u64; inst.options().len()];
    for (m, &o) in a.choice.iter().enumerate() {
        if o == NONE {
            continue;
        }
        let j = inst
            .pairs_of(m)
            .find(|&j| inst.option()[j] == o)
            .expect("the member has the option");
        assert!(
            c.eligible(inst.cost()[j], inst.value()[j]),
            "ineligible pair given"
        );
        value += inst.value()[j] as f64;
        spend += inst.cost()[j] as f64;
        chosen += 1;
        used[o as usize] += 1;
    }
    assert!(
        spend <= c.budget(),
        "spend {spend} over budget {}",
        c.budget()
    );
    for &(o, n) in c.stock() {
        assert!(
            used[o as usize] <= n,
            "option {o}: {} given of {n}",
            used[o as usize]
        );
    }
    assert!((value - a.objective).abs() <= 1e-9 * value.abs().max(1.0));
    assert!((spend - a.spend).abs() <= 1e-9 * spend.abs().max(1.0));
    assert_eq!(chosen, a.chosen);
    assert!(a.upper_bound >= a.objective);
}

#[test]
fn the_conformance_example() {
    let inst = Instance::from_rows([
        ("a", "x", 10.0, 30.0),
        ("a", "y", 20.0, 50.0),
        ("b", "x", 10.0, 25.0),
        ("b", "y", 20.0, 28.0),
        ("c", "x", 10.0, 5.0),
    ])
    .unwrap();
    let c = Constraints::new(30.0).unwrap();
    let a = solve(&inst, &c);
    check_feasible(&inst, &c, &a);
    assert_eq!(a.objective, 75.0);
    assert_eq!(a.spend, 30.0);
    assert_eq!(a.choice, [1, 0, NONE]);
    assert!(a.optimal);
    // The LP relaxation: a:y, b:x at 30 is also the LP optimum here.
    assert!((a.upper_bound - 75.0).abs() < 1e-6, "{}", a.upper_bound);
}

#[test]
fn a_budget_that_does_not_bind_gives_everyone_their_best() {
    let inst = Instance::from_rows([
        ("a", "x", 10.0, 30.0),
        ("a", "y", 20.0, 50.0),
        ("b", "x", 10.0, -5.0),
    ])
    .unwrap();
    let a = solve(&inst, &Constraints::new(1000.0).unwrap());
    assert_eq!(a.choice, [1, NONE]);
    assert_eq!((a.objective, a.spend, a.upper_bound), (50.0, 20.0, 50.0));
    assert_eq!(a.gap(), 0.0);
}

#[test]
fn stock_and_min_roi_are_kept() {
    let inst = Instance::from_rows([
        ("a", "x", 1.0, 10.0),
        ("b", "x", 1.0, 9.0),
        ("c", "x", 1.0, 8.0),
        ("c", "y", 4.0, 6.0),
    ])
    .unwrap();
    let c = Constraints::new(100.0)
        .unwrap()
        .with_stock(&inst, "x", 2)
        .unwrap();
    let a = solve(&inst, &c);
    check_feasible(&inst, &c, &a);
    assert_eq!(a.choice, [0, 0, 1]);
    // y returns 1.5 per unit of cost: under a minimum of 2 it is never given.
    let c = c.with_min_roi(2.0).unwrap();
    let a = solve(&inst, &c);
    assert_eq!(a.choice, [0, 0, NONE]);
    assert!(matches!(
        Constraints::new(1.0).unwrap().with_stock(&inst, "z", 1),
        Err(ConstraintError::UnknownOption(_))
    ));
    assert_eq!(Constraints::new(-1.0), Err(ConstraintError::Budget));
    assert_eq!(
        Constraints::new(1.0).unwrap().with_min_roi(f64::NAN),
        Err(ConstraintError::MinRoi)
    );
}

#[test]
fn the_bound_holds_for_the_files_numbers() {
    // 0.1 is no f32: the instance keeps a value a little below and a cost a little above, and
    // the bound is for the file's 0.1 and 0.3.
    let inst = Instance::from_rows([("a", "x", 0.3, 0.1), ("b", "x", 0.3, 0.1)]).unwrap();
    assert!(inst.rounded(0));
    let a = solve(&inst, &Constraints::new(0.3).unwrap());
    assert!(a.objective < 0.1);
    assert!(a.upper_bound >= 0.1, "{}", a.upper_bound);
    assert!(a.upper_bound - 0.1 < 1e-6, "{}", a.upper_bound);
    // Exact numbers need no allowance: the bound is the LP optimum, 1.5 of b's 3.
    let inst = Instance::from_rows([("a", "x", 1.0, 2.0), ("b", "x", 2.0, 3.0)]).unwrap();
    let a = solve(&inst, &Constraints::new(2.0).unwrap());
    assert!(!inst.rounded(0));
    assert!((a.upper_bound - 3.5).abs() < 1e-9, "{}", a.upper_bound);
}

#[test]
fn an_empty_instance_and_a_zero_budget() {
    let a = solve(&Instance::default(), &Constraints::new(5.0).unwrap());
    assert_eq!((a.chosen, a.objective, a.upper_bound), (0, 0.0, 0.0));
    let inst = Instance::from_rows([("a", "x", 1.0, 10.0), ("a", "free", 0.0, 2.0)]).unwrap();
    let a = solve(&inst, &Constraints::new(0.0).unwrap());
    assert_eq!((a.choice[0], a.objective, a.spend), (1, 2.0, 0.0));
}

type Rows = Vec<(String, String, f64, f64)>;

/// Small instances with small integer costs and values: exact arithmetic, so the solver's
/// objective must equal the brute-force optimum exactly.
fn small() -> impl Strategy<Value = (Rows, f64, Vec<Option<u64>>, f64)> {
    let member = prop::collection::vec(prop::option::weighted(0.7, (0u32..=12, -3i32..=25)), 3);
    (
        prop::collection::vec(member, 1..=7),
        0u32..=60,
        prop::collection::vec(prop::option::weighted(0.3, 0u64..=4), 3),
        prop::sample::select(vec![0.0, 0.0, 1.0, 1.5, 2.5]),
    )
        .prop_map(|(members, budget, stock, roi)| {
            let mut rows = Vec::new();
            for (m, opts) in members.into_iter().enumerate() {
                for (o, pair) in opts.into_iter().enumerate() {
                    if let Some((c, v)) = pair {
                        rows.push((format!("m{m}"), format!("o{o}"), c as f64, v as f64));
                    }
                }
            }
            (rows, budget as f64, stock, roi)
        })
}

fn constraints(inst: &Instance, budget: f64, stock: &[Option<u64>], roi: f64) -> Constraints {
    let mut c = Constraints::new(budget).unwrap().with_min_roi(roi).unwrap();
    for (o, s) in stock.iter().enumerate() {
        if let (Some(n), Some(_)) = (s, inst.option_index(&format!("o{o}"))) {
            c = c.with_stock(inst, &format!("o{o}"), *n).unwrap();
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn equals_brute_force_on_small_instances((rows, budget, stock, roi) in small()) {
        let inst = Instance::from_rows(rows.iter().map(|(m, o, c, v)| (m.as_str(), o.as_str(), *c, *v))).unwrap();
        let c = constraints(&inst, budget, &stock, roi);
        let best = brute(&inst, &c);
        // By default, and with the search started from a sample as on a large instance.
        let sampled = Settings { sampled: 0, ..Settings::default() };
        for a in [solve(&inst, &c), solve_with(&inst, &c, &sampled)] {
            check_feasible(&inst, &c, &a);
            prop_assert_eq!(a.objective, best);
            prop_assert!(a.optimal);
            prop_assert!(a.upper_bound >= best - 1e-9);
        }
    }
}

/// Larger instances with fractional numbers: never over budget or stock, the bound above.
fn larger() -> impl Strategy<Value = (Rows, f64, Vec<Option<u64>>)> {
    let member = prop::collection::vec(
        prop::option::weighted(0.8, (0.0f64..50.0, -5.0f64..120.0)),
        5,
    );
    (
        prop::collection::vec(member, 1..=300),
        0.0f64..3000.0,
        prop::collection::vec(prop::option::weighted(0.4, 0u64..=60), 5),
    )
        .prop_map(|(members, budget, stock)| {
            let mut rows = Vec::new();
            for (m, opts) in members.into_iter().enumerate() {
                for (o, pair) in opts.into_iter().enumerate() {
                    if let Some((c, v)) = pair {
                        rows.push((format!("m{m}"), format!("o{o}"), c, v));
                    }
                }
            }
            (rows, budget, stock)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn never_exceeds_budget_or_stock((rows, budget, stock) in larger()) {
        let inst = Instance::from_rows(rows.iter().map(|(m, o, c, v)| (m.as_str(), o.as_str(), *c, *v))).unwrap();
        let c = constraints(&inst, budget, &stock, 0.0);
        let a = solve(&inst, &c);
        check_feasible(&inst, &c, &a);
        prop_assert!(a.gap() <= 1.0);
        let b = solve_with(&inst, &c, &Settings { sampled: 0, ..Settings::default() });
        check_feasible(&inst, &c, &b);
        // Either search's bound holds for the other's allocation.
        prop_assert!(b.upper_bound >= a.objective && a.upper_bound >= b.objective);
    }
}
