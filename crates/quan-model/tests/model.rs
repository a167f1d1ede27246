//! The propensity model on synthetic data: it learns, it is calibrated, it saves and loads,
//! and the uplift estimator finds a known uplift.

use quan_model::metrics::{auc, Calibration};
use quan_model::{Dataset, ModelError, PropensityModel, TrainConfig, TwoModelUplift, FEATURES};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A smaller budget than the default: these tests need the trees to learn, not the last point.
fn quick() -> TrainConfig {
    TrainConfig {
        budget: 1.0,
        ..TrainConfig::default()
    }
}

fn step(x: f64, at: f64) -> f64 {
    f64::from(u8::from(x > at))
}

/// Rows of uniform features; the outcome's true probability steps with the first two.
fn synthetic(n: usize, seed: u64) -> (Dataset, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut d = Dataset::default();
    let mut truth = Vec::new();
    for i in 0..n {
        let row: Vec<f64> = (0..FEATURES.len()).map(|_| rng.random::<f64>()).collect();
        let p = 0.1 + 0.3 * step(row[0], 0.5) + 0.3 * step(row[1], 0.7) + 0.2 * row[2];
        d.push(row, rng.random::<f64>() < p, seed * 1_000_000 + i as u64);
        truth.push(p);
    }
    (d, truth)
}

#[test]
fn learns_and_is_calibrated_on_fresh_data() {
    let (train, _) = synthetic(3_000, 1);
    let (test, truth) = synthetic(3_000, 2);
    let model = PropensityModel::train(&train, quick()).unwrap();
    let p = model.predict(&test.rows).unwrap();
    let a = auc(&p, &test.labels).unwrap();
    let best = auc(&truth, &test.labels).unwrap();
    // 37 of the 40 features are noise and 2,100 rows fit the trees: near the truth, not at it.
    assert!(a > best - 0.05, "auc {a} vs the truth's {best}");
    assert!(a > 0.68, "auc {a}");
    let cal = Calibration::measure(&p, &test.labels);
    let ideal = Calibration::measure(&truth, &test.labels);
    assert!(cal.ece < 0.04, "{cal:?}");
    assert!(cal.brier < cal.brier_base_rate, "{cal:?}");
    assert!(cal.brier < ideal.brier + 0.02, "{cal:?} vs {ideal:?}");
    // Probabilities, not log-odds.
    assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
}

#[test]
fn a_saved_model_scores_the_same_after_loading() {
    let (train, _) = synthetic(1_500, 3);
    let (test, _) = synthetic(500, 4);
    let model = PropensityModel::train(&train, quick()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    model.save(&path).unwrap();
    let loaded = PropensityModel::load(&path).unwrap();
    let (a, b) = (
        model.predict(&test.rows).unwrap(),
        loaded.predict(&test.rows).unwrap(),
    );
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_eq!(loaded.features(), FEATURES);
    assert_eq!(loaded.report(), model.report());

    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    let mut newer = v.clone();
    newer["version"] = 2.into();
    assert!(matches!(
        PropensityModel::from_json(&newer.to_string()),
        Err(ModelError::Version(2))
    ));
    let mut other = v.clone();
    other["features"][0] = "something_else".into();
    assert!(matches!(
        PropensityModel::from_json(&other.to_string()),
        Err(ModelError::Features(_))
    ));
    assert!(matches!(
        PropensityModel::from_json("{}"),
        Err(ModelError::Format(_))
    ));
}

#[test]
fn one_class_is_refused() {
    let (mut d, _) = synthetic(200, 5);
    d.labels.iter_mut().for_each(|l| *l = false);
    assert!(matches!(
        PropensityModel::train(&d, quick()),
        Err(ModelError::OneClass { .. })
    ));
}

#[test]
fn two_models_find_a_known_uplift() {
    // Control redeems at 0.2 everywhere; treatment adds 0.4 where feature 0 is above one half.
    // Feature 1 is noise; the others are constant (with 38 noise features and 2,500 rows per
    // arm the trees fit noise, and this test is of the estimator, not of feature selection).
    let mut rng = StdRng::seed_from_u64(6);
    let (mut treated, mut control) = (Dataset::default(), Dataset::default());
    let true_uplift = |row: &[f64]| if row[0] > 0.5 { 0.4 } else { 0.0 };
    let row = |rng: &mut StdRng| -> Vec<f64> {
        let mut r = vec![0.0; FEATURES.len()];
        r[0] = rng.random();
        r[1] = rng.random();
        r
    };
    for i in 0..5_000u64 {
        let row = row(&mut rng);
        let is_treated = i % 2 == 0;
        let p = 0.2 + if is_treated { true_uplift(&row) } else { 0.0 };
        let y = rng.random::<f64>() < p;
        if is_treated {
            treated.push(row, y, i);
        } else {
            control.push(row, y, i);
        }
    }
    let model = TwoModelUplift::train(&treated, &control, TrainConfig::default()).unwrap();
    let test: Vec<Vec<f64>> = (0..2_000).map(|_| row(&mut rng)).collect();
    let u = model.predict(&test).unwrap();
    let mean = |keep: bool| {
        let v: Vec<f64> = test
            .iter()
            .zip(&u)
            .filter(|(r, _)| (r[0] > 0.5) == keep)
            .map(|(_, &u)| u)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (high, low) = (mean(true), mean(false));
    assert!((high - 0.4).abs() < 0.08, "uplift where it is 0.4: {high}");
    assert!(low.abs() < 0.08, "uplift where it is 0: {low}");
    let truth: Vec<bool> = test.iter().map(|r| r[0] > 0.5).collect();
    assert!(auc(&u, &truth).unwrap() > 0.9);
}
