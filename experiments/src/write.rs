//! Writing experiments' outputs: each table as `results/<name>.md` and `.csv`, each figure as
//! `paper_figures/<name>.svg` and `.png`, each document at its path; all atomically, so a killed
//! run never leaves half a file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dataeff::fsio::write_atomic;

use crate::experiment::{Context, Experiment, FIGURES_DIR, Output, RESULTS_DIR};
use crate::report;

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

/// Run every section of the report, write its files, and write the report from their outputs
/// (each section runs once).
pub fn reproduce(ctx: &Context) -> anyhow::Result<Vec<PathBuf>> {
    reproduce_into(ctx, &ctx.root)
}

/// [`reproduce`], writing under `out` instead of the project (`cargo xtask live --out`).
pub fn reproduce_into(ctx: &Context, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut sections = Vec::new();
    for exp in crate::sections() {
        eprintln!("[{}] {}", exp.id(), exp.title());
        let output = exp.run(ctx).with_context(|| format!("experiment `{}`", exp.id()))?;
        written.extend(write_output(out, &output)?);
        sections.push((exp, output));
    }
    written.extend(write_output(out, &report::compose(&sections)?)?);
    Ok(written)
}
