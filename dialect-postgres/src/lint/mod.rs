//! PostgreSQL's part of the lint: its grammar, the rules about locks that block traffic, table
//! rewrites and statements that cannot run (or do not work) inside a transaction, and the facts
//! core's shared rules need. Core runs them through [`LintRules`].

mod checks;
mod gaps;
mod rules;

use godwit_core::lint::{Hit, LintFacts, LintRules, Rule, Walk};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect as Grammar, PostgreSqlDialect};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::TokenWithSpan;

/// PostgreSQL's [`LintRules`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PgLint;

impl LintRules for PgLint {
    fn grammar(&self) -> &dyn Grammar {
        &PostgreSqlDialect {}
    }

    fn facts(&self) -> LintFacts {
        // Unqualified names resolve to `public`, the default `search_path`; DDL, `BEGIN` in a
        // transaction (a warning only) and `VACUUM` (refused there) as PostgreSQL has them.
        LintFacts::new("PostgreSQL")
            .with_default_schema("public")
            .with_transactional_ddl(true)
            .with_vacuum_inside_transaction_fails(true)
    }

    fn rules(&self) -> &'static [Rule] {
        rules::RULES
    }

    fn check(
        &self,
        walk: &Walk<'_>,
        statement: &Statement,
        drop_concurrently: bool,
        hits: &mut Vec<Hit>,
    ) {
        checks::check(walk, statement, drop_concurrently, hits);
    }

    fn check_unparsed_concurrently(&self, walk: &Walk<'_>, hits: &mut Vec<Hit>) {
        checks::concurrently(walk, hits);
    }

    fn is_concurrent(&self, statement: &Statement, drop_concurrently: bool) -> bool {
        checks::is_concurrent(statement, drop_concurrently)
    }

    fn takes_blocking_lock(
        &self,
        walk: &Walk<'_>,
        statement: &Statement,
        drop_concurrently: bool,
    ) -> Option<String> {
        checks::takes_blocking_lock(walk, statement, drop_concurrently)
    }

    fn bridge(&self, tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
        gaps::bridge(tokens, start, words);
    }

    fn not_linted(&self, tokens: &[TokenWithSpan]) -> Option<&'static str> {
        gaps::not_linted(tokens)
    }
}
