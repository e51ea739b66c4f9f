//! MySQL's and MariaDB's part of the lint: their grammar, the rules about what their DDL does
//! that the other engines' does not (it commits implicitly, it may copy the table, it
//! renumbers `ENUM` values), and the facts core's shared rules need. Core runs them through
//! [`LintRules`].

mod checks;
mod gaps;
mod rules;

use godwit_core::lint::{Hit, LintFacts, LintRules, Rule, Walk};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect as Grammar, MySqlDialect as MySqlGrammar};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::TokenWithSpan;

/// MySQL's and MariaDB's [`LintRules`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MySqlLint;

impl LintRules for MySqlLint {
    fn grammar(&self) -> &dyn Grammar {
        &MySqlGrammar {}
    }

    fn facts(&self) -> LintFacts {
        // A database is what other engines call a schema, and an unqualified name lives in
        // the connection's, whose name the file does not hold. Column names compare without
        // regard to case on every server, table names on Windows and macOS
        // (`lower_case_table_names`); backticks do not change that. DDL commits implicitly;
        // `BEGIN` inside a transaction commits it and starts another, without an error. A
        // NOT NULL column added without a default gets the type's implicit default, and
        // InnoDB indexes a foreign key that no index leads with.
        LintFacts::new("MySQL")
            .with_transactional_ddl(false)
            .with_case_insensitive_identifiers(true)
            .with_fills_new_not_null_columns(true)
            .with_indexes_foreign_keys(true)
    }

    fn rules(&self) -> &'static [Rule] {
        rules::RULES
    }

    fn check(
        &self,
        walk: &Walk<'_>,
        statement: &Statement,
        _drop_concurrently: bool,
        hits: &mut Vec<Hit>,
    ) {
        checks::check(walk, statement, hits);
    }

    fn commits_implicitly(&self, statement: &Statement) -> bool {
        checks::commits_implicitly(statement)
    }

    fn bridge(&self, tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
        gaps::bridge(tokens, start, words);
    }

    fn not_linted(&self, tokens: &[TokenWithSpan]) -> Option<&'static str> {
        gaps::not_linted(tokens)
    }
}
