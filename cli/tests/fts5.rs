//! SQLite full-text search tables (FTS5) through `push`, `generate` and `migrate`: writing one
//! differently is no change, a changed index keeps its rows, and the triggers that keep an
//! index in step with its table keep working.
#![cfg(feature = "sqlite")]

mod common;

use std::path::Path;

use common::{
    Project, assert_code, assert_prints, assert_push_changes_nothing, json, sqlite_exec,
    sqlite_rows, stderr, stdout,
};

/// The guide's example: posts with the given text columns, an index of them that keeps no
/// copy of their text (`content=posts`), and the three triggers that keep the index in step.
/// `options` are more FTS5 options.
fn guide(columns: &[&str], options: &str) -> String {
    let list = columns.join(", ");
    let definitions: String = columns.iter().map(|c| format!(", {c} TEXT")).collect();
    let values = |row: &str| {
        (columns.iter())
            .map(|c| format!("{row}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (new, old) = (values("new"), values("old"));
    format!(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY{definitions});
CREATE VIRTUAL TABLE posts_fts USING fts5({list}, content=posts, content_rowid=id{options});
CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts(rowid, {list}) VALUES (new.id, {new});
END;
CREATE TRIGGER posts_ad AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, {list}) VALUES ('delete', old.id, {old});
END;
CREATE TRIGGER posts_au AFTER UPDATE ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, {list}) VALUES ('delete', old.id, {old});
    INSERT INTO posts_fts(rowid, {list}) VALUES (new.id, {new});
END;
"
    )
}

/// The ids of the posts whose index entry matches `query`.
fn matching(db: &Path, query: &str) -> Vec<String> {
    sqlite_rows(
        db,
        &format!("SELECT rowid FROM posts_fts WHERE posts_fts MATCH '{query}' ORDER BY rowid"),
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect()
}

fn with_schema(schema: &str) -> Project {
    let project = Project::new();
    project.write("schema.sql", schema);
    project
}

/// A project whose database was pushed `schema`, then given `rows`.
fn pushed(schema: &str, rows: &str) -> Project {
    let project = with_schema(schema);
    assert_code(&project.run(&["push"]), 0);
    sqlite_exec(&project.db(), rows);
    project
}

/// `push` of `schema`, which asks no consent, since it loses nothing.
fn push_losing_nothing(project: &Project, schema: &str) {
    project.write("schema.sql", schema);
    let output = project.run(&["push"]);
    assert_code(&output, 0);
    assert!(
        !stdout(&output).contains("DESTRUCTIVE"),
        "{}",
        stdout(&output)
    );
}

const POSTS: &str = "INSERT INTO posts (id, title, content) VALUES \
     (1, 'Schema migrations', 'every table changes'), \
     (2, 'Full text', 'search with sqlite');";

/// The guide's index through a column added to the table and the index, a new tokenizer, and
/// a rebuild of the table alone: every push keeps what the index finds, and the triggers keep
/// it in step afterwards.
#[test]
fn the_guide_example_keeps_its_rows_through_push() {
    let project = pushed(&guide(&["title", "content"], ""), POSTS);
    let db = project.db();
    assert_eq!(matching(&db, "migrations"), ["1"]);

    // A column in both: no consent needed, since the index's text is the table's.
    push_losing_nothing(&project, &guide(&["title", "content", "tags"], ""));
    assert_eq!(matching(&db, "migrations"), ["1"]);
    assert_eq!(matching(&db, "sqlite"), ["2"]);
    sqlite_exec(&db, "UPDATE posts SET tags = 'databases' WHERE id = 1");
    assert_eq!(matching(&db, "databases"), ["1"]);
    assert_push_changes_nothing(&project);

    // Another tokenizer: the index alone is built again; the triggers on posts stay.
    let porter = guide(&["title", "content", "tags"], ", tokenize = 'porter'");
    push_losing_nothing(&project, &porter);
    assert_eq!(matching(&db, "migration"), ["1"], "porter stems the query");
    sqlite_exec(
        &db,
        "INSERT INTO posts (id, title, content) VALUES (3, 'Triggers', 'still indexing')",
    );
    assert_eq!(matching(&db, "index"), ["3"]);
    sqlite_exec(&db, "DELETE FROM posts WHERE id = 2");
    assert!(matching(&db, "sqlite").is_empty());
    assert_push_changes_nothing(&project);

    // The table alone is rebuilt: its triggers come back with it, still writing to the index.
    push_losing_nothing(
        &project,
        &porter.replace("title TEXT,", "title TEXT NOT NULL,"),
    );
    sqlite_exec(
        &db,
        "INSERT INTO posts (id, title, content) VALUES (4, 'Rebuilt', 'tables keep triggers')",
    );
    assert_eq!(matching(&db, "trigger"), ["3", "4"]);
    assert_eq!(matching(&db, "migration"), ["1"]);
    assert_push_changes_nothing(&project);
}

/// The same changes written as migrations: `migrate`, lint included, runs what `generate`
/// wrote, and rolling back keeps what the index finds too.
#[test]
fn the_guide_example_keeps_its_rows_through_generate_and_migrate() {
    let project = with_schema(&guide(&["title", "content"], ""));
    assert_code(&project.run(&["generate", "posts"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    let db = project.db();
    sqlite_exec(&db, POSTS);

    project.write("schema.sql", &guide(&["title", "content", "tags"], ""));
    assert_code(&project.run(&["generate", "tags"]), 0);
    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert!(!stderr(&output).contains("error["), "{}", stderr(&output));
    assert_eq!(matching(&db, "migrations"), ["1"]);
    sqlite_exec(&db, "UPDATE posts SET tags = 'databases' WHERE id = 2");
    assert_eq!(matching(&db, "databases"), ["2"]);

    project.write(
        "schema.sql",
        &guide(&["title", "content", "tags"], ", tokenize = 'porter'"),
    );
    assert_code(&project.run(&["generate", "porter"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(matching(&db, "migration"), ["1"]);
    assert_eq!(matching(&db, "databases"), ["2"]);

    // Down again: the index loses the tokenizer, then the column, and keeps finding the rows.
    assert_code(&project.run(&["rollback"]), 0);
    assert!(matching(&db, "migration").is_empty());
    assert_eq!(matching(&db, "migrations"), ["1"]);
    assert_code(&project.run(&["rollback"]), 0);
    assert_eq!(matching(&db, "sqlite"), ["2"]);
    sqlite_exec(
        &db,
        "INSERT INTO posts (id, title, content) VALUES (3, 'Down', 'and back up')",
    );
    assert_eq!(matching(&db, "back"), ["3"]);
}

/// An index added to a table that has rows already finds them: FTS5 fills it from the table.
#[test]
fn an_index_added_to_a_table_with_rows_finds_them() {
    let project = pushed(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, content TEXT);\n",
        POSTS,
    );
    push_losing_nothing(&project, &guide(&["title", "content"], ""));
    assert_eq!(matching(&project.db(), "text OR migrations"), ["1", "2"]);
}

/// An index that keeps its own text gets its rows copied, rowids and all.
#[test]
fn a_self_contained_index_keeps_its_rows_through_a_column_addition() {
    let project = pushed(
        "CREATE VIRTUAL TABLE notes USING fts5(title, body);\n",
        "INSERT INTO notes (rowid, title, body) VALUES (10, 'groceries', 'milk and bread'), \
         (20, 'todo', 'write the report');",
    );
    let db = project.db();
    push_losing_nothing(
        &project,
        "CREATE VIRTUAL TABLE notes USING fts5(title, body, tags UNINDEXED);\n",
    );
    assert_eq!(
        sqlite_rows(
            &db,
            "SELECT rowid, title, body FROM notes WHERE notes MATCH 'bread OR report' \
             ORDER BY rowid"
        ),
        [
            ["10", "groceries", "milk and bread"],
            ["20", "todo", "write the report"]
        ]
    );
    // No shadow table of the old index or of the one it was built under is left.
    assert_eq!(
        sqlite_rows(
            &db,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '%godwit%'"
        ),
        [["0"]]
    );
    assert_push_changes_nothing(&project);
}

/// A contentless index keeps no text to copy: changing it empties it, which needs consent,
/// and the prompt says how many rows it holds.
#[test]
fn a_contentless_index_asks_for_consent_with_its_row_count() {
    let project = pushed(
        "CREATE VIRTUAL TABLE terms USING fts5(body, content='');\n",
        "INSERT INTO terms (rowid, body) VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    );
    let db = project.db();
    project.write(
        "schema.sql",
        "CREATE VIRTUAL TABLE terms USING fts5(body, note, content='');\n",
    );
    assert_prints(
        &project.run(&["push"]),
        3,
        "-- DESTRUCTIVE: drops table terms (3 rows)",
    );
    assert_eq!(sqlite_rows(&db, "SELECT count(*) FROM terms"), [["3"]]);

    assert_code(&project.run(&["push", "--accept-data-loss"]), 0);
    assert_eq!(sqlite_rows(&db, "SELECT count(*) FROM terms"), [["0"]]);
    assert_push_changes_nothing(&project);
}

/// Spacing, case, quoting, the order of options and options at their defaults are not
/// changes; `inspect` shows the index's columns and options, and none of its shadow tables.
#[test]
fn writing_an_index_differently_is_no_change() {
    let project = with_schema(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT, tags TEXT);\n\
         CREATE VIRTUAL TABLE posts_fts USING fts5(title,body,tags, content='posts', \
         content_rowid='id');\n",
    );
    assert_code(&project.run(&["push"]), 0);
    project.write(
        "schema.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT, tags TEXT);\n\
         CREATE VIRTUAL TABLE posts_fts USING FTS5 ( title , \"body\" , tags ,\n\
         \x20   content_rowid = id, content = posts, detail = full );\n",
    );
    assert_push_changes_nothing(&project);

    let inspected = json(&project.run(&["--format", "json", "inspect"]));
    let tables = inspected["tables"].as_array().unwrap();
    let names: Vec<&str> = tables
        .iter()
        .map(|t| t["name"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["posts", "posts_fts"]);
    let index = &tables[1];
    let columns: Vec<&str> = (index["columns"].as_array().unwrap().iter())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["title", "body", "tags"]);
    assert_eq!(
        index["virtual_table"],
        serde_json::json!({"module": "fts5", "arguments": ["content=posts", "content_rowid=id"]})
    );
    assert!(index.get("other_constraints").is_none(), "{index}");
}
