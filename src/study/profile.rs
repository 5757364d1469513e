//! A sweep profile: which tasks, budgets and recipe a live study runs, read from a TOML data
//! file (`data/profiles/<name>.toml`), never written in code.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::model::lora::LoraConfig;
use crate::model::train::TrainConfig;

/// Where the shipped profiles live, relative to the project root.
pub const PROFILES_DIR: &str = "data/profiles";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub tasks: Vec<String>,
    pub budgets: Vec<usize>,
    /// Caps on the task's test split and unannotated pool.
    pub test_examples: usize,
    pub pool_examples: usize,
    /// `f32` or `bf16`.
    pub dtype: String,
    pub train: Train,
    pub selection: Selection,
    pub eval: Eval,
    pub metrics: Metrics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// LoRA adapters on the frozen base model.
    Lora,
    /// Every weight trained.
    Full,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Train {
    pub method: Method,
    pub max_steps: usize,
    pub batch_size: usize,
    pub grad_accumulation: usize,
    pub learning_rate: f64,
    pub warmup_ratio: f64,
    pub weight_decay: f64,
    pub max_grad_norm: Option<f64>,
    pub seed: u64,
    /// Batch examples of similar length (see `TrainConfig::group_by_length`); off unless set.
    #[serde(default)]
    pub group_by_length: bool,
    pub lora: Lora,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lora {
    pub rank: usize,
    pub alpha: f64,
    pub dropout: f64,
    pub targets: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub enabled: bool,
    pub eval_every: usize,
    pub patience: usize,
    pub validation_share: f64,
    pub validation_max: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eval {
    pub max_new_tokens: usize,
    /// Also score tasks with a closed label set by the label with the highest log-likelihood.
    pub label_scores: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub repeats: usize,
    pub k: usize,
    pub low_confidence_share: f64,
    pub max_new_tokens: usize,
    /// Repeat r draws its examples with `draw_seed + r` and seeds LoRA's A with `lora_seed + r`.
    pub draw_seed: u64,
    pub lora_seed: u64,
}

impl Profile {
    /// A profile by name (`quick` → `<root>/data/profiles/quick.toml`) or by path.
    pub fn load(name_or_path: &str, root: &Path) -> anyhow::Result<(Self, PathBuf)> {
        let path = if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
            PathBuf::from(name_or_path)
        } else {
            root.join(PROFILES_DIR).join(format!("{name_or_path}.toml"))
        };
        if !path.is_file() {
            let known = Self::known(root).join(", ");
            bail!("no profile {} (shipped profiles: {known})", path.display());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let profile = Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok((profile, path))
    }

    /// The names of the profiles shipped under `root`.
    pub fn known(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(PROFILES_DIR))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_string))
            .collect();
        names.sort();
        names
    }

    /// A profile from TOML text, checked.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let profile: Profile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
        profile.check()?;
        Ok(profile)
    }

    fn check(&self) -> anyhow::Result<()> {
        ensure!(!self.tasks.is_empty(), "`tasks` is empty");
        ensure!(!self.budgets.is_empty(), "`budgets` is empty");
        ensure!(self.budgets.windows(2).all(|w| w[0] < w[1]), "`budgets` must be increasing, got {:?}", self.budgets);
        ensure!(self.budgets[0] == 0, "`budgets` must start at 0 (the zero-shot point), got {:?}", self.budgets);
        ensure!(self.test_examples > 0, "`test_examples` must be positive");
        ensure!(matches!(self.dtype.as_str(), "f32" | "bf16"), "`dtype` must be \"f32\" or \"bf16\", got {:?}", self.dtype);
        let t = &self.train;
        ensure!(t.max_steps > 0 && t.batch_size > 0 && t.grad_accumulation > 0, "`train`: max_steps, batch_size and grad_accumulation must be positive");
        ensure!(t.learning_rate > 0.0 && t.learning_rate.is_finite(), "`train.learning_rate` must be positive");
        ensure!((0.0..1.0).contains(&t.warmup_ratio), "`train.warmup_ratio` must be in [0, 1)");
        ensure!(t.lora.rank > 0 && !t.lora.targets.is_empty(), "`train.lora`: rank must be positive and targets non-empty");
        ensure!((0.0..1.0).contains(&t.lora.dropout), "`train.lora.dropout` must be in [0, 1)");
        let s = &self.selection;
        ensure!(!s.enabled || (s.eval_every > 0 && s.patience > 0), "`selection`: eval_every and patience must be positive");
        ensure!(s.validation_share > 0.0 && s.validation_share < 1.0, "`selection.validation_share` must be in (0, 1)");
        ensure!(self.eval.max_new_tokens > 0, "`eval.max_new_tokens` must be positive");
        let m = &self.metrics;
        ensure!(m.repeats > 0, "`metrics.repeats` must be positive");
        ensure!(m.k >= 2, "`metrics.k` must be at least 2 (CoS-Low is a pairwise cosine)");
        ensure!(m.low_confidence_share > 0.0 && m.low_confidence_share <= 1.0, "`metrics.low_confidence_share` must be in (0, 1]");
        ensure!(m.max_new_tokens > 0, "`metrics.max_new_tokens` must be positive");
        ensure!(self.pool_examples >= m.k, "`pool_examples` ({}) is smaller than `metrics.k` ({})", self.pool_examples, m.k);
        Ok(())
    }

    /// The LoRA settings of fine-tuning (CoS-Low uses the paper's, [`LoraConfig::default`]).
    pub fn lora(&self) -> LoraConfig {
        LoraConfig {
            rank: self.train.lora.rank,
            alpha: self.train.lora.alpha,
            dropout: self.train.lora.dropout,
            targets: self.train.lora.targets.clone(),
        }
    }

    pub fn train_config(&self) -> TrainConfig {
        let t = &self.train;
        TrainConfig {
            learning_rate: t.learning_rate,
            epochs: 1,
            batch_size: t.batch_size,
            grad_accumulation: t.grad_accumulation,
            warmup_ratio: t.warmup_ratio,
            weight_decay: t.weight_decay,
            max_grad_norm: t.max_grad_norm,
            seed: t.seed,
            group_by_length: t.group_by_length,
            ..TrainConfig::default()
        }
    }

    /// Validation examples for budget `n` under model selection: `validation_share` of n, at
    /// least 1, at most `validation_max` (the authors cap it at 20% of the budget).
    pub fn validation_size(&self, n: usize) -> usize {
        if !self.selection.enabled || n == 0 {
            return 0;
        }
        ((self.selection.validation_share * n as f64).floor() as usize).clamp(1, self.selection.validation_max.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Profile {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Profile::load(name, root).unwrap().0
    }

    #[test]
    fn the_shipped_profiles_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let known = Profile::known(root);
        for name in ["quick", "cpu", "paper"] {
            assert!(known.contains(&name.to_string()), "{known:?}");
            assert_eq!(shipped(name).name, name);
        }
    }

    #[test]
    fn an_unknown_field_and_a_bad_value_are_named() {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles/quick.toml")).unwrap();
        let err = Profile::parse(&text.replace("max_steps", "max_stepz")).unwrap_err().to_string();
        assert!(err.contains("max_stepz"), "{err}");
        let err = Profile::parse(&text.replace("budgets = [0, 8, 32]", "budgets = [8, 0]")).unwrap_err().to_string();
        assert!(err.contains("budgets"), "{err}");
    }

    #[test]
    fn validation_is_a_share_of_the_budget() {
        let p = shipped("quick");
        assert_eq!(p.validation_size(0), 0);
        assert_eq!(p.validation_size(8), 1);
        assert_eq!(p.validation_size(50), 10);
        assert_eq!(p.validation_size(5000), 64);
    }
}
