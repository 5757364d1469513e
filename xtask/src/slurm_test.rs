//! `cargo xtask slurm-test`: a real one-node SLURM cluster on this machine, and the sweep as a job
//! array on it. Installs Debian's `slurm-wlm` and `munge` with apt-get when they are missing,
//! starts munged, slurmctld and slurmd as root from files under a temporary directory (a key, a
//! socket, a `slurm.conf` with `proctrack/linuxproc`, no cgroups, no accounting), runs the ignored
//! cluster test of `tests/study_slurm.rs` against it, and stops the daemons by their pid files at
//! the end, whether the test passed or not. Nothing outside the temporary directory is touched
//! but the packages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The programs the test needs; apt-get installs the packages that provide them.
const PROGRAMS: [&str; 9] = ["munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"];
const PACKAGES: [&str; 2] = ["slurm-wlm", "munge"];
/// Ports away from SLURM's defaults (6817/6818), so that a system SLURM is not disturbed.
const PORTS: (u16, u16) = (16817, 16818);

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let uid = String::from_utf8(Command::new("id").arg("-u").output().context("running id -u")?.stdout)?;
    if uid.trim() != "0" {
        bail!("cargo xtask slurm-test runs slurmd and apt-get, which need root (id -u says {})", uid.trim());
    }
    install()?;
    eprintln!("== starting a one-node SLURM cluster");
    let cluster = Cluster::start()?;
    eprintln!("== the sweep as a SLURM job array (tests/study_slurm.rs, SLURM_CONF={})", cluster.conf.display());
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let conf = cluster.conf.clone();
    let path = format!("{}:/usr/sbin:/sbin", std::env::var("PATH").unwrap_or_default());
    let tested = crate::nested_cargo(xshell::cmd!(sh, "cargo test --workspace --test study_slurm -- --ignored --nocapture"))
        .env("SLURM_CONF", &conf)
        .env("PATH", path)
        .run();
    if tested.is_err() {
        cluster.show_logs();
    }
    cluster.stop();
    tested?;
    eprintln!("== slurm-test passed in {:.0} s (installing included)", started.elapsed().as_secs_f64());
    Ok(())
}

/// `name` on PATH or in the sbin directories (a non-login root shell may lack them).
fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn program(name: &str) -> anyhow::Result<PathBuf> {
    find(name).with_context(|| format!("`{name}` is not installed (Debian's {} provide it)", PACKAGES.join(" and ")))
}

/// apt-get install the packages unless every program is there; an apt-get that fails is an error
/// (the test must not pass by skipping).
fn install() -> anyhow::Result<()> {
    let missing: Vec<&str> = PROGRAMS.into_iter().filter(|p| find(p).is_none()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("== installing {} with apt-get ({} missing)", PACKAGES.join(" and "), missing.join(", "));
    let t = Instant::now();
    let apt = || {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let status = apt().args(["update", "-q"]).status().context("running apt-get update (is this a Debian-like system?)")?;
    if !status.success() {
        bail!("apt-get update failed ({status}): the SLURM test needs Debian's {} packages", PACKAGES.join(" and "));
    }
    let status = apt().args(["install", "-y", "-q", "--no-install-recommends"]).args(PACKAGES).status().context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", PACKAGES.join(" "));
    }
    eprintln!("== installed in {:.0} s", t.elapsed().as_secs_f64());
    for p in PROGRAMS {
        program(p)?;
    }
    Ok(())
}

/// The running daemons and their files. Dropping it stops them.
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
    stopped: bool,
}

impl Cluster {
    fn start() -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("dataeff-slurm-").tempdir()?;
        let d = dir.path();
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        let conf = d.join("slurm.conf");
        // From here on a failure stops whatever has started.
        let mut cluster = Cluster { dir, conf, stopped: false };
        cluster.start_daemons().inspect_err(|_| cluster.show_logs())?;
        Ok(cluster)
    }

    fn start_daemons(&mut self) -> anyhow::Result<()> {
        let d = self.dir.path().to_path_buf();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d.join("munge"), std::fs::Permissions::from_mode(0o700))?;
        let key = d.join("munge/munge.key");
        let mut bytes = vec![0u8; 1024];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        std::fs::write(&key, &bytes)?;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400))?;
        let socket = d.join("munge/munge.socket");
        let arg = |flag: &str, path: &Path| format!("--{flag}={}", path.display());
        let status = Command::new(program("munged")?)
            .arg("--force")
            .arg(arg("key-file", &key))
            .arg(arg("socket", &socket))
            .arg(arg("pid-file", &d.join("munge/munged.pid")))
            .arg(arg("log-file", &d.join("log/munged.log")))
            .arg(arg("seed-file", &d.join("munge/munged.seed")))
            .status()
            .context("starting munged")?;
        if !status.success() {
            bail!("munged exited with {status}");
        }
        wait_until(Duration::from_secs(20), "munged's socket", || socket.exists())?;

        let host = hostname();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let memory = memory_mib().unwrap_or(1024);
        let (ctld_port, slurmd_port) = PORTS;
        let p = |name: &str| d.join(name).display().to_string();
        let text = format!(
            "# A one-node cluster for cargo xtask slurm-test (xtask/src/slurm_test.rs).
ClusterName=dataeff
SlurmctldHost={host}
AuthType=auth/munge
AuthInfo=socket={socket}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={ctld_pid}
SlurmdPidFile={slurmd_pid}
SlurmctldLogFile={ctld_log}
SlurmdLogFile={slurmd_log}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# Finished jobs stay visible to scontrol for the test's checks; a cancelled task dies quickly.
MinJobAge=900
KillWait=5
# SLURM's default (EnforcePartLimits=NO): a job over the partition's time limit is accepted and
# left pending, which `dataeff sweep slurm --submit` must report rather than wait on.
NodeName={host} CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=00:30:00 DefaultTime=00:10:00 State=UP
",
            socket = socket.display(),
            state = p("state"),
            spool = p("spool"),
            ctld_pid = p("slurmctld.pid"),
            slurmd_pid = p("slurmd.pid"),
            ctld_log = p("log/slurmctld.log"),
            slurmd_log = p("log/slurmd.log"),
        );
        std::fs::write(&self.conf, text)?;
        for daemon in ["slurmctld", "slurmd"] {
            let status = Command::new(program(daemon)?).env("SLURM_CONF", &self.conf).status().with_context(|| format!("starting {daemon}"))?;
            if !status.success() {
                bail!("{daemon} exited with {status}");
            }
        }
        let sinfo = program("sinfo")?;
        let conf = self.conf.clone();
        let idle = || {
            let out = Command::new(&sinfo).env("SLURM_CONF", &conf).args(["-h", "-o", "%T"]).output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        };
        wait_until(Duration::from_secs(60), "the node to be idle in sinfo", idle)?;
        eprintln!("   munged, slurmctld and slurmd up on {host} ({cpus} CPUs, {memory} MiB) under {}", d.display());
        Ok(())
    }

    /// The daemons' logs, on a failure.
    fn show_logs(&self) {
        for name in ["munged.log", "slurmctld.log", "slurmd.log"] {
            let path = self.dir.path().join("log").join(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                let lines: Vec<&str> = text.lines().collect();
                eprintln!("== last lines of {}:", path.display());
                for line in &lines[lines.len().saturating_sub(15)..] {
                    eprintln!("   {line}");
                }
            }
        }
    }

    /// Stop slurmd, slurmctld and munged by the pids in their pid files (SIGTERM, then SIGKILL
    /// after 10 s).
    fn stop(mut self) {
        self.stop_daemons();
    }

    fn stop_daemons(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let d = self.dir.path();
        for pid_file in [d.join("slurmd.pid"), d.join("slurmctld.pid"), d.join("munge/munged.pid")] {
            let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|t| t.trim().parse::<u32>().ok()) else { continue };
            let alive = || Path::new(&format!("/proc/{pid}")).exists();
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            if wait_until(Duration::from_secs(10), "a daemon to stop", || !alive()).is_err() {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            eprintln!("   stopped {} (pid {pid})", pid_file.file_stem().unwrap_or_default().to_string_lossy());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_daemons();
    }
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            bail!("waited {limit:?} for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// The short host name slurmd registers as.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    name.trim().split('.').next().unwrap_or("localhost").to_string()
}

/// This machine's memory in MiB, less a margin (slurmd drains a node configured with more than it has).
fn memory_mib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some((kib / 1024).saturating_sub(512).max(256))
}
