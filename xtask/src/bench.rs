//! `cargo xtask bench`: the runtime benchmark on the real models (`cargo bench --bench runtime`,
//! which writes `target/bench/workloads.json` and `target/bench/dataeff.json`) and, with
//! `--compare-torch`, the same workloads with PyTorch (`xtask/py/bench_torch.py`, in a venv under
//! the cache holding the pinned [`TORCH_PINS`]) and the side-by-side table
//! `target/bench/compare.md`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use xshell::{Shell, cmd};

/// The PyTorch side's packages, from PyPI (the newest releases when this was written). The venv
/// remembers them in [`PINS_MARKER`]: a second run with the same pins installs nothing.
pub const TORCH_PINS: [(&str, &str); 4] =
    [("torch", "2.15.0"), ("transformers", "5.25.0"), ("peft", "0.21.2"), ("gguf", "0.19.0")];

/// The venv's directory under the cache.
const VENV: &str = "torch-venv";

/// The file in the venv listing the pins it was installed with, written once they all are.
const PINS_MARKER: &str = "dataeff-pins.txt";

/// Which sides [`run`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `cargo bench --bench runtime` only.
    RustOnly,
    /// The Rust bench, then PyTorch on its workloads and the comparison.
    Both,
    /// PyTorch on the last Rust run's workloads, and the comparison with its results.
    TorchOnly,
}

pub fn run(root: &Path, models: &[String], phases: Option<&str>, mode: Mode) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    if mode != Mode::TorchOnly {
        let phase_args: Vec<&str> = phases.map(|p| vec!["--phases", p]).unwrap_or_default();
        crate::nested_cargo(cmd!(sh, "cargo bench --bench runtime -- {models...} {phase_args...}")).run()?;
    }
    if mode == Mode::RustOnly {
        return Ok(());
    }

    let bench_dir = root.join("target/bench");
    let workloads = bench_dir.join("workloads.json");
    let threads = thread_count(&workloads)?;
    let ours = Results::read(&bench_dir.join("dataeff.json"), "`cargo bench --bench runtime`", "dataeff")?;
    let python = torch_venv(&sh, &dataeff::provenance::cache_dir())?;
    let script = root.join("xtask/py/bench_torch.py");
    let torch_json = bench_dir.join("torch.json");
    let threads_arg = threads.to_string();
    eprintln!("== PyTorch on the same workloads, {threads} threads");
    cmd!(sh, "{python} {script} --workloads {workloads} --out {torch_json} --threads {threads_arg}")
        .env("OMP_NUM_THREADS", &threads_arg)
        .env("MKL_NUM_THREADS", &threads_arg)
        .run()
        .with_context(|| format!("the PyTorch bench ({})", script.display()))?;

    let torch = Results::read(&torch_json, "xtask/py/bench_torch.py", "pytorch")?;
    let header = Header { date: utc_now(), cpu: cpu_model() };
    let table = compare_markdown(&header, &ours, &torch);
    let out = bench_dir.join("compare.md");
    std::fs::write(&out, &table).with_context(|| format!("{}: cannot write", out.display()))?;
    println!("{table}");
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// The thread count both sides run with: the one the Rust bench recorded in `workloads.json`,
/// else dataeff's rule (`RAYON_NUM_THREADS` when set, else the number of cores).
fn thread_count(workloads: &Path) -> anyhow::Result<usize> {
    let text = match std::fs::read_to_string(workloads) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{}: not found; the Rust bench writes it (run `cargo bench --bench runtime` first: `cargo xtask bench` \
             does), and the PyTorch side reads its workloads from it",
            workloads.display()
        ),
        Err(e) => bail!("{}: cannot read: {e}", workloads.display()),
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not JSON; expected the Rust bench's workloads file", workloads.display()))?;
    if let Some(threads) = json.get("threads").and_then(serde_json::Value::as_u64) {
        return Ok(threads as usize);
    }
    let from_env = std::env::var("RAYON_NUM_THREADS").ok().and_then(|t| t.parse().ok()).filter(|&t: &usize| t > 0);
    Ok(from_env.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// The Python of `<cache>/torch-venv`, created and given [`TORCH_PINS`] unless its marker says it
/// already has them. The venv is made with `$DATAEFF_PYTHON` (default `python3`).
fn torch_venv(sh: &Shell, cache: &Path) -> anyhow::Result<PathBuf> {
    let venv = cache.join(VENV);
    let python = venv.join("bin/python");
    let marker = venv.join(PINS_MARKER);
    let pins: Vec<String> = TORCH_PINS.iter().map(|(name, version)| format!("{name}=={version}")).collect();
    let wanted = pins.join("\n") + "\n";
    if python.is_file() && std::fs::read_to_string(&marker).is_ok_and(|have| have == wanted) {
        eprintln!("{}: has {}", venv.display(), pins.join(", "));
        return Ok(python);
    }
    if !python.is_file() {
        let base = std::env::var("DATAEFF_PYTHON").unwrap_or_else(|_| "python3".to_string());
        eprintln!("== creating the PyTorch venv {} with {base}", venv.display());
        cmd!(sh, "{base} -m venv {venv}").run().with_context(|| {
            format!(
                "could not create the venv {} with `{base} -m venv` (set DATAEFF_PYTHON to another Python 3)",
                venv.display()
            )
        })?;
    }
    // The torch wheel pulls CUDA libraries (~3 GB; PyPI has no CPU-only Linux x86-64 build): pip's
    // own cache would keep a second copy of each, so it is off.
    eprintln!("== installing {} into {} from PyPI", pins.join(", "), venv.display());
    let requirements = &pins;
    cmd!(sh, "{python} -m pip install --no-cache-dir --disable-pip-version-check {requirements...}")
        .run()
        .with_context(|| {
            format!("could not install {} into {} (is PyPI reachable?)", pins.join(" "), venv.display())
        })?;
    std::fs::write(&marker, wanted).with_context(|| format!("{}: cannot write", marker.display()))?;
    Ok(python)
}

/// One side's measurements (`dataeff.json`, `torch.json`).
#[derive(Debug, Deserialize)]
pub struct Results {
    pub runtime: String,
    /// Package → version, in the file's order.
    #[serde(default)]
    pub versions: serde_json::Map<String, serde_json::Value>,
    pub threads: Option<u64>,
    /// Resident memory before any model is loaded (the runtime's libraries), in MiB: part of
    /// every peak.
    #[serde(default)]
    pub baseline_rss_mib: Option<f64>,
    pub rows: Vec<ResultRow>,
}

#[derive(Debug, Deserialize)]
pub struct ResultRow {
    pub model: String,
    pub workload: String,
    pub unit: String,
    pub value: f64,
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Results {
    /// Read `path`, written by `producer` (named in the error when it is missing) for `runtime`.
    pub fn read(path: &Path, producer: &str, runtime: &str) -> anyhow::Result<Results> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("{}: not found; {producer} writes it", path.display())
            }
            Err(e) => bail!("{}: cannot read: {e}", path.display()),
        };
        let results = Results::parse(&text).with_context(|| format!("{}", path.display()))?;
        if results.runtime != runtime {
            bail!(
                "{}: the results of runtime `{}`, expected `{runtime}` (written by {producer})",
                path.display(),
                results.runtime
            );
        }
        Ok(results)
    }

    pub fn parse(text: &str) -> anyhow::Result<Results> {
        serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{e}; expected {{\"runtime\", \"versions\": {{package: version}}, \"threads\", \"rows\": [{{\"model\", \
                 \"workload\", \"unit\", \"value\", \"seconds\", \"peak_rss_mib\"}}]}}"
            )
        })
    }

    /// `name version, …` from [`Results::versions`].
    fn versions_line(&self) -> String {
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(name, v)| format!("{name} {}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect();
        if versions.is_empty() { "versions unknown".to_string() } else { versions.join(", ") }
    }
}

/// What the table's header line says besides the two sides' own fields.
pub struct Header {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    pub cpu: String,
}

/// The comparison table: a header line (date, CPU, threads, versions), then a row per (model,
/// workload) found on either side, in the order they first appear (dataeff's first), a missing
/// side shown as `–`, ratio = dataeff / PyTorch (> 1: dataeff is faster); then the rows' notes
/// and each side's baseline memory.
pub fn compare_markdown(header: &Header, ours: &Results, torch: &Results) -> String {
    let threads = match (ours.threads, torch.threads) {
        (Some(a), Some(b)) if a == b => format!("{a} thread{}", if a == 1 { "" } else { "s" }),
        (a, b) => {
            let show = |t: Option<u64>| t.map_or_else(|| "?".to_string(), |t| t.to_string());
            format!("threads: dataeff {}, PyTorch {}", show(a), show(b))
        }
    };
    let mut md = String::from("# dataeff vs PyTorch, CPU, f32\n\n");
    let _ = writeln!(
        md,
        "{} · {} · {threads} · dataeff: {} · PyTorch: {}\n",
        header.date,
        header.cpu,
        ours.versions_line(),
        torch.versions_line()
    );
    md += "| model | workload | unit | dataeff | PyTorch | ratio | dataeff peak RSS (MiB) | PyTorch peak RSS (MiB) |\n";
    md += "|---|---|---|---:|---:|---:|---:|---:|\n";

    let key = |r: &ResultRow| (r.model.clone(), r.workload.clone());
    let mut order: Vec<(String, String)> = Vec::new();
    for r in ours.rows.iter().chain(&torch.rows) {
        if !order.contains(&key(r)) {
            order.push(key(r));
        }
    }
    let index = |rows: &[ResultRow]| {
        let mut map: HashMap<(String, String), usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            map.entry(key(r)).or_insert(i);
        }
        map
    };
    let (ours_at, torch_at) = (index(&ours.rows), index(&torch.rows));
    let dash = || "–".to_string();
    let mut notes = Vec::new();
    for k in &order {
        let a = ours_at.get(k).map(|&i| &ours.rows[i]);
        let b = torch_at.get(k).map(|&i| &torch.rows[i]);
        let unit = match (a, b) {
            (Some(a), Some(b)) if a.unit != b.unit => format!("{} / {}", a.unit, b.unit),
            _ => a.or(b).map(|r| r.unit.clone()).unwrap_or_default(),
        };
        let ratio = match (a, b) {
            (Some(a), Some(b)) if a.unit == b.unit && b.value > 0.0 => format!("{:.2}×", a.value / b.value),
            _ => dash(),
        };
        let value = |r: Option<&ResultRow>| r.map_or_else(dash, |r| throughput(r.value));
        let rss = |r: Option<&ResultRow>| r.and_then(|r| r.peak_rss_mib).map_or_else(dash, |m| format!("{m:.0}"));
        let _ = writeln!(
            md,
            "| {} | {} | {unit} | {} | {} | {ratio} | {} | {} |",
            k.0,
            k.1,
            value(a),
            value(b),
            rss(a),
            rss(b)
        );
        for (side, r) in [("dataeff", a), ("PyTorch", b)] {
            if let Some(note) = r.and_then(|r| r.note.as_deref()) {
                notes.push(format!("- {} {}, {side}: {note}", k.0, k.1));
            }
        }
    }
    for (side, results) in [("dataeff", ours), ("PyTorch", torch)] {
        if let Some(mib) = results.baseline_rss_mib {
            notes.push(format!(
                "- {side}'s peak RSS includes {mib:.0} MiB resident before any model is loaded (its libraries)"
            ));
        }
    }
    if !notes.is_empty() {
        md += "\n";
        md += &notes.join("\n");
        md += "\n";
    }
    md
}

/// A throughput with about three significant digits.
fn throughput(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// The CPU's model name (/proc/cpuinfo), or `unknown CPU`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch (the civil-from-days algorithm of
/// H. Hinnant, proleptic Gregorian calendar).
fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATAEFF: &str = r#"{"runtime": "dataeff", "versions": {"dataeff": "0.1.0", "candle-core": "0.11.1"}, "threads": 2,
        "rows": [
          {"model": "m1", "workload": "forward", "unit": "tokens/s", "value": 300.0, "seconds": 0.43, "peak_rss_mib": 1234.4},
          {"model": "m1", "workload": "coslow", "unit": "examples/s", "value": 2.5, "seconds": 12.8, "peak_rss_mib": 2000.0,
           "note": "median cos 0.123"},
          {"model": "m2", "workload": "generate", "unit": "examples/s", "value": 12.0, "seconds": 1.3, "peak_rss_mib": 900.0}
        ]}"#;

    const TORCH: &str = r#"{"runtime": "pytorch", "versions": {"torch": "2.15.0", "transformers": "5.25.0"}, "threads": 2,
        "baseline_rss_mib": 738.2,
        "rows": [
          {"model": "m1", "workload": "forward", "unit": "tokens/s", "value": 150.0, "seconds": 0.85, "peak_rss_mib": 1500.0},
          {"model": "m1", "workload": "coslow", "unit": "examples/s", "value": 5.0, "seconds": 6.4, "peak_rss_mib": 2500.0,
           "note": "median cos 0.125"},
          {"model": "m1", "workload": "train_step", "unit": "tokens/s", "value": 80.26, "seconds": 9.6, "peak_rss_mib": 3000.0}
        ]}"#;

    #[test]
    fn the_table_merges_both_sides_row_by_row() {
        let header = Header { date: "2025-01-02 03:04 UTC".to_string(), cpu: "Test CPU".to_string() };
        let md = compare_markdown(&header, &Results::parse(DATAEFF).unwrap(), &Results::parse(TORCH).unwrap());
        let expected = "\
# dataeff vs PyTorch, CPU, f32

2025-01-02 03:04 UTC · Test CPU · 2 threads · dataeff: dataeff 0.1.0, candle-core 0.11.1 · PyTorch: torch 2.15.0, transformers 5.25.0

| model | workload | unit | dataeff | PyTorch | ratio | dataeff peak RSS (MiB) | PyTorch peak RSS (MiB) |
|---|---|---|---:|---:|---:|---:|---:|
| m1 | forward | tokens/s | 300 | 150 | 2.00× | 1234 | 1500 |
| m1 | coslow | examples/s | 2.50 | 5.00 | 0.50× | 2000 | 2500 |
| m2 | generate | examples/s | 12.0 | – | – | 900 | – |
| m1 | train_step | tokens/s | – | 80.3 | – | – | 3000 |

- m1 coslow, dataeff: median cos 0.123
- m1 coslow, PyTorch: median cos 0.125
- PyTorch's peak RSS includes 738 MiB resident before any model is loaded (its libraries)
";
        assert_eq!(md, expected, "\n{md}");
    }

    #[test]
    fn different_thread_counts_are_both_shown() {
        let header = Header { date: "d".to_string(), cpu: "c".to_string() };
        let torch = Results::parse(&TORCH.replace("\"threads\": 2", "\"threads\": 1")).unwrap();
        let md = compare_markdown(&header, &Results::parse(DATAEFF).unwrap(), &torch);
        assert!(md.contains("threads: dataeff 2, PyTorch 1"), "{md}");
    }

    #[test]
    fn a_malformed_results_file_says_what_was_expected() {
        let err = Results::parse(r#"{"runtime": "x", "rows": [{"model": "m"}]}"#).unwrap_err().to_string();
        assert!(err.contains("missing field") && err.contains("expected {\"runtime\""), "{err}");
    }

    #[test]
    fn a_missing_workloads_file_says_to_run_the_rust_bench_first() {
        let dir = tempfile::tempdir().unwrap();
        let err = thread_count(&dir.path().join("workloads.json")).unwrap_err().to_string();
        assert!(err.contains("workloads.json: not found") && err.contains("cargo bench --bench runtime"), "{err}");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
    }
}
