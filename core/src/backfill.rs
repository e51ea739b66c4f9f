//! Batched, resumable backfills: the `backfill` operation run as it runs on a large table.
//!
//! A backfill walks its table in key order (keyset: each batch starts after the last key of
//! the one before, never at an `OFFSET`), and each batch is one transaction holding both the
//! batch's `UPDATE` and the progress row that records its last key. So a batch is either done
//! and recorded or not at all: after a crash the next `migrate` starts after the recorded key,
//! and no row is updated twice or missed. Rows a batch holds are locked only for the length of
//! that batch, which is what keeps a backfill of millions of rows from blocking the
//! application; the pause between batches leaves the server room for other work.
//!
//! Progress lives in a table beside the history ([`HistoryTable::backfills_name`]), one row per
//! backfill of a migration. Its rows also say where an interrupted migration stands: the
//! schema steps before a backfill commit together with the backfill's row, so a row that
//! exists means they ran ([`resume_point`]).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::history::now_rfc3339;
use crate::history_table::HistoryTable;
use crate::migration::Version;
use crate::operation::{Operation, Operations};
use crate::store::{Row, Store, StoreError, Value};

/// The batch size of a backfill that names none: small enough that one batch holds its row
/// locks for milliseconds, large enough that the per-batch round trips do not dominate.
pub const DEFAULT_BATCH_SIZE: u64 = 1000;

/// A backfill resolved against the schema it runs on: what its batches need.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackfillPlan {
    /// Its position among the migration's backfills (0-based): its progress row's key.
    pub step: usize,
    /// The table, as the operation names it (for messages).
    pub table: String,
    /// The table's name as SQL, quoted and qualified.
    pub table_sql: String,
    /// The key it walks, in order: column names and types, as the catalog gives them.
    pub key: Vec<KeyColumn>,
    /// `column = expression` assignments, the columns quoted.
    pub set: Vec<(String, String)>,
    /// Which rows of each batch are updated, as SQL; all when none.
    pub filter: Option<String>,
    /// Rows per batch.
    pub batch_size: u64,
    /// The pause after each batch.
    pub pause: Duration,
}

impl BackfillPlan {
    /// The backfill as SQL comments, for the up script a dry run shows and the lint reads.
    pub fn describe(&self, dialect: &dyn Dialect) -> String {
        let key: Vec<String> = self
            .key
            .iter()
            .map(|k| dialect.quote_identifier(&k.name))
            .collect();
        let key = key.join(", ");
        let assignments: Vec<String> = self
            .set
            .iter()
            .map(|(column, expression)| format!("{column} = {expression}"))
            .collect();
        let filter = self
            .filter
            .as_ref()
            .map(|f| format!(" AND ({f})"))
            .unwrap_or_default();
        let pause = if self.pause.is_zero() {
            String::new()
        } else {
            format!(
                ", pausing {} after each",
                humantime::format_duration(self.pause)
            )
        };
        format!(
            "\n-- backfill {table}: batches of {size} rows in key order ({key}), each committed with \
             its progress{pause}:\n-- UPDATE {table_sql} SET {set} WHERE ({key}) > <last key> AND \
             ({key}) <= <batch's last key>{filter};\n",
            table = self.table,
            size = self.batch_size,
            table_sql = self.table_sql,
            set = one_line(&assignments.join(", ")),
            filter = one_line(&filter),
        )
    }
}

/// `text` on one line, for a comment.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A column of the key a backfill walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    /// Its name, unquoted.
    pub name: String,
    /// Its type, as the catalog gives it.
    pub data_type: String,
}

/// Run-time overrides of every backfill's batch size and pause (`--batch-size`, `--pause`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillOverrides {
    /// Rows per batch, instead of the operation's.
    pub batch_size: Option<u64>,
    /// The pause after each batch, instead of the operation's.
    pub pause: Option<Duration>,
}

/// One backfill's progress, as its row records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillRow {
    /// The migration it belongs to.
    pub version: Version,
    /// Its position among the migration's backfills (0-based).
    pub step: i64,
    /// The table it walks.
    pub table: String,
    /// The key of the last row of the last batch done, one text per key column; none before
    /// the first batch.
    pub last_key: Option<Vec<String>>,
    /// Rows the batches done so far covered.
    pub rows_done: i64,
    /// Rows in the table when the backfill started.
    pub rows_estimated: Option<i64>,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When its last batch was recorded.
    pub updated_at: String,
    /// When its last batch was done, once it was.
    pub finished_at: Option<String>,
}

impl BackfillRow {
    /// Done, as a fraction of the estimate, when there is one.
    pub fn fraction(&self) -> Option<f64> {
        let estimated = self.rows_estimated.filter(|&n| n > 0)?;
        Some((self.rows_done as f64 / estimated as f64).min(1.0))
    }
}

/// Where a migration holding backfills resumes, from the progress rows of its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumePoint {
    /// Nothing of it is recorded: it runs from its first operation.
    Start,
    /// At the operation with this index: a backfill left unfinished, or the schema steps after
    /// a finished one.
    At {
        /// The index of the operation in the migration's list.
        operation: usize,
        /// Whether that operation is the unfinished backfill itself.
        backfill: bool,
    },
}

/// Where the migration of `operations` resumes, given the progress rows of its last attempt
/// (`rows`, of its version only).
pub fn resume_point(operations: &Operations, rows: &[BackfillRow]) -> ResumePoint {
    let Some(last) = rows.iter().max_by_key(|row| row.step) else {
        return ResumePoint::Start;
    };
    let Some(index) = backfill_positions(operations).nth(last.step as usize) else {
        // A row for a backfill the file no longer has cannot be resumed; the checksum that
        // lets a run resume says the file is the same, so this is a row of another attempt.
        return ResumePoint::Start;
    };
    match last.finished_at {
        None => ResumePoint::At {
            operation: index,
            backfill: true,
        },
        Some(_) => ResumePoint::At {
            operation: index + 1,
            backfill: false,
        },
    }
}

/// The indexes of the backfill operations in `operations`, in order.
pub fn backfill_positions(operations: &Operations) -> impl Iterator<Item = usize> + '_ {
    operations
        .list
        .iter()
        .enumerate()
        .filter(|(_, op)| matches!(op, Operation::Backfill(_)))
        .map(|(index, _)| index)
}

/// The progress table's columns, in the order rows are read.
const COLUMNS: [&str; 9] = [
    "version",
    "step",
    "table_name",
    "last_key",
    "rows_done",
    "rows_estimated",
    "started_at",
    "updated_at",
    "finished_at",
];

fn table_sql(dialect: &dyn Dialect, history: &HistoryTable) -> String {
    dialect.qualified_name(history.schema.as_deref(), &history.backfills_name())
}

fn column(dialect: &dyn Dialect, name: &str) -> String {
    dialect.quote_identifier(name)
}

/// The statement that creates the progress table when it is missing, in types every engine
/// takes (its key is two integers, so MySQL needs no key length).
pub fn table_ddl(dialect: &dyn Dialect, history: &HistoryTable) -> String {
    let time = dialect.history_time_type();
    let c = |name| column(dialect, name);
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n\
         \x20   {} BIGINT NOT NULL,\n\
         \x20   {} BIGINT NOT NULL,\n\
         \x20   {} TEXT NOT NULL,\n\
         \x20   {} TEXT,\n\
         \x20   {} BIGINT NOT NULL,\n\
         \x20   {} BIGINT,\n\
         \x20   {} {time} NOT NULL,\n\
         \x20   {} {time} NOT NULL,\n\
         \x20   {} {time},\n\
         \x20   PRIMARY KEY ({}, {})\n\
         )",
        table_sql(dialect, history),
        c("version"),
        c("step"),
        c("table_name"),
        c("last_key"),
        c("rows_done"),
        c("rows_estimated"),
        c("started_at"),
        c("updated_at"),
        c("finished_at"),
        c("version"),
        c("step"),
    )
}

/// Whether the progress table exists.
async fn exists(store: &mut dyn Store, history: &HistoryTable) -> Result<bool, StoreError> {
    let (sql, params) = store
        .dialect()
        .table_exists_query(history.schema.as_deref(), &history.backfills_name());
    Ok(!store.query(&sql, &params).await?.is_empty())
}

/// Every progress row, by migration and position; none when the table does not exist.
/// Reads only.
pub async fn read(
    store: &mut dyn Store,
    history: &HistoryTable,
) -> Result<Vec<BackfillRow>, StoreError> {
    if !exists(store, history).await? {
        return Ok(Vec::new());
    }
    let dialect = store.dialect();
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|name| {
            let quoted = column(dialect, name);
            if name.ends_with("_at") {
                dialect.history_time_text(&quoted)
            } else {
                quoted
            }
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}, {}",
        columns.join(", "),
        table_sql(dialect, history),
        column(dialect, "version"),
        column(dialect, "step"),
    );
    let rows = store.query(&sql, &[]).await?;
    rows.into_iter().map(decode).collect()
}

fn decode(row: Row) -> Result<BackfillRow, StoreError> {
    let corrupt =
        |what: &str| StoreError::Other(format!("unreadable backfill progress row: {what}"));
    let int = |value: &Value| match value {
        Value::Int(n) => Some(*n),
        Value::Text(text) => text.parse().ok(),
        Value::Null => None,
    };
    let text = |value: &Value| match value {
        Value::Text(text) => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Null => None,
    };
    let [
        version,
        step,
        table,
        last_key,
        done,
        estimated,
        started,
        updated,
        finished,
    ] = <[Value; 9]>::try_from(row).map_err(|_| corrupt("wrong number of columns"))?;
    let last_key = match text(&last_key) {
        Some(json) => {
            Some(serde_json::from_str::<Vec<String>>(&json).map_err(|_| corrupt("last_key"))?)
        }
        None => None,
    };
    Ok(BackfillRow {
        version: int(&version)
            .and_then(Version::new)
            .ok_or_else(|| corrupt("version"))?,
        step: int(&step).ok_or_else(|| corrupt("step"))?,
        table: text(&table).ok_or_else(|| corrupt("table_name"))?,
        last_key,
        rows_done: int(&done).ok_or_else(|| corrupt("rows_done"))?,
        rows_estimated: int(&estimated),
        started_at: text(&started).ok_or_else(|| corrupt("started_at"))?,
        updated_at: text(&updated).ok_or_else(|| corrupt("updated_at"))?,
        finished_at: text(&finished),
    })
}

/// Create the progress table when missing.
pub(crate) async fn ensure(
    store: &mut dyn Store,
    history: &HistoryTable,
) -> Result<(), StoreError> {
    let ddl = table_ddl(store.dialect(), history);
    store.execute(&ddl, &[]).await.map(drop)
}

/// Forget the progress rows of `version`: a run from its start, after an attempt that was
/// rolled back or recovered, begins again.
pub(crate) async fn clear(
    store: &mut dyn Store,
    history: &HistoryTable,
    version: Version,
) -> Result<(), StoreError> {
    if !exists(store, history).await? {
        return Ok(());
    }
    let dialect = store.dialect();
    let sql = format!(
        "DELETE FROM {} WHERE {} = {}",
        table_sql(dialect, history),
        column(dialect, "version"),
        dialect.placeholder(1)
    );
    store
        .execute(&sql, &[Value::Int(version.get())])
        .await
        .map(drop)
}

/// Record that backfill `plan` of `version` starts, with the table's row count as its
/// estimate. Runs in the caller's transaction, beside the schema steps before it.
pub(crate) async fn start(
    store: &mut dyn Store,
    history: &HistoryTable,
    version: Version,
    plan: &BackfillPlan,
) -> Result<BackfillRow, StoreError> {
    let count = format!("SELECT count(*) FROM {}", plan.table_sql);
    let estimate = match store
        .query(&count, &[])
        .await?
        .first()
        .and_then(|r| r.first())
    {
        Some(Value::Int(n)) => Some(*n),
        Some(Value::Text(n)) => n.parse().ok(),
        _ => None,
    };
    let now = now_rfc3339();
    let row = BackfillRow {
        version,
        step: plan.step as i64,
        table: plan.table.clone(),
        last_key: None,
        rows_done: 0,
        rows_estimated: estimate,
        started_at: now.clone(),
        updated_at: now,
        finished_at: None,
    };
    let dialect = store.dialect();
    let values: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let placeholder = dialect.placeholder(i + 1);
            if name.ends_with("_at") {
                dialect.history_time_value(&placeholder)
            } else {
                placeholder
            }
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table_sql(dialect, history),
        COLUMNS.map(|name| column(dialect, name)).join(", "),
        values.join(", ")
    );
    let params = [
        Value::Int(version.get()),
        Value::Int(row.step),
        Value::Text(row.table.clone()),
        Value::Null,
        Value::Int(0),
        Value::from(estimate),
        Value::Text(row.started_at.clone()),
        Value::Text(row.updated_at.clone()),
        Value::Null,
    ];
    store.execute(&sql, &params).await?;
    Ok(row)
}

/// The progress of a backfill as it runs, for whoever shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    /// The migration.
    pub version: Version,
    /// The table.
    pub table: String,
    /// Its position among the migration's backfills (0-based).
    pub step: usize,
    /// Rows covered so far, this run and earlier ones.
    pub rows_done: u64,
    /// Rows in the table when it started.
    pub rows_estimated: Option<u64>,
    /// Batches this run did that covered rows.
    pub batches: u64,
    /// Rows this run covered, and in how long: the rate, without the rows of earlier runs.
    pub rows_this_run: u64,
    /// How long this run has been at it.
    pub elapsed_ms: u64,
    /// The longest a batch of this run held its row locks, as godwit saw it: from the start of
    /// its `UPDATE` to the end of its commit, round trips included.
    pub longest_lock_ms: u64,
    /// Whether the last batch is done.
    pub finished: bool,
}

/// The SQL of one backfill's batches, built once.
struct BatchSql {
    /// The last key of the next batch and the batch's row count, after a lower bound or from
    /// the start.
    next: String,
    first: String,
    /// The batch's `UPDATE`, between a lower bound (exclusive) and an upper one (inclusive).
    update: String,
    /// The first batch's `UPDATE`, with only the upper bound.
    update_first: String,
    /// The progress row's update.
    progress: String,
    /// What lets the batch's commit return before it is durable ([`Dialect::unflushed_commit`]).
    unflushed: Option<String>,
}

impl BatchSql {
    fn new(dialect: &dyn Dialect, history: &HistoryTable, plan: &BackfillPlan) -> Self {
        let key: Vec<String> = plan
            .key
            .iter()
            .map(|k| dialect.quote_identifier(&k.name))
            .collect();
        let list = key.join(", ");
        let bounds = |from: usize| -> String {
            let bound: Vec<String> = plan
                .key
                .iter()
                .enumerate()
                .map(|(i, k)| dialect.key_bind(&dialect.placeholder(from + i), &k.data_type))
                .collect();
            format!("({})", bound.join(", "))
        };
        // Qualified: PostgreSQL names `CAST(id AS TEXT)` after `id`, and an ORDER BY name
        // means an output column before an input one, which would order the keys as text.
        let descending = key
            .iter()
            .map(|k| format!("b.{k} DESC"))
            .collect::<Vec<_>>()
            .join(", ");
        let read = key
            .iter()
            .map(|k| dialect.text_cast(&format!("b.{k}")))
            .collect::<Vec<_>>()
            .join(", ");
        let next = |lower: &str| {
            format!(
                "SELECT {read}, count(*) OVER () FROM (SELECT {list} FROM {table}{lower} \
                 ORDER BY {list} LIMIT {size}) b ORDER BY {descending} LIMIT 1",
                table = plan.table_sql,
                size = plan.batch_size,
            )
        };
        let assignments = plan
            .set
            .iter()
            .map(|(column, expression)| format!("{column} = {expression}"))
            .collect::<Vec<_>>()
            .join(", ");
        let filter = plan
            .filter
            .as_ref()
            .map(|filter| format!(" AND ({filter})"))
            .unwrap_or_default();
        let n = plan.key.len();
        let update = |lower: bool| {
            let mut sql = format!("UPDATE {} SET {assignments} WHERE ", plan.table_sql);
            if lower {
                let _ = write!(sql, "({list}) > {} AND ", bounds(1));
            }
            let upper_from = if lower { n + 1 } else { 1 };
            let _ = write!(sql, "({list}) <= {}{filter}", bounds(upper_from));
            sql
        };
        let progress = format!(
            "UPDATE {} SET {} = {}, {} = {}, {} = {}, {} = {} WHERE {} = {} AND {} = {}",
            table_sql(dialect, history),
            column(dialect, "last_key"),
            dialect.placeholder(1),
            column(dialect, "rows_done"),
            dialect.placeholder(2),
            column(dialect, "updated_at"),
            dialect.history_time_value(&dialect.placeholder(3)),
            column(dialect, "finished_at"),
            dialect.history_time_value(&dialect.placeholder(4)),
            column(dialect, "version"),
            dialect.placeholder(5),
            column(dialect, "step"),
            dialect.placeholder(6),
        );
        BatchSql {
            next: next(&format!(" WHERE ({list}) > {}", bounds(1))),
            first: next(""),
            update: update(true),
            update_first: update(false),
            progress,
            unflushed: dialect.unflushed_commit(),
        }
    }
}

/// Why a backfill stopped.
#[derive(Debug)]
pub(crate) struct BatchError {
    /// What failed.
    pub error: StoreError,
    /// The statement that failed.
    pub statement: String,
}

/// Run the batches of backfill `plan` of `version` from where `row` says it stands, each batch
/// and its progress in one transaction, pausing between them; report progress after each.
pub(crate) async fn run(
    store: &mut dyn Store,
    history: &HistoryTable,
    version: Version,
    plan: &BackfillPlan,
    mut row: BackfillRow,
    on_progress: &mut (dyn FnMut(BackfillProgress) + Send),
) -> Result<BackfillRow, BatchError> {
    let sql = BatchSql::new(store.dialect(), history, plan);
    let started = Instant::now();
    let mut progress = BackfillProgress {
        version,
        table: plan.table.clone(),
        step: plan.step,
        rows_done: u64::try_from(row.rows_done).unwrap_or(0),
        rows_estimated: row.rows_estimated.and_then(|n| u64::try_from(n).ok()),
        batches: 0,
        rows_this_run: 0,
        elapsed_ms: 0,
        longest_lock_ms: 0,
        finished: row.finished_at.is_some(),
    };
    on_progress(progress.clone());
    while row.finished_at.is_none() {
        let failed = |statement: &str| {
            let statement = statement.to_string();
            move |error| BatchError { error, statement }
        };
        store.begin().await.map_err(failed("BEGIN"))?;
        let batch = batch(store, &sql, plan, version, &row).await;
        let (next, done, locked) = match batch {
            Ok(outcome) => outcome,
            Err(error) => {
                if let Err(rollback) = store.rollback().await {
                    tracing::warn!(%rollback, "rollback of a failed backfill batch failed");
                }
                return Err(error);
            }
        };
        row = next;
        // The walk's end found by a batch that covered no row is not a batch to count.
        if done > 0 {
            progress.batches += 1;
        }
        progress.rows_done += done;
        progress.rows_this_run += done;
        progress.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        progress.longest_lock_ms = progress
            .longest_lock_ms
            .max(u64::try_from(locked.as_millis()).unwrap_or(u64::MAX));
        progress.finished = row.finished_at.is_some();
        on_progress(progress.clone());
        if row.finished_at.is_none() && !plan.pause.is_zero() {
            store.pause(plan.pause).await;
        }
    }
    Ok(row)
}

/// One batch, in the transaction the caller opened and that this commits: find the batch's
/// last key, update its rows, record it. Returns the row as recorded, the rows covered, and
/// how long the rows were locked (from the `UPDATE` to the end of the commit).
async fn batch(
    store: &mut dyn Store,
    sql: &BatchSql,
    plan: &BackfillPlan,
    version: Version,
    row: &BackfillRow,
) -> Result<(BackfillRow, u64, Duration), BatchError> {
    let failed = |statement: &str| {
        let statement = statement.to_string();
        move |error| BatchError { error, statement }
    };
    let lower: Vec<Value> = row
        .last_key
        .iter()
        .flatten()
        .map(|k| Value::Text(k.clone()))
        .collect();
    if let Some(unflushed) = &sql.unflushed {
        store
            .execute(unflushed, &[])
            .await
            .map_err(failed(unflushed))?;
    }
    let next_sql = if row.last_key.is_some() {
        &sql.next
    } else {
        &sql.first
    };
    let found = store
        .query(next_sql, &lower)
        .await
        .map_err(failed(next_sql))?;
    let mut next = row.clone();
    let now = now_rfc3339();
    let mut locking = None;
    next.updated_at = now.clone();
    let covered = match found.into_iter().next() {
        // No row after the last key: the walk is over.
        None => {
            next.finished_at = Some(now);
            0
        }
        Some(mut values) => {
            let count = match values.pop() {
                Some(Value::Int(n)) => u64::try_from(n).unwrap_or(0),
                Some(Value::Text(n)) => n.parse().unwrap_or(0),
                _ => 0,
            };
            let upper: Vec<String> = values
                .into_iter()
                .map(|value| match value {
                    Value::Text(text) => text,
                    Value::Int(n) => n.to_string(),
                    Value::Null => String::new(),
                })
                .collect();
            let (update, mut params) = if row.last_key.is_some() {
                (&sql.update, lower.clone())
            } else {
                (&sql.update_first, Vec::new())
            };
            params.extend(upper.iter().cloned().map(Value::Text));
            locking = Some(Instant::now());
            store
                .execute(update, &params)
                .await
                .map_err(failed(update))?;
            next.last_key = Some(upper);
            next.rows_done += i64::try_from(count).unwrap_or(i64::MAX);
            // A batch shorter than asked for reached the end of the table.
            if count < plan.batch_size {
                next.finished_at = Some(now);
            }
            count
        }
    };
    let key_json = next
        .last_key
        .as_ref()
        .map(|key| serde_json::to_string(key).unwrap_or_default());
    let params = [
        Value::from(key_json),
        Value::Int(next.rows_done),
        Value::Text(next.updated_at.clone()),
        Value::from(next.finished_at.clone()),
        Value::Int(version.get()),
        Value::Int(next.step),
    ];
    match store.commit_with(&sql.progress, &params).await {
        Ok(true) => Ok((
            next,
            covered,
            locking.map(|at| at.elapsed()).unwrap_or_default(),
        )),
        Ok(false) => Err(BatchError {
            error: StoreError::Other(
                "the batch's transaction ended before its progress was recorded".into(),
            ),
            statement: sql.progress.clone(),
        }),
        Err(error) => Err(BatchError {
            error,
            statement: sql.progress.clone(),
        }),
    }
}
