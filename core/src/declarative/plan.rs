//! The plan: the changes between two schemas and the statements that make them.

use serde::{Deserialize, Serialize};

use super::DeclarativeError;
use super::renames::resolve_renames;
use crate::dialect::{Dialect, RenderOptions, Statement};
use crate::diff::{Change, Renames, diff};
use crate::error::Error;
use crate::schema::Schema;

/// The changes from one schema to another and the statements that make them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePlan {
    /// What changes, in order.
    pub changes: Vec<Change>,
    /// The SQL that makes the changes, in order.
    pub statements: Vec<Statement>,
}

impl ChangePlan {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diff `current` against `desired` and render the statements that turn one into the other.
///
/// The names in `renames` are first matched to the two schemas (exactly, then ignoring an
/// omitted schema, then ignoring case when that finds one object), so a hint or a flag written
/// as `users` finds `public.users`, and renames whose old object is gone (already done) or
/// whose old and new names are one object are dropped: pushing the same file twice changes
/// nothing the second time. A rename that contradicts the schemas (its old object is still
/// desired, or its new name is taken) is a [`DeclarativeError::ConflictingRename`].
///
/// Privileges and owners change only as far as `options.scope` says: the desired schema is
/// [settled](super::Scope::settle) first. The other `options` go to the dialect's renderer; asking for concurrent index changes of a dialect
/// without them is a [`DeclarativeError::ConcurrentIndexesUnsupported`], even when nothing
/// changes, so a wrong request is never silently ignored.
pub fn plan_changes(
    dialect: &dyn Dialect,
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    options: &RenderOptions,
) -> Result<ChangePlan, Error> {
    if options.concurrent_indexes && !dialect.capabilities().concurrent_indexes {
        return Err(DeclarativeError::ConcurrentIndexesUnsupported {
            dialect: dialect.name(),
        }
        .into());
    }
    let diff_options = dialect.diff_options();
    let renames = resolve_renames(renames, current, desired, diff_options)?;
    let desired = options.scope.settle(current, desired, &renames, false);
    let changes = diff(current, &desired, &renames, diff_options);
    if changes.is_empty() {
        return Ok(ChangePlan::default());
    }
    let statements =
        dialect
            .render(&changes, options)
            .map_err(|cause| DeclarativeError::Render {
                dialect: dialect.name(),
                cause,
            })?;
    Ok(ChangePlan {
        changes,
        statements,
    })
}
