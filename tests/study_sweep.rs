//! The live sweep through the binary, on a tiny random checkpoint (so that it takes seconds) and
//! the quick profile's two generated tasks (no downloaded data needed): a sweep killed with SIGKILL
//! at random points resumes to files byte-identical to an uninterrupted run; a second run
//! computes nothing; changing the prompt template, the model file or a profile parameter
//! recomputes exactly the cells that depend on it.

#![cfg(feature = "lm")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use common::{TINY_TEMPLATE, test_profile, tiny_checkpoint_with};

fn sweep_command(model: &Path, profile: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dataeff"));
    cmd.args(["sweep", "run", "--model"]).arg(model).arg("--profile").arg(profile).arg("--out").arg(out).args(extra);
    cmd
}

fn sweep(model: &Path, profile: &Path, out: &Path, extra: &[&str]) -> String {
    let output = sweep_command(model, profile, out, extra).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "sweep failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Every file under `dir` but the timing log, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != "timings.jsonl" {
                out.insert(path.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// The key address recorded in each cell file.
fn addresses(dir: &Path) -> BTreeMap<String, String> {
    files(dir)
        .into_iter()
        .filter(|(path, _)| path.ends_with(".json"))
        .map(|(path, bytes)| {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            (path, v["key_sha256"].as_str().unwrap().to_string())
        })
        .collect()
}

fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect()
}

fn computed(stdout: &str) -> usize {
    let rest = stdout.split(": ").nth(1).unwrap_or_else(|| panic!("no count in {stdout:?}"));
    rest.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no count in {stdout:?}"))
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let profile = test_profile(tmp.path(), 4);
    let (whole, resumed) = (tmp.path().join("whole"), tmp.path().join("resumed"));

    let started = Instant::now();
    let stdout = sweep(model.path(), &profile, &whole, &[]);
    let full = started.elapsed();
    assert_eq!(computed(&stdout), 12, "{stdout}");
    assert_eq!(computed(&sweep(model.path(), &profile, &whole, &[])), 0, "a second run computes nothing");

    // Kill the sweep at random points, each run getting a random slice of a sixth of the
    // uninterrupted time (less than a sixth of the work, since every start pays the loading).
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_202);
    let mut kills = 0;
    while kills < 6 {
        let mut child = sweep_command(model.path(), &profile, &resumed, &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(full.mul_f64(rng.random_range(0.05..0.17)));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    assert!(kills >= 5, "the sweep finished after {kills} kills: the kill points came too late");
    sweep(model.path(), &profile, &resumed, &[]);
    let (a, b) = (files(&whole), files(&resumed));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs between the uninterrupted and the killed-and-resumed sweep");
    }
    // No temporary file of an interrupted write is left behind.
    assert!(b.keys().all(|p| p.ends_with(".json") || p.ends_with(".jsonl") || p.ends_with(".toml")), "{:?}", b.keys());
}

#[test]
fn changing_an_input_recomputes_the_cells_that_depend_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let out = tmp.path().join("out");
    let profile = test_profile(tmp.path(), 4);
    sweep(model.path(), &profile, &out, &[]);
    let start = addresses(&out);
    assert_eq!(start.len(), 12);

    // A profile parameter of training: the fine-tuned curve cells only.
    let longer = test_profile(tmp.path(), 5);
    assert_eq!(computed(&sweep(model.path(), &longer, &out, &[])), 4);
    let after = addresses(&out);
    let mut expected: Vec<String> = ["web_of_lies", "boolean_expressions"]
        .iter()
        .flat_map(|t| [format!("cells/curve/{t}/n8.json"), format!("cells/curve/{t}/n32.json")])
        .collect();
    expected.sort();
    assert_eq!(changed(&start, &after), expected);

    // One task's prompt template: every cell of that task, none of the other.
    let prompts = tmp.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    let own = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/tasks/boolean_expressions.txt")).unwrap();
    std::fs::write(prompts.join("boolean_expressions.txt"), format!("Evaluate.\n{own}")).unwrap();
    let prompts_flag = ["--prompts", prompts.to_str().unwrap()];
    assert_eq!(computed(&sweep(model.path(), &longer, &out, &prompts_flag)), 6);
    let templated = addresses(&out);
    let changed_now = changed(&after, &templated);
    assert_eq!(changed_now.len(), 6, "{changed_now:?}");
    assert!(changed_now.iter().all(|p| p.contains("boolean_expressions")), "{changed_now:?}");

    // The model file: everything.
    let other = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 8);
    std::fs::copy(other.path().join("model.safetensors"), model.path().join("model.safetensors")).unwrap();
    assert_eq!(computed(&sweep(model.path(), &longer, &out, &prompts_flag)), 12);
    assert_eq!(changed(&templated, &addresses(&out)).len(), 12);
    assert_eq!(computed(&sweep(model.path(), &longer, &out, &prompts_flag)), 0);

    // The summary tables come from the cells alone.
    let output = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["sweep", "gather", "--model"])
        .arg(model.path())
        .arg("--profile")
        .arg(&longer)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows = |name: &str| std::fs::read_to_string(out.join(name)).unwrap().lines().count() - 1;
    assert_eq!((rows("curves.csv"), rows("auc.csv"), rows("metrics.csv")), (6, 2, 4));
    let auc = std::fs::read_to_string(out.join("auc.csv")).unwrap();
    assert!(auc.starts_with("task,auc,zero_shot,ceiling,auc_se,format_free_auc,format_free_auc_se,note\n"), "{auc}");
}

#[test]
fn one_cell_runs_alone_and_a_bad_id_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let profile = test_profile(tmp.path(), 4);
    let out = tmp.path().join("out");
    let stdout = sweep(model.path(), &profile, &out, &["--cell", "metrics/boolean_expressions/r1"]);
    assert!(stdout.contains("metrics/boolean_expressions/r1: computed"), "{stdout}");
    // It needed the task's confidence cell, and nothing else.
    assert_eq!(addresses(&out).len(), 2);
    let cell: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("cells/metrics/boolean_expressions/r1.json")).unwrap()).unwrap();
    assert_eq!((cell["draw_seed"].as_u64(), cell["lora_seed"].as_u64()), (Some(1001), Some(2001)));
    assert!((-1.0..=1.0).contains(&cell["cos_low"].as_f64().unwrap()));

    for (id, expect) in [("curve/boolean_expressions/32", "n<number>"), ("curve/mmlu/n8", "not in profile")] {
        let output = sweep_command(model.path(), &profile, &out, &["--cell", id]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(expect), "{id}: {stderr}");
    }

    let plan = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["sweep", "plan", "--no-calibrate", "--model"])
        .arg(model.path())
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8(plan.stdout).unwrap();
    assert!(text.contains("2 of 12 cells done"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("confidence/boolean_expressions") && l.contains("done")), "{text}");
}

#[test]
fn a_results_directory_refuses_another_profiles_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 2048, 7);
    let profile = test_profile(tmp.path(), 4);
    let out = tmp.path().join("out");
    sweep(model.path(), &profile, &out, &[]);
    let before = files(&out);
    // The same cells under another profile's name: each would be taken for stale and overwritten.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, std::fs::read_to_string(&profile).unwrap().replace("name = \"test\"", "name = \"other\"")).unwrap();
    for extra in [&[][..], &["--cell", "curve/web_of_lies/n0"][..]] {
        let output = sweep_command(model.path(), &other, &out, extra).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains("holds the results of profile `test`"), "{extra:?}: {stderr}");
    }
    assert!(files(&out) == before, "a refused sweep changed the results directory");
}
