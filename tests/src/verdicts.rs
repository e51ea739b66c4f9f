//! What `push` makes of a change on the rows of a real database, found the way `push` finds
//! it (plan, count the rows each hazard touches, refuse or ask), and then shown right by
//! applying the plan anyway: a change refused for the rows that would make it fail must fail,
//! and one let through must succeed.

use godwit_core::declarative::{
    DeclarativeError, apply, introspect, measure_hazards, plan_changes, refuse_blocked,
};
use godwit_core::dialect::RenderOptions;
use godwit_core::diff::Renames;
use godwit_core::{Error, HistoryTable, Store};

/// What `push` does with a change, judging by the rows it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It applies without asking: nothing is lost, and nothing would make it fail.
    Free,
    /// It asks for consent (`--accept-data-loss`): this many rows lose data.
    Consent(i64),
    /// It is refused before anything runs: this many rows would make it fail.
    Refused(i64),
}

/// One change of a table holding rows: the schema and rows before (`current`, SQL), the
/// schema wanted (`desired`, SQL), and what `push` must make of it.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// What the case shows.
    pub name: &'static str,
    /// The schema and rows the database holds.
    pub current: &'static str,
    /// The schema wanted.
    pub desired: &'static str,
    /// What push must do.
    pub verdict: Verdict,
}

/// Judge `case` on `store`, an empty database: set up `current`, plan the change to
/// `desired`, measure its hazards and compare the verdict with the case's; then apply the
/// plan whatever the verdict, which must fail when it was refused (leaving the schema as it
/// was) and succeed otherwise (reaching the desired schema). The first thing that does not
/// hold, said in a sentence.
pub async fn judge(store: &mut dyn Store, case: &Case) -> Result<(), String> {
    let history = HistoryTable::default();
    let fail = |what: &str, error: Error| format!("{}: {what}: {error}", case.name);
    store
        .execute_script(case.current)
        .await
        .map_err(|e| fail("current schema", e.into()))?;
    let mut scratch = store
        .open_scratch()
        .await
        .map_err(|e| fail("scratch", e.into()))?;
    scratch
        .execute_script(case.desired)
        .await
        .map_err(|e| fail("desired schema", e.into()))?;
    let desired = introspect(scratch.as_mut(), &history).await;
    scratch
        .close()
        .await
        .map_err(|e| fail("scratch", e.into()))?;
    let desired = desired.map_err(|e| fail("desired schema", e))?;
    let current = introspect(store, &history)
        .await
        .map_err(|e| fail("current schema", e))?;
    let plan = plan_changes(
        store.dialect(),
        &current,
        &desired,
        &Renames::default(),
        &RenderOptions::default(),
    )
    .map_err(|e| fail("plan", e))?;
    let hazards = measure_hazards(store, &plan)
        .await
        .map_err(|e| fail("hazards", e))?;
    let verdict = match refuse_blocked(&hazards) {
        Err(DeclarativeError::RowsBlockChange { rows, .. }) => Verdict::Refused(rows),
        Err(other) => return Err(fail("refusal", other.into())),
        Ok(()) => hazards
            .iter()
            .filter(|h| h.needs_consent())
            .map(|h| h.affected_rows.unwrap_or(-1))
            .max()
            .map_or(Verdict::Free, Verdict::Consent),
    };
    if verdict != case.verdict {
        return Err(format!(
            "{}: push would say {verdict:?}, not {:?}: {hazards:#?}",
            case.name, case.verdict
        ));
    }
    let applied = apply(store, &plan.statements).await;
    let after = introspect(store, &history)
        .await
        .map_err(|e| fail("schema after", e))?;
    match (verdict, applied) {
        (Verdict::Refused(_), Ok(())) => Err(format!(
            "{}: refused, yet the change applies: the count is wrong",
            case.name
        )),
        (Verdict::Refused(_), Err(_)) if after != current => Err(format!(
            "{}: the change failed, but not without changing anything",
            case.name
        )),
        (Verdict::Free | Verdict::Consent(_), Err(error)) => Err(fail(
            "let through, yet the change fails (a count missed the rows that fail it)",
            error,
        )),
        (Verdict::Free | Verdict::Consent(_), Ok(())) if !same_tables(&after, &desired) => {
            Err(format!(
                "{}: the change does not reach the desired schema",
                case.name
            ))
        }
        _ => Ok(()),
    }
}

/// The two schemas hold the same tables, each with the same columns whatever their order (a
/// column added in place goes last).
fn same_tables(a: &godwit_core::schema::Schema, b: &godwit_core::schema::Schema) -> bool {
    let sorted = |s: &godwit_core::schema::Schema| {
        let mut s = s.clone();
        for table in &mut s.tables {
            table.columns.sort_by(|x, y| x.name.cmp(&y.name));
        }
        s
    };
    sorted(a) == sorted(b)
}
