//! Malformed input, one row each: what is given (files, flags, config), the exit code, a phrase
//! the message must hold, and a check that nothing changed: the database's schema, history and
//! rows, and every file of the project (none created, none changed). Rows run on SQLite, and on
//! PostgreSQL where the engine matters.
#![cfg(all(unix, feature = "sqlite", feature = "postgres"))]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use common::{PgProject, Project, assert_code, rows, stderr};

/// The database a row's project starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

use Engine::{Postgres, Sqlite};

/// How a row's input is laid out in the project before godwit runs, in order.
#[derive(Debug)]
enum Step {
    /// Write a file.
    Write(&'static str, &'static [u8]),
    /// Remove a file, or a folder and what it holds.
    Remove(&'static str),
    /// Take write permission away (a file 0444, a folder 0555). godwit then runs as a user those
    /// bits apply to: root ignores them, so a root test runs it as `nobody`.
    ReadOnly(&'static str),
    /// Let anyone write a file (0666), for a database in a read-only folder.
    Writable(&'static str),
}

use Step::{ReadOnly, Remove, Writable, Write};

/// What the run may do to the history.
#[derive(Debug, PartialEq, Eq)]
enum History {
    /// Nothing: the input is refused before any migration runs.
    Unchanged,
    /// Add one `failed` row, as any failed migration does (the schema stays as it was).
    RecordsFailure,
}

/// One malformed input.
#[derive(Debug)]
struct Row {
    /// What is malformed.
    input: &'static str,
    engines: &'static [Engine],
    steps: &'static [Step],
    /// The command line; `--url` of the project's database comes first unless it has its own.
    args: &'static [&'static str],
    exit: i32,
    /// A phrase of stderr.
    says: &'static str,
    /// A phrase stderr must not hold.
    never: Option<&'static str>,
    history: History,
}

/// Migration 1, applied in every project before the row's input is laid out.
const ACCOUNTS: &str =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
INSERT INTO accounts (id, owner, balance) VALUES (1, 'ada', 100), (2, 'grace', 250);
";

const APPLIED: &str = "migrations/1_create_accounts.up.sql";

/// A migration that would run if the input let it.
const PENDING: Step = Write(
    "migrations/2_add_notes.up.sql",
    b"CREATE TABLE notes (id INTEGER PRIMARY KEY);\n",
);

const ROWS: &[Row] = &[
    Row {
        input: "a NUL byte in a migration, which SQLite took for the end of the script",
        engines: &[Sqlite, Postgres],
        steps: &[Write(
            "migrations/2_nul.up.sql",
            b"CREATE TABLE IF NOT EXISTS a (x int);\0\nCREATE TABLE IF NOT EXISTS after_nul (x int);\n",
        )],
        args: &["migrate"],
        exit: 2,
        says: "migrations/2_nul.up.sql:1: holds a NUL byte",
        never: Some("invalid message format"),
        history: History::Unchanged,
    },
    Row {
        input: "a NUL byte in a down script",
        engines: &[Sqlite, Postgres],
        steps: &[
            PENDING,
            Write("migrations/2_add_notes.down.sql", b"DROP TABLE notes;\n\0"),
        ],
        args: &["migrate"],
        exit: 2,
        says: "migrations/2_add_notes.down.sql:2: holds a NUL byte",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a NUL byte in a schema file",
        engines: &[Sqlite, Postgres],
        steps: &[Write(
            "schema.sql",
            b"CREATE TABLE accounts (id INTEGER PRIMARY KEY);\n\0\nCREATE TABLE after_nul (x int);\n",
        )],
        args: &["push", "--dry-run", "--schema", "schema.sql"],
        exit: 2,
        says: "schema.sql:2: holds a NUL byte",
        never: Some("invalid message format"),
        history: History::Unchanged,
    },
    Row {
        input: "a schema file that attaches a database file",
        engines: &[Sqlite],
        steps: &[Write(
            "schema.sql",
            b"CREATE TABLE accounts (id INTEGER PRIMARY KEY);\nATTACH DATABASE 'app.db' AS real;\nDELETE FROM real.accounts;\n",
        )],
        args: &["push", "--dry-run", "--schema", "schema.sql"],
        exit: 2,
        says: "schema.sql:2: `ATTACH DATABASE 'app.db' AS real` cannot be in a schema file",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a schema file that drops a database",
        engines: &[Postgres],
        steps: &[Write(
            "schema.sql",
            b"CREATE TABLE accounts (id int PRIMARY KEY);\nDROP DATABASE godwit_bad_input_victim;\n",
        )],
        args: &["push", "--dry-run", "--schema", "schema.sql"],
        exit: 2,
        says: "schema.sql:2: `DROP DATABASE godwit_bad_input_victim` cannot be in a schema file",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a schema file that commits the transaction it runs in",
        engines: &[Sqlite, Postgres],
        steps: &[Write(
            "schema.sql",
            b"CREATE TABLE accounts (id INTEGER PRIMARY KEY);\nCOMMIT;\nCREATE TABLE after_commit (x int);\n",
        )],
        args: &["generate", "--schema", "schema.sql", "add_after_commit"],
        exit: 2,
        says: "schema.sql:2: `COMMIT` cannot be in a schema file",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a --lock-timeout past what the clock can add",
        engines: &[Sqlite],
        steps: &[PENDING],
        args: &["migrate", "--lock-timeout", "18446744073709551615s"],
        exit: 2,
        says: "'18446744073709551615s' for '--lock-timeout <DURATION>': longer than the longest lock wait godwit accepts, 7days",
        never: Some("panicked"),
        history: History::Unchanged,
    },
    Row {
        input: "a lock_timeout in godwit.toml past what the clock can add",
        engines: &[Sqlite],
        steps: &[PENDING, Write("godwit.toml", b"lock_timeout = \"500000000000y\"\n")],
        args: &["migrate"],
        exit: 2,
        says: "godwit.toml:1:16: lock_timeout \"500000000000y\" is longer than the longest lock wait godwit accepts, 7days",
        never: Some("panicked"),
        history: History::Unchanged,
    },
    Row {
        input: "a database file the user may not write",
        engines: &[Sqlite],
        steps: &[PENDING, ReadOnly("test.db")],
        args: &["migrate"],
        exit: 1,
        says: "attempt to write a readonly database: test.db is read-only to this user, or on a read-only file system; give this user write permission on test.db",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a database in a folder the user may not write",
        engines: &[Sqlite],
        steps: &[PENDING, Writable("test.db"), ReadOnly(".")],
        args: &["migrate"],
        exit: 1,
        says: "is read-only to this user, and SQLite must create the journal of test.db in it to write; give this user write permission on",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a SQLite URL naming a directory",
        engines: &[Sqlite],
        steps: &[],
        args: &["--url", "sqlite:migrations", "migrate"],
        exit: 2,
        says: "sqlite:migrations (from --url) names the directory migrations, not a SQLite database file",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a PostgreSQL URL without host or database",
        engines: &[Sqlite],
        steps: &[PENDING],
        args: &["--url", "postgres://", "migrate"],
        exit: 2,
        says: "the URL postgres:// is not valid: it is incomplete: it names no host and no database",
        never: Some("pg_dump"),
        history: History::Unchanged,
    },
    Row {
        input: "a malformed URL on a side of diff",
        engines: &[Sqlite],
        steps: &[],
        args: &[
            "diff",
            "--from",
            "migrations:migrations",
            "--to",
            "postgres:/127.0.0.1:5432/app",
        ],
        exit: 2,
        says: "`postgres:/127.0.0.1:5432/app` names no server (`//` must follow the scheme); write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
        never: Some("no database URL"),
        history: History::Unchanged,
    },
    Row {
        input: "malformed SQL in a migration",
        engines: &[Sqlite, Postgres],
        steps: &[Write(
            "migrations/2_typo.up.sql",
            b"CREATE TABLEE typo (id int);\n",
        )],
        args: &["migrate"],
        exit: 1,
        says: "migration 2 (typo) failed in migrations/2_typo.up.sql",
        never: None,
        history: History::RecordsFailure,
    },
    Row {
        input: "an unknown directive in a migration",
        engines: &[Sqlite],
        steps: &[Write(
            "migrations/2_x.up.sql",
            b"-- godwit:no-transacton\nCREATE TABLE x (id int);\n",
        )],
        args: &["migrate"],
        exit: 2,
        says: "migrations/2_x.up.sql:1: unknown directive `godwit:no-transacton`",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "an unknown key in godwit.toml",
        engines: &[Sqlite],
        steps: &[PENDING, Write("godwit.toml", b"urll = \"sqlite:test.db\"\n")],
        args: &["migrate"],
        exit: 2,
        says: "godwit.toml:1:1: unknown field `urll`",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "an unreachable PostgreSQL server",
        engines: &[Postgres],
        steps: &[PENDING],
        args: &["--url", "postgres://godwit@127.0.0.1:1/app", "migrate"],
        exit: 1,
        says: "cannot reach 127.0.0.1:1",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a SQLite file in a folder that does not exist",
        engines: &[Sqlite],
        steps: &[PENDING],
        args: &["--url", "sqlite:no/such/dir/app.db", "migrate"],
        exit: 1,
        says: "check that the directory no/such/dir exists",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a migrations folder that does not exist",
        engines: &[Sqlite],
        steps: &[Remove("migrations")],
        args: &["migrate"],
        exit: 2,
        says: "migrations directory migrations does not exist",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "an applied migration's file missing, for check",
        engines: &[Sqlite, Postgres],
        steps: &[Remove(APPLIED)],
        args: &["check"],
        exit: 1,
        says: "migration 1 (create_accounts) is applied but its file is missing",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "a down script without its up script",
        engines: &[Sqlite],
        steps: &[Write("migrations/3_orphan.down.sql", b"DROP TABLE x;\n")],
        args: &["migrate"],
        exit: 2,
        says: "3_orphan.down.sql has no matching .up.sql file",
        never: None,
        history: History::Unchanged,
    },
    Row {
        input: "an applied migration edited",
        engines: &[Sqlite, Postgres],
        steps: &[
            PENDING,
            Write(APPLIED, b"CREATE TABLE accounts (id INTEGER PRIMARY KEY);\n"),
        ],
        args: &["migrate"],
        exit: 3,
        says: "migration 1 (create_accounts) was applied with checksum",
        never: None,
        history: History::Unchanged,
    },
];

#[test]
fn bad_input_on_sqlite() {
    check_all(Sqlite);
}

#[test]
fn bad_input_on_postgres() {
    check_all(Postgres);
}

/// Check every row of `engine`, reporting all that fail.
fn check_all(engine: Engine) {
    let failures: Vec<String> = ROWS
        .iter()
        .filter(|row| row.engines.contains(&engine))
        .filter_map(|row| check(row, engine).err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// A project whose database has migration 1 applied, and the URL of that database.
enum Setup {
    Sqlite(Project),
    Postgres(PgProject),
}

impl Setup {
    fn new(engine: Engine) -> Setup {
        let setup = match engine {
            Sqlite => Setup::Sqlite(Project::new()),
            Postgres => Setup::Postgres(PgProject::new()),
        };
        setup
            .project()
            .migration(1, "create_accounts", ACCOUNTS, None);
        assert_code(&setup.command(&["migrate"]).output().unwrap(), 0);
        setup
    }

    fn project(&self) -> &Project {
        match self {
            Setup::Sqlite(project) => project,
            Setup::Postgres(pg) => &pg.project,
        }
    }

    /// The database's URL, as given to godwit (relative to the project) and as the test
    /// opens it.
    fn urls(&self) -> (String, String) {
        match self {
            Setup::Sqlite(project) => (
                "sqlite:test.db".into(),
                format!("sqlite:{}", project.db().display()),
            ),
            Setup::Postgres(pg) => (pg.db.url.clone(), pg.db.url.clone()),
        }
    }

    /// `godwit` with `--url` of the database first, unless `args` name their own.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let (url, _) = self.urls();
        let mut all = Vec::new();
        if !args.contains(&"--url") {
            all.extend(["--url", url.as_str()]);
        }
        all.extend_from_slice(args);
        self.project().std_command(&all)
    }

    /// What the run must not change: the database's tables, history and rows, and every
    /// file of the project (a SQLite database by presence only: taking the lock writes to it).
    fn snapshot(&self) -> Snapshot {
        let (_, url) = self.urls();
        let catalog = match self {
            Setup::Sqlite(_) => "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
            Setup::Postgres(_) => {
                "SELECT table_name, column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = 'public' ORDER BY 1, 2"
            }
        };
        Snapshot {
            catalog: rows(&url, catalog),
            history: rows(
                &url,
                "SELECT version, name, checksum, status FROM godwit_migrations ORDER BY version",
            ),
            accounts: rows(&url, "SELECT id, owner, balance FROM accounts ORDER BY id"),
            files: files(self.project().path()),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    catalog: Vec<Vec<String>>,
    history: Vec<Vec<String>>,
    accounts: Vec<Vec<String>>,
    files: BTreeMap<PathBuf, Option<Vec<u8>>>,
}

/// Every file under `root` with its bytes; SQLite's database and journal files by name only.
fn files(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.strip_prefix(root).unwrap().to_path_buf();
            let database = name.to_string_lossy().starts_with("test.db");
            let bytes = (!database).then(|| std::fs::read(&path).unwrap());
            found.insert(name, bytes);
        }
    }
    found
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Run `row` on a new project of `engine`; `Err` says what went wrong.
fn check(row: &Row, engine: Engine) -> Result<(), String> {
    let setup = Setup::new(engine);
    let root = setup.project().path();
    let mut read_only = false;
    for step in row.steps {
        match step {
            Write(path, bytes) => std::fs::write(root.join(path), bytes).unwrap(),
            Remove(path) if root.join(path).is_dir() => {
                std::fs::remove_dir_all(root.join(path)).unwrap();
            }
            Remove(path) => std::fs::remove_file(root.join(path)).unwrap(),
            ReadOnly(path) => {
                read_only = true;
                let path = root.join(path);
                set_mode(&path, if path.is_dir() { 0o555 } else { 0o444 });
            }
            Writable(path) => set_mode(&root.join(path), 0o666),
        }
    }
    let before = setup.snapshot();

    let mut command = setup.command(row.args);
    let as_root = std::fs::metadata(root).unwrap().uid() == 0;
    if read_only && as_root {
        // `nobody` must reach the project to be refused by its mode bits alone.
        let mode = std::fs::metadata(root).unwrap().mode() & 0o777;
        set_mode(root, mode | 0o055);
        command.uid(65534).gid(65534);
    }
    let output = command.output().unwrap();
    if read_only {
        set_mode(root, 0o755);
        if matches!(setup, Setup::Sqlite(_)) {
            set_mode(&setup.project().db(), 0o644);
        }
    }
    let after = setup.snapshot();

    let said = stderr(&output);
    let mut problems = Vec::new();
    if output.status.code() != Some(row.exit) {
        problems.push(format!(
            "exit code {:?}, expected {}",
            output.status.code(),
            row.exit
        ));
    }
    if !said.contains(row.says) {
        problems.push(format!("stderr does not say {:?}", row.says));
    }
    if let Some(never) = row.never.filter(|never| said.contains(never)) {
        problems.push(format!("stderr says {never:?}"));
    }
    let changed = match row.history {
        History::Unchanged => after != before,
        History::RecordsFailure => {
            let failed = after.history.last().map(|row| row[3].as_str());
            after.history.len() != before.history.len() + 1
                || after.history[..before.history.len()] != before.history[..]
                || failed != Some("failed")
                || (&after.catalog, &after.accounts, &after.files)
                    != (&before.catalog, &before.accounts, &before.files)
        }
    };
    if changed {
        problems.push(format!(
            "it changed\n  before: {before:?}\n  after:  {after:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} on {engine:?} (godwit {}): {}\n  stderr: {said}",
            row.input,
            row.args.join(" "),
            problems.join("; ")
        ))
    }
}
