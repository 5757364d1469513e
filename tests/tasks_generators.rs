//! The generators: deterministic per seed, every answer confirmed by an independent solver,
//! balanced label classes, and enough distinct inputs to fill every split.

#![cfg(feature = "lm")]

use std::collections::HashSet;

use dataeff::tasks::evaluators::solve;
use dataeff::tasks::generators::{self, generate, generate_unique};
use dataeff::tasks::prompt::PromptTemplate;
use dataeff::tasks::split::majority_share;
use dataeff::tasks::{AnswerType, GENERATED_EXAMPLES};

const AGREEMENT_EXAMPLES: usize = 10_000;

#[test]
fn same_seed_same_examples_other_seed_other_examples() {
    for g in generators::all() {
        let a = generate(g.as_ref(), 7, 50);
        assert_eq!(a, generate(g.as_ref(), 7, 50), "{}: not deterministic", g.name());
        assert_ne!(a, generate(g.as_ref(), 8, 50), "{}: the seed has no effect", g.name());
    }
}

/// A few rendered examples per generator, as a reviewer would read them.
#[test]
fn rendered_examples_snapshot() {
    let mut out = String::new();
    for g in generators::all() {
        let template = PromptTemplate::for_task(g.base_task()).expect("template");
        out.push_str(&format!("## {}\n\n", g.name()));
        for ex in generate(g.as_ref(), 42, 2) {
            out.push_str(&format!("```\n{}\n```\nanswer: {}\n\n", template.render(&ex), ex.targets.join(" | ")));
        }
    }
    insta::assert_snapshot!("generated_examples", out);
}

#[test]
fn independent_solvers_agree_on_ten_thousand_examples_each() {
    for g in generators::all() {
        let examples = generate(g.as_ref(), 2026, AGREEMENT_EXAMPLES);
        let mut disagreements = Vec::new();
        for ex in &examples {
            match solve(g.base_task(), &ex.input) {
                Ok(answer) if answer == ex.target() => {}
                Ok(answer) => disagreements.push(format!("{:?}: generator {} solver {answer}", ex.input, ex.target())),
                Err(e) => disagreements.push(format!("{:?}: solver error {e}", ex.input)),
            }
            if let AnswerType::Option = g.answer() {
                assert!(ex.options.iter().any(|o| o == ex.target()), "{}: target not among options", g.name());
            }
            if let AnswerType::Labels(labels) = g.answer() {
                assert!(labels.iter().any(|l| l == ex.target()), "{}: target outside the label set", g.name());
            }
        }
        assert!(
            disagreements.is_empty(),
            "{}: {} of {AGREEMENT_EXAMPLES} disagree, e.g. {}",
            g.name(),
            disagreements.len(),
            disagreements[0]
        );
    }
}

#[test]
fn label_tasks_are_balanced() {
    for g in generators::all() {
        if let AnswerType::Labels(labels) = g.answer() {
            let share = majority_share(&generate(g.as_ref(), 5, 4000));
            let fair = 1.0 / labels.len() as f64;
            assert!(share < fair + 0.03, "{}: majority share {share}", g.name());
        }
    }
}

#[test]
fn every_generator_fills_every_split_with_distinct_inputs() {
    for g in generators::all() {
        let examples = generate_unique(g.as_ref(), 1, GENERATED_EXAMPLES);
        assert_eq!(examples.len(), GENERATED_EXAMPLES, "{}", g.name());
        let keys: HashSet<_> = examples.iter().map(|e| e.dedup_key()).collect();
        assert_eq!(keys.len(), examples.len(), "{}: duplicate inputs", g.name());
    }
}

#[test]
fn solvers_reject_text_they_cannot_read() {
    for g in generators::all() {
        assert!(solve(g.base_task(), "complete nonsense").is_err(), "{} accepted nonsense", g.name());
    }
}

/// The controls' difficulty knobs change what is generated, and the solvers still agree.
#[test]
fn difficulty_knobs_work_and_solvers_agree() {
    use dataeff::tasks::generators::Generator;
    use dataeff::tasks::generators::alphabet_mapping::AlphabetMapping;
    use dataeff::tasks::generators::key_value::KeyValue;
    use dataeff::tasks::generators::multistep_arithmetic::MultistepArithmetic;
    use dataeff::tasks::generators::tracking_shuffled_objects::TrackingShuffledObjects;

    type Shape = Box<dyn Fn(&str) -> bool>;
    let hard: Vec<(Box<dyn Generator>, Shape)> = vec![
        (Box::new(KeyValue { pairs: 30 }), Box::new(|input: &str| input.lines().count() == 31)),
        (
            Box::new(AlphabetMapping { word_len: 12, distractors: 0 }),
            Box::new(|input: &str| input.rsplit_once("Word: ").unwrap().1.len() == 12),
        ),
        (
            Box::new(MultistepArithmetic { min_ops: 6, max_ops: 6 }),
            Box::new(|input: &str| input.matches('(').count() == 6),
        ),
        (
            Box::new(TrackingShuffledObjects { sizes: vec![9] }),
            Box::new(|input: &str| input.matches(" trade ").count() == 9),
        ),
    ];
    for (g, shape) in hard {
        for ex in generate(g.as_ref(), 3, 500) {
            assert!(shape(&ex.input), "{}: {:?}", g.name(), ex.input);
            assert_eq!(solve(g.base_task(), &ex.input).as_deref(), Ok(ex.target()), "{}: {:?}", g.name(), ex.input);
        }
    }
}

/// The catalogue's generated tasks are exactly the generators (variants included), and a
/// variant is a task of its own: other examples than its base task's, in the base's format.
#[test]
fn variants_are_catalogued_tasks_with_their_own_examples() {
    use dataeff::tasks::{CATALOGUE, Origin};
    let generated: Vec<&str> = CATALOGUE.iter().filter(|s| matches!(s.origin, Origin::Generated)).map(|s| s.name).collect();
    let names: Vec<&str> = generators::all().iter().map(|g| g.name()).collect();
    assert_eq!(generated, names);
    for v in generators::variants() {
        let base = generators::by_name(v.base.name()).expect("a variant's base is a generator");
        assert_ne!(v.name, base.name());
        assert_ne!(generate(&v, 11, 20), generate(base.as_ref(), 11, 20), "{}: same examples as {}", v.name, base.name());
    }
}
