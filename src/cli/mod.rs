//! Command-line verbs; each lives in its own module.
//!
//! Verbs write their output with `writeln!` to a locked stdout and return the write's error, so
//! that a reader closing the pipe (`| head`) ends the program quietly ([`dataeff::exit`]).

mod auc;
mod coslow;
mod coefficients;
mod fit;
mod generate;
mod model_args;
mod model_info;
mod numbers;
mod plan;
mod predict;
mod project_data;
mod score;
mod select;
mod sweep;
mod tasks;

use clap::{CommandFactory as _, Parser, Subcommand};

/// Estimate how many labelled examples a task needs before fine-tuning a language model on it
/// is good enough (Je & Raffel, 2025: data-efficiency AUC and CoS-Low).
#[derive(Parser, Debug)]
#[command(
    name = "dataeff",
    version,
    about,
    long_about = None,
    after_help = "Errors are one line; DATAEFF_BACKTRACE=1 adds where they were raised."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Data-efficiency AUC of every task of one family, from a directory laid out like the
    /// authors' published results.
    Auc(auc::Args),
    /// Predict AUC, curve and budget from a CoS-Low value with a family's coefficients.
    Predict(predict::Args),
    /// The next budget to annotate, from CoS-Low and the fine-tuned scores measured so far.
    Plan(plan::Args),
    /// Fit AUC = c · CoS-Low + I to your own tasks and write a coefficients CSV.
    Fit(fit::Args),
    /// The task suite: list tasks with their splits, or show rendered prompts of one.
    Tasks(tasks::Args),
    /// Greedy-generate a continuation of a prompt (optionally as one chat turn).
    Generate(generate::Args),
    /// Log-probability of a continuation given a prompt.
    Score(score::Args),
    /// What a model is: architecture, size, dtype, file and sha256.
    ModelInfo(model_info::Args),
    /// The live study: fine-tuning curves, confidence and CoS-Low for one model, cell by cell
    /// (`plan` lists the cells and an ETA, `run` computes what is not done).
    Sweep(sweep::Args),
    /// Your own task, step 1: rank an unannotated JSONL pool by the model's confidence and pick
    /// k low-confidence prompts to annotate.
    Select(select::Args),
    /// Your own task, step 2: CoS-Low of the annotated low-confidence examples (prints
    /// `coslow <value>`; feed it to `dataeff predict`).
    Coslow(coslow::Args),
}

/// The command line, or clap's error and exit (an argument that is not UTF-8 named by its place).
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let named = dataeff::exit::non_utf8_argument(std::env::args_os());
            Cli::command().error(e.kind(), named.unwrap_or_else(|| e.to_string())).exit()
        }
        Err(e) => e.exit(),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Auc(args) => auc::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Fit(args) => fit::run(args),
        Command::Tasks(args) => tasks::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Score(args) => score::run(args),
        Command::ModelInfo(args) => model_info::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Select(args) => select::run(args),
        Command::Coslow(args) => coslow::run(args),
    }
}
