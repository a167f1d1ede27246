//! Progress bars of the command line: one style, with rates in whole units a second.

use indicatif::{ProgressState, ProgressStyle};

/// The style of `template`, where `{rate}` is the rate in whole units a second (`12345/s`,
/// where indicatif's `{per_sec}` shows four decimals).
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("a valid progress template")
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}
