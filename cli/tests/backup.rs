//! `migrate --backup` and `restore` end to end: SQLite files in temporary directories, and a
//! fresh PostgreSQL database per test with the real pg_dump and pg_restore.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

mod common;

use std::path::{Path, PathBuf};

use common::{
    PgProject, Project, assert_code, assert_fails, json, pg_rows, sqlite_exec, sqlite_rows, stderr,
    stdout,
};
use godwit_sqlite::{SqliteOptions, SqliteStore};
use godwit_tests::PgDatabase;

const ACCOUNTS: &str =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
INSERT INTO accounts (id, owner, balance) VALUES (1, 'ada', 100), (2, 'grace', 250), (3, 'edsger', 75);
";

/// A migration that loses data: one row deleted, the others changed.
// The whole-table UPDATE is the point: the lint would refuse it, so it is allowed in place.
const WIPE: &str = "DELETE FROM accounts WHERE owner = 'grace';
-- godwit:allow update-without-where
UPDATE accounts SET balance = 0;
";

fn accounts(path: &Path) -> Vec<Vec<String>> {
    sqlite_rows(path, "SELECT id, owner, balance FROM accounts ORDER BY id")
}

/// The `backup` column of each history row, by version.
fn recorded_backups(path: &Path) -> Vec<Vec<String>> {
    sqlite_rows(
        path,
        "SELECT version, backup FROM godwit_migrations ORDER BY version",
    )
}

/// The files in `dir` whose names end with `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

/// A project whose database holds three accounts (migration 1), with migration 2, which wipes
/// them, pending.
fn accounts_then_wipe() -> Project {
    let project = Project::new();
    project.migration(1, "create_accounts", ACCOUNTS, None);
    assert_code(&project.run(&["migrate"]), 0);
    project.migration(2, "wipe_accounts", WIPE, None);
    project
}

#[test]
fn a_sqlite_backup_restores_the_rows_a_migration_changed() {
    let project = accounts_then_wipe();
    let before = accounts(&project.db());

    let output = project.run(&["migrate", "--backup"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|line| line.starts_with("backed up to "))
        .unwrap_or_else(|| panic!("no backup line in:\n{text}"));
    let path = PathBuf::from(
        line.trim_start_matches("backed up to ")
            .rsplit_once(" (")
            .unwrap()
            .0,
    );
    // Beside the database, named after it, and taken before the migration ran.
    assert!(path.is_absolute(), "{}", path.display());
    assert_eq!(
        path.parent().unwrap(),
        project.path().canonicalize().unwrap()
    );
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("test.db.") && name.ends_with("Z.backup"),
        "{name}"
    );
    let backup_line = text.find("backed up to").unwrap();
    assert!(backup_line < text.find("applying 2").unwrap(), "{text}");
    assert_eq!(accounts(&path), before);
    assert_ne!(accounts(&project.db()), before);
    assert_eq!(
        recorded_backups(&project.db()),
        [
            vec!["1".to_string(), "NULL".to_string()],
            vec!["2".to_string(), path.display().to_string()]
        ]
    );
    // The copy does not carry the lock of the run that took it.
    assert_eq!(
        sqlite_rows(&path, "SELECT count(*) FROM godwit_migrations_lock"),
        [["0"]]
    );

    let output = project.run(&["restore", "--yes", path.to_str().unwrap()]);
    assert_code(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("restored test.db from {}\n", path.display())
    );
    assert_eq!(accounts(&project.db()), before);
    // The history came back with the rows: migration 2 is pending again and runs cleanly.
    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("applying 2 wipe_accounts ... ok"));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn backup_dir_and_json_output() {
    let project = accounts_then_wipe();
    let output = project.run(&["--format", "json", "migrate", "--backup-dir", "backups/db"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["applied"][0]["version"], 2);
    let path = PathBuf::from(value["backup"]["path"].as_str().unwrap());
    assert_eq!(
        path.parent().unwrap(),
        project.path().join("backups/db").canonicalize().unwrap()
    );
    assert_eq!(
        value["backup"]["bytes"].as_u64().unwrap(),
        std::fs::metadata(&path).unwrap().len()
    );
    assert!(files_ending(project.path(), ".backup").is_empty());
    assert_eq!(
        recorded_backups(&project.db())[1][1],
        path.display().to_string()
    );
}

/// The permission bits of `path` (Unix).
#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

// A backup holds every row: whoever may not read the database may not read its copy.
#[cfg(unix)]
#[test]
fn a_sqlite_backup_is_as_private_as_its_database() {
    let project = accounts_then_wipe();
    set_mode(&project.db(), 0o600);
    assert_eq!(mode(&backed_up(&project)), 0o600);

    // The bits are the database's exactly, also those the umask would take away, and the
    // folders godwit creates for backups are its owner's alone.
    set_mode(&project.db(), 0o666);
    project.migration(3, "more", "SELECT 1;", None);
    let inside = backed_up_with(&project, &["--backup-dir", "backups/sqlite"]);
    assert_eq!(mode(&inside), 0o666);
    assert_eq!(mode(&project.path().join("backups")), 0o700);
    assert_eq!(mode(&project.path().join("backups/sqlite")), 0o700);
}

// The copy fails half-way when the backup's -shm file cannot grow past the file size limit
// (RLIMIT_FSIZE, set by `ulimit -f` in 512-byte blocks, with SIGXFSZ ignored so the write
// fails instead of killing godwit): the database is small enough to be copied (1 KiB pages),
// the 32 KiB -shm SQLite needs to read a WAL copy is not. A reader kept open on the database
// keeps its own -shm in place, so only the copy's hits the limit.
#[cfg(unix)]
#[test]
fn a_failed_sqlite_backup_leaves_nothing_behind() {
    let project = Project::new();
    sqlite_exec(
        &project.db(),
        "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;",
    );
    project.migration(1, "create_accounts", ACCOUNTS, None);
    assert_code(&project.run(&["migrate"]), 0);
    project.migration(2, "wipe_accounts", WIPE, None);
    let small = std::fs::metadata(project.db()).unwrap().len();
    assert!(small < 16 * 1024, "the database has {small} bytes");
    let reader = SqliteStore::open(&project.db(), &SqliteOptions::default()).unwrap();
    let before = accounts(&project.db());

    let godwit = project.std_command(&["migrate", "--backup-dir", "backups"]);
    let mut limited = std::process::Command::new("sh");
    limited
        .args(["-c", "trap '' XFSZ; ulimit -f 32; exec \"$0\" \"$@\""])
        .arg(godwit.get_program())
        .args(godwit.get_args())
        .current_dir(project.path());
    for (key, value) in godwit.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    let output = limited.output().unwrap();
    assert_fails(&output, 1, "no migration ran: the backup of");
    let left = files_ending(&project.path().join("backups"), "");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(accounts(&project.db()), before);
    drop(reader);
}

#[test]
fn the_config_file_turns_backups_on_and_no_backup_turns_them_off() {
    let project = accounts_then_wipe();
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nbackup = true\nbackup_dir = \"saved\"\n",
    );
    let output = project.run(&["migrate", "--dry-run"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("a backup would be taken first, into "),
        "{}",
        stdout(&output)
    );
    assert!(
        !project.path().join("saved").exists(),
        "a dry run writes no backup"
    );
    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("backed up to "),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        files_ending(&project.path().join("saved"), ".backup").len(),
        1
    );

    project.migration(
        3,
        "more",
        "INSERT INTO accounts (id, owner, balance) VALUES (4, 'barbara', 5);",
        None,
    );
    let output = project.run(&["migrate", "--no-backup"]);
    assert_code(&output, 0);
    assert!(
        !stdout(&output).contains("backed up"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        files_ending(&project.path().join("saved"), ".backup").len(),
        1
    );
    assert_eq!(recorded_backups(&project.db())[2][1], "NULL");

    let output = project.run(&["migrate", "--no-backup", "--backup"]);
    assert_code(&output, 2);
}

#[test]
fn nothing_pending_means_no_backup() {
    let project = Project::new();
    project.migration(1, "create_accounts", ACCOUNTS, None);
    assert_code(&project.run(&["migrate"]), 0);
    let output = project.run(&["migrate", "--backup"]);
    assert_code(&output, 0);
    assert_eq!(
        stdout(&output),
        "database is up to date; no backup taken, as nothing was pending\n"
    );
    let output = project.run(&["--format", "json", "migrate", "--backup"]);
    assert_code(&output, 0);
    assert!(json(&output)["backup"].is_null());
    assert!(files_ending(project.path(), ".backup").is_empty());
}

/// A backup of the project's database as it is now, made by a `migrate --backup` run.
fn backed_up(project: &Project) -> PathBuf {
    backed_up_with(project, &["--backup"])
}

/// The backup a `migrate` run with `backup_args` made.
fn backed_up_with(project: &Project, backup_args: &[&str]) -> PathBuf {
    let mut args = vec!["--format", "json", "migrate"];
    args.extend_from_slice(backup_args);
    let output = project.run(&args);
    assert_code(&output, 0);
    PathBuf::from(json(&output)["backup"]["path"].as_str().unwrap())
}

#[test]
fn restore_asks_and_refuses_without_a_terminal() {
    let project = accounts_then_wipe();
    let backup = backed_up(&project);
    let wiped = std::fs::read(project.db()).unwrap();
    let output = project.run(&["restore", backup.to_str().unwrap()]);
    assert_fails(&output, 3, "nothing was changed; run again with --yes");
    assert_eq!(std::fs::read(project.db()).unwrap(), wiped);
}

#[test]
fn restore_refuses_while_another_connection_holds_a_lock() {
    let project = accounts_then_wipe();
    let backup = backed_up(&project);
    let wiped = accounts(&project.db());
    let other = SqliteStore::open(&project.db(), &SqliteOptions::default()).unwrap();
    other
        .connection()
        .execute_batch("BEGIN IMMEDIATE; UPDATE accounts SET balance = 1;")
        .unwrap();

    let output = project.run(&["restore", "--yes", backup.to_str().unwrap()]);
    assert_fails(
        &output,
        4,
        "is in use by another connection, which holds a lock on it",
    );
    other.connection().execute_batch("ROLLBACK").unwrap();
    assert_eq!(accounts(&project.db()), wiped);

    // Once the other connection is done, the same restore goes through.
    drop(other);
    let output = project.run(&["restore", "--yes", backup.to_str().unwrap()]);
    assert_code(&output, 0);
    assert_eq!(accounts(&project.db()).len(), 3);
}

/// Open the project's database and start a read transaction on it, which stays open until the
/// returned store is dropped.
fn reading(project: &Project) -> SqliteStore {
    let reader = SqliteStore::open(&project.db(), &SqliteOptions::default()).unwrap();
    reader
        .connection()
        .execute_batch("BEGIN; SELECT count(*) FROM accounts;")
        .unwrap();
    reader
}

// In WAL mode readers and a writer do not block each other, so the lock probe of a rollback
// journal database sees no reader; the restore must find them all the same.
#[test]
fn restore_refuses_while_a_reader_holds_a_wal_database() {
    let project = accounts_then_wipe();
    let before = accounts(&project.db());
    sqlite_exec(&project.db(), "PRAGMA journal_mode = WAL");
    let backup = backed_up(&project);
    let restore = || project.run(&["restore", "--yes", backup.to_str().unwrap()]);
    let refused = || {
        let rows = accounts(&project.db());
        assert_fails(
            &restore(),
            4,
            "is in use by another connection, which holds a lock on it",
        );
        assert_eq!(accounts(&project.db()), rows);
    };

    // The last connection to close emptied the WAL, so this reader reads the database file.
    let reader = reading(&project);
    refused();
    // A write puts frames in the WAL, and a reader that starts then reads them.
    sqlite_exec(&project.db(), "UPDATE accounts SET balance = 5");
    let wal_reader = reading(&project);
    refused();
    drop(reader);
    refused();

    // Once the readers are gone the restore goes through. The last to close checkpoints and
    // deletes the WAL; putting its frames back, as a crashed process leaves them, checks that
    // none of their pages hides a restored one.
    let wal = PathBuf::from(format!("{}-wal", project.db().display()));
    let frames = std::fs::read(&wal).unwrap();
    assert!(frames.len() > 32, "no frame follows the WAL header");
    drop(wal_reader);
    std::fs::write(&wal, frames).unwrap();
    assert_code(&restore(), 0);
    assert_eq!(accounts(&project.db()), before);
    // The backup of a WAL database is in WAL mode too; reading it left its -wal and -shm
    // files behind (a read-only connection creates them and cannot remove them).
    for suffix in ["-wal", "-shm"] {
        let left = PathBuf::from(format!("{}{suffix}", backup.display()));
        assert!(!left.exists(), "{} was left behind", left.display());
    }
    assert_eq!(accounts(&backup), before);
    assert_eq!(sqlite_rows(&project.db(), "PRAGMA journal_mode"), [["wal"]]);
}

#[test]
fn restore_refuses_what_is_not_a_sound_sqlite_database() {
    let project = accounts_then_wipe();
    let backup = backed_up(&project);
    let wiped = std::fs::read(project.db()).unwrap();

    project.write("notes.txt", "these are not the rows you are looking for\n");
    let output = project.run(&["restore", "--yes", "notes.txt"]);
    assert_fails(
        &output,
        1,
        "notes.txt is not a usable SQLite backup: it does not start with the SQLite database header; nothing was changed",
    );

    // A SQLite file whose pages were damaged after the header fails PRAGMA quick_check.
    let mut damaged = std::fs::read(&backup).unwrap();
    let page_size = usize::from(u16::from_be_bytes([damaged[16], damaged[17]]));
    for byte in &mut damaged[page_size..2 * page_size] {
        *byte = 0xA5;
    }
    std::fs::write(project.path().join("damaged.backup"), damaged).unwrap();
    let output = project.run(&["restore", "--yes", "damaged.backup"]);
    assert_fails(&output, 1, "damaged.backup is not a usable SQLite backup");

    let output = project.run(&["restore", "--yes", "missing.backup"]);
    assert_fails(&output, 1, "cannot read missing.backup");
    assert_eq!(std::fs::read(project.db()).unwrap(), wiped);
}

#[test]
fn restore_into_a_missing_database_file_creates_it() {
    let project = accounts_then_wipe();
    let backup = backed_up(&project);
    std::fs::remove_file(project.db()).unwrap();
    let output = project.run(&[
        "--format",
        "json",
        "restore",
        "--yes",
        backup.to_str().unwrap(),
    ]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["restored"], true);
    assert_eq!(value["backup"], backup.to_str().unwrap());
    assert_eq!(accounts(&project.db()).len(), 3);
}

/// The accounts, in order, on a PostgreSQL database.
const PG_ACCOUNTS: &str = "SELECT id, owner, balance FROM accounts ORDER BY id";

/// A project on a fresh PostgreSQL database with migration 1, which creates the accounts.
fn pg_accounts() -> PgProject {
    let pg = PgProject::new();
    pg.project.migration(1, "create_accounts", ACCOUNTS, None);
    pg
}

/// Run `pg_restore` with `args` on `dump`, which must succeed.
fn pg_restore(args: &[&str], dump: &Path) {
    let output = std::process::Command::new("pg_restore")
        .args(args)
        .arg(dump)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pg_restore {} refused {}: {}",
        args.join(" "),
        dump.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn postgres_backups_are_dumps_pg_restore_reads() {
    let pg = pg_accounts();
    let output = pg.run(&[
        "--format",
        "json",
        "migrate",
        "--backup",
        "--backup-dir",
        "dumps",
    ]);
    assert_code(&output, 0);
    let path = PathBuf::from(json(&output)["backup"]["path"].as_str().unwrap());
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("{}.", pg.db.name)) && name.ends_with("Z.dump"),
        "{name}"
    );
    assert_eq!(
        path.parent().unwrap(),
        pg.project.path().join("dumps").canonicalize().unwrap()
    );
    pg_restore(&["--list"], &path);
    // A dump holds every row, so only its owner may read it or list the folder made for it.
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&pg.project.path().join("dumps")), 0o700);
    }
    assert_eq!(
        pg_rows(&pg.db.url, "SELECT version, backup FROM godwit_migrations"),
        [vec!["1".to_string(), path.display().to_string()]]
    );
    let before = pg.rows(PG_ACCOUNTS);

    // Human output names the dump too.
    pg.project.migration(2, "wipe_accounts", WIPE, None);
    let output = pg.run(&["migrate", "--backup", "--backup-dir", "dumps"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("backed up to "),
        "{}",
        stdout(&output)
    );
    let dumps = files_ending(&pg.project.path().join("dumps"), ".dump");
    assert_eq!(dumps.len(), 2);
    assert_ne!(pg.rows(PG_ACCOUNTS), before);

    // The dump taken before migration 2 gives back, through pg_restore into a database of
    // its own, the rows that migration changed, and the history as it was.
    let taken_before_wipe = dumps
        .iter()
        .find(|dump| dump.file_name() != path.file_name())
        .unwrap();
    let fresh = PgDatabase::create();
    pg_restore(
        &[
            "--clean",
            "--if-exists",
            "--exit-on-error",
            "--dbname",
            &fresh.url,
        ],
        taken_before_wipe,
    );
    assert_eq!(pg_rows(&fresh.url, PG_ACCOUNTS), before);
    assert_eq!(
        pg_rows(&fresh.url, "SELECT version FROM godwit_migrations"),
        [["1"]]
    );
}

#[test]
fn a_failed_dump_applies_nothing() {
    let pg = pg_accounts();
    let applied_nothing = |output: &std::process::Output, cause: &[&str]| {
        assert_code(output, 1);
        let error = stderr(output);
        for expected in ["no migration ran: the backup of", "--no-backup"]
            .iter()
            .chain(cause)
        {
            assert!(error.contains(expected), "{expected:?} not in:\n{error}");
        }
        assert!(files_ending(pg.project.path(), ".dump").is_empty());
        assert_eq!(
            pg_rows(
                &pg.db.url,
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'accounts'"
            ),
            [["0"]]
        );
        assert_eq!(
            pg_rows(&pg.db.url, "SELECT count(*) FROM godwit_migrations"),
            [["0"]]
        );
    };

    let empty = tempfile::tempdir().unwrap();
    let output = pg
        .project
        .godwit(&["--url", &pg.db.url, "migrate", "--backup"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    applied_nothing(
        &output,
        &[
            "pg_dump is not on PATH",
            "apt-get install postgresql-client",
        ],
    );

    // sqlx accepts this parameter and libpq does not, so the real pg_dump fails on the URL,
    // and its own message is the error's cause.
    let separator = if pg.db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}statement-cache-capacity=10", pg.db.url);
    let output = pg.project.run(&["--url", &url, "migrate", "--backup"]);
    applied_nothing(
        &output,
        &[
            "pg_dump failed (exit status: 1): pg_dump: error: invalid URI query parameter: \"statement-cache-capacity\"",
        ],
    );
}

#[test]
fn restore_on_postgres_prints_the_command_and_changes_nothing() {
    let project = Project::empty();
    let url = "postgres://app:hunter2@db.example:5432/shop";
    let output = project.run(&["--url", url, "restore", "shop.20260101T120000.000Z.dump"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains(
            "pg_restore --clean --if-exists --dbname 'postgres://app:***@db.example:5432/shop' shop.20260101T120000.000Z.dump"
        ),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    let output = project.run(&["--url", url, "--format", "json", "restore", "shop.dump"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["restored"], false);
    assert!(
        value["command"]
            .as_str()
            .unwrap()
            .starts_with("pg_restore ")
    );
    for output in [stdout(&output), stderr(&output)] {
        assert!(!output.contains("hunter2"), "{output}");
    }
}

#[cfg(feature = "mysql")]
#[test]
fn restore_on_mysql_prints_the_command_and_changes_nothing() {
    let project = Project::empty();
    let url = "mysql://app:hunter2@db.example:3306/shop";
    let output = project.run(&["--url", url, "restore", "shop.20260101T120000.000Z.sql"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains(
            "mariadb --user=app --host=db.example --port=3306 --protocol=TCP --password shop < shop.20260101T120000.000Z.sql"
        ),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    let output = project.run(&["--url", url, "--format", "json", "restore", "shop.sql"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["restored"], false);
    assert!(value["command"].as_str().unwrap().starts_with("mariadb "));
    for output in [stdout(&output), stderr(&output)] {
        assert!(!output.contains("hunter2"), "{output}");
    }
}
