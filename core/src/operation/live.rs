//! Rendering an operations migration against a live database: the catalog read and the type
//! check, through the [`Store`] like every other query.

use super::{Resolved, declared_types, resolve};
use crate::error::Error;
use crate::history::HistoryTable;
use crate::migration::Migration;
use crate::store::{Store, Value};

/// The types `migration`'s operations declare that `store`'s engine does not know
/// ([`Dialect::type_check_query`](crate::Dialect::type_check_query)); none on an engine that
/// accepts any type name.
pub async fn unknown_types(store: &mut dyn Store, migration: &Migration) -> Vec<String> {
    let Some(query) = store.dialect().type_check_query() else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    for data_type in declared_types(migration) {
        let known = match store.query(&query, &[Value::Text(data_type.clone())]).await {
            Ok(rows) => rows
                .first()
                .and_then(|row| row.first())
                .is_some_and(|value| *value != Value::Null),
            // A name the engine cannot even read as a type.
            Err(error) => {
                tracing::debug!(%error, %data_type, "the type check refused the name");
                false
            }
        };
        if !known {
            unknown.push(data_type);
        }
    }
    unknown
}

/// Render `migration` against the schema `store` holds now (without godwit's own tables,
/// `history`). Reads only: nothing is changed.
pub async fn resolve_live(
    store: &mut dyn Store,
    history: &HistoryTable,
    migration: &Migration,
) -> Result<Resolved, Error> {
    let live = crate::declarative::introspect(store, history).await?;
    let unknown = unknown_types(store, migration).await;
    Ok(resolve(store.dialect(), &live, migration, &unknown)?)
}
