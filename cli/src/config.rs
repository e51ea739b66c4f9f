//! Flags, the environment and the config file, resolved into one [`Config`] before any command
//! touches godwit's engine. Each setting comes from the first of: a flag, the environment
//! (`DATABASE_URL` for the URL, `GODWIT_DEV_URL` for the dev database), the config file, the
//! default. Variables the process's environment lacks are looked up in `.env` in the working
//! directory, and the config file's string values may name variables as `${VAR}` or
//! `${VAR:-default}` ([`interpolate`]).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use godwit_core::declarative::{PrivilegeRule, Scope};
use godwit_core::lint::LintConfig;
use godwit_core::url::Redacted;
use serde::Deserialize;
use toml::Spanned;

use crate::args::{GlobalArgs, parse_lock_timeout};
use crate::error::{CliError, unknown_rule_help};
pub(crate) use crate::origin::{UrlOrigin, VarSource};
use crate::print::Verbosity;

/// The config file used when `--config` is not given.
pub(crate) const DEFAULT_CONFIG: &str = "godwit.toml";

/// How much to print and log, from `-q` and `-v` (clap makes them exclusive).
pub(crate) fn verbosity(global: &GlobalArgs) -> Verbosity {
    match (global.quiet, global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, level) => Verbosity::Verbose(level),
    }
}

/// Where the config file is, and whether the user named it (a named file must exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigPath {
    /// `godwit.toml` in the working directory; fine if missing.
    Default(PathBuf),
    /// Given with `--config`; an error if missing.
    Given(PathBuf),
}

impl ConfigPath {
    /// The config path for the `--config` flag's value.
    pub(crate) fn from_flag(flag: Option<&Path>) -> Self {
        flag.map_or_else(
            || ConfigPath::Default(PathBuf::from(DEFAULT_CONFIG)),
            |path| ConfigPath::Given(path.to_path_buf()),
        )
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        match self {
            ConfigPath::Default(path) | ConfigPath::Given(path) => path,
        }
    }

    /// The directory relative paths in the file are resolved against.
    pub(crate) fn dir(&self) -> &Path {
        self.path().parent().unwrap_or(Path::new(""))
    }
}

/// A file database's URL written in a config file names its file relative to the config file, like the
/// `migrations` key, so a project works from any working directory (`--config sub/godwit.toml`).
/// URLs from `--url` and `DATABASE_URL` stay relative to the working directory.
fn relative_to(dir: &Path, url: String) -> String {
    let scheme = godwit_core::backend::scheme(&url);
    match (crate::plugins::locate(&url), scheme) {
        (Ok((_, godwit_core::Location::File(file))), Some(scheme))
            if file.is_relative() && !dir.as_os_str().is_empty() =>
        {
            format!("{scheme}:{}", dir.join(file).display())
        }
        _ => url,
    }
}

/// A database URL. It may hold a password, so it only ever prints redacted.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DatabaseUrl {
    text: String,
    origin: UrlOrigin,
}

impl DatabaseUrl {
    /// A URL given on the command line as a `godwit diff` source.
    pub(crate) fn diff_source(text: String) -> Self {
        DatabaseUrl {
            text,
            origin: UrlOrigin::DiffSource,
        }
    }

    /// The URL with its password, to connect with. Never print this.
    pub(crate) fn secret(&self) -> &str {
        &self.text
    }

    /// The URL with any password replaced by `***`.
    pub(crate) fn redacted(&self) -> Redacted {
        crate::plugins::registry().redact(&self.text)
    }

    /// Where the URL came from.
    pub(crate) fn origin(&self) -> &UrlOrigin {
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
pub(crate) struct Config {
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
    /// Whose privileges and which owners the declarative commands change, from
    /// `managed_roles` and the `[manage]` table.
    pub scope: Scope,
    /// Where the declarative commands keep normalised desired schemas (`GODWIT_CACHE_DIR`,
    /// else the user's cache folder); `None` when no such folder can be named.
    pub cache_dir: Option<PathBuf>,
}

/// The folder godwit's caches live in: `GODWIT_CACHE_DIR` when set, else `godwit` in the
/// user's cache folder (`XDG_CACHE_HOME`, else `~/.cache`; `~/Library/Caches` on macOS;
/// `%LOCALAPPDATA%` on Windows). A relative path names no folder: it would depend on where
/// godwit runs.
fn cache_dir(env: &Environment) -> Option<PathBuf> {
    let var = |name: &str| {
        env.var(name)
            .map(|(value, _)| PathBuf::from(value))
            .filter(|path| path.is_absolute())
    };
    if let Some(dir) = var("GODWIT_CACHE_DIR") {
        return Some(dir);
    }
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library/Caches"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))
    };
    base.map(|dir| dir.join("godwit"))
}

/// The variable naming plugin folders, separated as `PATH` is.
const PLUGIN_PATH: &str = "GODWIT_PLUGIN_PATH";

/// The file of variables read from the working directory, as sqlx-cli and dbmate read it.
pub(crate) const DOTENV: &str = ".env";

/// The variables godwit reads: the process's environment, then `.env` for the names the
/// process does not set (a variable set in the environment wins, even when empty, as with
/// dotenvy and dbmate). Read once, and never written into the process's environment: tests
/// give their own, tests running in parallel never see each other's, and what the PostgreSQL
/// driver or `pg_dump` read from the environment (`PGPASSWORD`, `PGSSLROOTCERT`) stays what
/// the process was given. Its `Debug` shows names, never values.
#[derive(Clone, Default)]
pub(crate) struct Environment {
    process: HashMap<String, String>,
    dotenv: HashMap<String, String>,
    /// The `.env` file read, if there was one.
    dotenv_path: Option<PathBuf>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.dotenv.keys().collect();
        names.sort();
        f.debug_struct("Environment")
            .field("dotenv", &self.dotenv_path)
            .field("dotenv_names", &names)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// The variables of this process, and with `dotenv` those of `.env` in the working
    /// directory. A missing `.env` is fine; one that cannot be read is a configuration error.
    pub(crate) fn read(dotenv: bool) -> Result<Self, CliError> {
        // A variable that is not Unicode is one godwit cannot use, as `std::env::var` says.
        let process = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        let environment = Environment {
            process,
            ..Environment::default()
        };
        if dotenv {
            environment.with_dotenv(Path::new(DOTENV))
        } else {
            Ok(environment)
        }
    }

    /// This environment with the variables of the `.env` file at `path`, when it exists.
    fn with_dotenv(mut self, path: &Path) -> Result<Self, CliError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(self),
            Err(source) => {
                return Err(CliError::ConfigRead {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            let (name, value) = item.map_err(|error| dotenv_error(path, &text, &error))?;
            self.dotenv.insert(name, value);
        }
        self.dotenv_path = Some(path.to_path_buf());
        Ok(self)
    }

    /// The value of `name`, and where it came from.
    pub(crate) fn var(&self, name: &str) -> Option<(&str, VarSource)> {
        if let Some(value) = self.process.get(name) {
            return Some((value, VarSource::Process));
        }
        let value = self.dotenv.get(name)?;
        let path = self
            .dotenv_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(DOTENV));
        Some((value, VarSource::DotEnv(path)))
    }

    /// Where a variable was looked for, for the message saying it is not set.
    fn not_set(&self) -> String {
        match &self.dotenv_path {
            Some(path) => format!(
                "is set neither in the environment nor in {}",
                path.display()
            ),
            None => "is not set in the environment, and no .env file was read".into(),
        }
    }
}

/// A `.env` file dotenvy cannot read. dotenvy's own message quotes the line, which may hold a
/// password; this one gives its number instead.
fn dotenv_error(path: &Path, text: &str, error: &dotenvy::Error) -> CliError {
    match error {
        dotenvy::Error::LineParse(line, _) => {
            let at = text.find(line.as_str()).unwrap_or(0);
            CliError::ConfigInvalid {
                location: location(path, text, at),
                message: "this line is not `NAME=value` (an unclosed quote, or a name with \
                          characters other than letters, digits, `_` and `.`); its text is not \
                          shown, as it may hold a secret"
                    .into(),
            }
        }
        other => CliError::ConfigInvalid {
            location: path.display().to_string(),
            message: other.to_string(),
        },
    }
}

/// Why a `${...}` in a config value cannot be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InterpolationError {
    /// The variable is not set and no default is given.
    Unset(String),
    /// What is wrong with the reference as written (never a value from the environment).
    Malformed(String),
}

/// `text` with every `${VAR}` replaced by the variable's value and every `${VAR:-default}` by
/// the value, or the default when the variable is unset or empty (as in a POSIX shell). `$${`
/// is a literal `${`; any other `$` is itself. Also says whether anything was replaced, so
/// that messages quote such a value as written, never with what the environment put in it.
fn interpolate<'v>(
    text: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> Result<(String, bool), InterpolationError> {
    let mut out = String::with_capacity(text.len());
    let mut replaced = false;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body.find('}') else {
            return Err(InterpolationError::Malformed(format!(
                "`${{{body}` has no closing `}}`; write ${{VAR}} or ${{VAR:-default}}, or $${{ for a literal ${{"
            )));
        };
        let reference = &body[..end];
        let (name, default) = match reference.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (reference, None),
        };
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(InterpolationError::Malformed(format!(
                "`${{{reference}}}` does not name a variable; write ${{VAR}} or ${{VAR:-default}} \
                 (a name is letters, digits and `_`), or $${{ for a literal ${{"
            )));
        }
        let value = match (lookup(name), default) {
            (Some(""), Some(default)) => default,
            (Some(value), _) => value,
            (None, Some(default)) => default,
            (None, None) => return Err(InterpolationError::Unset(name.to_string())),
        };
        out.push_str(value);
        replaced = true;
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Ok((out, replaced))
}

/// A string value of the config file, its variables replaced.
struct Resolved {
    /// The value to use.
    value: String,
    /// The value as written in the file.
    written: String,
    /// Whether a `${...}` was replaced.
    interpolated: bool,
    /// Where it is in the file.
    span: Range<usize>,
}

impl Resolved {
    /// The value for messages: as written when it came through a variable, which may hold a
    /// secret.
    fn shown(&self) -> &str {
        if self.interpolated {
            &self.written
        } else {
            &self.value
        }
    }
}

/// The config file as written. Not `Debug`: it may hold a password.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: Option<Spanned<String>>,
    migrations: Option<Spanned<String>>,
    history_table: Option<Spanned<String>>,
    schema: Option<Spanned<String>>,
    lock_timeout: Option<Spanned<String>>,
    application_name: Option<Spanned<String>>,
    schema_file: Option<Spanned<String>>,
    dev_url: Option<Spanned<String>>,
    backup: Option<bool>,
    backup_dir: Option<Spanned<String>>,
    #[serde(default)]
    managed_roles: Vec<Spanned<String>>,
    #[serde(default)]
    manage: ManageSection,
    #[serde(default)]
    lint: LintSection,
    #[serde(default)]
    plugins: Vec<Spanned<String>>,
}

/// The `[manage]` table.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManageSection {
    /// Rules naming the roles whose privileges godwit changes, first match first.
    privilege: Option<Vec<PrivilegeEntry>>,
}

/// One rule of `[manage] privilege`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivilegeEntry {
    target: Spanned<String>,
    #[serde(default)]
    drop: bool,
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
    pub(crate) fn load(global: &GlobalArgs, env: Environment) -> Result<Config, CliError> {
        let config_path = ConfigPath::from_flag(global.config.as_deref());
        let (file, text) = read(&config_path)?;
        let path = config_path.path();
        let invalid = |span: Range<usize>, message: String| CliError::ConfigInvalid {
            location: location(path, &text, span.start),
            message,
        };
        let resolve = |key: &str, value: Option<Spanned<String>>| -> Result<_, CliError> {
            let Some(value) = value else {
                return Ok(None);
            };
            let span = value.span();
            let written = value.into_inner();
            let (resolved, interpolated) = interpolate(&written, |name| {
                env.var(name).map(|(value, _)| value)
            })
            .map_err(|error| {
                invalid(
                    span.clone(),
                    match error {
                        InterpolationError::Unset(name) => format!(
                            "`{key}` uses ${{{name}}}, which {}; set it, or give a default with \
                             ${{{name}:-default}}",
                            env.not_set()
                        ),
                        InterpolationError::Malformed(reason) => format!("`{key}`: {reason}"),
                    },
                )
            })?;
            Ok(Some(Resolved {
                value: resolved,
                written,
                interpolated,
                span,
            }))
        };
        let value = |resolved: Option<Resolved>| resolved.map(|r| r.value);

        // Plugins first: the URLs below are read, and the lint rules checked, with every
        // backend this run has.
        let mut plugins = Vec::with_capacity(file.plugins.len());
        for entry in file.plugins {
            plugins.extend(value(resolve("plugins", Some(entry))?));
        }
        crate::plugins::load(
            &plugins,
            config_path.dir(),
            env.var(PLUGIN_PATH).map(|(value, _)| value),
        );

        // The file's URLs are resolved only when used, so a `${VAR}` in them that is unset
        // does not stand in the way of `--url` or DATABASE_URL.
        let url = match global.url.clone() {
            Some(text) => Some((text, UrlOrigin::Flag)),
            None => match env.var("DATABASE_URL").filter(|(url, _)| !url.is_empty()) {
                Some((url, source)) => Some((url.to_string(), UrlOrigin::Env(source))),
                None => value(resolve("url", file.url)?).map(|text| {
                    (
                        relative_to(config_path.dir(), text),
                        UrlOrigin::File(path.to_path_buf()),
                    )
                }),
            },
        }
        .map(|(text, origin)| DatabaseUrl { text, origin });

        let dev_url = match env.var("GODWIT_DEV_URL").filter(|(url, _)| !url.is_empty()) {
            Some((url, source)) => Some(DatabaseUrl {
                text: url.to_string(),
                origin: UrlOrigin::DevEnv(source),
            }),
            None => value(resolve("dev_url", file.dev_url)?).map(|text| DatabaseUrl {
                text: relative_to(config_path.dir(), text),
                origin: UrlOrigin::DevFile(path.to_path_buf()),
            }),
        };

        let lock_timeout = match resolve("lock_timeout", file.lock_timeout)? {
            None => Duration::from_secs(60),
            Some(resolved) => parse_lock_timeout(&resolved.value).map_err(|reason| {
                // The parser's reason may quote the value; one from a variable is not shown.
                let reason = if resolved.interpolated {
                    "not a duration like 30s or 2m once its variables are replaced".to_string()
                } else {
                    reason
                };
                invalid(
                    resolved.span.clone(),
                    format!("lock_timeout \"{}\" is {reason}", resolved.shown()),
                )
            })?,
        };

        let (history_schema, history_table) = match resolve("history_table", file.history_table)? {
            None => (None, "godwit_migrations".to_string()),
            Some(resolved) => history_name(&resolved.value, resolved.shown())
                .map_err(|message| invalid(resolved.span.clone(), message))?,
        };

        let mut disabled = Vec::with_capacity(file.lint.disabled.len());
        for id in file.lint.disabled {
            disabled.extend(resolve("lint.disabled", Some(id))?);
        }
        // The rules of every dialect compiled in: one config file often serves several.
        let catalogue = crate::plugins::registry().lint_catalogue();
        let lint = LintConfig {
            disabled: disabled.iter().map(|id| id.value.clone()).collect(),
            other_rules: catalogue.ids().map(str::to_string).collect(),
        };
        if let Some(unknown) = lint.unknown_rules(&catalogue).next() {
            let Some(id) = disabled.iter().find(|id| id.value == unknown) else {
                unreachable!("an unknown rule is one of those disabled")
            };
            let help = if id.interpolated {
                "`godwit lint --list` lists the rules".to_string()
            } else {
                unknown_rule_help(unknown)
            };
            return Err(invalid(
                id.span.clone(),
                format!(
                    "`{}` in `[lint] disabled` is not a lint rule; {help}",
                    id.shown()
                ),
            ));
        }

        let mut managed_roles = Vec::with_capacity(file.managed_roles.len());
        for role in file.managed_roles {
            managed_roles.extend(value(resolve("managed_roles", Some(role))?));
        }
        let mut scope = Scope::of_roles(managed_roles);
        if let Some(entries) = file.manage.privilege {
            let mut rules = Vec::with_capacity(entries.len());
            for entry in entries {
                let Some(target) = resolve("manage.privilege.target", Some(entry.target))? else {
                    continue;
                };
                let rule = PrivilegeRule::new(target.value.clone(), entry.drop)
                    .map_err(|error| invalid(target.span.clone(), error.to_string()))?;
                rules.push(rule);
            }
            scope = scope.with_privilege_rules(rules);
        }

        let dir = config_path.dir();
        let config = Config {
            migrations: dir.join(
                value(resolve("migrations", file.migrations)?)
                    .unwrap_or_else(|| "migrations".into()),
            ),
            url,
            history_table,
            history_schema,
            schema: value(resolve("schema", file.schema)?),
            lock_timeout,
            application_name: value(resolve("application_name", file.application_name)?),
            schema_file: dir.join(
                value(resolve("schema_file", file.schema_file)?)
                    .unwrap_or_else(|| "schema.sql".into()),
            ),
            dev_url,
            lint,
            backup: file.backup.unwrap_or(false),
            backup_dir: value(resolve("backup_dir", file.backup_dir)?).map(|d| dir.join(d)),
            scope,
            cache_dir: cache_dir(&env),
            config_path,
        };
        tracing::debug!(?config, ?env, "resolved configuration");
        Ok(config)
    }

    /// The database URL, or an error saying how to give one.
    pub(crate) fn url(&self) -> Result<&DatabaseUrl, CliError> {
        self.url.as_ref().ok_or_else(|| CliError::NoUrl {
            config: self.config_path.path().to_path_buf(),
        })
    }

    /// The database to create scratch databases on, when one is configured.
    pub(crate) fn dev_url(&self) -> Option<&DatabaseUrl> {
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
/// `shown` is the value as messages quote it (as written, when it came through a variable).
fn history_name(text: &str, shown: &str) -> Result<(Option<String>, String), String> {
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
            "history_table \"{shown}\" is not a table name; write TABLE, or SCHEMA.TABLE for a table in a PostgreSQL schema"
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

    /// An environment of these variables only.
    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment {
            process: vars
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            ..Environment::default()
        }
    }

    fn load(dir: &Path, args: &[&str], env_url: Option<&str>) -> Result<Config, CliError> {
        let vars: Vec<(&str, &str)> = env_url
            .map(|url| ("DATABASE_URL", url))
            .into_iter()
            .collect();
        load_with(dir, args, env(&vars))
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
            env(&[("GODWIT_DEV_URL", "postgres://u@h/dev")]),
        )
        .unwrap();
        assert_eq!(config.dev_url().unwrap().secret(), "postgres://u@h/dev");
        assert_eq!(
            config.dev_url().unwrap().origin(),
            &UrlOrigin::DevEnv(VarSource::Process)
        );
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
        let env = env(&[("DATABASE_URL", "postgres//u:s3cret-env@h/db")]);
        assert!(!format!("{env:?}").contains("s3cret"), "{env:?}");
        let config = load_with(dir.path(), &[], env).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres//u:***@h/db"), "{shown}");
    }

    #[test]
    fn a_dotted_history_table_names_its_schema() {
        assert_eq!(
            history_name("audit.hist", "audit.hist"),
            Ok((Some("audit".into()), "hist".into()))
        );
        assert_eq!(history_name("hist", "hist"), Ok((None, "hist".into())));
        for bad in ["a.b.c", ".hist", "audit.", "  "] {
            assert!(history_name(bad, bad).is_err(), "{bad}");
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
    fn managed_roles_and_privilege_rules_make_the_scope() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "managed_roles = [\"app\", \"${ROLE:-PUBLIC}\"]\n\n[manage]\n\
             privilege = [{ target = \"app_.*\", drop = true }, { target = \"x\" }]\n",
        )
        .unwrap();
        let config = load(dir.path(), &[], None).unwrap();
        let expected =
            Scope::of_roles(vec!["app".into(), "PUBLIC".into()]).with_privilege_rules(vec![
                PrivilegeRule::new("app_.*", true).unwrap(),
                PrivilegeRule::new("x", false).unwrap(),
            ]);
        assert_eq!(config.scope, expected);

        std::fs::write(
            dir.path().join("godwit.toml"),
            "[manage]\nprivilege = [{ target = \"app_(\" }]\n",
        )
        .unwrap();
        let error = load(dir.path(), &[], None).unwrap_err().to_string();
        assert!(error.contains("godwit.toml:2:25"), "{error}");
        assert!(
            error.contains("`app_(` is not a regular expression"),
            "{error}"
        );
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

    fn vars<'v>(pairs: &'v [(&'v str, &'v str)]) -> impl Fn(&str) -> Option<&'v str> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    #[test]
    fn variables_and_defaults_are_replaced_as_a_shell_would() {
        let set = [("HOST", "db.internal"), ("EMPTY", "")];
        let cases = [
            ("postgres://${HOST}/app", "postgres://db.internal/app", true),
            ("${MISSING:-sqlite:dev.db}", "sqlite:dev.db", true),
            ("${HOST:-other}", "db.internal", true),
            // `:-` takes the default for an empty variable too.
            ("${EMPTY:-fallback}", "fallback", true),
            ("${EMPTY}", "", true),
            ("pa$$word $5 $HOST", "pa$$word $5 $HOST", false),
            ("$${HOST}", "${HOST}", false),
            ("${MISSING:-}", "", true),
        ];
        for (text, expected, replaced) in cases {
            assert_eq!(
                interpolate(text, vars(&set)),
                Ok((expected.to_string(), replaced)),
                "{text}"
            );
        }
        assert_eq!(
            interpolate("${MISSING}", vars(&set)),
            Err(InterpolationError::Unset("MISSING".into()))
        );
        for malformed in ["${HOST", "${}", "${1X}", "${HOST-x}", "${HOST:?}", "a ${ b"] {
            assert!(
                matches!(
                    interpolate(malformed, vars(&set)),
                    Err(InterpolationError::Malformed(_))
                ),
                "{malformed}"
            );
        }
    }

    #[test]
    fn every_string_value_is_interpolated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "url = \"postgres://app:${DB_PASSWORD}@db/app\"\nmigrations = \"${DIR:-db/migrations}\"\n\
             history_table = \"${HISTORY}\"\nlock_timeout = \"${WAIT}\"\n\
             [lint]\ndisabled = [\"${RULE}\"]\n",
        )
        .unwrap();
        let vars = [
            ("DB_PASSWORD", "hunter2-secret"),
            ("HISTORY", "audit.history"),
            ("WAIT", "5s"),
            ("RULE", "drop-table"),
        ];
        let config = load_with(dir.path(), &[], env(&vars)).unwrap();
        assert_eq!(
            config.url().unwrap().secret(),
            "postgres://app:hunter2-secret@db/app"
        );
        assert_eq!(config.migrations, dir.path().join("db/migrations"));
        assert_eq!(config.history_schema.as_deref(), Some("audit"));
        assert_eq!(config.history_table, "history");
        assert_eq!(config.lock_timeout, Duration::from_secs(5));
        assert_eq!(config.lint.disabled, ["drop-table"]);
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn a_url_that_is_not_used_needs_no_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "url = \"${APP_DB}\"\ndev_url = \"${DEV_DB}\"\n",
        )
        .unwrap();
        let vars = [("GODWIT_DEV_URL", "sqlite:dev.db")];
        let config = load_with(dir.path(), &["--url", "sqlite:flag.db"], env(&vars)).unwrap();
        assert_eq!(config.url().unwrap().secret(), "sqlite:flag.db");
        assert_eq!(config.dev_url().unwrap().secret(), "sqlite:dev.db");
        let error = load(dir.path(), &[], None).unwrap_err().to_string();
        assert!(error.contains("`url` uses ${APP_DB}"), "{error}");
    }

    #[test]
    fn an_unset_variable_names_itself_its_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("godwit.toml"),
            "\nurl = \"${DATABASE_URL}\"\n",
        )
        .unwrap();
        let error = load(dir.path(), &[], None).unwrap_err();
        assert!(matches!(error, CliError::ConfigInvalid { .. }), "{error}");
        let error = error.to_string();
        assert!(error.contains("godwit.toml:2:7"), "{error}");
        assert!(error.contains("`url` uses ${DATABASE_URL}"), "{error}");
        assert!(error.contains("${DATABASE_URL:-default}"), "{error}");
    }

    #[test]
    fn messages_quote_an_interpolated_value_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let secret = ("TOKEN", "s3cret-token");
        for key in [
            "lock_timeout = \"${TOKEN}\"",
            "history_table = \"${TOKEN}.a.b\"",
            "[lint]\ndisabled = [\"${TOKEN}\"]",
        ] {
            std::fs::write(dir.path().join("godwit.toml"), format!("{key}\n")).unwrap();
            let error = load_with(dir.path(), &[], env(&[secret]))
                .unwrap_err()
                .to_string();
            assert!(!error.contains("s3cret"), "{error}");
            assert!(error.contains("${TOKEN}"), "{error}");
        }
    }

    #[test]
    fn dotenv_fills_in_what_the_environment_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let dotenv = dir.path().join(".env");
        std::fs::write(
            &dotenv,
            "# local settings\nDATABASE_URL=sqlite:from-dotenv.db\nGODWIT_DEV_URL=\"sqlite:dev.db\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("godwit.toml"), "").unwrap();
        let env = env(&[("GODWIT_DEV_URL", "sqlite:process.db")])
            .with_dotenv(&dotenv)
            .unwrap();
        let config = load_with(dir.path(), &[], env).unwrap();
        let url = config.url().unwrap();
        assert_eq!(url.secret(), "sqlite:from-dotenv.db");
        assert_eq!(
            url.origin(),
            &UrlOrigin::Env(VarSource::DotEnv(dotenv.clone()))
        );
        assert!(
            url.origin().to_string().ends_with(".env"),
            "{}",
            url.origin()
        );
        // The process's variable wins.
        assert_eq!(config.dev_url().unwrap().secret(), "sqlite:process.db");
    }

    #[test]
    fn a_broken_dotenv_line_is_located_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let dotenv = dir.path().join(".env");
        std::fs::write(&dotenv, "A=1\nDATABASE_URL=\"postgres://u:s3cret@h/db\n").unwrap();
        let error = env(&[]).with_dotenv(&dotenv).unwrap_err();
        assert!(matches!(error, CliError::ConfigInvalid { .. }), "{error}");
        let error = error.to_string();
        assert!(error.contains(".env:2:1"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}
