//! The contract every experiment fulfils: what it is given ([`Context`]), what it returns
//! ([`Output`]), and where the project keeps its data and writes its results.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dataeff::live::LiveResults;
use dataeff::tidy::PublishedData;

use crate::figure::Figure;
use crate::table::Table;

/// Where the transcribed published results live, relative to the project root.
pub const PUBLISHED_DIR: &str = "data/published";
/// Where tables are written (`<name>.md` and `<name>.csv`), relative to the project root.
pub const RESULTS_DIR: &str = "results";
/// Where figures (`<name>.svg` and `<name>.png`) and the report are written.
pub const FIGURES_DIR: &str = "paper_figures";
/// The live study's results (`<model>/cells/…`, see `dataeff::live`), relative to the project
/// root: written by the study (`dataeff sweep`), read by the live analyses, never written by an
/// experiment.
pub const LIVE_DIR: &str = "results/live";
/// The inputs of every experiment that starts from the published curves.
pub const PUBLISHED_INPUTS: &[&str] = &["data/published/scores.csv", "data/published/human_level.csv"];
/// The inputs of the live analyses: the live results, and the published curves and human levels
/// they are compared with.
pub const LIVE_INPUTS: &[&str] = &[LIVE_DIR, "data/published/scores.csv", "data/published/human_level.csv"];

/// Inputs shared by every experiment, loaded once.
pub struct Context {
    pub root: PathBuf,
    pub published: PublishedData,
    /// Every model directory under the live results directory with at least one cell, by name.
    pub live: Vec<LiveResults>,
}

impl Context {
    /// Load the project's data files under `root/data` and the live results under `root/results/live`.
    pub fn load(root: &Path) -> anyhow::Result<Context> {
        Context::load_with_live(root, &root.join(LIVE_DIR))
    }

    /// Load the data files under `root/data` and the live results under `live` (e.g. a test's
    /// fixture directory).
    pub fn load_with_live(root: &Path, live: &Path) -> anyhow::Result<Context> {
        let published = PublishedData::load(&root.join(PUBLISHED_DIR))
            .with_context(|| "loading the transcribed published results (regenerate with `cargo xtask transcribe`)")?;
        let live = LiveResults::read_all(live).with_context(|| format!("reading the live results under {}", live.display()))?;
        Ok(Context { root: root.to_path_buf(), published, live })
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
