//! Everything godwit prints: data and progress on stdout, as text or JSON, and warnings on
//! stderr. Colour is used only when the stream is a terminal and `NO_COLOR` is unset, and the
//! live line of a run ([`LiveLine`]) only when stdout is a terminal.

use std::io::{self, IsTerminal, Write};

use comfy_table::{Cell, Color, Table, presets};
use godwit_core::declarative::MeasuredHazard;
use godwit_core::dialect::{Statement, StatementKind};
use godwit_core::plan::{StatusEntry, Warning};
use godwit_core::{BackfillProgress, BackfillRow, Event, State, StatusReport, Step};
use serde::Serialize;

use crate::error::CliError;
use crate::live::LiveLine;
use crate::print::{ERROR, OK, WARNING, print_document, write_stdout};
pub(crate) use crate::print::{
    Format, Verbosity, count, migrations, milliseconds, size, statements,
};

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    format: Format,
    verbosity: Verbosity,
}

impl Output {
    /// An output in `format` at `verbosity`.
    pub(crate) fn new(format: Format, verbosity: Verbosity) -> Self {
        Output { format, verbosity }
    }

    /// The format results are printed in.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Whether progress, summaries and warnings are printed.
    fn chatty(&self) -> bool {
        self.format == Format::Human && self.verbosity != Verbosity::Quiet
    }

    /// Print data the user asked for (a table, a plan, created paths), even with `--quiet`.
    pub(crate) fn data(&self, text: &str) -> Result<(), CliError> {
        write_stdout(text).map_err(CliError::Stdout)
    }

    /// Print a summary line for people; nothing in JSON or quiet mode.
    pub(crate) fn summary(&self, text: &str) -> Result<(), CliError> {
        if self.chatty() {
            write_stdout(&format!("{text}\n")).map_err(CliError::Stdout)?;
        }
        Ok(())
    }

    /// Print `value`, the command's result, as its one JSON document, with `"ok": true`. A
    /// command that fails prints none: the error is its document (see [`CliError::document`]).
    pub(crate) fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        #[derive(Serialize)]
        struct Succeeded<'a, T: ?Sized> {
            ok: bool,
            #[serde(flatten)]
            value: &'a T,
        }
        print_document(&Succeeded { ok: true, value }).map_err(CliError::Stdout)
    }

    /// Tell the user something that does not stop the command, on stderr; nothing in JSON
    /// mode (the document carries the warnings) or quiet mode.
    pub(crate) fn warning(&self, text: &dyn std::fmt::Display) {
        if self.chatty() {
            // A closed stderr leaves nowhere to report the failure; the command carries on.
            let _ = writeln!(anstream::stderr(), "{WARNING}warning:{WARNING:#} {text}");
        }
    }

    /// A progress printer for a `migrate`, `rollback` or `recover` run: a live line too when
    /// stdout is a terminal.
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            output: *self,
            live: (self.chatty() && io::stdout().is_terminal()).then(LiveLine::new),
            planned: None,
            started: 0,
            running: None,
            line_open: false,
            error: None,
        }
    }

    /// Whether each statement is named as it starts (`-v`).
    fn names_statements(&self) -> bool {
        self.chatty() && matches!(self.verbosity, Verbosity::Verbose(_))
    }
}

/// Prints a run as it goes: one line per migration (`applying 20240101120000 create_users ...
/// ok (12 ms)`), with `-v` a line per statement as it starts, and on a terminal a live line
/// for work that runs longer than a second ([`LiveLine`]). A failed write (a closed pipe)
/// stops the printing, never the run; it is reported by [`Progress::finish`].
#[derive(Debug)]
pub(crate) struct Progress {
    output: Output,
    live: Option<LiveLine>,
    /// How many migrations the run planned, once it said.
    planned: Option<usize>,
    /// How many it started so far.
    started: usize,
    /// The line of the migration running now, until its outcome ends it.
    running: Option<String>,
    /// Whether the running migration's line is written and waits for its outcome.
    line_open: bool,
    error: Option<io::Error>,
}

impl Progress {
    /// Report one event of the run.
    pub(crate) fn event(&mut self, event: &Event) {
        match event {
            Event::Warning { warning } => self.warn(warning),
            Event::BackedUp { path, bytes } => {
                self.write(&format!(
                    "backed up to {} ({})\n",
                    path.display(),
                    size(*bytes)
                ));
            }
            Event::Applying {
                version,
                name,
                transactional,
            } => {
                let note = if *transactional {
                    ""
                } else {
                    " (outside a transaction)"
                };
                self.start(format!("applying {version} {name}{note}"));
            }
            Event::RollingBack { version, name } => {
                self.start(format!("rolling back {version} {name}"));
            }
            Event::Statement { step, .. } => {
                if self.output.names_statements() {
                    self.write(&format!("  {}\n", step_text(step)));
                }
                if let Some(live) = &self.live {
                    live.step(step_text(step));
                }
            }
            Event::Applied { duration_ms, .. } | Event::RolledBack { duration_ms, .. } => {
                self.end(&format!("{OK}ok{OK:#} ({})", milliseconds(*duration_ms)));
            }
            Event::DroppedInvalidIndex { index } => self.warn(&format!(
                "dropped invalid index {}.{} on {}, left by an earlier attempt, so the migration \
                 builds it again",
                index.schema, index.name, index.table
            )),
            Event::Backfill { progress } => self.backfill(progress, event),
            Event::Locked => tracing::debug!("took the migration lock"),
            Event::Planned { count } => {
                self.planned = Some(*count);
                tracing::debug!(count, "planned the run");
            }
            _ => {}
        }
    }

    /// A backfill's progress: the live line counts its rows; its end is a line of its own;
    /// with `--format json` each report is a JSON line on stderr (stdout keeps the one
    /// document of the run).
    fn backfill(&mut self, progress: &BackfillProgress, event: &Event) {
        if self.output.format == Format::Json {
            if let Ok(line) = serde_json::to_string(event) {
                // Progress only: a closed stderr stops nothing.
                let _ = writeln!(io::stderr(), "{line}");
            }
            return;
        }
        if let Some(live) = &self.live {
            live.count(
                format!("backfill {}", progress.table),
                progress.rows_done,
                progress.rows_estimated,
            );
        }
        if progress.finished && self.output.names_statements() {
            let rate = if progress.elapsed_ms > 0 {
                format!(
                    ", {} rows/s",
                    progress.rows_this_run * 1000 / progress.elapsed_ms.max(1)
                )
            } else {
                String::new()
            };
            let text = format!(
                "  backfilled {}: {} rows in {} batches this run ({}{rate})\n",
                progress.table,
                progress.rows_this_run,
                progress.batches,
                milliseconds(progress.elapsed_ms),
            );
            self.write(&text);
        }
    }

    /// End the line of a migration that failed.
    pub(crate) fn interrupt(&mut self) {
        if self.running.is_some() {
            self.end(&format!("{ERROR}failed{ERROR:#}"));
        }
    }

    /// Whether it shows statements as they start, so the run should report them.
    pub(crate) fn shows_statements(&self) -> bool {
        self.live.is_some() || self.output.names_statements()
    }

    /// The first write error, if printing failed.
    pub(crate) fn finish(self) -> Result<(), CliError> {
        self.error
            .map_or(Ok(()), |error| Err(CliError::Stdout(error)))
    }

    /// A migration (or its down script) starts: `what` says which.
    fn start(&mut self, what: String) {
        self.started += 1;
        if let Some(live) = &self.live {
            live.start(match self.planned {
                Some(planned) => format!("migration {} of {planned}: {what}", self.started),
                None => what.clone(),
            });
        }
        if self.output.names_statements() {
            // Its statements follow on lines of their own, and its outcome after them.
            self.write(&format!("{what} ...\n"));
        } else if self.live.is_none() {
            self.write(&format!("{what} ... "));
            self.line_open = true;
        }
        self.running = Some(what);
    }

    /// The running migration ended with `outcome`.
    fn end(&mut self, outcome: &str) {
        let Some(what) = self.running.take() else {
            return;
        };
        if let Some(live) = &self.live {
            live.end();
        }
        if self.output.names_statements() {
            self.write(&format!("  {outcome}\n"));
        } else if self.line_open {
            self.write(&format!("{outcome}\n"));
        } else {
            self.write(&format!("{what} ... {outcome}\n"));
        }
        self.line_open = false;
    }

    fn warn(&self, warning: &dyn std::fmt::Display) {
        match &self.live {
            Some(live) => live.suspend(|| self.output.warning(warning)),
            None => self.output.warning(warning),
        }
    }

    fn write(&mut self, text: &str) {
        if !self.output.chatty() || self.error.is_some() {
            return;
        }
        let written = match &self.live {
            Some(live) => live.suspend(|| write_stdout(text)),
            None => write_stdout(text),
        };
        if let Err(error) = written {
            self.error = Some(error);
        }
    }
}

/// A step as its line says it: `statement 3 of 7, line 12: UPDATE ...`.
fn step_text(step: &Step) -> String {
    let mut text = format!("statement {}", step.index);
    if let Some(total) = step.total {
        text.push_str(&format!(" of {total}"));
    }
    if let Some(line) = step.line {
        text.push_str(&format!(", line {line}"));
    }
    if let Some(label) = &step.label {
        text.push_str(&format!(": {label}"));
    }
    text
}

/// A warning as it appears in JSON: its fields plus the sentence shown to people.
#[derive(Debug, Serialize)]
pub(crate) struct JsonWarning<'a> {
    #[serde(flatten)]
    warning: &'a Warning,
    message: String,
}

/// `warnings` as they appear in JSON documents.
pub(crate) fn json_warnings(warnings: &[Warning]) -> Vec<JsonWarning<'_>> {
    warnings
        .iter()
        .map(|warning| JsonWarning {
            warning,
            message: warning.to_string(),
        })
        .collect()
}

/// The statements of a declarative plan as SQL for people: each ends with `;`, and comments
/// above it say when it destroys data (`DESTRUCTIVE` when it needs consent, with the rows it
/// touches when measured; `REFUSED` when those rows make it impossible), runs outside the
/// transaction, or is a check.
pub(crate) fn statements_text(statements: &[Statement], hazards: &[MeasuredHazard]) -> String {
    let mut text = String::new();
    for (index, statement) in statements.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        match hazards.iter().find(|h| h.statement == index) {
            Some(hazard) if hazard.blocks() => {
                text.push_str(&format!("-- REFUSED: {hazard}\n"));
            }
            Some(hazard) if hazard.needs_consent() => {
                text.push_str(&format!("-- DESTRUCTIVE: {hazard}\n"));
            }
            Some(hazard) => text.push_str(&format!("-- hazard: {hazard}\n")),
            None => {
                if let Some(hazard) = &statement.hazard {
                    text.push_str(&format!("-- hazard: {}\n", hazard.description));
                }
            }
        }
        if statement.concurrent {
            text.push_str("-- runs concurrently, on its own outside the transaction\n");
        } else if !statement.transactional {
            text.push_str("-- runs outside the transaction\n");
        }
        if let Some(hint) = &statement.failure_hint {
            text.push_str(&format!("-- if it fails: {hint}\n"));
        }
        if let StatementKind::AssertEmpty { message } = &statement.kind {
            text.push_str(&format!(
                "-- check ({message}): this query must return no rows\n"
            ));
        }
        let sql = statement.sql.trim_end();
        text.push_str(sql);
        if !sql.ends_with(';') {
            text.push(';');
        }
        text.push('\n');
    }
    text
}

/// The line under a migration's row of the status table, when it needs one: the first line of
/// a failed migration's error, and for a rolled back one its last run and its rollback, each
/// with its time.
fn status_note(entry: &StatusEntry, took: Option<String>) -> Option<String> {
    match entry.state {
        State::Failed => {
            let error = entry.error.as_deref()?;
            let first = error.lines().next().unwrap_or_default();
            let more = if first.len() < error.trim_end().len() {
                " (`godwit recover` shows all of it)"
            } else {
                ""
            };
            Some(format!("error: {first}{more}"))
        }
        State::RolledBack => {
            let ran = entry.started_at.as_deref().map(|at| match &took {
                Some(took) => format!("ran {} for {took}", timestamp(at)),
                None => format!("ran {}", timestamp(at)),
            });
            let undone = entry
                .finished_at
                .as_deref()
                .map(|at| format!("rolled back {}", timestamp(at)));
            let both: Vec<String> = ran.into_iter().chain(undone).collect();
            (!both.is_empty()).then(|| both.join(", "))
        }
        _ => None,
    }
}

/// An RFC 3339 timestamp from the history as `2024-01-01 12:00:00`, in UTC.
fn timestamp(rfc3339: &str) -> String {
    let seconds = rfc3339.split(['.', 'Z', '+']).next().unwrap_or(rfc3339);
    seconds.replacen('T', " ", 1)
}

/// The order states are counted in below the status table.
pub(crate) const STATES: [State; 8] = [
    State::Applied,
    State::Running,
    State::Pending,
    State::OutOfOrder,
    State::Failed,
    State::Modified,
    State::Missing,
    State::RolledBack,
];

fn state_color(state: State) -> Color {
    match state {
        State::Applied => Color::Green,
        State::Pending | State::RolledBack | State::Running => Color::Yellow,
        State::Failed | State::Modified | State::Missing | State::OutOfOrder => Color::Red,
    }
}

/// A table without borders, styled when stdout takes colour.
fn plain_table() -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    if anstream::AutoStream::choice(&io::stdout()) == anstream::ColorChoice::Never {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table
}

/// The human form of `status`: a table of every migration with its last run, a line under
/// a row that needs one (a failed migration's error, what happened when to a rolled back one),
/// and the counts.
pub(crate) fn status_table(report: &StatusReport) -> String {
    let mut table = plain_table();
    table.set_header([
        "VERSION",
        "NAME",
        "STATE",
        "STARTED (UTC)",
        "FINISHED (UTC)",
        "DURATION",
    ]);
    let time = |at: &Option<String>| at.as_deref().map(timestamp).unwrap_or_default();
    let duration = |entry: &StatusEntry| {
        entry
            .duration_ms
            .and_then(|ms| u64::try_from(ms).ok())
            .map(milliseconds)
    };
    for entry in &report.entries {
        // A rolled back row keeps its last run's start and duration, but its finish is the
        // rollback's: two events that one row of columns would show as one. Its note tells them.
        let (started, finished, took) = if entry.state == State::RolledBack {
            Default::default()
        } else {
            (
                time(&entry.started_at),
                time(&entry.finished_at),
                duration(entry).unwrap_or_default(),
            )
        };
        table.add_row([
            Cell::new(entry.version),
            Cell::new(&entry.name),
            Cell::new(entry.state.label()).fg(state_color(entry.state)),
            Cell::new(started),
            Cell::new(finished),
            Cell::new(took),
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    // No cell holds a line break and the table does not wrap, so its lines are the header
    // and then one per entry.
    let table = table.trim_fmt();
    let mut lines = table.lines();
    let mut text = format!("{}\n", lines.next().unwrap_or_default());
    for (entry, line) in report.entries.iter().zip(lines) {
        text.push_str(line);
        text.push('\n');
        if let Some(note) = status_note(entry, duration(entry)) {
            text.push_str(&format!("    {note}\n"));
        }
    }

    let counts: Vec<String> = STATES
        .iter()
        .map(|&state| (state, report.count(state)))
        .filter(|&(_, count)| count > 0)
        .map(|(state, count)| format!("{count} {}", state.label()))
        .collect();
    text.push_str(&format!(
        "\n{}: {}\n",
        migrations(report.entries.len()),
        counts.join(", ")
    ));
    if let Some(holder) = &report.lock {
        text.push_str(&match holder.alive() {
            Some(true) => format!(
                "a run is in progress: the migration lock is held by {holder}; a migration it \
                 applies in a transaction shows as applied once it commits\n"
            ),
            Some(false) => {
                format!("a stale migration lock is left by {holder}; the next run takes it over\n")
            }
            None => format!("the migration lock is held by {holder}\n"),
        });
    }
    if !report.backfills.is_empty() {
        text.push_str("\nbackfills not finished:\n");
        let running = report
            .lock
            .as_ref()
            .is_some_and(|h| h.alive() != Some(false));
        for row in &report.backfills {
            text.push_str(&format!(
                "  {} {}: {} ({}); {}\n",
                row.version,
                row.table,
                backfill_state(row, running),
                backfill_done(row),
                if running {
                    "the run holding the lock is at it"
                } else {
                    "the next `godwit migrate` resumes it after its last batch"
                }
            ));
        }
    }
    text
}

/// A backfill's state as `status` and `backfill --status` say it: finished, or, unfinished,
/// running while a live run holds the lock, else interrupted.
pub(crate) fn backfill_state(row: &BackfillRow, running: bool) -> &'static str {
    match (&row.finished_at, running) {
        (Some(_), _) => "finished",
        (None, true) => "running",
        (None, false) => "interrupted",
    }
}

/// `45000 of 200000 rows done (22%)`, or without the estimate when there is none.
pub(crate) fn backfill_done(row: &BackfillRow) -> String {
    match (row.rows_estimated, row.fraction()) {
        (Some(estimated), Some(fraction)) => format!(
            "{} of {estimated} rows done ({:.0}%)",
            row.rows_done,
            fraction * 100.0
        ),
        _ => format!("{} rows done", row.rows_done),
    }
}

/// Every backfill as a table: migration, table, state, rows, times.
pub(crate) fn backfills_table(rows: &[BackfillRow], running: bool) -> String {
    let mut table = plain_table();
    table.set_header([
        "VERSION",
        "TABLE",
        "STATE",
        "PROGRESS",
        "STARTED (UTC)",
        "UPDATED (UTC)",
    ]);
    for row in rows {
        let state = backfill_state(row, running);
        let color = match state {
            "finished" => Color::Green,
            "running" => Color::Cyan,
            _ => Color::Red,
        };
        table.add_row([
            Cell::new(row.version),
            Cell::new(&row.table),
            Cell::new(state).fg(color),
            Cell::new(backfill_done(row)),
            Cell::new(timestamp(&row.started_at)),
            Cell::new(timestamp(&row.updated_at)),
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    format!("{}\n", table.trim_fmt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(milliseconds(12), "12 ms");
        assert_eq!(milliseconds(1_500), "1.5 s");
        assert_eq!(milliseconds(125_000), "2 min 5 s");
    }

    #[test]
    fn timestamps_drop_fractions_and_zone() {
        assert_eq!(timestamp("2024-01-01T12:00:00.123Z"), "2024-01-01 12:00:00");
        assert_eq!(timestamp("2024-01-01T12:00:00Z"), "2024-01-01 12:00:00");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(size(5 * 1024 * 1024 * 1024 * 1024), "5120.0 GiB");
    }

    fn entry(state: State, error: Option<&str>) -> StatusEntry {
        StatusEntry {
            version: godwit_core::Version::new(3).unwrap(),
            name: "broken".into(),
            state,
            origin: None,
            has_down: false,
            started_at: Some("2024-01-01T12:00:00.000Z".into()),
            finished_at: Some("2024-01-02T08:30:00.000Z".into()),
            duration_ms: Some(1500),
            error: error.map(str::to_string),
            recorded_checksum: None,
            file_checksum: None,
        }
    }

    #[test]
    fn a_failed_row_notes_the_first_line_of_its_error() {
        let one_line = entry(State::Failed, Some("near \"SELEC\": syntax error"));
        assert_eq!(
            status_note(&one_line, None).as_deref(),
            Some("error: near \"SELEC\": syntax error")
        );
        let more = entry(
            State::Failed,
            Some("deadlock detected\nDETAIL: process 7 waits"),
        );
        assert_eq!(
            status_note(&more, None).as_deref(),
            Some("error: deadlock detected (`godwit recover` shows all of it)")
        );
        assert_eq!(status_note(&entry(State::Applied, None), None), None);
    }

    #[test]
    fn a_rolled_back_row_notes_its_run_and_its_rollback() {
        let rolled_back = entry(State::RolledBack, None);
        assert_eq!(
            status_note(&rolled_back, Some(milliseconds(1500))).as_deref(),
            Some("ran 2024-01-01 12:00:00 for 1.5 s, rolled back 2024-01-02 08:30:00")
        );
    }

    #[test]
    fn counts_are_pluralised() {
        assert_eq!(migrations(1), "1 migration");
        assert_eq!(migrations(0), "0 migrations");
    }
}
