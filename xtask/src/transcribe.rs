//! `cargo xtask transcribe`: the authors' published numbers → our tidy CSV files under
//! `data/published/`. Reads with dataeff's own parser of their layout, so anyone can redo it.

use std::path::Path;

use dataeff::published::{HumanLevel, family_task_files, parse_human_eval, read_result_file, HUMAN_EVAL_FILE};
use dataeff::tidy::{AucRow, HumanLevelRow, ScoreRow, write_rows, HUMAN_LEVEL_FILE, LLAMA_AUC_FILE, SCORES_FILE};
use dataeff::Family;

/// The authors' AUC file for Llama (the only family whose AUC file is published).
const LLAMA_AUC_SOURCE: &str = "auc_res/llama_auc_logscale_by_task_5000.json";

pub fn run(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut scores = Vec::new();
    for family in Family::ALL {
        for (task, path) in family_task_files(from, family.prefix())? {
            for (budget, metrics) in read_result_file(&path)?.budgets {
                for (metric, value) in metrics {
                    scores.push(ScoreRow { family: family.prefix().into(), task: task.clone(), budget, metric, value });
                }
            }
        }
    }
    write_rows(&to.join(SCORES_FILE), &scores)?;

    let human_path = from.join(HUMAN_EVAL_FILE);
    let human_doc: serde_json::Value = serde_json_from_path(&human_path)?;
    let human: Vec<HumanLevelRow> = parse_human_eval(&human_path, &human_doc)?
        .into_iter()
        .map(|(task, level)| {
            let method = human_doc[&task].get("method").and_then(|m| m.as_str()).map(str::to_string);
            match level {
                HumanLevel::Score(s) => HumanLevelRow { task, score: Some(s), method, note: None },
                HumanLevel::Unknown => HumanLevelRow { task, score: None, method, note: None },
                HumanLevel::Invalid(found) => HumanLevelRow {
                    task,
                    score: None,
                    method,
                    note: Some(format!("source score is {found}, not a number")),
                },
            }
        })
        .collect();
    write_rows(&to.join(HUMAN_LEVEL_FILE), &human)?;

    let auc_path = from.join(LLAMA_AUC_SOURCE);
    let auc_doc: std::collections::BTreeMap<String, dataeff::AucSummary> =
        serde_json_from_path(&auc_path)?;
    let auc: Vec<AucRow> = auc_doc
        .into_iter()
        .map(|(task, s)| AucRow {
            task,
            max_acc: s.max_acc,
            min_acc: s.min_acc,
            extrapolation_auc: s.extrapolation_auc,
            human_eval: s.human_eval,
        })
        .collect();
    write_rows(&to.join(LLAMA_AUC_FILE), &auc)?;
    println!("transcribed {} score rows, {} human levels, {} Llama AUC rows into {}", scores.len(), human.len(), auc.len(), to.display());
    Ok(())
}

fn serde_json_from_path<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
