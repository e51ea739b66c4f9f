//! `godwit lint`: find the statements of migration files that lose data, block production
//! traffic or fail, before they run. `migrate` runs the same lint on what it is about to apply.

use godwit_core::declarative;
use godwit_core::lint::{self, Finding, LintConfig, LintInput, Rule, Severity};
use godwit_core::plan::Step;
use godwit_core::schema::Schema;
use godwit_core::url::{self, Target};
use godwit_core::{MigrateOptions, Script};
use serde::Serialize;

use super::{Session, load_migrations};
use crate::args::{FormatFlag, LintArgs};
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Output};

/// Lint the pending migrations or the files `args` names, explain a rule, or list them all.
pub async fn run(
    args: &LintArgs,
    config: impl FnOnce() -> Result<Config, CliError>,
    format: FormatFlag,
    output: Output,
) -> Result<(), CliError> {
    // The rule catalogue needs no configuration, so a broken config file does not hide it.
    if let Some(id) = &args.explain {
        return explain(id, format, output);
    }
    if args.list {
        return list(format, output);
    }
    let config = config()?;
    let (report, subject) = if args.files.is_empty() {
        (pending_in_database(&config).await?, "pending migration")
    } else {
        (files(&config, args)?, "file")
    };
    match format {
        // The findings are the document, of a success or of the failure.
        FormatFlag::Json if report.errors() == 0 => output.json(&report.json())?,
        FormatFlag::Json => {}
        // `sql` never gets here: `commands::run` refuses it for lint.
        FormatFlag::Human | FormatFlag::Sql => output.data(&report.text())?,
        FormatFlag::Github => output.data(&report.annotations())?,
    }
    output.summary(&report.summary(subject))?;
    match report.errors() {
        0 => Ok(()),
        errors => Err(CliError::LintErrors { errors }.with_document(output, &report.json())),
    }
}

/// The findings of one script.
#[derive(Debug)]
struct Linted {
    /// The script's path, as findings name it.
    file: String,
    findings: Vec<Finding>,
}

/// The findings of a lint over several scripts, in the order the scripts were given.
#[derive(Debug, Default)]
pub(super) struct Report {
    scripts: Vec<Linted>,
}

/// A lint report as JSON: the linted files, every finding with its file, and the counts.
#[derive(Debug, Serialize)]
pub(super) struct ReportJson<'a> {
    files: Vec<&'a str>,
    findings: Vec<FindingJson<'a>>,
    errors: usize,
    warnings: usize,
}

#[derive(Debug, Serialize)]
struct FindingJson<'a> {
    file: &'a str,
    #[serde(flatten)]
    finding: &'a Finding,
}

impl Report {
    /// Every finding with the path of its script.
    fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.scripts.iter().flat_map(|script| {
            script
                .findings
                .iter()
                .map(|finding| (script.file.as_str(), finding))
        })
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings()
            .filter(|(_, finding)| finding.severity == severity)
            .count()
    }

    /// How many error-level findings remain.
    pub(super) fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// `2 errors, 1 warning`, or `no findings`.
    fn counts(&self) -> String {
        let (errors, warnings) = (self.errors(), self.count(Severity::Warning));
        match (errors, warnings) {
            (0, 0) => "no findings".into(),
            (0, _) => output::count(warnings, "warning"),
            (_, 0) => output::count(errors, "error"),
            _ => format!(
                "{}, {}",
                output::count(errors, "error"),
                output::count(warnings, "warning")
            ),
        }
    }

    /// The line after the findings: what was linted and what was found.
    fn summary(&self, subject: &str) -> String {
        if self.scripts.is_empty() {
            return format!("no {subject}s to lint");
        }
        format!(
            "{} in {}",
            self.counts(),
            output::count(self.scripts.len(), subject)
        )
    }

    /// For people: `file:line:column: severity[rule]: message`, then the statement.
    pub(super) fn text(&self) -> String {
        self.findings()
            .map(|(file, f)| {
                format!(
                    "{file}:{}:{}: {}[{}]: {}\n  | {}\n",
                    f.line, f.column, f.severity, f.rule, f.message, f.excerpt
                )
            })
            .collect()
    }

    /// GitHub workflow commands, which the runner shows as annotations on the files' lines.
    fn annotations(&self) -> String {
        self.findings()
            .map(|(file, f)| {
                format!(
                    "::{} file={},line={},col={},title={}::{}\n",
                    f.severity,
                    escape_property(file),
                    f.line,
                    f.column,
                    escape_property(f.rule),
                    escape_data(&f.message)
                )
            })
            .collect()
    }

    /// The document `--format json` prints.
    pub(super) fn json(&self) -> ReportJson<'_> {
        ReportJson {
            files: self.scripts.iter().map(|s| s.file.as_str()).collect(),
            findings: self
                .findings()
                .map(|(file, finding)| FindingJson { file, finding })
                .collect(),
            errors: self.errors(),
            warnings: self.count(Severity::Warning),
        }
    }

    /// What `migrate --dry-run` adds below the SQL it would run.
    pub(super) fn dry_run_text(&self) -> String {
        let mut text = format!("\nlint: {}\n{}", self.counts(), self.text());
        if self.errors() > 0 {
            text.push_str(
                "migrate would refuse to apply these migrations: fix the errors, put \
                 `-- godwit:allow RULE` on the line above a statement to accept its risk, or run \
                 again with --no-lint\n",
            );
        }
        text
    }

    /// Before `migrate` applies anything: refuse on an error-level finding, and print the
    /// warnings, which do not stop the run.
    pub(super) fn gate(&self, output: Output) -> Result<(), CliError> {
        match self.errors() {
            0 if self.scripts.iter().any(|s| !s.findings.is_empty()) => {
                output.warning(&format!(
                    "the lint found {} in the pending migrations; migrate goes on:\n{}",
                    self.counts(),
                    self.text().trim_end()
                ));
                Ok(())
            }
            0 => Ok(()),
            errors => Err(CliError::LintRefused {
                errors,
                findings: self.text(),
            }),
        }
    }
}

/// A workflow command's message: `%`, CR and LF escaped as the runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as [`escape_data`], and `:` and `,`, which delimit
/// properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Lint one script. Whether it runs in a transaction comes from its own directive, as when
/// `migrate` runs it.
fn lint_script(
    dialect: &str,
    file: String,
    script: &Script,
    schema: Option<&Schema>,
    config: &LintConfig,
) -> Linted {
    let findings = lint::lint(
        &LintInput {
            dialect,
            sql: &script.sql,
            transactional: !script.directives.no_transaction,
            origin: &file,
            schema,
        },
        config,
    );
    Linted { file, findings }
}

/// Lint scripts with no database behind them, such as the migrations `generate` just wrote.
pub(super) fn scripts(dialect: &str, scripts: &[(String, Script)], config: &LintConfig) -> Report {
    Report {
        scripts: scripts
            .iter()
            .map(|(file, script)| lint_script(dialect, file.clone(), script, None, config))
            .collect(),
    }
}

/// Lint the up scripts of the migrations a plan would apply, with the database's live schema.
pub(super) async fn pending(session: &mut Session, steps: &[Step], config: &LintConfig) -> Report {
    if steps.is_empty() {
        return Report::default();
    }
    let schema = live_schema(session).await;
    let dialect = session.migrator.store_mut().dialect().name();
    Report {
        scripts: steps
            .iter()
            .map(|step| {
                let up = &step.migration.up;
                lint_script(dialect, up.origin(), up, schema.as_ref(), config)
            })
            .collect(),
    }
}

/// The live schema, so that a foreign key counts the indexes that already cover it and a type
/// change knows the column's current type. Reading it is cheap enough to do on every run:
/// introspection is a fixed handful of catalog queries whatever the number of tables, next to
/// a migration that is about to take locks. Failing to read it costs precision, not safety
/// (the lint then knows only what the files create, and may warn about an index that exists),
/// so it is a warning rather than a reason to stop a migration.
async fn live_schema(session: &mut Session) -> Option<Schema> {
    match declarative::introspect(session.migrator.store_mut(), &session.history).await {
        Ok(schema) => Some(schema),
        Err(error) => {
            tracing::warn!(
                "cannot read the live schema of {} ({error}); the lint knows only the indexes \
                 and column types the migration files create",
                session.url
            );
            None
        }
    }
}

/// Lint what `migrate` would apply to the configured database.
async fn pending_in_database(config: &Config) -> Result<Report, CliError> {
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, None, Access::Preview).await?;
    // Out-of-order migrations are linted too: `migrate --allow-out-of-order` applies them.
    let options = MigrateOptions {
        target: None,
        allow_out_of_order: true,
        backup: None,
    };
    let plan = session
        .migrator
        .plan(&options)
        .await
        .map_err(|error| session.error(error))?;
    Ok(pending(&mut session, &plan.steps, &config.lint).await)
}

/// Lint the files named on the command line, without a database.
fn files(config: &Config, args: &LintArgs) -> Result<Report, CliError> {
    let dialect = match args.dialect {
        Some(dialect) => dialect.name(),
        None => configured_dialect(config)?,
    };
    let scripts = args
        .files
        .iter()
        .map(|path| {
            let sql = std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let script = Script::new(sql, Some(path.clone()))?;
            Ok(lint_script(
                dialect,
                path.display().to_string(),
                &script,
                None,
                &config.lint,
            ))
        })
        .collect::<Result<_, CliError>>()?;
    Ok(Report { scripts })
}

/// The dialect of the configured URL's scheme. The URL is only read, never connected to, so
/// linting files works where the database is out of reach (CI) or its backend not compiled in.
fn configured_dialect(config: &Config) -> Result<&'static str, CliError> {
    let url = config.url().map_err(|_| CliError::NoLintDialect {
        config: config.config_path.path().to_path_buf(),
    })?;
    Ok(match url::parse(url.secret())? {
        Target::SqliteFile(_) | Target::SqliteMemory => "sqlite",
        Target::Postgres(_) => "postgres",
    })
}

/// `all`, or the dialects a rule applies to.
fn dialects(rule: &Rule) -> String {
    if rule.dialects.is_empty() {
        "all".into()
    } else {
        rule.dialects.join(", ")
    }
}

/// `lint --explain RULE`.
fn explain(id: &str, format: FormatFlag, output: Output) -> Result<(), CliError> {
    let rule = lint::rule(id).ok_or_else(|| CliError::UnknownRule { id: id.into() })?;
    match format {
        FormatFlag::Json => output.json(rule),
        FormatFlag::Human | FormatFlag::Github | FormatFlag::Sql => output.data(&format!(
            "{}: {}\nseverity: {}\ndialects: {}\n\n{}\n",
            rule.id,
            rule.summary,
            rule.severity,
            dialects(rule),
            rule.explanation.trim_end()
        )),
    }
}

/// `lint --list`.
fn list(format: FormatFlag, output: Output) -> Result<(), CliError> {
    #[derive(Serialize)]
    struct Rules<'a> {
        rules: &'a [Rule],
    }
    let rules = lint::rules();
    if format == FormatFlag::Json {
        return output.json(&Rules { rules });
    }
    let width = rules.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    let dialect_width = rules
        .iter()
        .map(|rule| dialects(rule).len())
        .chain(["DIALECTS".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "{:width$}  {:8}  {:dialect_width$}  WHAT IT CATCHES\n",
        "RULE", "SEVERITY", "DIALECTS"
    );
    for rule in rules {
        text.push_str(&format!(
            "{:width$}  {:8}  {:dialect_width$}  {}\n",
            rule.id,
            rule.severity.as_str(),
            dialects(rule),
            rule.summary
        ));
    }
    output.data(&text)?;
    output.summary("\n`godwit lint --explain RULE` tells why a rule matters and what to do instead")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_the_runner_would_misread() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
