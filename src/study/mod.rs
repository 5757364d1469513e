//! The live study (feature `lm`): the one room that joins the task suite, the model runtime and
//! the core. A sweep ([`sweep`]) runs a profile ([`profile`], a data file) cell by cell
//! ([`cells`], content-addressed by [`key`]): fine-tuning ([`finetune`]) and test scoring
//! ([`score`]) for the curve cells, confidence and per-example gradients ([`coslow`]) for the
//! metrics cells. [`render`] turns text into a model's token ids; [`pool`] reads a practitioner's
//! JSONL pool. Results are written as [`crate::live`]'s cell files; [`slurm`] hands the cells not
//! done to a SLURM job array.

pub mod cells;
pub mod coslow;
pub mod finetune;
pub mod plan;
pub mod pool;
pub mod key;
pub mod profile;
pub mod progress;
pub mod render;
pub mod score;
pub mod slurm;
pub mod sweep;

pub use cells::{CellId, Status};
pub use profile::Profile;
pub use sweep::Study;
