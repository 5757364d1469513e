//! dataeff: estimate a task's data efficiency for language-model fine-tuning.
//!
//! The pure core (no I/O) is [`curve`], [`predict`], [`regression`], [`stats`],
//! [`learning_curve`], [`evaluate`] and [`annotation`]; the I/O shell is
//! [`published`] (the authors' result-file layout), [`tidy`] (our own CSV data files) and [`fsio`]
//! (atomic writes). See ARCHITECTURE.md for the data flow.

pub mod annotation;
pub mod curve;
pub mod evaluate;
pub mod family;
pub mod fsio;
pub mod json;
pub mod learning_curve;
pub mod model;
pub mod predict;
pub mod published;
pub mod regression;
pub mod results;
pub mod stats;
pub mod tasks;
pub mod tidy;

pub use curve::{AucSummary, CurveError};
pub use family::Family;
pub use results::{Metrics, TaskResults};
