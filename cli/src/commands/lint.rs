//! `godwit lint`: find the statements of migration files that lose data, block production
//! traffic or fail, before they run. `migrate` runs the same lint on what it is about to apply.

use godwit_core::lint::{self, Finding, LintConfig, ListedRule, Severity};
use godwit_core::plan::Step;
use godwit_core::{Dialect, MigrateOptions, Script};
use serde::Serialize;

use super::{Session, load_migrations};
use crate::args::{FormatFlag, LintArgs};
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Output};

/// Lint the pending migrations or the files `args` names, explain a rule, or list them all.
pub(super) async fn run(
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
        errors => {
            Err(CliError::LintErrors { errors }.with_document(output.format(), &report.json()))
        }
    }
}

/// The findings of a lint over several scripts, in the order the scripts were given, with the
/// ways the CLI prints them.
#[derive(Debug, Default)]
pub(super) struct Report(pub(super) lint::Report);

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
    fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.0.findings()
    }

    fn count(&self, severity: Severity) -> usize {
        self.0.count(severity)
    }

    /// How many error-level findings remain.
    pub(super) fn errors(&self) -> usize {
        self.0.errors()
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
        if self.0.scripts.is_empty() {
            return format!("no {subject}s to lint");
        }
        format!(
            "{} in {}",
            self.counts(),
            output::count(self.0.scripts.len(), subject)
        )
    }

    /// For people: `file:line:column: severity[rule]: message`, then the statement.
    pub(super) fn text(&self) -> String {
        self.0.text()
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
            files: self.0.scripts.iter().map(|s| s.file.as_str()).collect(),
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

    /// The warning `migrate` prints about findings that do not stop it.
    pub(super) fn warn(&self, output: Output) {
        if self.0.has_findings() {
            output.warning(&format!(
                "the lint found {} in the pending migrations; migrate goes on:\n{}",
                self.counts(),
                self.text().trim_end()
            ));
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

/// Lint scripts with no database behind them, such as the migrations `generate` just wrote.
pub(super) fn scripts(
    dialect: &dyn Dialect,
    scripts: &[(String, Script)],
    config: &LintConfig,
) -> Report {
    Report(lint::Report::of_scripts(
        |input| dialect.lint(input, config),
        scripts.iter().map(|(file, script)| (file.clone(), script)),
        None,
    ))
}

/// Lint the up scripts of the migrations a plan would apply, with the database's live schema,
/// as `migrate` does before applying them.
pub(super) async fn pending(session: &mut Session, steps: &[Step]) -> Report {
    let migrations: Vec<_> = steps.iter().map(|step| &step.migration).collect();
    Report(session.migrator.lint(&migrations).await)
}

/// Lint what `migrate` would apply to the configured database.
async fn pending_in_database(config: &Config) -> Result<Report, CliError> {
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, None, Access::Preview).await?;
    // Out-of-order migrations are linted too: `migrate --allow-out-of-order` applies them;
    // so are those that create tables a database without history holds.
    let options = MigrateOptions {
        target: None,
        allow_out_of_order: true,
        allow_existing_tables: true,
        ..MigrateOptions::default()
    };
    let plan = session
        .migrator
        .plan(&options)
        .await
        .map_err(|error| session.error(error))?;
    Ok(pending(&mut session, &plan.steps).await)
}

/// Lint the files named on the command line, without a database.
fn files(config: &Config, args: &LintArgs) -> Result<Report, CliError> {
    let dialect = match args.dialect {
        Some(dialect) => crate::backend::dialect_named(dialect.name())?,
        None => configured_dialect(config)?,
    };
    let read = args
        .files
        .iter()
        .map(|path| {
            let sql = std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
                path: path.clone(),
                source,
            })?;
            Ok((
                path.display().to_string(),
                Script::new(sql, Some(path.clone()))?,
            ))
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    Ok(scripts(dialect, &read, &config.lint))
}

/// The dialect of the configured URL's scheme. The URL is only read, never connected to, so
/// linting files works where the database is out of reach (CI). A dialect's rules come with
/// its crate, so its backend must be compiled in.
fn configured_dialect(config: &Config) -> Result<&'static dyn Dialect, CliError> {
    let url = config.url().map_err(|_| CliError::NoLintDialect {
        config: config.config_path.path().to_path_buf(),
    })?;
    let (backend, _) = crate::backend::locate(url.secret())?;
    Ok(backend.dialect())
}

/// `lint --explain RULE`.
fn explain(id: &str, format: FormatFlag, output: Output) -> Result<(), CliError> {
    let catalogue = crate::plugins::registry().lint_catalogue();
    let listed = catalogue
        .rule(id)
        .ok_or_else(|| CliError::UnknownRule { id: id.into() })?;
    let rule = &listed.rule;
    match format {
        FormatFlag::Json => output.json(listed),
        FormatFlag::Human | FormatFlag::Github | FormatFlag::Sql => output.data(&format!(
            "{}: {}\nseverity: {}\ndialects: {}\n\n{}\n",
            rule.id,
            rule.summary,
            rule.severity,
            listed.dialects_text(),
            rule.explanation.trim_end()
        )),
    }
}

/// `lint --list`.
fn list(format: FormatFlag, output: Output) -> Result<(), CliError> {
    #[derive(Serialize)]
    struct Rules<'a> {
        rules: &'a [ListedRule],
    }
    let catalogue = crate::plugins::registry().lint_catalogue();
    let rules = catalogue.rules();
    if format == FormatFlag::Json {
        return output.json(&Rules { rules });
    }
    let width = rules
        .iter()
        .map(|listed| listed.rule.id.len())
        .max()
        .unwrap_or(0);
    let dialect_width = rules
        .iter()
        .map(|listed| listed.dialects_text().len())
        .chain(["DIALECTS".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "{:width$}  {:8}  {:dialect_width$}  WHAT IT CATCHES\n",
        "RULE", "SEVERITY", "DIALECTS"
    );
    for listed in rules {
        let rule = &listed.rule;
        text.push_str(&format!(
            "{:width$}  {:8}  {:dialect_width$}  {}\n",
            rule.id,
            rule.severity.as_str(),
            listed.dialects_text(),
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
