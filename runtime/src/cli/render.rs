//! Showing progress: indicatif bars on a terminal, log lines otherwise; and the tracing
//! subscriber, which prints above the bars while they are shown.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cdms::bulk::{EntityProgress, LogProgress, NoProgress, Phase, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use super::args::ProgressMode;

/// One bar per entity under a shared [`MultiProgress`].
pub struct BarProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<&'static str, ProgressBar>>,
}

const SPINNER: &str = "{spinner:.cyan} {prefix:<14.bold} {pos:>8} records  {elapsed:>4}  {msg}";
const BAR: &str =
    "{spinner:.cyan} {prefix:<14.bold} [{bar:30.cyan/blue}] {pos:>8}/~{len:<8} ETA {eta:>4}  {msg}";
const DONE: &str = "  {prefix:<14.bold} {msg}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl BarProgress {
    /// Bars drawn on stderr.
    pub fn new() -> Self {
        BarProgress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// The shared multi-bar (log lines are printed through it).
    pub fn multi(&self) -> &MultiProgress {
        &self.multi
    }

    fn bar(&self, p: &EntityProgress) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(p.entity)
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(style(SPINNER));
                bar.set_prefix(p.entity);
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    fn show(&self, p: &EntityProgress) {
        let bar = self.bar(p);
        let done = p.records + p.records_before;
        match p.estimated_total {
            Some(total) if matches!(p.phase, Phase::Loading | Phase::Backfilling) => {
                if bar.length().is_none() {
                    bar.set_style(style(BAR));
                }
                bar.set_length(total.max(done));
            }
            _ => {}
        }
        bar.set_position(done);
        let partitions = if p.partitions > 0 {
            format!("{}/{} partitions", p.partitions_done, p.partitions)
        } else {
            String::new()
        };
        let phase = if p.phase == Phase::Loading {
            String::new()
        } else {
            format!("{} ", p.phase.as_str())
        };
        let rate = if p.records > 0 {
            format!("{:>6.0}/s  ", p.rate())
        } else {
            String::new()
        };
        bar.set_message(format!("{rate}{phase}{partitions}"));
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for BarProgress {
    fn phase(&self, p: &EntityProgress) {
        self.show(p);
    }

    fn advance(&self, p: &EntityProgress) {
        self.show(p);
    }

    fn finish(&self, p: &EntityProgress) {
        let bar = self.bar(p);
        bar.set_style(style(DONE));
        let rate = if p.records > 0 {
            format!(" ({:.0}/s)", p.rate())
        } else {
            String::new()
        };
        bar.finish_with_message(format!(
            "✔ {} records in {:.1}s{rate}",
            p.records + p.records_before,
            p.elapsed.as_secs_f64()
        ));
    }

    fn note(&self, entity: &'static str, message: &str) {
        let _ = self.multi.println(format!("  {entity}: {message}"));
    }
}

/// Where progress goes, and the multi-bar log lines must print through (if any).
pub struct Reporter {
    /// The progress sink for the engines.
    pub progress: Arc<dyn Progress>,
    /// The bars, when shown.
    pub bars: Option<Arc<BarProgress>>,
}

/// The reporter for `mode` (bars only when stderr is a terminal in `auto`).
pub fn reporter(mode: ProgressMode) -> Reporter {
    let bars = match mode {
        ProgressMode::Bars => true,
        ProgressMode::Auto => std::io::stderr().is_terminal(),
        ProgressMode::Log | ProgressMode::None => false,
    };
    if bars {
        let b = Arc::new(BarProgress::new());
        Reporter {
            progress: b.clone(),
            bars: Some(b),
        }
    } else if mode == ProgressMode::None {
        Reporter {
            progress: Arc::new(NoProgress),
            bars: None,
        }
    } else {
        Reporter {
            progress: Arc::new(LogProgress::every(Duration::from_secs(2))),
            bars: None,
        }
    }
}

/// A tracing writer: straight to stderr, or above the progress bars.
#[derive(Clone)]
pub struct LogWriter {
    multi: Arc<Mutex<Option<MultiProgress>>>,
}

impl LogWriter {
    fn new() -> Self {
        LogWriter {
            multi: Arc::new(Mutex::new(None)),
        }
    }

    /// Prints log lines above `multi` from now on.
    pub fn attach(&self, multi: &MultiProgress) {
        *self.multi.lock().unwrap_or_else(|e| e.into_inner()) = Some(multi.clone());
    }
}

/// One event's text, printed when dropped.
pub struct Line {
    buf: Vec<u8>,
    multi: Option<MultiProgress>,
}

impl Write for Line {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let text = text.trim_end_matches('\n');
        if text.is_empty() {
            return;
        }
        match &self.multi {
            Some(m) if !m.is_hidden() => {
                let _ = m.println(text);
            }
            _ => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            multi: self.multi.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// Installs the tracing subscriber: `RUST_LOG` if set, otherwise `info` (or `debug` with `-v`,
/// `warn` with `-q`) for this project's crates and `warn` for the rest.
pub fn init_logging(verbose: u8, quiet: bool) -> LogWriter {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "warn,cdms_runtime={level},cdms_entities={level},cdms_sync={level}"
        ))
    });
    let writer = LogWriter::new();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer.clone())
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    writer
}
