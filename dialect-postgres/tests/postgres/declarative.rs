//! Declarative schemas end to end: the current schema is applied to a test database, the
//! desired one to a scratch database opened from it, both are introspected, diffed by core and
//! rendered; the rendered SQL is compared with its golden file in `tests/snapshots/`, then
//! executed, and the database must then introspect exactly as the desired schema did (and
//! diff to nothing). Rows the current SQL inserts must all still be there: every table that
//! exists before and after (under its new name when renamed) keeps its row count.
//!
//! Every case is one line of the table at the bottom: a name, the current SQL, the desired SQL
//! (and, for renames, the renames the user declared).

use std::fmt::Write as _;

use godwit_core::dialect::{HazardKind, RenderOptions, Statement, StatementKind};
use godwit_core::diff::{self, ColumnRename, EnumValueRename, Renames};
use godwit_core::schema::{Name, Schema};
use godwit_core::{Dialect, HistoryTable, Store, Value, declarative};
use godwit_postgres::{PgDialect, PgStore};
use godwit_tests::PgDatabase;
use godwit_tests::generated::lint_errors;
use godwit_tests::redundancy;

use crate::{Relay, connect, database_name, scalar, scratch_machine};

/// Read the whole schema of `store`'s database.
pub(crate) async fn introspect(store: &mut dyn Store) -> Schema {
    let mut results = Vec::new();
    for query in PgDialect.introspection_queries() {
        results.push(
            store
                .query(&query, &[])
                .await
                .unwrap_or_else(|error| panic!("{error}\n{query}")),
        );
    }
    PgDialect
        .schema_from_catalog(results)
        .expect("build the model")
}

/// Run rendered statements the way godwit does: those that may not run in a transaction
/// before or after it, the rest in one transaction, rolled back on the first failure. (Not
/// core's `apply`, whose errors leave out the rows a failed check returned.)
async fn apply(store: &mut PgStore, statements: &[Statement]) -> Result<(), String> {
    let lead = statements.iter().take_while(|s| !s.transactional).count();
    let trail = statements
        .iter()
        .rposition(|s| s.transactional)
        .map_or(lead, |last| last + 1);
    for statement in &statements[..lead] {
        run(store, statement).await?;
    }
    store.begin().await.map_err(|e| e.to_string())?;
    for statement in &statements[lead..trail] {
        if let Err(error) = run(store, statement).await {
            store.rollback().await.map_err(|e| e.to_string())?;
            return Err(error);
        }
    }
    store.commit().await.map_err(|e| e.to_string())?;
    for statement in &statements[trail..] {
        run(store, statement).await?;
    }
    Ok(())
}

async fn run(store: &mut PgStore, statement: &Statement) -> Result<(), String> {
    match &statement.kind {
        StatementKind::Execute => store
            .execute_script(&statement.sql)
            .await
            .map_err(|e| format!("{e}\n{}", statement.sql)),
        StatementKind::AssertEmpty { message } => {
            let rows = store
                .query(&statement.sql, &[])
                .await
                .map_err(|e| format!("{e}\n{}", statement.sql))?;
            if rows.is_empty() {
                Ok(())
            } else {
                Err(format!("{message}: {rows:?}"))
            }
        }
        other => Err(format!("unknown statement kind {other:?}")),
    }
}

/// The golden text of a rendering: each statement, and under it what it is, with every
/// hazard's count query run against the current database.
async fn golden(store: &mut PgStore, statements: &[Statement]) -> String {
    let mut text = String::new();
    for statement in statements {
        if statement.concurrent {
            text.push_str("-- concurrently, outside the transaction\n");
        } else if !statement.transactional {
            text.push_str("-- outside the transaction\n");
        }
        match &statement.kind {
            StatementKind::AssertEmpty { message } => {
                writeln!(text, "-- must return no rows, or: {message}").unwrap();
            }
            StatementKind::Execute => {}
            other => panic!("unknown statement kind {other:?}"),
        }
        writeln!(text, "{};", statement.sql.trim_end()).unwrap();
        if let Some(hint) = &statement.failure_hint {
            writeln!(text, "-- if it fails: {hint}").unwrap();
        }
        if let Some(hazard) = &statement.hazard {
            writeln!(text, "-- hazard {:?}: {}", hazard.kind, hazard.description).unwrap();
            let queries = [
                ("", &hazard.count_query),
                ("failing: ", &hazard.failing_query),
            ];
            for (label, query) in queries {
                let Some(query) = query else { continue };
                let rows = store
                    .query(query, &[])
                    .await
                    .unwrap_or_else(|error| panic!("count query {query}: {error}"));
                let [row] = rows.as_slice() else {
                    panic!("count query {query} returned {rows:?}")
                };
                let [Value::Int(count)] = row.as_slice() else {
                    panic!("count query {query} returned {row:?}")
                };
                writeln!(text, "--   {label}{query}\n--   => {count}").unwrap();
            }
        }
        text.push('\n');
    }
    text
}

/// A model with every table's columns in name order. Columns added to an existing table go
/// to its end, so the physical order after a change can differ from the desired schema's;
/// the diff matches columns by name and godwit does not reorder them.
fn columns_by_name(mut schema: Schema) -> Schema {
    for table in &mut schema.tables {
        table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The rendering of going from `current` to `desired`, on a fresh database holding `current`.
struct Migration {
    _db: PgDatabase,
    store: PgStore,
    scratch: Box<dyn Store>,
    _cleanup: DropIfPanicking,
    current: Schema,
    desired: Schema,
    changes: Vec<diff::Change>,
    statements: Vec<Statement>,
}

/// A failing test never reaches `close`, which would drop its scratch database; this drops it
/// then, as `PgDatabase` does for the test's own database.
struct DropIfPanicking {
    database: String,
}

impl Drop for DropIfPanicking {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let url = godwit_tests::pg_admin_url();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database);
        // A runtime of its own on a thread of its own: this may run inside the test's runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut conn)
                    .await
                    .map(drop)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop scratch database {}", self.database);
        }
    }
}

async fn migration(
    current: &str,
    desired: &str,
    renames: &Renames,
    options: &RenderOptions,
) -> Migration {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store
        .execute_script(current)
        .await
        .unwrap_or_else(|error| panic!("current schema: {error}"));
    let mut scratch = store.open_scratch().await.expect("open a scratch database");
    let database = database_name(scratch.as_mut()).await;
    let cleanup = DropIfPanicking { database };
    scratch
        .execute_script(desired)
        .await
        .unwrap_or_else(|error| panic!("desired schema: {error}"));
    let now = introspect(&mut store).await;
    let desired = introspect(scratch.as_mut()).await;
    let changes = diff::diff(&now, &desired, renames, PgDialect.diff_options());
    let statements = PgDialect
        .render(&changes, options)
        .unwrap_or_else(|error| panic!("render {changes:#?}: {error}"));
    Migration {
        _db: db,
        store,
        scratch,
        _cleanup: cleanup,
        current: now,
        desired,
        changes,
        statements,
    }
}

/// The whole round trip for one case, rendered with `options`.
async fn check(name: &str, current: &str, desired: &str, renames: Renames, options: RenderOptions) {
    let mut m = migration(current, desired, &renames, &options).await;
    let text = golden(&mut m.store, &m.statements).await;
    snapshot(name, &text);
    assert_lint_keeps_only_lost_data(&m.statements, &m.current);
    assert_nothing_needless(current, &m, &options).await;
    let before = row_counts(&mut m.store, &m.current).await;
    apply(&mut m.store, &m.statements)
        .await
        .unwrap_or_else(|error| panic!("applying the changes failed: {error}\n\n{text}"));
    let after = introspect(&mut m.store).await;
    let kept = row_counts(&mut m.store, &after).await;
    for (table, rows) in before {
        let now = renames
            .tables
            .iter()
            .find(|(old, _)| *old == table)
            .map_or(&table, |(_, new)| new);
        if let Some(left) = kept.iter().find(|(t, _)| t == now).map(|(_, n)| *n) {
            assert_eq!(left, rows, "table {table} lost rows after\n{text}");
        }
    }
    assert_eq!(
        columns_by_name(after.clone()),
        columns_by_name(m.desired.clone()),
        "the database does not match the desired schema after\n{text}"
    );
    assert_no_second_diff(&after, &m.desired);
    m.scratch.close().await.expect("drop the scratch database");
}

/// After the plan ran, the database (`after`) diffs to nothing against `desired`: a second
/// push would change nothing.
fn assert_no_second_diff(after: &Schema, desired: &Schema) {
    let again = diff::diff(
        after,
        desired,
        &Renames::default(),
        PgDialect.diff_options(),
    );
    assert!(again.is_empty(), "a second diff is not empty: {again:#?}");
}

/// The plan holds no statements that undo each other, and touches an object the two schemas
/// hold alike only where it must: without that change, on a fresh copy of the current
/// database (`current_sql`), it fails or misses the desired schema.
async fn assert_nothing_needless(current_sql: &str, m: &Migration, options: &RenderOptions) {
    let mut found = redundancy::cancelling(&PgDialect, &m.statements);
    let trials = redundancy::trials(
        &PgDialect,
        options,
        &m.changes,
        &m.statements,
        &m.current,
        &m.desired,
    );
    for trial in trials {
        let db = PgDatabase::create();
        let mut store = connect(&db).await;
        store.execute_script(current_sql).await.unwrap();
        if apply(&mut store, &trial.statements).await.is_ok()
            && columns_by_name(introspect(&mut store).await) == columns_by_name(m.desired.clone())
        {
            found.push(format!("needs no {}", trial.without));
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// Written as `godwit generate` writes them, `statements` pass the lint `godwit migrate` runs
/// on them (with the live schema `current`), except the drops of tables and columns the
/// desired schema gives up: exactly those keep an error, for the user to acknowledge.
fn assert_lint_keeps_only_lost_data(statements: &[Statement], current: &Schema) {
    let errors = lint_errors(&PgDialect, statements, current);
    let lost: Vec<&str> = statements
        .iter()
        .filter(|s| {
            s.hazard
                .as_ref()
                .is_some_and(|h| matches!(h.kind, HazardKind::DropTable | HazardKind::DropColumn))
        })
        .map(|s| s.sql.as_str())
        .collect();
    let at: Vec<&str> = errors.iter().map(|(_, sql)| *sql).collect();
    assert_eq!(
        at, lost,
        "lint errors left in the generated migration: {errors:#?}"
    );
    for (rule, sql) in &errors {
        assert!(
            ["drop-table", "drop-column"].contains(rule),
            "{rule}: {sql}"
        );
    }
}

/// How many rows each table of `schema` holds itself (not counting those of the tables that
/// inherit from it).
async fn row_counts(store: &mut PgStore, schema: &Schema) -> Vec<(Name, i64)> {
    let mut counts = Vec::new();
    for table in &schema.tables {
        let schema_name = table.name.schema.as_deref().unwrap_or("public");
        let sql = format!(
            "SELECT count(*) FROM ONLY \"{}\".\"{}\"",
            schema_name.replace('"', "\"\""),
            table.name.name.replace('"', "\"\"")
        );
        let Value::Int(count) = scalar(store, &sql).await else {
            panic!("{sql} returned no count")
        };
        counts.push((table.name.clone(), count));
    }
    counts
}

fn public(name: &str) -> Name {
    Name::qualified("public", name)
}

/// Declare one table, column and index rename, all in `public`.
fn renames(
    tables: &[(&str, &str)],
    columns: &[(&str, &str, &str)],
    indexes: &[(&str, &str)],
) -> Renames {
    Renames {
        tables: tables
            .iter()
            .map(|(from, to)| (public(from), public(to)))
            .collect(),
        columns: columns
            .iter()
            .map(|(table, from, to)| ColumnRename {
                table: public(table),
                from: (*from).into(),
                to: (*to).into(),
            })
            .collect(),
        indexes: indexes
            .iter()
            .map(|(from, to)| (public(from), public(to)))
            .collect(),
        enum_values: Vec::new(),
    }
}

/// Declare labels of enum `type_name` (in `public`) renamed.
fn labels(type_name: &str, renamed: &[(&str, &str)]) -> Renames {
    Renames {
        enum_values: renamed
            .iter()
            .map(|(from, to)| EnumValueRename {
                type_name: public(type_name),
                from: (*from).into(),
                to: (*to).into(),
            })
            .collect(),
        ..Renames::default()
    }
}

/// One test per row: `name: current SQL => desired SQL [, renames]`, rendered with the
/// default options, or with `options` given before the rows.
macro_rules! cases {
    (options: $options:expr; $($name:ident: $current:expr => $desired:expr $(, $renames:expr)?;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                #[allow(unused_mut, unused_assignments)]
                let mut declared = Renames::default();
                $(declared = $renames;)?
                check(stringify!($name), $current, $desired, declared, $options).await;
            }
        )*
    };
    ($($name:ident: $current:expr => $desired:expr $(, $renames:expr)?;)*) => {
        cases! { options: RenderOptions::default(); $($name: $current => $desired $(, $renames)?;)* }
    };
}

cases! {
    create_tables_with_circular_foreign_keys: "" =>
        "CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL, favourite_book bigint);
         CREATE TABLE books (id bigint PRIMARY KEY, title varchar(200) NOT NULL DEFAULT 'untitled',
             author_id bigint NOT NULL REFERENCES authors ON DELETE CASCADE,
             price numeric(10,2) CHECK (price > 0), UNIQUE (author_id, title));
         ALTER TABLE authors ADD CONSTRAINT favourite FOREIGN KEY (favourite_book)
             REFERENCES books (id) DEFERRABLE INITIALLY DEFERRED;
         CREATE INDEX books_title ON books (title);";

    drop_tables_that_reference_each_other:
        "CREATE TABLE a (id int PRIMARY KEY, b_id int);
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
         ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;
         CREATE TABLE kept (id int);
         INSERT INTO a VALUES (1, NULL), (2, NULL);" =>
        "CREATE TABLE kept (id int);";

    add_drop_and_alter_columns:
        "CREATE TABLE t (id int PRIMARY KEY, old text, amount text, note varchar(10), n int);
         INSERT INTO t VALUES (1, 'x', '10', 'a', 1), (2, NULL, '20', 'b', NULL);" =>
        "CREATE TABLE t (id int PRIMARY KEY, amount integer, note varchar(20) NOT NULL DEFAULT '',
             n bigint DEFAULT 0, added timestamptz NOT NULL DEFAULT now(), extra text);";

    drop_not_null_and_defaults:
        "CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL DEFAULT 'x', b int DEFAULT 1);" =>
        "CREATE TABLE t (id int PRIMARY KEY, a text, b int DEFAULT 2);";

    narrow_a_type:
        "CREATE TABLE t (id bigint, code varchar(20), price numeric(10,2));
         INSERT INTO t VALUES (1, 'abc', 1.5), (2, NULL, NULL), (3, 'abcdefgh', 1.25);" =>
        "CREATE TABLE t (id integer, code varchar(5), price numeric(10,1));";

    // An array narrows like its elements (varchar truncates, numeric rounds, silently).
    narrow_an_array:
        "CREATE TABLE t (labels varchar(20)[], rates numeric(8,3)[], ids int[]);
         INSERT INTO t VALUES ('{premium}', '{1.234}', '{1}'), (NULL, NULL, NULL);" =>
        "CREATE TABLE t (labels varchar(3)[], rates numeric(8,0)[], ids bigint[]);";

    primary_key_changes:
        "CREATE TABLE t (a int NOT NULL, b int NOT NULL, CONSTRAINT t_pkey PRIMARY KEY (a));
         CREATE TABLE u (id int PRIMARY KEY);
         CREATE TABLE v (id int NOT NULL);
         INSERT INTO t VALUES (1, 1), (2, 1);" =>
        "CREATE TABLE t (a int NOT NULL, b int NOT NULL, CONSTRAINT t_pkey PRIMARY KEY (a, b));
         CREATE TABLE u (id int NOT NULL);
         CREATE TABLE v (id int PRIMARY KEY);";

    renamed_unique_constraint_and_primary_key:
        "CREATE TABLE users (id int CONSTRAINT users_pk PRIMARY KEY, email text,
             CONSTRAINT \"Email_Unique\" UNIQUE (email));
         INSERT INTO users VALUES (1, 'a');" =>
        "CREATE TABLE users (id int CONSTRAINT users_pkey PRIMARY KEY, email text,
             CONSTRAINT email_unique UNIQUE (email));";

    unique_and_check_constraints:
        "CREATE TABLE t (id int, email text, code text, price int,
             CONSTRAINT t_email_key UNIQUE (email), CONSTRAINT positive CHECK (price > 0));
         INSERT INTO t VALUES (1, 'a', 'x', 1), (2, 'b', 'y', 2), (3, 'c', NULL, 3);" =>
        "CREATE TABLE t (id int, email text, code text, price int,
             CONSTRAINT t_code_key UNIQUE NULLS NOT DISTINCT (code),
             CONSTRAINT cheap CHECK (price < 100));";

    exclusion_constraints:
        "CREATE TABLE bookings (room int, during tsrange);" =>
        "CREATE TABLE bookings (room int, during tsrange,
             CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&));";

    foreign_key_changes:
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int, parent_id int CONSTRAINT child_parent REFERENCES parent,
             other_id int);
         CREATE TABLE other (id int PRIMARY KEY);
         INSERT INTO parent VALUES (1);
         INSERT INTO other VALUES (1);
         INSERT INTO child VALUES (1, 1, 1), (2, NULL, NULL);" =>
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE other (id int PRIMARY KEY);
         CREATE TABLE child (id int,
             parent_id int CONSTRAINT child_parent REFERENCES parent ON DELETE SET NULL,
             other_id int CONSTRAINT child_other REFERENCES other);";

    // MATCH FULL is part of a key: gaining it replaces the key.
    foreign_key_match_full:
        "CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
         CREATE TABLE child (a int, b int, CONSTRAINT child_parent FOREIGN KEY (a, b) REFERENCES parent);
         INSERT INTO parent VALUES (1, 1);
         INSERT INTO child VALUES (1, 1), (NULL, NULL);" =>
        "CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
         CREATE TABLE child (a int, b int,
             CONSTRAINT child_parent FOREIGN KEY (a, b) REFERENCES parent MATCH FULL);";

    // The key of a dropped table would stop the primary key it references from changing.
    drop_a_table_whose_key_references_a_changed_primary_key:
        "CREATE TABLE users (id int PRIMARY KEY);
         CREATE TABLE taggings (user_id int NOT NULL REFERENCES users (id), tag text);
         INSERT INTO users VALUES (1);
         INSERT INTO taggings VALUES (1, 'a');" =>
        "CREATE TABLE users (id int, user_id int PRIMARY KEY DEFAULT 1);";

    partial_and_expression_indexes:
        "CREATE TABLE users (id int, email text, active boolean, created timestamptz);
         CREATE INDEX users_email ON users (email);
         CREATE INDEX users_created ON users (created);" =>
        "CREATE TABLE users (id int, email text, active boolean, created timestamptz);
         CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE active;
         CREATE INDEX users_recent ON users (created DESC NULLS LAST, id);
         CREATE INDEX users_email_hash ON users USING hash (email);";

    renamed_table_column_and_index:
        "CREATE TABLE accounts (id serial PRIMARY KEY, username text, email text UNIQUE,
             login_count int);
         CREATE INDEX accounts_username ON accounts (username);
         CREATE INDEX accounts_login_count ON accounts (login_count);
         INSERT INTO accounts (username) VALUES ('ann'), ('bob');" =>
        "CREATE TABLE users (id serial PRIMARY KEY, user_name text, email text UNIQUE,
             login_count int);
         CREATE INDEX users_user_name ON users (user_name);
         CREATE INDEX users_login_count ON users (login_count);",
        renames(
            &[("accounts", "users")],
            &[("users", "username", "user_name")],
            &[("accounts_username", "users_user_name"), ("accounts_login_count", "users_login_count")],
        );

    create_and_drop_enums:
        "CREATE TYPE unused AS ENUM ('x');
         CREATE TABLE t (id int);" =>
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE t (id int, feeling mood NOT NULL DEFAULT 'ok', history mood[]);";

    // A label goes while the tables using the type stay as they are: their columns still
    // move to the rebuilt type, around the view that reads them.
    remove_an_enum_value_of_unchanged_tables:
        "CREATE TYPE role AS ENUM ('owner', 'billing', 'member');
         CREATE TABLE memberships (id int, role role NOT NULL DEFAULT 'member');
         CREATE VIEW owners AS SELECT id FROM memberships WHERE role = 'owner';
         INSERT INTO memberships VALUES (1, 'owner'), (2, 'member');" =>
        "CREATE TYPE role AS ENUM ('owner', 'member');
         CREATE TABLE memberships (id int, role role NOT NULL DEFAULT 'member');
         CREATE VIEW owners AS SELECT id FROM memberships WHERE role = 'owner';";

    // No cast leads from one enum to another: the columns go through text, and keep rows.
    column_to_another_enum:
        "CREATE TYPE old_status AS ENUM ('a', 'b');
         CREATE TABLE items (status old_status, history old_status[], label text);
         INSERT INTO items VALUES ('b', '{a,b}', 'a');" =>
        "CREATE TYPE new_status AS ENUM ('a', 'b', 'c');
         CREATE TABLE items (status new_status, history new_status[], label new_status);";

    add_enum_values:
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE t (feeling mood);" =>
        "CREATE TYPE mood AS ENUM ('awful', 'sad', 'ok', 'happy', 'ecstatic');
         CREATE TABLE t (feeling mood DEFAULT 'ecstatic');";

    rename_an_enum_value:
        "CREATE TYPE mood AS ENUM ('sad', 'okay', 'happy');
         CREATE TABLE t (feeling mood);
         INSERT INTO t VALUES ('okay');" =>
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE t (feeling mood);",
        labels("mood", &[("okay", "ok")]);

    // Declared renames run first, in place; the labels left over are added and removed.
    rename_add_and_remove_enum_values:
        "CREATE TYPE mood AS ENUM ('low', 'medium', 'high', 'unused');
         CREATE TABLE t (id int, feeling mood DEFAULT 'low');
         INSERT INTO t VALUES (1, 'low'), (2, 'medium'), (3, 'high');" =>
        "CREATE TYPE mood AS ENUM ('minor', 'normal', 'critical', 'new');
         CREATE TABLE t (id int, feeling mood DEFAULT 'minor');",
        labels("mood", &[("low", "minor"), ("medium", "normal"), ("high", "critical")]);

    // The addition runs before the transaction with the rename, so its neighbour has its old
    // name then.
    rename_and_add_enum_values:
        "CREATE TYPE workflow AS ENUM ('active', 'pending');
         CREATE TABLE jobs (state workflow);
         INSERT INTO jobs VALUES ('pending');" =>
        "CREATE TYPE workflow AS ENUM ('active', 'waiting', 'archived');
         CREATE TABLE jobs (state workflow);",
        labels("workflow", &[("pending", "waiting")]);

    // Without a declared rename a changed label is a removal and an addition, never a guess.
    an_undeclared_label_change_is_not_a_rename:
        "CREATE TYPE mood AS ENUM ('sad', 'okay', 'happy');" =>
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');";

    remove_an_unused_enum_value:
        "CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');" =>
        "CREATE TYPE mood AS ENUM ('sad', 'happy');";

    remove_enum_values_of_an_altered_table:
        "CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');
         CREATE TABLE t (id int, feeling mood DEFAULT 'sad', history mood[]);
         CREATE VIEW happy AS SELECT id FROM t WHERE feeling = 'happy';
         INSERT INTO t VALUES (1, 'happy', '{sad,happy}'), (2, 'sad', NULL);" =>
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE TABLE t (id int, feeling mood DEFAULT 'sad', history mood[], note text);
         CREATE VIEW happy AS SELECT id FROM t WHERE feeling = 'happy';";

    remove_enum_values_of_columns_that_change_type:
        "CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');
         CREATE TABLE t (id int, feeling mood DEFAULT 'meh', old mood, kept mood);
         INSERT INTO t VALUES (1, 'meh', 'meh', 'sad');" =>
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE t (id int, feeling text DEFAULT 'meh', kept mood);";

    views_on_a_changed_column:
        "CREATE TABLE t (id int, price int, name text);
         CREATE VIEW priced AS SELECT id, price FROM t;
         CREATE VIEW expensive AS SELECT id FROM priced WHERE price > 10;
         CREATE VIEW unrelated AS SELECT 1 AS one;
         INSERT INTO t VALUES (1, 20, 'a');" =>
        "CREATE TABLE t (id int, price numeric(12,2), name text);
         CREATE VIEW priced AS SELECT id, price FROM t;
         CREATE VIEW expensive AS SELECT id FROM priced WHERE price > 10;
         CREATE VIEW unrelated AS SELECT 1 AS one;
         CREATE VIEW names WITH (security_barrier) AS SELECT name FROM t;
         COMMENT ON VIEW names IS 'just the names';";

    materialized_views:
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total FROM t;
         CREATE VIEW gone AS SELECT id FROM t;" =>
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total, count(*) AS rows FROM t;
         CREATE MATERIALIZED VIEW ids AS SELECT id FROM t;";

    // Indexes of a materialized view are its own: added and dropped on it as on a table.
    materialized_view_gets_an_index:
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total FROM t GROUP BY id;
         INSERT INTO t VALUES (1, 2), (1, 3), (2, 4);" =>
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total FROM t GROUP BY id;
         CREATE UNIQUE INDEX totals_id ON totals (id);
         CREATE INDEX totals_big ON totals (total) WHERE total > 4;
         COMMENT ON INDEX totals_id IS 'for REFRESH ... CONCURRENTLY';";

    materialized_view_loses_an_index:
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total FROM t GROUP BY id;
         CREATE UNIQUE INDEX totals_id ON totals (id);
         CREATE INDEX totals_total ON totals (total);" =>
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total FROM t GROUP BY id;
         CREATE UNIQUE INDEX totals_id ON totals (id);";

    // A materialized view created again (its query changed, or the table it reads) comes back
    // with its indexes and their comments, in the same transaction.
    materialized_view_redefined_keeps_its_unique_index:
        "CREATE TABLE t (id int, n int, note text);
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total FROM t GROUP BY id;
         CREATE UNIQUE INDEX totals_id ON totals (id);
         COMMENT ON INDEX totals_id IS 'for REFRESH ... CONCURRENTLY';
         CREATE MATERIALIZED VIEW notes AS SELECT id, note FROM t;
         CREATE UNIQUE INDEX notes_id ON notes (id);
         INSERT INTO t VALUES (1, 2, 'a'), (2, 4, 'b');" =>
        "CREATE TABLE t (id int, n int, note varchar(20));
         CREATE MATERIALIZED VIEW totals AS SELECT id, sum(n) AS total, count(*) AS rows FROM t GROUP BY id;
         CREATE UNIQUE INDEX totals_id ON totals (id);
         COMMENT ON INDEX totals_id IS 'for REFRESH ... CONCURRENTLY';
         CREATE MATERIALIZED VIEW notes AS SELECT id, note FROM t;
         CREATE UNIQUE INDEX notes_id ON notes (id);";

    // Renamed like a table's index when declared.
    materialized_view_index_renamed:
        "CREATE TABLE t (id int);
         CREATE MATERIALIZED VIEW ids AS SELECT id FROM t;
         CREATE UNIQUE INDEX ids_old ON ids (id);" =>
        "CREATE TABLE t (id int);
         CREATE MATERIALIZED VIEW ids AS SELECT id FROM t;
         CREATE UNIQUE INDEX ids_id ON ids (id);",
        renames(&[], &[], &[("ids_old", "ids_id")]);

    triggers_and_functions:
        "CREATE TABLE t (id int, updated timestamptz);
         CREATE FUNCTION old_helper(a int, b text) RETURNS int LANGUAGE sql AS 'SELECT a';
         CREATE PROCEDURE cleanup() LANGUAGE sql AS 'DELETE FROM t';" =>
        "CREATE TABLE t (id int, updated timestamptz);
         CREATE TABLE audit (id int, at timestamptz);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             NEW.updated := now();
             RETURN NEW;
         END
         $$;
         CREATE FUNCTION audited() RETURNS int LANGUAGE sql AS 'SELECT count(*)::int FROM audit';
         CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE PROCEDURE cleanup() LANGUAGE sql AS 'DELETE FROM t WHERE id < 0';";

    changed_trigger_and_function:
        "CREATE TABLE t (id int, n int);
         CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.n := 1; RETURN NEW; END $$;
         CREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION bump();
         CREATE TRIGGER t_gone AFTER DELETE ON t FOR EACH ROW EXECUTE FUNCTION bump();" =>
        "CREATE TABLE t (id int, n int);
         CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.n := 2; RETURN NEW; END $$;
         CREATE TRIGGER t_bump BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION bump();";

    // Views and triggers stay through a change of their table, except where they use a
    // column that changes type or goes: PostgreSQL refuses that while they stand.
    dependants_of_a_changed_table:
        "CREATE TABLE t (id int PRIMARY KEY, n int, label text, gone int);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER t_big BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.n > 10)
             EXECUTE FUNCTION touch();
         CREATE TRIGGER t_label BEFORE UPDATE OF label ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE TRIGGER t_any BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE VIEW by_id AS SELECT id, label FROM t GROUP BY id;
         CREATE VIEW sized AS SELECT id, n FROM t;
         INSERT INTO t VALUES (1, 5, 'a', 1);" =>
        "CREATE TABLE t (id int PRIMARY KEY, n bigint, label text, extra text);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER t_big BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.n > 10)
             EXECUTE FUNCTION touch();
         CREATE TRIGGER t_label BEFORE UPDATE OF label ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE TRIGGER t_any BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE VIEW by_id AS SELECT id, label FROM t GROUP BY id;
         CREATE VIEW sized AS SELECT id, n FROM t;";

    // Functions wait for the types they take or return: a new table's row type, a new
    // domain; one whose result type changes is dropped and created again.
    functions_and_the_types_they_use:
        "CREATE FUNCTION total() RETURNS int LANGUAGE sql AS 'SELECT 1';
         COMMENT ON FUNCTION total() IS 'the sum';" =>
        "CREATE TABLE users (id int, active boolean);
         CREATE FUNCTION active_users() RETURNS SETOF users LANGUAGE sql
             AS 'SELECT * FROM users WHERE active';
         CREATE FUNCTION valid_email(s text) RETURNS boolean LANGUAGE sql IMMUTABLE
             AS 'SELECT s LIKE ''%@%''';
         CREATE DOMAIN email AS text CHECK (valid_email(VALUE));
         CREATE FUNCTION domain_of(e email) RETURNS text LANGUAGE sql AS 'SELECT split_part(e, ''@'', 2)';
         CREATE FUNCTION total() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';
         COMMENT ON FUNCTION total() IS 'the sum';";

    identity_columns:
        "CREATE TABLE a (id int NOT NULL, v text);
         CREATE TABLE b (id int GENERATED ALWAYS AS IDENTITY, v text);
         CREATE TABLE c (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 10), v text);
         CREATE TABLE e (id serial PRIMARY KEY);
         CREATE TABLE f (id int GENERATED ALWAYS AS IDENTITY);
         INSERT INTO a VALUES (5, 'x'), (7, 'y');
         INSERT INTO e VALUES (DEFAULT), (DEFAULT);
         INSERT INTO f VALUES (DEFAULT);" =>
        "CREATE TABLE a (id int GENERATED BY DEFAULT AS IDENTITY, v text);
         CREATE TABLE b (id int NOT NULL, v text);
         CREATE TABLE c (id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5), v text);
         CREATE TABLE d (id smallint GENERATED ALWAYS AS IDENTITY (START WITH 100 CACHE 10 CYCLE));
         CREATE TABLE e (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);
         CREATE TABLE f (id serial);";

    generated_columns:
        "CREATE TABLE t (a int, b int, c int GENERATED ALWAYS AS (a * 2) STORED,
             d int GENERATED ALWAYS AS (a + 1) STORED);
         INSERT INTO t (a, b) VALUES (1, 2);" =>
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 3) STORED,
             c int GENERATED ALWAYS AS (a * 4) STORED, d int,
             e text GENERATED ALWAYS AS ('#' || a::text) STORED);";

    serial_columns:
        "CREATE TABLE t (id serial PRIMARY KEY, counter bigserial, n int NOT NULL);
         CREATE TABLE plain (id int NOT NULL);
         INSERT INTO t (n) VALUES (1), (2);
         INSERT INTO plain VALUES (41), (42);" =>
        "CREATE TABLE t (id bigserial PRIMARY KEY, counter bigint NOT NULL, n int NOT NULL);
         CREATE TABLE plain (id serial);
         CREATE TABLE fresh (id smallserial, other serial);
         ALTER TABLE t ADD COLUMN more serial;";

    // The server names these sequences: numbered, as `orders_id_seq` is taken, and cut to
    // 63 bytes. Created as `serial`, they get the same names again.
    serial_sequences_named_by_the_server: "" =>
        "CREATE SEQUENCE orders_id_seq START 100;
         CREATE TABLE orders (id serial PRIMARY KEY, ticket int DEFAULT nextval('orders_id_seq'));
         CREATE TABLE a_table_name_long_enough_that_its_sequence_name_must_be_cut (id bigserial);";

    // A nullable column is not what `serial` makes, so the sequence it owns is in the model
    // by itself, and created before the table.
    nullable_column_owning_its_sequence: "" =>
        "CREATE TABLE t (id serial, n int);
         ALTER TABLE t ALTER COLUMN id DROP NOT NULL;";

    comments:
        "CREATE TABLE t (id int, a text, b text);
         COMMENT ON TABLE t IS 'old';
         COMMENT ON COLUMN t.a IS 'gone';" =>
        "CREATE TABLE t (id int, a text, b text);
         COMMENT ON TABLE t IS 'it''s new';
         COMMENT ON COLUMN t.b IS 'b';
         CREATE TABLE u (id int);
         COMMENT ON TABLE u IS 'u';
         COMMENT ON COLUMN u.id IS 'the id';";

    // Comments on other objects: set, changed, removed, kept on an object that is rebuilt
    // (the index and the view), and gone with a dropped object.
    object_comments:
        "CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY, n int CONSTRAINT n_positive CHECK (n > 0), p int);
         CREATE INDEX t_n ON t (n);
         CREATE INDEX t_p ON t (p);
         CREATE INDEX gone ON t (id, n);
         CREATE VIEW v AS SELECT id, n FROM t;
         CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
         CREATE TYPE mood AS ENUM ('ok', 'meh');
         CREATE DOMAIN email AS text;
         CREATE SEQUENCE counter;
         CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         COMMENT ON INDEX t_n IS 'by n';
         COMMENT ON INDEX t_p IS 'stays';
         COMMENT ON INDEX gone IS 'dropped with its index';
         COMMENT ON CONSTRAINT n_positive ON t IS 'old';
         COMMENT ON VIEW v IS 'the view';
         COMMENT ON TYPE mood IS 'to be removed';
         COMMENT ON FUNCTION f(int) IS 'identity';" =>
        "CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY, n bigint CONSTRAINT n_positive CHECK (n > 0), p int);
         CREATE INDEX t_n ON t (n);
         CREATE INDEX t_p ON t (p) WHERE p > 0;
         CREATE VIEW v AS SELECT id, n FROM t;
         CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
         CREATE TYPE mood AS ENUM ('ok', 'meh');
         CREATE DOMAIN email AS text;
         CREATE SEQUENCE counter;
         CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         COMMENT ON INDEX t_n IS 'by n';
         COMMENT ON INDEX t_p IS 'stays';
         COMMENT ON CONSTRAINT t_pkey ON t IS 'the key';
         COMMENT ON CONSTRAINT n_positive ON t IS 'it''s new';
         COMMENT ON VIEW v IS 'the view';
         COMMENT ON MATERIALIZED VIEW mv IS 'cached';
         COMMENT ON DOMAIN email IS 'an address';
         COMMENT ON SEQUENCE counter IS 'counts';
         COMMENT ON FUNCTION f(int) IS 'changed';
         COMMENT ON TRIGGER t_touch ON t IS 'touches';";

    schemas:
        "CREATE SCHEMA old;
         CREATE TABLE old.t (id int);" =>
        "CREATE SCHEMA app;
         CREATE SCHEMA \"Odd Name\";
         CREATE TABLE app.t (id int PRIMARY KEY);
         CREATE TABLE \"Odd Name\".\"Mixed Case\" (\"Id\" int REFERENCES app.t);
         CREATE INDEX ON \"Odd Name\".\"Mixed Case\" (\"Id\");
         CREATE TYPE app.colour AS ENUM ('red');
         CREATE TABLE app.paint (c app.colour);";

    domains:
        "CREATE DOMAIN positive AS int CHECK (VALUE > 0);
         CREATE DOMAIN gone AS text;
         CREATE DOMAIN code AS text DEFAULT 'x';
         CREATE DOMAIN label AS text DEFAULT 'x';
         CREATE TABLE t (n positive, c code);
         INSERT INTO t VALUES (5, 'a');" =>
        "CREATE DOMAIN positive AS int NOT NULL CONSTRAINT small CHECK (VALUE < 1000);
         CREATE DOMAIN code AS text CHECK (length(VALUE) < 10);
         CREATE DOMAIN label AS varchar(10);
         CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
         CREATE TABLE t (n positive, c code, e email);";

    extensions:
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;
         CREATE TABLE t (id int);" =>
        "CREATE EXTENSION IF NOT EXISTS citext;
         CREATE TABLE t (id int, email citext);";

    sequences:
        "CREATE SEQUENCE kept;
         CREATE SEQUENCE changed START 5;
         CREATE SEQUENCE gone;" =>
        "CREATE SEQUENCE kept;
         CREATE SEQUENCE changed AS integer START 5 INCREMENT 2 MAXVALUE 1000;
         CREATE SEQUENCE fresh AS bigint CYCLE;
         CREATE TABLE t (id int DEFAULT nextval('fresh'));";

    collations:
        "CREATE TABLE t (a text, b text COLLATE \"C\");" =>
        "CREATE TABLE t (a text COLLATE \"C\", b text, c varchar(3) COLLATE \"POSIX\");";

    // Keys and unique constraints checked at commit: changing when is dropping and adding.
    deferrable_constraints:
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY, code text CONSTRAINT t_code_key UNIQUE,
             other text CONSTRAINT t_other_key UNIQUE DEFERRABLE,
             parent_id int CONSTRAINT t_parent REFERENCES parent);
         INSERT INTO parent VALUES (1);
         INSERT INTO t VALUES (1, 'a', 'x', 1), (2, 'b', NULL, NULL);" =>
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY DEFERRABLE INITIALLY DEFERRED,
             code text CONSTRAINT t_code_key UNIQUE DEFERRABLE,
             other text CONSTRAINT t_other_key UNIQUE,
             parent_id int CONSTRAINT t_parent REFERENCES parent DEFERRABLE INITIALLY DEFERRED);
         CREATE TABLE fresh (id int PRIMARY KEY DEFERRABLE, code text UNIQUE DEFERRABLE INITIALLY DEFERRED);";

    // A logged table may not reference an unlogged one: the referencing table becomes
    // unlogged first, and the referenced one logged first, whatever their names.
    unlogged_tables:
        "CREATE UNLOGGED TABLE b_cache (id int PRIMARY KEY);
         CREATE UNLOGGED TABLE a_entries (id int, cache_id int REFERENCES b_cache);
         CREATE TABLE a_events (id int PRIMARY KEY);
         CREATE TABLE b_tags (event_id int REFERENCES a_events, tag text);
         INSERT INTO b_cache VALUES (1);
         INSERT INTO a_entries VALUES (1, 1);
         INSERT INTO a_events VALUES (1);
         INSERT INTO b_tags VALUES (1, 'x');" =>
        "CREATE TABLE b_cache (id int PRIMARY KEY);
         CREATE TABLE a_entries (id int, cache_id int REFERENCES b_cache);
         CREATE UNLOGGED TABLE a_events (id int PRIMARY KEY);
         CREATE UNLOGGED TABLE b_tags (event_id int REFERENCES a_events, tag text);
         CREATE UNLOGGED TABLE scratch (id int);";

    // Children get a parent's new column, type and default through the parent's own
    // statements (a child that declares the new column itself adds it first, so that it
    // stays its own); a child that declared a column the parent drops keeps it, one that only
    // inherited it loses it (counted apart from the parent's rows); a table joins a parent
    // with a check constraint.
    table_inheritance:
        "CREATE TABLE items (id int, name text DEFAULT 'x', legacy text,
             CONSTRAINT named CHECK (name <> ''));
         CREATE TABLE books (isbn text, legacy text) INHERITS (items);
         CREATE TABLE films (minutes int) INHERITS (items);
         CREATE TABLE loose (id int, name text);
         INSERT INTO items VALUES (1, 'a', 'x');
         INSERT INTO books VALUES (2, 'b', 'y', '978');
         INSERT INTO films VALUES (3, 'c', 'z', 90), (4, 'd', NULL, 100);
         INSERT INTO loose VALUES (5, 'e');" =>
        "CREATE TABLE items (id bigint, name text DEFAULT 'y', price int DEFAULT 0,
             CONSTRAINT named CHECK (name <> ''));
         CREATE TABLE books (isbn text, legacy text, price int DEFAULT 1) INHERITS (items);
         CREATE TABLE films (minutes int) INHERITS (items);
         CREATE TABLE loose (id bigint, name text DEFAULT 'y', price int DEFAULT 0) INHERITS (items);
         CREATE TABLE a_shorts (id bigint, short boolean NOT NULL DEFAULT true) INHERITS (items);";

    // A child keeps, as its own, a column it only inherited from a parent that drops it:
    // the parent drops it ONLY, and a sibling that does not keep it drops it itself.
    inherited_column_kept_by_a_child:
        "CREATE TABLE items (id int, legacy text);
         CREATE TABLE albums (tracks int) INHERITS (items);
         CREATE TABLE films (minutes int) INHERITS (items);
         INSERT INTO items VALUES (1, 'x');
         INSERT INTO albums VALUES (2, 'y', 10);
         INSERT INTO films VALUES (3, 'z', 90);" =>
        "CREATE TABLE items (id int);
         CREATE TABLE albums (tracks int, legacy text) INHERITS (items);
         CREATE TABLE films (minutes int) INHERITS (items);";

    // Leaving a parent that goes: the child keeps the columns, as its own, and not the
    // parent's check.
    leave_a_dropped_parent:
        "CREATE TABLE items (id int, name text CONSTRAINT named CHECK (name <> ''));
         CREATE TABLE books (isbn text) INHERITS (items);
         INSERT INTO items VALUES (1, 'a');
         INSERT INTO books VALUES (2, 'b', '978');" =>
        "CREATE TABLE books (id int, name text, isbn text);";

    // A column moves from one enum type to another through text, its default dropped
    // before and set after.
    column_to_another_enum_with_a_default:
        "CREATE TYPE old_status AS ENUM ('a', 'b', 'gone');
         CREATE TABLE items (id int, status old_status NOT NULL DEFAULT 'a');
         INSERT INTO items VALUES (1, 'a'), (2, 'b');" =>
        "CREATE TYPE new_status AS ENUM ('a', 'b', 'c');
         CREATE TABLE items (id int, status new_status NOT NULL DEFAULT 'b');";

    partitioned_tables:
        "CREATE TABLE events (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
         CREATE INDEX events_at ON events (at);" =>
        "CREATE TABLE events (id int, at date NOT NULL, kind text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
         CREATE TABLE a_events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE events_other PARTITION OF events DEFAULT;
         CREATE INDEX events_at ON events (at);
         CREATE INDEX events_kind ON events (kind);";
}

// With concurrent index changes: the indexes of existing tables are dropped before the
// transaction and built after it, concurrently; those of new and partitioned tables, and a
// unique index a new foreign key references, stay in the transaction.
cases! {
    options: RenderOptions::default().with_concurrent_indexes(true);

    concurrent_index_changes:
        "CREATE TABLE t (id int PRIMARY KEY, a int, b text, gone int);
         CREATE INDEX t_a ON t (a);
         CREATE INDEX t_b ON t (b);
         CREATE INDEX t_gone ON t (gone);
         CREATE TABLE parent (id int PRIMARY KEY, code text NOT NULL);
         CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO t VALUES (1, 1, 'x', 1), (2, 2, 'y', NULL);
         INSERT INTO parent VALUES (1, 'p');" =>
        "CREATE TABLE t (id int PRIMARY KEY, a int, b text, added int);
         CREATE UNIQUE INDEX t_a ON t (a) WHERE a > 0;
         CREATE INDEX t_b ON t (b);
         CREATE INDEX t_added ON t (added);
         CREATE TABLE parent (id int PRIMARY KEY, code text NOT NULL);
         CREATE UNIQUE INDEX parent_code ON parent (code);
         CREATE TABLE child (id int PRIMARY KEY, parent_code text REFERENCES parent (code));
         CREATE INDEX child_parent ON child (parent_code);
         CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE INDEX events_at ON events (at);
         CREATE INDEX events_2024_id ON events_2024 (id);";

    // A materialized view that stays gets and loses indexes concurrently; one created, or
    // created again, gets them in the transaction that creates it.
    concurrent_materialized_view_indexes:
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW stays AS SELECT id, n FROM t;
         CREATE INDEX stays_n ON stays (n);
         CREATE MATERIALIZED VIEW redone AS SELECT id FROM t;
         CREATE UNIQUE INDEX redone_id ON redone (id);
         INSERT INTO t VALUES (1, 1);" =>
        "CREATE TABLE t (id int, n int);
         CREATE MATERIALIZED VIEW stays AS SELECT id, n FROM t;
         CREATE UNIQUE INDEX stays_id ON stays (id);
         CREATE MATERIALIZED VIEW redone AS SELECT id, n FROM t;
         CREATE UNIQUE INDEX redone_id ON redone (id);
         CREATE MATERIALIZED VIEW fresh AS SELECT n FROM t;
         CREATE INDEX fresh_n ON fresh (n);";
}

/// The roles the access cases grant to. Roles belong to the cluster, which the tests share, so
/// each case creates them when they are missing, and a case racing another for that is fine.
const ROLES: &str = "DO $$ BEGIN
     CREATE ROLE godwit_reader NOLOGIN;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
     DO $$ BEGIN
     CREATE ROLE godwit_writer NOLOGIN;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;";

// Row-level security, policies, privileges and owners. The diff sees every role here; which
// roles a plan changes is decided before the diff (`Scope`, tested with `push`).
cases! {
    enable_row_security_and_create_policies:
        &format!("{ROLES} CREATE TABLE docs (id int PRIMARY KEY, author text, body text);") =>
        "CREATE TABLE docs (id int PRIMARY KEY, author text, body text);
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         ALTER TABLE docs FORCE ROW LEVEL SECURITY;
         CREATE POLICY own ON docs FOR SELECT TO godwit_reader, godwit_writer
             USING (author = current_user);
         CREATE POLICY only_own ON docs AS RESTRICTIVE FOR INSERT TO godwit_writer
             WITH CHECK (author = current_user);
         CREATE TABLE notes (id int, secret boolean);
         ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
         CREATE POLICY open ON notes USING (NOT secret);";

    // ALTER POLICY where it can (roles, expressions), drop and create where it cannot (the
    // command, permissive or restrictive, an expression that goes).
    change_and_drop_policies:
        &format!("{ROLES} CREATE TABLE docs (id int PRIMARY KEY, author text, body text);
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         ALTER TABLE docs FORCE ROW LEVEL SECURITY;
         CREATE POLICY readers ON docs FOR SELECT USING (true);
         CREATE POLICY writers ON docs FOR UPDATE TO godwit_writer USING (author = current_user)
             WITH CHECK (author = current_user);
         CREATE POLICY kind ON docs AS PERMISSIVE FOR DELETE USING (false);
         CREATE POLICY gone ON docs FOR INSERT WITH CHECK (true);") =>
        "CREATE TABLE docs (id int PRIMARY KEY, author text, body text);
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         CREATE POLICY readers ON docs FOR SELECT TO godwit_reader USING (body IS NOT NULL);
         CREATE POLICY writers ON docs FOR UPDATE TO godwit_writer USING (author = current_user);
         CREATE POLICY kind ON docs AS RESTRICTIVE FOR DELETE USING (false);";

    // PostgreSQL refuses to change the type of a column a policy uses: the policy makes way.
    retype_a_column_a_policy_uses:
        "CREATE TABLE docs (id int PRIMARY KEY, level int);
         CREATE POLICY low ON docs USING (level < 3);
         INSERT INTO docs VALUES (1, 1);" =>
        "CREATE TABLE docs (id int PRIMARY KEY, level bigint);
         CREATE POLICY low ON docs USING (level < 3);";

    grant_on_tables_views_sequences_and_columns:
        &format!("{ROLES} CREATE TABLE counters (id serial PRIMARY KEY, n int, secret text);
         CREATE VIEW public_counters AS SELECT id, n FROM counters;") =>
        "CREATE TABLE counters (id serial PRIMARY KEY, n int, secret text);
         CREATE VIEW public_counters AS SELECT id, n FROM counters;
         CREATE TABLE fresh (id int);
         GRANT SELECT, INSERT ON counters TO godwit_writer WITH GRANT OPTION;
         GRANT SELECT (id, n), UPDATE (n) ON counters TO godwit_reader;
         GRANT USAGE ON SEQUENCE counters_id_seq TO godwit_writer;
         GRANT SELECT ON public_counters TO PUBLIC;
         GRANT SELECT ON fresh TO godwit_reader;";

    revoke_privileges_and_grant_options:
        &format!("{ROLES} CREATE TABLE t (id int, note text);
         GRANT SELECT, INSERT, UPDATE ON t TO godwit_writer WITH GRANT OPTION;
         GRANT SELECT (id, note) ON t TO godwit_reader;
         GRANT SELECT ON t TO PUBLIC;") =>
        "CREATE TABLE t (id int, note text);
         GRANT SELECT, INSERT ON t TO godwit_writer;
         GRANT SELECT (id) ON t TO godwit_reader;";

    // A view made again comes back without its privileges; a renamed table keeps its own.
    privileges_of_a_recreated_view_and_a_renamed_table:
        &format!("{ROLES} CREATE TABLE t (id int, note text);
         CREATE VIEW v AS SELECT id FROM t;
         GRANT SELECT ON v TO godwit_reader;
         GRANT SELECT (note) ON t TO godwit_reader;
         GRANT INSERT ON t TO godwit_writer;") =>
        "CREATE TABLE t2 (id int, remark text);
         CREATE VIEW v AS SELECT id, remark FROM t2;
         GRANT SELECT ON v TO godwit_reader;
         GRANT SELECT (remark) ON t2 TO godwit_reader;
         GRANT INSERT ON t2 TO godwit_writer;",
        renames(&[("t", "t2")], &[("t2", "note", "remark")], &[]);

    give_relations_to_their_declared_owner:
        &format!("{ROLES} CREATE TABLE t (id int);
         CREATE TABLE kept (id int);
         ALTER TABLE kept OWNER TO godwit_writer;") =>
        "CREATE TABLE t (id int);
         ALTER TABLE t OWNER TO godwit_writer;
         CREATE VIEW v AS SELECT id FROM t;
         ALTER VIEW v OWNER TO godwit_reader;
         CREATE TABLE kept (id int);
         ALTER TABLE kept OWNER TO godwit_writer;";
}

/// The columns of every table move to the rebuilt type; a domain over it cannot be seen
/// from the change, so the rebuild stops before anything is lost.
#[tokio::test]
async fn removing_enum_values_that_a_domain_uses_is_stopped_and_rolled_back() {
    let mut m = migration(
        "CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');
         CREATE DOMAIN cheerful AS mood CHECK (VALUE <> 'sad');
         CREATE TABLE t (feeling mood, outlook cheerful);
         INSERT INTO t VALUES ('sad', 'happy');",
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE DOMAIN cheerful AS mood CHECK (VALUE <> 'sad');
         CREATE TABLE t (feeling mood, outlook cheerful);",
        &Renames::default(),
        &RenderOptions::default(),
    )
    .await;
    let before = introspect(&mut m.store).await;
    let error = apply(&mut m.store, &m.statements)
        .await
        .expect_err("the rebuild must stop");
    assert!(
        error.contains("type public.mood loses values ('meh')") && error.contains("cheerful"),
        "{error}"
    );
    assert_eq!(introspect(&mut m.store).await, before, "nothing may change");
    m.scratch.close().await.unwrap();
}

#[tokio::test]
async fn changing_how_a_table_is_partitioned_is_refused() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store
        .execute_script("CREATE TABLE e (id int, at date) PARTITION BY RANGE (at)")
        .await
        .unwrap();
    let mut scratch = store.open_scratch().await.unwrap();
    scratch
        .execute_script("CREATE TABLE e (id int, at date) PARTITION BY LIST (id)")
        .await
        .unwrap();
    let changes = diff::diff(
        &introspect(&mut store).await,
        &introspect(scratch.as_mut()).await,
        &Renames::default(),
        PgDialect.diff_options(),
    );
    let error = PgDialect
        .render(&changes, &RenderOptions::default())
        .expect_err("cannot repartition");
    assert!(
        error
            .to_string()
            .contains("table public.e changes how it is partitioned"),
        "{error}"
    );
    scratch.close().await.unwrap();
}

/// Core's `introspect`, the function every declarative command calls, runs on a store that
/// counts what it is asked to send; the count must not grow with the number of tables.
#[tokio::test]
async fn introspection_costs_the_same_few_queries_whatever_the_table_count() {
    let mut counts = Vec::new();
    for tables in [5, 50] {
        let db = PgDatabase::create();
        let mut store = connect(&db).await;
        let sql: String = (0..tables)
            .map(|i| {
                format!(
                    "CREATE TABLE t{i} (id int PRIMARY KEY, v text UNIQUE, n int CHECK (n > 0));\n\
                     CREATE INDEX t{i}_n ON t{i} (n);\n"
                )
            })
            .collect();
        store.execute_script(&sql).await.unwrap();
        let mut counting = Relay::new(store);
        let schema = declarative::introspect(&mut counting, &HistoryTable::default())
            .await
            .unwrap();
        assert_eq!(schema.tables.len(), tables);
        counts.push(counting.requests);
    }
    assert_eq!(counts[0], counts[1], "requests for 5 and for 50 tables");
    // Seventeen catalog queries, plus the transaction around them.
    assert!(counts[0] <= 18, "{} requests to introspect", counts[0]);
}

/// Introspection's queries see one snapshot: they run in one REPEATABLE READ, READ ONLY
/// transaction, whose snapshot is taken by the first and kept by the rest; inside a
/// transaction of the caller's they run in it.
#[tokio::test]
async fn catalog_queries_share_one_read_only_snapshot() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let queries = [
        "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')",
        "SELECT now()::text",
        "SELECT pg_sleep(0.01)::text, now()::text",
    ]
    .map(String::from);
    let results = store.query_snapshot(&queries).await.unwrap();
    let text = |value: &Value| match value {
        Value::Text(text) => text.clone(),
        other => panic!("expected text, got {other:?}"),
    };
    assert_eq!(text(&results[0][0][0]), "repeatable read");
    assert_eq!(text(&results[0][0][1]), "on");
    // `now()` is the transaction's start: the same for every query of one transaction.
    assert_eq!(results[1][0][0], results[2][0][1]);
    // The transaction is over: a write works again.
    store
        .execute_script("CREATE TABLE after_snapshot (id int)")
        .await
        .unwrap();
    let failed = store
        .query_snapshot(&["SELECT 1".into(), "SELECT * FROM no_such_table".into()])
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("no_such_table"), "{failed}");
    store
        .execute_script("DROP TABLE after_snapshot")
        .await
        .unwrap();
}

/// A run killed or interrupted before it dropped its scratch database leaves it on the
/// server; the next scratch database made from this machine drops it. One made by another
/// machine, or by a process that still runs, is left alone.
#[tokio::test]
async fn scratch_databases_of_dead_runs_on_this_machine_are_dropped() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    // godwit_scratch_<machine>_<pid>_...: a pid above Linux's largest runs nowhere.
    let machine = scratch_machine(&mut store).await;
    let dead = format!("godwit_scratch_{machine}_4194999_0_0");
    let other_machine = if machine == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    let elsewhere = format!("godwit_scratch_{other_machine}_4194999_0_0");
    for leftover in [&dead, &elsewhere] {
        store
            .execute_script(&format!("CREATE DATABASE \"{leftover}\""))
            .await
            .unwrap();
    }
    let mut scratch = store.open_scratch().await.unwrap();
    scratch.close().await.unwrap();
    let exists = |name: &str| {
        format!("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = '{name}'")
    };
    assert_eq!(scalar(&mut store, &exists(&dead)).await, Value::Int(0));
    assert_eq!(scalar(&mut store, &exists(&elsewhere)).await, Value::Int(1));
    store
        .execute_script(&format!("DROP DATABASE \"{elsewhere}\""))
        .await
        .unwrap();
}

#[tokio::test]
async fn closing_a_scratch_database_drops_it() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store
        .execute_script("CREATE TABLE kept (id int)")
        .await
        .unwrap();
    let mut scratch = store.open_scratch().await.expect("open a scratch database");
    let name = database_name(scratch.as_mut()).await;
    assert!(name.starts_with("godwit_scratch_"), "{name}");
    // A scratch database starts empty, whatever the database it was opened from holds.
    assert!(introspect(scratch.as_mut()).await.tables.is_empty());
    let exists = "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1";
    let params = [Value::from(name.as_str())];
    assert_eq!(store.query(exists, &params).await.unwrap().len(), 1);
    scratch.close().await.expect("close drops it");
    assert!(store.query(exists, &params).await.unwrap().is_empty());
    scratch.close().await.expect("closing twice is harmless");
    // The store it was opened from is untouched.
    assert_eq!(introspect(&mut store).await.tables.len(), 1);
}

#[tokio::test]
async fn an_inspected_schema_recreates_itself() {
    let source = PgDatabase::create();
    let mut store = connect(&source).await;
    store
        .execute_script(
            "CREATE EXTENSION IF NOT EXISTS citext;
             CREATE SCHEMA app;
             CREATE TYPE app.status AS ENUM ('new', 'done');
             CREATE DOMAIN app.email AS citext CHECK (VALUE LIKE '%@%');
             CREATE SEQUENCE app.tickets START 100;
             CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN NEW.changed := now(); RETURN NEW; END $$;
             CREATE TABLE app.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 email app.email NOT NULL UNIQUE, name text COLLATE \"C\",
                 manager bigint REFERENCES app.users ON DELETE SET NULL);
             CREATE TABLE app.tasks (id serial PRIMARY KEY,
                 owner bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
                 ticket int DEFAULT nextval('app.tickets'), status app.status NOT NULL DEFAULT 'new',
                 title text NOT NULL CHECK (title <> ''), words int GENERATED ALWAYS AS
                 (array_length(string_to_array(title, ' '), 1)) STORED, changed timestamptz,
                 during tstzrange, EXCLUDE USING gist (during WITH &&));
             CREATE INDEX tasks_open ON app.tasks (owner) WHERE status = 'new';
             CREATE TRIGGER tasks_stamp BEFORE UPDATE ON app.tasks
                 FOR EACH ROW EXECUTE FUNCTION app.stamp();
             CREATE VIEW app.open_tasks AS SELECT id, title FROM app.tasks WHERE status = 'new';
             CREATE MATERIALIZED VIEW app.counts AS SELECT owner, count(*) FROM app.tasks GROUP BY owner;
             CREATE UNIQUE INDEX counts_owner ON app.counts (owner);
             COMMENT ON INDEX app.counts_owner IS 'for REFRESH ... CONCURRENTLY';
             COMMENT ON TABLE app.tasks IS 'work to do';
             COMMENT ON COLUMN app.tasks.title IS 'what to do';",
        )
        .await
        .unwrap();
    let schema = introspect(&mut store).await;
    let ddl = PgDialect.render_schema(&schema).expect("render the schema");
    snapshot("inspected_schema", &ddl);

    let copy = PgDatabase::create();
    let mut other = connect(&copy).await;
    other
        .execute_script(&ddl)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{ddl}"));
    assert_eq!(introspect(&mut other).await, schema);
}

#[tokio::test]
async fn new_sequences_continue_after_the_values_already_there() {
    let mut m = migration(
        "CREATE TABLE a (id int NOT NULL, v text);
         CREATE TABLE b (id int NOT NULL);
         INSERT INTO a VALUES (5, 'x'), (7, 'y');
         INSERT INTO b VALUES (41);",
        "CREATE TABLE a (id int GENERATED BY DEFAULT AS IDENTITY, v text);
         CREATE TABLE b (id serial);",
        &Renames::default(),
        &RenderOptions::default(),
    )
    .await;
    apply(&mut m.store, &m.statements).await.unwrap();
    let next_a = "INSERT INTO a (v) VALUES ('z') RETURNING id::bigint";
    assert_eq!(scalar(&mut m.store, next_a).await, Value::Int(8));
    let next_b = "INSERT INTO b DEFAULT VALUES RETURNING id::bigint";
    assert_eq!(scalar(&mut m.store, next_b).await, Value::Int(42));
    m.scratch.close().await.unwrap();
}

/// A `serial` column of the desired schema against a live one that owns a sequence of another
/// name: the plan is `expected` (never a new sequence beside the column's own), the sequence
/// drawn to 42 beforehand goes on at 43 in `table`.`column` after it, and a second diff is
/// empty.
async fn serial_keeps_its_sequence(
    current: &str,
    desired: &str,
    renames: &Renames,
    (table, column): (&str, &str),
    expected: &[&str],
) {
    let mut m = migration(current, desired, renames, &RenderOptions::default()).await;
    let planned: Vec<&str> = m.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(planned, expected, "{:#?}", m.changes);
    apply(&mut m.store, &m.statements).await.unwrap();
    let after = introspect(&mut m.store).await;
    assert!(after.sequences.is_empty(), "{:#?}", after.sequences);
    assert_no_second_diff(&after, &m.desired);
    let next = format!("INSERT INTO {table} DEFAULT VALUES RETURNING {column}::bigint");
    assert_eq!(scalar(&mut m.store, &next).await, Value::Int(43));
    m.scratch.close().await.unwrap();
}

/// A table renamed by hand keeps the sequence `serial` named after its old name.
#[tokio::test]
async fn a_serial_column_of_a_table_renamed_by_hand_keeps_its_sequence() {
    serial_keeps_its_sequence(
        "CREATE TABLE orders (id serial PRIMARY KEY, note text);
         ALTER TABLE orders RENAME TO purchases;
         ALTER TABLE purchases RENAME CONSTRAINT orders_pkey TO purchases_pkey;
         SELECT setval('orders_id_seq', 42);",
        "CREATE TABLE purchases (id serial PRIMARY KEY, note text);",
        &Renames::default(),
        ("purchases", "id"),
        &[],
    )
    .await;
}

/// PostgreSQL cuts a sequence's name to 63 bytes, so it is not `<table>_<column>_seq`.
#[tokio::test]
async fn a_serial_column_whose_sequence_name_the_server_cut_keeps_it() {
    let old = "o".repeat(60);
    let new = "n".repeat(60);
    serial_keeps_its_sequence(
        &format!(
            "CREATE TABLE {old} (id bigserial NOT NULL);
             ALTER TABLE {old} RENAME TO {new};
             SELECT setval(pg_catalog.pg_get_serial_sequence('{new}', 'id'), 42);"
        ),
        &format!("CREATE TABLE {new} (id bigserial);"),
        &Renames::default(),
        (&new, "id"),
        &[],
    )
    .await;
}

/// `serial` numbers the name of its sequence when `<table>_<column>_seq` is taken: the
/// column keeps `orders_id_seq1` when the sequence that took the name goes.
#[tokio::test]
async fn a_serial_column_whose_sequence_name_was_taken_keeps_its_sequence() {
    serial_keeps_its_sequence(
        "CREATE SEQUENCE orders_id_seq;
         CREATE TABLE orders (id serial PRIMARY KEY, note text);
         SELECT setval('orders_id_seq1', 42);",
        "CREATE TABLE orders (id serial PRIMARY KEY, note text);",
        &Renames::default(),
        ("orders", "id"),
        &["DROP SEQUENCE \"public\".\"orders_id_seq\""],
    )
    .await;
}

/// A declared rename of a `serial` column takes its sequence along to the name `serial`
/// gives under the new name, keeping its value.
#[tokio::test]
async fn a_renamed_serial_column_takes_its_sequence_along() {
    serial_keeps_its_sequence(
        "CREATE TABLE orders (id serial PRIMARY KEY, note text);
         SELECT setval('orders_id_seq', 42);",
        "CREATE TABLE orders (order_id serial PRIMARY KEY, note text);",
        &renames(&[], &[("orders", "id", "order_id")], &[]),
        ("orders", "order_id"),
        &[
            "ALTER TABLE \"public\".\"orders\" RENAME COLUMN \"id\" TO \"order_id\"",
            "ALTER SEQUENCE \"public\".\"orders_id_seq\" RENAME TO \"orders_order_id_seq\"",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_scratch_database_reads_names_as_its_origin_does() {
    // With a work schema, unqualified names land in it on both sides, and the deparsers
    // (which qualify names off the search path) write them alike.
    let db = PgDatabase::create();
    let options = godwit_postgres::PgOptions {
        schema: Some("app".into()),
        ..godwit_postgres::PgOptions::default()
    };
    let mut store = PgStore::connect(&db.url, &options).await.unwrap();
    let mut scratch = store.open_scratch().await.unwrap();
    let desired_sql = "CREATE TYPE mood AS ENUM ('ok');
         CREATE TABLE t (id serial PRIMARY KEY, m mood DEFAULT 'ok');
         CREATE VIEW v AS SELECT m FROM t;";
    scratch.execute_script(desired_sql).await.unwrap();
    let desired = introspect(scratch.as_mut()).await;
    assert_eq!(desired.schemas, ["app"]);
    assert_eq!(desired.tables[0].name, Name::qualified("app", "t"));
    let changes = diff::diff(
        &introspect(&mut store).await,
        &desired,
        &Renames::default(),
        PgDialect.diff_options(),
    );
    let statements = PgDialect
        .render(&changes, &RenderOptions::default())
        .unwrap();
    apply(&mut store, &statements).await.unwrap();
    assert_eq!(introspect(&mut store).await, desired);
    scratch.close().await.unwrap();
}

/// What `push` makes of changes by the rows they touch, each case on a database of its own,
/// and shown right by applying the plan anyway (`godwit_tests::verdicts`): a type change that
/// can only fail (text to an enum, to an integer; a narrower integer) asks nothing when every
/// value converts and is refused with the count of those that would not; one that alters
/// values (cuts, rounds) asks for those, and is refused for those it cannot convert; one that
/// cannot be counted asks for every value. A new NOT NULL column without a default, a new key
/// column among them, is refused on a table with rows.
#[tokio::test]
async fn push_judges_changes_by_the_rows_they_touch() {
    use godwit_tests::verdicts::{Case, Verdict, judge};
    let cases = [
        Case {
            name: "text to an enum whose labels cover every value",
            current: "CREATE TABLE t (id int, status text, tags text[]);
                      INSERT INTO t VALUES (1, 'open', '{open,done}'), (2, 'done', NULL),
                          (3, NULL, '{}');",
            desired: "CREATE TYPE status AS ENUM ('open', 'done', 'lost');
                      CREATE TABLE t (id int, status status, tags status[]);",
            verdict: Verdict::Free,
        },
        Case {
            name: "text to an enum missing labels",
            current: "CREATE TABLE t (id int, status text);
                      INSERT INTO t VALUES (1, 'open'), (2, 'closed'), (3, 'Open');",
            desired: "CREATE TYPE status AS ENUM ('open', 'done');
                      CREATE TABLE t (id int, status status);",
            verdict: Verdict::Refused(2),
        },
        Case {
            name: "text array to an enum array with an element missing",
            current: "CREATE TABLE t (id int, tags text[]);
                      INSERT INTO t VALUES (1, '{open,done}'), (2, '{open,gone}');",
            desired: "CREATE TYPE status AS ENUM ('open', 'done');
                      CREATE TABLE t (id int, tags status[]);",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "text to an enum the database already has",
            current: "CREATE TYPE mood AS ENUM ('sad', 'ok');
                      CREATE TABLE t (id int, m text);
                      INSERT INTO t VALUES (1, 'ok'), (2, NULL);",
            desired: "CREATE TYPE mood AS ENUM ('sad', 'ok');
                      CREATE TABLE t (id int, m mood);",
            verdict: Verdict::Free,
        },
        Case {
            name: "text to an enum the database already has, missing a label",
            current: "CREATE TYPE mood AS ENUM ('sad', 'ok');
                      CREATE TABLE t (id int, m text);
                      INSERT INTO t VALUES (1, 'ok'), (2, 'glad');",
            desired: "CREATE TYPE mood AS ENUM ('sad', 'ok');
                      CREATE TABLE t (id int, m mood);",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "text to integer, every value a number",
            current: "CREATE TABLE t (id int, n text);
                      INSERT INTO t VALUES (1, '12'), (2, ' -7 '), (3, NULL);",
            desired: "CREATE TABLE t (id int, n integer);",
            verdict: Verdict::Free,
        },
        Case {
            name: "text to integer over words and too large a number",
            current: "CREATE TABLE t (id int, n text);
                      INSERT INTO t VALUES (1, '12'), (2, 'twelve'), (3, '99999999999'), (4, '1.5');",
            desired: "CREATE TABLE t (id int, n integer);",
            verdict: Verdict::Refused(3),
        },
        Case {
            name: "bigint to integer, in range",
            current: "CREATE TABLE t (n bigint); INSERT INTO t VALUES (1), (-2147483648);",
            desired: "CREATE TABLE t (n integer);",
            verdict: Verdict::Free,
        },
        Case {
            name: "bigint to integer, out of range",
            current: "CREATE TABLE t (n bigint); INSERT INTO t VALUES (1), (2147483648);",
            desired: "CREATE TABLE t (n integer);",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "text to numeric",
            current: "CREATE TABLE t (x text); INSERT INTO t VALUES ('1.50'), ('-2e3'), ('NaN');",
            desired: "CREATE TABLE t (x numeric);",
            verdict: Verdict::Free,
        },
        Case {
            name: "a smaller scale rounds",
            current: "CREATE TABLE t (x numeric(10,2)); INSERT INTO t VALUES (1.25), (1.5);",
            desired: "CREATE TABLE t (x numeric(5,1));",
            verdict: Verdict::Consent(1),
        },
        Case {
            name: "a smaller precision cannot hold a value, rounded or not",
            current: "CREATE TABLE t (x numeric(10,2)); INSERT INTO t VALUES (1.25), (9999.99);",
            desired: "CREATE TABLE t (x numeric(5,1));",
            verdict: Verdict::Refused(1),
        },
        Case {
            name: "numeric to integer rounds",
            current: "CREATE TABLE t (x numeric); INSERT INTO t VALUES (1.5), (2);",
            desired: "CREATE TABLE t (x integer);",
            verdict: Verdict::Consent(1),
        },
        Case {
            name: "a shorter varchar cuts",
            current: "CREATE TABLE t (s text); INSERT INTO t VALUES ('abcd'), ('ab');",
            desired: "CREATE TABLE t (s varchar(3));",
            verdict: Verdict::Consent(1),
        },
        Case {
            name: "text to date, which cannot be counted",
            current: "CREATE TABLE t (d text); INSERT INTO t VALUES ('2024-01-02'), (NULL);",
            desired: "CREATE TABLE t (d date);",
            verdict: Verdict::Consent(1),
        },
        Case {
            name: "a NOT NULL column without a default on a table with rows",
            current: "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);",
            desired: "CREATE TABLE t (id int, a text NOT NULL);",
            verdict: Verdict::Refused(2),
        },
        Case {
            name: "a NOT NULL column without a default on an empty table",
            current: "CREATE TABLE t (id int);",
            desired: "CREATE TABLE t (id int, a text NOT NULL);",
            verdict: Verdict::Free,
        },
        Case {
            name: "a new key column without a default",
            current: "CREATE TABLE t (a text); INSERT INTO t VALUES ('x'), ('y');",
            desired: "CREATE TABLE t (id int PRIMARY KEY, a text);",
            verdict: Verdict::Refused(2),
        },
        Case {
            name: "a new key column numbered from a sequence",
            current: "CREATE TABLE t (a text); INSERT INTO t VALUES ('x'), ('y');",
            desired: "CREATE TABLE t (id serial PRIMARY KEY, a text);",
            verdict: Verdict::Free,
        },
        Case {
            name: "a new identity key column",
            current: "CREATE TABLE t (a text); INSERT INTO t VALUES ('x'), ('y');",
            desired: "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a text);",
            verdict: Verdict::Free,
        },
    ];
    // The cases wait on the server, so they run side by side.
    let mut running = tokio::task::JoinSet::new();
    for case in cases {
        running.spawn(async move {
            let db = PgDatabase::create();
            let mut store = connect(&db).await;
            judge(&mut store, &case).await
        });
    }
    let mut failures = Vec::new();
    while let Some(judged) = running.join_next().await {
        if let Err(failure) = judged.expect("a case panicked") {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
