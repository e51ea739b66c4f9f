//! [`Generate`]: the difference between migrations and a schema source, written as new
//! versioned migrations (the steps, their up and down scripts).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::check::replayed;
use super::push::new_unmanaged;
use super::renames::declared_renames;
use super::{
    Caller, ChangePlan, DeclarativeError, LeftAlone, RenameRequest, SchemaCache, SchemaSource,
    Stage, desired_schema_cached, inverse_renames, plan_changes,
};
use crate::dialect::{Dialect, RenderOptions, Statement, StatementKind};
use crate::error::Error;
use crate::migration::{Migrations, Version, next_version};
use crate::schema::Unmanaged;
use crate::store::Store;

/// How a [`Generate`] plans.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// Renames the caller declares, besides the schema files' hints.
    pub renames: Vec<RenameRequest>,
    /// How statements are rendered.
    pub render: RenderOptions,
}

/// Plan the migration that takes a folder of migrations to a schema source, on scratch
/// databases of one host (no target database is read or changed).
#[derive(Debug)]
pub struct Generate<'a> {
    host: &'a mut dyn Store,
    cache: Option<&'a mut dyn SchemaCache>,
}

/// What a [`Generate`] found: the change, and the change back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Generation {
    /// From what the migrations produce to the schema source.
    pub up: ChangePlan,
    /// Back again (renames inverted), for the down scripts.
    pub down: ChangePlan,
    /// What the schema files create that godwit does not manage and the migrations do not:
    /// the migration leaves it out.
    pub unmanaged: Vec<Unmanaged>,
    /// Privileges and owners the schema files give roles outside the scope: the migration
    /// leaves them alone.
    pub left_alone: Vec<LeftAlone>,
}

/// One migration file pair of a [`Generation`], ready to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewMigration {
    /// Its version.
    pub version: Version,
    /// Which part of the change it holds.
    pub kind: StepKind,
    /// `<version>_<slug>`: the file names without `.up.sql` / `.down.sql`.
    pub stem: String,
    /// The up script's text.
    pub up: String,
    /// The down script's text.
    pub down: String,
    /// How many statements the up script runs.
    pub statements: usize,
    /// Whether it runs outside a transaction (`-- godwit:no-transaction`).
    pub no_transaction: bool,
}

/// What the generated files say about themselves.
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    /// The file names' slug ([`crate::migration::slugify`]).
    pub slug: &'a str,
    /// The change's description, as the user gave it.
    pub description: &'a str,
    /// Where the schema came from, for the header.
    pub schema: &'a str,
}

impl<'a> Generate<'a> {
    /// Scratch databases are made on `host`.
    pub fn new(host: &'a mut dyn Store) -> Self {
        Generate { host, cache: None }
    }

    /// Keep the desired schema in `cache`, and take it from there while the schema files and
    /// the host's engine are what they were ([`SchemaCache`]).
    #[must_use]
    pub fn cache(mut self, cache: &'a mut dyn SchemaCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Replay `migrations` on one scratch database, build `source` on another, and plan the
    /// difference both ways.
    pub async fn run(
        self,
        migrations: &Migrations,
        source: &SchemaSource,
        options: &GenerateOptions,
        caller: &mut dyn Caller,
    ) -> Result<Generation, Error> {
        let hints = source.rename_hints()?;
        caller.stage(Stage::Reading);
        let mut cache = self.cache;
        let current = replayed(self.host, migrations, cache.as_deref_mut()).await?;
        caller.stage(Stage::BuildingDesired);
        let desired = desired_schema_cached(self.host, source, &current, cache).await?;
        caller.stage(Stage::Planning);
        let renames = declared_renames(hints, &options.renames, &current, &desired)?;
        let dialect = self.host.dialect();
        let up = plan_changes(dialect, &current, &desired, &renames, &options.render)?;
        if up.is_empty() {
            return Ok(Generation::default());
        }
        let down = plan_changes(
            dialect,
            &desired,
            &current,
            &inverse_renames(&renames),
            &options.render,
        )?;
        Ok(Generation {
            up,
            down,
            unmanaged: new_unmanaged(&desired, &current),
            left_alone: options.render.scope.left_alone(&current, &desired),
        })
    }
}

impl Generation {
    /// Whether the migrations already produce the schema.
    pub fn is_empty(&self) -> bool {
        self.up.is_empty()
    }

    /// The migrations to write, oldest first ([`migration_steps`]), versioned from the clock
    /// (`now`) past `latest`, the newest version already in the folder.
    pub fn migrations(
        &self,
        dialect: &dyn Dialect,
        naming: Naming<'_>,
        now: SystemTime,
        mut latest: Option<Version>,
    ) -> Result<Vec<NewMigration>, DeclarativeError> {
        let steps = migration_steps(&self.up.statements, &self.down.statements);
        let mut written = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let version = next_version(now, latest).ok_or(DeclarativeError::NoVersionLeft {
                latest: latest.map_or(i64::MAX, Version::get),
            })?;
            latest = Some(version);
            let slug = naming.slug;
            let step_slug = match (steps.len(), step.kind) {
                (1, _) | (_, StepKind::Main) => slug.to_string(),
                (_, StepKind::ConcurrentBefore) => format!("{slug}_pre_concurrently"),
                (_, StepKind::ConcurrentAfter) => format!("{slug}_concurrently"),
            };
            let part = if steps.len() == 1 {
                String::new()
            } else {
                format!(
                    "-- Part {} of {} of one change; each part is applied and recorded on its own.\n",
                    index + 1,
                    steps.len()
                )
            };
            let up = format!(
                "-- Migration {version} {step_slug}: {name}\n\
                 -- Generated by `godwit generate` from {schema}; review it before applying it.\n\
                 {part}{up}",
                name = naming.description.trim(),
                schema = naming.schema,
                up = migration_script(dialect, step.up),
            );
            let down = format!(
                "-- Revert migration {version} {step_slug}.\n\
                 -- Generated by `godwit generate`: the reverse of the .up.sql file.\n{}",
                migration_script(dialect, &step.down)
            );
            written.push(NewMigration {
                version,
                kind: step.kind,
                stem: format!("{version}_{step_slug}"),
                up,
                down,
                statements: step.up.len(),
                no_transaction: step.up.iter().any(|s| !s.transactional),
            });
        }
        Ok(written)
    }
}

/// Which part of a generated change a [`MigrationStep`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Concurrent statements that run before the rest (dropping an index before its column
    /// goes).
    ConcurrentBefore,
    /// The rest, in one transaction where its statements allow.
    Main,
    /// Concurrent statements that run once the rest committed (building an index on a column
    /// the rest added).
    ConcurrentAfter,
}

/// One migration of a generated change: up statements, and the down statements that undo them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStep<'a> {
    /// Which part of the change it is.
    pub kind: StepKind,
    /// What its up script runs.
    pub up: &'a [Statement],
    /// What its down script runs.
    pub down: Vec<Statement>,
}

/// `statements` cut into the concurrent statements before the others, the others, and the
/// concurrent statements after them.
fn phases(statements: &[Statement]) -> [&[Statement]; 3] {
    let lead = statements
        .iter()
        .position(|s| !s.concurrent)
        .unwrap_or(statements.len());
    let trail = statements
        .iter()
        .rposition(|s| !s.concurrent)
        .map_or(lead, |last| last + 1);
    [
        &statements[..lead],
        &statements[lead..trail],
        &statements[trail..],
    ]
}

/// Cut a change, given as its `up` statements and the `down` statements that revert it, into
/// the migrations that `godwit generate` writes, oldest first.
///
/// A migration has one transaction mode for the whole file, and a failed no-transaction
/// migration is retried whole. So the concurrent statements ([`Statement::concurrent`]) at the
/// start and the end of `up` each get a no-transaction migration of their own, and the rest
/// keeps its transaction, committing with its history row: a failed concurrent index build
/// then leaves the main change applied and recorded, and a retry runs only the index builds.
/// A change without concurrent statements is one migration, as before.
///
/// The down statements are cut the same way and given in reverse (the concurrent ones at the
/// end of `down` undo the ones at the start of `up`, and so on), so that rolling the
/// migrations back newest first runs exactly `down`, in order, even where the two are not
/// mirror images.
pub fn migration_steps<'a>(up: &'a [Statement], down: &[Statement]) -> Vec<MigrationStep<'a>> {
    let [up_before, up_main, up_after] = phases(up);
    let [down_first, down_main, down_last] = phases(down);
    let mut steps: Vec<MigrationStep<'a>> = Vec::new();
    // In rollback order, each step takes the down statements not taken by a newer step.
    let mut pending: Vec<Statement> = Vec::new();
    for (kind, up, down) in [
        (StepKind::ConcurrentAfter, up_after, down_first),
        (StepKind::Main, up_main, down_main),
        (StepKind::ConcurrentBefore, up_before, down_last),
    ] {
        pending.extend_from_slice(down);
        if !up.is_empty() {
            steps.push(MigrationStep {
                kind,
                up,
                down: std::mem::take(&mut pending),
            });
        }
    }
    if let Some(oldest) = steps.last_mut() {
        oldest.down.append(&mut pending);
    }
    steps.reverse();
    steps
}

/// `statements` as the text of a migration file.
///
/// When every statement may run in a transaction the script is the statements in order, and
/// `godwit migrate` wraps it in its transaction. When some may not (SQLite's
/// `PRAGMA foreign_keys` around a table rebuild), the script opens with
/// `-- godwit:no-transaction` and wraps each run of transactional statements in its own
/// `BEGIN;` ... `COMMIT;`, so it runs as `push` would. Hazards and failure hints are noted
/// above their statement, and so are the lint rules the dialect knows the statement breaks on
/// purpose ([`Statement::lint_allowances`]): each reason on a comment line, then one
/// `-- godwit:allow` naming the rules, so that `godwit migrate`, which lints what it applies,
/// accepts the file and its reader sees why. A statement that loses data carries no such
/// comment, and the lint's finding stays for the user to acknowledge. Check queries become
/// the dialect's [`Dialect::assertion`], SQL that fails the migration as the check would fail
/// a push; a dialect without one gets them as comments for the reader to run.
pub fn migration_script(dialect: &dyn Dialect, statements: &[Statement]) -> String {
    let mut text = String::new();
    let wrap = statements.iter().any(|s| !s.transactional);
    if wrap && statements.iter().all(|s| !s.transactional) {
        text.push_str(
            "-- godwit:no-transaction\n\
             -- These statements cannot run inside a transaction.\n",
        );
    } else if wrap {
        text.push_str(
            "-- godwit:no-transaction\n\
             -- Some statements cannot run inside a transaction; the others are grouped in\n\
             -- BEGIN/COMMIT below.\n",
        );
    }
    text.push_str(&statements_text(dialect, statements, wrap));
    text
}

/// The statements of [`migration_script`] without its opening comments: with `wrap`, each run
/// of transactional statements in its own `BEGIN;` ... `COMMIT;`.
pub(crate) fn statements_text(
    dialect: &dyn Dialect,
    statements: &[Statement],
    wrap: bool,
) -> String {
    let mut text = String::new();
    let mut open = false;
    for statement in statements {
        if wrap && statement.transactional != open {
            text.push_str(if open { "\nCOMMIT;\n" } else { "\nBEGIN;\n" });
            open = statement.transactional;
        }
        text.push('\n');
        if let Some(hazard) = &statement.hazard {
            text.push_str(&format!("-- hazard: {}\n", one_line(&hazard.description)));
        }
        if let Some(hint) = &statement.failure_hint {
            text.push_str(&format!("-- if it fails: {}\n", one_line(hint)));
        }
        if !statement.lint_allowances.is_empty() {
            let mut rules = Vec::new();
            for allowance in &statement.lint_allowances {
                text.push_str(&format!(
                    "-- lint {} allowed: {}\n",
                    allowance.rule,
                    one_line(&allowance.reason)
                ));
                rules.push(allowance.rule.as_str());
            }
            text.push_str(&format!("-- godwit:allow {}\n", rules.join(", ")));
        }
        let sql = statement.sql.trim_end();
        match &statement.kind {
            StatementKind::AssertEmpty { message } => match dialect.assertion(sql, message) {
                Some(check) => {
                    text.push_str(&format!("-- check: {message}\n{check};\n"));
                }
                None => {
                    text.push_str(&format!(
                        "-- check ({message}): this query must return no rows\n"
                    ));
                    for line in sql.lines() {
                        text.push_str(&format!("-- {line}\n"));
                    }
                }
            },
            _ => {
                text.push_str(sql);
                if !sql.ends_with(';') {
                    text.push(';');
                }
                text.push('\n');
            }
        }
    }
    if open {
        text.push_str("\nCOMMIT;\n");
    }
    text
}

/// `text` for a `--` comment: a line break in it (a quoted name may hold one) would end the
/// comment and turn the rest into SQL.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declarative::{ApplyCause, DeclarativeError};
    use crate::dialect::{Hazard, HazardKind};

    use crate::dialect::test_support::Script;

    const PLAIN: Script = Script { checks: false };

    fn concurrent(sql: &str) -> Statement {
        Statement::execute(sql)
            .concurrently()
            .with_failure_hint(format!("undo {sql}"))
    }

    /// The down statements of `steps`, in the order a rollback of all of them runs them.
    fn rollback_order(steps: &[MigrationStep<'_>]) -> Vec<Statement> {
        steps.iter().rev().flat_map(|s| s.down.clone()).collect()
    }

    #[test]
    fn concurrent_statements_get_migrations_of_their_own() {
        let up = [
            concurrent("DROP INDEX CONCURRENTLY gone"),
            Statement::execute("ALTER TABLE t ADD c int"),
            concurrent("CREATE INDEX CONCURRENTLY new ON t (c)"),
        ];
        let down = [
            concurrent("DROP INDEX CONCURRENTLY new"),
            Statement::execute("ALTER TABLE t DROP c"),
            concurrent("CREATE INDEX CONCURRENTLY gone ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ConcurrentBefore,
                StepKind::Main,
                StepKind::ConcurrentAfter
            ]
        );
        // Each step's down undoes its up: the down's concurrent drops undo the builds after.
        for (step, (u, d)) in steps.iter().zip([(0, 2), (1, 1), (2, 0)]) {
            assert_eq!(step.up, &up[u..=u]);
            assert_eq!(step.down, &down[d..=d]);
        }
        assert_eq!(rollback_order(&steps), down);

        let script = migration_script(&PLAIN, steps[2].up);
        assert!(
            script.starts_with(
                "-- godwit:no-transaction\n-- These statements cannot run inside a transaction.\n"
            ),
            "{script}"
        );
        assert!(
            script.contains(
                "-- if it fails: undo CREATE INDEX CONCURRENTLY new ON t (c)\n\
                 CREATE INDEX CONCURRENTLY new ON t (c);\n"
            ),
            "{script}"
        );
        assert!(!script.contains("BEGIN"), "{script}");
    }

    #[test]
    fn a_change_without_concurrent_statements_is_one_migration() {
        let up = [Statement::execute("CREATE TABLE a (id int)")];
        let down = [Statement::execute("DROP TABLE a")];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].kind, StepKind::Main);
        assert_eq!(steps[0].up, &up[..]);
        assert_eq!(steps[0].down, down);

        // Only concurrent statements: one migration too, whatever their order.
        let up = [
            concurrent("DROP INDEX CONCURRENTLY a"),
            concurrent("CREATE INDEX CONCURRENTLY a ON t (y)"),
        ];
        let down = [
            concurrent("DROP INDEX CONCURRENTLY a"),
            concurrent("CREATE INDEX CONCURRENTLY a ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 1);
        assert_eq!(rollback_order(&steps), down);
    }

    #[test]
    fn a_rollback_of_every_step_runs_the_whole_down_in_order() {
        // The down is no mirror of the up: its concurrent statements at the end have no
        // concurrent step before the main one to undo.
        let up = [
            Statement::execute("ALTER TABLE t ADD c int"),
            concurrent("CREATE INDEX CONCURRENTLY new ON t (c)"),
        ];
        let down = [
            Statement::execute("ALTER TABLE t DROP c"),
            concurrent("CREATE INDEX CONCURRENTLY other ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 2);
        assert!(steps[1].down.is_empty());
        assert_eq!(rollback_order(&steps), down);
    }

    #[test]
    fn a_failed_concurrent_statement_reports_its_hint() {
        let error = DeclarativeError::ApplyFailed {
            index: 2,
            total: 3,
            sql: "CREATE UNIQUE INDEX CONCURRENTLY u ON t (a)".into(),
            cause: ApplyCause::Check {
                message: "duplicate".into(),
            },
            rolled_back: false,
            committed: 2,
            hint: Some("drop the INVALID index u".into()),
        }
        .to_string();
        assert!(
            error.ends_with(
                "it ran outside a transaction: drop the INVALID index u; the 2 statements \
                 before it stay applied"
            ),
            "{error}"
        );
    }

    /// What the dialect knows to be safe passes the lint with the reason in the file; what
    /// loses data still needs the user's own allow comment.
    #[test]
    fn allowed_lint_rules_are_written_with_their_reasons() {
        use crate::lint::{LintConfig, LintInput};

        let statements = [
            Statement::execute("DROP TABLE t")
                .allowing_lint("drop-table", "its rows were copied\ninto t_new above"),
            Statement::execute("DROP TABLE gone").with_hazard(Hazard::new(
                HazardKind::DropTable,
                "drops table gone\nDROP TABLE other",
                None,
            )),
        ];
        let script = migration_script(&PLAIN, &statements);
        assert!(
            script.starts_with(
                "\n-- lint drop-table allowed: its rows were copied into t_new above\n\
                 -- godwit:allow drop-table\nDROP TABLE t;\n"
            ),
            "{script}"
        );
        let findings = PLAIN.lint(
            &LintInput {
                sql: &script,
                transactional: true,
                origin: "generated.up.sql",
                schema: None,
            },
            &LintConfig::default(),
        );
        let found: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (f.rule, f.excerpt.as_str()))
            .collect();
        // A line break in a comment's text would have made `DROP TABLE other` a statement.
        assert_eq!(found, [("drop-table", "DROP TABLE gone")], "{script}");
    }

    #[test]
    fn scripts_group_transactional_statements_when_some_cannot_be() {
        let plain = migration_script(
            &PLAIN,
            &[
                Statement::execute("CREATE TABLE a (id int)"),
                Statement::execute("DROP TABLE b;").with_hazard(Hazard::new(
                    HazardKind::DropTable,
                    "drops table b",
                    None,
                )),
            ],
        );
        assert_eq!(
            plain,
            "\nCREATE TABLE a (id int);\n\n-- hazard: drops table b\nDROP TABLE b;\n"
        );
        let statements = [
            Statement::execute("PRAGMA foreign_keys = OFF").outside_transaction(),
            Statement::execute("ALTER TABLE a RENAME TO b"),
            Statement::assert_empty("PRAGMA foreign_key_check", "foreign keys hold"),
            Statement::execute("PRAGMA foreign_keys = ON").outside_transaction(),
        ];
        let wrapped = migration_script(&PLAIN, &statements);
        assert!(
            wrapped.starts_with("-- godwit:no-transaction\n"),
            "{wrapped}"
        );
        assert!(
            wrapped.contains(
                "PRAGMA foreign_keys = OFF;\n\nBEGIN;\n\nALTER TABLE a RENAME TO b;\n\n\
                 -- check (foreign keys hold): this query must return no rows\n\
                 -- PRAGMA foreign_key_check\n\nCOMMIT;\n\nPRAGMA foreign_keys = ON;\n"
            ),
            "{wrapped}"
        );
        let directives = crate::migration::Directives::parse(&wrapped).unwrap();
        assert!(directives.no_transaction);

        // A dialect that can enforce the check in SQL does.
        let enforced = migration_script(&Script { checks: true }, &statements);
        assert!(
            enforced.contains(
                "-- check: foreign keys hold\n\
                 SELECT fail(\"foreign keys hold\") WHERE EXISTS (PRAGMA foreign_key_check);\n"
            ),
            "{enforced}"
        );
    }
}
