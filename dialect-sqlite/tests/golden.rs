//! Golden SQL: one folder per kind of change under `tests/golden/`, each with the schema now
//! (`current.sql`, may be absent), the schema wanted (`desired.sql`) and optionally the renames
//! the user declared (`renames.json`). Both schemas are read through real SQLite databases, as
//! godwit does, and the rendered statements are compared with `tests/snapshots/golden__*.snap`.
//! Each plan is also written as `godwit generate` writes it and linted as `godwit migrate`
//! lints it.

mod common;

use std::path::{Path, PathBuf};

use godwit_core::dialect::{HazardKind, RenderError, RenderOptions, Statement, StatementKind};
use godwit_core::diff::{self, Change, Renames};
use godwit_core::schema::Schema;
use godwit_core::{Dialect, Store};
use godwit_sqlite::{SqliteDialect, SqliteStore};
use godwit_tests::generated::lint_errors;
use godwit_tests::redundancy;

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
            if let Some(count) = &hazard.failing_query {
                out.push_str(&format!("-- rows that would make it fail: {count}\n"));
            }
        }
        out.push_str(&statement.sql);
        out.push_str(";\n\n");
    }
    out
}

/// One golden case, loaded: its current schema in a database, both models and the plan.
struct Case {
    name: String,
    store: SqliteStore,
    current: Schema,
    desired: Schema,
    changes: Vec<Change>,
    plan: Result<Vec<Statement>, RenderError>,
}

impl Case {
    async fn load(folder: &Path) -> Self {
        let read = |file: &str| std::fs::read_to_string(folder.join(file)).ok();
        let mut store = SqliteStore::open_in_memory().unwrap();
        if let Some(current) = read("current.sql") {
            store.execute_script(&current).await.unwrap();
        }
        let renames: Renames = read("renames.json")
            .map(|json| serde_json::from_str(&json).unwrap())
            .unwrap_or_default();
        let current = common::introspect(&mut store).await;
        let desired = common::desired(&mut store, &read("desired.sql").unwrap()).await;
        let plan = common::plan(&current, &desired, &renames);
        let changes = diff::diff(&current, &desired, &renames, SqliteDialect.diff_options());
        Case {
            name: folder.file_name().unwrap().to_string_lossy().into_owned(),
            store,
            current,
            desired,
            changes,
            plan,
        }
    }
}

/// The folders under `tests/golden/`, in name order.
fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", root.display());
    cases
}

async fn check(folder: &Path) -> String {
    let mut case = Case::load(folder).await;
    match &case.plan {
        Ok(statements) => {
            // A golden file is only worth keeping if it works.
            common::apply_changes(&mut case.store, statements)
                .await
                .unwrap();
            assert_eq!(common::introspect(&mut case.store).await, case.desired);
            describe(statements)
        }
        Err(error) => format!("error: {error}\n"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn golden_sql() {
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let output = check(&case).await;
        insta::with_settings!({ description => format!("tests/golden/{name}"), omit_expression => true }, {
            insta::assert_snapshot!(name, output);
        });
    }
}

/// The statements of `statements` that lose data the desired schema gives up, as the lint
/// must still report them in a generated migration: a dropped table or column, and the
/// `DROP TABLE` of a rebuild whose copy leaves a column out or converts values (the hazard is
/// on the copy, the loss happens at the drop).
fn destructive(statements: &[Statement]) -> Vec<&str> {
    let mut found = Vec::new();
    let mut lossy_copy = false;
    for statement in statements {
        let kind = statement.hazard.as_ref().map(|h| h.kind);
        let loses = matches!(
            kind,
            Some(HazardKind::DropTable | HazardKind::DropColumn | HazardKind::NarrowType)
        );
        if statement.sql.starts_with("INSERT OR ABORT INTO ") {
            lossy_copy = loses;
        } else if statement.sql.starts_with("DROP TABLE ") && lossy_copy {
            found.push(statement.sql.as_str());
            lossy_copy = false;
        } else if loses {
            found.push(statement.sql.as_str());
        }
    }
    found
}

/// The cases that render a plan: name, current schema and statements.
async fn plans() -> Vec<(String, Schema, Vec<Statement>)> {
    let mut plans = Vec::new();
    for folder in cases() {
        let case = Case::load(&folder).await;
        if let Ok(statements) = case.plan {
            plans.push((case.name, case.current, statements));
        }
    }
    plans
}

/// Every golden change written as `godwit generate` writes it passes the lint `godwit
/// migrate` runs (with the live schema), except where data the desired schema gives up is
/// lost: exactly those statements keep an error, for the user to acknowledge.
#[tokio::test(flavor = "current_thread")]
async fn generated_migrations_pass_the_lint_but_for_lost_data() {
    let mut kept = String::new();
    for (name, current, statements) in plans().await {
        let errors = lint_errors(&SqliteDialect, &statements, &current);
        let at: Vec<&str> = errors.iter().map(|(_, sql)| *sql).collect();
        assert_eq!(at, destructive(&statements), "{name}: {errors:#?}");
        for (rule, _) in errors {
            kept.push_str(&format!("{name}: {rule}\n"));
        }
    }
    // The destructive cases, and nothing else, keep their findings.
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(kept);
    });
}

/// The lint knows a table rebuild by its steps (every row copied with every column, the old
/// table dropped, the copy renamed to its name), also after the file renamed a column of it,
/// not only by the allow comment a generated migration writes above the drop: without those
/// comments, every golden plan keeps exactly the findings it keeps with them.
#[tokio::test(flavor = "current_thread")]
async fn the_lint_knows_a_rebuild_without_its_allow_comment() {
    let mut rebuilds = 0;
    for (name, current, statements) in plans().await {
        // What a copy into a virtual table keeps is up to its module (a contentless FTS5 table
        // keeps no text), so the lint takes no such copy for a rebuild's: rebuilds of virtual
        // tables rely on their allow comment.
        if current.tables.iter().any(|t| t.virtual_table.is_some()) {
            continue;
        }
        let mut bare = statements.clone();
        for statement in &mut bare {
            let before = statement.lint_allowances.len();
            statement
                .lint_allowances
                .retain(|allowance| allowance.rule != "drop-table");
            rebuilds += before - statement.lint_allowances.len();
        }
        assert_eq!(
            lint_errors(&SqliteDialect, &bare, &current),
            lint_errors(&SqliteDialect, &statements, &current),
            "{name}"
        );
    }
    assert!(rebuilds > 10, "{rebuilds} rebuilds with an allow comment");
}

/// No golden plan holds statements that undo each other, or touches an object the two schemas
/// hold alike unless it must: the plan without that change, run on a copy of the database,
/// fails or misses the desired schema.
#[tokio::test(flavor = "current_thread")]
async fn no_plan_does_what_it_need_not() {
    let mut found = Vec::new();
    for folder in cases() {
        let Case {
            name,
            current,
            desired,
            changes,
            plan: Ok(statements),
            ..
        } = Case::load(&folder).await
        else {
            continue;
        };
        for finding in redundancy::cancelling(&SqliteDialect, &statements) {
            found.push(format!("{name}: {finding}"));
        }
        let trials = redundancy::trials(
            &SqliteDialect,
            &RenderOptions::default(),
            &changes,
            &statements,
            &current,
            &desired,
        );
        for trial in trials {
            let mut store = SqliteStore::open_in_memory().unwrap();
            if let Ok(sql) = std::fs::read_to_string(folder.join("current.sql")) {
                store.execute_script(&sql).await.unwrap();
            }
            if common::apply_changes(&mut store, &trial.statements)
                .await
                .is_ok()
                && common::introspect(&mut store).await == desired
            {
                found.push(format!("{name}: needs no {}", trial.without));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
