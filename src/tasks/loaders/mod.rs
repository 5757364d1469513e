//! Loaders for the shipped task files in the cache (see [`crate::tasks::cache`]).

pub mod bigbench;
pub mod mmlu;
