//! [`Push`]: make a live database match a schema source, the whole pipeline in one call.
//!
//! The order is the safety argument, so it lives here once rather than in every caller: take
//! the lock, read the target, build the desired schema on a scratch database, plan, settle
//! possible renames, measure what the plan destroys on the target's rows, refuse what rows
//! would make fail, get consent for what destroys data, apply, release the lock. A caller
//! takes part only through [`Caller`]: answering questions and watching.

use std::time::Duration;

use serde::Serialize;

use super::renames::declared_renames;
use super::{
    ChangePlan, DeclarativeError, Kept, LeftAlone, MeasuredHazard, PossibleRename, RenameRequest,
    SchemaCache, SchemaSource, apply, desired_schema_cached, introspect, lock_for_change,
    measure_hazards, merge_renames, plan_changes, plan_keeping_undeclared, possible_renames,
    refuse_blocked,
};
use crate::dialect::RenderOptions;
use crate::diff::Renames;
use crate::error::Error;
use crate::history::HistoryTable;
use crate::schema::{Schema, Unmanaged};
use crate::store::{LockOwner, LockRequest, Store};

/// Where a declarative run is, for progress and for telling which database an error came
/// from (the scratch host or the target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Waiting for the migration lock of the target.
    Locking,
    /// Reading the target's schema (or replaying migrations on a scratch database).
    Reading,
    /// Running the schema files on a scratch database of the scratch host.
    BuildingDesired,
    /// Diffing the two schemas and rendering statements.
    Planning,
    /// Counting the rows the plan's destructive statements touch on the target.
    MeasuringHazards,
    /// Running the plan on the target.
    Applying,
}

/// What is asked of the caller before a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Consent {
    /// `statements` statements destroy data and no consent was given up front
    /// ([`PushOptions::accept_data_loss`]).
    DataLoss {
        /// How many statements need consent.
        statements: usize,
    },
    /// The plan destroys nothing (or its loss was accepted up front): may it run?
    Apply {
        /// How many statements the plan has.
        statements: usize,
    },
}

/// The caller's answer to a [`Consent`] question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Go ahead.
    Yes,
    /// Do not: the run stops with [`DeclarativeError::Declined`].
    No,
    /// Nobody can answer (no terminal). A loss of data is then refused with
    /// [`DeclarativeError::NeedsConsent`]; a plan that destroys nothing runs.
    Unanswered,
}

/// What only the caller of a declarative run can do: say which possible renames are renames,
/// consent to a change, and watch the run. Every method has the default of a caller with
/// nobody to ask, so `&mut ()` is a caller that never consents to losing data.
pub trait Caller: Send {
    /// The run reached `stage`.
    fn stage(&mut self, stage: Stage) {
        let _ = stage;
    }

    /// The plan drops and creates what may be renames (`possible`); `plan` is the plan as it
    /// stands. Return those that are renames (the plan is then made again with them), or
    /// `None` when nobody can say, which refuses the run with
    /// [`DeclarativeError::PossibleRenames`]. Never asked in a dry run, which reports them.
    fn renames(
        &mut self,
        possible: &[PossibleRename],
        plan: &PushReport,
    ) -> Option<Vec<PossibleRename>> {
        let _ = (possible, plan);
        None
    }

    /// The final plan, with its hazards measured on the target's rows, before it is refused,
    /// asked about or run.
    fn planned(&mut self, plan: &PushReport) {
        let _ = plan;
    }

    /// Whether the plan may run.
    fn consent(&mut self, question: Consent) -> Answer {
        let _ = question;
        Answer::Unanswered
    }
}

/// The caller with nobody to ask: no renames, no consent to lose data.
impl Caller for () {}

/// How a [`Push`] runs.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PushOptions {
    /// Plan and measure, refuse what would be refused, but change nothing.
    pub dry_run: bool,
    /// Keep what the target has and the schema leaves out, rather than dropping it.
    pub skip_drops: bool,
    /// Consent up front to the statements that destroy data; possible renames are then taken
    /// for the drops and creates they are.
    pub accept_data_loss: bool,
    /// Renames the caller declares, besides the schema files' hints.
    pub renames: Vec<RenameRequest>,
    /// How statements are rendered.
    pub render: RenderOptions,
    /// How long to wait for another runner's lock.
    pub lock_timeout: Duration,
}

impl PushOptions {
    /// The defaults, with a lock timeout of `lock_timeout`.
    pub fn new(lock_timeout: Duration) -> Self {
        PushOptions {
            lock_timeout,
            ..PushOptions::default()
        }
    }
}

/// What a push planned, and whether it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PushReport {
    /// What [`PushOptions::skip_drops`] kept rather than dropped.
    pub kept: Vec<Kept>,
    /// The changes and their statements.
    pub plan: ChangePlan,
    /// The destructive statements and the rows they touch (empty until measured).
    pub hazards: Vec<MeasuredHazard>,
    /// Drops and creates that may be renames, left as they are (a dry run's, or none).
    pub possible_renames: Vec<PossibleRename>,
    /// What the schema files create that godwit does not manage and the target lacks: the
    /// push leaves it out.
    pub unmanaged: Vec<Unmanaged>,
    /// Privileges and owners the schema files give roles outside the scope
    /// ([`RenderOptions::scope`](crate::dialect::RenderOptions)): the push leaves them alone.
    pub left_alone: Vec<LeftAlone>,
    /// Whether the plan ran.
    pub applied: bool,
}

impl PushReport {
    /// How many statements destroy data and need consent.
    pub fn needing_consent(&self) -> usize {
        self.hazards.iter().filter(|h| h.needs_consent()).count()
    }
}

/// Make a live database match a schema source, under its migration lock.
///
/// ```no_run
/// # async fn example(store: &mut dyn godwit_core::Store) -> Result<(), godwit_core::Error> {
/// use std::time::Duration;
/// use godwit_core::declarative::{Push, PushOptions, SchemaSource};
/// use godwit_core::{HistoryTable, LockOwner};
///
/// let source = SchemaSource::load("schema.sql".as_ref())?;
/// let history = HistoryTable::default();
/// let report = Push::new(store, &history, LockOwner::this_process("my-service"))
///     .run(&source, &PushOptions::new(Duration::from_secs(30)), &mut ())
///     .await?;
/// assert!(report.applied || report.plan.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Push<'a> {
    target: &'a mut dyn Store,
    history: &'a HistoryTable,
    scratch_host: Option<&'a mut dyn Store>,
    cache: Option<&'a mut dyn SchemaCache>,
    owner: LockOwner,
}

impl<'a> Push<'a> {
    /// A push to `target`, whose history table is `history` (its lock is the one taken), by
    /// `owner`. Scratch databases are made on the target's server unless
    /// [`Push::scratch_host`] names another.
    pub fn new(target: &'a mut dyn Store, history: &'a HistoryTable, owner: LockOwner) -> Self {
        Push {
            target,
            history,
            scratch_host: None,
            cache: None,
            owner,
        }
    }

    /// Keep the desired schema in `cache`, and take it from there while the schema files and
    /// the scratch host's engine are what they were ([`SchemaCache`]).
    #[must_use]
    pub fn cache(mut self, cache: &'a mut dyn SchemaCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Build the desired schema on scratch databases of `host` (a dev database of the same
    /// engine) instead of the target's server.
    #[must_use]
    pub fn scratch_host(mut self, host: &'a mut dyn Store) -> Self {
        self.scratch_host = Some(host);
        self
    }

    /// Run the push. A refusal is an error that says why and changes nothing:
    /// [`DeclarativeError::PossibleRenames`], [`DeclarativeError::NeedsConsent`],
    /// [`DeclarativeError::Declined`], [`DeclarativeError::RowsBlockChange`].
    pub async fn run(
        self,
        source: &SchemaSource,
        options: &PushOptions,
        caller: &mut dyn Caller,
    ) -> Result<PushReport, Error> {
        let hints = source.rename_hints()?;
        caller.stage(Stage::Locking);
        let request = LockRequest {
            table: self.history,
            owner: &self.owner,
            // A dry run takes the lock too, to read a schema no run is changing.
            timeout: options.lock_timeout,
        };
        let locked = lock_for_change(self.target, &request).await?;
        let result = push(
            self.target,
            self.history,
            Building {
                host: self.scratch_host,
                cache: self.cache,
            },
            source,
            hints,
            options,
            caller,
        )
        .await;
        if locked && let Err(error) = self.target.unlock(self.history).await {
            tracing::warn!(%error, "could not release the migration lock; `godwit unlock` clears it");
        }
        result
    }
}

async fn push(
    target: &mut dyn Store,
    history: &HistoryTable,
    building: Building<'_>,
    source: &SchemaSource,
    hints: Renames,
    options: &PushOptions,
    caller: &mut dyn Caller,
) -> Result<PushReport, Error> {
    caller.stage(Stage::Reading);
    let current = introspect(target, history).await?;
    caller.stage(Stage::BuildingDesired);
    let cache = building.cache;
    let desired = match building.host {
        Some(host) => desired_schema_cached(host, source, &current, cache).await?,
        None => desired_schema_cached(target, source, &current, cache).await?,
    };
    caller.stage(Stage::Planning);
    let mut renames = declared_renames(hints, &options.renames, &current, &desired)?;
    let planner = Planner {
        target: &*target,
        current: &current,
        desired: &desired,
        options,
    };
    let mut report = planner.report(&renames)?;

    let possible = if options.accept_data_loss {
        Vec::new()
    } else {
        possible_renames(&report.plan.changes)
    };
    if !possible.is_empty() {
        if options.dry_run {
            report.possible_renames = possible;
        } else {
            let chosen =
                caller
                    .renames(&possible, &report)
                    .ok_or(DeclarativeError::PossibleRenames {
                        renames: possible.clone(),
                    })?;
            if !chosen.is_empty() {
                for rename in &chosen {
                    merge_renames(&mut renames, rename.to_renames());
                }
                report = planner.report(&renames)?;
            }
        }
    }
    if report.plan.is_empty() {
        caller.planned(&report);
        return Ok(report);
    }

    caller.stage(Stage::MeasuringHazards);
    report.hazards = measure_hazards(target, &report.plan).await?;
    caller.planned(&report);
    // Rows that would make a statement fail stop the run, dry or not: the dry run says what
    // the real one would do.
    refuse_blocked(&report.hazards)?;
    if options.dry_run {
        return Ok(report);
    }

    let needing_consent = report.needing_consent();
    let question = if needing_consent > 0 && !options.accept_data_loss {
        Consent::DataLoss {
            statements: needing_consent,
        }
    } else {
        Consent::Apply {
            statements: report.plan.statements.len(),
        }
    };
    match (caller.consent(question), question) {
        (Answer::No, _) => return Err(DeclarativeError::Declined.into()),
        (Answer::Unanswered, Consent::DataLoss { statements }) => {
            return Err(DeclarativeError::NeedsConsent { statements }.into());
        }
        (Answer::Yes | Answer::Unanswered, _) => {}
    }

    caller.stage(Stage::Applying);
    apply(target, &report.plan.statements).await?;
    report.applied = true;
    Ok(report)
}

/// Where the desired schema is built, and kept.
struct Building<'a> {
    /// The scratch host, when not the target's server.
    host: Option<&'a mut dyn Store>,
    cache: Option<&'a mut dyn SchemaCache>,
}

/// Makes the plan for a set of renames; asked again when the caller names renames.
struct Planner<'a> {
    target: &'a dyn Store,
    current: &'a Schema,
    desired: &'a Schema,
    options: &'a PushOptions,
}

impl Planner<'_> {
    fn report(&self, renames: &Renames) -> Result<PushReport, Error> {
        let dialect = self.target.dialect();
        let render = &self.options.render;
        let (plan, kept) = if self.options.skip_drops {
            plan_keeping_undeclared(dialect, self.current, self.desired, renames, render)?
        } else {
            (
                plan_changes(dialect, self.current, self.desired, renames, render)?,
                Vec::new(),
            )
        };
        Ok(PushReport {
            kept,
            plan,
            unmanaged: new_unmanaged(self.desired, self.current),
            left_alone: render.scope.left_alone(self.current, self.desired),
            ..PushReport::default()
        })
    }
}

/// What `desired` creates that godwit does not manage and `current` does not have already.
pub(super) fn new_unmanaged(desired: &Schema, current: &Schema) -> Vec<Unmanaged> {
    desired
        .unmanaged
        .iter()
        .filter(|item| !current.unmanaged.contains(item))
        .cloned()
        .collect()
}
