//! One module per command. Each takes the resolved [`Config`] and its own arguments, talks to
//! the engine, and prints through [`Output`].

mod check;
mod diff;
mod generate;
mod init;
mod inspect;
mod lint;
mod migrate;
mod new;
mod push;
mod recover;
mod repair;
mod restore;
mod rollback;
mod scratch;
mod status;
mod unlock;
mod verify;

use std::time::Duration;

use godwit_core::url::Redacted;
use godwit_core::{Error, HistoryTable, Migrations, Migrator, MigratorConfig};

use crate::args::{Cli, Command, FormatFlag};
use crate::backend::{self, Access};
use crate::config::{self, Config, ConfigPath, Environment};
use crate::error::CliError;
use crate::output::{Format, Output};

/// Run the command `cli` asks for.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    // `lint` prints GitHub annotations where it would print its human text; every other
    // command has nothing a workflow could read as annotations, so it refuses the format.
    let format = match (cli.global.format, &cli.command) {
        (FormatFlag::Human, _) | (FormatFlag::Github, Command::Lint(_)) => Format::Human,
        (FormatFlag::Json, _) => Format::Json,
        (FormatFlag::Github, _) => return Err(CliError::GithubFormat),
    };
    let output = Output::new(format, config::verbosity(&cli.global));
    let config = || Config::load(&cli.global, Environment::read());
    match &cli.command {
        Command::Init => init::run(&ConfigPath::from_flag(cli.global.config.as_deref()), output),
        Command::New(args) => new::run(&config()?, args, output),
        Command::Migrate(args) => migrate::run(&config()?, args, output).await,
        Command::Rollback(args) => rollback::run(&config()?, args, output).await,
        Command::Status => status::run(&config()?, output).await,
        Command::Repair(args) => repair::run(&config()?, args, output).await,
        Command::Recover(args) => recover::run(&config()?, args, output).await,
        Command::Unlock(args) => unlock::run(&config()?, args, output).await,
        Command::Restore(args) => restore::run(&config()?, args, output).await,
        Command::Push(args) => push::run(&config()?, args, output).await,
        Command::Generate(args) => generate::run(&config()?, args, output).await,
        Command::Diff(args) => diff::run(&config()?, args, output).await,
        Command::Inspect => inspect::run(&config()?, output).await,
        Command::Check => check::run(&config()?, output).await,
        Command::Lint(args) => lint::run(args, config, cli.global.format, output).await,
        Command::Verify => verify::run(&config()?, output).await,
    }
}

/// The migration files of the configured directory.
fn load_migrations(config: &Config) -> Result<Migrations, CliError> {
    if !config.migrations.exists() {
        return Err(CliError::NoMigrationsDir {
            path: config.migrations.clone(),
        });
    }
    Ok(Migrations::from_dir(&config.migrations)?)
}

/// A migrator connected to the configured database.
struct Session {
    migrator: Migrator,
    url: Redacted,
    /// The history table, whose tables are left out of the live schema.
    history: HistoryTable,
}

impl Session {
    /// Connect to the configured database. `lock_timeout` overrides the configured wait.
    async fn open(
        config: &Config,
        migrations: Migrations,
        lock_timeout: Option<Duration>,
        access: Access,
    ) -> Result<Session, CliError> {
        let url = config.url()?;
        let opened = backend::open(url, config, access).await?;
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let mut settings =
            MigratorConfig::new(format!("godwit {}", env!("CARGO_PKG_VERSION")), host);
        settings.history = opened.history.clone();
        settings.lock_timeout = lock_timeout.unwrap_or(config.lock_timeout);
        Ok(Session {
            migrator: Migrator::new(opened.store, migrations, settings),
            url: url.redacted(),
            history: opened.history,
        })
    }

    /// An engine error of this session, with the database's URL where it helps.
    fn error(&self, error: Error) -> CliError {
        CliError::engine(error, self.url.clone())
    }
}
