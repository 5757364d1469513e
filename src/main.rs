//! `dataeff` command line: see `dataeff --help`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    dataeff::model::pin_thread_count();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
