//! Uplift where a holdout exists: the two-model estimator, P(redeem | sent) − P(redeem | held out).

use serde::{Deserialize, Serialize};

use crate::propensity::{Dataset, ModelError, PropensityModel, TrainConfig};

/// Two calibrated propensity models, one fitted on treated members (sent the offer) and one on
/// the control (held out); the uplift of a member is the difference of their probabilities.
/// Calibration matters here: a difference of two uncalibrated scores means nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoModelUplift {
    pub treated: PropensityModel,
    pub control: PropensityModel,
}

impl TwoModelUplift {
    /// Trains on the outcomes of the treated and of the control group, with the same features.
    pub fn train(
        treated: &Dataset,
        control: &Dataset,
        config: TrainConfig,
    ) -> Result<TwoModelUplift, ModelError> {
        Ok(TwoModelUplift {
            treated: PropensityModel::train(treated, config)?,
            control: PropensityModel::train(control, config)?,
        })
    }

    /// The estimated uplift of each row: the incremental chance of redemption from sending.
    pub fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ModelError> {
        let t = self.treated.predict(rows)?;
        let c = self.control.predict(rows)?;
        Ok(t.iter().zip(&c).map(|(t, c)| t - c).collect())
    }
}
