//! indicatif progress bars on stderr, with ETA (hidden when stderr is not a terminal, so tests and
//! logs stay clean).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The bars of one run: an overall bar over cells and one bar per step inside a cell.
#[derive(Clone, Default)]
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    pub fn new() -> Self {
        Self { multi: MultiProgress::new() }
    }

    /// A bar of `len` steps labelled `message`.
    pub fn bar(&self, len: usize, message: impl Into<String>) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len as u64));
        bar.set_style(
            ProgressStyle::with_template("{msg:32!} [{bar:28}] {pos}/{len} {elapsed_precise} ETA {eta_precise}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar
    }

    /// Print a line above the bars (or to stderr when there are none).
    pub fn println(&self, line: impl AsRef<str>) {
        if self.multi.is_hidden() {
            eprintln!("{}", line.as_ref());
        } else {
            let _ = self.multi.println(line);
        }
    }
}
