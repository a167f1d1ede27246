//! The redemption propensity model: gradient-boosted trees (perpetual) with isotonic calibration
//! on a held-out fold, saved as a versioned JSON file that carries its feature list.

use std::path::Path;

use perpetual::objective::Objective;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};

use crate::calibration::Isotonic;
use crate::features::FEATURES;
use crate::metrics::{auc, Calibration};

/// The version of the saved-model format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT: &str = "quan-propensity";

/// What can go wrong training, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no training rows")]
    Empty,
    #[error("training needs both outcomes in each fold (positives {positives} of {rows})")]
    OneClass { positives: usize, rows: usize },
    #[error("a row has {got} features, the model takes {want}")]
    Width { got: usize, want: usize },
    #[error("the booster failed: {0}")]
    Booster(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a quan propensity model: {0}")]
    Format(String),
    #[error("the model file is version {0}; this build reads version {FORMAT_VERSION}")]
    Version(u32),
    #[error("the model was trained on other features ({0}); retrain it")]
    Features(String),
}

/// Training rows: one feature vector (in `FEATURES` order) and outcome per (member, offer), and
/// the group (member) each belongs to, so one member's rows stay in one fold.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub rows: Vec<Vec<f64>>,
    pub labels: Vec<bool>,
    pub groups: Vec<u64>,
}

impl Dataset {
    pub fn push(&mut self, row: Vec<f64>, label: bool, group: u64) {
        self.rows.push(row);
        self.labels.push(label);
        self.groups.push(group);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn subset(&self, keep: impl Fn(usize) -> bool) -> Dataset {
        let mut d = Dataset::default();
        for i in (0..self.len()).filter(|&i| keep(i)) {
            d.push(self.rows[i].clone(), self.labels[i], self.groups[i]);
        }
        d
    }

    fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l).count()
    }
}

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// perpetual's one knob: more budget, more trees. Its own default, 0.5, stops after a few
    /// dozen trees on a few thousand rows; 2.0 had the best AUC on the held-out members of the
    /// Complete Journey training campaigns (BENCHMARKS.md).
    pub budget: f32,
    /// The share of groups (members) held out to fit the calibration.
    pub calibration_share: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            budget: 2.0,
            calibration_share: 0.3,
            seed: 0,
        }
    }
}

/// What training measured on the calibration fold (which the trees never saw).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub rows: usize,
    pub positives: usize,
    pub fit_rows: usize,
    pub calibration_rows: usize,
    pub trees: usize,
    /// The AUC of the raw scores on the calibration fold.
    pub calibration_auc: Option<f64>,
}

/// A trained, calibrated propensity model.
#[derive(Clone, Serialize, Deserialize)]
pub struct PropensityModel {
    format: String,
    version: u32,
    features: Vec<String>,
    config: TrainConfig,
    report: TrainReport,
    calibration: Isotonic,
    booster: PerpetualBooster,
}

impl std::fmt::Debug for PropensityModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropensityModel")
            .field("version", &self.version)
            .field("features", &self.features.len())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// A stable hash of a group into [0, 1), so a member's fold does not depend on row order.
fn fold(group: u64, seed: u64) -> f64 {
    // SplitMix64.
    let mut z = group ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Rows as perpetual's column-major matrix.
fn columns(rows: &[Vec<f64>], width: usize) -> Result<Vec<f64>, ModelError> {
    let mut data = vec![0.0; rows.len() * width];
    for (i, r) in rows.iter().enumerate() {
        if r.len() != width {
            return Err(ModelError::Width {
                got: r.len(),
                want: width,
            });
        }
        for (j, v) in r.iter().enumerate() {
            data[j * rows.len() + i] = *v;
        }
    }
    Ok(data)
}

fn booster_scores(booster: &PerpetualBooster, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let data = columns(rows, FEATURES.len())?;
    Ok(booster.predict(&Matrix::new(&data, rows.len(), FEATURES.len()), true))
}

impl PropensityModel {
    /// Trains the trees on most members and fits the calibration on the rest.
    pub fn train(data: &Dataset, config: TrainConfig) -> Result<PropensityModel, ModelError> {
        if data.is_empty() {
            return Err(ModelError::Empty);
        }
        let held = |i: usize| fold(data.groups[i], config.seed) < config.calibration_share;
        let fit = data.subset(|i| !held(i));
        let cal = data.subset(held);
        for part in [&fit, &cal] {
            let positives = part.positives();
            if positives == 0 || positives == part.len() {
                return Err(ModelError::OneClass {
                    positives,
                    rows: part.len(),
                });
            }
        }
        let x = columns(&fit.rows, FEATURES.len())?;
        let y: Vec<f64> = fit.labels.iter().map(|&l| f64::from(u8::from(l))).collect();
        let mut booster = PerpetualBooster::default()
            .set_objective(Objective::LogLoss)
            .set_budget(config.budget)
            .set_seed(config.seed);
        booster
            .fit(&Matrix::new(&x, fit.len(), FEATURES.len()), &y, None, None)
            .map_err(|e| ModelError::Booster(e.to_string()))?;
        let raw = booster_scores(&booster, &cal.rows)?;
        let calibration = Isotonic::fit(&raw, &cal.labels);
        Ok(PropensityModel {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            features: FEATURES.iter().map(|f| f.to_string()).collect(),
            config,
            report: TrainReport {
                rows: data.len(),
                positives: data.positives(),
                fit_rows: fit.len(),
                calibration_rows: cal.len(),
                trees: booster.get_prediction_trees().len(),
                calibration_auc: auc(&raw, &cal.labels),
            },
            calibration,
            booster,
        })
    }

    /// The trees' raw scores (log-odds), before calibration.
    pub fn raw(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
        booster_scores(&self.booster, rows)
    }

    /// Calibrated probabilities of redemption.
    pub fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
        Ok(self
            .raw(rows)?
            .into_iter()
            .map(|s| self.calibration.apply(s))
            .collect())
    }

    /// The calibration figures of this model's probabilities on labelled rows.
    pub fn measure(&self, rows: &[Vec<f64>], labels: &[bool]) -> Result<Calibration, ModelError> {
        Ok(Calibration::measure(&self.predict(rows)?, labels))
    }

    pub fn report(&self) -> &TrainReport {
        &self.report
    }

    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The model as JSON: format name, version, feature list, calibration and trees.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serializes")
    }

    /// Reads a model back, refusing another format, another version or other features.
    pub fn from_json(text: &str) -> Result<PropensityModel, ModelError> {
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
            features: Vec<String>,
        }
        let head: Head =
            serde_json::from_str(text).map_err(|e| ModelError::Format(e.to_string()))?;
        if head.format != FORMAT {
            return Err(ModelError::Format(format!("format {:?}", head.format)));
        }
        if head.version != FORMAT_VERSION {
            return Err(ModelError::Version(head.version));
        }
        if head.features != FEATURES {
            return Err(ModelError::Features(head.features.join(",")));
        }
        serde_json::from_str(text).map_err(|e| ModelError::Format(e.to_string()))
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        Ok(std::fs::write(path, self.to_json())?)
    }

    pub fn load(path: &Path) -> Result<PropensityModel, ModelError> {
        PropensityModel::from_json(&std::fs::read_to_string(path)?)
    }
}
