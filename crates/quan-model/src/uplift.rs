//! Uplift where a holdout exists: the two-model estimator, P(outcome | sent) − P(outcome | held out).

use serde::{Deserialize, Serialize};

use crate::propensity::{Dataset, ModelError, PropensityModel, TrainConfig};

/// One side of the estimator: a calibrated model, or, when every member of the side had the
/// same outcome (or the side is empty), its Laplace-smoothed rate, as there is nothing to
/// split on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Trained(Box<PropensityModel>),
    Rate(f64),
}

impl Side {
    fn train(data: &Dataset, config: TrainConfig) -> Result<Side, ModelError> {
        match PropensityModel::train(data, config) {
            Ok(m) => Ok(Side::Trained(Box::new(m))),
            Err(ModelError::Empty | ModelError::OneClass { .. }) => {
                let positives = data.labels.iter().filter(|&&l| l).count();
                Ok(Side::Rate(
                    (positives as f64 + 1.0) / (data.len() as f64 + 2.0),
                ))
            }
            Err(e) => Err(e),
        }
    }

    fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
        match self {
            Side::Trained(m) => m.predict(rows),
            Side::Rate(r) => Ok(vec![*r; rows.len()]),
        }
    }
}

/// Two sides, one fitted on treated members (sent the offer) and one on the control (held
/// out); the uplift of a member is the difference of their probabilities. Calibration matters
/// here: a difference of two uncalibrated scores means nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoModelUplift {
    pub treated: Side,
    pub control: Side,
}

impl TwoModelUplift {
    /// Trains on the outcomes of the treated and of the control group, with the same features.
    pub fn train(
        treated: &Dataset,
        control: &Dataset,
        config: TrainConfig,
    ) -> Result<TwoModelUplift, ModelError> {
        Ok(TwoModelUplift {
            treated: Side::train(treated, config)?,
            control: Side::train(control, config)?,
        })
    }

    /// Whether it can tell members apart: at least one side is a model (two rates give every
    /// member the same uplift).
    pub fn informative(&self) -> bool {
        matches!(self.treated, Side::Trained(_)) || matches!(self.control, Side::Trained(_))
    }

    /// The estimated uplift of each row: the incremental chance of the outcome from sending.
    pub fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
        let t = self.treated.predict(rows)?;
        let c = self.control.predict(rows)?;
        Ok(t.iter().zip(&c).map(|(t, c)| t - c).collect())
    }
}
