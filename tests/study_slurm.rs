//! `dataeff sweep slurm` on a tiny random checkpoint and the quick profile's generated tasks: the scripts it
//! writes, `sweep plan --check`, and (ignored unless a SLURM cluster is up: `cargo xtask
//! slurm-test` starts a one-node one and runs it) the sweep as a real job array, byte-identical to
//! a local `sweep run`, then an array task cancelled mid-cell and the resubmission of what is
//! missing, byte-identical again.

#![cfg(feature = "lm")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{TINY_TEMPLATE, test_profile, tiny_checkpoint_with};

fn dataeff(args: &[&str], model: &Path, profile: &Path, out: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dataeff"));
    cmd.args(&args[..2]).arg("--model").arg(model).arg("--profile").arg(profile).arg("--out").arg(out).args(&args[2..]);
    cmd.output().unwrap()
}

fn ok(output: Output, what: &str) -> String {
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{what} failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Every file under `dir/cells` by relative path.
fn cells(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.join("cells")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn assert_same_cells(reference: &Path, other: &Path, what: &str) {
    let (a, b) = (cells(reference), cells(other));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{what}: not the same files");
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{what}: {path} differs from the local sweep's");
    }
    eprintln!("{what}: {} files under cells/ byte-identical to the local sweep's", a.len());
}

#[test]
fn the_scripts_name_every_missing_cell_and_plan_check_fails_until_all_are_done() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let profile = test_profile(tmp.path(), 2);
    let out = tmp.path().join("out");
    ok(dataeff(&["sweep", "run", "--cell", "metrics/boolean_expressions/r1"], model.path(), &profile, &out), "one cell");

    let check = dataeff(&["sweep", "plan", "--no-calibrate", "--check"], model.path(), &profile, &out);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--check: 10 of 12 cells are not done (curve/web_of_lies/n0, "), "{stderr}");

    let stdout = ok(
        dataeff(&["sweep", "slurm", "--partition", "gpu", "--time", "01:00:00", "--gpus", "1", "--max-parallel", "3", "--chunk", "4"], model.path(), &profile, &out),
        "sweep slurm",
    );
    assert!(stdout.contains("10 of 12 cells to do, as 3 array tasks of up to 4 cells, at most 3 at once"), "{stdout}");
    assert!(stdout.contains("--dependency=afterok:<array job id> --kill-on-invalid-dep=yes"), "{stdout}");
    let dir = out.join("slurm");
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2%3\n") && script.contains("#SBATCH --gpus=1\n"), "{script}");
    // The two cells done are not in it; the confidence cell left comes first, metrics last.
    let listed: Vec<&str> = script.lines().skip_while(|l| *l != "cells=(").skip(1).take_while(|l| *l != ")").map(str::trim).collect();
    assert_eq!(listed.len(), 10);
    assert_eq!(listed[0], "confidence/web_of_lies");
    assert!(!listed.contains(&"confidence/boolean_expressions") && !listed.contains(&"metrics/boolean_expressions/r1"));
    assert_eq!(listed[9], "metrics/boolean_expressions/r0");
    assert!(std::fs::read_to_string(dir.join("gather.sbatch")).unwrap().contains("sweep plan --no-calibrate --check"));
    assert!(dir.join("logs").is_dir() && out.join("profile.toml").is_file());

    // A bad flag is named before anything is written; a finished sweep has nothing to submit.
    let bad = dataeff(&["sweep", "slurm", "--time", "2h"], model.path(), &profile, &out);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--time `2h`"));
    ok(dataeff(&["sweep", "run"], model.path(), &profile, &out), "the rest");
    ok(dataeff(&["sweep", "plan", "--no-calibrate", "--check"], model.path(), &profile, &out), "plan --check");
    let done = ok(dataeff(&["sweep", "slurm"], model.path(), &profile, &out), "sweep slurm when done");
    assert!(done.contains("nothing to submit"), "{done}");
}

// ---- against a real SLURM ----

fn slurm(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| panic!("running {program}: {e} (is SLURM installed? cargo xtask slurm-test sets it up)"))
}

/// The array and gather job ids in `sweep slurm --submit`'s output.
fn job_ids(stdout: &str) -> (String, String) {
    let after = |word: &str| stdout.split(word).nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_else(|| panic!("no `{word}` in {stdout}")).to_string();
    (after("submitted array job "), after("and gather job ").trim_end_matches(';').to_string())
}

/// Wait until SLURM no longer lists `jobs` as pending or running.
fn wait_for(jobs: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        let output = slurm("squeue", &["-h", "-j", jobs, "-o", "%i %T"]);
        let text = String::from_utf8_lossy(&output.stdout);
        if !text.lines().any(|l| l.contains("PENDING") || l.contains("RUNNING") || l.contains("COMPLETING")) {
            return;
        }
        assert!(started.elapsed() < limit, "jobs {jobs} still queued after {limit:?}: {text}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `JobState=` of a job (an array job: of each of its tasks) as `scontrol` knows it.
fn states(job: &str) -> Vec<String> {
    let text = String::from_utf8(slurm("scontrol", &["-o", "show", "job", job]).stdout).unwrap();
    text.lines().filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("JobState=")).map(String::from)).collect()
}

/// Each array task's log names its task id and slurmd's node: it ran under slurmd.
fn check_logs(dir: &Path, array: &str, tasks: usize) {
    for index in 0..tasks {
        let path = dir.join(format!("logs/{array}_{index}.out"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let first = text.lines().next().unwrap_or_default();
        assert!(first.contains(&format!("SLURM_ARRAY_TASK_ID={index} ")), "{}: {first}", path.display());
        let node = first.split("SLURMD_NODENAME=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_default();
        assert!(!node.is_empty(), "{}: {first}", path.display());
        eprintln!("  {}: {first}", path.file_name().unwrap().to_string_lossy());
    }
}

/// The cells of a written `sweep.sbatch`, in array order.
fn array_cells(dir: &Path) -> Vec<String> {
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    script.lines().skip_while(|l| *l != "cells=(").skip(1).take_while(|l| *l != ")").map(|l| l.trim().to_string()).collect()
}

#[test]
#[ignore = "needs a SLURM cluster: `cargo xtask slurm-test` starts a one-node one and runs this"]
fn a_slurm_array_writes_the_bytes_of_a_local_sweep_and_a_cancelled_task_is_resubmitted() {
    let sinfo = slurm("sinfo", &["-h", "-o", "%P %a %T %N"]);
    assert!(sinfo.status.success(), "sinfo: {}", String::from_utf8_lossy(&sinfo.stderr));
    eprintln!("sinfo: {}", String::from_utf8_lossy(&sinfo.stdout).trim());
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let profile = test_profile(tmp.path(), 24);
    let (local, array, killed) = (tmp.path().join("local"), tmp.path().join("array"), tmp.path().join("killed"));
    let limit = Duration::from_secs(600);
    let submit = ["sweep", "slurm", "--cpus", "1", "--max-parallel", "2", "--submit"];

    ok(dataeff(&["sweep", "run"], model.path(), &profile, &local), "the local sweep");
    eprintln!("local sweep: {:.1} s", started.elapsed().as_secs_f64());

    // SLURM's refusals come back as errors with its message (the test cluster's partition allows
    // 30 minutes and, as SLURM does by default, accepts a longer job only to leave it pending).
    let refused = dataeff(&["sweep", "slurm", "--partition", "no_such_partition", "--submit"], model.path(), &profile, &array);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("sbatch") && stderr.contains("nvalid partition"), "{stderr}");
    eprintln!("an unknown partition: {}", stderr.trim());
    let refused = dataeff(&["sweep", "slurm", "--time", "02:00:00", "--submit"], model.path(), &profile, &array);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && (stderr.contains("PartitionTimeLimit") || stderr.contains("time limit")), "{stderr}");
    eprintln!("a time over the partition's limit: {}", stderr.trim());

    // The whole sweep as an array.
    let t = Instant::now();
    let stdout = ok(dataeff(&submit, model.path(), &profile, &array), "sweep slurm --submit");
    eprintln!("{}", stdout.trim());
    assert!(stdout.contains("12 of 12 cells to do, as 12 array tasks of 1 cell"), "{stdout}");
    let (job, gather) = job_ids(&stdout);
    wait_for(&format!("{job},{gather}"), limit);
    eprintln!("array job {job} and gather job {gather} finished in {:.1} s", t.elapsed().as_secs_f64());
    let dir = array.join("slurm");
    check_logs(&dir, &job, 12);
    // Read before the state check, so that a failed gather job shows what it printed.
    let gathered = std::fs::read_to_string(dir.join(format!("logs/gather_{gather}.out"))).unwrap_or_else(|e| format!("(no log: {e})"));
    assert_eq!(states(&gather), ["COMPLETED"], "the gather job; its log:\n{gathered}");
    assert!(states(&job).iter().all(|s| s == "COMPLETED"), "{:?}", states(&job));
    assert!(gathered.contains("12 of 12 cells done"), "{gathered}");
    assert_same_cells(&local, &array, "the array");

    // Cancel one array task while it fine-tunes, then resubmit what is missing.
    let stdout = ok(dataeff(&submit, model.path(), &profile, &killed), "sweep slurm --submit (to be cancelled)");
    let (job, gather) = job_ids(&stdout);
    let dir = killed.join("slurm");
    let order = array_cells(&dir);
    let victim = "curve/boolean_expressions/n32";
    let index = order.iter().position(|c| c == victim).unwrap();
    let lock = killed.join(format!("cells/{victim}.json.lock"));
    let t = Instant::now();
    while !lock.exists() {
        assert!(t.elapsed() < limit, "{victim} never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(300)); // into its training
    let task = format!("{job}_{index}");
    assert!(slurm("scancel", &[&task]).status.success());
    eprintln!("cancelled array task {task} ({victim}) {:.1} s after its lock appeared", t.elapsed().as_secs_f64());
    wait_for(&format!("{job},{gather}"), limit);
    assert!(!killed.join(format!("cells/{victim}.json")).exists(), "the cancel came too late: {victim} finished (raise max_steps)");
    if let Ok(holder) = std::fs::read_to_string(&lock) {
        eprintln!("the cancelled writer left its lock file ({}), unlocked: the resubmitted task takes it", holder.trim());
    }
    let task_states = states(&job);
    assert!(task_states.iter().any(|s| s == "CANCELLED"), "{task_states:?}");
    assert_eq!(task_states.iter().filter(|s| *s == "COMPLETED").count(), 11, "{task_states:?}");
    let gather_state = states(&gather);
    assert!(gather_state.is_empty() || gather_state == ["CANCELLED"], "the gather job must not run after a failed task: {gather_state:?}");
    let check = dataeff(&["sweep", "plan", "--no-calibrate", "--check"], model.path(), &profile, &killed);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success() && stderr.contains(&format!("1 of 12 cells are not done ({victim})")), "{stderr}");

    let stdout = ok(dataeff(&submit, model.path(), &profile, &killed), "the resubmission");
    eprintln!("{}", stdout.trim());
    assert!(stdout.contains("1 of 12 cells to do, as 1 array task of 1 cell"), "{stdout}");
    let (job, gather) = job_ids(&stdout);
    wait_for(&format!("{job},{gather}"), limit);
    check_logs(&dir, &job, 1);
    assert_eq!(states(&gather), ["COMPLETED"], "the gather job after the resubmission");
    assert_same_cells(&local, &killed, "cancelled and resubmitted");
    eprintln!("the SLURM scenario took {:.1} s", started.elapsed().as_secs_f64());
}
