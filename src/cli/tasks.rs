//! `dataeff tasks list|show`: the task suite, its splits and (where published) the paper's AUCs.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use dataeff::curve::{MAX_BUDGET, task_auc};
use dataeff::family::Family;
use dataeff::tasks::split::{self, Split, SplitConfig, answer_position_balance, class_balance, majority_share};
use dataeff::tasks::{self, CATALOGUE, DataError};
use dataeff::tidy::PublishedData;

use super::{numbers, project_data};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Every task: source, split sizes, answer type, metric, class balance, the paper's AUCs.
    List {
        #[command(flatten)]
        common: Common,
        /// Directory of the transcribed published data (scores.csv, human_level.csv). Default: the
        /// project's data/published, found above the current directory or the binary.
        #[arg(long, value_name = "DIR")]
        published: Option<PathBuf>,
    },
    /// Print rendered prompts of one task with their answers.
    #[command(after_help = "Example: dataeff tasks show web_of_lies --split test --n 3")]
    Show {
        /// Task name (see `dataeff tasks list`).
        task: String,
        #[arg(long, value_enum, default_value_t = Split::Test)]
        split: Split,
        /// How many examples to print.
        #[arg(long, default_value_t = 3, allow_negative_numbers = true, value_parser = numbers::whole::<usize>)]
        n: usize,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args, Debug)]
struct Common {
    /// Data cache (default: $DATAEFF_CACHE, else ~/.cache/dataeff; filled by `cargo xtask fetch-data`).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Seed of the splits.
    #[arg(long, default_value_t = split::SPLIT_SEED, allow_negative_numbers = true, value_parser = numbers::whole::<u64>)]
    seed: u64,
}

impl Common {
    fn cache(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(dataeff::provenance::cache_dir)
    }

    fn config(&self) -> SplitConfig {
        SplitConfig { seed: self.seed, ..SplitConfig::default() }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List { common, published } => list(&common, published),
        Command::Show { task, split, n, common } => show(&task, split, n, &common),
    }
}

/// The paper's AUC of `task` for each family (`None` where not published or not computable).
fn published_aucs(data: Option<&PublishedData>, task: Option<&str>) -> Vec<Option<f64>> {
    Family::ALL
        .iter()
        .map(|family| {
            let (data, task) = (data?, task?);
            let results = data.results(*family, task)?;
            task_auc(task, results, data.human_level(task)).ok().map(|s| s.extrapolation_auc)
        })
        .collect()
}

/// The published data and where it came from. `--published DIR` must load; without it the
/// project's own is looked for (`project_data`), and only its absence is a note: the table is
/// still useful without the paper's columns. A copy that is found but unreadable is an error.
fn published_data(explicit: Option<PathBuf>) -> anyhow::Result<Option<(PathBuf, PublishedData)>> {
    let (dir, named_by) = match explicit {
        Some(dir) => (dir, "--published"),
        None => match project_data::published_dir() {
            Ok(dir) => (dir, "the project's published data"),
            Err(e) => {
                eprintln!("note: the paper's AUC columns are empty: {e} (run inside the repository, or pass --published DIR)");
                return Ok(None);
            }
        },
    };
    let data = PublishedData::load(&dir).with_context(|| format!("{named_by} {}", dir.display()))?;
    Ok(Some((dir, data)))
}

fn list(common: &Common, published: Option<PathBuf>) -> anyhow::Result<()> {
    let cache = common.cache();
    let (published, data) = published_data(published)?.unzip();
    let fmt_auc = |a: Option<f64>| a.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<37} {:<16} {:>6} {:>5} {:>5} {:>6} {:>5} {:<24} {:<11} {:>7} {:>6} {:>6} {:>7} {:>6}  note",
        "task",
        "source",
        "n",
        "dups",
        "train",
        "unann",
        "test",
        "answer",
        "metric",
        "classes",
        "maj%",
        "llama",
        "mistral",
        "qwen"
    )?;
    // The tasks whose data is not in the cache, grouped by remedy (one per source), in order.
    let mut missing: Vec<(String, Vec<&str>, String)> = Vec::new();
    for spec in CATALOGUE {
        let aucs: Vec<String> = published_aucs(data.as_ref(), spec.paper_task).into_iter().map(fmt_auc).collect();
        let task = match tasks::load(spec.name, &cache) {
            Ok(task) => task,
            Err(e @ DataError::Missing { .. }) => {
                let DataError::Missing { hint, .. } = &e else { unreachable!() };
                let what = match spec.origin {
                    tasks::Origin::BigBench(..) => "unavailable: BIG-bench data not in the cache",
                    _ => "unavailable: data not in the cache",
                };
                writeln!(out, "{:<37} {what:<100} {:>6} {:>7} {:>6}", spec.name, aucs[0], aucs[1], aucs[2])?;
                match missing.iter_mut().find(|(h, ..)| h == hint) {
                    Some((_, names, _)) => names.push(spec.name),
                    None => missing.push((hint.clone(), vec![spec.name], e.to_string())),
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let splits = split::split(&task.examples, &common.config());
        let mut notes = Vec::new();
        if splits.train.len() < MAX_BUDGET as usize {
            notes.push(format!("train pool < {MAX_BUDGET}"));
        }
        if let Some(paper) = spec.paper_task.filter(|p| *p != spec.name) {
            notes.push(format!("generated stand-in for {paper}"));
        }
        if let Some(v) = tasks::generators::variants().into_iter().find(|v| v.name == spec.name) {
            notes.push(format!("variant of {}: {}", v.base.name(), v.knobs));
        }
        let classes = class_balance(&splits.train).len();
        writeln!(
            out,
            "{:<37} {:<16} {:>6} {:>5} {:>5} {:>6} {:>5} {:<24} {:<11} {:>7} {:>5.1}% {:>6} {:>7} {:>6}  {}",
            task.name,
            task.source.to_string(),
            task.examples.len(),
            splits.duplicates,
            splits.train.len(),
            splits.unannotated.len(),
            splits.test.len(),
            task.answer.to_string(),
            task.metric.to_string(),
            classes,
            100.0 * majority_share(&splits.test),
            aucs[0],
            aucs[1],
            aucs[2],
            notes.join("; ")
        )?;
    }
    let source = published.map_or_else(|| "not found".to_string(), |p| p.display().to_string());
    writeln!(
        out,
        "\nn: examples before deduplication; classes: distinct answers in the train pool; maj%: share of the \
         most frequent answer in the test set; llama/mistral/qwen: the paper's AUC (from {source})."
    )?;
    for (_, names, first) in &missing {
        let count = if names.len() == 1 { "1 task".to_string() } else { format!("{} tasks", names.len()) };
        eprintln!("unavailable, {count} ({}): {first}", names.join(", "));
    }
    Ok(())
}

fn show(name: &str, which: Split, n: usize, common: &Common) -> anyhow::Result<()> {
    let task = tasks::load(name, &common.cache()).with_context(|| format!("loading task `{name}`"))?;
    let mut out = std::io::stdout().lock();
    let splits = split::split(&task.examples, &common.config());
    let examples = splits.get(which);
    writeln!(
        out,
        "{} ({}; answer: {}; metric: {}; template: {})",
        task.name, task.source, task.answer, task.metric, task.template.path
    )?;
    writeln!(
        out,
        "splits: train {}, unannotated {}, test {} ({} duplicate inputs dropped)",
        splits.train.len(),
        splits.unannotated.len(),
        splits.test.len(),
        splits.duplicates
    )?;
    let balance = class_balance(examples);
    let shown: Vec<String> = balance.iter().take(10).map(|(label, c)| format!("{label}: {c}")).collect();
    let more = if balance.len() > 10 { format!(", ... ({} answers)", balance.len()) } else { String::new() };
    writeln!(out, "answers in {which:?}: {}{more}", shown.join(", "))?;
    let positions = answer_position_balance(examples);
    if !positions.is_empty() {
        let shown: Vec<String> = positions.iter().enumerate().map(|(i, c)| format!("#{}: {c}", i + 1)).collect();
        writeln!(out, "position of the answer among the options: {}", shown.join(", "))?;
    }
    for (i, example) in examples.iter().take(n).enumerate() {
        writeln!(out, "\n--- {which:?} example {} ---", i + 1)?;
        writeln!(out, "{}", task.render(example))?;
        writeln!(out, ">>> {}", example.target())?;
        if example.targets.len() > 1 {
            writeln!(out, "    (also accepted: {})", example.targets[1..].join(" | "))?;
        }
    }
    Ok(())
}
