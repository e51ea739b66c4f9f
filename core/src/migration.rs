//! Migrations: versions, scripts, directives, checksums and the sources they come from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::operation::vocabulary::Operations;

/// A migration source (a directory or an embedded list) is malformed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum SourceError {
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A `.sql` file does not follow `<version>_<name>.up.sql` / `.down.sql`.
    #[error("{}: {reason}; rename the file or move it out of the migrations directory", path.display())]
    InvalidFileName {
        /// The file.
        path: PathBuf,
        /// What is wrong with the name.
        reason: String,
    },
    /// A version is not a positive integer.
    #[error("{origin}: `{value}` is not a positive integer version")]
    InvalidVersion {
        /// Where the version came from.
        origin: String,
        /// The offending text.
        value: String,
    },
    /// Two migrations share a version.
    #[error(
        "two migrations have version {version}: {first} and {second}; give one of them a new version"
    )]
    DuplicateVersion {
        /// The shared version.
        version: Version,
        /// The first one found.
        first: String,
        /// The second one found.
        second: String,
    },
    /// A down script has no matching up script.
    #[error("{path} has no matching .up.sql file; add the up script or remove the down script")]
    DownWithoutUp {
        /// The down script.
        path: String,
    },
    /// The up and down files of one version have different names.
    #[error("{up} and {down} share a version but not a name; rename one so they match")]
    NameMismatch {
        /// The up script.
        up: String,
        /// The down script.
        down: String,
    },
    /// An operations file (`<version>_<name>.toml`) or builder is not valid.
    #[error(
        "{origin}: {message}; fix the operations (`godwit new --ops NAME` writes a commented template)"
    )]
    InvalidOperations {
        /// The file or builder.
        origin: String,
        /// What is wrong, with its line for a file.
        message: String,
    },
    /// A file is not valid UTF-8.
    #[error("{} is not valid UTF-8; save it as UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A `-- godwit:` directive is not one godwit knows.
    #[error(
        "{origin}:{line}: unknown directive `godwit:{directive}`; known directives: no-transaction, allow"
    )]
    UnknownDirective {
        /// The script.
        origin: String,
        /// 1-based line.
        line: usize,
        /// The directive as written.
        directive: String,
    },
    /// A script holds a NUL byte, which is not SQL: SQLite would silently stop reading the
    /// script there and PostgreSQL rejects it.
    #[error(
        "{origin}:{line}: holds a NUL byte, which is not SQL (SQLite would stop reading the script there and skip the rest); remove it, and if the file was saved as UTF-16, save it as UTF-8"
    )]
    NulByte {
        /// The script.
        origin: String,
        /// 1-based line of the first NUL byte.
        line: usize,
    },
}

/// A migration's version: a positive integer, usually a UTC timestamp `YYYYMMDDHHMMSS`.
/// Stored as `BIGINT`, so it is bounded by `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    /// A version from a positive integer.
    pub fn new(value: i64) -> Option<Self> {
        (value > 0).then_some(Version(value))
    }

    /// The integer value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{s}` is not a version: expected a positive integer"
            ));
        }
        s.parse::<i64>()
            .ok()
            .and_then(Version::new)
            .ok_or_else(|| format!("`{s}` is not a version: expected 1 to {}", i64::MAX))
    }
}

/// SHA-256 of a script, hex encoded, computed with CRLF line endings folded to LF so that a
/// checkout on Windows does not look like an edit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checksum(String);

impl Checksum {
    /// The checksum of `sql`.
    pub fn of(sql: &str) -> Self {
        let mut hasher = Sha256::new();
        let mut rest = sql;
        while let Some(i) = rest.find("\r\n") {
            hasher.update(&rest.as_bytes()[..i]);
            hasher.update(b"\n");
            rest = &rest[i + 2..];
        }
        hasher.update(rest.as_bytes());
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use fmt::Write;
            let _ = write!(hex, "{byte:02x}");
        }
        Checksum(hex)
    }

    /// A checksum read back from the history table.
    pub fn from_stored(hex: impl Into<String>) -> Self {
        Checksum(hex.into())
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The UTF-8 byte order mark some Windows editors put at the start of a file. It is not SQL:
/// both engines read it as the start of an identifier and reject the script.
const BOM: char = '\u{feff}';

/// The 1-based line of the first NUL byte in `text`, if it holds one.
///
/// No SQL holds a NUL, and engines treat one differently: SQLite reads a script as a C string
/// and silently stops at it (the statements after it never run, yet the script succeeded),
/// PostgreSQL's wire protocol rejects the message. So a script or schema file with one is
/// refused when it is read, the same way on every engine.
pub(crate) fn nul_line(text: &str) -> Option<usize> {
    let at = text.find('\0')?;
    Some(text[..at].bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Options a script declares in its leading comment lines, such as `-- godwit:no-transaction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Directives {
    /// Run outside a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `PRAGMA journal_mode`).
    pub no_transaction: bool,
}

impl Directives {
    /// The directive names godwit understands.
    pub const KNOWN: &'static [&'static str] = &["no-transaction", "allow"];

    /// Parse the directives from the `--` comment lines that open `sql`, among blank lines and
    /// `/* ... */` block comments (a header such as `/* Migration: ... */` often comes first).
    /// The first code ends them. An unknown `godwit:` directive is an error rather than
    /// ignored, so a typo cannot silently turn a non-transactional migration into a
    /// transactional one. A leading byte order mark is skipped, as [`Script::new`] does.
    ///
    /// `-- godwit:allow RULE[, RULE...]` is accepted and left to the linter
    /// ([`crate::lint`]), which reads it above any statement, including the first one.
    pub fn parse(sql: &str) -> Result<Self, (usize, String)> {
        let sql = sql.strip_prefix(BOM).unwrap_or(sql);
        let mut directives = Directives::default();
        let mut in_block_comment = false;
        for (index, line) in sql.lines().enumerate() {
            let mut line = line.trim();
            // Block comments are skipped whole; they do not nest (SQLite's rule; a PostgreSQL
            // header that nests one ends the directives early, and a directive it hides then
            // is reported by the linter rather than taken).
            loop {
                if in_block_comment {
                    let Some(end) = line.find("*/") else {
                        line = "";
                        break;
                    };
                    line = line[end + 2..].trim_start();
                    in_block_comment = false;
                } else if let Some(rest) = line.strip_prefix("/*") {
                    line = rest;
                    in_block_comment = true;
                } else {
                    break;
                }
            }
            if in_block_comment || line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let Some(directive) = comment.trim().strip_prefix("godwit:") else {
                continue;
            };
            match directive.trim() {
                "no-transaction" => directives.no_transaction = true,
                // An allow comment, or a misspelling of one (`allow:`, `allowed`), which the
                // linter reports wherever it stands: it cannot change how the file runs.
                other if other.starts_with("allow") => {}
                other => return Err((index + 1, other.to_string())),
            }
        }
        Ok(directives)
    }
}

/// One script (the up or the down half of a migration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// The SQL as written, without a leading byte order mark.
    pub sql: String,
    /// Its checksum.
    pub checksum: Checksum,
    /// Its directives.
    pub directives: Directives,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
}

impl Script {
    /// Build a script from text, parsing its directives. `path` names it in errors.
    ///
    /// A leading UTF-8 byte order mark is removed before anything else, the checksum
    /// included. Both engines reject a script that starts with one, so no migration with it
    /// was ever applied and no recorded checksum includes it; taking the checksum after
    /// removing it means an editor adding or dropping the mark is not an edit, as with CRLF
    /// line endings. The checksum of a file without a mark is unchanged.
    ///
    /// A script holding a NUL byte is refused ([`SourceError::NulByte`]): SQLite would run it
    /// only up to the NUL and report success.
    pub fn new(sql: impl Into<String>, path: Option<PathBuf>) -> Result<Self, SourceError> {
        let mut sql = sql.into();
        if sql.starts_with(BOM) {
            sql.drain(..BOM.len_utf8());
        }
        let origin = || {
            path.as_ref()
                .map_or_else(|| "embedded script".into(), |p| p.display().to_string())
        };
        if let Some(line) = nul_line(&sql) {
            return Err(SourceError::NulByte {
                origin: origin(),
                line,
            });
        }
        let directives =
            Directives::parse(&sql).map_err(|(line, directive)| SourceError::UnknownDirective {
                origin: origin(),
                line,
                directive,
            })?;
        Ok(Script {
            checksum: Checksum::of(&sql),
            sql,
            directives,
            path,
        })
    }

    /// The source of an operations migration: its TOML text, checksummed like SQL. It has no
    /// directives; how it runs follows from what it renders to
    /// ([`crate::operation::resolve`]).
    pub fn operations(text: impl Into<String>, path: Option<PathBuf>) -> Self {
        let mut text = text.into();
        if text.starts_with(BOM) {
            text.drain(..BOM.len_utf8());
        }
        Script {
            checksum: Checksum::of(&text),
            sql: text,
            directives: Directives::default(),
            path,
        }
    }

    /// Where the script came from, for messages.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "embedded script".into(), |p| p.display().to_string())
    }
}

/// A migration: a version, a name, an up script and optionally a down script; or a list of
/// operations whose SQL and reverse are derived when it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// Its version; migrations apply in ascending version order.
    pub version: Version,
    /// A human name (`create_users`).
    pub name: String,
    /// The script that applies it.
    pub up: Script,
    /// The script that reverts it, if written.
    pub down: Option<Script>,
    /// The operations of an operations migration (a `.toml` file or a
    /// [`MigrationBuilder`](crate::operation::MigrationBuilder)). Its `up` script then holds
    /// the operations' TOML text, for the checksum, and is rendered to SQL against the live
    /// schema when it runs ([`crate::operation::resolve`]), which derives the down script too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Operations>,
}

/// A migration embedded in a program, for example with `include_str!`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: &'static str,
    /// The up script.
    pub up: &'static str,
    /// The down script, if any.
    pub down: Option<&'static str>,
    /// `up` is the TOML text of an operations file (`<version>_<name>.toml`), whose SQL and
    /// reverse are derived when it runs; `down` is then `None`.
    pub operations: bool,
}

/// A validated, version-ordered set of migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    list: Vec<Migration>,
}

/// The two halves a migration file can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Up,
    Down,
    /// An operations file, `<version>_<name>.toml`.
    Operations,
}

/// Split `<version>_<name>.up.sql` / `.down.sql` / `.toml` into its parts.
fn parse_file_name(file_name: &str) -> Result<(Version, String, Half), String> {
    let (stem, half) = if let Some(stem) = file_name.strip_suffix(".up.sql") {
        (stem, Half::Up)
    } else if let Some(stem) = file_name.strip_suffix(".down.sql") {
        (stem, Half::Down)
    } else if let Some(stem) = file_name.strip_suffix(".toml") {
        (stem, Half::Operations)
    } else {
        return Err("expected a name ending in `.up.sql`, `.down.sql` or `.toml`".into());
    };
    let (version, name) = stem
        .split_once('_')
        .ok_or("expected `<version>_<name>`, for example `20240101120000_create_users.up.sql`")?;
    let version: Version = version.parse()?;
    if name.is_empty() {
        return Err("the name after the version is empty".into());
    }
    Ok((version, name.to_string(), half))
}

/// Whether a folder entry is a directory, without a `stat` call unless it is a link.
fn is_dir(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
        Ok(kind) => kind.is_dir(),
        Err(_) => entry.path().is_dir(),
    }
}

/// One migration file read, named and checksummed, with its operations if it is an operations
/// file.
type Loaded = Result<(Version, String, Half, Script, Option<Operations>), SourceError>;

/// Read, name and checksum `files`, spread over the cores: with a thousand migrations the
/// time of `status` is mostly this. The results come back in the order of `files`.
fn read_all(files: Vec<(String, PathBuf)>) -> Vec<Loaded> {
    // Below this, starting threads costs more than it saves.
    const PER_THREAD: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(files.len().div_ceil(PER_THREAD))
        .max(1);
    if threads == 1 {
        return files.into_iter().map(read_one).collect();
    }
    let chunk = files.len().div_ceil(threads);
    let mut files = files.into_iter();
    let batches: Vec<Vec<(String, PathBuf)>> = (0..threads)
        .map(|_| files.by_ref().take(chunk).collect())
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = batches
            .into_iter()
            .map(|batch| scope.spawn(move || batch.into_iter().map(read_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(loaded) => loaded,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Read one migration file. `File::read_to_end` rather than `fs::read`, which asks the file's
/// size first: one system call less per file, and these files are small.
fn read_one((file_name, path): (String, PathBuf)) -> Loaded {
    use std::io::Read as _;
    let (version, name, half) =
        parse_file_name(&file_name).map_err(|reason| SourceError::InvalidFileName {
            path: path.clone(),
            reason,
        })?;
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|source| SourceError::Io {
            path: path.clone(),
            source,
        })?;
    let text = String::from_utf8(bytes).map_err(|_| SourceError::NotUtf8 { path: path.clone() })?;
    if half == Half::Operations {
        let script = Script::operations(text, Some(path));
        let operations =
            Operations::parse(&script.sql).map_err(|message| SourceError::InvalidOperations {
                origin: script.origin(),
                message,
            })?;
        return Ok((version, name, half, script, Some(operations)));
    }
    let script = Script::new(text, Some(path))?;
    Ok((version, name, half, script, None))
}

impl Migrations {
    /// Load every `<version>_<name>.up.sql` and `<version>_<name>.down.sql` in `dir`.
    ///
    /// Other files (a README, editor backups starting with `.`) are ignored; a `.sql` file that
    /// does not follow the naming pattern is an error, because it is almost certainly a
    /// migration that would otherwise never run.
    pub fn from_dir(dir: &Path) -> Result<Self, SourceError> {
        let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| SourceError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned)
            else {
                continue;
            };
            // `.SQL` counts: such a file is a migration misnamed, not something else.
            let lower = file_name.to_ascii_lowercase();
            let is_migration = lower.ends_with(".sql") || lower.ends_with(".toml");
            if file_name.starts_with('.') || !is_migration || is_dir(&entry) {
                continue;
            }
            files.push((file_name, path));
        }
        files.sort();

        type Up = (String, Script, Option<Operations>);
        let mut ups: BTreeMap<Version, Up> = BTreeMap::new();
        let mut downs: BTreeMap<Version, Up> = BTreeMap::new();
        // In file order, so that of several bad files the first is the one reported.
        for loaded in read_all(files) {
            let (version, name, half, script, operations) = loaded?;
            let map = match half {
                Half::Up | Half::Operations => &mut ups,
                Half::Down => &mut downs,
            };
            if let Some((_, first, _)) = map.get(&version) {
                return Err(SourceError::DuplicateVersion {
                    version,
                    first: first.origin(),
                    second: script.origin(),
                });
            }
            map.insert(version, (name, script, operations));
        }

        let mut list = Vec::with_capacity(ups.len());
        for (version, (name, down, _)) in &downs {
            match ups.get(version) {
                None => {
                    return Err(SourceError::DownWithoutUp {
                        path: down.origin(),
                    });
                }
                Some((_, up, Some(_))) => {
                    return Err(SourceError::InvalidFileName {
                        path: down.path.clone().unwrap_or_default(),
                        reason: format!(
                            "{} is an operations file, whose reverse godwit derives when it runs, so it takes no down script",
                            up.origin()
                        ),
                    });
                }
                Some((up_name, up, None)) if up_name != name => {
                    return Err(SourceError::NameMismatch {
                        up: up.origin(),
                        down: down.origin(),
                    });
                }
                Some(_) => {}
            }
        }
        for (version, (name, up, operations)) in ups {
            let down = downs.remove(&version).map(|(_, script, _)| script);
            list.push(Migration {
                version,
                name,
                up,
                down,
                operations,
            });
        }
        Ok(Migrations { list })
    }

    /// Build from migrations embedded in the program. Same validation as [`Self::from_dir`].
    pub fn from_embedded(embedded: &[EmbeddedMigration]) -> Result<Self, SourceError> {
        let mut list = Vec::with_capacity(embedded.len());
        for item in embedded {
            let version =
                Version::new(item.version).ok_or_else(|| SourceError::InvalidVersion {
                    origin: format!("embedded migration `{}`", item.name),
                    value: item.version.to_string(),
                })?;
            if item.operations {
                let up = Script::operations(item.up, None);
                let operations = Operations::parse(&up.sql).map_err(|message| {
                    SourceError::InvalidOperations {
                        origin: format!("embedded migration `{}`", item.name),
                        message,
                    }
                })?;
                list.push(Migration {
                    version,
                    name: item.name.to_string(),
                    up,
                    down: None,
                    operations: Some(operations),
                });
                continue;
            }
            list.push(Migration {
                version,
                name: item.name.to_string(),
                up: Script::new(item.up, None)?,
                down: item.down.map(|d| Script::new(d, None)).transpose()?,
                operations: None,
            });
        }
        Self::from_list(list)
    }

    /// Build from already constructed migrations, checking for duplicate versions.
    pub fn from_list(mut list: Vec<Migration>) -> Result<Self, SourceError> {
        list.sort_by_key(|m| m.version);
        for pair in list.windows(2) {
            if pair[0].version == pair[1].version {
                return Err(SourceError::DuplicateVersion {
                    version: pair[0].version,
                    first: format!("`{}`", pair[0].name),
                    second: format!("`{}`", pair[1].name),
                });
            }
        }
        Ok(Migrations { list })
    }

    /// The migrations in ascending version order.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    /// The migration with `version`, if present.
    pub fn get(&self, version: Version) -> Option<&Migration> {
        self.list
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.list[i])
    }

    /// Number of migrations.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The highest version, if any.
    pub fn latest(&self) -> Option<Version> {
        self.list.last().map(|m| m.version)
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// Turn a free-form migration name into the `snake_case` used in file names: letters and
/// digits of any script, lowercased, the rest collapsed into `_`, and at most
/// [`MAX_SLUG_BYTES`] bytes, so the file name stays within what file systems allow.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            let lower: String = c.to_lowercase().collect();
            if out.len() + lower.len() > MAX_SLUG_BYTES {
                break;
            }
            out.push_str(&lower);
        } else if !out.ends_with('_') && out.len() < MAX_SLUG_BYTES {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The longest name part [`slugify`] makes: with a 19-digit version and `.down.sql`, a file
/// name stays under the 255 bytes most file systems allow.
pub const MAX_SLUG_BYTES: usize = 200;

/// The version `new` gives a migration created at `now_utc` (`YYYYMMDDHHMMSS`), moved past
/// `latest` when the clock is behind it or two migrations are made in the same second, so
/// file order always equals creation order.
///
/// `None` when `latest` is the largest version there can be, so nothing can come after it.
pub fn next_version(now_utc: std::time::SystemTime, latest: Option<Version>) -> Option<Version> {
    let stamp = humantime::format_rfc3339_seconds(now_utc).to_string();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let from_clock: i64 = digits.parse().unwrap_or(1);
    let next = match latest {
        Some(latest) if latest.get() >= from_clock => latest.get().checked_add(1)?,
        _ => from_clock,
    };
    Some(Version(next.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_have_the_same_checksum() {
        assert_eq!(
            Checksum::of("CREATE TABLE a (id int);\r\nSELECT 1;\r\n"),
            Checksum::of("CREATE TABLE a (id int);\nSELECT 1;\n")
        );
        assert_ne!(Checksum::of("SELECT 1;"), Checksum::of("SELECT 2;"));
        assert_eq!(
            Checksum::of("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn directives_are_read_from_leading_comments_only() {
        let d = Directives::parse("-- a comment\n\n-- godwit:no-transaction\nVACUUM;").unwrap();
        assert!(d.no_transaction);
        let d = Directives::parse("SELECT 1;\n-- godwit:no-transaction\n").unwrap();
        assert!(!d.no_transaction);
        assert_eq!(
            Directives::parse("-- godwit:no-transacton\n"),
            Err((1, "no-transacton".to_string()))
        );
        let d = Directives::parse(
            "-- godwit:allow drop-table, truncate\n-- godwit:no-transaction\nDROP TABLE a;",
        )
        .unwrap();
        assert!(d.no_transaction);
        // A misspelt allow comment is the linter's to report, like one further down.
        assert_eq!(
            Directives::parse("-- godwit:allow: drop-table\n-- godwit:allowed x\n"),
            Ok(Directives::default())
        );
    }

    #[test]
    fn directives_may_follow_block_comments_and_a_byte_order_mark() {
        let cases = [
            "/* Migration: add index to orders\n   author: ops */\n-- godwit:no-transaction\n",
            "/* header */ -- godwit:no-transaction\nSELECT 1;",
            "/* a */ /* b */\n-- godwit:no-transaction\n",
            "/* one */\n/* two\n*/\n\n-- godwit:no-transaction\n",
            "\u{feff}-- godwit:no-transaction\nVACUUM;",
            "\u{feff}/* header */\n-- godwit:no-transaction\nVACUUM;",
        ];
        for sql in cases {
            assert!(Directives::parse(sql).unwrap().no_transaction, "{sql:?}");
        }
        // Code ends the leading comments, also on the line that closes a block comment, and a
        // directive inside a block comment is not one.
        let cases = [
            "/* header */ SELECT 1;\n-- godwit:no-transaction\n",
            "/* -- godwit:no-transaction */\nSELECT 1;",
            "/*\n-- godwit:no-transaction\n*/\nSELECT 1;",
        ];
        for sql in cases {
            assert!(!Directives::parse(sql).unwrap().no_transaction, "{sql:?}");
        }
        assert_eq!(
            Directives::parse("/* x */\n-- godwit:no-transacton\n"),
            Err((2, "no-transacton".to_string()))
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_script_or_its_checksum() {
        let plain = "-- godwit:no-transaction\nVACUUM;\n";
        let marked = Script::new(format!("\u{feff}{plain}"), None).unwrap();
        assert_eq!(marked.sql, plain);
        assert!(marked.directives.no_transaction);
        assert_eq!(marked.checksum, Checksum::of(plain));
        // A file without the mark keeps the checksum it always had.
        assert_eq!(
            Script::new(plain, None).unwrap().checksum,
            Checksum::of(plain)
        );
        // Only a leading mark is removed.
        let inner = Script::new("SELECT 1;\u{feff}", None).unwrap();
        assert_eq!(inner.sql, "SELECT 1;\u{feff}");
    }

    #[test]
    fn a_nul_byte_is_refused_with_its_line() {
        let sql = "CREATE TABLE a(x);\0\nCREATE TABLE after_nul(x);\n";
        let error = Script::new(sql, Some("1_a.up.sql".into())).unwrap_err();
        assert!(
            matches!(&error, SourceError::NulByte { origin, line: 1 } if origin == "1_a.up.sql"),
            "{error}"
        );
        assert!(error.to_string().starts_with("1_a.up.sql:1: "), "{error}");
        let error = Script::new("SELECT 1;\n\n-- x\0", None).unwrap_err();
        assert!(
            matches!(error, SourceError::NulByte { line: 3, .. }),
            "{error}"
        );
        // A down file read from a folder is refused as an up file is.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1_a.up.sql"), "CREATE TABLE a(x);").unwrap();
        std::fs::write(dir.path().join("1_a.down.sql"), "DROP TABLE a;\n\0").unwrap();
        let error = Migrations::from_dir(dir.path()).unwrap_err();
        assert!(
            matches!(&error, SourceError::NulByte { origin, line: 2 } if origin.ends_with("1_a.down.sql")),
            "{error}"
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("20240101120000_create_users.up.sql").unwrap(),
            (Version(20240101120000), "create_users".into(), Half::Up)
        );
        assert_eq!(
            parse_file_name("7_x.down.sql").unwrap(),
            (Version(7), "x".into(), Half::Down)
        );
        for bad in [
            "create.up.sql",
            "0_zero.up.sql",
            "12_.up.sql",
            "1_a.sql",
            "x1_a.up.sql",
        ] {
            assert!(parse_file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_version_is_monotonic() {
        let t = humantime::parse_rfc3339("2024-05-06T07:08:09Z").unwrap();
        let next = |latest| next_version(t, latest).map(Version::get);
        assert_eq!(next(None), Some(20240506070809));
        assert_eq!(next(Some(Version(20240506070809))), Some(20240506070810));
        assert_eq!(next(Some(Version(3))), Some(20240506070809));
        assert_eq!(next(Some(Version(i64::MAX))), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Create Users!"), "create_users");
        assert_eq!(slugify("  add--email  "), "add_email");
        assert_eq!(slugify("Ünïcode Name!"), "ünïcode_name");
        assert_eq!(slugify("名前 を 追加"), "名前_を_追加");
        let long = slugify(&"very long name ".repeat(40));
        assert!(long.len() <= MAX_SLUG_BYTES && long.starts_with("very_long_name_very"));
        assert!(!long.ends_with('_'));
    }

    #[test]
    fn operations_files_load_beside_sql_and_take_no_down_script() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
        let ops = "[[op]]\nkind = \"drop_table\"\ntable = \"a\"\n";
        write("1_a.up.sql", "CREATE TABLE a (id int);");
        write("2_drop_a.toml", ops);
        let m = Migrations::from_dir(dir.path()).unwrap();
        let second = m.get(Version(2)).unwrap();
        assert_eq!(second.up.checksum, Checksum::of(ops));
        assert_eq!(second.operations.as_ref().unwrap().list.len(), 1);
        assert!(second.down.is_none() && m.get(Version(1)).unwrap().operations.is_none());
        // The template `godwit new --ops` writes is a valid, empty operations file.
        assert!(
            Operations::parse(Operations::TEMPLATE)
                .unwrap()
                .list
                .is_empty()
        );

        write("2_drop_a.down.sql", "CREATE TABLE a (id int);");
        assert!(matches!(
            Migrations::from_dir(dir.path()),
            Err(SourceError::InvalidFileName { .. })
        ));
        std::fs::remove_file(dir.path().join("2_drop_a.down.sql")).unwrap();
        write("2_drop_a.toml", "[[op]]\nkind = \"drop_tabel\"\n");
        let error = Migrations::from_dir(dir.path()).unwrap_err();
        assert!(
            matches!(&error, SourceError::InvalidOperations { origin, .. } if origin.ends_with("2_drop_a.toml")),
            "{error}"
        );
        assert!(error.to_string().contains("drop_tabel"), "{error}");
    }

    #[test]
    fn loads_a_directory_and_rejects_mistakes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
        write("2_b.up.sql", "\u{feff}CREATE TABLE b (id int);");
        write("1_a.up.sql", "CREATE TABLE a (id int);");
        write("1_a.down.sql", "DROP TABLE a;");
        write("README.md", "not a migration");
        let m = Migrations::from_dir(dir.path()).unwrap();
        let versions: Vec<i64> = m.iter().map(|m| m.version.get()).collect();
        assert_eq!(versions, [1, 2]);
        assert!(m.get(Version(1)).unwrap().down.is_some());
        assert!(m.get(Version(2)).unwrap().down.is_none());
        assert_eq!(
            m.get(Version(2)).unwrap().up.sql,
            "CREATE TABLE b (id int);"
        );

        write("3_c.down.sql", "DROP TABLE c;");
        assert!(matches!(
            Migrations::from_dir(dir.path()),
            Err(SourceError::DownWithoutUp { .. })
        ));
        std::fs::remove_file(dir.path().join("3_c.down.sql")).unwrap();
        write("2_other.up.sql", "SELECT 1;");
        assert!(matches!(
            Migrations::from_dir(dir.path()),
            Err(SourceError::DuplicateVersion { .. })
        ));
        std::fs::remove_file(dir.path().join("2_other.up.sql")).unwrap();
        write("oops.sql", "SELECT 1;");
        assert!(matches!(
            Migrations::from_dir(dir.path()),
            Err(SourceError::InvalidFileName { .. })
        ));
        std::fs::remove_file(dir.path().join("oops.sql")).unwrap();
        // An upper-case extension is a misnamed migration, not another kind of file.
        write("3_c.up.SQL", "SELECT 1;");
        assert!(matches!(
            Migrations::from_dir(dir.path()),
            Err(SourceError::InvalidFileName { .. })
        ));
    }
}
