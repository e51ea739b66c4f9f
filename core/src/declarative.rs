//! The declarative workflow, written once over `dyn Store` and `dyn Dialect`.
//!
//! A desired schema is plain SQL DDL. Rather than parse it, godwit runs it on a scratch
//! database of the target's engine and reads the result back from the catalog, so both sides
//! of a diff are models the engine itself normalised:
//!
//! 1. [`desired_schema`]: screen the schema files ([`crate::screen`]), run them on a scratch
//!    store, [`introspect`] it.
//! 2. [`introspect`] the target (or [`replay_migrations`] on another scratch, for `generate`,
//!    `check` and `verify`).
//! 3. [`plan_changes`]: diff the two models and let the dialect render statements
//!    ([`plan_keeping_undeclared`] first adds back what the desired schema leaves out).
//! 4. [`measure_hazards`]: count the rows each destructive statement would touch.
//! 5. [`apply`]: run the statements, the transactional ones in one transaction.
//!
//! The front doors run these stages in order, so a caller need not: [`Push`] (under the
//! migration lock, talking to the caller through [`Caller`]), [`Generate`], [`Diff`],
//! [`Check`] and [`Verify`]. The stages stay public for a caller that needs one alone.
//!
//! Renames are never guessed: they come from comments in the schema file
//! ([`hints`]), from the user ([`RenameRequest`]), or from answering the questions
//! [`possible_renames`] suggests.

use crate::error::Error;
use crate::history::HistoryTable;
use crate::schema::Schema;
use crate::store::Store;

mod apply;
mod cache;
mod check;
mod compare;
mod desired;
pub(crate) mod error;
mod generate;
mod hazards;
pub mod hints;
mod keep;
mod plan;
mod push;
mod renames;
pub(crate) mod scope;
mod source;

pub use self::apply::{apply, lock_for_change};
pub use self::cache::{CacheKey, SchemaCache};
pub use self::check::{
    Check, DriftReport, Verification, Verify, VerifyFailure, VerifyProblem, VerifyStage, drift,
    replay_migrations, verify,
};
pub use self::compare::{Diff, Side};
pub use self::desired::{Screened, desired_schema, desired_schema_cached, with_scratch};
pub use self::error::{ApplyCause, DeclarativeError};
pub(crate) use self::generate::statements_text;
pub use self::generate::{
    Generate, GenerateOptions, Generation, MigrationStep, Naming, NewMigration, StepKind,
    migration_script, migration_steps,
};
pub use self::hazards::{MeasuredHazard, measure_hazards, refuse_blocked};
pub use self::keep::{ConstraintKind, Kept, keep_undeclared, plan_keeping_undeclared};
pub use self::plan::{ChangePlan, plan_changes};
pub use self::push::{Answer, Caller, Consent, Push, PushOptions, PushReport, Stage};
pub use self::renames::{
    PossibleRename, RenameRequest, inverse_renames, merge_renames, possible_renames,
    resolve_requests,
};
pub use self::scope::{InvalidRule, LeftAlone, PrivilegeRule, Scope};
pub use self::source::SchemaSource;

/// Read the catalog of `store` into a schema model, without godwit's own tables (the history
/// table `history`, its `_meta` and `_lock` companions; in `history.schema`, or in any schema
/// when that is `None`).
pub async fn introspect(store: &mut dyn Store, history: &HistoryTable) -> Result<Schema, Error> {
    let queries = store.dialect().introspection_queries();
    // One snapshot: a migration committing between two catalog queries would otherwise give
    // the parser, say, the columns of a table the list of tables did not have.
    let mut results = store.query_snapshot(&queries).await?;
    let details = store.dialect().introspection_detail_queries(&results);
    if !details.is_empty() {
        results.extend(store.query_snapshot(&details).await?);
    }
    let dialect = store.dialect();
    let mut schema =
        dialect
            .schema_from_catalog(results)
            .map_err(|cause| DeclarativeError::Introspect {
                dialect: dialect.name(),
                cause,
            })?;
    let own = [
        history.name.clone(),
        history.meta_name(),
        history.lock_name(),
    ];
    schema.tables.retain(|table| {
        let ours = own.contains(&table.name.name)
            && history
                .schema
                .as_ref()
                .is_none_or(|schema| table.name.schema.as_ref() == Some(schema));
        !ours
    });
    schema.normalize();
    Ok(schema)
}
