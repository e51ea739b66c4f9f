//! PostgreSQL objects beyond plain tables, through every declarative command: deferrable keys,
//! `UNLOGGED` tables, table inheritance, `serial` columns and a column moving from one enum type
//! to another. `push` reaches the schema and finds nothing more to do, `inspect --format json`
//! shows what the model carries, `diff` finds no difference, and migrations `generate` writes
//! reach the schema with the rows kept, as `check` confirms.
#![cfg(feature = "postgres")]

mod common;

use common::{PgProject, assert_code, assert_prints, json};

const BEFORE: &str = "
CREATE TYPE old_status AS ENUM ('a', 'b');
CREATE TABLE owners (id int PRIMARY KEY);
CREATE TABLE items (
    id serial PRIMARY KEY DEFERRABLE INITIALLY DEFERRED,
    name text NOT NULL DEFAULT 'x',
    code text UNIQUE DEFERRABLE,
    owner_id int REFERENCES owners,
    status old_status DEFAULT 'a',
    CONSTRAINT named CHECK (name <> '')
);
CREATE TABLE books (isbn text) INHERITS (items);
CREATE UNLOGGED TABLE cache (id int PRIMARY KEY);
CREATE UNLOGGED TABLE cache_entries (cache_id int REFERENCES cache);
";

/// Each object changes: the key checked at commit, the unique constraint at once, the cache
/// logged, the child on its own, and the status of another enum type.
const AFTER: &str = "
CREATE TYPE new_status AS ENUM ('a', 'b', 'c');
CREATE TABLE owners (id int PRIMARY KEY);
CREATE TABLE items (
    id serial PRIMARY KEY DEFERRABLE INITIALLY DEFERRED,
    name text NOT NULL DEFAULT 'x',
    code text UNIQUE,
    owner_id int REFERENCES owners DEFERRABLE INITIALLY DEFERRED,
    status new_status DEFAULT 'a',
    CONSTRAINT named CHECK (name <> '')
);
CREATE TABLE books (id int NOT NULL, name text NOT NULL, code text, owner_id int,
    status new_status, isbn text);
CREATE TABLE cache (id int PRIMARY KEY);
CREATE TABLE cache_entries (cache_id int REFERENCES cache);
";

const ROWS: &str = "
INSERT INTO owners VALUES (1);
INSERT INTO items (name, owner_id, status) VALUES ('a', 1, 'b');
INSERT INTO books (name, isbn) VALUES ('b', '978');
INSERT INTO cache VALUES (1);
INSERT INTO cache_entries VALUES (1);
";

/// The rows of each table, read so that a child on its own or under its parent reads the same.
fn rows(pg: &PgProject) -> Vec<Vec<String>> {
    pg.rows(
        "SELECT 'items', count(*)::text FROM ONLY items UNION ALL \
         SELECT 'books', count(*)::text FROM ONLY books UNION ALL \
         SELECT 'cache_entries', count(*)::text FROM cache_entries UNION ALL \
         SELECT 'statuses', string_agg(status::text, ',') FROM ONLY items UNION ALL \
         SELECT 'book statuses', string_agg(status::text, ',') FROM ONLY books",
    )
}

#[track_caller]
fn assert_no_changes(pg: &PgProject, schema: &str) {
    pg.project.write("schema.sql", schema);
    assert_prints(&pg.run(&["push"]), 0, "no changes");
    let diff = pg.run(&["diff", "--from", &pg.db.url, "--to", "schema.sql"]);
    assert_prints(&diff, 0, "no changes");
}

#[test]
fn postgres_objects_go_through_push_inspect_diff_and_check() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", BEFORE);
    assert_code(&pg.run(&["push", "--yes"]), 0);
    assert_no_changes(&pg, BEFORE);

    let inspected = json(&pg.run(&["--format", "json", "inspect"]));
    let tables = inspected["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("{inspected}"));
    let table = |name: &str| {
        tables
            .iter()
            .find(|t| t["name"]["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {inspected}"))
    };
    let key = &table("items")["primary_key"];
    assert_eq!(key["deferrable"], true, "{key}");
    assert_eq!(key["initially_deferred"], true, "{key}");
    assert_eq!(table("items")["uniques"][0]["deferrable"], true);
    assert_eq!(table("cache")["unlogged"], true);
    assert_eq!(table("books")["inherits"][0]["name"], "items");
    let inherited: Vec<&str> = table("books")["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["inherited"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(inherited, ["id", "name", "code", "owner_id", "status"]);
    // The serial column's sequence is the column's own, not a sequence beside it.
    assert_eq!(
        table("items")["columns"][0]["owned_sequence"],
        "items_id_seq",
        "{inspected}"
    );
    assert!(inspected.get("sequences").is_none(), "{inspected}");

    // Migrations written from the two schemas reach them on another database, keeping rows.
    let generated = PgProject::new();
    generated.project.write("schema.sql", BEFORE);
    assert_code(&generated.run(&["generate", "before"]), 0);
    assert_code(&generated.run(&["migrate"]), 0);
    common::exec(&generated.db.url, ROWS);
    let before = rows(&generated);
    generated.project.write("schema.sql", AFTER);
    assert_code(&generated.run(&["generate", "after"]), 0);
    assert_code(&generated.run(&["migrate"]), 0);
    assert_code(&generated.run(&["check"]), 0);
    assert_eq!(rows(&generated), before);
    assert_no_changes(&generated, AFTER);

    // And back, by push.
    common::exec(&pg.db.url, ROWS);
    let before = rows(&pg);
    pg.project.write("schema.sql", AFTER);
    assert_code(&pg.run(&["push", "--yes"]), 0);
    assert_no_changes(&pg, AFTER);
    pg.project.write("schema.sql", BEFORE);
    assert_code(&pg.run(&["push", "--yes"]), 0);
    assert_no_changes(&pg, BEFORE);
    assert_eq!(rows(&pg), before);
}
