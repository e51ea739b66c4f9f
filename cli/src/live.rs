//! The live line on a terminal: what runs now, and for how long. indicatif draws it on stdout
//! once a step (a statement, or a migration that reports none) has run for a second, so quick
//! work leaves no trace of it, and clears it when the work ends.
//!
//! A ticker thread of its own shows and redraws the line: while SQLite runs a statement the
//! command's only thread is inside SQLite, and could do neither.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a step runs before the line shows.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// How often the ticker looks and redraws.
const TICK: Duration = Duration::from_millis(100);

/// The line of the work running now, for as long as the value lives.
#[derive(Debug)]
pub(crate) struct LiveLine {
    shared: Arc<Mutex<Shared>>,
    /// Dropped to stop the ticker at once.
    stop: Option<Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    /// The running work's line, hidden until it has run long enough.
    bar: Option<ProgressBar>,
    /// When the step running now started.
    since: Option<Instant>,
    shown: bool,
    /// Whether the line is a bar counting rows ([`LiveLine::count`]).
    counting: bool,
}

impl LiveLine {
    /// A live line, with nothing running yet.
    pub(crate) fn new() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (stop, stopped) = mpsc::channel::<()>();
        let ticker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("godwit-progress".into())
                .spawn(move || {
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                        lock(&shared).tick();
                    }
                })
                // Without a thread there is no live line; the run goes on without it.
                .ok()
        };
        LiveLine {
            shared,
            stop: Some(stop),
            ticker,
        }
    }

    /// A piece of work starts: `what` names it (`migration 2 of 5: applying 3 backfill`).
    pub(crate) fn start(&self, what: String) {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} [{elapsed}] {prefix} {wide_msg}")
            .expect("the template is valid");
        bar.set_style(style);
        bar.set_prefix(what);
        let mut shared = lock(&self.shared);
        shared.end();
        shared.bar = Some(bar);
        shared.since = Some(Instant::now());
    }

    /// A step of the work starts: `what` names it (`statement 3, line 12: UPDATE ...`).
    pub(crate) fn step(&self, what: String) {
        let mut shared = lock(&self.shared);
        if let Some(bar) = &shared.bar {
            bar.set_message(format!("- {what}"));
            bar.reset_elapsed();
            shared.since = Some(Instant::now());
        }
    }

    /// The work counts rows now (a backfill): the line becomes a bar of `done` rows of
    /// `total`, with the rate and the time left, and `what` after it.
    pub(crate) fn count(&self, what: String, done: u64, total: Option<u64>) {
        let mut shared = lock(&self.shared);
        let Some(bar) = &shared.bar else {
            return;
        };
        if !shared.counting {
            let template = match total {
                Some(_) => {
                    "{spinner} [{elapsed}] {prefix} {msg} [{bar:30}] {human_pos}/{human_len} rows \
                     ({per_sec}, {eta} left)"
                }
                None => "{spinner} [{elapsed}] {prefix} {msg} {human_pos} rows ({per_sec})",
            };
            let style = ProgressStyle::with_template(template)
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            if let Some(total) = total {
                bar.set_length(total.max(done));
            }
            bar.set_position(done);
            // Rows an earlier run did are not this run's rate.
            bar.reset_eta();
            bar.set_message(format!("- {what}"));
            shared.counting = true;
            return;
        }
        if let Some(total) = total {
            bar.set_length(total.max(done));
        }
        bar.set_position(done);
    }

    /// The work ended: the line goes.
    pub(crate) fn end(&self) {
        lock(&self.shared).end();
    }

    /// Run `print`, which writes to the terminal, with the line out of its way.
    pub(crate) fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        let shared = lock(&self.shared);
        match &shared.bar {
            Some(bar) if shared.shown => bar.suspend(print),
            _ => print(),
        }
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        self.end();
    }
}

impl Shared {
    /// Show the line once its step has run long enough, and redraw it.
    fn tick(&mut self) {
        let (Some(bar), Some(since)) = (&self.bar, self.since) else {
            return;
        };
        if !self.shown && since.elapsed() >= SHOW_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stdout());
            self.shown = true;
        }
        if self.shown {
            bar.tick();
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take()
            && self.shown
        {
            bar.finish_and_clear();
        }
        self.since = None;
        self.shown = false;
        self.counting = false;
    }
}

/// The shared state, even if a thread panicked holding it: it holds nothing a panic could
/// leave half-written that matters more than a progress line.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}
