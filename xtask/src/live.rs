//! `cargo xtask live`: the live study end to end — the sweep through the `dataeff` binary, a
//! second sweep that must compute nothing, then every analysis and the report over the results.

use std::path::Path;

use anyhow::{Context as _, bail};
use dataeff_experiments::Context;

pub fn run(root: &Path, profile: &str, model: &str, out: Option<&Path>, release: bool) -> anyhow::Result<()> {
    let out_root = out.unwrap_or(root);
    let live_root = out_root.join("results/live");
    let results = live_root.join(dataeff::live::model_dir_name(model));
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let release = release.then_some("--release");
    let sweep = || {
        crate::nested_cargo(xshell::cmd!(
            sh,
            "cargo run --quiet {release...} --bin dataeff -- sweep run --profile {profile} --model {model} --out {results}"
        ))
    };
    eprintln!("== sweep: profile {profile}, model {model} -> {}", results.display());
    let started = std::time::Instant::now();
    sweep().run()?;
    eprintln!("== sweep took {:.0} s; a second run must compute nothing", started.elapsed().as_secs_f64());
    let second = sweep().read()?;
    println!("{second}");
    if !second.contains(": 0 cells computed") {
        bail!("a second sweep over finished cells computed something: {second}");
    }
    eprintln!("== analyses and report over {}", live_root.display());
    let ctx = Context::load_with_live(root, &live_root)?;
    let written = dataeff_experiments::reproduce_into(&ctx, out_root).context("the analyses of the live results")?;
    println!("regenerated {} files under {}", written.len(), out_root.display());
    Ok(())
}
