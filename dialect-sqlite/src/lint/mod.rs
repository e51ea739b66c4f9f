//! SQLite's part of the lint: its grammar, the rules about `ALTER TABLE` forms SQLite cannot
//! run and settings that do nothing or fail inside the transaction godwit wraps a migration
//! in, and the facts core's shared rules need. Core runs them through [`LintRules`].

mod checks;
mod gaps;

use godwit_core::lint::{Hit, LintFacts, LintRules, PRAGMA_IN_TRANSACTION, Rule, Severity, Walk};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect as Grammar, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::TokenWithSpan;

/// Rule ids, so the checks and the catalogue cannot disagree on a spelling.
mod id {
    pub(super) const UNSUPPORTED_ALTER: &str = "unsupported-alter";
}

/// SQLite's own rules, then the shared rule it turns on (`PRAGMA` and `VACUUM` in a
/// transaction).
static RULES: &[Rule] = &[
    Rule::new(
        id::UNSUPPORTED_ALTER,
        Severity::Error,
        "an `ALTER TABLE` form SQLite cannot execute",
        "\
SQLite's `ALTER TABLE` supports only `RENAME TO`, `RENAME COLUMN`, `ADD COLUMN` and
`DROP COLUMN`, one per statement. It cannot change a column's type, nullability or default,
add or drop a constraint, or add a `PRIMARY KEY`/`UNIQUE` column or a stored generated
column; it cannot add a column with a non-constant default (`CURRENT_TIMESTAMP`, `(1 + 1)`),
or a `REFERENCES` column with a default other than `NULL` (foreign keys on), to a table that
has rows; it cannot drop a column that is indexed (unless the index is dropped first), part of
the primary key or unique; and it has no `DROP COLUMN IF EXISTS`.

Safe alternative: rebuild the table (https://www.sqlite.org/lang_altertable.html#otheralter):
with foreign keys off outside the transaction, create the new table, copy the rows, drop the
old table, rename the new one, recreate indexes, triggers and views, and run
`PRAGMA foreign_key_check`. `godwit generate` and `godwit push` write and run exactly that
for you from the desired schema.",
    ),
    PRAGMA_IN_TRANSACTION,
];

/// SQLite's [`LintRules`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SqliteLint;

impl LintRules for SqliteLint {
    fn grammar(&self) -> &dyn Grammar {
        &SQLiteDialect {}
    }

    fn facts(&self) -> LintFacts {
        // Unqualified names live in `main`; every name compares without regard to case,
        // quoted or not. SQLite has no TRUNCATE and no ALTER COLUMN, and refuses a nested
        // BEGIN and VACUUM inside a transaction.
        LintFacts::new("SQLite")
            .with_default_schema("main")
            .with_transactional_ddl(true)
            .with_case_insensitive_identifiers(true)
            .with_truncate(false)
            .with_begin_inside_transaction_fails(true)
            .with_vacuum_inside_transaction_fails(true)
            .with_sets_not_null_in_place(false)
    }

    fn rules(&self) -> &'static [Rule] {
        RULES
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

    fn bridge(&self, tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
        gaps::bridge(tokens, start, words);
    }
}
