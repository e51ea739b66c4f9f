//! What a dialect crate builds its lint on: the [`LintRules`] it implements, the [`Walk`] its
//! checks read, and the [`Hit`]s they report.

use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::TokenWithSpan;

use super::context::Walk;
use super::facts::LintFacts;
use super::rules::Rule;

/// A rule that fired on the statement being checked: its id and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hit {
    /// The rule's id: one of the dialect's rules or a shared one.
    pub rule: &'static str,
    /// What is wrong with this statement and what to do instead.
    pub message: String,
}

impl Hit {
    /// `rule` fired, saying `message`.
    pub fn new(rule: &'static str, message: String) -> Self {
        Hit { rule, message }
    }
}

/// What a dialect contributes to the lint: its grammar, its rules and their checks, and the
/// facts the shared rules need. Core runs the shared rules on every statement, then the
/// dialect's [`LintRules::check`]; a finding's rule must be a shared one
/// ([`super::shared_rules`]) or one of [`LintRules::rules`].
///
/// Everything here works on sqlparser's syntax trees and tokens, so it runs in the process
/// that parses; a dialect behind a process or library boundary offers
/// [`crate::Dialect::lint`] instead.
pub trait LintRules: Send + Sync {
    /// The sqlparser grammar of the engine's SQL.
    fn grammar(&self) -> &dyn sqlparser::dialect::Dialect;

    /// What the shared rules need to know of the engine.
    fn facts(&self) -> LintFacts;

    /// The dialect's own rules, and the optional shared ones it turns on
    /// ([`super::PRAGMA_IN_TRANSACTION`]), in a stable order.
    fn rules(&self) -> &'static [Rule] {
        &[]
    }

    /// Check one parsed statement against the dialect's own rules. `drop_concurrently` says
    /// that a `DROP INDEX` was written `DROP INDEX CONCURRENTLY` (the parser does not know that
    /// form, so the keyword was hidden from it).
    fn check(
        &self,
        walk: &Walk<'_>,
        statement: &Statement,
        drop_concurrently: bool,
        hits: &mut Vec<Hit>,
    ) {
        let _ = (walk, statement, drop_concurrently, hits);
    }

    /// Check a statement the parser could not read whose words say it runs concurrently with
    /// other sessions' writes (`REINDEX ... CONCURRENTLY`).
    fn check_unparsed_concurrently(&self, walk: &Walk<'_>, hits: &mut Vec<Hit>) {
        let _ = (walk, hits);
    }

    /// Whether the statement runs concurrently with other sessions' writes (`CREATE INDEX
    /// CONCURRENTLY`): the walk remembers the first such statement
    /// ([`Walk::first_concurrently`]).
    fn is_concurrent(&self, statement: &Statement, drop_concurrently: bool) -> bool {
        let _ = (statement, drop_concurrently);
        false
    }

    /// What the statement locks, when it takes a lock that blocks reads or writes of a table
    /// that existed before the file. Once one such statement ran without a lock timeout, the
    /// walk says so ([`Walk::lock_timeout_reported`]).
    fn takes_blocking_lock(
        &self,
        walk: &Walk<'_>,
        statement: &Statement,
        drop_concurrently: bool,
    ) -> Option<String> {
        let _ = (walk, statement, drop_concurrently);
        None
    }

    /// Whether the engine commits the open transaction before or after the statement
    /// (MySQL's DDL): the walk remembers the first such statement of the whole file
    /// ([`Walk::implicit_commit`]).
    fn commits_implicitly(&self, statement: &Statement) -> bool {
        let _ = statement;
        false
    }

    /// Rewrite the tokens of the statement starting at `start`, whose opening words are
    /// `words` (up to six, with their indexes), when the grammar cannot parse a form the
    /// engine accepts but the rules read the same once rewritten. Token positions must stay as
    /// they are: hide a token with [`super::bridging::hide`] rather than remove it.
    fn bridge(&self, tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
        let _ = (tokens, start, words);
    }

    /// What a statement the grammar cannot read is, when it is valid SQL that no rule examines
    /// (a PL/pgSQL block): it is then not linted rather than a `parse-error`.
    fn not_linted(&self, tokens: &[TokenWithSpan]) -> Option<&'static str> {
        let _ = tokens;
        None
    }
}

/// The lint of an engine godwit knows nothing of: sqlparser's generic grammar and the shared
/// rules, with [`LintFacts::new`]'s defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenericLint;

impl LintRules for GenericLint {
    fn grammar(&self) -> &dyn sqlparser::dialect::Dialect {
        &sqlparser::dialect::GenericDialect {}
    }

    fn facts(&self) -> LintFacts {
        LintFacts::new("the database")
    }
}
