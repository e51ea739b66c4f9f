//! Declarative schemas on a real MariaDB: the current schema (and some rows) goes into a
//! fresh database, the desired one into a scratch database opened from it; both are
//! introspected, diffed by core and rendered. The rendering is compared with its golden file
//! in `tests/snapshots/`, then run, and the database must then read exactly as the desired
//! schema did, with every row still there.

use std::fmt::Write as _;

use godwit_core::dialect::{Statement, StatementKind};
use godwit_core::diff::{self, ColumnRename, Renames};
use godwit_core::schema::{Name, Schema};
use godwit_core::{Dialect, HistoryTable, Store, Value, declarative};
use godwit_mysql::{MySqlDialect, MySqlStore};
use godwit_tests::MySqlDatabase;

async fn connect(db: &MySqlDatabase) -> MySqlStore {
    MySqlStore::connect(&db.url)
        .await
        .unwrap_or_else(|error| panic!("connect to the test database {}: {error}", db.name))
}

async fn introspect(store: &mut dyn Store) -> Schema {
    declarative::introspect(store, &HistoryTable::default())
        .await
        .expect("introspect")
}

/// The one integer `sql` returns.
async fn count(store: &mut dyn Store, sql: &str) -> i64 {
    let rows = store
        .query(sql, &[])
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    match rows.as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(n)] => *n,
            other => panic!("{sql} returned {other:?}"),
        },
        other => panic!("{sql} returned {other:?}"),
    }
}

/// Each statement, and under it its hazard with the count its query gives now.
async fn golden(store: &mut dyn Store, statements: &[Statement]) -> String {
    let mut text = String::new();
    for statement in statements {
        assert_eq!(statement.kind, StatementKind::Execute);
        writeln!(text, "{};", statement.sql.trim_end()).unwrap();
        if let Some(hazard) = &statement.hazard {
            writeln!(text, "-- hazard {:?}: {}", hazard.kind, hazard.description).unwrap();
            if let Some(query) = &hazard.count_query {
                let n = count(store, query).await;
                writeln!(text, "--   {query}\n--   => {n}").unwrap();
            }
        }
        text.push('\n');
    }
    text
}

/// Columns in name order: a column added to a table goes where MySQL puts it, and the
/// diff matches columns by name.
fn columns_by_name(mut schema: Schema) -> Schema {
    for table in &mut schema.tables {
        table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

async fn row_counts(store: &mut dyn Store, schema: &Schema) -> Vec<(Name, i64)> {
    let mut counts = Vec::new();
    for table in &schema.tables {
        let sql = format!(
            "SELECT COUNT(*) FROM {}",
            MySqlDialect.quote_identifier(&table.name.name)
        );
        counts.push((table.name.clone(), count(store, &sql).await));
    }
    counts
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The round trip of one case: `current` (with its rows) to `desired`; the store is
/// returned for the case's own checks of the values.
async fn check(name: &str, current: &str, desired: &str, renames: Renames) -> MySqlCase {
    let db = MySqlDatabase::create();
    let mut store = connect(&db).await;
    store.execute_script(current).await.expect("current schema");
    let mut scratch = store.open_scratch().await.expect("open a scratch database");
    scratch
        .execute_script(desired)
        .await
        .expect("desired schema");
    let wanted = introspect(scratch.as_mut()).await;
    scratch.close().await.expect("drop the scratch database");
    let now = introspect(&mut store).await;
    let changes = diff::diff(&now, &wanted, &renames, MySqlDialect.diff_options());
    let statements = MySqlDialect
        .render(&changes, &Default::default())
        .expect("render");
    let text = golden(&mut store, &statements).await;
    snapshot(name, &text);
    let before = row_counts(&mut store, &now).await;
    for statement in &statements {
        store
            .execute_script(&statement.sql)
            .await
            .unwrap_or_else(|error| panic!("{error}\nin\n{text}"));
    }
    let after = introspect(&mut store).await;
    assert_eq!(
        columns_by_name(after.clone()),
        columns_by_name(wanted.clone()),
        "the database does not match the desired schema after\n{text}"
    );
    let again = diff::diff(
        &after,
        &wanted,
        &Renames::default(),
        MySqlDialect.diff_options(),
    );
    assert!(again.is_empty(), "a second diff is not empty: {again:#?}");
    let kept = row_counts(&mut store, &after).await;
    for (table, rows) in before {
        let table = renames
            .tables
            .iter()
            .find(|(old, _)| *old == table)
            .map_or(table.clone(), |(_, new)| new.clone());
        if let Some((_, left)) = kept.iter().find(|(t, _)| *t == table) {
            assert_eq!(*left, rows, "table {table} lost rows after\n{text}");
        }
    }
    MySqlCase { _db: db, store }
}

/// A case's database, after its changes.
struct MySqlCase {
    _db: MySqlDatabase,
    store: MySqlStore,
}

const USERS: &str = "CREATE TABLE users (\n\
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
    email VARCHAR(100) NOT NULL,\n\
    name VARCHAR(50) CHARACTER SET latin1 DEFAULT 'anon' COMMENT 'shown',\n\
    kind ENUM('a', 'b') NOT NULL DEFAULT 'a',\n\
    bio TEXT,\n\
    updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n\
    KEY users_name (name(10) DESC),\n\
    UNIQUE KEY users_email (email)\n\
) ENGINE=InnoDB COMMENT='people';\n\
INSERT INTO users (email, name, bio) VALUES ('a@x', 'ann', 'likes tea'), ('b@x', NULL, NULL);\n";

#[tokio::test]
async fn add_drop_and_change_columns_keeping_rows() {
    let mut case = check(
        "add_drop_and_change_columns_keeping_rows",
        USERS,
        "CREATE TABLE users (\n\
            id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
            email VARCHAR(200) NOT NULL,\n\
            name VARCHAR(50) CHARACTER SET latin1 DEFAULT 'nobody' COMMENT 'shown to others',\n\
            kind ENUM('a', 'b', 'c') NOT NULL DEFAULT 'a',\n\
            updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n\
            score BIGINT NOT NULL DEFAULT 0,\n\
            full_name VARCHAR(60) AS (CONCAT(name, '!')) VIRTUAL,\n\
            KEY users_name (name(10) DESC),\n\
            UNIQUE KEY users_email (email)\n\
        ) ENGINE=InnoDB COMMENT='people';\n",
        Renames::default(),
    )
    .await;
    // The values of the widened and the retyped columns are the ones written before.
    let kept = count(
        &mut case.store,
        "SELECT COUNT(*) FROM users WHERE email = 'a@x' AND name = 'ann' AND kind = 'a' AND score = 0",
    )
    .await;
    assert_eq!(kept, 1);
}

/// A sandbox is a scratch database where events never run: the server's scheduler is off
/// (as the test server's is; a server where it is on is refused, which this test cannot
/// show without changing the shared server).
#[tokio::test]
async fn a_sandbox_holds_events_that_never_run() {
    let db = MySqlDatabase::create();
    let mut store = connect(&db).await;
    let mut sandbox = store.open_sandbox().await.expect("a sandbox");
    sandbox
        .execute_script(
            "CREATE TABLE t (a INT);\n\
             CREATE EVENT fill ON SCHEDULE EVERY 1 SECOND DO INSERT INTO t VALUES (1);",
        )
        .await
        .expect("an event in the sandbox");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(count(sandbox.as_mut(), "SELECT COUNT(*) FROM t").await, 0);
    sandbox.close().await.expect("drop the sandbox");
}

#[tokio::test]
async fn indexes_checks_and_table_options() {
    check(
        "indexes_checks_and_table_options",
        USERS,
        "CREATE TABLE users (\n\
            id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
            email VARCHAR(100) NOT NULL,\n\
            name VARCHAR(50) CHARACTER SET latin1 DEFAULT 'anon' COMMENT 'shown',\n\
            kind ENUM('a', 'b') NOT NULL DEFAULT 'a',\n\
            bio TEXT,\n\
            updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n\
            KEY users_name (name(20)) COMMENT 'prefix' IGNORED,\n\
            FULLTEXT KEY users_bio (bio),\n\
            CONSTRAINT email_has_at CHECK (email LIKE '%@%')\n\
        ) ENGINE=InnoDB ROW_FORMAT=DYNAMIC COMMENT='everyone';\n",
        Renames::default(),
    )
    .await;
}

#[tokio::test]
async fn keys_views_triggers_and_a_declared_rename() {
    check(
        "keys_views_triggers_and_a_declared_rename",
        &format!(
            "{USERS}CREATE TABLE posts (id INT PRIMARY KEY, author INT UNSIGNED, title TEXT);\n\
             INSERT INTO posts VALUES (1, 1, 'hello');\n"
        ),
        "CREATE TABLE users (\n\
            id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
            email VARCHAR(100) NOT NULL,\n\
            display_name VARCHAR(50) CHARACTER SET latin1 DEFAULT 'anon' COMMENT 'shown',\n\
            kind ENUM('a', 'b') NOT NULL DEFAULT 'a',\n\
            bio TEXT,\n\
            updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n\
            KEY users_name (display_name(10) DESC),\n\
            UNIQUE KEY users_email (email)\n\
        ) ENGINE=InnoDB COMMENT='people';\n\
        CREATE TABLE posts (id INT PRIMARY KEY, author INT UNSIGNED, title TEXT,\n\
            CONSTRAINT posts_author FOREIGN KEY (author) REFERENCES users (id) ON DELETE CASCADE);\n\
        CREATE VIEW titles AS SELECT p.title, u.email FROM posts p JOIN users u ON u.id = p.author;\n\
        CREATE TRIGGER posts_title BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = TRIM(NEW.title);\n",
        Renames {
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "name".into(),
                to: "display_name".into(),
            }],
            ..Renames::default()
        },
    )
    .await;
}

#[tokio::test]
async fn a_new_auto_increment_key_and_a_dropped_table() {
    check(
        "a_new_auto_increment_key_and_a_dropped_table",
        "CREATE TABLE log (n INT NOT NULL, note TEXT);\n\
         INSERT INTO log VALUES (5, 'x'), (7, 'y');\n\
         CREATE TABLE gone (a INT);\n",
        "CREATE TABLE log (n INT NOT NULL AUTO_INCREMENT PRIMARY KEY, note TEXT);\n\
         CREATE TABLE counters (id BIGINT NOT NULL AUTO_INCREMENT, KEY (id)) ENGINE=InnoDB;\n",
        Renames::default(),
    )
    .await;
}

#[tokio::test]
async fn partitions_and_events() {
    check(
        "partitions_and_events",
        "CREATE TABLE hits (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))\n\
             PARTITION BY RANGE (YEAR(at)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION p1 VALUES LESS THAN MAXVALUE);\n\
         INSERT INTO hits VALUES (1, '2019-05-01'), (2, '2024-01-01');\n\
         CREATE EVENT cleanup ON SCHEDULE EVERY 1 HOUR DISABLE DO DELETE FROM hits WHERE at < '2000-01-01';\n\
         CREATE EVENT gone ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM hits;\n",
        "CREATE TABLE hits (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))\n\
             PARTITION BY RANGE (YEAR(at)) (PARTITION p0 VALUES LESS THAN (2020), \
             PARTITION p1 VALUES LESS THAN (2030), PARTITION p2 VALUES LESS THAN MAXVALUE);\n\
         CREATE EVENT cleanup ON SCHEDULE EVERY '1:30' HOUR_MINUTE ON COMPLETION PRESERVE DISABLE \
             COMMENT 'old rows' DO DELETE FROM hits WHERE at < '2001-01-01';\n",
        Renames::default(),
    )
    .await;
}

/// What introspection reads, `render_schema` writes back: a fresh database built from it
/// reads the same.
#[tokio::test]
async fn introspection_round_trips_through_render_schema() {
    let db = MySqlDatabase::create();
    let mut store = connect(&db).await;
    store
        .execute_script(&format!(
            "{USERS}CREATE TABLE posts (id INT PRIMARY KEY, author INT UNSIGNED, title TEXT,\n\
                 score DECIMAL(6,2) DEFAULT 1.5 CHECK (score >= 0),\n\
                 shout VARCHAR(300) AS (UPPER(title)) STORED,\n\
                 CONSTRAINT posts_author FOREIGN KEY (author) REFERENCES users (id) ON UPDATE CASCADE,\n\
                 FULLTEXT KEY posts_title (title)) ENGINE=InnoDB DEFAULT CHARSET=latin1;\n\
             CREATE VIEW titles AS SELECT p.title, u.email FROM posts p JOIN users u ON u.id = p.author \
                 WITH CHECK OPTION;\n\
             CREATE TRIGGER posts_title BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = TRIM(NEW.title);\n"
        ))
        .await
        .expect("schema");
    let read = introspect(&mut store).await;
    let ddl = MySqlDialect
        .render_schema(&read)
        .expect("render the schema");
    let copy = MySqlDatabase::create();
    let mut fresh = connect(&copy).await;
    fresh
        .execute_script(&ddl)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{ddl}"));
    assert_eq!(introspect(&mut fresh).await, read, "{ddl}");
    snapshot("render_schema", &ddl);
}

/// A scratch database whose run died (its lock is held by nobody) is dropped by the next
/// run that opens one; a live one is left alone.
#[tokio::test]
async fn scratch_databases_of_dead_runs_are_dropped() {
    let db = MySqlDatabase::create();
    let mut store = connect(&db).await;
    let mut live = store.open_scratch().await.expect("a live scratch database");
    let live_name = match live
        .query("SELECT DATABASE()", &[])
        .await
        .unwrap()
        .remove(0)
        .remove(0)
    {
        Value::Text(name) => name,
        other => panic!("{other:?}"),
    };
    let dead = format!("godwit_scratch_0_dead_{}", std::process::id());
    store
        .execute_script(&format!("CREATE DATABASE `{dead}`"))
        .await
        .unwrap();
    let mut other = store
        .open_scratch()
        .await
        .expect("another scratch database");
    let exists = |name: String| {
        format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'")
    };
    assert_eq!(count(&mut store, &exists(dead.clone())).await, 0);
    assert_eq!(count(&mut store, &exists(live_name.clone())).await, 1);
    other.close().await.unwrap();
    live.close().await.unwrap();
    assert_eq!(count(&mut store, &exists(live_name)).await, 0);
}

/// `USING BTREE` and `USING HASH` show only in `SHOW CREATE TABLE` (InnoDB builds a B-tree
/// either way): an index gaining or losing the clause is made again with it, and one that
/// keeps it is left alone.
#[tokio::test]
async fn index_algorithms_written_on_indexes() {
    check(
        "index_algorithms_written_on_indexes",
        "CREATE TABLE t (a INT, b INT, c INT, d INT,\n\
             KEY t_a (a) USING BTREE, KEY t_b (b), KEY t_d (d) USING BTREE);\n\
         INSERT INTO t VALUES (1, 2, 3, 4);\n",
        "CREATE TABLE t (a INT, b INT, c INT, d INT,\n\
             KEY t_a (a), KEY t_b (b) USING BTREE, KEY t_c (c, a) USING HASH COMMENT 'h',\n\
             KEY t_d (d) USING BTREE);\n",
        Renames::default(),
    )
    .await;
}

/// `KEY_BLOCK_SIZE` is read from the table's options, written on new tables, changed on
/// others, and taken away with `KEY_BLOCK_SIZE=0`.
#[tokio::test]
async fn key_block_sizes() {
    check(
        "key_block_sizes",
        "CREATE TABLE packed (id BIGINT) KEY_BLOCK_SIZE=8;\n\
         CREATE TABLE plain (id BIGINT);\n\
         INSERT INTO packed VALUES (1);\n\
         INSERT INTO plain VALUES (2);\n",
        "CREATE TABLE packed (id BIGINT);\n\
         CREATE TABLE plain (id BIGINT) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4;\n\
         CREATE TABLE fresh (id BIGINT) KEY_BLOCK_SIZE=8;\n",
        Renames::default(),
    )
    .await;
}

/// A primary key's comment is part of its definition: gaining, changing or losing one
/// makes the key again, and a new table is made with it.
#[tokio::test]
async fn primary_key_comments() {
    check(
        "primary_key_comments",
        "CREATE TABLE friends (a BIGINT NOT NULL PRIMARY KEY, b BIGINT NOT NULL);\n\
         CREATE TABLE noted (id INT NOT NULL, PRIMARY KEY (id) COMMENT 'old');\n\
         INSERT INTO friends VALUES (1, 2);\n\
         INSERT INTO noted VALUES (3);\n",
        "CREATE TABLE friends (a BIGINT NOT NULL, b BIGINT NOT NULL,\n\
             PRIMARY KEY (a, b) COMMENT 'pair');\n\
         CREATE TABLE noted (id INT NOT NULL, PRIMARY KEY (id) COMMENT 'new');\n\
         CREATE TABLE fresh (id INT NOT NULL PRIMARY KEY COMMENT 'a column comment',\n\
             x INT, KEY fresh_x (x)) COMMENT 'a table comment';\n\
         ALTER TABLE fresh DROP PRIMARY KEY, ADD PRIMARY KEY (id) COMMENT 'it''s new';\n",
        Renames::default(),
    )
    .await;
}
