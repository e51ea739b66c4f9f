//! Declarative-schema helpers shared by the golden and end-to-end tests.

use godwit_core::dialect::{RenderError, RenderOptions, Statement, StatementKind};
use godwit_core::diff::{self, Renames};
use godwit_core::schema::Schema;
use godwit_core::{Dialect, Store};
use godwit_sqlite::SqliteDialect;

/// The model of the database behind `store`.
pub(crate) async fn introspect(store: &mut dyn Store) -> Schema {
    let dialect = store.dialect();
    let queries = dialect.introspection_queries();
    let mut results = Vec::new();
    for query in &queries {
        results.push(store.query(query, &[]).await.unwrap());
    }
    store.dialect().schema_from_catalog(results).unwrap()
}

/// The model of `sql` applied to a scratch database opened from `store`.
pub(crate) async fn desired(store: &mut dyn Store, sql: &str) -> Schema {
    let mut scratch = store.open_scratch().await.unwrap();
    scratch.execute_script(sql).await.unwrap();
    let schema = introspect(scratch.as_mut()).await;
    scratch.close().await.unwrap();
    schema
}

/// The statements that turn `current` into `desired`.
pub(crate) fn plan(
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
) -> Result<Vec<Statement>, RenderError> {
    let dialect = SqliteDialect;
    dialect.render(
        &diff::diff(current, desired, renames, dialect.diff_options()),
        &RenderOptions::default(),
    )
}

/// Run `statements` as godwit would: the non-transactional ones before and after, the rest in
/// one transaction where every `AssertEmpty` query must return no rows. The trailing
/// non-transactional statements run even when the transaction fails, since they restore the
/// connection (`PRAGMA foreign_keys = ON`).
pub(crate) async fn apply_changes(
    store: &mut dyn Store,
    statements: &[Statement],
) -> Result<(), String> {
    let leading = statements.iter().take_while(|s| !s.transactional).count();
    let trailing = statements[leading..]
        .iter()
        .rev()
        .take_while(|s| !s.transactional)
        .count();
    let (before, rest) = statements.split_at(leading);
    let (inside, after) = rest.split_at(rest.len() - trailing);
    assert!(
        inside.iter().all(|s| s.transactional),
        "non-transactional statements in the middle: {statements:#?}"
    );
    for statement in before {
        store.execute_script(&statement.sql).await.unwrap();
    }
    store.begin().await.unwrap();
    let mut outcome = Ok(());
    for statement in inside {
        let result = match &statement.kind {
            StatementKind::AssertEmpty { message } => {
                match store.query(&statement.sql, &[]).await {
                    Ok(rows) if rows.is_empty() => Ok(()),
                    Ok(_) => Err(message.clone()),
                    Err(error) => Err(error.to_string()),
                }
            }
            _ => store
                .execute_script(&statement.sql)
                .await
                .map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            outcome = Err(format!("{error} (in `{}`)", statement.sql));
            break;
        }
    }
    match outcome {
        Ok(()) => store.commit().await.unwrap(),
        Err(_) => store.rollback().await.unwrap(),
    }
    for statement in after {
        store.execute_script(&statement.sql).await.unwrap();
    }
    outcome
}
