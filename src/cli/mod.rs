//! Command-line verbs; each lives in its own module.

mod auc;
mod generate;
mod model_args;
mod model_info;
mod predict;
mod score;
mod tasks;

use clap::{Parser, Subcommand};

/// Estimate how many labelled examples a task needs before fine-tuning a language model on it
/// is good enough (Je & Raffel, 2025: data-efficiency AUC and CoS-Low).
#[derive(Parser, Debug)]
#[command(name = "dataeff", version, about, long_about = None)]
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
    /// The task suite: list tasks with their splits, or show rendered prompts of one.
    Tasks(tasks::Args),
    /// Greedy-generate a continuation of a prompt (optionally as one chat turn).
    Generate(generate::Args),
    /// Log-probability of a continuation given a prompt.
    Score(score::Args),
    /// What a model is: architecture, size, dtype, file and sha256.
    ModelInfo(model_info::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Auc(args) => auc::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Tasks(args) => tasks::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Score(args) => score::run(args),
        Command::ModelInfo(args) => model_info::run(args),
    }
}
