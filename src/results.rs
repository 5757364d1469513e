//! In-memory fine-tuning results: one task's metrics per budget, whatever file they came from
//! (the authors' JSON layout via [`crate::published`], or our CSV via [`crate::tidy`]).

use std::collections::BTreeMap;

/// Metric name → value at one budget (`None` where the source wrote null).
pub type Metrics = BTreeMap<String, Option<f64>>;

/// All metrics of one (family, task), keyed by budget (number of fine-tuning examples; 0 = zero-shot).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskResults {
    pub budgets: BTreeMap<u32, Metrics>,
}
