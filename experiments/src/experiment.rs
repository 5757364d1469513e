//! The contract every experiment fulfils: what it is given ([`Context`]), what it returns
//! ([`Output`]), and where the project keeps its data and writes its results.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dataeff::tidy::PublishedData;

use crate::figure::Figure;
use crate::table::Table;

/// Where the transcribed published results live, relative to the project root.
pub const PUBLISHED_DIR: &str = "data/published";
/// Where tables are written (`<name>.md` and `<name>.csv`), relative to the project root.
pub const RESULTS_DIR: &str = "results";
/// Where figures (`<name>.svg` and `<name>.png`) and the report are written.
pub const FIGURES_DIR: &str = "paper_figures";
/// The inputs of every experiment that starts from the published curves.
pub const PUBLISHED_INPUTS: &[&str] = &["data/published/scores.csv", "data/published/human_level.csv"];

/// Inputs shared by every experiment, loaded once.
pub struct Context {
    pub root: PathBuf,
    pub published: PublishedData,
}

impl Context {
    /// Load the project's data files under `root/data`.
    pub fn load(root: &Path) -> anyhow::Result<Context> {
        let published = PublishedData::load(&root.join(PUBLISHED_DIR))
            .with_context(|| "loading the transcribed published results (regenerate with `cargo xtask transcribe`)")?;
        Ok(Context { root: root.to_path_buf(), published })
    }
}

/// What one experiment produces.
#[derive(Default)]
pub struct Output {
    pub tables: Vec<Table>,
    pub figures: Vec<Figure>,
    /// Markdown for the report: what the table/figure shows, with the paper's value where it has one.
    pub summary: String,
    /// Other text files, by path relative to the project root (the report).
    pub documents: Vec<(PathBuf, String)>,
}

/// One table or figure of the report.
pub trait Experiment {
    /// Short id used by `cargo xtask figure <id>`.
    fn id(&self) -> &'static str;
    /// One line: what it shows.
    fn title(&self) -> &'static str;
    /// Files it reads, relative to the project root.
    fn inputs(&self) -> &'static [&'static str];
    fn run(&self, ctx: &Context) -> anyhow::Result<Output>;
}
