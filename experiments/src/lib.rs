//! The experiments: one module per table or figure of the report.
//!
//! Each experiment declares its inputs and turns the [`Context`] (data loaded from `data/`) into an
//! [`Output`]: tables (written to `results/<name>.md` and `.csv`), figures (written to
//! `paper_figures/<name>.svg` and `.png`) and a short report section. Numbers flow one way:
//! `data/` in, `results/` and `paper_figures/` out; no experiment reads another's output files.

pub mod figure;
pub mod study;
pub mod table;

mod annotation_savings;
mod auc_table;
mod baselines;
mod coefficients;
mod cos_low_value;
mod curve_shape_error;
mod curves;
mod extrapolation_baseline;
mod family_agreement;
mod report;
mod uncertainty;
mod zero_shot_vs_auc;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dataeff::fsio::write_atomic;
use dataeff::tidy::PublishedData;

pub use figure::Figure;
pub use table::{Cell, Table};

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

/// Where the transcribed published results live, relative to the project root.
pub const PUBLISHED_DIR: &str = "data/published";
pub const RESULTS_DIR: &str = "results";
pub const FIGURES_DIR: &str = "paper_figures";

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

const PUBLISHED_INPUTS: &[&str] = &["data/published/scores.csv", "data/published/human_level.csv"];

/// Every experiment, in report order (the report itself last).
pub fn registry() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(curves::Curves),
        Box::new(auc_table::AucTable),
        Box::new(zero_shot_vs_auc::ZeroShotVsAuc),
        Box::new(family_agreement::FamilyAgreement),
        Box::new(coefficients::CoefficientsExperiment),
        Box::new(curve_shape_error::CurveShapeError),
        Box::new(extrapolation_baseline::ExtrapolationBaseline),
        Box::new(annotation_savings::AnnotationSavings),
        Box::new(uncertainty::Uncertainty),
        Box::new(cos_low_value::CosLowValue),
        Box::new(report::Report),
    ]
}

/// Write an output's files atomically; returns the paths written.
pub fn write_output(root: &Path, output: &Output) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |path: PathBuf, bytes: &[u8]| -> anyhow::Result<()> {
        write_atomic(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for t in &output.tables {
        put(root.join(RESULTS_DIR).join(format!("{}.md", t.name)), t.to_markdown().as_bytes())?;
        put(root.join(RESULTS_DIR).join(format!("{}.csv", t.name)), t.to_csv().as_bytes())?;
    }
    for (path, text) in &output.documents {
        put(root.join(path), text.as_bytes())?;
    }
    for f in &output.figures {
        put(root.join(FIGURES_DIR).join(format!("{}.svg", f.name)), f.svg.as_bytes())?;
        put(root.join(FIGURES_DIR).join(format!("{}.png", f.name)), &f.png)?;
    }
    Ok(written)
}

/// Run one experiment and write its files.
pub fn run_and_write(exp: &dyn Experiment, ctx: &Context) -> anyhow::Result<Vec<PathBuf>> {
    let output = exp.run(ctx).with_context(|| format!("experiment `{}`", exp.id()))?;
    write_output(&ctx.root, &output)
}

/// Run every experiment, write its files, and write the report from their outputs.
pub fn reproduce(ctx: &Context) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut sections = Vec::new();
    for exp in registry().into_iter().filter(|e| e.id() != report::ID) {
        eprintln!("[{}] {}", exp.id(), exp.title());
        let output = exp.run(ctx).with_context(|| format!("experiment `{}`", exp.id()))?;
        written.extend(write_output(&ctx.root, &output)?);
        sections.push((exp, output));
    }
    written.extend(write_output(&ctx.root, &report::compose(ctx, &sections)?)?);
    Ok(written)
}
