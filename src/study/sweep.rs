//! A sweep: every cell of a profile for one model — the curve cells (task × budget), each task's
//! confidence cell and its metrics repeats — computed from a fresh copy of the base model each,
//! so that a cell's bytes depend on its key alone, whatever ran before it in the process. A
//! killed sweep therefore resumes where it stopped with files identical to an uninterrupted run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::{Value, json};

use super::cells::{CellId, CellLock, Claim, Status, status};
use super::coslow::{draw, draw_rng, gradients, low_confidence, mean_norm, median_cosine};
use super::finetune::{finetune, trainable_model};
use super::key::{address, model_key, model_sha256, task_key};
use super::profile::Profile;
use super::progress::Progress;
use super::render::Renderer;
use super::score::{candidates, score_test};
use crate::fsio::write_atomic;
use crate::live::{ConfidenceCell, CurveCell, MetricsCell};
use crate::model::load::ModelFiles;
use crate::tasks::prompt::PromptTemplate;
use crate::tasks::{self, SplitConfig, Splits, Task, TextExample};

/// A loaded task with its splits (shared by the cells of one task).
pub struct LoadedTask {
    pub task: Task,
    pub splits: Splits,
}

/// Everything a sweep's cells need: the profile, the model's files, where results go.
pub struct Study {
    pub profile: Profile,
    pub files: ModelFiles,
    pub model_sha256: String,
    /// `results/live/<model>/`.
    pub out: PathBuf,
    /// The task-data cache (`cargo xtask fetch-data`).
    pub data_cache: PathBuf,
    /// A directory whose `<task>.txt` replaces that task's compiled-in prompt template.
    pub prompts: Option<PathBuf>,
    pub progress: Progress,
    tasks: RefCell<HashMap<String, Rc<LoadedTask>>>,
}

impl Study {
    pub fn new(profile: Profile, files: ModelFiles, out: PathBuf, data_cache: PathBuf, prompts: Option<PathBuf>) -> anyhow::Result<Self> {
        let model_sha256 = model_sha256(&files.path).with_context(|| format!("hashing {}", files.path.display()))?;
        Ok(Study { profile, files, model_sha256, out, data_cache, prompts, progress: Progress::new(), tasks: RefCell::default() })
    }

    /// Task `name` with its seeded splits (the suite's defaults, so every profile shares them).
    pub fn task(&self, name: &str) -> anyhow::Result<Rc<LoadedTask>> {
        if let Some(t) = self.tasks.borrow().get(name) {
            return Ok(t.clone());
        }
        let mut task = tasks::load(name, &self.data_cache).with_context(|| format!("loading task `{name}`"))?;
        if let Some(dir) = &self.prompts {
            let path = dir.join(format!("{name}.txt"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                task.template = PromptTemplate { path: path.display().to_string(), text: text.trim_end_matches('\n').to_string() };
            }
        }
        if let Some(example) = task.examples.first() {
            task.template.check(example).map_err(anyhow::Error::msg)?;
        }
        let splits = tasks::split::split(&task.examples, &SplitConfig::default());
        let loaded = Rc::new(LoadedTask { task, splits });
        self.tasks.borrow_mut().insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }

    fn renderer(&self) -> anyhow::Result<Renderer<'_>> {
        Renderer::new(&self.files, true)
    }

    /// Every cell of the profile, task by task: curve budgets, confidence, metrics repeats.
    pub fn cells(&self) -> Vec<CellId> {
        let mut out = Vec::new();
        for task in &self.profile.tasks {
            for &budget in &self.profile.budgets {
                out.push(CellId::Curve { task: task.clone(), budget });
            }
            out.push(CellId::Confidence { task: task.clone() });
            for repeat in 0..self.profile.metrics.repeats {
                out.push(CellId::Metrics { task: task.clone(), repeat });
            }
        }
        out
    }

    fn base_key(&self, task: &LoadedTask, cell: &CellId) -> anyhow::Result<serde_json::Map<String, Value>> {
        let mut key = serde_json::Map::new();
        key.insert("cell".into(), json!(cell.to_string()));
        key.insert("dataeff".into(), json!(env!("CARGO_PKG_VERSION")));
        key.insert("model".into(), model_key(&self.files, &self.model_sha256, &self.profile.dtype, true)?);
        key.insert("task".into(), task_key(&task.task, SplitConfig::default().seed));
        Ok(key)
    }

    /// The key of `cell`: what its numbers depend on, and nothing else (a zero-shot cell does
    /// not depend on the training recipe, so changing it leaves those cells alone).
    pub fn key(&self, cell: &CellId) -> anyhow::Result<Value> {
        let task = self.task(cell.task())?;
        let mut key = self.base_key(&task, cell)?;
        let p = &self.profile;
        match cell {
            CellId::Curve { budget, .. } => {
                key.insert("test_examples".into(), json!(p.test_examples));
                key.insert("eval".into(), json!(p.eval));
                if *budget > 0 {
                    key.insert("train".into(), json!(p.train));
                    key.insert("selection".into(), json!(p.selection));
                }
            }
            CellId::Confidence { .. } => {
                key.insert("pool_examples".into(), json!(p.pool_examples));
                key.insert("max_new_tokens".into(), json!(p.metrics.max_new_tokens));
            }
            CellId::Metrics { repeat, .. } => {
                let confidence = CellId::Confidence { task: cell.task().to_string() };
                key.insert("confidence".into(), json!(address(&self.key(&confidence)?)));
                key.insert("k".into(), json!(p.metrics.k));
                key.insert("low_confidence_share".into(), json!(p.metrics.low_confidence_share));
                key.insert("draw_seed".into(), json!(p.metrics.draw_seed + *repeat as u64));
                key.insert("lora_seed".into(), json!(p.metrics.lora_seed + *repeat as u64));
            }
        }
        Ok(Value::Object(key))
    }

    pub fn status(&self, cell: &CellId) -> anyhow::Result<Status> {
        Ok(status(&cell.path(&self.out), &address(&self.key(cell)?)))
    }

    /// Run every cell not yet done, skipping (and reporting) those another live process is
    /// computing now.
    pub fn run_all(&self) -> anyhow::Result<Swept> {
        self.write_profile_copy()?;
        let cells = self.cells();
        let bar = self.progress.bar(cells.len(), format!("sweep {} ({})", self.profile.name, self.out.display()));
        let mut swept = Swept { computed: 0, busy: Vec::new() };
        for cell in &cells {
            bar.set_message(cell.to_string());
            match self.run_cell_as(cell, false)? {
                Outcome::Computed => swept.computed += 1,
                Outcome::Done => {}
                Outcome::Busy(holder) => {
                    self.progress.println(format!("{cell}: skipped, {holder} is computing it"));
                    swept.busy.push((cell.clone(), holder));
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(swept)
    }

    /// The profile the results came from, beside them (refused where another profile's results
    /// are there: see [`check_same_profile`]).
    pub fn write_profile_copy(&self) -> anyhow::Result<()> {
        check_same_profile(&self.out, &self.profile.name)?;
        let text = toml::to_string(&self.profile).context("writing the profile as TOML")?;
        let path = self.out.join("profile.toml");
        write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
    }

    /// Compute `cell` unless it is done; `true` when it was computed. A cell another process is
    /// computing is waited for (and then found done).
    pub fn run_cell(&self, cell: &CellId) -> anyhow::Result<bool> {
        check_same_profile(&self.out, &self.profile.name)?;
        if !self.cells().contains(cell) {
            bail!("cell `{cell}` is not in profile `{}` (`dataeff sweep plan` lists its cells)", self.profile.name);
        }
        Ok(matches!(self.run_cell_as(cell, true)?, Outcome::Computed))
    }

    /// Compute `cell` (one of [`Self::cells`]) unless it is done, under its [`CellLock`]; a cell
    /// locked by another live writer is waited for when `wait`, else left to it.
    fn run_cell_as(&self, cell: &CellId, wait: bool) -> anyhow::Result<Outcome> {
        let key = self.key(cell)?;
        let key_sha256 = address(&key);
        let path = cell.path(&self.out);
        if status(&path, &key_sha256) == Status::Done {
            return Ok(Outcome::Done);
        }
        let locking = || format!("locking {}", CellLock::path_of(&path).display());
        let lock = if wait {
            let tell = |holder: &str| self.progress.println(format!("{cell}: waiting for {holder}, who is computing it"));
            CellLock::acquire(&path, tell).with_context(locking)?
        } else {
            match CellLock::try_acquire(&path).with_context(locking)? {
                Claim::Held(lock) => lock,
                Claim::Busy(holder) => return Ok(Outcome::Busy(holder)),
            }
        };
        // The writer we waited for (or one that finished between the check and the lock) did it.
        if status(&path, &key_sha256) == Status::Done {
            return Ok(Outcome::Done);
        }
        let started = Instant::now();
        let value = match cell {
            CellId::Curve { task, budget } => self.curve_cell(cell, task, *budget, key, key_sha256)?,
            CellId::Confidence { task } => serialise(&self.confidence_cell(cell, task, key, key_sha256)?)?,
            CellId::Metrics { task, repeat } => serialise(&self.metrics_cell(cell, task, *repeat, key, key_sha256)?)?,
        };
        write_atomic(&path, value.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        drop(lock);
        self.log_timing(cell, started.elapsed().as_secs_f64())?;
        Ok(Outcome::Computed)
    }

    /// Wall time per cell, appended to `timings.jsonl` (not a cell: resuming may repeat a line).
    fn log_timing(&self, cell: &CellId, seconds: f64) -> anyhow::Result<()> {
        let path = self.out.join("timings.jsonl");
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
        writeln!(file, "{}", json!({ "cell": cell.to_string(), "seconds": (seconds * 1000.0).round() / 1000.0 }))?;
        Ok(())
    }

    fn curve_cell(&self, cell: &CellId, task_name: &str, budget: usize, key: Value, key_sha256: String) -> anyhow::Result<String> {
        let loaded = self.task(task_name)?;
        let (task, splits) = (&loaded.task, &loaded.splits);
        let p = &self.profile;
        let renderer = self.renderer()?;
        let validation_size = p.validation_size(budget);
        let mut out = CurveCell {
            id: cell.to_string(),
            key_sha256,
            key,
            task: task_name.to_string(),
            budget,
            skipped: None,
            metric: task.metric.to_string(),
            score: None,
            label_score: None,
            test_examples: 0,
            steps: 0,
            best_step: 0,
            validation: Vec::new(),
            train_losses: Vec::new(),
        };
        if budget + validation_size > splits.train.len() {
            out.skipped = Some(format!(
                "budget {budget} (+ {validation_size} validation) is more than the task's train pool of {}",
                splits.train.len()
            ));
            self.progress.println(format!("{cell}: skipped, {}", out.skipped.as_deref().unwrap_or_default()));
            return serialise(&out);
        }
        let test: &[TextExample] = &splits.test[..p.test_examples.min(splits.test.len())];
        let (mut model, vars) = if budget == 0 { (self.files.build()?, Vec::new()) } else { trainable_model(&self.files, p)? };
        if budget > 0 {
            let render = |examples: &[TextExample]| -> anyhow::Result<Vec<_>> {
                examples.iter().map(|e| renderer.training_example(&task.render(e), e.target())).collect()
            };
            let train = render(&splits.train[..budget])?;
            let validation = render(&splits.train[budget..budget + validation_size])?;
            let bar = self.progress.bar(p.train.max_steps, format!("{cell}: train"));
            let report = finetune(model.as_mut(), &vars, &train, &validation, p, &bar)?;
            bar.finish_and_clear();
            out.steps = report.steps;
            out.best_step = report.best_step;
            out.validation = report.validation;
            out.train_losses = report.train_losses;
        }
        let bar = self.progress.bar(test.len(), format!("{cell}: test"));
        let scored = score_test(model.as_ref(), &renderer, task, test, p.eval.max_new_tokens, p.eval.label_scores, &bar)?;
        bar.finish_and_clear();
        out.score = Some(scored.score);
        out.label_score = scored.label_score;
        out.test_examples = test.len();
        // The predictions first: a cell file is only there when everything it stands for is.
        let mut lines = String::new();
        for prediction in &scored.predictions {
            lines += &serde_json::to_string(prediction)?;
            lines.push('\n');
        }
        let predictions = cell.predictions_path(&self.out).expect("a curve cell");
        write_atomic(&predictions, lines.as_bytes()).with_context(|| format!("writing {}", predictions.display()))?;
        serialise(&out)
    }

    /// The prompts of a task's unannotated pool the profile uses.
    fn pool<'t>(&self, loaded: &'t LoadedTask) -> &'t [TextExample] {
        &loaded.splits.unannotated[..self.profile.pool_examples.min(loaded.splits.unannotated.len())]
    }

    fn confidence_cell(&self, cell: &CellId, task_name: &str, key: Value, key_sha256: String) -> anyhow::Result<ConfidenceCell> {
        let loaded = self.task(task_name)?;
        let renderer = self.renderer()?;
        let model = self.files.build()?;
        let pool = self.pool(&loaded);
        let bar = self.progress.bar(pool.len(), format!("{cell}"));
        let prompts: Vec<String> = pool.iter().map(|example| loaded.task.render(example)).collect();
        let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
        let max_new = self.profile.metrics.max_new_tokens;
        let confidence = super::coslow::confidences(model.as_ref(), &renderer, &prompts, max_new, &mut |n| bar.inc(n as u64))?;
        bar.finish_and_clear();
        Ok(ConfidenceCell { id: cell.to_string(), key_sha256, key, task: task_name.to_string(), confidence })
    }

    fn metrics_cell(&self, cell: &CellId, task_name: &str, repeat: usize, key: Value, key_sha256: String) -> anyhow::Result<MetricsCell> {
        let confidence_id = CellId::Confidence { task: task_name.to_string() };
        self.run_cell(&confidence_id)?;
        let path = confidence_id.path(&self.out);
        let confidence: ConfidenceCell = crate::json::read(&path)?;
        let loaded = self.task(task_name)?;
        let pool = self.pool(&loaded);
        let m = &self.profile.metrics;
        let (draw_seed, lora_seed) = (m.draw_seed + repeat as u64, m.lora_seed + repeat as u64);
        // A pool whose lowest share holds fewer than k prompts (a small task) gives its lowest k:
        // `low_confidence_pool` in the cell says how many the draw was from.
        let low = low_confidence(&confidence.confidence, m.low_confidence_share, m.k);
        if low.len() < m.k {
            bail!(
                "{cell}: the pool has {} prompts with a confidence, fewer than k = {} (raise pool_examples or lower k)",
                low.len(),
                m.k
            );
        }
        let mut rng = draw_rng(draw_seed);
        let low_confidence = draw(&low, m.k, &mut rng)?;
        let all: Vec<usize> = (0..pool.len()).collect();
        let random = draw(&all, m.k, &mut rng)?;
        let renderer = self.renderer()?;
        let annotated = |indices: &[usize]| -> Vec<(String, String)> {
            indices.iter().map(|&i| (loaded.task.render(&pool[i]), pool[i].target().to_string())).collect()
        };
        let bar = self.progress.bar(2 * m.k, format!("{cell}: gradients"));
        let low_sketches = gradients(&self.files, &renderer, &annotated(&low_confidence), lora_seed, &bar)?;
        let random_sketches = gradients(&self.files, &renderer, &annotated(&random), lora_seed, &bar)?;
        bar.finish_and_clear();
        let conf_avg_k = random.iter().filter_map(|&i| confidence.confidence[i]).sum::<f64>()
            / random.iter().filter(|&&i| confidence.confidence[i].is_some()).count().max(1) as f64;
        Ok(MetricsCell {
            id: cell.to_string(),
            key_sha256,
            key,
            task: task_name.to_string(),
            repeat,
            draw_seed,
            lora_seed,
            k: m.k,
            pool: pool.len(),
            low_confidence_pool: low.len(),
            cos_low: median_cosine(&low_sketches).with_context(|| format!("{cell}: CoS-Low"))?,
            cos_sim_k: median_cosine(&random_sketches).with_context(|| format!("{cell}: cos_sim_k"))?,
            grad_norm_k: mean_norm(&random_sketches),
            conf_avg_k,
            low_confidence,
            random,
        })
    }

    /// How many label candidates a test example of `task` is scored against (for the ETA).
    pub fn label_count(&self, loaded: &LoadedTask) -> usize {
        if !self.profile.eval.label_scores {
            return 0;
        }
        loaded.splits.test.first().map_or(0, |e| candidates(&loaded.task, e).len())
    }
}

/// What [`Study::run_all`] did.
#[derive(Debug)]
pub struct Swept {
    pub computed: usize,
    /// Cells skipped because another live process held their lock, with its `host pid`.
    pub busy: Vec<(CellId, String)>,
}

/// What became of one cell asked for.
#[derive(Debug)]
enum Outcome {
    Computed,
    /// Done already, or by the writer waited for.
    Done,
    /// Held by another live writer (`host pid`).
    Busy(String),
}

/// A cell as pretty JSON with a final newline.
fn serialise<T: Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// The default results directory of a model: `results/live/<name>` ([`crate::live::model_dir_name`]).
pub fn default_out(root: &Path, spec: &str) -> PathBuf {
    root.join("results/live").join(crate::live::model_dir_name(spec))
}

/// Refuse to write profile `name`'s cells into `out` when its `profile.toml` says another
/// profile's results are there. Cells of two profiles share their paths (`curve/<task>/n32` is in
/// both `quick` and `cpu`) and differ in their keys, so a second profile's sweep would take the
/// first's cells for stale and overwrite them: hours of results lost to a mistyped `--out`. A
/// changed profile of the *same* name is allowed; its stale cells are recomputed on purpose.
pub fn check_same_profile(out: &Path, name: &str) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let path = out.join("profile.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let held: Named = toml::from_str(&text).with_context(|| format!("{}: expected a profile with a `name`", path.display()))?;
    if held.name != name {
        bail!(
            "{} holds the results of profile `{}`; refusing to write profile `{name}`'s cells there (cells of the same \
             name would be overwritten). Give another --out, or remove that directory to start over.",
            out.display(),
            held.name
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_same_profile;

    #[test]
    fn a_directory_of_another_profile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        check_same_profile(dir.path(), "quick").expect("an empty directory takes any profile");
        std::fs::write(dir.path().join("profile.toml"), "name = \"cpu\"\nbudgets = [0, 32]\n").unwrap();
        check_same_profile(dir.path(), "cpu").expect("the same profile resumes");
        let err = check_same_profile(dir.path(), "quick").unwrap_err().to_string();
        assert!(err.contains("profile `cpu`") && err.contains("`quick`"), "{err}");
        std::fs::write(dir.path().join("profile.toml"), "budgets = [0]\n").unwrap();
        let err = format!("{:#}", check_same_profile(dir.path(), "cpu").unwrap_err());
        assert!(err.contains("profile.toml") && err.contains("`name`"), "{err}");
    }
}
