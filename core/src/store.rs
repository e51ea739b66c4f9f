//! The I/O half of a backend: one connection to one database.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

use crate::backup::{Backup, BackupError, BackupRequest};
use crate::dialect::Dialect;
use crate::history_table::HistoryTable;
use crate::progress::Step;

pub(crate) mod data;

pub use data::{
    Liveness, LockHolder, LockOwner, LockRequest, Row, StatementError, StoreError, UnlockOutcome,
    Value, excerpt,
};

/// I/O against one connection to one database. Object safe: godwit's engine only ever sees a
/// `Box<dyn Store>`; constructors live on the concrete types outside this trait.
///
/// Every method maps onto one request/response message, so a store can live behind a C-ABI
/// plugin boundary.
#[async_trait]
pub trait Store: Send + Debug {
    /// The dialect of this store's database.
    fn dialect(&self) -> &dyn Dialect;

    /// Run a script of one or more statements exactly as written (triggers, `DO` blocks and
    /// dollar quotes included), in the current transaction if one is open. A failure names the
    /// statement and its line within `sql`.
    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError>;

    /// Run a script as [`Store::execute_script`] does, calling `on_step` as each of its
    /// statements starts, where the store can tell which one runs. The default sends nothing
    /// to `on_step`: a store that hands the database the whole script at once learns nothing
    /// until it ends.
    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        let _ = on_step;
        self.execute_script(sql).await
    }

    /// Run `statements` inside the open transaction in passes, each behind a savepoint so a
    /// failure undoes only itself: every pass runs, in order, the statements that failed in
    /// the one before, until all have run or a pass runs none. Returns the indexes (into
    /// `statements`, ascending) of those that failed in the last pass; empty when all ran.
    /// Their errors are not kept: the caller learns one by running it again, on its own.
    ///
    /// This is how a declarative schema file out of dependency order is loaded. The default
    /// sends each statement and each savepoint on its own, which is cheap in process (SQLite)
    /// and a round trip each over a network; a store whose server can run the passes itself
    /// does it in a constant number of round trips.
    async fn execute_in_passes(&mut self, statements: &[&str]) -> Result<Vec<usize>, StoreError> {
        let savepoint = self.dialect().savepoint("godwit_schema_statement");
        let mut pending: Vec<usize> = (0..statements.len()).collect();
        loop {
            let mut failed = Vec::new();
            for &index in &pending {
                self.execute_script(&savepoint.set).await?;
                if self.execute_script(statements[index]).await.is_err() {
                    self.execute_script(&savepoint.rollback_to).await?;
                    failed.push(index);
                }
                self.execute_script(&savepoint.release).await?;
            }
            if failed.is_empty() || failed.len() == pending.len() {
                return Ok(failed);
            }
            pending = failed;
        }
    }

    /// Run one statement with bound parameters; returns the number of rows affected.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;

    /// Run one query with bound parameters and return its rows.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    /// Run the read-only `queries`, without parameters, so that all of them see one snapshot
    /// of the database, and return their rows in order. Introspection reads the catalog this
    /// way: a schema another connection changes between two of its queries would otherwise be
    /// read half before and half after the change. Inside an open transaction they run in it.
    ///
    /// The default runs them one after another, each on its own: enough for a database no
    /// other connection changes meanwhile (a scratch database), not for a live one, so a store
    /// of a database others write to overrides it.
    async fn query_snapshot(&mut self, queries: &[String]) -> Result<Vec<Vec<Row>>, StoreError> {
        let mut results = Vec::with_capacity(queries.len());
        for sql in queries {
            results.push(self.query(sql, &[]).await?);
        }
        Ok(results)
    }

    /// Open a transaction. On SQLite this takes the write lock at once (`BEGIN IMMEDIATE`).
    async fn begin(&mut self) -> Result<(), StoreError>;

    /// Commit the open transaction.
    async fn commit(&mut self) -> Result<(), StoreError>;

    /// Roll back the open transaction.
    async fn rollback(&mut self) -> Result<(), StoreError>;

    /// Whether the transaction [`Store::begin`] opened is still open (a failed one waiting for
    /// its rollback counts), asked after a migration's script ran in it: a script may end it
    /// itself (`COMMIT;` under `-- godwit:allow explicit-transaction`), and then what it ran is
    /// committed whatever happens next. `Some(false)`: it is over. `None`: the store cannot
    /// tell; the default, which keeps the assumption that it is open.
    async fn transaction_open(&mut self) -> Result<Option<bool>, StoreError> {
        Ok(None)
    }

    /// End a migration's transaction: when the transaction [`Store::begin`] opened is still
    /// open ([`Store::transaction_open`] is not `Some(false)`), run `sql` (one statement, the
    /// migration's history row, with `params` bound) in it and commit, returning `true`. When
    /// something ended it already (the script's own `COMMIT`), run nothing and return
    /// `false`: the caller then records the row on its own. On an error the transaction is
    /// left for the caller to roll back.
    ///
    /// This is the one step every migration takes, so a server store should do it in one
    /// round trip (PostgreSQL: one query string holding the check, the row and `COMMIT`). The
    /// default asks, executes and commits in turn.
    async fn commit_with(&mut self, sql: &str, params: &[Value]) -> Result<bool, StoreError> {
        if self.transaction_open().await? == Some(false) {
            return Ok(false);
        }
        self.execute(sql, params).await?;
        self.commit().await?;
        Ok(true)
    }

    /// Take the migration lock, waiting up to `request.timeout`.
    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError>;

    /// Release the lock this store took. Releasing a lock not held is not an error.
    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError>;

    /// Who holds the migration lock now, if anyone.
    async fn lock_holder(&mut self, table: &HistoryTable)
    -> Result<Option<LockHolder>, StoreError>;

    /// Clear a lock left by another runner. Without `force` only a lock known to be stale is
    /// cleared; a live or unknown holder gives [`StoreError::LockHeld`].
    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError>;

    /// Open a new, empty scratch database of the same engine (SQLite: in memory; PostgreSQL: a
    /// temporary database on the same server), for normalising a desired schema and replaying
    /// migrations. The caller must [`Store::close`] it, which deletes it.
    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        Err(StoreError::Other(format!(
            "the {} backend cannot create scratch databases",
            self.dialect().name()
        )))
    }

    /// Open a scratch database, as [`Store::open_scratch`] does, on a connection that can
    /// reach nothing beyond it: code a schema file runs as it is read (a PostgreSQL `DO`
    /// block) can then change, read and call nothing outside the scratch database. The caller
    /// must [`Store::close`] it. The default refuses with [`StoreError::NoSandbox`]: a backend
    /// that cannot sandbox has its schema files' code refused, never run unconfined.
    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        Err(StoreError::NoSandbox {
            reason: format!(
                "the {} backend cannot make such a scratch database",
                self.dialect().name()
            ),
        })
    }

    /// Write a consistent copy of the whole database to a new file, and return it only once
    /// it is complete. The file is never one that existed before; a failed backup leaves no
    /// file behind. The default refuses with [`BackupError::Unsupported`].
    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let _ = request;
        Err(BackupError::Unsupported {
            dialect: self.dialect().name(),
        })
    }

    /// Wait `duration` without holding anything: the pause between a backfill's batches. A
    /// store waits on the runtime it runs on (core has no timer of its own), never by
    /// blocking the thread.
    async fn pause(&mut self, duration: Duration);

    /// Close the connection; a scratch database is deleted. Closing twice is harmless.
    async fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::LockOwner;
    use crate::MigratorConfig;

    #[test]
    fn a_migrator_names_this_process_as_the_lock_owner() {
        let config = MigratorConfig::new("my-service");
        assert_eq!(config.owner.pid, std::process::id());
        assert_eq!(
            config.owner.host,
            gethostname::gethostname().to_string_lossy()
        );
        assert_eq!(config.owner.application, "my-service");
        let named = LockOwner::current("build-host", "my-service");
        assert_eq!(
            (named.host.as_str(), named.pid),
            ("build-host", std::process::id())
        );
    }
}
