//! `godwit push` keeps data. Tables holding rows, with child tables whose foreign keys cascade
//! or set NULL on delete, go through every kind of SQLite table rebuild with every row kept; a
//! rebuild that fails changes nothing; a constraint the rows already satisfy is applied without
//! consent; and PostgreSQL's scratch databases are made on `dev_url` and never stay behind.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

mod common;

use std::process::{Output, Stdio};

use common::{PgProject, Project, assert_code, assert_fails, assert_prints, json, pg_rows};
use godwit_core::Store;
use godwit_tests::{PgDatabase, pg_admin_url, with_database};
use serde_json::Value as Json;

/// A project and the database its commands reach through `--url`: a SQLite file in the
/// project, or a fresh PostgreSQL database.
struct Target {
    project: Project,
    url: String,
    _pg: Option<PgDatabase>,
}

impl Target {
    fn sqlite() -> Self {
        let project = Project::new();
        let url = format!("sqlite://{}", project.db().display());
        Target {
            project,
            url,
            _pg: None,
        }
    }

    fn postgres() -> Self {
        let PgProject { project, db } = PgProject::new();
        Target {
            project,
            url: db.url.clone(),
            _pg: Some(db),
        }
    }

    /// `godwit --url URL args`, with no `GODWIT_DEV_URL` from the environment the tests run in.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--url", self.url.as_str()];
        all.extend_from_slice(args);
        let mut command = self.project.godwit(&all);
        command.env_remove("GODWIT_DEV_URL");
        command.output().unwrap()
    }

    /// Write `schema` to schema.sql and push it with `flags`.
    fn push(&self, schema: &str, flags: &[&str]) -> Output {
        self.project.write("schema.sql", schema);
        self.run(&[&["push"], flags].concat())
    }

    /// The dry run's JSON document for `schema`; the dry run exits with `code`, as the push
    /// would.
    fn plan(&self, schema: &str, code: i32) -> Json {
        self.project.write("schema.sql", schema);
        let output = self.run(&["--format", "json", "push", "--dry-run"]);
        assert_code(&output, code);
        json(&output)
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        common::rows(&self.url, sql)
    }

    fn exec(&self, sql: &str) {
        common::exec(&self.url, sql);
    }

    /// `schema` pushed again finds nothing to do.
    #[track_caller]
    fn assert_reached(&self, schema: &str) {
        assert_prints(&self.push(schema, &[]), 0, "no changes");
    }
}

/// The schema of an application that turns foreign keys on: a parent holding rows, a child
/// whose rows go with their parent and one whose rows forget it.
const FAMILY: &str = "PRAGMA foreign_keys = ON;
CREATE TABLE parent (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    label TEXT,
    score INTEGER,
    legacy TEXT UNIQUE
);
CREATE TABLE child_cascade (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,
    info TEXT
);
CREATE INDEX child_cascade_parent ON child_cascade (parent_id);
CREATE TABLE child_set_null (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES parent (id) ON DELETE SET NULL,
    info TEXT
);
";

/// Rows written as the application writes them, keys enforced. Parent 9 is deleted, so an
/// AUTOINCREMENT counter is ahead of the largest id, and child_cascade row 4 goes with it,
/// unless that child has no key, when the row stays behind pointing at nothing.
const FAMILY_ROWS: &str = "PRAGMA foreign_keys = ON;
INSERT INTO parent VALUES (1, 'a', 'shared', 10, 'x'), (2, 'b', 'shared', NULL, NULL),
    (7, 'c', 'own', 70, 'z'), (9, 'd', 'gone', 90, NULL);
INSERT INTO child_cascade VALUES (1, 1, 'c1'), (2, 2, 'c2'), (3, 7, 'c3'), (4, 9, 'c4');
INSERT INTO child_set_null VALUES (1, 1, 's1'), (2, 7, 's2'), (3, NULL, 's3');
DELETE FROM parent WHERE id = 9;";

/// An edit of [`FAMILY`]: the text to replace and its replacement.
type Edit = (&'static str, &'static str);

const NOT_NULL_LABEL: Edit = ("label TEXT,", "label TEXT NOT NULL,");
const STRICT: Edit = ("legacy TEXT UNIQUE\n)", "legacy TEXT UNIQUE\n) STRICT");
const WITHOUT_ROWID: Edit = (
    "legacy TEXT UNIQUE\n)",
    "legacy TEXT UNIQUE\n) WITHOUT ROWID",
);
const AUTOINCREMENT: Edit = (
    "id INTEGER PRIMARY KEY,\n    code",
    "id INTEGER PRIMARY KEY AUTOINCREMENT,\n    code",
);
const CHECK_SCORE: Edit = ("score INTEGER", "score INTEGER CHECK (score >= 0)");
const DROP_LEGACY: Edit = (",\n    legacy TEXT UNIQUE", "");
const NO_CASCADE_KEY: Edit = (
    "parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE",
    "parent_id INTEGER NOT NULL",
);
const NO_SET_NULL_KEY: Edit = (
    "parent_id INTEGER REFERENCES parent (id) ON DELETE SET NULL",
    "parent_id INTEGER",
);

/// [`FAMILY`] with `edits` made, each of which must find its text.
fn family(edits: &[Edit]) -> String {
    edits.iter().fold(FAMILY.to_string(), |schema, (from, to)| {
        assert!(schema.contains(from), "{from:?} not in:\n{schema}");
        schema.replace(from, to)
    })
}

/// A table's column names and its rows in id order, as text.
#[derive(Debug, PartialEq)]
struct Contents {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Contents {
    fn of(target: &Target, table: &str) -> Contents {
        Contents {
            columns: target
                .rows(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .into_iter()
                .map(|mut row| row.remove(0))
                .collect(),
            rows: target.rows(&format!("SELECT * FROM \"{table}\" ORDER BY id")),
        }
    }

    /// Leave `column` out, as a push that drops it should.
    fn drop_column(&mut self, column: &str) {
        let at = self.columns.iter().position(|c| c == column).unwrap();
        self.columns.remove(at);
        for row in &mut self.rows {
            row.remove(at);
        }
    }
}

/// Every row of the parent (named `parent`) and both children, and the AUTOINCREMENT
/// counters.
fn family_contents(target: &Target, parent: &str) -> Vec<Contents> {
    let mut contents: Vec<Contents> = [parent, "child_cascade", "child_set_null"]
        .iter()
        .map(|table| Contents::of(target, table))
        .collect();
    let counters = target
        .rows("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence' AND type = 'table'");
    if !counters.is_empty() {
        contents.push(Contents {
            columns: vec!["seq".into()],
            rows: target.rows("SELECT seq FROM sqlite_sequence ORDER BY seq"),
        });
    }
    contents
}

/// The whole SQLite catalog, to compare before and after.
fn catalog(target: &Target) -> Vec<Vec<String>> {
    target.rows("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
}

/// The rows breaking a foreign key.
fn key_violations(target: &Target) -> Vec<Vec<String>> {
    target.rows("SELECT * FROM pragma_foreign_key_check")
}

/// No table is left under a rebuild's temporary name.
#[track_caller]
fn assert_nothing_half_built(target: &Target) {
    assert_eq!(
        target.rows("SELECT name FROM sqlite_master WHERE name LIKE '%godwit_new%'"),
        Vec::<Vec<String>>::new()
    );
}

/// A push over [`FAMILY_ROWS`] on SQLite: the schema the rows are written under and the one
/// pushed over them, each as edits of [`FAMILY`], and the push's flags.
struct Change {
    kind: &'static str,
    before: &'static [Edit],
    after: &'static [Edit],
    flags: &'static [&'static str],
}

impl Change {
    const fn to(kind: &'static str, after: &'static [Edit]) -> Change {
        Change {
            kind,
            before: &[],
            after,
            flags: &[],
        }
    }

    /// This change, from [`FAMILY`] with `before` made.
    const fn from(self, before: &'static [Edit]) -> Change {
        Change { before, ..self }
    }

    /// This change, pushed with `flags`.
    const fn with(self, flags: &'static [&'static str]) -> Change {
        Change { flags, ..self }
    }

    /// A database pushed the schema before the change, holding [`FAMILY_ROWS`].
    fn prepare(&self) -> Target {
        let target = Target::sqlite();
        assert_code(&target.push(&family(self.before), &[]), 0);
        target.exec(FAMILY_ROWS);
        target
    }

    fn push(&self, target: &Target) -> Output {
        target.push(&family(self.after), self.flags)
    }
}

/// One kind of table rebuild and what it keeps.
struct Rebuild {
    change: Change,
    /// The table rebuilt, by its final name.
    rebuilt: &'static str,
    /// The parent's name after the push.
    parent: &'static str,
    /// The parent's columns the push drops.
    dropped: &'static [&'static str],
    /// The id the parent gives the next row inserted without one, where the case is about it.
    next_id: Option<i64>,
}

impl Rebuild {
    const fn of_parent(change: Change) -> Rebuild {
        Rebuild {
            change,
            rebuilt: "parent",
            parent: "parent",
            dropped: &[],
            next_id: None,
        }
    }
}

/// Each kind of rebuild (a change SQLite's `ALTER TABLE` cannot make; see
/// `dialect-sqlite/src/render.rs`, `needs_rebuild`) keeps every row of the parent and of both
/// children, every value and every rowid, keeps the AUTOINCREMENT counter, reaches the schema,
/// and leaves nothing half-built. The children's `ON DELETE` actions never fire, although
/// SQLite as godwit links it enforces foreign keys on every connection.
#[test]
fn every_kind_of_rebuild_keeps_every_row_of_a_parent_and_its_children() {
    let cases = [
        Rebuild::of_parent(Change::to("NOT NULL where no NULL is", &[NOT_NULL_LABEL])),
        Rebuild::of_parent(Change::to(
            "a column type",
            &[("score INTEGER", "score BIGINT")],
        )),
        Rebuild::of_parent(Change::to("a CHECK the rows satisfy", &[CHECK_SCORE])),
        Rebuild::of_parent(Change::to(
            "a UNIQUE the rows satisfy",
            &[("score INTEGER", "score INTEGER UNIQUE")],
        )),
        Rebuild::of_parent(Change::to(
            "a default",
            &[("score INTEGER", "score INTEGER DEFAULT 0")],
        )),
        Rebuild::of_parent(Change::to("STRICT on", &[STRICT])),
        Rebuild::of_parent(Change::to("WITHOUT ROWID on", &[WITHOUT_ROWID])),
        Rebuild::of_parent(Change::to("a STRICT table", &[STRICT, CHECK_SCORE]).from(&[STRICT])),
        Rebuild::of_parent(
            Change::to("a WITHOUT ROWID table", &[WITHOUT_ROWID, NOT_NULL_LABEL])
                .from(&[WITHOUT_ROWID]),
        ),
        Rebuild {
            next_id: Some(10),
            ..Rebuild::of_parent(
                Change::to("an AUTOINCREMENT table", &[AUTOINCREMENT, NOT_NULL_LABEL])
                    .from(&[AUTOINCREMENT]),
            )
        },
        Rebuild {
            rebuilt: "members",
            parent: "members",
            ..Rebuild::of_parent(Change::to(
                "the parent renamed and rebuilt",
                &[
                    (
                        "CREATE TABLE parent (",
                        "-- godwit:renamed-from parent\nCREATE TABLE members (",
                    ),
                    ("REFERENCES parent", "REFERENCES members"),
                    NOT_NULL_LABEL,
                ],
            ))
        },
        Rebuild {
            dropped: &["legacy"],
            ..Rebuild::of_parent(
                Change::to("a UNIQUE column dropped, by consent", &[DROP_LEGACY])
                    .with(&["--accept-data-loss"]),
            )
        },
        Rebuild {
            rebuilt: "child_set_null",
            ..Rebuild::of_parent(
                Change::to("a foreign key added to the child", &[]).from(&[NO_SET_NULL_KEY]),
            )
        },
        Rebuild {
            rebuilt: "child_cascade",
            ..Rebuild::of_parent(Change::to(
                "a foreign key dropped from the child",
                &[NO_CASCADE_KEY],
            ))
        },
    ];
    for case in cases {
        let kind = case.change.kind;
        let target = case.change.prepare();
        let mut expected = family_contents(&target, "parent");
        for column in case.dropped {
            expected[0].drop_column(column);
        }

        let output = case.change.push(&target);
        let rebuild = format!("CREATE TABLE \"_godwit_new_{}\"", case.rebuilt);
        assert_prints(&output, 0, &rebuild);
        assert_eq!(
            family_contents(&target, case.parent),
            expected,
            "rows changed by: {kind}"
        );
        assert_nothing_half_built(&target);
        assert_eq!(key_violations(&target), Vec::<Vec<String>>::new(), "{kind}");
        target.assert_reached(&family(case.change.after));
        if let Some(id) = case.next_id {
            target.exec(&format!(
                "INSERT INTO {} (code, label) VALUES ('next', 'next')",
                case.parent
            ));
            assert_eq!(
                target.rows(&format!(
                    "SELECT id FROM {} WHERE code = 'next'",
                    case.parent
                )),
                [[id.to_string()]],
                "{kind}"
            );
        }
    }
}

const CHECK_PARENT_7_BREAKS: Edit = ("score INTEGER", "score INTEGER CHECK (score < 50)");

/// A rebuild that the rows would make fail is refused before anything runs when godwit can
/// count those rows (exit 3, with the count), and otherwise fails (exit 1) with its
/// transaction rolled back. Either way the catalog, the parent and its children stay exactly
/// as they were: no table half-built, no row gone, no more rows breaking a key.
#[test]
fn a_failing_rebuild_leaves_the_tables_and_their_rows() {
    let consent = &["--accept-data-loss"][..];
    // (exit code, what the error says)
    let refused = |count: &'static str| (3, count);
    let failed = |error: &'static str| (1, error);
    let cases = [
        (
            Change::to("a CHECK parent 7 breaks", &[CHECK_PARENT_7_BREAKS]),
            refused("and 1 row breaks it"),
        ),
        (
            // Dropping a column needs consent; the rows that break the check are counted
            // apart, and consent does not let them through.
            Change::to(
                "the same with a column dropped, by consent",
                &[CHECK_PARENT_7_BREAKS, DROP_LEGACY],
            )
            .with(consent),
            refused("and 1 row would make it fail"),
        ),
        (
            Change::to(
                "UNIQUE over two equal labels",
                &[("label TEXT,", "label TEXT UNIQUE,")],
            ),
            refused("and 2 rows break it"),
        ),
        (
            Change::to(
                "a CHECK a child breaks",
                &[(
                    "info TEXT\n);\nCREATE INDEX",
                    "info TEXT CHECK (info <> 'c2')\n);\nCREATE INDEX",
                )],
            ),
            refused("and 1 row breaks it"),
        ),
        (
            Change::to("a foreign key the child row left behind breaks", &[])
                .from(&[NO_CASCADE_KEY]),
            failed("would leave more rows breaking a foreign key"),
        ),
    ];
    for (change, (code, error)) in cases {
        let target = change.prepare();
        let state = || {
            (
                catalog(&target),
                family_contents(&target, "parent"),
                key_violations(&target),
            )
        };
        let before = state();

        let output = change.push(&target);
        assert_fails(&output, code, error);
        assert_fails(
            &output,
            code,
            if code == 3 {
                "nothing was changed"
            } else {
                "its transaction was rolled back"
            },
        );
        // PRAGMA foreign_keys = OFF ran before the transaction, and was set back: nothing of
        // the change stays applied, and the message must not say otherwise.
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(!error.contains("stays applied"), "{error}");
        assert_eq!(state(), before, "{}", change.kind);
        assert_nothing_half_built(&target);
        target.assert_reached(&family(change.before));
    }
}

const ACCOUNTS: &str = "CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    email TEXT,
    nickname TEXT
);
";

/// The hazards of a dry run's JSON document.
fn hazards(plan: &Json) -> &[Json] {
    plan["hazards"].as_array().unwrap()
}

/// NOT NULL on a column without NULLs and a UNIQUE the values satisfy are applied without
/// consent and without a terminal; NOT NULL over NULLs is refused with exit 3, even with
/// consent, the plan naming how many rows hold them, and nothing changes.
fn constraints_the_rows_satisfy_need_no_consent(target: &Target) {
    assert_code(&target.push(ACCOUNTS, &[]), 0);
    target.exec(
        "INSERT INTO accounts VALUES (1, 'ada@example.com', NULL), (2, 'bob@example.com', NULL), \
         (3, 'cy@example.com', 'cy')",
    );
    let accounts = || target.rows("SELECT id, email, nickname FROM accounts ORDER BY id");
    let rows = accounts();

    let not_null = ACCOUNTS.replace("email TEXT,", "email TEXT NOT NULL,");
    let plan = target.plan(&not_null, 0);
    let hazard = &hazards(&plan)[0];
    assert_eq!(hazard["kind"], "add_constraint", "{plan}");
    assert_eq!(hazard["affected_rows"], 0, "{plan}");
    assert_eq!(hazard["needs_consent"], false, "{plan}");
    assert_prints(&target.push(&not_null, &[]), 0, "applied");
    assert_eq!(accounts(), rows);
    target.assert_reached(&not_null);

    let nulls = not_null.replace("nickname TEXT", "nickname TEXT NOT NULL");
    let output = target.push(&nulls, &[]);
    assert_prints(&output, 3, "NOT NULL");
    assert_prints(&output, 3, " (2 rows)");
    assert_fails(&output, 3, "nothing was changed");
    // Consent cannot help: the rows would break the constraint as it is added.
    let output = target.push(&nulls, &["--accept-data-loss"]);
    assert_fails(&output, 3, "and 2 rows break it; nothing was changed");
    let plan = target.plan(&nulls, 3);
    assert_eq!(hazards(&plan)[0]["affected_rows"], 2, "{plan}");
    assert_eq!(hazards(&plan)[0]["needs_consent"], true, "{plan}");
    assert_eq!(hazards(&plan)[0]["blocks"], true, "{plan}");
    assert_eq!(accounts(), rows);
    target.assert_reached(&not_null);

    let unique = not_null.replace("email TEXT NOT NULL,", "email TEXT NOT NULL UNIQUE,");
    let plan = target.plan(&unique, 0);
    assert!(
        hazards(&plan).iter().all(|h| h["needs_consent"] == false),
        "{plan}"
    );
    assert_code(&target.push(&unique, &[]), 0);
    assert_eq!(accounts(), rows);
    target.assert_reached(&unique);
}

#[test]
fn sqlite_constraints_the_rows_satisfy_need_no_consent() {
    constraints_the_rows_satisfy_need_no_consent(&Target::sqlite());
}

#[test]
fn postgres_constraints_the_rows_satisfy_need_no_consent() {
    constraints_the_rows_satisfy_need_no_consent(&Target::postgres());
}

/// A NOT NULL column without a default on a table with rows is refused before anything runs,
/// with the row count, whatever the consent; on an empty table it is added without a question.
fn a_not_null_column_without_a_default_is_refused_on_rows(target: &Target) {
    assert_code(&target.push(ACCOUNTS, &[]), 0);
    let with_plan = format!("{}CREATE TABLE plans (id INTEGER PRIMARY KEY);\n", ACCOUNTS);
    assert_code(&target.push(&with_plan, &[]), 0);
    target
        .exec("INSERT INTO accounts VALUES (1, 'a@example.com', NULL), (2, 'b@example.com', NULL)");
    let required = with_plan.replace(
        "id INTEGER PRIMARY KEY,\n    email",
        "id INTEGER PRIMARY KEY,\n    tier TEXT NOT NULL,\n    email",
    );
    let output = target.push(&required, &["--accept-data-loss"]);
    assert_fails(&output, 3, "without a default");
    assert_fails(&output, 3, "and 2 rows break it; nothing was changed");
    target.assert_reached(&with_plan);
    let plans = with_plan.replace(
        "CREATE TABLE plans (id INTEGER PRIMARY KEY)",
        "CREATE TABLE plans (id INTEGER PRIMARY KEY, tier TEXT NOT NULL)",
    );
    assert_prints(&target.push(&plans, &[]), 0, "applied");
    target.assert_reached(&plans);
}

#[test]
fn sqlite_a_not_null_column_without_a_default_is_refused_on_rows() {
    a_not_null_column_without_a_default_is_refused_on_rows(&Target::sqlite());
}

#[test]
fn postgres_a_not_null_column_without_a_default_is_refused_on_rows() {
    a_not_null_column_without_a_default_is_refused_on_rows(&Target::postgres());
}

/// Text becomes an enum without a question when every value is one of its labels, and is
/// refused with the count of the values that are not, even with consent.
#[test]
fn postgres_text_becomes_an_enum_by_its_values() {
    let target = Target::postgres();
    let text = "CREATE TABLE tickets (id int PRIMARY KEY, state text);\n";
    assert_code(&target.push(text, &[]), 0);
    target.exec("INSERT INTO tickets VALUES (1, 'open'), (2, 'done'), (3, NULL)");
    let tickets = || target.rows("SELECT id::text, state::text FROM tickets ORDER BY id");
    let rows = tickets();
    let lacking = "CREATE TYPE state AS ENUM ('open', 'closed');\n\
                   CREATE TABLE tickets (id int PRIMARY KEY, state state);\n";
    let output = target.push(lacking, &["--accept-data-loss"]);
    assert_prints(
        &output,
        3,
        "REFUSED: changes column state of public.tickets from text to state",
    );
    assert_fails(
        &output,
        3,
        "and 1 row holds values it cannot convert; nothing was changed",
    );
    target.assert_reached(text);

    let covering = lacking.replace("'closed'", "'closed', 'done'");
    let plan = target.plan(&covering, 0);
    let hazard = &hazards(&plan)[0];
    assert_eq!(hazard["kind"], "convert_type", "{plan}");
    assert_eq!(hazard["affected_rows"], 0, "{plan}");
    assert_eq!(hazard["needs_consent"], false, "{plan}");
    assert_prints(&target.push(&covering, &[]), 0, "applied");
    assert_eq!(tickets(), rows);
    target.assert_reached(&covering);
}

/// A login role that may not create databases, and a fresh database it owns: godwit connected
/// as that role gets scratch databases only from a dev_url. Dropped database first, then role.
struct WithoutCreatedb {
    db: Option<PgDatabase>,
    role: String,
    /// The database's URL, logging in as the role.
    url: String,
}

impl WithoutCreatedb {
    fn new() -> Self {
        let db = PgDatabase::create();
        let role = format!("{}_owner", db.name);
        let admin = pg_admin_url();
        common::exec(
            &admin,
            &format!(
                "CREATE ROLE \"{role}\" LOGIN NOCREATEDB; ALTER DATABASE \"{}\" OWNER TO \"{role}\"",
                db.name
            ),
        );
        let url = with_database(&admin, &db.name);
        let separator = if url.contains('?') { '&' } else { '?' };
        WithoutCreatedb {
            url: format!("{url}{separator}user={role}"),
            db: Some(db),
            role,
        }
    }
}

impl Drop for WithoutCreatedb {
    fn drop(&mut self) {
        // The role owns the database, which must go first. No panic here: this may run while
        // a failed assertion unwinds.
        drop(self.db.take());
        let statement = format!("DROP ROLE IF EXISTS \"{}\"", self.role);
        let dropped = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(async {
                        let options = godwit_postgres::PgOptions::default();
                        let mut admin =
                            godwit_postgres::PgStore::connect(&pg_admin_url(), &options).await?;
                        admin.execute_script(&statement).await
                    })
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("warning: could not drop test role {}: {error}", self.role);
        }
    }
}

/// Run `godwit args` in `project` with `dev_url` as `GODWIT_DEV_URL` (none when `None`), and
/// return what it did and its process id, which names the scratch databases it creates.
fn run_process(project: &Project, args: &[&str], dev_url: Option<&str>) -> (Output, u32) {
    let mut command = project.std_command(args);
    command.env_remove("GODWIT_DEV_URL");
    if let Some(url) = dev_url {
        command.env("GODWIT_DEV_URL", url);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

/// The scratch databases (`godwit_scratch_<machine>_<pid>_...`, from
/// `dialect-postgres/src/store.rs`) process `pid` left on the test server.
fn scratch_databases_of(pid: u32) -> Vec<Vec<String>> {
    pg_rows(
        &pg_admin_url(),
        &format!(
            "SELECT datname::text FROM pg_catalog.pg_database \
             WHERE datname LIKE 'godwit\\_scratch\\_%\\_{pid}\\_%'"
        ),
    )
}

/// Run `godwit args` and check it exited `code` and left no scratch database.
#[track_caller]
fn run_leaving_no_scratch(
    project: &Project,
    args: &[&str],
    dev_url: Option<&str>,
    code: i32,
) -> Output {
    let (output, pid) = run_process(project, args, dev_url);
    assert_code(&output, code);
    assert_eq!(
        scratch_databases_of(pid),
        Vec::<Vec<String>>::new(),
        "{args:?} left scratch databases"
    );
    output
}

const PG_USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";

/// The public tables of the database at `url`.
fn pg_tables(url: &str) -> Vec<Vec<String>> {
    pg_rows(
        url,
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'public' \
         ORDER BY tablename",
    )
}

/// `push` and `generate` on a target whose role may not create databases work only through a
/// dev_url, given as `GODWIT_DEV_URL` or as `dev_url` in godwit.toml: their scratch databases
/// are made there, and dropped after the run, also when the schema file has an error (named
/// with its file and line).
#[test]
fn postgres_scratch_databases_are_made_on_the_dev_url_and_dropped() {
    let dev = PgDatabase::create();
    for in_config in [false, true] {
        let target = WithoutCreatedb::new();
        let project = Project::empty();
        std::fs::create_dir(project.path().join("migrations")).unwrap();
        project.write("schema.sql", PG_USERS);
        let url = &["--url", target.url.as_str()][..];
        let push = [url, &["push"]].concat();
        let generate = [url, &["generate", "add users"]].concat();

        // The target's server refuses its role a scratch database.
        for args in [&push, &generate] {
            let output = run_leaving_no_scratch(&project, args, None, 1);
            assert_fails(&output, 1, "grant the user CREATEDB");
        }

        let env = if in_config {
            project.write("godwit.toml", &format!("dev_url = \"{}\"\n", dev.url));
            None
        } else {
            Some(dev.url.as_str())
        };
        run_leaving_no_scratch(&project, &generate, env, 0);
        let written = std::fs::read_dir(project.path().join("migrations"))
            .unwrap()
            .count();
        assert_eq!(written, 2, "an up and a down file");
        run_leaving_no_scratch(&project, &push, env, 0);
        assert_eq!(pg_tables(&target.url), [["users"]]);
        let output = run_leaving_no_scratch(&project, &push, env, 0);
        assert_prints(&output, 0, "no changes");

        project.write(
            "schema.sql",
            &format!("{PG_USERS}\nCREATE TABLE broken (;\n"),
        );
        for args in [&push, &generate] {
            let output = run_leaving_no_scratch(&project, args, env, 1);
            assert_fails(&output, 1, "schema.sql:3:");
        }
        assert_eq!(pg_tables(&target.url), [["users"]]);
    }
}

/// Scratch databases must be of the target's engine: a dev_url of the other one, in the
/// environment or the config file, is a usage error naming both engines, before anything runs.
#[test]
fn a_dev_url_of_the_other_engine_is_a_usage_error() {
    let pg = Target::postgres();
    let sqlite = Target::sqlite();
    let cases = [
        (
            &pg,
            "sqlite:dev.db",
            "is a sqlite database but the target is postgres",
        ),
        (
            &sqlite,
            pg.url.as_str(),
            "is a postgres database but the target is sqlite",
        ),
    ];
    for (target, dev_url, says) in cases {
        let project = &target.project;
        project.write("schema.sql", PG_USERS);
        let url = &["--url", target.url.as_str()][..];
        for args in [
            [url, &["push"]].concat(),
            [url, &["generate", "x"]].concat(),
        ] {
            let (output, _) = run_process(project, &args, Some(dev_url));
            assert_fails(&output, 2, says);
        }
        project.write("godwit.toml", &format!("dev_url = \"{dev_url}\"\n"));
        let (output, _) = run_process(project, &[url, &["push"]].concat(), None);
        assert_fails(&output, 2, says);
    }
    assert!(!pg.project.path().join("dev.db").exists());
    assert_eq!(pg_tables(&pg.url), Vec::<Vec<String>>::new());
    // The mismatch is found from the URLs, before the target's file could be created.
    assert!(!sqlite.project.db().exists());
}
