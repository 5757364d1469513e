//! `cargo xtask live`: the live study end to end — the sweep through the `dataeff` binary, a
//! second sweep that must compute nothing, the summary tables (`sweep gather`), then every
//! analysis and the report over the results.

use std::path::Path;

use anyhow::{Context as _, bail};
use dataeff_experiments::Context;

pub fn run(root: &Path, profile: &str, model: &str, out: Option<&Path>, release: bool) -> anyhow::Result<()> {
    let out_root = out.unwrap_or(root);
    let live_root = out_root.join("results/live");
    let results = live_root.join(dataeff::live::model_dir_name(model));
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let dataeff = build_dataeff(&sh, root, release)?;
    let sweep = || xshell::cmd!(sh, "{dataeff} sweep run --profile {profile} --model {model} --out {results}");
    eprintln!("== sweep: profile {profile}, model {model} -> {}", results.display());
    let started = std::time::Instant::now();
    sweep().run()?;
    eprintln!("== sweep took {:.0} s; a second run must compute nothing", started.elapsed().as_secs_f64());
    let second = sweep().read()?;
    println!("{second}");
    if !second.contains(": 0 cells computed") {
        bail!("a second sweep over finished cells computed something: {second}");
    }
    xshell::cmd!(sh, "{dataeff} sweep gather --profile {profile} --model {model} --out {results}").run()?;
    if out.is_some() {
        compare_with_committed(&results, &root.join("results/live").join(dataeff::live::model_dir_name(model)))?;
    }
    eprintln!("== analyses and report over {}", live_root.display());
    let ctx = Context::load_with_live(root, &live_root)?;
    let written = dataeff_experiments::reproduce_into(&ctx, out_root).context("the analyses of the live results")?;
    println!("regenerated {} files under {}", written.len(), out_root.display());
    Ok(())
}

/// The `dataeff` binary. A dev build comes from `cargo test --workspace --no-run`, so that it is
/// the test suite's own (a plain `cargo build --bin dataeff` resolves the dependencies' features
/// differently and would compile a second copy of the runtime); `--release` builds its own.
fn build_dataeff(sh: &xshell::Shell, root: &Path, release: bool) -> anyhow::Result<std::path::PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    if release {
        crate::nested_cargo(xshell::cmd!(sh, "cargo build --release --bin dataeff")).run()?;
        Ok(target.join("release/dataeff"))
    } else {
        crate::nested_cargo(xshell::cmd!(sh, "cargo test --workspace --no-run --quiet")).run()?;
        Ok(target.join("debug/dataeff"))
    }
}

/// Say how many cell files of a fresh run are byte-identical to the committed ones (a
/// determinism check across runs and machines; informative, never a failure: a committed result
/// may come from another profile version).
fn compare_with_committed(fresh: &Path, committed: &Path) -> anyhow::Result<()> {
    let cells = committed.join("cells");
    if !cells.is_dir() {
        return Ok(());
    }
    let (mut same, mut differ, mut missing) = (0, Vec::new(), 0);
    let mut stack = vec![cells.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(committed)?;
            match std::fs::read(fresh.join(rel)) {
                Ok(bytes) if bytes == std::fs::read(&path)? => same += 1,
                Ok(_) => differ.push(rel.display().to_string()),
                Err(_) => missing += 1,
            }
        }
    }
    differ.sort();
    println!(
        "compared with the committed {}: {same} files identical, {} different{}, {missing} not in this run",
        committed.display(),
        differ.len(),
        if differ.is_empty() { String::new() } else { format!(" ({})", differ.join(", ")) }
    );
    Ok(())
}
