//! `dataeff` command line: see `dataeff --help`.

mod cli;

fn main() -> std::process::ExitCode {
    dataeff::exit::library_backtraces_only_if_requested();
    dataeff::model::pin_thread_count();
    dataeff::model::keep_freed_memory();
    let args = cli::parse();
    dataeff::exit::finish(cli::run(args))
}
