//! dataeff: estimate a task's data efficiency for language-model fine-tuning.
//!
//! The pure core (no I/O) is [`curve`], [`predict`], [`regression`] and [`stats`]; the I/O shell is
//! [`published`] (the authors' result-file layout), [`tidy`] (our own CSV data files) and [`fsio`]
//! (atomic writes). See ARCHITECTURE.md for the data flow.

pub mod curve;
pub mod family;
pub mod fsio;
pub mod predict;
pub mod published;
pub mod regression;
pub mod results;
pub mod stats;
pub mod tidy;

pub use curve::{AucSummary, CurveError};
pub use family::Family;
pub use results::{Metrics, TaskResults};
