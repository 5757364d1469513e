//! `dataeff` command line: see `dataeff --help`.

mod cli;

fn main() -> std::process::ExitCode {
    dataeff::exit::capture_backtraces_if_requested();
    dataeff::model::pin_thread_count();
    let args = cli::parse();
    dataeff::exit::finish(cli::run(args))
}
