//! `dataeff sweep slurm`: write (and with `--submit`, submit) a SLURM job array over the cells not
//! yet done, and its gather step (the scripts are `dataeff::study::slurm`'s).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use dataeff::fsio::write_atomic;
use dataeff::model::chat::ChatChoice;
use dataeff::study::Status;
use dataeff::study::slurm::{
    self, ARRAY_SCRIPT, ArrayOptions, GATHER_SCRIPT, LOGS, Node, Resources, SUBMIT_SCRIPT, check_partition, check_time,
};

use super::{Common, study};

#[derive(clap::Args, Debug)]
pub(super) struct SlurmArgs {
    /// The partition to submit to (sbatch --partition; default: the cluster's default partition).
    #[arg(long, value_parser = |s: &str| check_partition(s).map(|()| s.to_string()))]
    partition: Option<String>,
    /// Time limit of one array task (sbatch --time): MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or
    /// D-HH:MM:SS. A limit the partition does not allow is refused with SLURM's message.
    #[arg(long, value_name = "HH:MM:SS", value_parser = |s: &str| check_time(s).map(|()| s.to_string()))]
    time: Option<String>,
    /// GPUs per array task (sbatch --gpus; the gather step takes none).
    #[arg(long, value_name = "N")]
    gpus: Option<u32>,
    /// CPUs per array task (sbatch --cpus-per-task; also the task's thread count).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    cpus: Option<u32>,
    /// Memory per array task in GB (sbatch --mem=<G>G).
    #[arg(long, value_name = "G", value_parser = clap::value_parser!(u32).range(1..))]
    mem: Option<u32>,
    /// At most K array tasks at once (the array's %K throttle; default: as many as SLURM gives).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    max_parallel: Option<u64>,
    /// Cells per array task (one sweep run --cell … per task; a larger chunk pays the model
    /// loading once for several cells and keeps the array under the cluster's MaxArraySize).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    chunk: u64,
    /// Where the scripts and the jobs' logs go (default: <out>/slurm/; on a filesystem every
    /// node sees, as the results directory must be).
    #[arg(long, value_name = "DIR")]
    slurm_dir: Option<PathBuf>,
    /// SLURM's job name (default: dataeff-<profile>; the gather job adds -gather).
    #[arg(long)]
    job_name: Option<String>,
    /// The dataeff binary the nodes run (default: this one).
    #[arg(long, value_name = "PATH")]
    dataeff: Option<PathBuf>,
    /// Submit the array and the gather step with sbatch (else print the commands).
    #[arg(long)]
    submit: bool,
}

pub(super) fn run(common: &Common, args: &SlurmArgs) -> anyhow::Result<()> {
    let study = study(common)?;
    let cells = study.cells();
    let mut pending = Vec::new();
    for cell in &cells {
        if study.status(cell)? != Status::Done {
            pending.push(cell.clone());
        }
    }
    let mut out = std::io::stdout().lock();
    if pending.is_empty() {
        writeln!(out, "every cell of profile {} is done ({} cells in {}): nothing to submit", study.profile.name, cells.len(), study.out.display())?;
        return Ok(());
    }
    study.write_profile_copy()?;
    let dir = absolute(&args.slurm_dir.clone().unwrap_or_else(|| study.out.join("slurm")))?;
    let options = ArrayOptions {
        resources: Resources { partition: args.partition.clone(), time: args.time.clone(), gpus: args.gpus, cpus: args.cpus, mem_gb: args.mem },
        max_parallel: args.max_parallel.map(|k| k as usize),
        chunk: args.chunk as usize,
        job_name: args.job_name.clone().unwrap_or_else(|| format!("dataeff-{}", study.profile.name)),
    };
    let scripts = slurm::scripts(&pending, &node(common, &study, args)?, &options, &dir)?;
    std::fs::create_dir_all(dir.join(LOGS)).with_context(|| format!("creating {}", dir.join(LOGS).display()))?;
    for (name, text) in [(ARRAY_SCRIPT, &scripts.array), (GATHER_SCRIPT, &scripts.gather), (SUBMIT_SCRIPT, &scripts.submit)] {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    }
    make_executable(&dir.join(SUBMIT_SCRIPT))?;
    let throttle = options.max_parallel.map_or_else(String::new, |k| format!(", at most {k} at once"));
    let per_task = if options.chunk == 1 { "1 cell".to_string() } else { format!("up to {} cells", options.chunk) };
    writeln!(
        out,
        "{} of {} cells to do, as {} of {per_task}{throttle}: wrote {}, {GATHER_SCRIPT}, {SUBMIT_SCRIPT}",
        pending.len(),
        cells.len(),
        plural(scripts.array_tasks, "array task"),
        dir.join(ARRAY_SCRIPT).display()
    )?;
    if !args.submit {
        writeln!(out, "submit with {} (or --submit), which runs", dir.join(SUBMIT_SCRIPT).display())?;
        writeln!(out, "  sbatch --parsable {}", dir.join(ARRAY_SCRIPT).display())?;
        writeln!(out, "  sbatch {} {}", slurm::gather_dependency("<array job id>"), dir.join(GATHER_SCRIPT).display())?;
        return Ok(());
    }
    let array = sbatch(&[dir.join(ARRAY_SCRIPT).display().to_string()])?;
    let dependency: Vec<String> = slurm::gather_dependency(&array).split(' ').map(String::from).collect();
    let gather = match sbatch(&[dependency, vec![dir.join(GATHER_SCRIPT).display().to_string()]].concat()) {
        Ok(id) => id,
        Err(e) => {
            scancel(&array);
            return Err(e.context(format!("the gather job was refused, so array job {array} was cancelled")));
        }
    };
    if let Some(reason) = never_runs(&array) {
        scancel(&array);
        scancel(&gather);
        bail!("SLURM accepted array job {array} but will never start it (squeue's reason: {reason}); cancelled it and gather job {gather}");
    }
    writeln!(out, "submitted array job {array} ({}) and gather job {gather}; logs in {}", plural(scripts.array_tasks, "task"), dir.join(LOGS).display())?;
    writeln!(out, "watch with: squeue -j {array},{gather}")?;
    Ok(())
}

/// How the nodes run dataeff: from the directory this command runs in, with the flags it was
/// given (so relative paths, and the keys that record them, resolve as they do here).
fn node(common: &Common, study: &dataeff::study::Study, args: &SlurmArgs) -> anyhow::Result<Node> {
    let dataeff = match &args.dataeff {
        Some(path) => absolute(path)?,
        None => std::env::current_exe().context("finding this dataeff binary (pass --dataeff)")?,
    };
    let mut study_args = vec!["--profile".into(), common.profile.clone(), "--model".into(), common.model.clone()];
    match &common.chat_format {
        ChatChoice::Auto => {}
        ChatChoice::Template => study_args.extend(["--chat-format".into(), "template".into()]),
        ChatChoice::Format(name) => study_args.extend(["--chat-format".into(), name.clone()]),
    }
    study_args.extend(["--out".into(), absolute(&study.out)?.display().to_string()]);
    study_args.extend(["--data-cache".into(), absolute(&study.data_cache)?.display().to_string()]);
    if let Some(prompts) = &common.prompts {
        study_args.extend(["--prompts".into(), prompts.display().to_string()]);
    }
    let cache = absolute(&dataeff::provenance::cache_dir())?;
    Ok(Node {
        dataeff,
        workdir: std::env::current_dir().context("the current directory")?,
        study_args,
        env: vec![("DATAEFF_CACHE".into(), cache.display().to_string())],
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("making {} absolute", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// `sbatch --parsable ARGS`: the job id, or SLURM's own message as the error.
fn sbatch(args: &[String]) -> anyhow::Result<String> {
    let output = Command::new("sbatch").arg("--parsable").args(args).output().context("running sbatch (is SLURM installed and on PATH?)")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("sbatch {} was refused: {}", args.join(" "), stderr.trim().replace('\n', "; "));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout.trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch {} printed no job id: {stdout}{stderr}", args.join(" "));
    }
    Ok(id)
}

/// Reasons for which SLURM keeps a job pending forever (a cluster with EnforcePartLimits=NO
/// accepts a job over the partition's limits and leaves it so).
const NEVER_RUNS: [&str; 7] = [
    "PartitionTimeLimit",
    "PartitionNodeLimit",
    "BadConstraints",
    "InvalidAccount",
    "InvalidQOS",
    "QOSMaxWallDurationPerJobLimit",
    "AssocMaxWallDurationPerJobLimit",
];

/// The reason squeue gives for `job` if it is one under which the job never starts (asked a few
/// times over a few seconds: the scheduler sets it at its first pass).
fn never_runs(job: &str) -> Option<String> {
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(750));
        let output = Command::new("squeue").args(["-h", "-j", job, "-o", "%T %r"]).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if let Some(reason) = text.split_whitespace().find(|word| NEVER_RUNS.contains(word)) {
            return Some(reason.to_string());
        }
        if text.contains("RUNNING") || text.trim().is_empty() {
            return None;
        }
    }
    None
}

fn scancel(job: &str) {
    let _ = Command::new("scancel").arg(job).status();
}
