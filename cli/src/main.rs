//! `godwit`: safe database schema migrations for SQLite and PostgreSQL.
//!
//! `main` parses the command line and hands it to [`commands::run`]; flags, environment and
//! config file are resolved in [`config`] before any command touches the engine. Exit codes
//! are decided in one place, [`error::CliError::exit`]:
//!
//! - 0: success (also `status` with pending migrations, without `--exit-code`, and a closed
//!   stdout pipe)
//! - 1: failure: the database or a migration script failed, or `lint` found an error
//! - 2: usage or configuration error: flags, config file, URL, missing backend, migration files
//! - 3: refused, nothing was changed: the history's state forbids `migrate`/`rollback`/`baseline`
//!   (or a database without history holds tables pending migrations create), the
//!   lint found an error in a pending migration, or `push` would lose data or drops what may
//!   be a rename, or `restore` would replace the database, without consent
//! - 4: the migration lock could not be taken in time, `unlock` found it held by a live run, or
//!   `restore` found the database in use
//! - 5: a check found differences: `check` found drift between the live schema and the applied
//!   migrations, `status --exit-code` found migrations pending, failed or modified, `diff
//!   --exit-code` found the schemas differ

mod args;
mod backend;
mod cache;
mod commands;
mod config;
mod error;
mod live;
mod logging;
mod origin;
mod output;
mod plugins;
mod print;
mod prompt;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return error::finish_clap(&error),
    };
    logging::init(config::verbosity(&cli.global));
    let format = match cli.global.format {
        args::FormatFlag::Json => output::Format::Json,
        _ => output::Format::Human,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(commands::run(cli)),
        Err(source) => Err(error::CliError::Runtime(source)),
    };
    error::finish(result, format)
}
