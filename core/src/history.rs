//! The history table: what has run against a database. Written once here, against any
//! [`Store`], with SQL shaped by the store's [`Dialect`](crate::Dialect).

use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use crate::history_table::{HistoryTable, Status};
use crate::migration::{Checksum, Version};
use crate::store::{Row, Store, StoreError, Value};

/// The layout version of the history tables this build writes. Bump it with an upgrade step
/// ([`Dialect::history_upgrade_ddl`](crate::Dialect::history_upgrade_ddl)) whenever a column
/// is added, so [`ensure`] upgrades old databases in place.
///
/// Layouts: 1, the first; 2 added `backup`; 3 stores `started_at` and `finished_at` in the
/// dialect's time type ([`Dialect::history_time_type`](crate::Dialect::history_time_type):
/// PostgreSQL's `timestamptz`, text elsewhere).
pub const LAYOUT_VERSION: i64 = 3;

/// The layout from which the time columns have the dialect's time type.
const TYPED_TIMES: i64 = 3;

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The migration's version.
    pub version: Version,
    /// Its name when it ran.
    pub name: String,
    /// Checksum of the up script that ran (or was accepted by `repair`).
    pub checksum: Checksum,
    /// Checksum of the down script at the time.
    pub down_checksum: Option<Checksum>,
    /// The down script as it was when the migration ran, so rollback works without the file.
    pub down_script: Option<String>,
    /// Whether the up script ran inside a transaction.
    pub transactional: bool,
    /// Current state.
    pub status: Status,
    /// When the last attempt started (RFC 3339, UTC).
    pub started_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The error of a failure.
    pub error: Option<String>,
    /// The start of the statement that failed.
    pub error_statement: Option<String>,
    /// The line of the failure in the script.
    pub error_line: Option<i64>,
    /// Earlier checksums replaced by `repair --accept-checksum`, one `checksum accepted-at` a line.
    pub previous_checksums: Option<String>,
    /// Who ran it (`application (pid N on host)`).
    pub applied_by: Option<String>,
    /// The backup taken before the run that applied it, when one was asked for.
    pub backup: Option<String>,
}

/// The columns in the order of [`encode`] and [`decode`], each with the layout version that
/// added it, so a table of an older layout is read with `NULL` for what it lacks.
const COLUMNS: [(&str, i64); 16] = [
    ("version", 1),
    ("name", 1),
    ("checksum", 1),
    ("down_checksum", 1),
    ("down_script", 1),
    ("transactional", 1),
    ("status", 1),
    ("started_at", 1),
    ("finished_at", 1),
    ("duration_ms", 1),
    ("error", 1),
    ("error_statement", 1),
    ("error_line", 1),
    ("previous_checksums", 1),
    ("applied_by", 1),
    ("backup", 2),
];

/// The columns holding times, written and read through the dialect's time type.
const TIME_COLUMNS: [&str; 2] = ["started_at", "finished_at"];

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn qualified(store: &dyn Store, table: &HistoryTable, name: &str) -> String {
    store
        .dialect()
        .qualified_name(table.schema.as_deref(), name)
}

/// The `_meta` table's two columns, quoted: `key` is a reserved word in MySQL.
fn meta_columns(store: &dyn Store) -> (String, String) {
    let dialect = store.dialect();
    (
        dialect.quote_identifier("key"),
        dialect.quote_identifier("value"),
    )
}

fn placeholders(store: &dyn Store, count: usize) -> String {
    (1..=count)
        .map(|i| store.dialect().placeholder(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The placeholders of a row of [`COLUMNS`]: times are bound as RFC 3339 text and converted to
/// the dialect's time type ([`Dialect::history_time_value`](crate::Dialect::history_time_value)),
/// since a driver binds text as text and PostgreSQL converts a text parameter to `timestamptz`
/// only when told.
fn row_placeholders(store: &dyn Store) -> String {
    let dialect = store.dialect();
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (column, _))| {
            let placeholder = dialect.placeholder(i + 1);
            if TIME_COLUMNS.contains(column) {
                dialect.history_time_value(&placeholder)
            } else {
                placeholder
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the history table exists. Read-only commands use this to avoid creating tables.
pub async fn exists(store: &mut dyn Store, table: &HistoryTable) -> Result<bool, StoreError> {
    table_exists(store, table.schema.as_deref(), &table.name).await
}

async fn table_exists(
    store: &mut dyn Store,
    schema: Option<&str>,
    name: &str,
) -> Result<bool, StoreError> {
    let (sql, params) = store.dialect().table_exists_query(schema, name);
    Ok(!store.query(&sql, &params).await?.is_empty())
}

/// The columns every layout of the history table has, read to tell godwit's table from another.
const FIRST_LAYOUT_COLUMNS: &str = "version, name, checksum, down_checksum, down_script, \
     transactional, status, started_at, finished_at, duration_ms, error, error_statement, \
     error_line, previous_checksums, applied_by";

/// Refuse a history table whose name, or its `_meta` table's, belongs to something that is not
/// godwit's: an application table, a view, a system catalog an unqualified name resolves to
/// (`pg_class`). `CREATE TABLE IF NOT EXISTS` would skip such a name, or create a table that
/// queries never see, and the run would fail later with a bare "no such column". It only
/// reads, so callers ask before they create anything (the lock's table included).
pub async fn check_name(store: &mut dyn Store, table: &HistoryTable) -> Result<(), Error> {
    check_holder(store, table, &table.name, FIRST_LAYOUT_COLUMNS).await?;
    // Qualified, because SQLite reads a quoted name that no column has as a string.
    let (key, value) = meta_columns(store);
    let columns = format!("probed.{key}, probed.{value}");
    check_holder(store, table, &table.meta_name(), &columns).await
}

/// Refuse `name` unless nothing holds it or a table of godwit's `columns` does.
async fn check_holder(
    store: &mut dyn Store,
    table: &HistoryTable,
    name: &str,
    columns: &str,
) -> Result<(), Error> {
    let (sql, params) = store
        .dialect()
        .name_holder_query(table.schema.as_deref(), name);
    let rows = store.query(&sql, &params).await?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let qualified = qualified(store, table, name);
    let holder = match row.first() {
        Some(Value::Text(holder)) => holder.clone(),
        _ => format!("the table {qualified}"),
    };
    let reason = if matches!(row.get(1), Some(Value::Int(0))) {
        None
    } else {
        let probe = format!("SELECT {columns} FROM {qualified} probed WHERE 1 = 0");
        match store.query(&probe, &[]).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Database { message, .. }) => Some(message),
            Err(other) => return Err(other.into()),
        }
    };
    Err(Error::HistoryNameTaken {
        table: table.to_string(),
        name: name.to_string(),
        holder,
        reason,
    })
}

/// Create the history tables when missing and check (or upgrade) their layout. Call it under
/// the migration lock: an upgrade alters the table. A name that belongs to something else is
/// refused before anything is created ([`check_name`]).
pub async fn ensure(store: &mut dyn Store, table: &HistoryTable) -> Result<(), Error> {
    check_name(store, table).await?;
    for statement in store.dialect().history_table_ddl(table) {
        store.execute(&statement, &[]).await?;
    }
    match layout_version(store, table).await? {
        None => {
            let meta = qualified(store, table, &table.meta_name());
            let (key, value) = meta_columns(store);
            let sql = format!(
                "INSERT INTO {meta} ({key}, {value}) VALUES ({})",
                placeholders(store, 2)
            );
            store
                .execute(
                    &sql,
                    &[
                        Value::from("layout_version"),
                        Value::from(LAYOUT_VERSION.to_string()),
                    ],
                )
                .await?;
        }
        Some(found) if found > LAYOUT_VERSION => {
            return Err(Error::HistoryTooNew {
                found,
                supported: LAYOUT_VERSION,
            });
        }
        Some(found) => {
            for version in found + 1..=LAYOUT_VERSION {
                upgrade(store, table, version).await?;
            }
        }
    }
    Ok(())
}

/// The layout version recorded in the `_meta` table, if any.
async fn layout_version(store: &mut dyn Store, table: &HistoryTable) -> Result<Option<i64>, Error> {
    let meta = qualified(store, table, &table.meta_name());
    let placeholder = store.dialect().placeholder(1);
    let (key, value) = meta_columns(store);
    let rows = store
        .query(
            // Qualified, as in `check_name`: SQLite reads a quoted name that no column of a
            // table under this name has as a string, and would find no layout rather than
            // fail.
            &format!("SELECT m.{value} FROM {meta} m WHERE m.{key} = {placeholder}"),
            &[Value::from("layout_version")],
        )
        .await?;
    match rows.first().and_then(|r| r.first()) {
        None => Ok(None),
        Some(Value::Text(found)) => found
            .parse()
            .map(Some)
            .map_err(|_| Error::CorruptHistory(format!("layout_version `{found}` in {meta}"))),
        Some(other) => Err(Error::CorruptHistory(format!(
            "layout_version {other:?} in {meta}"
        ))),
    }
}

/// Bring the history table from the layout before `version` to `version`: the dialect's
/// statements and the new `_meta` row commit together, so a failure leaves the old layout
/// whole and the next run tries again.
async fn upgrade(store: &mut dyn Store, table: &HistoryTable, version: i64) -> Result<(), Error> {
    let statements = store.dialect().history_upgrade_ddl(table, version);
    let meta = qualified(store, table, &table.meta_name());
    let (key, value) = meta_columns(store);
    let update = format!(
        "UPDATE {meta} SET {value} = {} WHERE {key} = {}",
        store.dialect().placeholder(1),
        store.dialect().placeholder(2)
    );
    let name = qualified(store, table, &table.name);
    let failed = |source: StoreError| Error::HistoryUpgrade {
        table: name.clone(),
        from: version - 1,
        to: version,
        source,
    };
    store.begin().await.map_err(failed)?;
    let changed = async {
        for statement in &statements {
            store.execute(statement, &[]).await?;
        }
        let params = [
            Value::from(version.to_string()),
            Value::from("layout_version"),
        ];
        store.execute(&update, &params).await
    }
    .await;
    match changed {
        Ok(_) => store.commit().await.map_err(failed)?,
        Err(error) => {
            if let Err(rollback_error) = store.rollback().await {
                tracing::warn!(%rollback_error, "rollback of a failed history upgrade failed");
            }
            return Err(failed(error));
        }
    }
    tracing::info!(table = %table, version, "upgraded the history table's layout");
    Ok(())
}

/// Every row, in version order. A missing table reads as empty.
pub async fn read(store: &mut dyn Store, table: &HistoryTable) -> Result<Vec<HistoryRow>, Error> {
    if !exists(store, table).await? {
        return Ok(Vec::new());
    }
    match read_rows(store, table).await {
        Ok(rows) => rows.into_iter().map(decode).collect(),
        Err(error) => {
            // A table of the application under the history's name or its `_meta` name: say
            // so, rather than "no such column".
            check_name(store, table).await?;
            Err(error)
        }
    }
}

/// The history's rows as stored, read in the layout the `_meta` table records.
async fn read_rows(store: &mut dyn Store, table: &HistoryTable) -> Result<Vec<Row>, Error> {
    // Read-only commands read a table of an older layout without upgrading it.
    let stored = if table_exists(store, table.schema.as_deref(), &table.meta_name()).await? {
        layout_version(store, table).await?
    } else {
        None
    }
    .unwrap_or(LAYOUT_VERSION);
    let dialect = store.dialect();
    let select = COLUMNS
        .map(|(name, added)| {
            if added > stored {
                "NULL".to_string()
            } else if stored >= TYPED_TIMES && TIME_COLUMNS.contains(&name) {
                dialect.history_time_text(name)
            } else {
                name.to_string()
            }
        })
        .join(", ");
    let sql = format!(
        "SELECT {select} FROM {} ORDER BY version",
        qualified(store, table, &table.name)
    );
    Ok(store.query(&sql, &[]).await?)
}

/// Write `row`, replacing any earlier row of the same version.
///
/// One upsert statement (SQLite 3.24+, PostgreSQL 9.5+) rather than a delete and an insert:
/// outside a transaction (no-transaction migrations) a crash between two statements would lose
/// the row.
pub async fn write(
    store: &mut dyn Store,
    table: &HistoryTable,
    row: &HistoryRow,
) -> Result<(), StoreError> {
    let sql = upsert(store, table);
    store.execute(&sql, &encode(row)).await?;
    Ok(())
}

/// Write `row` as the last statement of the transaction a migration ran in, and commit it
/// ([`Store::commit_with`]). `false`: the transaction was over already (the script ended
/// it), nothing was written, and the caller records the row on its own.
pub async fn write_and_commit(
    store: &mut dyn Store,
    table: &HistoryTable,
    row: &HistoryRow,
) -> Result<bool, StoreError> {
    let sql = upsert(store, table);
    store.commit_with(&sql, &encode(row)).await
}

/// The upsert that writes one history row, its values bound in [`encode`]'s order.
fn upsert(store: &dyn Store, table: &HistoryTable) -> String {
    let name = qualified(store, table, &table.name);
    let updated: Vec<&str> = COLUMNS
        .iter()
        .map(|(column, _)| *column)
        .filter(|column| *column != "version")
        .collect();
    format!(
        "INSERT INTO {name} ({}) VALUES ({}) {}",
        COLUMNS.map(|(column, _)| column).join(", "),
        row_placeholders(store),
        store.dialect().upsert_clause("version", &updated)
    )
}

fn encode(row: &HistoryRow) -> Vec<Value> {
    vec![
        Value::Int(row.version.get()),
        Value::from(row.name.clone()),
        Value::from(row.checksum.as_str()),
        Value::from(row.down_checksum.as_ref().map(|c| c.as_str())),
        Value::from(row.down_script.clone()),
        Value::Int(i64::from(row.transactional)),
        Value::from(row.status.as_str()),
        Value::from(row.started_at.clone()),
        Value::from(row.finished_at.clone()),
        Value::from(row.duration_ms),
        Value::from(row.error.clone()),
        Value::from(row.error_statement.clone()),
        Value::from(row.error_line),
        Value::from(row.previous_checksums.clone()),
        Value::from(row.applied_by.clone()),
        Value::from(row.backup.clone()),
    ]
}

fn decode(row: Row) -> Result<HistoryRow, Error> {
    let bad = |what: &str| Error::CorruptHistory(format!("{what} in {row:?}"));
    let text = |i: usize| -> Result<Option<String>, Error> {
        match row.get(i) {
            Some(Value::Null) => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(Value::Int(v)) => Ok(Some(v.to_string())),
            None => Err(bad("missing column")),
        }
    };
    let int = |i: usize| -> Result<Option<i64>, Error> {
        match row.get(i) {
            Some(Value::Null) => Ok(None),
            Some(Value::Int(v)) => Ok(Some(*v)),
            Some(Value::Text(s)) => s.parse().map(Some).map_err(|_| bad("non-integer")),
            None => Err(bad("missing column")),
        }
    };
    let version = int(0)?
        .and_then(Version::new)
        .ok_or_else(|| bad("bad version"))?;
    let status_text = text(6)?.unwrap_or_default();
    Ok(HistoryRow {
        version,
        name: text(1)?.unwrap_or_default(),
        checksum: Checksum::from_stored(text(2)?.unwrap_or_default()),
        down_checksum: text(3)?.map(Checksum::from_stored),
        down_script: text(4)?,
        transactional: int(5)?.unwrap_or(1) != 0,
        status: Status::parse(&status_text).ok_or_else(|| bad("unknown status"))?,
        started_at: text(7)?.unwrap_or_default(),
        finished_at: text(8)?,
        duration_ms: int(9)?,
        error: text(10)?,
        error_statement: text(11)?,
        error_line: int(12)?,
        previous_checksums: text(13)?,
        applied_by: text(14)?,
        backup: text(15)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_by_table_and_are_stable() {
        let a = HistoryTable::default();
        let b = HistoryTable::new(Some("app".into()), "godwit_migrations");
        assert_ne!(a.lock_key(), b.lock_key());
        assert_eq!(a.lock_key(), HistoryTable::default().lock_key());
    }

    #[test]
    fn rows_round_trip_through_values() {
        let row = HistoryRow {
            version: Version::new(42).unwrap(),
            name: "x".into(),
            checksum: Checksum::of("a"),
            down_checksum: None,
            down_script: Some("DROP TABLE x;".into()),
            transactional: false,
            status: Status::RolledBack,
            started_at: "2024-01-01T00:00:00.000Z".into(),
            finished_at: None,
            duration_ms: Some(3),
            error: None,
            error_statement: None,
            error_line: Some(7),
            previous_checksums: None,
            applied_by: Some("me".into()),
            backup: Some("/var/backups/app.db.20240101T000000.000Z.backup".into()),
        };
        assert_eq!(decode(encode(&row)).unwrap(), row);
    }
}
