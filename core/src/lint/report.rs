//! The lint of the migrations a run is about to apply: the findings of each script, and the
//! counts that decide whether the run may go on.

use serde::Serialize;

use super::{Finding, LintInput, Severity};
use crate::migration::Script;
use crate::schema::Schema;

/// The findings of one script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptFindings {
    /// Where the script comes from (its path, or `embedded script`).
    pub file: String,
    /// What the lint found, in order of position.
    pub findings: Vec<Finding>,
}

/// The findings of several scripts, in the order they would run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per script linted, with or without findings.
    pub scripts: Vec<ScriptFindings>,
}

impl Report {
    /// Lint `scripts` (each named by its file) with `lint` (a dialect's
    /// [`crate::Dialect::lint`] with a configuration), knowing the live `schema` when given.
    /// Whether a script runs in a transaction comes from its own directive, as when `migrate`
    /// runs it.
    pub fn of_scripts<'a>(
        lint: impl Fn(&LintInput<'_>) -> Vec<Finding>,
        scripts: impl IntoIterator<Item = (String, &'a Script)>,
        schema: Option<&Schema>,
    ) -> Report {
        let scripts = scripts
            .into_iter()
            .map(|(file, script)| {
                let findings = lint(&LintInput {
                    sql: &script.sql,
                    transactional: !script.directives.no_transaction,
                    origin: &file,
                    schema,
                });
                ScriptFindings { file, findings }
            })
            .collect();
        Report { scripts }
    }

    /// Every finding with the file of its script.
    pub fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.scripts.iter().flat_map(|script| {
            script
                .findings
                .iter()
                .map(|finding| (script.file.as_str(), finding))
        })
    }

    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings()
            .filter(|(_, finding)| finding.severity == severity)
            .count()
    }

    /// How many error-level findings there are: any stops a run.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Whether any script has a finding of any severity.
    pub fn has_findings(&self) -> bool {
        self.scripts
            .iter()
            .any(|script| !script.findings.is_empty())
    }

    /// For people, one finding per entry: `file:line:column: severity[rule]: message`, then the
    /// statement on a line of its own.
    pub fn text(&self) -> String {
        self.findings()
            .map(|(file, f)| {
                format!(
                    "{file}:{}:{}: {}[{}]: {}\n  | {}\n",
                    f.line, f.column, f.severity, f.rule, f.message, f.excerpt
                )
            })
            .collect()
    }
}
