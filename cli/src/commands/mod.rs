//! One module per command. Each takes the resolved [`Config`] and its own arguments, talks to
//! the engine, and prints through [`Output`].

mod backfill;
mod baseline;
mod check;
mod diff;
mod generate;
mod init;
mod inspect;
mod lint;
mod migrate;
mod new;
mod plugins;
mod push;
mod recover;
mod repair;
mod restore;
mod rollback;
mod scratch;
mod status;
mod unlock;
mod verify;

use godwit_core::plan::Warning;
use godwit_core::url::Redacted;
use godwit_core::{Backup, Completed, Error, Event, Migrations, Migrator, MigratorConfig};

use crate::args::{Cli, Command, FormatFlag, LockArgs};
use crate::backend::{self, Access};
use crate::config::{self, Config, ConfigPath, Environment};
use crate::error::CliError;
use crate::output::{Format, Output};

/// Run the command `cli` asks for.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let format = output_format(cli.global.format, &cli.command)?;
    let output = Output::new(format, config::verbosity(&cli.global));
    let config = || Config::load(&cli.global, Environment::read(!cli.global.no_dotenv)?);
    match &cli.command {
        Command::Init => init::run(&ConfigPath::from_flag(cli.global.config.as_deref()), output),
        Command::New(args) => new::run(&config()?, args, output),
        Command::Migrate(args) => migrate::run(&config()?, args, output).await,
        Command::Baseline(args) => baseline::run(&config()?, args, output).await,
        Command::Rollback(args) => rollback::run(&config()?, args, output).await,
        Command::Status(args) => status::run(&config()?, args, output).await,
        Command::Backfill(args) => backfill::run(&config()?, args, output).await,
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
        Command::Plugins => plugins::run(&config()?, output),
    }
}

/// The output `--format` asks of `command`. Every command prints human text and JSON. `lint`
/// prints GitHub annotations where it would print its human text (it reads the flag itself),
/// and `inspect`'s human text is the SQL `--format sql` names; every other command has neither
/// to print, so it refuses them, naming the formats it prints.
fn output_format(format: FormatFlag, command: &Command) -> Result<Format, CliError> {
    let own = match command {
        Command::Lint(_) => Some(FormatFlag::Github),
        Command::Inspect => Some(FormatFlag::Sql),
        _ => None,
    };
    match format {
        FormatFlag::Human => Ok(Format::Human),
        FormatFlag::Json => Ok(Format::Json),
        _ if own == Some(format) => Ok(Format::Human),
        FormatFlag::Github | FormatFlag::Sql => Err(CliError::FormatNotPrinted {
            format,
            supported: [FormatFlag::Human, FormatFlag::Json]
                .into_iter()
                .chain(own)
                .collect(),
        }),
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
}

impl Session {
    /// Connect to the configured database. `lock` is given by the commands that take the
    /// migration lock; its `--lock-timeout` overrides the configured wait.
    async fn open(
        config: &Config,
        migrations: Migrations,
        lock: Option<&LockArgs>,
        access: Access,
    ) -> Result<Session, CliError> {
        let url = config.url()?;
        let lock_timeout = lock
            .and_then(|args| args.lock_timeout)
            .unwrap_or(config.lock_timeout);
        let lock_wait = lock.map(|_| lock_timeout);
        let opened = backend::open(url, config, access, lock_wait).await?;
        let mut settings = MigratorConfig::new(format!("godwit {}", env!("CARGO_PKG_VERSION")));
        settings.history = opened.history;
        settings.lint = config.lint.clone();
        settings.lock_timeout = lock_timeout;
        Ok(Session {
            migrator: Migrator::new(opened.store, migrations, settings),
            url: url.redacted(),
        })
    }

    /// An engine error of this session, with the database's URL where it helps.
    fn error(&self, error: Error) -> CliError {
        CliError::engine(error, self.url.clone())
    }
}

/// What a `migrate` or `rollback` run did so far, read from its events: a failed run's error
/// carries only versions, and its JSON document reports what ran before it as a finished
/// run's does.
#[derive(Debug, Default)]
struct RunRecord {
    /// The migrations applied or rolled back, in order.
    completed: Vec<Completed>,
    warnings: Vec<Warning>,
    backup: Option<Backup>,
}

impl RunRecord {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Applied {
                version,
                name,
                duration_ms,
            }
            | Event::RolledBack {
                version,
                name,
                duration_ms,
            } => self.completed.push(Completed {
                version: *version,
                name: name.clone(),
                duration_ms: *duration_ms,
            }),
            Event::Warning { warning } => self.warnings.push(warning.clone()),
            Event::BackedUp { path, bytes } => {
                self.backup = Some(Backup {
                    path: path.clone(),
                    bytes: *bytes,
                });
            }
            _ => {}
        }
    }
}
