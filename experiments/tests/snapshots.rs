//! insta snapshots of every experiment's numbers (tables rounded to 1e-9, and the report summary),
//! so that any change to a published-data result shows up as a readable diff.

use std::path::PathBuf;

use dataeff_experiments::{Context, registry};

fn context() -> Context {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    Context::load(&root).expect("project data loads")
}

#[test]
fn every_experiment_matches_its_snapshot() {
    let ctx = context();
    for exp in registry() {
        let output = exp.run(&ctx).unwrap_or_else(|e| panic!("experiment {}: {e:#}", exp.id()));
        let mut text = format!("summary:\n{}\n", output.summary);
        for table in &output.tables {
            text += &format!("\ntable {}:\n{}", table.name, table.to_snapshot());
        }
        for (path, doc) in &output.documents {
            text += &format!("\ndocument {}:\n{doc}", path.display());
        }
        insta::assert_snapshot!(exp.id(), text);
    }
}

#[test]
fn figures_render_identically_twice_and_are_real_images() {
    let ctx = context();
    for exp in registry() {
        let (a, b) = (exp.run(&ctx).unwrap(), exp.run(&ctx).unwrap());
        for (fa, fb) in a.figures.iter().zip(&b.figures) {
            assert_eq!(fa.png, fb.png, "{} PNG differs between runs", fa.name);
            assert_eq!(fa.svg, fb.svg, "{} SVG differs between runs", fa.name);
            assert!(fa.png.starts_with(b"\x89PNG") && fa.png.len() > 10_000, "{}", fa.name);
            assert!(fa.svg.contains("<svg") && fa.svg.contains("</svg>"), "{}", fa.name);
        }
    }
}

#[test]
fn every_experiment_declares_existing_inputs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    for exp in registry() {
        for input in exp.inputs() {
            if !input.starts_with('(') {
                assert!(root.join(input).exists(), "{}: input {input} does not exist", exp.id());
            }
        }
    }
}
