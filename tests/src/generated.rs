//! Plans written as `godwit generate` writes them, linted as `godwit migrate` lints them.

use godwit_core::Dialect;
use godwit_core::declarative::{migration_script, migration_steps};
use godwit_core::dialect::Statement;
use godwit_core::lint::{LintConfig, LintInput, Severity};
use godwit_core::migration::Directives;
use godwit_core::schema::Schema;

/// The error-level findings of the lint on the migrations that `godwit generate` writes for
/// `statements` (cut into steps, each up script made by `migration_script`), linted with the
/// default rules, each script's own transaction mode and `schema` as the live schema, as
/// `godwit migrate` lints them: each finding's rule and the statement it is about. Panics on a
/// `godwit:` comment that does nothing (`invalid-directive`), since a generated file must hold
/// none.
pub fn lint_errors<'s>(
    dialect: &dyn Dialect,
    statements: &'s [Statement],
    schema: &Schema,
) -> Vec<(&'static str, &'s str)> {
    let mut errors = Vec::new();
    for step in migration_steps(statements, &[]) {
        let script = migration_script(dialect, step.up);
        let directives = Directives::parse(&script).expect("a generated script's directives");
        let findings = dialect.lint(
            &LintInput {
                sql: &script,
                transactional: !directives.no_transaction,
                origin: "generated.up.sql",
                schema: Some(schema),
            },
            &LintConfig::default(),
        );
        for finding in findings {
            assert_ne!(finding.rule, "invalid-directive", "{finding:?}\n{script}");
            if finding.severity == Severity::Error {
                errors.push((finding.rule, statement_of(statements, &finding.excerpt)));
            }
        }
    }
    errors
}

/// The statement a lint finding's excerpt (the statement on one line, cut with `…` when long)
/// stands for.
fn statement_of<'s>(statements: &'s [Statement], excerpt: &str) -> &'s str {
    statements
        .iter()
        .map(|s| s.sql.as_str())
        .find(|sql| {
            let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            match excerpt.strip_suffix('…') {
                Some(start) => one_line.starts_with(start),
                None => one_line == excerpt,
            }
        })
        .unwrap_or_else(|| panic!("no statement reads {excerpt}"))
}
