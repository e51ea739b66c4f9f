//! Logs go to stderr through `tracing`: `-v` raises the level, `-q` lowers it, and without
//! either `RUST_LOG` chooses (warnings only by default).

use std::io;

use tracing_subscriber::EnvFilter;

use crate::print::Verbosity;

/// The default filter. sqlx warns about every statement slower than a second, with its SQL;
/// migrations are often slow on purpose, so those warnings only show with `-v`.
const DEFAULT: &str = "warn,sqlx=error";

/// Install the stderr logger for `verbosity`.
pub(crate) fn init(verbosity: Verbosity) {
    let filter = match verbosity {
        Verbosity::Quiet => EnvFilter::new("error"),
        Verbosity::Normal => {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT))
        }
        // sqlparser traces every step of its parser at debug level, drowning godwit's own
        // lines; RUST_LOG=sqlparser=debug still shows them to whoever wants them.
        Verbosity::Verbose(1) => EnvFilter::new("info"),
        Verbosity::Verbose(2) => EnvFilter::new("debug,sqlparser=info"),
        Verbosity::Verbose(_) => EnvFilter::new("trace,sqlparser=info"),
    };
    let color = anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .init();
}
