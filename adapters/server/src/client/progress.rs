//! Progress bars (indicatif) for `backup`, `export` and `upload`, drawn on stderr only
//! when stderr is a terminal: pipes, files, CI and tests never see them.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

/// Whether progress may be drawn (stderr is a terminal).
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
}

/// A byte-counting bar of `len` bytes, or `None` when not on a terminal.
pub fn bytes(len: u64, message: impl Into<String>) -> Option<ProgressBar> {
    if !enabled() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.into());
    Some(bar)
}

/// A spinner with elapsed time, or `None` when not on a terminal.
pub fn spinner(message: impl Into<String>) -> Option<ProgressBar> {
    if !enabled() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Runs `work` with a spinner on a terminal (cleared when it ends).
pub async fn while_running<F: Future>(message: &str, work: F) -> F::Output {
    let bar = spinner(message);
    let outcome = work.await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outcome
}
