//! Golden SQL: one folder per kind of change under `tests/golden/`, each with the schema now
//! (`current.sql`, may be absent), the schema wanted (`desired.sql`) and optionally the renames
//! the user declared (`renames.json`). Both schemas are read through real SQLite databases, as
//! godwit does, and the rendered statements are compared with `tests/snapshots/golden__*.snap`.

mod common;

use std::path::Path;

use godwit_core::Store;
use godwit_core::dialect::{Statement, StatementKind};
use godwit_core::diff::Renames;
use godwit_sqlite::SqliteStore;

/// Statements as reviewable text: each on its own, with what godwit needs to know about it
/// (outside the transaction, a check, data it may destroy) in comments above it.
fn describe(statements: &[Statement]) -> String {
    let mut out = String::new();
    for statement in statements {
        if !statement.transactional {
            out.push_str("-- outside the transaction\n");
        }
        if let StatementKind::AssertEmpty { message } = &statement.kind {
            out.push_str(&format!("-- must return no rows, else: {message}\n"));
        }
        if let Some(hazard) = &statement.hazard {
            let kind = serde_json::to_value(hazard.kind).unwrap();
            out.push_str(&format!(
                "-- hazard {}: {}\n",
                kind.as_str().unwrap(),
                hazard.description
            ));
            if let Some(count) = &hazard.count_query {
                out.push_str(&format!("-- rows at risk: {count}\n"));
            }
        }
        out.push_str(&statement.sql);
        out.push_str(";\n\n");
    }
    out
}

async fn check(case: &Path) -> String {
    let read = |file: &str| std::fs::read_to_string(case.join(file)).ok();
    let mut store = SqliteStore::open_in_memory().unwrap();
    if let Some(current) = read("current.sql") {
        store.execute_script(&current).await.unwrap();
    }
    let renames: Renames = read("renames.json")
        .map(|json| serde_json::from_str(&json).unwrap())
        .unwrap_or_default();
    let current = common::introspect(&mut store).await;
    let desired = common::desired(&mut store, &read("desired.sql").unwrap()).await;
    match common::plan(&current, &desired, &renames) {
        Ok(statements) => {
            // A golden file is only worth keeping if it works.
            common::apply_changes(&mut store, &statements)
                .await
                .unwrap();
            assert_eq!(common::introspect(&mut store).await, desired);
            describe(&statements)
        }
        Err(error) => format!("error: {error}\n"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn golden_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", root.display());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let output = check(&case).await;
        insta::with_settings!({ description => format!("tests/golden/{name}"), omit_expression => true }, {
            insta::assert_snapshot!(name, output);
        });
    }
}
