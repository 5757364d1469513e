//! Where the project's `data/` is, wherever `dataeff` is run from: above the current directory
//! (a checkout the user works in), above the binary (`target/release/dataeff` inside a checkout),
//! or the checkout the binary was built from.

use std::path::{Path, PathBuf};

/// The transcribed published results, relative to the project root.
pub const PUBLISHED: &str = "data/published";
/// A file every copy of [`PUBLISHED`] holds.
const PUBLISHED_MARKER: &str = "scores.csv";

/// The project's `data/published`, or an error naming every place looked in.
pub fn published_dir() -> Result<PathBuf, String> {
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)) {
        starts.push(dir);
    }
    // Where this binary was built from (a checkout may have moved since).
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for start in &starts {
        for dir in start.ancestors() {
            let candidate = dir.join(PUBLISHED);
            if candidate.join(PUBLISHED_MARKER).is_file() {
                return Ok(candidate);
            }
        }
    }
    let looked: Vec<String> = starts.iter().map(|s| s.display().to_string()).collect();
    Err(format!("found no {PUBLISHED}/{PUBLISHED_MARKER} in or above {}", looked.join(", ")))
}

/// The project's root (the directory holding `data/`), found as [`published_dir`] is.
pub fn project_root() -> Result<PathBuf, String> {
    let published = published_dir()?;
    Ok(published.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default())
}
