//! What every printer shares, results and errors alike: the format and verbosity a command
//! prints with, the colours, one JSON document on stdout, and the words for counts and sizes.
//! A leaf, so that [`crate::output`] (results) and [`crate::error`] (failures) both build on it
//! without importing each other.

use std::io::{self, Write};

use clap::builder::styling::{AnsiColor, Style};
use serde::Serialize;

/// How results are printed on stdout, resolved from `--format` (whose `github` value only
/// `lint` accepts, as annotations printed in its human mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people: tables, progress lines, summaries.
    Human,
    /// One JSON document, for scripts.
    Json,
}

/// How much godwit says beyond the data asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Errors and requested data only: no progress, summaries or warnings.
    Quiet,
    /// Progress, summaries and warnings; logs at `warn`.
    Normal,
    /// As `Normal`, with logs at info (1), debug (2) or trace (3 and more).
    Verbose(u8),
}

pub(crate) const ERROR: Style = AnsiColor::Red.on_default().bold();
pub(crate) const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub(crate) const OK: Style = AnsiColor::Green.on_default();

/// Print `value` on stdout as pretty JSON, written in one piece.
pub(crate) fn print_document<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

pub(crate) fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = anstream::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// `1 statement` / `2 statements`.
pub(crate) fn statements(n: usize) -> String {
    count(n, "statement")
}

/// `1 error` / `2 errors`: `n` and a noun whose plural takes an `s`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `12 ms`, `1.5 s`, `2 min 5 s`.
pub(crate) fn milliseconds(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// `512 bytes`, `1.5 KiB`, `2.0 MiB`, `3.1 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `1 migration` / `2 migrations`.
pub(crate) fn migrations(n: usize) -> String {
    count(n, "migration")
}
