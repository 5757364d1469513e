//! `dataeff sweep plan|run|slurm`: the live study's cells for one model and one profile.

mod slurm;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use dataeff::study::cells::{CellId, Status};
use dataeff::study::plan::{Work, calibrate, token_counts, work};
use dataeff::study::sweep::default_out;
use dataeff::study::{Profile, Study};

use super::model_args::{ModelArgs, Precision};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
A profile is a TOML file: data/profiles/{quick,cpu,paper}.toml, or a path. Cells are files under
<out>/cells/: curve/<task>/n<budget>.json (+ .predictions.jsonl), confidence/<task>.json,
metrics/<task>/r<repeat>.json. A cell is done when its recorded key (model sha256, task data,
split seed, prompt template, chat format, the profile parameters it uses, seeds, dataeff's
version) is the one the run would use; otherwise it is recomputed. A killed run resumes where it
stopped.

Examples:
  dataeff sweep plan --profile quick
  dataeff sweep run --profile quick --model gemma-3-270m
  dataeff sweep run --profile cpu --cell curve/web_of_lies/n64
  dataeff sweep slurm --profile paper --model /shared/models/llama-8b --partition gpu --gpus 1 --time 04:00:00 --submit")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Args, Debug)]
struct Common {
    /// The profile: quick, cpu, paper (data/profiles/<name>.toml) or a path to a .toml file.
    #[arg(long, default_value = "quick")]
    profile: String,
    /// A known model (smollm2-135m-instruct, gemma-3-270m), a .gguf file or a model directory
    /// (see `dataeff generate --help`). Its dtype is the profile's.
    #[arg(long, default_value = dataeff::provenance::DEFAULT_MODEL)]
    model: String,
    /// How chat turns are written (see `dataeff generate --help`): auto, template, or one of ours.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    chat_format: dataeff::model::chat::ChatChoice,
    /// Results directory (default: results/live/<model>/ of the project).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Task data cache (default: $DATAEFF_CACHE, else ~/.cache/dataeff; `cargo xtask fetch-data` fills it).
    #[arg(long)]
    data_cache: Option<PathBuf>,
    /// A directory of prompt templates: <task>.txt there replaces the task's own
    /// (prompts/tasks/<task>.txt); the cells of that task are then recomputed.
    #[arg(long)]
    prompts: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// List the cells, which are done, and an ETA from a short calibration run on this machine.
    Plan {
        #[command(flatten)]
        common: Common,
        /// Skip the calibration (no ETA).
        #[arg(long)]
        no_calibrate: bool,
        /// Fail (exit status 1) unless every cell is done: the last step of a cluster run.
        #[arg(long)]
        check: bool,
    },
    /// Write the summary tables of the results directory's cells: curves.csv (task, budget, score,
    /// format_free_score, n_test, skipped), auc.csv (task, auc, zero_shot, ceiling, auc_se,
    /// format_free_auc, format_free_auc_se, note; auc_se: the AUC's test-set standard error, a
    /// bootstrap over the test examples) and metrics.csv (task, repeat, draw_seed, lora_seed, zero_shot, grad_norm_k, conf_avg_k,
    /// cos_sim_k, coslow). Reads only the cells; runs no model.
    Gather {
        #[command(flatten)]
        common: Common,
    },
    /// Compute every cell not done yet (or only the cells named with --cell).
    Run {
        #[command(flatten)]
        common: Common,
        /// Run only this cell (repeatable), e.g. curve/hyperbaton/n32, confidence/hyperbaton,
        /// metrics/hyperbaton/r0.
        #[arg(long, value_name = "ID")]
        cell: Vec<CellId>,
    },
    /// Write a SLURM job array over the cells not done yet (one array task per cell or chunk of
    /// cells) and a gather step that runs after every task succeeded; print the sbatch commands,
    /// or submit them with --submit. Running it again after failures submits only what is missing.
    #[command(after_help = "\
The results directory (--out) and the dataeff binary must be on a filesystem every node sees;
the scripts pass the nodes DATAEFF_CACHE (the task data and known models) and run from the
directory this command runs in. While a cell is computed its writer holds <cell>.json.lock
(flock), so array tasks never compute one cell twice at once and a cancelled task leaves no
cell that looks done. sbatch's refusal (an unknown partition, a time limit over the
partition's) is reported with SLURM's own message; so is a job SLURM accepts but would leave
pending forever (squeue's reason PartitionTimeLimit and the like), which is then cancelled.

Examples:
  dataeff sweep slurm --profile quick --max-parallel 4            # write the scripts, print the commands
  dataeff sweep slurm --profile paper --model /shared/llama-8b --partition gpu --gpus 1 \\
      --cpus 8 --mem 64 --time 06:00:00 --max-parallel 16 --submit")]
    Slurm {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        slurm: slurm::SlurmArgs,
    },
}

fn study(common: &Common) -> anyhow::Result<Study> {
    let root = super::project_data::project_root().map_err(anyhow::Error::msg)?;
    let (profile, _) = Profile::load(&common.profile, &root)?;
    let dtype = match profile.dtype.as_str() {
        "bf16" => Precision::Bf16,
        _ => Precision::F32,
    };
    let model = ModelArgs { model: common.model.clone(), dtype, chat_format: common.chat_format.clone() };
    let files = model.open()?;
    let out = common.out.clone().unwrap_or_else(|| default_out(&root, &common.model));
    let data_cache = common.data_cache.clone().unwrap_or_else(dataeff::provenance::cache_dir);
    Study::new(profile, files, out, data_cache, common.prompts.clone())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Plan { common, no_calibrate, check } => plan(&common, no_calibrate, check),
        Action::Slurm { common, slurm } => slurm::run(&common, &slurm),
        Action::Gather { common } => gather(&common),
        Action::Run { common, cell } => {
            let study = study(&common)?;
            let mut out = std::io::stdout().lock();
            if cell.is_empty() {
                let swept = study.run_all()?;
                let (computed, busy) = (swept.computed, swept.busy.len());
                let total = study.cells().len();
                let elsewhere = if busy == 0 { String::new() } else { format!(", {busy} being computed by another process (run again once it is done)") };
                writeln!(out, "sweep {}: {computed} cells computed, {} already done{elsewhere}; results in {}", study.profile.name, total - computed - busy, study.out.display())?;
            } else {
                for id in &cell {
                    let computed = study.run_cell(id).with_context(|| format!("cell {id}"))?;
                    writeln!(out, "{id}: {}", if computed { "computed" } else { "already done" })?;
                }
            }
            Ok(())
        }
    }
}

fn gather(common: &Common) -> anyhow::Result<()> {
    let root = super::project_data::project_root().map_err(anyhow::Error::msg)?;
    let out = common.out.clone().unwrap_or_else(|| default_out(&root, &common.model));
    anyhow::ensure!(out.join("cells").is_dir(), "{} has no cells/ (run `dataeff sweep run` first)", out.display());
    let results = dataeff::live::LiveResults::read(&out)?;
    let mut stdout = std::io::stdout().lock();
    for (name, text) in results.summary_tables()? {
        let path = out.join(name);
        dataeff::fsio::write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        writeln!(stdout, "wrote {} ({} rows)", path.display(), text.lines().count().saturating_sub(1))?;
    }
    Ok(())
}

fn plan(common: &Common, no_calibrate: bool, check: bool) -> anyhow::Result<()> {
    let study = study(common)?;
    let calibration = if no_calibrate { None } else { Some(calibrate(&study)?) };
    let mut out = std::io::stdout().lock();
    writeln!(out, "profile {}: {}", study.profile.name, study.profile.description)?;
    writeln!(out, "model {} (sha256 {}), results in {}", study.files.spec, &study.model_sha256[..12], study.out.display())?;
    if let Some(c) = &calibration {
        writeln!(
            out,
            "calibration on this machine: training {:.1} ms/token, prefill {:.2} ms/token, decoding {:.0} ms/token, gradients {:.1} ms/token",
            c.train * 1e3,
            c.prefill * 1e3,
            c.decode * 1e3,
            c.gradient * 1e3
        )?;
    }
    writeln!(out, "{:<48} {:<8} {:>10}", "cell", "status", "estimate")?;
    let (mut done, mut remaining, mut total) = (0usize, 0.0, 0.0);
    let mut not_done = Vec::new();
    let mut current: Option<(String, dataeff::study::plan::TokenCounts, usize)> = None;
    let (mut work_all, mut work_left) = (Work::default(), Work::default());
    for cell in study.cells() {
        let status = study.status(&cell)?;
        if current.as_ref().is_none_or(|(t, _, _)| t != cell.task()) {
            let loaded = study.task(cell.task())?;
            current = Some((cell.task().to_string(), token_counts(&study, &loaded)?, study.label_count(&loaded)));
        }
        let (_, tokens, labels) = current.as_ref().expect("set above");
        let cell_work = work(&study, &cell, tokens, *labels);
        work_all += cell_work;
        if status != Status::Done {
            work_left += cell_work;
        }
        let seconds = calibration.as_ref().map(|c| cell_work.seconds(c));
        let word = match status {
            Status::Done => "done",
            Status::Stale => "stale",
            Status::Missing => "to do",
        };
        if status == Status::Done {
            done += 1;
        } else {
            not_done.push(cell.to_string());
            remaining += seconds.unwrap_or(0.0);
        }
        total += seconds.unwrap_or(0.0);
        let shown = seconds.map_or_else(|| "-".to_string(), duration);
        writeln!(out, "{:<48} {:<8} {:>10}", cell.to_string(), word, shown)?;
    }
    let cells = study.cells().len();
    writeln!(out, "{done} of {cells} cells done")?;
    if calibration.is_some() {
        writeln!(out, "ETA {} for the {} cells to do (whole profile: {})", duration(remaining), cells - done, duration(total))?;
    }
    let tokens = |w: &Work| {
        format!("{:.3e} training, {:.3e} forward, {:.3e} generated, {:.3e} gradient tokens", w.train, w.prefill, w.decode, w.gradient)
    };
    writeln!(out, "work of the whole profile: {}", tokens(&work_all))?;
    if done > 0 && done < cells {
        writeln!(out, "work of the cells to do: {}", tokens(&work_left))?;
    }
    if check && !not_done.is_empty() {
        let shown = not_done.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let more = if not_done.len() > 5 { format!(" and {} more", not_done.len() - 5) } else { String::new() };
        anyhow::bail!("--check: {} of {cells} cells are not done ({shown}{more}) in {}", not_done.len(), study.out.display());
    }
    Ok(())
}

/// Seconds as `1h 02m`, `3m 05s` or `12s`.
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
