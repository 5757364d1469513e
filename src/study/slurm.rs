//! `dataeff sweep slurm`: a sweep's cells that are not done yet as one SLURM job array, and a
//! gather job that runs once every array task has succeeded. Pure: cells, how a node runs
//! `dataeff` and the resources in; the text of three files out (`sweep.sbatch`, `gather.sbatch`,
//! `submit.sh`). Submitting is the CLI's.
//!
//! One array index runs a fixed chunk of cells (`dataeff sweep run --cell …`), and the cells are
//! ordered confidence first, then curves, then metrics: a metrics cell needs its task's confidence
//! cell, which by then is done or being computed, and [`super::cells::CellLock`] makes a second
//! writer wait for the first rather than compute it again. One array (rather than a second one
//! `afterok` on the confidence cells) keeps every slot busy: no curve cell waits for the slowest
//! confidence cell, and a metrics task waits at most for one confidence cell still running.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure};

use super::cells::CellId;

/// The batch script of the array.
pub const ARRAY_SCRIPT: &str = "sweep.sbatch";
/// The batch script of the gather step.
pub const GATHER_SCRIPT: &str = "gather.sbatch";
/// Submits both, the second `afterok` on the first.
pub const SUBMIT_SCRIPT: &str = "submit.sh";
/// The directory of the jobs' output files (SLURM does not create it: the CLI does).
pub const LOGS: &str = "logs";

/// What each array task asks SLURM for (`None`: the cluster's default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    pub partition: Option<String>,
    /// A SLURM time limit (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`).
    pub time: Option<String>,
    pub gpus: Option<u32>,
    pub cpus: Option<u32>,
    /// Memory per node, in GB.
    pub mem_gb: Option<u32>,
}

/// The array's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayOptions {
    pub resources: Resources,
    /// At most this many array tasks at once (`%K`).
    pub max_parallel: Option<usize>,
    /// Cells per array task.
    pub chunk: usize,
    /// SLURM's job name (the gather job adds `-gather`).
    pub job_name: String,
}

/// How a node runs `dataeff`: the binary, the directory to run it in, the `sweep` flags that name
/// the study (`--profile … --model … --out …`), and the environment to export.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub dataeff: PathBuf,
    pub workdir: PathBuf,
    pub study_args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The three files, and what they hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Scripts {
    pub array: String,
    pub gather: String,
    pub submit: String,
    /// The cells in array order; task i runs `cells[i·chunk ..][..chunk]`.
    pub cells: Vec<CellId>,
    pub array_tasks: usize,
}

/// Confidence cells first, then curve cells, then metrics cells, each in the given order.
pub fn array_order(cells: &[CellId]) -> Vec<CellId> {
    let rank = |c: &CellId| match c {
        CellId::Confidence { .. } => 0,
        CellId::Curve { .. } => 1,
        CellId::Metrics { .. } => 2,
    };
    let mut out = cells.to_vec();
    out.sort_by_key(rank); // stable: the profile's order within each kind
    out
}

/// `text` as one word for bash: single-quoted unless it is plainly safe.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Check a `--time` value against SLURM's formats (whether the partition allows it is SLURM's to say).
pub fn check_time(text: &str) -> Result<(), String> {
    let expected = "expected MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 02:00:00)";
    let numbers = |part: &str| -> Option<usize> {
        let fields: Vec<&str> = part.split(':').collect();
        fields.iter().all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit())).then_some(fields.len())
    };
    let ok = match text.split_once('-') {
        Some((days, rest)) => !days.is_empty() && days.chars().all(|c| c.is_ascii_digit()) && matches!(numbers(rest), Some(1..=3)),
        None => matches!(numbers(text), Some(1..=3)),
    };
    if ok { Ok(()) } else { Err(format!("--time `{text}`: {expected}")) }
}

/// Check a `--partition` value: SLURM names (several joined by commas), nothing a batch-script
/// line would split or quote.
pub fn check_partition(text: &str) -> Result<(), String> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.,".contains(c)) {
        Ok(())
    } else {
        Err(format!("--partition `{text}`: expected a partition name (letters, digits, - _ .; several joined by commas)"))
    }
}

/// The scripts for `cells` (those not done, in any order), to be written into `dir`.
pub fn scripts(cells: &[CellId], node: &Node, options: &ArrayOptions, dir: &Path) -> anyhow::Result<Scripts> {
    ensure!(!cells.is_empty(), "no cells to run: every cell is done");
    ensure!(options.chunk >= 1, "--chunk must be at least 1");
    if let Some(k) = options.max_parallel {
        ensure!(k >= 1, "--max-parallel must be at least 1");
    }
    let r = &options.resources;
    if let Some(p) = &r.partition {
        check_partition(p).map_err(anyhow::Error::msg)?;
    }
    if let Some(t) = &r.time {
        check_time(t).map_err(anyhow::Error::msg)?;
    }
    let shown = dir.display().to_string();
    if shown.chars().any(|c| c.is_whitespace() || "'\"\\$`".contains(c)) {
        bail!("the SLURM directory `{shown}` holds a space or a quote, which an #SBATCH line cannot carry: choose another --slurm-dir");
    }
    let cells = array_order(cells);
    let array_tasks = cells.len().div_ceil(options.chunk);
    let throttle = options.max_parallel.map_or_else(String::new, |k| format!("%{k}"));
    let logs = dir.join(LOGS);

    let mut array = header(&options.job_name, r, true);
    writeln!(array, "#SBATCH --array=0-{}{throttle}", array_tasks - 1)?;
    writeln!(array, "#SBATCH --output={}/%A_%a.out", logs.display())?;
    writeln!(array, "#")?;
    writeln!(
        array,
        "# {} cells, {} per array task; written by `dataeff sweep slurm`, submitted by {SUBMIT_SCRIPT} beside it.",
        cells.len(),
        options.chunk
    )?;
    writeln!(array, "# Running it again after a failure submits only the cells still missing.")?;
    prelude(&mut array, node, r, "SLURM_ARRAY_TASK_ID")?;
    writeln!(array, "cells=(")?;
    for cell in &cells {
        writeln!(array, "  {}", shell_quote(&cell.to_string()))?;
    }
    writeln!(array, ")")?;
    writeln!(array, "chunk={}", options.chunk)?;
    writeln!(array, "args=()")?;
    writeln!(array, "for id in \"${{cells[@]:$((SLURM_ARRAY_TASK_ID * chunk)):chunk}}\"; do args+=(--cell \"$id\"); done")?;
    writeln!(
        array,
        "echo \"dataeff array task SLURM_ARRAY_JOB_ID=$SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID \
         SLURMD_NODENAME=$SLURMD_NODENAME cells: ${{args[*]}}\""
    )?;
    writeln!(array, "exec {} sweep run {} \"${{args[@]}}\"", shell_quote(&node.dataeff.display().to_string()), words(&node.study_args))?;

    let gather_resources = Resources { gpus: None, cpus: None, mem_gb: None, ..r.clone() };
    let mut gather = header(&format!("{}-gather", options.job_name), &gather_resources, false);
    writeln!(gather, "#SBATCH --output={}/gather_%j.out", logs.display())?;
    writeln!(gather, "#")?;
    writeln!(gather, "# Runs after every task of the array succeeded (afterok): checks that every cell is done, then writes the summary tables.")?;
    prelude(&mut gather, node, &gather_resources, "SLURM_JOB_ID")?;
    writeln!(gather, "echo \"dataeff gather SLURM_JOB_ID=$SLURM_JOB_ID SLURMD_NODENAME=$SLURMD_NODENAME\"")?;
    for command in gather_commands() {
        writeln!(gather, "{} {command} {}", shell_quote(&node.dataeff.display().to_string()), words(&node.study_args))?;
    }

    let array_path = shell_quote(&dir.join(ARRAY_SCRIPT).display().to_string());
    let gather_path = shell_quote(&dir.join(GATHER_SCRIPT).display().to_string());
    let mut submit = String::from("#!/bin/bash\n");
    writeln!(submit, "# Submit the array, then the gather step once every array task has succeeded.")?;
    writeln!(submit, "# (`dataeff sweep slurm --submit` does the same; an sbatch error stops here with SLURM's message.)")?;
    writeln!(submit, "set -euo pipefail")?;
    writeln!(submit, "array=$(sbatch --parsable {array_path})")?;
    writeln!(submit, "array=${{array%%;*}}")?;
    writeln!(submit, "gather=$(sbatch --parsable {} {gather_path})", gather_dependency("$array"))?;
    writeln!(submit, "echo \"submitted array job $array ({array_tasks} tasks) and gather job ${{gather%%;*}}\"")?;
    Ok(Scripts { array, gather, submit, cells, array_tasks })
}

/// The `sbatch` flags of the gather job: after every array task succeeded; cancelled (not left
/// pending forever) when one failed.
pub fn gather_dependency(array_job: &str) -> String {
    format!("--dependency=afterok:{array_job} --kill-on-invalid-dep=yes")
}

/// What the gather job runs, each followed by the study's flags: check that every cell is
/// done, then write the summary tables.
fn gather_commands() -> Vec<&'static str> {
    vec!["sweep plan --no-calibrate --check", "sweep gather"]
}

fn header(job_name: &str, r: &Resources, array: bool) -> String {
    let mut out = String::from("#!/bin/bash\n");
    let mut line = |flag: String| {
        out += "#SBATCH ";
        out += &flag;
        out.push('\n');
    };
    line(format!("--job-name={}", job_name.replace(|c: char| !c.is_ascii_alphanumeric() && !"-_.".contains(c), "_")));
    line("--ntasks=1".into());
    if let Some(p) = &r.partition {
        line(format!("--partition={p}"));
    }
    if let Some(t) = &r.time {
        line(format!("--time={t}"));
    }
    if let Some(n) = r.cpus {
        line(format!("--cpus-per-task={n}"));
    }
    if let Some(n) = r.gpus.filter(|_| array) {
        line(format!("--gpus={n}"));
    }
    if let Some(g) = r.mem_gb {
        line(format!("--mem={g}G"));
    }
    out
}

/// What both scripts do first: refuse to run outside SLURM, export the environment, go to the
/// project, and use the CPUs granted.
fn prelude(out: &mut String, node: &Node, r: &Resources, slurm_variable: &str) -> anyhow::Result<()> {
    writeln!(out, "set -euo pipefail")?;
    writeln!(out, ": \"${{{slurm_variable}:?this is a SLURM batch script: submit it with {SUBMIT_SCRIPT}}}\"")?;
    for (name, value) in &node.env {
        writeln!(out, "export {name}={}", shell_quote(value))?;
    }
    if let Some(n) = r.cpus {
        writeln!(out, "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{n}}}\"")?;
    }
    writeln!(out, "cd {}", shell_quote(&node.workdir.display().to_string()))?;
    Ok(())
}

fn words(args: &[String]) -> String {
    args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells() -> Vec<CellId> {
        let mut out = Vec::new();
        for task in ["alpha", "beta"] {
            for budget in [0, 8] {
                out.push(CellId::Curve { task: task.into(), budget });
            }
            out.push(CellId::Confidence { task: task.into() });
            out.push(CellId::Metrics { task: task.into(), repeat: 0 });
        }
        out
    }

    fn node() -> Node {
        Node {
            dataeff: PathBuf::from("/opt/my tools/dataeff"),
            workdir: PathBuf::from("/home/me/dataeff"),
            study_args: ["--profile", "/p/quick.toml", "--model", "/m/it's here", "--out", "/r/out"].map(String::from).to_vec(),
            env: vec![("DATAEFF_CACHE".into(), "/shared/cache".into())],
        }
    }

    fn options(chunk: usize) -> ArrayOptions {
        ArrayOptions {
            resources: Resources { partition: Some("gpu".into()), time: Some("02:00:00".into()), gpus: Some(1), cpus: Some(4), mem_gb: Some(32) },
            max_parallel: Some(3),
            chunk,
            job_name: "dataeff-quick".into(),
        }
    }

    #[test]
    fn confidence_cells_come_first_and_metrics_last() {
        let ordered: Vec<String> = array_order(&cells()).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            ordered,
            [
                "confidence/alpha", "confidence/beta", "curve/alpha/n0", "curve/alpha/n8", "curve/beta/n0", "curve/beta/n8",
                "metrics/alpha/r0", "metrics/beta/r0"
            ]
        );
    }

    #[test]
    fn the_array_script_asks_for_the_resources_and_one_index_per_chunk() {
        let dir = Path::new("/r/out/slurm");
        let s = scripts(&cells(), &node(), &options(3), dir).unwrap();
        assert_eq!(s.array_tasks, 3); // 8 cells in chunks of 3
        for line in [
            "#SBATCH --array=0-2%3",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=02:00:00",
            "#SBATCH --gpus=1",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --mem=32G",
            "#SBATCH --output=/r/out/slurm/logs/%A_%a.out",
            "export DATAEFF_CACHE=/shared/cache",
            "chunk=3",
        ] {
            assert!(s.array.lines().any(|l| l == line), "no `{line}` in\n{}", s.array);
        }
        // Every #SBATCH line comes before the first command (sbatch stops reading at it).
        let first_command = s.array.lines().position(|l| !l.starts_with('#')).unwrap();
        assert!(s.array.lines().skip(first_command).all(|l| !l.starts_with("#SBATCH")));
        assert!(s.array.contains("exec '/opt/my tools/dataeff' sweep run --profile /p/quick.toml --model '/m/it'\\''s here' --out /r/out"));
        // The gather step: no GPU, the same partition and time, afterok in submit.sh.
        assert!(!s.gather.contains("--gpus") && s.gather.contains("#SBATCH --partition=gpu"));
        assert!(s.gather.contains("sweep plan --no-calibrate --check --profile /p/quick.toml"));
        assert!(s.gather.contains("sweep gather --profile /p/quick.toml"));
        assert!(s.submit.contains("--dependency=afterok:$array --kill-on-invalid-dep=yes /r/out/slurm/gather.sbatch"));
        let unthrottled = ArrayOptions { max_parallel: None, ..options(1) };
        assert!(scripts(&cells(), &node(), &unthrottled, dir).unwrap().array.contains("#SBATCH --array=0-7\n"));
    }

    /// The array script's own bash picks each index's cells: run it with `echo` as dataeff.
    #[test]
    fn each_array_index_runs_its_chunk_of_cells() {
        let dir = tempfile::tempdir().unwrap();
        let node = Node { dataeff: PathBuf::from("echo"), workdir: dir.path().to_path_buf(), ..node() };
        let s = scripts(&cells(), &node, &options(3), Path::new("/r/out/slurm")).unwrap();
        let script = dir.path().join(ARRAY_SCRIPT);
        std::fs::write(&script, &s.array).unwrap();
        let mut seen = Vec::new();
        for index in 0..s.array_tasks {
            let output = std::process::Command::new("bash")
                .arg(&script)
                .env("SLURM_ARRAY_TASK_ID", index.to_string())
                .env("SLURM_ARRAY_JOB_ID", "77")
                .env("SLURMD_NODENAME", "node1")
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let text = String::from_utf8(output.stdout).unwrap();
            let mut lines = text.lines();
            assert!(lines.next().unwrap().contains(&format!("SLURM_ARRAY_TASK_ID={index} SLURMD_NODENAME=node1")), "{text}");
            let run = lines.next().unwrap();
            assert!(run.starts_with("sweep run --profile /p/quick.toml --model /m/it's here --out /r/out --cell "), "{run}");
            seen.extend(run.split(" --cell ").skip(1).map(str::to_string));
        }
        let expected: Vec<String> = s.cells.iter().map(|c| c.to_string()).collect();
        assert_eq!(seen, expected, "every cell once, in array order");
        // Outside SLURM the script refuses to run.
        let output = std::process::Command::new("bash").arg(&script).env_remove("SLURM_ARRAY_TASK_ID").output().unwrap();
        assert!(!output.status.success() && String::from_utf8_lossy(&output.stderr).contains("SLURM batch script"));
    }

    #[test]
    fn bad_flags_are_named() {
        for good in ["30", "30:00", "02:00:00", "1-12", "1-12:30", "2-00:00:00"] {
            assert!(check_time(good).is_ok(), "{good}");
        }
        for bad in ["", "2h", "1:2:3:4", "-1", "1-", "01::00"] {
            let err = check_time(bad).unwrap_err();
            assert!(err.starts_with(&format!("--time `{bad}`")) && err.contains("HH:MM:SS"), "{err}");
        }
        assert!(check_partition("gpu,gpu-long").is_ok());
        assert!(check_partition("gpu long").unwrap_err().contains("--partition"));
        let bad_time = ArrayOptions { resources: Resources { time: Some("2h".into()), ..Resources::default() }, ..options(1) };
        assert!(scripts(&cells(), &node(), &bad_time, Path::new("/r")).unwrap_err().to_string().contains("--time `2h`"));
        assert!(scripts(&[], &node(), &options(1), Path::new("/r")).unwrap_err().to_string().contains("every cell is done"));
        assert!(scripts(&cells(), &node(), &options(1), Path::new("/r/my dir")).unwrap_err().to_string().contains("--slurm-dir"));
    }
}
