//! `cargo xtask transcribe`: the authors' published numbers → our tidy CSV files under
//! `data/published/`. Reads with dataeff's own parser of their layout, so anyone can redo it.

use std::path::Path;

use dataeff::published::{HumanEntry, HumanLevel, family_task_files, read_human_eval, read_result_file, HUMAN_EVAL_FILE};
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

    let human: Vec<HumanLevelRow> = read_human_eval(&from.join(HUMAN_EVAL_FILE))?
        .into_iter()
        .map(|(task, HumanEntry { score, method })| match score {
            HumanLevel::Score(s) => HumanLevelRow { task, score: Some(s), method, note: None },
            HumanLevel::Unknown => HumanLevelRow { task, score: None, method, note: None },
            HumanLevel::Invalid(found) => HumanLevelRow {
                task,
                score: None,
                method,
                note: Some(format!("source score is {found}, not a number")),
            },
        })
        .collect();
    write_rows(&to.join(HUMAN_LEVEL_FILE), &human)?;

    let auc_path = from.join(LLAMA_AUC_SOURCE);
    let auc_doc: std::collections::BTreeMap<String, dataeff::AucSummary> = dataeff::json::read(&auc_path)?;
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
    eprintln!("transcribed {} score rows, {} human levels, {} Llama AUC rows into {}", scores.len(), human.len(), auc.len(), to.display());
    Ok(())
}
