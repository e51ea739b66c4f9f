//! Applying a plan to a database, under the migration lock where one can be taken.

use super::error::{ApplyCause, DeclarativeError};
use crate::dialect::{LockKind, Statement, StatementKind};
use crate::error::Error;
use crate::store::{LockRequest, Store, StoreError, excerpt};

/// Take the migration lock for a declarative change when taking it leaves nothing behind, and
/// say whether it was taken (release it with [`Store::unlock`]).
///
/// A session lock (PostgreSQL) is always taken. A row lock (SQLite) lives in a table; a
/// database without that table is not run by `godwit migrate`, and creating the table would
/// add an object the schema file does not have, so there the lock is not taken: the change
/// still runs in one write transaction, which keeps other writers out while it runs.
pub async fn lock_for_change(
    store: &mut dyn Store,
    request: &LockRequest<'_>,
) -> Result<bool, Error> {
    if store.dialect().capabilities().lock == LockKind::Row {
        let (sql, params) = store
            .dialect()
            .table_exists_query(request.table.schema.as_deref(), &request.table.lock_name());
        if store.query(&sql, &params).await?.is_empty() {
            return Ok(false);
        }
    }
    store.lock(request).await?;
    Ok(true)
}

/// Run `statements` on `store`.
///
/// Each run of consecutive transactional statements goes in one transaction; the
/// non-transactional ones (which the dialect puts before or after the transactional ones) run
/// on their own. On an engine without transactional DDL everything runs in order, unwrapped.
/// `Execute` statements run as scripts; `AssertEmpty` queries that return a row roll the
/// transaction back. The first failure stops the run, and the error says which statement
/// failed, whether its changes were rolled back, and the dialect's advice for it
/// ([`Statement::failure_hint`]).
pub async fn apply(store: &mut dyn Store, statements: &[Statement]) -> Result<(), Error> {
    let transactions = store.dialect().capabilities().transactional_ddl;
    let total = statements.len();
    let failed = |index: usize, cause: ApplyCause, rolled_back: bool, committed: usize| {
        Error::from(DeclarativeError::ApplyFailed {
            index,
            total,
            sql: excerpt(&statements[index].sql, 80),
            cause,
            rolled_back,
            committed,
            hint: statements[index].failure_hint.clone(),
        })
    };
    let mut index = 0;
    while index < total {
        if !(transactions && statements[index].transactional) {
            run_statement(store, &statements[index])
                .await
                .map_err(|cause| failed(index, cause, false, index))?;
            index += 1;
            continue;
        }
        let group = statements[index..]
            .iter()
            .position(|s| !s.transactional)
            .map_or(total, |end| index + end);
        store.begin().await?;
        for (at, statement) in statements.iter().enumerate().take(group).skip(index) {
            if let Err(cause) = run_statement(store, statement).await {
                if let Err(rollback) = store.rollback().await {
                    tracing::warn!(%rollback, "rollback after a failed statement failed");
                }
                restore_after_failure(store, statements).await;
                // Settings of the connection before the transaction are set back, not kept.
                let kept = statements[..index]
                    .iter()
                    .filter(|s| !s.session_setting)
                    .count();
                return Err(failed(at, cause, true, kept));
            }
        }
        store.commit().await?;
        index = group;
    }
    Ok(())
}

/// After a rolled-back transaction, still run the non-transactional statements that follow the
/// last transactional one: they restore connection state the leading ones changed (SQLite's
/// `PRAGMA foreign_keys = ON` after a rebuild), which must not stay changed because of a failure.
/// Concurrent statements are changes of their own, not restorations, so they do not run.
async fn restore_after_failure(store: &mut dyn Store, statements: &[Statement]) {
    let trailing = statements
        .iter()
        .rposition(|s| s.transactional)
        .map_or(statements.len(), |last| last + 1);
    for statement in statements[trailing..].iter().filter(|s| !s.concurrent) {
        if let Err(error) = run_statement(store, statement).await {
            tracing::warn!(?error, sql = %statement.sql, "restoring after a failed change failed");
        }
    }
}

async fn run_statement(store: &mut dyn Store, statement: &Statement) -> Result<(), ApplyCause> {
    let database = |error: StoreError| ApplyCause::Database {
        error: error.into_statement_error(),
    };
    match &statement.kind {
        StatementKind::AssertEmpty { message } => {
            let rows = store.query(&statement.sql, &[]).await.map_err(database)?;
            if rows.is_empty() {
                Ok(())
            } else {
                Err(ApplyCause::Check {
                    message: message.clone(),
                })
            }
        }
        _ => store.execute_script(&statement.sql).await.map_err(database),
    }
}
