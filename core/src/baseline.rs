//! Starting godwit on a database that already exists.
//!
//! `godwit baseline` writes the database's schema as the first migration, with a down script
//! that drops it, and records that migration as applied without running it: a new database
//! gets the schema from `migrate`, and this one keeps what it has. The steps are split between
//! the caller, who writes the files, and [`Migrator`](crate::Migrator), which reads the schema
//! ([`Migrator::plan_baseline`](crate::Migrator::plan_baseline)) and records the file under the
//! migration lock ([`Migrator::record_baseline`](crate::Migrator::record_baseline)).
//!
//! The other way into such a database is `migrate` with migrations that create its tables
//! again. When the history has no row, [`existing_tables`] finds them before anything runs, so
//! `migrate` refuses ([`Refusal::TablesExist`]) instead of failing on the first `CREATE TABLE`
//! half-way through a run. Only creations that would certainly fail count: a `CREATE TABLE IF
//! NOT EXISTS` (the usual first migration of a database another tool set up) runs as written.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::declarative::{self, ChangePlan};
use crate::dialect::RenderOptions;
use crate::diff::Renames;
pub use crate::error::ExistingTable;
use crate::error::{Error, Refusal};
use crate::history::{self, HistoryTable};
use crate::lint::TableChange;
use crate::migration::{Migrations, Version};
use crate::plan::Step;
use crate::schema::Schema;
use crate::store::Store;

/// What a baseline writes for a database: its schema, the statements that create it from
/// nothing (the up script) and those that drop it again (the down script).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The database's schema, without godwit's own tables.
    pub schema: Schema,
    /// From an empty database to `schema`.
    pub up: ChangePlan,
    /// From `schema` back to an empty database.
    pub down: ChangePlan,
}

/// Read the schema of the database behind `store` (whose history is `table`) and plan its
/// baseline. Read-only; refused when the database holds no table.
pub(crate) async fn plan(store: &mut dyn Store, table: &HistoryTable) -> Result<Baseline, Error> {
    let schema = declarative::introspect(store, table).await?;
    if schema.tables.is_empty() {
        return Err(Refusal::BaselineEmpty.into());
    }
    let empty = Schema::default();
    let dialect = store.dialect();
    let options = RenderOptions::default();
    let none = Renames::default();
    let up = declarative::plan_changes(dialect, &empty, &schema, &none, &options)?;
    let down = declarative::plan_changes(dialect, &schema, &empty, &none, &options)?;
    Ok(Baseline { schema, up, down })
}

/// Refuse a history with rows: a baseline only starts a history.
pub(crate) async fn refuse_history(
    store: &mut dyn Store,
    table: &HistoryTable,
) -> Result<(), Error> {
    let rows = history::read(store, table).await?.len();
    if rows > 0 {
        return Err(Refusal::BaselineOverHistory {
            table: table.to_string(),
            rows,
        }
        .into());
    }
    Ok(())
}

/// Refuse a baseline at `version` when `migrations` already has that version or an older
/// one: after the baseline those would be pending yet older than an applied migration, which
/// `migrate` refuses, and whether the database already has what they do is not godwit's to
/// guess. Newer migrations are fine: they stay pending and run after the baseline.
pub fn check_version(migrations: &Migrations, version: Version) -> Result<(), Refusal> {
    let versions: Vec<Version> = migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| *v <= version)
        .collect();
    if versions.is_empty() {
        Ok(())
    } else {
        Err(Refusal::BaselineNotFirst { version, versions })
    }
}

/// The tables the migrations of `steps` create, in order, that the database behind `store`
/// already holds and no earlier statement of them drops or renames away: those `CREATE TABLE`
/// statements can only fail. One catalog query per table created; callers ask only when the
/// history is empty, so on the first run.
pub async fn existing_tables(
    store: &mut dyn Store,
    steps: &[Step],
) -> Result<Vec<ExistingTable>, Error> {
    // Freed names are matched without their schema, so a `DROP TABLE public.t` before a
    // `CREATE TABLE t` counts: when in doubt, let the migration run as it always did.
    let mut freed: HashSet<String> = HashSet::new();
    let mut found: Vec<ExistingTable> = Vec::new();
    for step in steps {
        let up = &step.migration.up;
        for change in store.dialect().table_changes(&up.sql) {
            match change {
                TableChange::Frees { name, .. } => {
                    freed.insert(name);
                }
                TableChange::Creates { schema, name, line } => {
                    let shown = match &schema {
                        Some(schema) => format!("{schema}.{name}"),
                        None => name.clone(),
                    };
                    if freed.contains(&name) || found.iter().any(|t| t.table == shown) {
                        continue;
                    }
                    let (sql, params) =
                        store.dialect().table_exists_query(schema.as_deref(), &name);
                    if !store.query(&sql, &params).await?.is_empty() {
                        found.push(ExistingTable {
                            table: shown,
                            version: step.migration.version,
                            origin: format!("{}:{line}", up.origin()),
                        });
                    }
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{Migration, Script};

    fn migrations(versions: &[i64]) -> Migrations {
        Migrations::from_list(
            versions
                .iter()
                .map(|&v| Migration {
                    version: Version::new(v).unwrap(),
                    name: format!("m{v}"),
                    up: Script::new("SELECT 1;", None).unwrap(),
                    down: None,
                    operations: None,
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_baseline_comes_before_every_migration_of_the_folder() {
        let v = |n| Version::new(n).unwrap();
        assert_eq!(check_version(&migrations(&[]), v(5)), Ok(()));
        assert_eq!(check_version(&migrations(&[6, 9]), v(5)), Ok(()));
        assert_eq!(
            check_version(&migrations(&[3, 5, 9]), v(5)),
            Err(Refusal::BaselineNotFirst {
                version: v(5),
                versions: vec![v(3), v(5)]
            })
        );
        let message = check_version(&migrations(&[3]), v(5))
            .unwrap_err()
            .to_string();
        assert!(message.contains("migration 3 at or before"), "{message}");
        assert!(message.contains("`--version` older than 3"), "{message}");
    }
}
