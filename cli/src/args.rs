//! The command line as clap sees it. Nothing here touches godwit's engine: these raw values
//! are resolved into a [`Config`](crate::config::Config) and per-command options first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};
use godwit_core::declarative::RenameRequest;
use godwit_core::{RecoverAction, RepairAction, Version};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when `status` lists pending migrations, without --exit-code)
  1  failure: the database or a migration script failed, or `lint` found an error
  2  usage or configuration error: flags, config file, URL, missing backend, migration files,
     a schema file statement that acts beyond the scratch database or is not schema
  3  refused, nothing was changed: the history's state forbids migrate, rollback, repair,
     recover or baseline (a rollback without a down script, a repair that is already true,
     pending migrations that create tables a database without history holds), the lint
     found an error in a pending migration, push would lose data or drops what may be a
     rename without consent, push adds a constraint that rows break or removes enum values
     that rows hold, or restore would replace the database without consent
  4  the migration lock could not be taken in time, `unlock` found it held by a live run,
     another run kept a SQLite database busy, or restore found the database in use
  5  a check found differences: check found drift (the live schema differs from what the
     applied migrations produce), `status --exit-code` found migrations not applied as their
     files are (pending, failed, modified, ...), `diff --exit-code` found the schemas differ

With --format json every outcome is one JSON document on stdout, with `ok` true or false; a
failure's has `exit_code` and `error` (kind, message, causes, details) and is told on stderr
too.

Configuration comes from flags, then the DATABASE_URL environment variable, then godwit.toml.
Variables missing from the environment are read from .env in the working directory (not with
--no-dotenv); godwit.toml values may use ${VAR} and ${VAR:-default}.
GODWIT_DEV_URL (or `dev_url`) names a server for the scratch databases of the declarative commands.
Set RUST_LOG (for example RUST_LOG=godwit_core=debug) for finer logging than -v.";

/// The help heading of the options every command accepts.
const GLOBAL: &str = "Global options";

/// Safe database schema migrations for SQLite and PostgreSQL
///
/// godwit applies plain SQL migration files (`<version>_<name>.up.sql`, with an optional
/// `.down.sql`) in version order, records each one with its checksum in a history table, and
/// refuses to run when the history and the files disagree.
#[derive(Debug, Parser)]
#[command(
    name = "godwit",
    version,
    max_term_width = 100,
    after_help = EXIT_CODES,
    after_long_help = format!("Example:\n  godwit init && godwit new \"create users\" && godwit migrate\n\n{EXIT_CODES}"),
)]
pub(crate) struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Database URL: sqlite:PATH, sqlite::memory: or postgres://USER@HOST/DB [default: the
    /// DATABASE_URL environment variable, then `url` in the config file]
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    pub url: Option<String>,

    /// Config file; a missing default file is ignored, a missing given one is an error
    /// [default: godwit.toml]
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,

    /// Do not read .env in the working directory (by default its variables are used where the
    /// environment does not set them: DATABASE_URL, GODWIT_DEV_URL, ${VAR} in the config file)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_dotenv: bool,

    /// Output format: text for people, one JSON document for scripts (a failure's too), (lint
    /// only) GitHub workflow annotations or (inspect only) SQL DDL; errors also go to stderr as
    /// text
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value_t = FormatFlag::Human,
        help_heading = GLOBAL
    )]
    pub format: FormatFlag,

    /// Log more to stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,

    /// Print only errors and the data asked for
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,
}

/// The `--format` values. Every command prints `human` and `json`; `github` exists for `lint`
/// alone and `sql` for `inspect` alone, and the other commands refuse them with a usage error
/// naming the formats they print, rather than print something a workflow or a script would
/// misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatFlag {
    // Plain comments: clap would print doc comments as a list under `--format`.
    // Text for people: tables, progress lines, summaries.
    Human,
    // One JSON document, for scripts.
    Json,
    // GitHub workflow annotations (`::error file=...::message`), for `lint` in CI.
    Github,
    // SQL DDL that recreates the schema, for `inspect` (its human output, named for scripts).
    Sql,
}

/// godwit's commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a commented godwit.toml and a migrations directory
    ///
    /// Writes godwit.toml (or the file given with --config) with every setting documented and
    /// `url = "sqlite:godwit.db"`, and creates the migrations directory next to it. An existing
    /// config file is never overwritten: init stops with exit code 2 instead.
    #[command(after_help = "Example:\n  godwit init\n  godwit --config db/godwit.toml init")]
    Init,

    /// Create the up and down files of a new migration
    ///
    /// The version is the current UTC time as YYYYMMDDHHMMSS, moved past the newest existing
    /// migration if needed; the name is turned into snake_case. Both files start with a comment
    /// saying what goes in them.
    #[command(after_help = "Example:\n  godwit new \"create users\"\n  \
                            # creates migrations/20240101120000_create_users.up.sql and .down.sql")]
    New(NewArgs),

    /// Apply pending migrations
    ///
    /// Takes the migration lock, then applies every pending migration in version order, each in
    /// its own transaction unless it starts with `-- godwit:no-transaction`, and stops at the
    /// first failure. Refuses to start (exit code 3) when an applied file was edited, a failed
    /// migration was not fixed, or pending migrations are older than applied ones.
    ///
    /// The pending migrations are linted first (see `godwit lint`): an error-level finding stops
    /// the run before anything is applied (exit code 3), warnings are printed and the run goes
    /// on. --no-lint skips the lint.
    ///
    /// With --backup (or `backup = true` in the config file) it first backs the database up,
    /// under the lock and only when something is pending: SQLite through its online backup API
    /// to <file>.<UTC time>.backup beside the database, PostgreSQL with pg_dump (custom format)
    /// to <database>.<UTC time>.dump in the working directory; --backup-dir puts it elsewhere.
    /// The backup is complete before the first migration runs, its path is printed and recorded
    /// in the history rows of the run, and a failed backup applies nothing.
    ///
    /// An operations file may hold a backfill, which updates a large table in batches, each
    /// committed with its progress: an interrupted run resumes it after the last batch done
    /// (see `godwit backfill --help`). On a terminal its rows show as a bar; with `--format json`
    /// each batch is a JSON line on stderr.
    #[command(
        visible_alias = "up",
        after_help = "Example:\n  godwit migrate --dry-run\n  godwit migrate --to 20240101120000 --lock-timeout 30s\n  \
                      godwit migrate --backup --backup-dir backups"
    )]
    Migrate(MigrateArgs),

    /// Write an existing database's schema as the first migration, recorded but not run
    ///
    /// Reads the database's schema and writes <version>_baseline.up.sql, which creates it, and
    /// a .down.sql that drops it again (with every row in it). Then it records the migration as
    /// applied, under the migration lock, without running it: this database keeps what it
    /// has, and `godwit migrate` builds the same schema on a new one. Commit both files.
    ///
    /// Refuses (exit code 3), changing nothing, when the history already has a row, when the
    /// database holds no table, and when the migrations directory holds a migration at or
    /// before the baseline's version (it would be pending yet older than the baseline); newer
    /// migrations stay pending and run after it. The version is the current UTC time as
    /// YYYYMMDDHHMMSS unless --version gives one.
    ///
    /// `migrate` on a database without history whose pending migrations create tables it
    /// already holds refuses (exit code 3) and points here.
    #[command(
        after_help = "Example:\n  godwit baseline\n  godwit baseline --version 1   # before migrations numbered from 2"
    )]
    Baseline(BaselineArgs),

    /// Revert applied migrations, newest first
    ///
    /// Runs the down script recorded in the history when the migration was applied (or the
    /// .down.sql file when none was recorded). Every down script is found before the first one
    /// runs, so a missing one stops the rollback before anything changes.
    #[command(
        visible_alias = "down",
        after_help = "Example:\n  godwit rollback\n  godwit rollback --steps 3 --dry-run\n  godwit rollback --to 0   # everything"
    )]
    Rollback(RollbackArgs),

    /// Show the state of every migration
    ///
    /// Lists every migration known to the files or the history with its state (applied,
    /// pending, running, failed, rolled back, modified, missing, out of order) and its last
    /// run. Reads only: takes no lock and creates no table. Exits 0 even when migrations are
    /// pending, unless --exit-code asks to gate on them.
    #[command(
        after_help = "Example:\n  godwit status\n  godwit status --exit-code   # in CI, before a deployment"
    )]
    Status(StatusArgs),

    /// Show the progress of backfills
    ///
    /// A backfill is an operation of a migration's operations file (`kind = "backfill"`) that
    /// updates a large table in batches, each committed with its progress. `godwit migrate` runs
    /// it, and resumes an interrupted one after its last batch done; `--batch-size` and `--pause`
    /// there override the file's values. `backfill --status` lists every backfill with its
    /// progress. Reads only.
    #[command(
        arg_required_else_help = true,
        after_help = "Example:\n  godwit backfill --status\n  godwit --format json backfill --status"
    )]
    Backfill(BackfillArgs),

    /// Fix the history by hand after a problem, without running SQL
    ///
    /// Accept an edited migration file's new checksum, or record that a migration was undone or
    /// completed by hand. Exactly one action is required.
    #[command(
        after_help = "Example:\n  godwit repair --accept-checksum 20240101120000\n  \
                            godwit repair --mark-rolled-back 20240101120000"
    )]
    Repair(RepairArgs),

    /// Explain failed migrations and get out of them
    ///
    /// Without an action, explains every migration left failed: the statement that failed and
    /// the database's error; whether it ran in a transaction (then nothing of it stayed) or
    /// outside one (then the statements before the failing one ran and stayed: they are listed);
    /// invalid indexes its failed CREATE INDEX CONCURRENTLY left behind (PostgreSQL); and the
    /// actions that fit. That changes nothing. In a terminal it then asks which action to take;
    /// otherwise name the action as a flag. With several failed migrations, name the VERSION.
    ///
    /// A retry first drops the invalid indexes the migration builds, so an
    /// `IF NOT EXISTS` cannot mistake a broken index for a finished one.
    #[command(
        after_help = "Example:\n  godwit recover                  # explain, change nothing\n  \
                      godwit recover --retry\n  \
                      godwit recover 20240101120000 --run-down"
    )]
    Recover(RecoverArgs),

    /// Clear a migration lock left behind by a run that died
    ///
    /// Without --force only a lock whose holder is known to be gone is cleared; a lock held by a
    /// run that may still be going, or by one godwit cannot check (on another host), is left
    /// alone (exit code 4). SQLite: a holder is gone when its process has exited, when its pid
    /// now belongs to a process started later (pid 1 of a new container), or when the machine
    /// has restarted since. PostgreSQL: the lock ends with the session holding it, so it is
    /// never left behind, and only --force clears it, by terminating that session.
    #[command(
        after_help = "Example:\n  godwit unlock\n  godwit unlock --force   # after checking the holder is gone"
    )]
    Unlock(UnlockArgs),

    /// Put a backup taken by `migrate --backup` back in place of the database
    ///
    /// SQLite: checks that the file is a SQLite database that passes `PRAGMA quick_check`, then
    /// copies it over the configured database through SQLite's backup API. It refuses (exit code
    /// 4) while a godwit run holds the migration lock or another connection holds a lock on the
    /// database, and asks first, because everything in the database is replaced: type yes in a
    /// terminal, or pass --yes; without a terminal and without --yes it changes nothing (exit
    /// code 3).
    ///
    /// PostgreSQL: changes nothing, and prints the pg_restore command that restores the dump.
    #[command(
        after_help = "Example:\n  godwit restore app.db.20260101T120000.000Z.backup\n  \
                      godwit restore --yes backups/app.db.20260101T120000.000Z.backup"
    )]
    Restore(RestoreArgs),

    /// Make the database match a schema file, without a migration
    ///
    /// The declarative workflow for development. The schema file (or folder of .sql files) is
    /// plain DDL describing the tables, columns, indexes, views and triggers you want. godwit
    /// runs it on a scratch database of the same engine, reads both schemas back from the
    /// catalogs, diffs them and prints the SQL that makes the database match; then it applies
    /// that SQL, the transactional statements in one transaction. It holds the migration lock
    /// while it plans and applies (on SQLite only in a database `migrate` already manages, as
    /// push adds no godwit table to a database).
    ///
    /// Statements that destroy data (dropping a table or a column, narrowing a type) are listed
    /// with the rows they touch and need --accept-data-loss, or typing "yes" at the prompt. A
    /// constraint that existing rows break, or removing enum labels that rows still hold, is
    /// refused (exit code 3) with the number of those rows: it could only fail. Renames are never guessed: declare
    /// them with --rename or with a comment in the schema file: `-- godwit:renamed-from OLD` on
    /// its own line above the table, column, index or enum label, or sqldef's `@renamed
    /// from=OLD` in a comment at the end of its line. When a table, column or enum label is
    /// dropped and another created, push asks whether it is a rename; without a terminal it
    /// stops (exit code 3) and names the --rename flag.
    ///
    /// The schema file runs on a scratch database first, and may only describe schema:
    /// statements that act beyond that database (ATTACH, DROP DATABASE, roles, COPY, ...) or are
    /// not schema (queries, data changes, transaction control) are refused before anything
    /// runs (exit code 2). PostgreSQL DO blocks run on a sandbox owned by a throwaway role,
    /// which needs CREATEROLE.
    ///
    /// With --skip-drops, what the database holds and the schema file does not declare stays
    /// where it is, each object named in a "kept:" line, so a file that describes only part of
    /// a database can be pushed to it. What the file declares differently is still changed.
    ///
    /// Without a terminal, push applies changes that lose no data; --yes skips the question
    /// "apply N statements?" in a terminal. Nothing is changed when the plan is empty: a second
    /// push of the same file reports "no changes". SQLite scratch databases are in memory;
    /// PostgreSQL ones are temporary databases on the target's server, or on the server named
    /// by GODWIT_DEV_URL or `dev_url` in the config file.
    ///
    /// With --concurrently (PostgreSQL), index drops run before the transaction and index
    /// builds after it, each on its own; a failed build leaves an INVALID index, which the error
    /// names with the statement that drops it.
    #[command(
        after_help = "Example:\n  godwit push --dry-run\n  godwit push --schema db/schema.sql --rename users.username=login\n  \
                      godwit push --yes --accept-data-loss   # unattended, drops allowed\n  \
                      godwit push --skip-drops               # add what is new, drop nothing"
    )]
    Push(PushArgs),

    /// Write the difference between the migrations and a schema file as a new migration
    ///
    /// Replays every up script of the migrations directory on a scratch database, runs the
    /// schema file on another, and writes what turns the first into the second as
    /// <version>_<name>.up.sql, with a .down.sql derived from the reverse difference. Rename
    /// hints in the schema file and --rename apply as in push. Writes nothing and says "no
    /// changes" when the migrations already produce the schema. The database URL is used only
    /// to create scratch databases of its engine (SQLite: in memory, the file is not touched).
    ///
    /// With --concurrently (PostgreSQL), the CONCURRENTLY index statements go into migrations of
    /// their own, marked `-- godwit:no-transaction`: index drops in one before the main
    /// migration (<name>_pre_concurrently), index builds in one after it (<name>_concurrently).
    /// The main migration keeps its transaction, and a failed index build leaves it applied.
    #[command(
        after_help = "Example:\n  godwit generate \"add email to users\"\n  godwit generate add_orders --schema db/schema"
    )]
    Generate(GenerateArgs),

    /// Print the SQL that turns one schema into another
    ///
    /// Each side is a database URL (its live schema), a schema file or folder, or
    /// migrations:DIR (the schema its migrations produce, replayed on a scratch database).
    /// Files and migrations are normalised on scratch databases of the engine of a URL side,
    /// else of --url or the config file's url. Changes nothing.
    #[command(
        after_help = "Example:\n  godwit diff --from migrations:migrations --to schema.sql\n  \
                      godwit diff --from postgres://app@prod/app --to postgres://app@staging/app"
    )]
    Diff(DiffArgs),

    /// Print the live schema as SQL
    ///
    /// Reads the database's catalog (tables, columns, constraints, indexes, views, triggers and,
    /// on PostgreSQL, types, functions and extensions) and prints DDL that recreates it, in an
    /// order that runs: a starting schema.sql for push. godwit's own tables are left out. With
    /// --format json it prints the schema model instead; --format sql prints the SQL, as without
    /// --format.
    #[command(
        after_help = "Example:\n  godwit inspect --format sql > schema.sql\n  godwit inspect --format json"
    )]
    Inspect,

    /// Check that the live schema is what the applied migrations produce
    ///
    /// Replays the migrations the history records as applied on a scratch database and compares
    /// the result with the live schema. Exits 0 when they match; on drift (someone changed the
    /// schema by hand) it prints the statements that would make the live schema match the
    /// migrations again and exits with code 5.
    #[command(after_help = "Example:\n  godwit check\n  godwit check --format json")]
    Check,

    /// Check migrations for statements that lose data, block production traffic or fail
    ///
    /// Without FILE arguments, lints the pending migrations of the configured database (the
    /// ones `migrate` would apply), using its live schema to know existing indexes and column
    /// types. With FILE arguments, lints those files without a database; their SQL dialect
    /// comes from --dialect, else from the configured URL's scheme. A file's
    /// `-- godwit:no-transaction` directive says whether it runs in a transaction.
    ///
    /// A comment line `-- godwit:allow RULE[, RULE...]` directly above a statement exempts it
    /// from those rules; `[lint] disabled = ["RULE", ...]` in the config file turns rules off
    /// everywhere. Exits 1 when an error-level finding remains; warnings alone exit 0.
    #[command(
        after_help = "Example:\n  godwit lint\n  godwit lint migrations/*.up.sql --dialect postgres --format github\n  \
                      godwit lint --explain drop-table"
    )]
    Lint(LintArgs),

    /// Check that every migration's down script undoes its up script
    ///
    /// On a scratch database: applies every up script (recording the schema before and after
    /// each), runs every down script newest first (each must restore the schema from before its
    /// up), then applies every up script again. Names the first migration at fault (exit code
    /// 1). The target database is not touched; its URL picks the engine.
    #[command(after_help = "Example:\n  godwit verify")]
    Verify,

    /// List the plugins found, and why any was refused
    ///
    /// Shows each loaded plugin's name, version, ABI version, URL schemes and file, and each
    /// refused file with the reason. A plugin is a dialect shipped as a dynamic library. godwit loads those the config file
    /// names (`plugins = ["path/to/libgodwit_mysql.so", "mysql"]`: a path, relative to the
    /// config file, or a name looked up in the folders below), every library in the folders of
    /// GODWIT_PLUGIN_PATH (separated as PATH is), and every library in the default folder,
    /// `godwit/plugins` in the user's data folder ($XDG_DATA_HOME or ~/.local/share on Linux,
    /// ~/Library/Application Support on macOS, %APPDATA% on Windows). A compiled-in dialect
    /// keeps a scheme a plugin also serves. A plugin built for another plugin ABI or contract
    /// version is refused before it runs anything.
    #[command(after_help = "Example:\n  godwit plugins --format json")]
    Plugins,
}

fn parse_rename(text: &str) -> Result<RenameRequest, String> {
    text.parse()
        .map_err(|error: godwit_core::declarative::DeclarativeError| error.to_string())
}

/// Where the desired schema is.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// The desired schema: a .sql file, or a folder whose .sql files run in name order
    /// [default: `schema_file` in the config file, else schema.sql]
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
}

/// Renames declared on the command line.
#[derive(Debug, Args)]
pub(crate) struct RenameArgs {
    /// Declare a rename, repeatable: OLD_TABLE=NEW_TABLE, TABLE.OLD_COLUMN=NEW_COLUMN (the table
    /// by its old or new name), OLD_INDEX=NEW_INDEX or ENUM_TYPE.OLD_LABEL=NEW_LABEL; added to
    /// the schema file's hints
    #[arg(long = "rename", value_name = "OLD=NEW", value_parser = parse_rename)]
    pub renames: Vec<RenameRequest>,
}

/// Whether the normalised desired schema may come from the cache.
#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    /// Build the desired schema on a scratch database even when the cache holds it for this
    /// schema file and server (kept in GODWIT_CACHE_DIR, else the user's cache folder)
    #[arg(long)]
    pub no_cache: bool,
}

/// How index changes are made.
#[derive(Debug, Args)]
pub(crate) struct IndexArgs {
    /// PostgreSQL: create and drop the indexes of existing tables with CONCURRENTLY, outside
    /// the transaction, so writes to those tables go on meanwhile; indexes of new tables stay
    /// plain. A usage error on SQLite, which locks the database to build an index either way
    #[arg(long)]
    pub concurrently: bool,
}

/// Arguments of `push`.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// The schema file.
    #[command(flatten)]
    pub schema: SchemaArgs,

    /// Print the plan and the rows each destructive statement touches; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Renames.
    #[command(flatten)]
    pub renames: RenameArgs,

    /// Apply statements that destroy data (listed in the plan), and drop and create tables or
    /// columns without asking whether they are renames
    #[arg(long)]
    pub accept_data_loss: bool,

    /// Keep what the database holds and the schema file leaves out (tables, columns, indexes,
    /// constraints, views, triggers, functions, types, enum labels, sequences, extensions,
    /// schemas) instead of dropping it, and name each kept object. What the file declares
    /// differently is still changed, which may drop and recreate a view or a function. Declare
    /// renames as usual: an undeclared one leaves the old column beside a new, empty one
    #[arg(long, conflicts_with = "accept_data_loss")]
    pub skip_drops: bool,

    /// Do not ask "apply N statements?" in a terminal (data loss still needs
    /// --accept-data-loss)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Index changes.
    #[command(flatten)]
    pub indexes: IndexArgs,

    /// The desired-schema cache.
    #[command(flatten)]
    pub cache: CacheArgs,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Arguments of `generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// What the migration does, for example "add email to users"
    pub name: String,

    /// The schema file.
    #[command(flatten)]
    pub schema: SchemaArgs,

    /// Renames.
    #[command(flatten)]
    pub renames: RenameArgs,

    /// Index changes.
    #[command(flatten)]
    pub indexes: IndexArgs,

    /// The desired-schema cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// One side of `godwit diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchemaRef {
    /// A database's live schema.
    Url(String),
    /// The schema a migrations directory produces.
    Migrations(PathBuf),
    /// A schema file or folder.
    File(PathBuf),
}

fn parse_schema_ref(text: &str) -> Result<SchemaRef, String> {
    if let Some(dir) = text.strip_prefix("migrations:") {
        if dir.is_empty() {
            return Err("migrations: needs a directory, as in migrations:migrations".into());
        }
        return Ok(SchemaRef::Migrations(PathBuf::from(dir)));
    }
    // A value that starts with a scheme and names no file is a URL, if a malformed one: opening
    // it then says what is wrong with it (without its password), where reading it as a
    // schema file would only find none, or ask for a database URL elsewhere. So is a value
    // holding a password (`postgres:/user:pw@host/db`), which would otherwise be printed as a
    // missing file's path. clap is not told: its message would repeat the value, password
    // and all.
    let holds_password = crate::plugins::registry().redact(text).to_string() != text;
    if crate::plugins::locate(text).is_ok()
        || ((has_url_scheme(text) || holds_password) && !Path::new(text).exists())
    {
        return Ok(SchemaRef::Url(text.to_string()));
    }
    Ok(SchemaRef::File(PathBuf::from(text)))
}

/// Whether `text` starts with a URL scheme (RFC 3986: a letter, then letters, digits, `+`,
/// `-` or `.`) and a colon. One letter is not taken for a scheme: it is a Windows drive.
fn has_url_scheme(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The schema to start from: a database URL, a schema file or folder, or migrations:DIR
    #[arg(long, value_name = "SOURCE", value_parser = parse_schema_ref)]
    pub from: SchemaRef,

    /// The schema to arrive at, in the same forms; a schema file's rename hints apply
    #[arg(long, value_name = "SOURCE", value_parser = parse_schema_ref)]
    pub to: SchemaRef,

    /// Exit with code 5 when the schemas differ
    #[arg(long)]
    pub exit_code: bool,

    /// The desired-schema cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Exit with code 5 unless every migration is applied as its file is: when one is pending
    /// (out of order or rolled back included), running, failed, modified or missing
    #[arg(long)]
    pub exit_code: bool,
}

/// Arguments of `new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// What the migration does, for example "create users"
    pub name: String,

    /// Create only the .up.sql file
    #[arg(long)]
    pub no_down: bool,

    /// Create an operations file (<version>_<name>.toml) instead: schema operations whose SQL
    /// and reverse godwit derives from the live schema when it runs
    #[arg(long, conflicts_with = "no_down")]
    pub ops: bool,
}

/// How long to wait for the migration lock.
#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// How long to wait for another run's migration lock, for example 30s or 2m, at most 7days
    /// [default: `lock_timeout` in the config file, else 60s]
    #[arg(long, value_name = "DURATION", value_parser = parse_lock_timeout)]
    pub lock_timeout: Option<Duration>,
}

/// The longest wait for the migration lock godwit accepts. Far longer than any run should
/// wait, and far from what adding it to the clock could overflow.
pub(crate) const MAX_LOCK_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A lock timeout as `--lock-timeout` and `lock_timeout` in the config file take it: a
/// duration like `60s` or `2m`, at most [`MAX_LOCK_TIMEOUT`]. The error says what is wrong
/// with the value, after its name.
pub(crate) fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    let example = "write it like \"60s\" or \"2m\"";
    let timeout = humantime::parse_duration(text)
        .map_err(|error| format!("not a duration ({error}); {example}"))?;
    if timeout > MAX_LOCK_TIMEOUT {
        return Err(format!(
            "longer than the longest lock wait godwit accepts, {}; {example}",
            humantime::format_duration(MAX_LOCK_TIMEOUT)
        ));
    }
    Ok(timeout)
}

/// Arguments of `migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Apply pending migrations up to and including this version only
    #[arg(long, value_name = "VERSION")]
    pub to: Option<Version>,

    /// Print the pending migrations, their SQL and the lint's findings; change nothing. Exits
    /// 3 when the lint would stop migrate
    #[arg(long)]
    pub dry_run: bool,

    /// Apply pending migrations older than the newest applied one instead of refusing
    #[arg(long)]
    pub allow_out_of_order: bool,

    /// Apply without linting the pending migrations first
    #[arg(long)]
    pub no_lint: bool,

    /// Apply every pending migration and its history row in one transaction, all or none
    /// (faster for many migrations into a fresh database, as in CI). Engines with
    /// transactional DDL only; refused when a pending migration runs outside a transaction
    #[arg(long)]
    pub single_transaction: bool,

    /// On a database without history, run pending migrations even when they create tables it
    /// already holds (see `godwit baseline`) instead of refusing
    #[arg(long)]
    pub allow_existing_tables: bool,

    /// Rows per batch of every backfill of the run, instead of the `batch_size` its operations
    /// file gives (1000 when it gives none)
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,

    /// The pause after each batch of every backfill of the run, for example 100ms or 2s,
    /// instead of the `pause` its operations file gives (none when it gives none)
    #[arg(long, value_name = "DURATION", value_parser = parse_pause)]
    pub pause: Option<Duration>,

    /// Backups before migrating.
    #[command(flatten)]
    pub backup: BackupArgs,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// A backfill's pause as `--pause` takes it: a duration like `100ms` or `2s`.
fn parse_pause(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|error| format!("not a duration ({error}); write it like \"100ms\" or \"2s\""))
}

/// Arguments of `backfill`.
#[derive(Debug, Args)]
pub(crate) struct BackfillArgs {
    /// Show every backfill: its migration, table, rows done of the table's rows, and whether it
    /// finished, is running, or was interrupted (the next `migrate` resumes it)
    #[arg(long)]
    pub status: bool,
}

/// Arguments of `baseline`.
#[derive(Debug, Args)]
pub(crate) struct BaselineArgs {
    /// The baseline migration's version [default: the current UTC time as YYYYMMDDHHMMSS]
    #[arg(long, value_name = "VERSION")]
    pub version: Option<Version>,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// The SQL dialects `lint --dialect` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LintDialect {
    // Plain comments: clap would print doc comments as a list under `--dialect`.
    Sqlite,
    Postgres,
    Mysql,
}

impl LintDialect {
    /// The godwit dialect name the lint engine knows it by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LintDialect::Sqlite => "sqlite",
            LintDialect::Postgres => "postgres",
            LintDialect::Mysql => "mysql",
        }
    }
}

/// Arguments of `lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Migration files to lint instead of the database's pending migrations
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The SQL dialect of the FILE arguments [default: the engine of the configured URL]
    #[arg(long, value_enum, value_name = "DIALECT", requires = "files")]
    pub dialect: Option<LintDialect>,

    /// Print what RULE catches, why it matters and the safe alternative
    #[arg(long, value_name = "RULE", conflicts_with_all = ["files", "list"])]
    pub explain: Option<String>,

    /// List every rule with its severity and dialects
    #[arg(long, conflicts_with = "files")]
    pub list: bool,
}

/// Whether and where `migrate` backs the database up first.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// Back the database up before the first pending migration runs [default: `backup` in the
    /// config file, else no]
    #[arg(long)]
    pub backup: bool,

    /// Take no backup, even when the config file sets `backup = true`
    #[arg(long, conflicts_with_all = ["backup", "backup_dir"])]
    pub no_backup: bool,

    /// Write the backup into DIR, created when missing; implies --backup [default: `backup_dir`
    /// in the config file, else beside a SQLite database or in the working directory]
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
}

/// How far `rollback --to` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RollbackTo {
    /// `--to 0`: every applied migration.
    Everything,
    /// Keep this version and everything older applied.
    Version(Version),
}

fn parse_rollback_to(text: &str) -> Result<RollbackTo, String> {
    if text == "0" {
        Ok(RollbackTo::Everything)
    } else {
        text.parse().map(RollbackTo::Version)
    }
}

fn parse_steps(text: &str) -> Result<usize, String> {
    text.parse().ok().filter(|&steps| steps > 0).ok_or_else(|| {
        format!(
            "`{text}` is not a number of migrations: expected 1 or more (--to 0 reverts everything)"
        )
    })
}

/// Arguments of `rollback`.
#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// Revert the newest N applied migrations [default: 1]
    #[arg(long, value_name = "N", value_parser = parse_steps, conflicts_with = "to")]
    pub steps: Option<usize>,

    /// Revert every applied migration newer than VERSION; 0 reverts everything
    #[arg(long, value_name = "VERSION", value_parser = parse_rollback_to)]
    pub to: Option<RollbackTo>,

    /// Print the migrations that would be reverted and their down SQL; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Arguments of `repair`.
#[derive(Debug, Args)]
pub(crate) struct RepairArgs {
    /// The change to make.
    #[command(flatten)]
    pub action: RepairChoice,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// The three repairs as flags; clap makes sure exactly one is given.
#[derive(Debug, Args)]
#[group(id = "action", required = true, multiple = false)]
struct RepairFlags {
    /// Record the edited files of applied migration VERSION: the up script's checksum (the
    /// old one is kept for audit) and the down script rollback will run
    #[arg(long, value_name = "VERSION")]
    accept_checksum: Option<Version>,

    /// Record that migration VERSION is not applied, after undoing its changes by hand
    #[arg(long, value_name = "VERSION")]
    mark_rolled_back: Option<Version>,

    /// Record that migration VERSION is applied, after completing it by hand
    #[arg(long, value_name = "VERSION")]
    mark_applied: Option<Version>,
}

/// The repair asked for: [`RepairFlags`] parsed into the one action they name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RepairChoice(pub RepairAction);

impl FromArgMatches for RepairChoice {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = RepairFlags::from_arg_matches(matches)?;
        flags
            .accept_checksum
            .map(RepairAction::AcceptChecksum)
            .or(flags.mark_rolled_back.map(RepairAction::MarkRolledBack))
            .or(flags.mark_applied.map(RepairAction::MarkApplied))
            .map(RepairChoice)
            .ok_or_else(|| {
                clap::Error::raw(
                    clap::error::ErrorKind::MissingRequiredArgument,
                    "one of --accept-checksum, --mark-rolled-back or --mark-applied is required\n",
                )
            })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for RepairChoice {
    fn group_id() -> Option<clap::Id> {
        RepairFlags::group_id()
    }

    fn augment_args(command: clap::Command) -> clap::Command {
        RepairFlags::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        RepairFlags::augment_args_for_update(command)
    }
}

/// Arguments of `recover`.
#[derive(Debug, Args)]
pub(crate) struct RecoverArgs {
    /// The failed migration to act on [default: the only failed one]
    pub version: Option<Version>,

    /// What to do; without one, only explain.
    #[command(flatten)]
    action: RecoverFlags,

    /// Retry without linting the migration first (--retry lints it as migrate does)
    #[arg(long, requires = "retry")]
    pub no_lint: bool,

    /// Lock waiting.
    #[command(flatten)]
    pub lock: LockArgs,
}

impl RecoverArgs {
    /// The action the flags name, if any.
    pub(crate) fn action(&self) -> Option<RecoverAction> {
        let flags = &self.action;
        [
            (flags.retry, RecoverAction::Retry),
            (flags.run_down, RecoverAction::RunDown),
            (flags.mark_rolled_back, RecoverAction::MarkRolledBack),
            (flags.mark_applied, RecoverAction::MarkApplied),
        ]
        .into_iter()
        .find_map(|(given, action)| given.then_some(action))
    }
}

/// The recovery actions as flags; clap allows at most one.
#[derive(Debug, Args)]
#[group(id = "recover_action", multiple = false)]
struct RecoverFlags {
    /// Run the migration's up script again from its first statement
    #[arg(long)]
    retry: bool,

    /// Run its down script to undo the statements that ran, then record it rolled back
    #[arg(long)]
    run_down: bool,

    /// Record it rolled back without running SQL, after undoing it by hand (migrate runs it
    /// again)
    #[arg(long)]
    mark_rolled_back: bool,

    /// Record it applied without running SQL, after completing it by hand
    #[arg(long)]
    mark_applied: bool,
}

/// Arguments of `restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup file: for SQLite a copy written by `migrate --backup` (or any SQLite
    /// database), for PostgreSQL a pg_dump custom-format dump
    #[arg(value_name = "BACKUP")]
    pub backup: PathBuf,

    /// Replace the database without asking (SQLite)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Arguments of `unlock`.
#[derive(Debug, Args)]
pub(crate) struct UnlockArgs {
    /// Clear the lock even if its holder may still be running (PostgreSQL: terminate the
    /// session holding it)
    #[arg(long)]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn repair_flags_become_one_action() {
        let version = Version::new(7).unwrap();
        let cases = [
            ("--accept-checksum", RepairAction::AcceptChecksum(version)),
            ("--mark-rolled-back", RepairAction::MarkRolledBack(version)),
            ("--mark-applied", RepairAction::MarkApplied(version)),
        ];
        for (flag, action) in cases {
            let cli = Cli::try_parse_from(["godwit", "repair", flag, "7"]).unwrap();
            let Command::Repair(args) = cli.command else {
                panic!("parsed {flag} as another command");
            };
            assert_eq!(args.action, RepairChoice(action));
        }
        assert!(Cli::try_parse_from(["godwit", "repair"]).is_err());
        assert!(
            Cli::try_parse_from([
                "godwit",
                "repair",
                "--mark-applied",
                "1",
                "--mark-rolled-back",
                "1"
            ])
            .is_err()
        );
    }

    #[test]
    fn diff_sources_are_urls_migrations_or_files() {
        assert_eq!(
            parse_schema_ref("sqlite:app.db"),
            Ok(SchemaRef::Url("sqlite:app.db".into()))
        );
        assert_eq!(
            parse_schema_ref("postgres://u@h/db"),
            Ok(SchemaRef::Url("postgres://u@h/db".into()))
        );
        assert_eq!(
            parse_schema_ref("migrations:db/migrations"),
            Ok(SchemaRef::Migrations("db/migrations".into()))
        );
        assert_eq!(
            parse_schema_ref("schema.sql"),
            Ok(SchemaRef::File("schema.sql".into()))
        );
        assert!(parse_schema_ref("migrations:").is_err());
        // A malformed URL stays a URL, so opening it says what is wrong with it.
        for malformed in ["postgres:/u@h/db", "postgresql:h/db", "mysql://u@h/db"] {
            assert_eq!(
                parse_schema_ref(malformed),
                Ok(SchemaRef::Url(malformed.into()))
            );
        }
        assert_eq!(
            parse_schema_ref("C:schema.sql"),
            Ok(SchemaRef::File("C:schema.sql".into()))
        );
        assert_eq!(
            parse_schema_ref("postgres:/u:s3cret@h/db"),
            Ok(SchemaRef::Url("postgres:/u:s3cret@h/db".into()))
        );
    }

    #[test]
    fn renames_parse_on_the_command_line() {
        let cli = Cli::try_parse_from([
            "godwit",
            "push",
            "--rename",
            "users.username=login",
            "--rename",
            "accounts=users",
        ])
        .unwrap();
        let Command::Push(args) = cli.command else {
            panic!("not push");
        };
        assert_eq!(args.renames.renames.len(), 2);
        assert_eq!(args.renames.renames[0].old, ["users", "username"]);
        assert!(Cli::try_parse_from(["godwit", "push", "--rename", "oops"]).is_err());
    }

    #[test]
    fn steps_are_positive() {
        assert_eq!(parse_steps("3"), Ok(3));
        assert!(parse_steps("0").is_err());
        assert!(parse_steps("-1").is_err());
    }

    #[test]
    fn rollback_to_zero_means_everything() {
        assert_eq!(parse_rollback_to("0"), Ok(RollbackTo::Everything));
        assert_eq!(
            parse_rollback_to("42"),
            Ok(RollbackTo::Version(Version::new(42).unwrap()))
        );
        assert!(parse_rollback_to("-1").is_err());
    }
}
