//! Declarative schema changes end to end on SQLite files: introspect, diff, render, apply,
//! introspect again. Every change must reach the desired model exactly, leave nothing to do
//! on a second diff, and keep every row.

mod common;

use std::path::Path;

use godwit_core::diff::{self, ColumnRename, Renames};
use godwit_core::schema::{Name, Schema};
use godwit_core::{Dialect, HistoryTable, Store, Value};
use godwit_sqlite::{SqliteDialect, SqliteOptions, SqliteStore};

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, &SqliteOptions::default()).unwrap()
}

fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("app.db"));
    (dir, store)
}

async fn rows(store: &mut dyn Store, sql: &str) -> Vec<Vec<Value>> {
    store.query(sql, &[]).await.unwrap()
}

/// Bring the database behind `store` to `desired_sql`, then check it got there: the model
/// read back equals the desired one and a second diff finds nothing.
async fn converge(store: &mut dyn Store, desired_sql: &str, renames: &Renames) -> Schema {
    let current = common::introspect(store).await;
    let desired = common::desired(store, desired_sql).await;
    let statements = common::plan(&current, &desired, renames).unwrap();
    common::apply_changes(store, &statements)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{statements:#?}"));
    let reached = common::introspect(store).await;
    assert_eq!(reached, desired, "after {statements:#?}");
    let again = diff::diff(
        &reached,
        &desired,
        &Renames::default(),
        SqliteDialect.diff_options(),
    );
    assert!(again.is_empty(), "not idempotent: {again:#?}");
    desired
}

fn column_rename(table: &str, from: &str, to: &str) -> Renames {
    Renames {
        columns: vec![ColumnRename {
            table: Name::bare(table),
            from: from.into(),
            to: to.into(),
        }],
        ..Renames::default()
    }
}

/// A schema's life, one version after another on the same file, each reached from the one
/// before: every kind of change SQLite's renderer handles.
#[tokio::test(flavor = "current_thread")]
async fn every_kind_of_change_converges() {
    let versions: Vec<(&str, &str, Renames)> = vec![
        (
            "create everything",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, \
                 bio TEXT, legacy TEXT);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 accounts (id) ON DELETE CASCADE, body TEXT NOT NULL DEFAULT '', \
                 words INTEGER AS (length(body)) STORED);
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            Renames::default(),
        ),
        (
            "add a column natively",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, \
                 bio TEXT, legacy TEXT, active INTEGER NOT NULL DEFAULT 1);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 accounts (id) ON DELETE CASCADE, body TEXT NOT NULL DEFAULT '', \
                 words INTEGER AS (length(body)) STORED);
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            Renames::default(),
        ),
        (
            "rename a column and drop one natively",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, user_name TEXT NOT NULL, \
                 bio TEXT, active INTEGER NOT NULL DEFAULT 1);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 accounts (id) ON DELETE CASCADE, body TEXT NOT NULL DEFAULT '', \
                 words INTEGER AS (length(body)) STORED);
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            column_rename("accounts", "username", "user_name"),
        ),
        (
            "rebuild: type, NOT NULL, unique, check, collation, default and generated changes",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 user_name VARCHAR(40) NOT NULL COLLATE NOCASE UNIQUE, bio TEXT NOT NULL DEFAULT '', \
                 active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)));
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 accounts (id) ON DELETE CASCADE, body TEXT NOT NULL DEFAULT '', \
                 words INTEGER AS (length(trim(body))) VIRTUAL);
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            Renames::default(),
        ),
        (
            "foreign key changed together with a column",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 user_name VARCHAR(40) NOT NULL COLLATE NOCASE UNIQUE, bio TEXT NOT NULL DEFAULT '', \
                 active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)));
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 accounts (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, \
                 body TEXT NOT NULL DEFAULT '', words INTEGER AS (length(trim(body))) VIRTUAL, \
                 edited TEXT);
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            Renames::default(),
        ),
        (
            "rename a table that is rebuilt, with indexes, views and triggers on it",
            "CREATE TABLE members (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 user_name VARCHAR(40) NOT NULL COLLATE NOCASE UNIQUE, bio TEXT, \
                 active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)));
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES \
                 members (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, \
                 body TEXT NOT NULL DEFAULT '', words INTEGER AS (length(trim(body))) VIRTUAL, \
                 edited TEXT);
             CREATE INDEX members_bio ON members (bio) WHERE bio IS NOT NULL;
             CREATE INDEX posts_account ON posts (account_id);
             CREATE VIEW post_counts AS SELECT account_id, count(*) AS n FROM posts GROUP BY account_id;
             CREATE VIEW active_members AS SELECT * FROM members WHERE active = 1;
             CREATE TRIGGER members_bio AFTER UPDATE OF bio ON members \
                 BEGIN UPDATE posts SET edited = 'bio' WHERE account_id = new.id; END;
             CREATE TRIGGER posts_trim BEFORE INSERT ON posts WHEN new.body = ' ' \
                 BEGIN SELECT RAISE(ABORT, 'blank'); END;",
            Renames {
                tables: vec![(Name::bare("accounts"), Name::bare("members"))],
                ..Renames::default()
            },
        ),
        (
            "primary key, STRICT, WITHOUT ROWID, and a foreign key dropped with a column",
            "CREATE TABLE members (id INTEGER NOT NULL, \
                 user_name TEXT NOT NULL COLLATE NOCASE, bio TEXT, \
                 active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)), \
                 PRIMARY KEY (id, user_name)) STRICT, WITHOUT ROWID;
             CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER, \
                 body TEXT NOT NULL DEFAULT '', words INTEGER AS (length(trim(body))) VIRTUAL);
             CREATE INDEX members_bio ON members (bio) WHERE bio IS NOT NULL;",
            Renames::default(),
        ),
        (
            "drop tables, create one with a key to another new one",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE TABLE post_tags (post_id INTEGER NOT NULL REFERENCES posts (id), \
                 tag_id INTEGER NOT NULL REFERENCES tags (id), PRIMARY KEY (post_id, tag_id)) \
                 WITHOUT ROWID;
             CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT);",
            Renames::default(),
        ),
    ];
    let (_dir, mut store) = temp_store();
    for (step, sql, renames) in &versions {
        eprintln!("step: {step}");
        converge(&mut store, sql, renames).await;
    }
}

const PARENT: &str = "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, \
                      label TEXT, score INTEGER, legacy TEXT UNIQUE)";
const CHILDREN: &str = "
    CREATE TABLE child_cascade (id INTEGER PRIMARY KEY, \
        parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE, info TEXT);
    CREATE TABLE child_set_null (id INTEGER PRIMARY KEY, \
        parent_id INTEGER REFERENCES parent (id) ON DELETE SET NULL, info TEXT);";

async fn snapshot_rows(store: &mut dyn Store) -> Vec<Vec<Vec<Value>>> {
    vec![
        rows(
            store,
            "SELECT rowid, id, code, label, score FROM parent ORDER BY id",
        )
        .await,
        rows(store, "SELECT * FROM child_cascade ORDER BY id").await,
        rows(store, "SELECT * FROM child_set_null ORDER BY id").await,
    ]
}

/// The parent of two foreign keys (ON DELETE CASCADE and ON DELETE SET NULL) goes through
/// every kind of rebuild with foreign keys enforced on the connection: no child row may be
/// deleted or nulled, no parent row changed or renumbered.
#[tokio::test(flavor = "current_thread")]
async fn rebuilds_keep_every_row_of_a_parent_and_its_children() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(&format!(
            "{PARENT};{CHILDREN}
             INSERT INTO parent VALUES (1, 'a', 'one', 10, 'x'), (2, 'b', 'two', NULL, NULL), \
                 (7, 'c', 'seven', 70, 'z');
             INSERT INTO child_cascade VALUES (1, 1, 'c1'), (2, 2, 'c2'), (3, 7, 'c3');
             INSERT INTO child_set_null VALUES (1, 1, 's1'), (2, 7, 's2'), (3, NULL, 's3');"
        ))
        .await
        .unwrap();
    let before = snapshot_rows(&mut store).await;
    let steps = [
        (
            "type change",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, \
             label TEXT, score INT, legacy TEXT UNIQUE)",
        ),
        (
            "NOT NULL added where there are no NULLs",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, \
             label TEXT NOT NULL, score INT, legacy TEXT UNIQUE)",
        ),
        (
            "a column SQLite cannot drop in place (it is UNIQUE)",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, \
             label TEXT NOT NULL, score INT)",
        ),
        (
            "primary key change",
            "CREATE TABLE parent (id INTEGER NOT NULL UNIQUE, code TEXT NOT NULL PRIMARY KEY, \
             label TEXT NOT NULL, score INT)",
        ),
        (
            "STRICT on",
            "CREATE TABLE parent (id INTEGER NOT NULL UNIQUE, code TEXT NOT NULL PRIMARY KEY, \
             label TEXT NOT NULL, score INT) STRICT",
        ),
        (
            "STRICT off",
            "CREATE TABLE parent (id INTEGER NOT NULL UNIQUE, code TEXT NOT NULL PRIMARY KEY, \
             label TEXT NOT NULL, score INT)",
        ),
    ];
    for (step, parent) in steps {
        store
            .execute_script("PRAGMA foreign_keys = ON")
            .await
            .unwrap();
        converge(
            &mut store,
            &format!("{parent};{CHILDREN}"),
            &Renames::default(),
        )
        .await;
        assert_eq!(
            snapshot_rows(&mut store).await,
            before,
            "rows changed by: {step}"
        );
        assert!(
            rows(&mut store, "PRAGMA foreign_key_check")
                .await
                .is_empty(),
            "{step}"
        );
        assert_eq!(
            rows(&mut store, "PRAGMA foreign_keys").await,
            [[Value::Int(1)]],
            "foreign keys not restored after: {step}"
        );
    }
    // The keys still work: deleting a parent cascades and nulls as declared.
    store
        .execute("DELETE FROM parent WHERE id = 7", &[])
        .await
        .unwrap();
    assert_eq!(
        rows(&mut store, "SELECT id FROM child_cascade ORDER BY id").await,
        [[Value::Int(1)], [Value::Int(2)]]
    );
    assert_eq!(
        rows(
            &mut store,
            "SELECT parent_id FROM child_set_null WHERE id = 2"
        )
        .await,
        [[Value::Null]]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_rebuild_keeps_the_autoincrement_counter() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT);
             INSERT INTO tickets (title) VALUES ('a'), ('b'), ('c');
             DELETE FROM tickets WHERE id = 3;",
        )
        .await
        .unwrap();
    converge(
        &mut store,
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)",
        &Renames::default(),
    )
    .await;
    store
        .execute("INSERT INTO tickets (title) VALUES ('d')", &[])
        .await
        .unwrap();
    // 3 was used once: AUTOINCREMENT never hands it out again.
    assert_eq!(
        rows(&mut store, "SELECT id FROM tickets WHERE title = 'd'").await,
        [[Value::Int(4)]]
    );
}

/// `ON CONFLICT` clauses and `PRIMARY KEY DESC` decide what the application's own statements
/// do. Each case rebuilds a table (a column gets NOT NULL) holding rows, then runs a statement
/// that only gives the expected rows if the clause survived the rebuild.
#[tokio::test(flavor = "current_thread")]
async fn a_rebuild_keeps_what_conflict_clauses_and_a_descending_key_do() {
    struct Case {
        before: &'static str,
        desired: &'static str,
        then: &'static str,
        /// Whether `then` reports a constraint error (and still leaves `expected`).
        fails: bool,
        read: &'static str,
        expected: &'static str,
    }
    let cases = [
        // An upsert through the primary key, as QA found it broken.
        Case {
            before: "CREATE TABLE settings (key TEXT PRIMARY KEY ON CONFLICT REPLACE, value TEXT);
                     INSERT INTO settings VALUES ('a', '1'), ('b', '2');",
            desired: "CREATE TABLE settings (key TEXT PRIMARY KEY ON CONFLICT REPLACE, \
                          value TEXT NOT NULL DEFAULT '', updated_at TEXT)",
            then: "INSERT INTO settings (key, value) VALUES ('a', '3')",
            fails: false,
            read: "SELECT group_concat(key || '=' || value, ' ') \
                   FROM (SELECT * FROM settings ORDER BY key)",
            expected: "a=3 b=2",
        },
        Case {
            before: "CREATE TABLE votes (poll INTEGER, voter TEXT, choice TEXT, \
                         PRIMARY KEY (poll, voter) ON CONFLICT REPLACE);
                     INSERT INTO votes VALUES (1, 'ada', 'x'), (1, 'bob', 'y');",
            desired: "CREATE TABLE votes (poll INTEGER, voter TEXT, choice TEXT NOT NULL, \
                          PRIMARY KEY (poll, voter) ON CONFLICT REPLACE)",
            then: "INSERT INTO votes VALUES (1, 'ada', 'z')",
            fails: false,
            read: "SELECT group_concat(voter || '=' || choice, ' ') \
                   FROM (SELECT * FROM votes ORDER BY voter)",
            expected: "ada=z bob=y",
        },
        // SQLite merges this UNIQUE into the key's index, clause and all.
        Case {
            before: "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, UNIQUE (k) ON CONFLICT REPLACE);
                     INSERT INTO kv VALUES ('a', '1');",
            desired: "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, \
                          UNIQUE (k) ON CONFLICT REPLACE)",
            then: "INSERT INTO kv VALUES ('a', '2')",
            fails: false,
            read: "SELECT group_concat(k || '=' || v, ' ') FROM kv",
            expected: "a=2",
        },
        Case {
            before: "CREATE TABLE tags (id INTEGER PRIMARY KEY, \
                         name TEXT UNIQUE ON CONFLICT IGNORE, color TEXT);
                     INSERT INTO tags (name, color) VALUES ('red', 'grey'), ('blue', 'grey');",
            desired: "CREATE TABLE tags (id INTEGER PRIMARY KEY, \
                          name TEXT UNIQUE ON CONFLICT IGNORE, color TEXT NOT NULL DEFAULT 'grey')",
            then: "INSERT INTO tags (name, color) VALUES ('red', 'pink'), ('green', 'pink')",
            fails: false,
            read: "SELECT group_concat(name || '=' || color, ' ') \
                   FROM (SELECT * FROM tags ORDER BY id)",
            expected: "red=grey blue=grey green=pink",
        },
        Case {
            before: "CREATE TABLE seats (row_no INTEGER, seat INTEGER, guest TEXT, \
                         UNIQUE (row_no, seat) ON CONFLICT FAIL);
                     INSERT INTO seats VALUES (1, 1, 'ada');",
            desired: "CREATE TABLE seats (row_no INTEGER, seat INTEGER, guest TEXT NOT NULL, \
                          UNIQUE (row_no, seat) ON CONFLICT FAIL)",
            // FAIL keeps what the statement did before the failing row; ABORT would not.
            then: "INSERT INTO seats VALUES (1, 2, 'bob'), (1, 1, 'cy')",
            fails: true,
            read: "SELECT group_concat(seat || '=' || guest, ' ') \
                   FROM (SELECT * FROM seats ORDER BY seat)",
            expected: "1=ada 2=bob",
        },
        Case {
            before: "CREATE TABLE readings (id INTEGER PRIMARY KEY, \
                         value REAL NOT NULL ON CONFLICT IGNORE, note TEXT);
                     INSERT INTO readings (value, note) VALUES (1.5, '');",
            desired: "CREATE TABLE readings (id INTEGER PRIMARY KEY, \
                          value REAL NOT NULL ON CONFLICT IGNORE, note TEXT NOT NULL DEFAULT '')",
            then: "INSERT INTO readings (value) VALUES (NULL), (2.5)",
            fails: false,
            read: "SELECT group_concat(value, ' ') FROM (SELECT * FROM readings ORDER BY id)",
            expected: "1.5 2.5",
        },
        // Not a rowid alias: the id may be NULL, and each row keeps its own rowid.
        Case {
            before: "CREATE TABLE events (id INTEGER PRIMARY KEY DESC, kind TEXT);
                     INSERT INTO events (rowid, id, kind) VALUES (10, 1, 'a'), (20, 2, 'b');",
            desired: "CREATE TABLE events (id INTEGER PRIMARY KEY DESC, kind TEXT NOT NULL)",
            then: "INSERT INTO events (id, kind) VALUES (NULL, 'c')",
            fails: false,
            read: "SELECT group_concat(r, ' ') FROM (SELECT rowid || ':' || \
                   coalesce(id, 'null') || ':' || kind AS r FROM events ORDER BY rowid)",
            expected: "10:1:a 20:2:b 21:null:c",
        },
    ];
    for case in cases {
        let (_dir, mut store) = temp_store();
        store.execute_script(case.before).await.unwrap();
        converge(&mut store, case.desired, &Renames::default()).await;
        let outcome = store.execute_script(case.then).await;
        assert_eq!(outcome.is_err(), case.fails, "{}: {outcome:?}", case.then);
        assert_eq!(
            rows(&mut store, case.read).await,
            [[Value::from(case.expected)]],
            "{}",
            case.desired
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_rebuild_leaves_the_table_and_its_rows() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             CREATE INDEX users_email ON users (email);
             INSERT INTO users VALUES (1, 'a@example.com'), (2, NULL);
             PRAGMA foreign_keys = ON;",
        )
        .await
        .unwrap();
    let before = common::introspect(&mut store).await;
    let desired = common::desired(
        &mut store,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         CREATE INDEX users_email ON users (email);",
    )
    .await;
    let statements = common::plan(&before, &desired, &Renames::default()).unwrap();
    let hazard = statements.iter().find_map(|s| s.hazard.as_ref()).unwrap();
    let count = hazard.count_query.as_deref().unwrap();
    assert_eq!(rows(&mut store, count).await, [[Value::Int(1)]]);
    let error = common::apply_changes(&mut store, &statements)
        .await
        .unwrap_err();
    assert!(error.contains("NOT NULL constraint failed"), "{error}");
    assert_eq!(common::introspect(&mut store).await, before);
    assert_eq!(
        rows(&mut store, "SELECT id, email FROM users ORDER BY id").await,
        [
            vec![Value::Int(1), Value::from("a@example.com")],
            vec![Value::Int(2), Value::Null]
        ]
    );
    assert_eq!(
        rows(&mut store, "PRAGMA foreign_keys").await,
        [[Value::Int(1)]]
    );
}

/// A rebuild copies rows into a table that may carry new `ON CONFLICT` clauses; they must not
/// resolve the conflicts of the rows being copied (deleting a duplicate, storing a default
/// over a NULL). The rebuild fails as it would without them, and changes nothing.
#[tokio::test(flavor = "current_thread")]
async fn a_rebuild_never_resolves_conflicts_of_the_rows_it_copies() {
    let cases = [
        (
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             INSERT INTO users VALUES (1, 'a@example.com'), (2, 'a@example.com');",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE ON CONFLICT REPLACE)",
            "UNIQUE constraint failed",
        ),
        (
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             INSERT INTO users VALUES (1, 'a@example.com'), (2, NULL);",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, \
                 email TEXT NOT NULL ON CONFLICT REPLACE DEFAULT 'none')",
            "NOT NULL constraint failed",
        ),
    ];
    for (before, desired_sql, error) in cases {
        let (_dir, mut store) = temp_store();
        store.execute_script(before).await.unwrap();
        let current = common::introspect(&mut store).await;
        let kept = rows(&mut store, "SELECT id, email FROM users ORDER BY id").await;
        let desired = common::desired(&mut store, desired_sql).await;
        let statements = common::plan(&current, &desired, &Renames::default()).unwrap();
        let failure = common::apply_changes(&mut store, &statements)
            .await
            .unwrap_err();
        assert!(failure.contains(error), "{failure}");
        assert_eq!(common::introspect(&mut store).await, current);
        assert_eq!(
            rows(&mut store, "SELECT id, email FROM users ORDER BY id").await,
            kept
        );
    }
}

/// Rows that broke a foreign key before (written while keys were off) do not stop a rebuild,
/// and stay as they were; a rebuild that breaks a key for more rows is rolled back.
#[tokio::test(flavor = "current_thread")]
async fn a_rebuild_is_not_blamed_for_rows_that_broke_a_key_before() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "PRAGMA foreign_keys = OFF;
             CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE entries (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id),
                                   note_id INTEGER);
             CREATE TABLE notes (id INTEGER PRIMARY KEY);
             INSERT INTO accounts VALUES (1, 'a');
             INSERT INTO entries VALUES (1, 1, NULL), (2, 999, 5);
             PRAGMA foreign_keys = ON;",
        )
        .await
        .unwrap();
    let orphans = "SELECT \"table\", rowid FROM pragma_foreign_key_check";
    assert_eq!(rows(&mut store, orphans).await.len(), 1);
    converge(
        &mut store,
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE entries (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id),
                               note_id INTEGER);
         CREATE TABLE notes (id INTEGER PRIMARY KEY);",
        &Renames::default(),
    )
    .await;
    assert_eq!(rows(&mut store, orphans).await.len(), 1);

    // A new key that entry 2 breaks too: one more row breaking a key, so nothing changes.
    let before = common::introspect(&mut store).await;
    let desired = common::desired(
        &mut store,
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE entries (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id),
                               note_id INTEGER REFERENCES notes (id));
         CREATE TABLE notes (id INTEGER PRIMARY KEY);",
    )
    .await;
    let statements = common::plan(&before, &desired, &Renames::default()).unwrap();
    let error = common::apply_changes(&mut store, &statements)
        .await
        .unwrap_err();
    assert!(
        error.contains("would leave more rows breaking a foreign key"),
        "{error}"
    );
    assert_eq!(common::introspect(&mut store).await, before);
    assert_eq!(
        rows(&mut store, "SELECT count(*) FROM entries").await,
        [[Value::Int(2)]]
    );
}

/// Two spellings of one schema: layout, comments, keyword case in `CREATE TABLE`, type-name
/// case and spacing inside types, `ON CONFLICT ABORT` (the default) spelled out, checks,
/// generated columns, indexes and triggers. (Keyword
/// case inside index and trigger text is kept as written, and views are kept verbatim: the
/// names of a view's unaliased columns are the text of their expressions.)
#[tokio::test(flavor = "current_thread")]
async fn layout_and_case_do_not_change_the_model() {
    let (_dir, mut tidy) = temp_store();
    let (_dir2, mut messy) = temp_store();
    tidy.execute_script(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x', \
             amount DECIMAL(10, 2) CHECK (amount >= 0), total REAL AS (amount * 2) STORED);
         CREATE INDEX t_name ON t(lower(name), amount DESC) WHERE amount > 0;
         CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN UPDATE t SET name = 'y' WHERE id = new.id; END;
         CREATE VIEW v AS SELECT id FROM t;",
    )
    .await
    .unwrap();
    messy
        .execute_script(
            "create   table t (\n\
             \x20   id integer primary key,\n\
             \x20   name varchar( 20 )   not null on conflict abort default 'x',\n\
             \x20   amount Decimal(10,2) check(amount>=0),\n\
             \x20   total real generated always as ( amount*2 ) stored\n\
             );\n\
             CREATE INDEX t_name ON t ( lower( name ) , amount DESC )\n\
             \x20   WHERE amount>0;\n\
             CREATE TRIGGER t_touch AFTER UPDATE ON t\n\
             BEGIN\n\
             \x20   -- keep the name fixed\n\
             \x20   UPDATE t SET name='y' WHERE id=new.id;\n\
             END;\n\
             CREATE VIEW v AS SELECT id FROM t;",
        )
        .await
        .unwrap();
    assert_eq!(
        common::introspect(&mut tidy).await,
        common::introspect(&mut messy).await
    );
}

#[tokio::test(flavor = "current_thread")]
async fn godwit_tables_and_fts_shadow_tables_are_not_in_the_model() {
    let (_dir, mut store) = temp_store();
    let history = HistoryTable::new(None, "godwit_migrations");
    for ddl in SqliteDialect.history_table_ddl(&history) {
        store.execute_script(&ddl).await.unwrap();
    }
    store
        .execute_script(
            "CREATE TABLE godwit_migrations_lock (id INTEGER PRIMARY KEY);
             CREATE TABLE godwit_migrations_archive (id INTEGER PRIMARY KEY);
             CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'porter');
             INSERT INTO docs VALUES ('a', 'b');",
        )
        .await
        .unwrap();
    let schema = common::introspect(&mut store).await;
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.name.as_str()).collect();
    // Only the three exact names are godwit's; a user table that shares the prefix is kept.
    assert_eq!(names, ["docs", "godwit_migrations_archive"]);
    let docs = &schema.tables[0];
    let columns: Vec<&str> = docs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["title", "body"]);
    let module = docs.virtual_table.as_ref().unwrap();
    assert_eq!(
        (module.module.as_str(), module.arguments.as_slice()),
        ("fts5", &["tokenize=porter".to_string()][..])
    );

    // The virtual table is created from its definition on an empty database, shadow tables
    // and all.
    let (_dir2, mut empty) = temp_store();
    let statements = common::plan(&Schema::default(), &schema, &Renames::default()).unwrap();
    common::apply_changes(&mut empty, &statements)
        .await
        .unwrap();
    assert_eq!(common::introspect(&mut empty).await, schema);
    empty
        .execute_script("INSERT INTO docs VALUES ('running', 'x')")
        .await
        .unwrap();
    assert_eq!(
        rows(&mut empty, "SELECT title FROM docs WHERE docs MATCH 'run'").await,
        [[Value::from("running")]]
    );
}

/// A declared rename of an FTS5 column carries its text into the new index; a dropped
/// column's text is counted before it goes.
#[tokio::test(flavor = "current_thread")]
async fn an_fts5_index_keeps_renamed_columns_and_counts_dropped_ones() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, notes);
             INSERT INTO docs (rowid, title, body, notes) VALUES
                 (7, 'a', 'first text', 'x'), (9, 'b', 'second text', NULL);",
        )
        .await
        .unwrap();
    converge(
        &mut store,
        "CREATE VIRTUAL TABLE docs USING fts5(title, content, notes);",
        &column_rename("docs", "body", "content"),
    )
    .await;
    assert_eq!(
        rows(
            &mut store,
            "SELECT rowid, content FROM docs WHERE docs MATCH 'text' ORDER BY rowid"
        )
        .await,
        [
            [Value::from(7), Value::from("first text")],
            [Value::from(9), Value::from("second text")]
        ]
    );

    let current = common::introspect(&mut store).await;
    let desired = common::desired(
        &mut store,
        "CREATE VIRTUAL TABLE docs USING fts5(title, content);",
    )
    .await;
    let statements = common::plan(&current, &desired, &Renames::default()).unwrap();
    let hazard = statements.iter().find_map(|s| s.hazard.as_ref()).unwrap();
    assert_eq!(hazard.description, "drops column docs.notes");
    let count = hazard.count_query.as_deref().unwrap();
    assert_eq!(rows(&mut store, count).await, [[Value::from(1)]]);
}

/// A trigger on another table that writes to an FTS5 table stays, and keeps writing to it,
/// when the FTS5 table is rebuilt under a temporary name and renamed in.
#[tokio::test(flavor = "current_thread")]
async fn a_trigger_writing_to_a_rebuilt_fts5_table_keeps_working() {
    let (_dir, mut store) = temp_store();
    let schema = |columns: &str| {
        format!(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIRTUAL TABLE docs USING fts5({columns});
             CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
                 INSERT INTO docs (rowid, body) VALUES (new.id, new.body);
             END;"
        )
    };
    store.execute_script(&schema("body")).await.unwrap();
    store
        .execute_script("INSERT INTO posts VALUES (1, 'first post');")
        .await
        .unwrap();
    converge(&mut store, &schema("body, tags"), &Renames::default()).await;
    store
        .execute_script("INSERT INTO posts VALUES (2, 'second post');")
        .await
        .unwrap();
    assert_eq!(
        rows(
            &mut store,
            "SELECT rowid FROM docs WHERE docs MATCH 'post' ORDER BY rowid"
        )
        .await,
        [[Value::from(1)], [Value::from(2)]]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_rendered_schema_recreates_the_same_model() {
    let (_dir, mut store) = temp_store();
    let desired = common::desired(
        &mut store,
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id) ON UPDATE CASCADE);
         CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id), \
             code TEXT COLLATE RTRIM, UNIQUE (code, b_id));
         CREATE INDEX a_code ON a (code);
         CREATE VIEW ab AS SELECT * FROM a JOIN b ON a.b_id = b.id;",
    )
    .await;
    let script = SqliteDialect.render_schema(&desired).unwrap();
    store.execute_script(&script).await.unwrap();
    assert_eq!(common::introspect(&mut store).await, desired, "{script}");
}

/// A database file whose `users` table holds one row.
async fn store_with_a_user() -> (tempfile::TempDir, SqliteStore) {
    let (dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE TABLE users (id INTEGER PRIMARY KEY); INSERT INTO users VALUES (1);",
        )
        .await
        .unwrap();
    (dir, store)
}

/// A scratch database reaches no file even when a statement gets past the screening: it has
/// no room for an attached database, which `VACUUM INTO` needs as well.
#[tokio::test]
async fn a_scratch_database_cannot_attach_or_write_files() {
    let (dir, mut store) = store_with_a_user().await;
    let app = dir.path().join("app.db");
    let copy = dir.path().join("copy.db");
    for sandbox in [false, true] {
        let mut scratch = if sandbox {
            store.open_sandbox().await.unwrap()
        } else {
            store.open_scratch().await.unwrap()
        };
        let attach = format!("ATTACH DATABASE '{}' AS real", app.display());
        let error = scratch.execute_script(&attach).await.unwrap_err();
        assert!(
            error.to_string().contains("too many attached databases"),
            "{error}"
        );
        let vacuum = format!("VACUUM INTO '{}'", copy.display());
        assert!(scratch.execute_script(&vacuum).await.is_err());
        assert!(!copy.exists());
        scratch.close().await.unwrap();
    }
    assert_eq!(
        rows(&mut store, "SELECT count(*) FROM users").await,
        [[Value::Int(1)]]
    );
}

/// A schema file that attaches the real database is refused before anything runs.
#[tokio::test]
async fn a_schema_file_that_attaches_a_file_is_refused() {
    let (dir, mut store) = store_with_a_user().await;
    let file = dir.path().join("schema.sql");
    std::fs::write(
        &file,
        format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\nATTACH '{}' AS real;\nDELETE FROM real.users;\n",
            dir.path().join("app.db").display()
        ),
    )
    .unwrap();
    let source = godwit_core::declarative::SchemaSource::load(&file).unwrap();
    let error = godwit_core::declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            godwit_core::Error::Declarative(
                godwit_core::declarative::DeclarativeError::RefusedStatement { line: 2, .. }
            )
        ),
        "{error}"
    );
    assert_eq!(
        rows(&mut store, "SELECT count(*) FROM users").await,
        [[Value::Int(1)]]
    );
}

/// Introspection reads the catalog in one read transaction: while another connection keeps
/// creating and dropping a table with an index and a view, each reading is of one state of the
/// schema, never, say, the columns of a table the list of tables did not have.
#[tokio::test(flavor = "current_thread")]
async fn introspection_reads_one_state_while_another_connection_changes_the_schema() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (dir, mut store) = temp_store();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = std::thread::spawn({
        let path = dir.path().join("app.db");
        let stop = Arc::clone(&stop);
        move || {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .unwrap();
            let steps = [
                "CREATE TABLE churn (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
                "CREATE INDEX churn_v ON churn (v)",
                "CREATE VIEW churn_view AS SELECT v FROM churn",
                "DROP VIEW churn_view",
                "DROP TABLE churn",
            ];
            let mut rounds = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                // Each step commits on its own, so every one is a state readers can see. The
                // pause lets readers in: a writer committing back to back holds the file's
                // exclusive lock nearly all the time, and starves every reader, snapshot or not.
                for step in steps {
                    conn.execute_batch(step).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                rounds += 1;
            }
            rounds
        }
    });
    let mut failures = Vec::new();
    for _ in 0..300 {
        if let Err(error) =
            godwit_core::declarative::introspect(&mut store, &HistoryTable::default()).await
        {
            failures.push(error.to_string());
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 0, "the schema never changed during the readings");
    assert!(
        failures.is_empty(),
        "{} of 300 readings failed: {:?}",
        failures.len(),
        failures.first()
    );
}

/// What `push` makes of changes by the rows they touch, each case on its own SQLite file,
/// and shown right by applying the plan anyway (`godwit_tests::verdicts`). SQLite converts a
/// copied value by the new column's affinity and never refuses one, except in a STRICT table:
/// only values that change (text that reads back otherwise as a number) need consent, and
/// only values a STRICT column cannot hold refuse the change. A new NOT NULL column without a
/// default is refused on a table with rows, also beside a change that needs consent.
#[tokio::test(flavor = "current_thread")]
async fn push_judges_changes_by_the_rows_they_touch() {
    use godwit_tests::verdicts::{Case, Verdict, judge};
    let cases = [
        Case {
            name: "text to integer that changes no value",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT);
                      INSERT INTO t VALUES (1, '12'), (2, '-3'), (3, NULL), (4, 'n/a');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);",
            verdict: Verdict::Free,
        },
        Case {
            name: "text to integer that respells values",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT);
                      INSERT INTO t VALUES (1, '007'), (2, '1.50'), (3, '12');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);",
            verdict: Verdict::Consent(2),
        },
        Case {
            // This SQLite writes a real with every digit it needs to read back the same.
            name: "real to text",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL);
                      INSERT INTO t VALUES (1, 1.5), (2, 0.1 + 0.2);",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);",
            verdict: Verdict::Free,
        },
        Case {
            name: "integer to real beyond 2^53",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
                      INSERT INTO t VALUES (1, 12), (2, 9007199254740993);",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, n REAL);",
            verdict: Verdict::Consent(1),
        },
        Case {
            name: "a STRICT column that cannot hold a value",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
                      INSERT INTO t VALUES (1, '12'), (2, 'twelve');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER) STRICT;",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "made STRICT, every value fits",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);
                      INSERT INTO t VALUES (1, 1.5), (2, 2);",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL) STRICT;",
            verdict: Verdict::Free,
        },
        Case {
            name: "made STRICT over text in a REAL column",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);
                      INSERT INTO t VALUES (1, 1.5), (2, 'n/a');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL) STRICT;",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "a NOT NULL column without a default on a table with rows",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
                      INSERT INTO t VALUES (1, 'x'), (2, 'y');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT NOT NULL);",
            verdict: Verdict::Refused(2),
        },
        Case {
            name: "the same beside a dropped column, which alone would need consent",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
                      INSERT INTO t VALUES (1, 'x'), (2, 'y');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT NOT NULL);",
            verdict: Verdict::Refused(2),
        },
        Case {
            name: "a NOT NULL column without a default on an empty table",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT NOT NULL);",
            verdict: Verdict::Free,
        },
        Case {
            name: "a NOT NULL column with a default",
            current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
                      INSERT INTO t VALUES (1, 'x');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT NOT NULL DEFAULT '');",
            verdict: Verdict::Free,
        },
        Case {
            name: "a new rowid key, which numbers the rows",
            current: "CREATE TABLE t (a TEXT);
                      INSERT INTO t VALUES ('x'), ('y');",
            desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);",
            verdict: Verdict::Free,
        },
        Case {
            name: "a new NOT NULL key without a default",
            current: "CREATE TABLE t (a TEXT);
                      INSERT INTO t VALUES ('x'), ('y');",
            desired: "CREATE TABLE t (code TEXT NOT NULL PRIMARY KEY, a TEXT);",
            verdict: Verdict::Refused(2),
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let (_dir, mut store) = temp_store();
        if let Err(failure) = judge(&mut store, case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
