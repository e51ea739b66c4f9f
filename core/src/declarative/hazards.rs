//! Hazards: how many rows each destructive statement of a plan touches, and which plans rows
//! block outright.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ChangePlan, DeclarativeError};
use crate::dialect::HazardKind;
use crate::error::Error;
use crate::store::{Store, Value};

/// A destructive statement of a plan and how many rows it touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredHazard {
    /// 0-based index of the statement in the plan.
    pub statement: usize,
    /// What kind of loss.
    pub kind: HazardKind,
    /// A sentence naming the object.
    pub description: String,
    /// Rows that would lose data (or, for the kinds rows make fail, that would make it
    /// fail), when the dialect can count them and the count ran.
    pub affected_rows: Option<i64>,
    /// Rows that would make a statement that may also lose data fail, when the dialect counts
    /// them apart ([`Hazard::failing_query`](crate::dialect::Hazard::failing_query)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_rows: Option<i64>,
}

impl MeasuredHazard {
    /// Whether the statement may only run with the user's consent.
    ///
    /// Dropping a table or a column always needs it, even when empty: it removes part of the
    /// data model, not only rows. Dropping other objects (views, indexes, types) loses no row
    /// data and never needs it. The rest (narrowing or converting a type, adding a
    /// constraint, removing enum values) needs it unless the count says no row is touched; an
    /// unknown count needs it.
    pub fn needs_consent(&self) -> bool {
        match self.kind {
            HazardKind::DropTable | HazardKind::DropColumn => true,
            HazardKind::DropObject | HazardKind::CopyTable => false,
            _ => self.affected_rows != Some(0),
        }
    }

    /// Whether the statement cannot succeed with the rows the counts found, so it is refused
    /// outright instead of asked about: a removed enum label still held by rows has nothing
    /// to be converted to, a constraint the rows break fails when it is added, and so does a
    /// type change to a type that cannot take their values. Each would fail half-way through
    /// the change; consent to lose data changes none.
    pub fn blocks(&self) -> bool {
        self.blocking_rows().is_some()
    }

    /// The rows that make the statement fail, when there are any.
    fn blocking_rows(&self) -> Option<i64> {
        let counted = matches!(
            self.kind,
            HazardKind::RemoveEnumValue | HazardKind::AddConstraint | HazardKind::ConvertType
        )
        .then_some(self.affected_rows)
        .flatten();
        [self.failing_rows, counted]
            .into_iter()
            .flatten()
            .find(|rows| *rows > 0)
    }
}

/// Refuse a plan that [`MeasuredHazard::blocks`] on the target's rows. Call it after
/// [`measure_hazards`] and before [`super::apply`], so that nothing runs.
pub fn refuse_blocked(hazards: &[MeasuredHazard]) -> Result<(), DeclarativeError> {
    match hazards
        .iter()
        .find_map(|hazard| Some((hazard, hazard.blocking_rows()?)))
    {
        Some((hazard, rows)) => Err(DeclarativeError::RowsBlockChange {
            kind: hazard.kind,
            description: hazard.description.clone(),
            rows,
        }),
        None => Ok(()),
    }
}

fn rows(n: i64) -> String {
    if n == 1 {
        "1 row".to_string()
    } else {
        format!("{n} rows")
    }
}

impl fmt::Display for MeasuredHazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)?;
        let failing = self
            .failing_rows
            .filter(|n| *n > 0)
            .map(|n| format!("{} would make it fail", rows(n)));
        let counts: Vec<String> = self
            .affected_rows
            .map(rows)
            .into_iter()
            .chain(failing)
            .collect();
        if !counts.is_empty() {
            write!(f, " ({})", counts.join("; "))?;
        }
        Ok(())
    }
}

/// Run the count query of every hazardous statement of `plan` on `store` (the target, before
/// anything runs). A count that fails (it may read a column the plan creates first) is left
/// unknown, which [`MeasuredHazard::needs_consent`] treats as touching rows.
pub async fn measure_hazards(
    store: &mut dyn Store,
    plan: &ChangePlan,
) -> Result<Vec<MeasuredHazard>, Error> {
    let mut measured = Vec::new();
    for (index, statement) in plan.statements.iter().enumerate() {
        let Some(hazard) = &statement.hazard else {
            continue;
        };
        measured.push(MeasuredHazard {
            statement: index,
            kind: hazard.kind,
            description: hazard.description.clone(),
            affected_rows: count(store, hazard.count_query.as_deref()).await,
            failing_rows: count(store, hazard.failing_query.as_deref()).await,
        });
    }
    Ok(measured)
}

/// The number `sql` returns; `None` without a query, when it fails, or when it returns NULL
/// (a count that cannot tell).
async fn count(store: &mut dyn Store, sql: Option<&str>) -> Option<i64> {
    let sql = sql?;
    match store.query(sql, &[]).await {
        Ok(rows) => rows
            .first()
            .and_then(|row| row.first())
            .and_then(|value| match value {
                Value::Int(n) => Some(*n),
                Value::Text(text) => text.trim().parse().ok(),
                Value::Null => None,
            }),
        Err(error) => {
            tracing::debug!(%error, sql, "the count of a hazard failed; treated as unknown");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hazard(kind: HazardKind, affected_rows: Option<i64>) -> MeasuredHazard {
        MeasuredHazard {
            statement: 0,
            kind,
            description: "x".into(),
            affected_rows,
            failing_rows: None,
        }
    }

    #[test]
    fn consent_depends_on_the_kind_and_the_count() {
        assert!(hazard(HazardKind::DropTable, Some(0)).needs_consent());
        assert!(hazard(HazardKind::DropColumn, Some(0)).needs_consent());
        assert!(!hazard(HazardKind::DropObject, None).needs_consent());
        assert!(!hazard(HazardKind::CopyTable, Some(9)).needs_consent());
        assert!(!hazard(HazardKind::AddConstraint, Some(0)).needs_consent());
        assert!(hazard(HazardKind::AddConstraint, Some(3)).needs_consent());
        assert!(hazard(HazardKind::NarrowType, None).needs_consent());
    }

    #[test]
    fn enum_values_held_and_constraints_broken_by_rows_block_a_plan() {
        assert!(hazard(HazardKind::RemoveEnumValue, Some(2)).blocks());
        assert!(!hazard(HazardKind::RemoveEnumValue, Some(0)).blocks());
        // An unknown count is asked about, not refused: the count query may read what the
        // plan creates first.
        assert!(!hazard(HazardKind::RemoveEnumValue, None).blocks());
        assert!(hazard(HazardKind::AddConstraint, Some(3)).blocks());
        assert!(!hazard(HazardKind::AddConstraint, Some(0)).blocks());
        assert!(!hazard(HazardKind::NarrowType, Some(3)).blocks());
        assert!(!hazard(HazardKind::DropColumn, Some(3)).blocks());
        let held = [
            hazard(HazardKind::DropColumn, Some(1)),
            hazard(HazardKind::RemoveEnumValue, Some(2)),
        ];
        let refusal = refuse_blocked(&held).unwrap_err().to_string();
        assert!(refusal.contains("2 rows still hold them"), "{refusal}");
        assert!(refuse_blocked(&held[..1]).is_ok());
    }

    /// A type change that can only fail asks nothing when every value converts, and is
    /// refused with the count of those that do not; one that may also lose values asks about
    /// those, and is refused for the rows counted apart that would make it fail.
    #[test]
    fn conversions_are_refused_for_the_rows_that_would_fail_them() {
        assert!(!hazard(HazardKind::ConvertType, Some(0)).needs_consent());
        assert!(!hazard(HazardKind::ConvertType, Some(0)).blocks());
        assert!(hazard(HazardKind::ConvertType, None).needs_consent());
        assert!(hazard(HazardKind::ConvertType, Some(2)).blocks());
        let refusal = refuse_blocked(&[hazard(HazardKind::ConvertType, Some(2))])
            .unwrap_err()
            .to_string();
        assert!(
            refusal.contains("and 2 rows hold values it cannot convert"),
            "{refusal}"
        );

        let rounding = |failing| MeasuredHazard {
            failing_rows: failing,
            ..hazard(HazardKind::NarrowType, Some(1))
        };
        assert!(rounding(Some(0)).needs_consent() && !rounding(Some(0)).blocks());
        assert!(rounding(Some(3)).blocks());
        assert_eq!(
            rounding(Some(3)).to_string(),
            "x (1 row; 3 rows would make it fail)"
        );
        let refusal = refuse_blocked(&[rounding(Some(3))])
            .unwrap_err()
            .to_string();
        assert!(
            refusal.contains("and 3 rows would make it fail"),
            "{refusal}"
        );
    }
}
