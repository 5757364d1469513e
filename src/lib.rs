//! dataeff: estimate a task's data efficiency for language-model fine-tuning.
//!
//! The pure core (no I/O) is [`curve`], [`predict`], [`regression`], [`stats`],
//! [`learning_curve`], [`evaluate`], [`annotation`], [`curve_family`], [`planner`] and
//! [`test_noise`]; the I/O shell is
//! [`published`] (the authors' result-file layout), [`tidy`] (our own CSV data files), [`fsio`]
//! (atomic writes) and [`exit`] (how the command-line programs end: one error line, quiet on a
//! closed pipe); [`provenance`] pins and locates the outside files (task data, models).
//!
//! With the `lm` feature (on by default) come the language-model runtime [`model`] and the task
//! suite [`tasks`]; without it the crate builds without candle, for `cargo xtask reproduce` and
//! the experiments. See ARCHITECTURE.md for the data flow and the boundaries.

pub mod annotation;
pub mod curve;
pub mod curve_family;
pub mod evaluate;
pub mod exit;
pub mod family;
pub mod fsio;
pub mod json;
pub mod learning_curve;
pub mod live;
#[cfg(feature = "lm")]
pub mod model;
pub mod planner;
pub mod plausibility;
pub mod predict;
pub mod provenance;
pub mod published;
pub mod regression;
pub mod results;
pub mod stats;
#[cfg(feature = "lm")]
pub mod study;
#[cfg(feature = "lm")]
pub mod tasks;
pub mod test_noise;
pub mod tidy;

pub use curve::{AucSummary, CurveError};
pub use family::Family;
pub use results::{Metrics, TaskResults};
