//! Missing or damaged data files give errors that name the file and say what to run; the fetch
//! step checks sha256 and extracts only the files it is asked for.

use std::io::Write as _;
use std::path::Path;

use dataeff::tasks::cache::{ArchiveKind, DataSource, bigbench_file, mmlu_file};
use dataeff::tasks::fetch::{extract, sha256_file, verify};
use dataeff::tasks::load;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn missing_file_names_it_and_says_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    for task in ["hyperbaton", "mmlu", "tracking_shuffled_objects"] {
        let msg = load(task, dir.path()).unwrap_err().to_string();
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
        assert!(msg.contains("cargo xtask fetch-data"), "{msg}");
    }
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("hyperbaton/task.json"), "{msg}");
}

#[test]
fn damaged_json_names_file_line_and_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let path = bigbench_file(dir.path(), "hyperbaton/task.json");
    write(&path, "{\n  \"examples\": [\n  oops\n]}");
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()) && msg.contains("line 3"), "{msg}");
    assert!(msg.contains("cargo xtask fetch-data"), "{msg}");
}

#[test]
fn wrong_field_names_example_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = bigbench_file(dir.path(), "hyperbaton/task.json");
    write(&path, r#"{"examples": [{"input": "x", "target_scores": {"a": 1, "b": 0}}, {"inptu": "y"}]}"#);
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("field `examples[1]`: missing field `input`"), "{msg}");

    write(&path, r#"{"examples": [{"input": "x", "target_scores": {"a": 0, "b": 0}}]}"#);
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("field `examples[0].target_scores`: no option scores above 0"), "{msg}");

    let path = bigbench_file(dir.path(), "qa_wikidata/task.json");
    write(&path, r#"{"examples": [{"input": "x", "target": 3}]}"#);
    let msg = load("qa_wikidata", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("qa_wikidata/task.json") && msg.contains("field `examples[0].target`: expected a string or a list of strings"), "{msg}");
}

#[test]
fn mmlu_rows_are_checked_and_header_copies_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = mmlu_file(dir.path());
    let row = |q: &str, ans: &str, topic: &str| {
        format!(
            r#"{{"question": "{q}", "answer_a": "w", "answer_b": "x", "answer_c": "y", "answer_d": "z", "correct_answer": "{ans}", "topic": "{topic}"}}"#
        )
    };
    let good =
        [row("question", "answer", "topic"), row("q1", "C", "anatomy"), row("q2", "A", "world religions")].join("\n");
    write(&path, &good);
    let task = load("mmlu", dir.path()).unwrap();
    assert_eq!(task.examples.len(), 1, "header copy and excluded subject dropped");
    assert_eq!(task.examples[0].target(), "2");
    assert!(task.render(&task.examples[0]).contains("Subject: anatomy"));

    write(&path, &[row("q1", "C", "anatomy"), row("q2", "E", "anatomy")].join("\n"));
    let msg = load("mmlu", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("mmlu.jsonl") && msg.contains("line 2, field `correct_answer`"), "{msg}");
}

fn source(kind: ArchiveKind, sha: &'static str) -> DataSource {
    DataSource {
        package: "pkg",
        version: "1.0",
        kind,
        file_name: "pkg.archive",
        sha256: sha,
        licence: "MIT",
        strip_prefix: "pkg-1.0/pkg/",
        members: &["keep/a.json", "data/*"],
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn tar_gz_extraction_keeps_only_wanted_files_and_checks_sha() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("pkg.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(std::fs::File::create(&archive).unwrap(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, body) in
            [("pkg-1.0/pkg/keep/a.json", "A"), ("pkg-1.0/pkg/drop/b.json", "B"), ("pkg-1.0/pkg/data/c", "C")]
        {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, body.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let wrong = source(ArchiveKind::Sdist, "00");
    let msg = verify(&wrong, &archive).unwrap_err().to_string();
    assert!(msg.contains("pkg.tar.gz") && msg.contains("cargo xtask fetch-data"), "{msg}");

    let src = source(ArchiveKind::Sdist, leak(sha256_file(&archive).unwrap()));
    verify(&src, &archive).unwrap();
    let cache = dir.path().join("cache");
    assert!(!src.is_complete(&cache));
    let written = extract(&src, &archive, &cache).unwrap();
    assert_eq!(written.len(), 2);
    assert_eq!(std::fs::read_to_string(src.dir(&cache).join("keep/a.json")).unwrap(), "A");
    assert!(!src.dir(&cache).join("drop/b.json").exists());
    assert!(src.is_complete(&cache));
}

#[test]
fn wheel_extraction_fails_when_a_wanted_file_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("pkg.whl");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        zip.start_file("pkg-1.0/pkg/data/x.jsonl", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(b"{}").unwrap();
        zip.finish().unwrap();
    }
    let src = source(ArchiveKind::Wheel, leak(sha256_file(&archive).unwrap()));
    let cache = dir.path().join("cache");
    let msg = extract(&src, &archive, &cache).unwrap_err().to_string();
    assert!(msg.contains("keep/a.json"), "{msg}");
    assert!(!src.is_complete(&cache), "no stamp after a failed extraction");
}
