//! Flags, the environment and the config file, resolved into one [`Config`] before any command
//! touches godwit's engine. Each setting comes from the first of: a flag, the environment
//! (`DATABASE_URL` for the URL, `GODWIT_DEV_URL` for the dev database), the config file, the
//! default.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use godwit_core::lint::LintConfig;
use godwit_core::url::{Redacted, redact};
use serde::Deserialize;
use toml::Spanned;

use crate::args::{GlobalArgs, parse_lock_timeout};
use crate::error::{CliError, unknown_rule_help};
use crate::output::Verbosity;

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "godwit.toml";

/// How much to print and log, from `-q` and `-v` (clap makes them exclusive).
pub fn verbosity(global: &GlobalArgs) -> Verbosity {
    match (global.quiet, global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, level) => Verbosity::Verbose(level),
    }
}

/// Where the config file is, and whether the user named it (a named file must exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigPath {
    /// `godwit.toml` in the working directory; fine if missing.
    Default(PathBuf),
    /// Given with `--config`; an error if missing.
    Given(PathBuf),
}

impl ConfigPath {
    /// The config path for the `--config` flag's value.
    pub fn from_flag(flag: Option<&Path>) -> Self {
        flag.map_or_else(
            || ConfigPath::Default(PathBuf::from(DEFAULT_CONFIG)),
            |path| ConfigPath::Given(path.to_path_buf()),
        )
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        match self {
            ConfigPath::Default(path) | ConfigPath::Given(path) => path,
        }
    }

    /// The directory relative paths in the file are resolved against.
    pub fn dir(&self) -> &Path {
        self.path().parent().unwrap_or(Path::new(""))
    }
}

/// A SQLite URL written in a config file names its file relative to the config file, like the
/// `migrations` key, so a project works from any working directory (`--config sub/godwit.toml`).
/// URLs from `--url` and `DATABASE_URL` stay relative to the working directory.
fn relative_to(dir: &Path, url: String) -> String {
    match godwit_core::url::parse(&url) {
        Ok(godwit_core::url::Target::SqliteFile(file))
            if file.is_relative() && !dir.as_os_str().is_empty() =>
        {
            format!("sqlite:{}", dir.join(file).display())
        }
        _ => url,
    }
}

/// Where a database URL came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlOrigin {
    /// `--url`.
    Flag,
    /// The `DATABASE_URL` environment variable.
    Env,
    /// `url` in the config file.
    File(PathBuf),
    /// The `GODWIT_DEV_URL` environment variable.
    DevEnv,
    /// `dev_url` in the config file.
    DevFile(PathBuf),
    /// A `--from` or `--to` source of `godwit diff`.
    DiffSource,
}

impl fmt::Display for UrlOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlOrigin::Flag => f.write_str("from --url"),
            UrlOrigin::Env => f.write_str("from DATABASE_URL"),
            UrlOrigin::File(path) => write!(f, "from `url` in {}", path.display()),
            UrlOrigin::DevEnv => f.write_str("from GODWIT_DEV_URL"),
            UrlOrigin::DevFile(path) => write!(f, "from `dev_url` in {}", path.display()),
            UrlOrigin::DiffSource => f.write_str("from --from/--to"),
        }
    }
}

/// A database URL. It may hold a password, so it only ever prints redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    text: String,
    origin: UrlOrigin,
}

impl DatabaseUrl {
    /// A URL given on the command line as a `godwit diff` source.
    pub fn diff_source(text: String) -> Self {
        DatabaseUrl {
            text,
            origin: UrlOrigin::DiffSource,
        }
    }

    /// The URL with its password, to connect with. Never print this.
    pub fn secret(&self) -> &str {
        &self.text
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> Redacted {
        redact(&self.text)
    }

    /// Where the URL came from.
    pub fn origin(&self) -> &UrlOrigin {
        &self.origin
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.redacted().to_string())
            .field("origin", &self.origin)
            .finish()
    }
}

/// Everything a command needs to know, from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file, whether or not it exists.
    pub config_path: ConfigPath,
    /// The database, if any source named one.
    url: Option<DatabaseUrl>,
    /// The migrations directory.
    pub migrations: PathBuf,
    /// The history table's name.
    pub history_table: String,
    /// PostgreSQL: the schema `history_table` names (`SCHEMA.TABLE`), ahead of `schema`.
    pub history_schema: Option<String>,
    /// PostgreSQL: schema of the history table, first on the search path.
    pub schema: Option<String>,
    /// How long to wait for the migration lock.
    pub lock_timeout: Duration,
    /// PostgreSQL: the connection's `application_name`.
    pub application_name: Option<String>,
    /// The desired schema of the declarative commands: a `.sql` file or a folder of them.
    pub schema_file: PathBuf,
    /// A database on which godwit may create scratch databases, if not the target's server.
    dev_url: Option<DatabaseUrl>,
    /// Which lint rules run, from the `[lint]` table.
    pub lint: LintConfig,
    /// Whether `migrate` backs the database up before running migrations.
    pub backup: bool,
    /// Where backups go, relative to the config file; `None`: the backend's default.
    pub backup_dir: Option<PathBuf>,
}

/// The environment variables godwit reads, read once so tests can give their own. Its
/// `Debug` shows the URLs redacted.
#[derive(Clone, Default)]
pub struct Environment {
    /// `DATABASE_URL`.
    pub database_url: Option<String>,
    /// `GODWIT_DEV_URL`.
    pub dev_url: Option<String>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |url: &Option<String>| url.as_deref().map(|url| redact(url).to_string());
        f.debug_struct("Environment")
            .field("database_url", &redacted(&self.database_url))
            .field("dev_url", &redacted(&self.dev_url))
            .finish()
    }
}

impl Environment {
    /// The variables of this process.
    pub fn read() -> Self {
        Environment {
            database_url: std::env::var("DATABASE_URL").ok(),
            dev_url: std::env::var("GODWIT_DEV_URL").ok(),
        }
    }
}

/// The config file as written. Not `Debug`: it may hold a password.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: Option<String>,
    migrations: Option<PathBuf>,
    history_table: Option<Spanned<String>>,
    schema: Option<String>,
    lock_timeout: Option<Spanned<String>>,
    application_name: Option<String>,
    schema_file: Option<PathBuf>,
    dev_url: Option<String>,
    backup: Option<bool>,
    backup_dir: Option<PathBuf>,
    #[serde(default)]
    lint: LintSection,
}

/// The `[lint]` table.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintSection {
    /// Rule ids that do not run; spanned so an unknown id is reported at its position.
    #[serde(default)]
    disabled: Vec<Spanned<String>>,
}

impl Config {
    /// Resolve the global flags, the environment and the config file.
    pub fn load(global: &GlobalArgs, env: Environment) -> Result<Config, CliError> {
        let config_path = ConfigPath::from_flag(global.config.as_deref());
        let (file, text) = read(&config_path)?;
        let path = config_path.path();
        let invalid = |span: std::ops::Range<usize>, message: String| CliError::ConfigInvalid {
            location: location(path, &text, span.start),
            message,
        };

        let url = global
            .url
            .clone()
            .map(|text| (text, UrlOrigin::Flag))
            .or_else(|| {
                env.database_url
                    .filter(|u| !u.is_empty())
                    .map(|text| (text, UrlOrigin::Env))
            })
            .or_else(|| {
                file.url.map(|text| {
                    (
                        relative_to(config_path.dir(), text),
                        UrlOrigin::File(path.to_path_buf()),
                    )
                })
            })
            .map(|(text, origin)| DatabaseUrl { text, origin });

        let dev_url = env
            .dev_url
            .filter(|u| !u.is_empty())
            .map(|text| DatabaseUrl {
                text,
                origin: UrlOrigin::DevEnv,
            })
            .or_else(|| {
                file.dev_url.map(|text| DatabaseUrl {
                    text: relative_to(config_path.dir(), text),
                    origin: UrlOrigin::DevFile(path.to_path_buf()),
                })
            });

        let lock_timeout = match file.lock_timeout {
            None => Duration::from_secs(60),
            Some(value) => {
                let span = value.span();
                parse_lock_timeout(value.get_ref()).map_err(|reason| {
                    invalid(
                        span,
                        format!("lock_timeout \"{}\" is {reason}", value.get_ref()),
                    )
                })?
            }
        };

        let (history_schema, history_table) = match file.history_table {
            None => (None, "godwit_migrations".to_string()),
            Some(value) => {
                history_name(value.get_ref()).map_err(|message| invalid(value.span(), message))?
            }
        };

        let lint = LintConfig {
            disabled: file
                .lint
                .disabled
                .iter()
                .map(|id| id.get_ref().clone())
                .collect(),
        };
        if let Some(unknown) = lint.unknown_rules().next() {
            let span = file
                .lint
                .disabled
                .iter()
                .find(|id| id.get_ref() == unknown)
                .map_or(0..0, Spanned::span);
            return Err(invalid(
                span,
                format!(
                    "`{unknown}` in `[lint] disabled` is not a lint rule; {}",
                    unknown_rule_help(unknown)
                ),
            ));
        }

        let config = Config {
            migrations: config_path.dir().join(
                file.migrations
                    .unwrap_or_else(|| PathBuf::from("migrations")),
            ),
            url,
            history_table,
            history_schema,
            schema: file.schema,
            lock_timeout,
            application_name: file.application_name,
            schema_file: config_path.dir().join(
                file.schema_file
                    .unwrap_or_else(|| PathBuf::from("schema.sql")),
            ),
            dev_url,
            lint,
            backup: file.backup.unwrap_or(false),
            backup_dir: file.backup_dir.map(|dir| config_path.dir().join(dir)),
            config_path,
        };
        tracing::debug!(?config, "resolved configuration");
        Ok(config)
    }

    /// The database URL, or an error saying how to give one.
    pub fn url(&self) -> Result<&DatabaseUrl, CliError> {
        self.url.as_ref().ok_or_else(|| CliError::NoUrl {
            config: self.config_path.path().to_path_buf(),
        })
    }

    /// The database to create scratch databases on, when one is configured.
    pub fn dev_url(&self) -> Option<&DatabaseUrl> {
        self.dev_url.as_ref()
    }
}

/// The parsed file and its text; an empty config when the default file is missing.
fn read(config_path: &ConfigPath) -> Result<(FileConfig, String), CliError> {
    let path = config_path.path();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return match config_path {
                ConfigPath::Default(_) => Ok((FileConfig::default(), String::new())),
                ConfigPath::Given(_) => Err(CliError::ConfigMissing {
                    path: path.to_path_buf(),
                }),
            };
        }
        Err(source) => {
            return Err(CliError::ConfigRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let file = toml::from_str(&text).map_err(|error: toml::de::Error| CliError::ConfigInvalid {
        location: location(path, &text, error.span().map_or(0, |span| span.start)),
        message: error.message().trim_end_matches('\n').to_string(),
    })?;
    Ok((file, text))
}

/// The schema and table `history_table` names: `TABLE`, or `SCHEMA.TABLE` for a table in that
/// PostgreSQL schema. No quoting: a name with a dot in it cannot be a history table.
fn history_name(text: &str) -> Result<(Option<String>, String), String> {
    let (schema, table) = match text.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, text),
    };
    if text.trim().is_empty() {
        return Err(
            "history_table is empty; name a table, or remove the key for godwit_migrations".into(),
        );
    }
    if table.contains('.') || schema.is_some_and(|s| s.trim().is_empty()) || table.trim().is_empty()
    {
        return Err(format!(
            "history_table \"{text}\" is not a table name; write TABLE, or SCHEMA.TABLE for a table in a PostgreSQL schema"
        ));
    }
    // PostgreSQL cuts identifiers at 63 bytes, and the tables beside the history take its
    // name plus `_meta` / `_lock`: a longer name would collide with itself there. One config
    // file often serves SQLite and PostgreSQL, so the limit holds for both.
    if table.len() > MAX_HISTORY_TABLE_BYTES {
        return Err(format!(
            "history_table is {} bytes long; at most {MAX_HISTORY_TABLE_BYTES} fit, as PostgreSQL cuts names at 63 bytes and godwit adds `_meta` and `_lock` to it",
            table.len()
        ));
    }
    Ok((schema.map(str::to_string), table.to_string()))
}

/// `path:line:column` of byte `offset` in `text`.
fn location(path: &Path, text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{}:{line}:{column}", path.display())
}

/// The longest history table name: PostgreSQL's 63-byte identifiers, less `_meta`.
const MAX_HISTORY_TABLE_BYTES: usize = 58;

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::Cli;

    fn load(dir: &Path, args: &[&str], env_url: Option<&str>) -> Result<Config, CliError> {
        load_with(
            dir,
            args,
            Environment {
                database_url: env_url.map(str::to_string),
                dev_url: None,
            },
        )
    }

    fn load_with(dir: &Path, args: &[&str], env: Environment) -> Result<Config, CliError> {
        let config = dir.join("godwit.toml");
        let config = config.to_str().unwrap();
        let mut argv = vec!["godwit", "--config", config];
        argv.extend_from_slice(args);
        argv.push("status");
        let cli = Cli::try_parse_from(argv).unwrap();
        Config::load(&cli.global, env)
    }

    #[test]
    fn url_comes_from_flag_then_environment_then_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("godwit.toml"), "url = \"sqlite:file.db\"\n").unwrap();

        let config = load(
            dir.path(),
            &["--url", "sqlite:flag.db"],
            Some("sqlite:env.db"),
        )
        .unwrap();
        assert_eq!(config.url().unwrap().secret(), "sqlite:flag.db");
        assert_eq!(config.url().unwrap().origin(), &UrlOrigin::Flag);

        let config = load(dir.path(), &[], Some("sqlite:env.db")).unwrap();
        assert_eq!(config.url().unwrap().secret(), "sqlite:env.db");

        // A relative SQLite path in the file is relative to the file, unlike the flag's.
        let config = load(dir.path(), &[], Some("")).unwrap();
        assert_eq!(
            config.url().unwrap().secret(),
            format!("sqlite:{}", dir.path().join("file.db").display())
        );
        assert!(matches!(config.url().unwrap().origin(), UrlOrigin::File(_)));
    }

    #[test]
    fn defaults_apply_and_migrations_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("godwit.toml"), "").unwrap();
        let config = load(dir.path(), &[], None).unwrap();
        assert_eq!(config.migrations, dir.path().join("migrations"));
        assert_eq!(config.history_table, "godwit_migrations");
        assert_eq!(config.lock_timeout, Duration::from_secs(60));
        assert!(matches!(config.url(), Err(CliError::NoUrl { .. })));
        assert_eq!(config.schema_file, dir.path().join("schema.sql"));
        assert!(config.dev_url().is_none());
        assert!(!config.backup);
        assert_eq!(config.backup_dir, None);
    }

    #[test]
    fn the_declarative_keys_are_read_and_the_dev_url_comes_from_the_environment_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "schema_file = \"db/schema\"\ndev_url = \"sqlite:dev.db\"\nschema = \"app\"\n",
        )
        .unwrap();
        let config = load(dir.path(), &[], None).unwrap();
        assert_eq!(config.schema_file, dir.path().join("db/schema"));
        // `schema` keeps its meaning: the PostgreSQL schema of the history table.
        assert_eq!(config.schema.as_deref(), Some("app"));
        let dev = config.dev_url().unwrap();
        assert_eq!(
            dev.secret(),
            format!("sqlite:{}", dir.path().join("dev.db").display())
        );
        assert!(matches!(dev.origin(), UrlOrigin::DevFile(_)));

        let config = load_with(
            dir.path(),
            &[],
            Environment {
                database_url: None,
                dev_url: Some("postgres://u@h/dev".into()),
            },
        )
        .unwrap();
        assert_eq!(config.dev_url().unwrap().secret(), "postgres://u@h/dev");
        assert_eq!(config.dev_url().unwrap().origin(), &UrlOrigin::DevEnv);
    }

    #[test]
    fn every_key_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "url = \"postgres://u:hunter2-secret@h/db\"\nmigrations = \"db/migrations\"\n\
             history_table = \"schema_history\"\nschema = \"app\"\nlock_timeout = \"2m 5s\"\n\
             application_name = \"deploy\"\nbackup = true\nbackup_dir = \"backups\"\n",
        )
        .unwrap();
        let config = load(dir.path(), &[], None).unwrap();
        assert!(config.backup);
        assert_eq!(config.backup_dir, Some(dir.path().join("backups")));
        assert_eq!(config.migrations, dir.path().join("db/migrations"));
        assert_eq!(config.history_table, "schema_history");
        assert_eq!(config.schema.as_deref(), Some("app"));
        assert_eq!(config.lock_timeout, Duration::from_secs(125));
        assert_eq!(config.application_name.as_deref(), Some("deploy"));
        assert!(!format!("{config:?}").contains("hunter2-secret"));
    }

    #[test]
    fn malformed_urls_print_without_their_passwords() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "dev_url = \"postgres:/u:s3cret-dev@h/dev\"\n",
        )
        .unwrap();
        let env = Environment {
            database_url: Some("postgres//u:s3cret-env@h/db".into()),
            dev_url: None,
        };
        assert!(!format!("{env:?}").contains("s3cret"), "{env:?}");
        let config = load_with(dir.path(), &[], env).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres//u:***@h/db"), "{shown}");
    }

    #[test]
    fn a_dotted_history_table_names_its_schema() {
        assert_eq!(
            history_name("audit.hist"),
            Ok((Some("audit".into()), "hist".into()))
        );
        assert_eq!(history_name("hist"), Ok((None, "hist".into())));
        for bad in ["a.b.c", ".hist", "audit.", "  "] {
            assert!(history_name(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "history_table = \"a.b.c\"\n",
        )
        .unwrap();
        let error = load(dir.path(), &[], None).unwrap_err().to_string();
        assert!(error.contains("godwit.toml:1:17"), "{error}");
        assert!(error.contains("SCHEMA.TABLE"), "{error}");
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "url = \"sqlite:x.db\"\nurll = 1\n",
        )
        .unwrap();
        let error = load(dir.path(), &[], None).unwrap_err().to_string();
        assert!(error.contains("godwit.toml:2:1"), "{error}");
        assert!(error.contains("urll"), "{error}");
    }

    #[test]
    fn a_bad_duration_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "\nlock_timeout = \"soon\"\n",
        )
        .unwrap();
        let error = load(dir.path(), &[], None).unwrap_err().to_string();
        assert!(error.contains("godwit.toml:2:16"), "{error}");
        assert!(error.contains("soon"), "{error}");
    }

    #[test]
    fn a_lock_timeout_past_the_longest_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let write = |value: &str| {
            std::fs::write(
                dir.path().join("godwit.toml"),
                format!("lock_timeout = \"{value}\"\n"),
            )
            .unwrap();
        };
        write("500000000000y");
        let error = load(dir.path(), &[], None).unwrap_err();
        assert!(matches!(error, CliError::ConfigInvalid { .. }), "{error}");
        let error = error.to_string();
        assert!(error.contains("\"500000000000y\" is longer"), "{error}");
        assert!(error.contains("7days"), "{error}");
        write("7days");
        let config = load(dir.path(), &[], None).unwrap();
        assert_eq!(config.lock_timeout, crate::args::MAX_LOCK_TIMEOUT);
    }

    #[test]
    fn a_missing_given_file_is_an_error_but_a_missing_default_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load(dir.path(), &[], None),
            Err(CliError::ConfigMissing { .. })
        ));
        let default = ConfigPath::Default(dir.path().join("godwit.toml"));
        assert!(read(&default).is_ok());
    }
}
