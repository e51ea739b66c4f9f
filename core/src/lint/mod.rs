//! Static analysis of migration files: destructive statements, locks that block production
//! traffic, and statements the target engine cannot run as written.
//!
//! [`lint`] is pure: it takes one script's SQL with what godwit knows about it (whether it
//! runs in a transaction, optionally the live [`Schema`]) and the dialect's [`LintRules`], and
//! returns [`Finding`]s. Every rule works on a real parse of the SQL (sqlparser, with the
//! dialect's grammar), never on patterns over the raw text, so a keyword inside a string, a
//! comment or a dollar-quoted function body is never mistaken for a statement.
//!
//! Core holds the engine and the rules every dialect shares ([`shared_rules`]); each dialect
//! crate contributes its grammar, its own rules and the facts the shared rules need through
//! [`LintRules`], and offers the whole lint through [`crate::Dialect::lint`]. A dialect's
//! checks read the [`Walk`] (the statement's context in the file and the live schema) and
//! report [`Hit`]s.
//!
//! Each rule has a stable id, a severity, a one-line summary and an explanation with the safe
//! alternative; a [`Catalogue`] lists those of the dialects a program has. A statement is
//! exempt from a rule when a comment line directly above it (possibly among other comment
//! lines) reads `-- godwit:allow RULE_ID[, RULE_ID...]`; a rule is off for every file when its
//! id is in [`LintConfig::disabled`]. A `godwit:` comment that does nothing (an unknown rule id,
//! a misspelled or misplaced directive) is itself a finding.
//!
//! ```
//! use godwit_core::lint::{GenericLint, LintConfig, LintInput, lint};
//!
//! let input = LintInput {
//!     sql: "DELETE FROM orders;\n",
//!     transactional: true,
//!     origin: "migrations/2_purge.up.sql",
//!     schema: None,
//! };
//! let findings = lint(&GenericLint, &input, &LintConfig::default());
//! assert!(findings.iter().any(|f| f.rule == "delete-without-where"));
//! ```

mod api;
mod checks;
mod comments;
mod context;
mod facts;
mod gaps;
mod report;
mod rules;
mod source;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sqlparser::ast::Statement;
use sqlparser::tokenizer::TokenWithSpan;

use crate::schema::Schema;

pub use api::{GenericLint, Hit, LintRules};
pub use checks::{is_serial, plural, renamed, renamed_column, renamed_table};
pub use context::{NotValid, Walk, row_target};
pub use facts::LintFacts;
pub use report::{Report, ScriptFindings};
pub use rules::{
    Catalogue, ListedRule, PRAGMA_IN_TRANSACTION, RENAME, Rule, Severity, id, shared_rules,
};

use source::{Body, Known, Located};

/// Helpers for a dialect's [`LintRules::bridge`], which keep token positions as they are.
pub mod bridging {
    pub use super::gaps::{hide, keyword, parentheses_after, statement_tokens};
}

/// One script to lint and what godwit knows about it.
#[derive(Debug, Clone, Copy)]
pub struct LintInput<'a> {
    /// The script.
    pub sql: &'a str,
    /// Whether godwit runs the script in a transaction (no `-- godwit:no-transaction`).
    pub transactional: bool,
    /// Where the script comes from (its path), used when a message points at another line.
    pub origin: &'a str,
    /// The live schema, when known. It adds the indexes that already cover foreign key
    /// columns and the current types of columns. Whether a table is new is decided by the file
    /// alone (created earlier in it or not): a table missing from the live schema may be
    /// created by an earlier pending migration and already hold rows in production.
    pub schema: Option<&'a Schema>,
}

/// Which rules run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintConfig {
    /// Ids of rules that do not run.
    pub disabled: Vec<String>,
    /// Ids of the rules of the other dialects the program has (a [`Catalogue`]'s): an allow
    /// comment naming one is no typo, so it is not reported, though it exempts nothing on this
    /// dialect. One set of configuration and habits often serves several engines.
    pub other_rules: Vec<String>,
}

impl LintConfig {
    /// The ids in [`Self::disabled`] that name no rule of `catalogue`, so a typo in
    /// configuration can be reported instead of silently disabling nothing.
    pub fn unknown_rules<'c>(&'c self, catalogue: &Catalogue) -> impl Iterator<Item = &'c str> {
        let known: Vec<&'static str> = catalogue.ids().collect();
        self.disabled
            .iter()
            .map(String::as_str)
            .filter(move |id| !known.contains(id))
    }
}

/// One problem found in a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// 1-based line of the statement's first token.
    pub line: usize,
    /// 1-based column (in characters) of the statement's first token.
    pub column: usize,
    /// What is wrong with this statement and what to do instead.
    pub message: String,
    /// The offending statement, shortened to one line.
    pub excerpt: String,
}

/// Every rule `rules`' lint reports, in a stable order: the shared rules, then the dialect's.
pub fn rules_of(rules: &dyn LintRules) -> Vec<Rule> {
    shared_rules()
        .iter()
        .chain(rules.rules())
        .copied()
        .collect()
}

/// Lint one script with `rules`, a dialect's. Findings are ordered by position, errors before
/// warnings, then by rule.
pub fn lint(rules: &dyn LintRules, input: &LintInput<'_>, config: &LintConfig) -> Vec<Finding> {
    lint_in_windows(rules, input, config, source::WINDOW)
}

/// [`lint`], reading the script in windows of `window` bytes.
fn lint_in_windows(
    rules: &dyn LintRules,
    input: &LintInput<'_>,
    config: &LintConfig,
    window: usize,
) -> Vec<Finding> {
    let mut first = Linter::new(rules, input, config);
    source::read_in_windows(rules, input.sql, window, &mut first);
    let Linter {
        walk,
        mut findings,
        applied,
        comments,
        untokenizable,
        mut not_linted,
        catalogue,
        ..
    } = first;
    if walk.uncertain() {
        // A check asked what a statement further down could answer otherwise (an index
        // created after its foreign key): read the file again, knowing all of it.
        let mut second = Linter::again(rules, input, config, walk);
        source::read_in_windows(rules, input.sql, window, &mut second);
        findings = second.findings;
        not_linted = second.not_linted;
    }
    for (line, what) in not_linted {
        tracing::info!("{}:{line}: not linted: {what}", input.origin);
    }
    // A file the tokenizer cannot read is reported as a parse error already.
    let misused = if untokenizable {
        Vec::new()
    } else {
        let known: Vec<&str> = catalogue
            .iter()
            .map(|rule| rule.id)
            .chain(config.other_rules.iter().map(String::as_str))
            .collect();
        comments.misused(&applied, &known)
    };
    for misused in misused {
        let rule = known_rule(&catalogue, misused.hit.rule);
        if !config.disabled.iter().any(|id| id == rule.id) {
            findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                line: misused.line,
                column: misused.column,
                message: misused.hit.message,
                excerpt: misused.excerpt,
            });
        }
    }
    let order = |id: &str| catalogue.iter().position(|r| r.id == id);
    findings.sort_by_key(|f| (f.line, f.column, f.severity, order(f.rule)));
    findings
}

/// The rule a check reported, which must be one of the dialect's lint.
fn known_rule<'c>(catalogue: &'c [Rule], id: &str) -> &'c Rule {
    let Some(rule) = catalogue.iter().find(|rule| rule.id == id) else {
        unreachable!("check emitted `{id}`, which is no rule of this dialect's lint")
    };
    rule
}

/// One walk over a script's statements, as they are read.
struct Linter<'a, 'i> {
    rules: &'i dyn LintRules,
    /// Every rule the dialect's lint reports ([`rules_of`]).
    catalogue: Vec<Rule>,
    config: &'i LintConfig,
    walk: Walk<'a>,
    /// Position of the next statement in the file.
    position: usize,
    findings: Vec<Finding>,
    /// Where the allow comments that stand directly above a statement are.
    applied: HashSet<(usize, usize)>,
    comments: comments::Comments,
    /// The tokenizer gave up on the file.
    untokenizable: bool,
    /// The lines of the valid statements no rule examines that were not read, and what they
    /// are.
    not_linted: Vec<(usize, &'static str)>,
}

impl<'a, 'i: 'a> Linter<'a, 'i> {
    /// The first walk over a file.
    fn new(rules: &'i dyn LintRules, input: &LintInput<'a>, config: &'i LintConfig) -> Self {
        let walk = Walk::new(input, rules.grammar(), rules.facts());
        Linter::with_walk(rules, config, walk)
    }
}

impl<'a, 'i> Linter<'a, 'i> {
    /// A walk over the file again, knowing what `walk` learnt of all of it.
    fn again(
        rules: &'i dyn LintRules,
        input: &LintInput<'a>,
        config: &'i LintConfig,
        walk: Walk<'a>,
    ) -> Self {
        Linter::with_walk(rules, config, walk.again(input))
    }

    fn with_walk(rules: &'i dyn LintRules, config: &'i LintConfig, walk: Walk<'a>) -> Self {
        Linter {
            rules,
            catalogue: rules_of(rules),
            config,
            walk,
            position: 0,
            findings: Vec::new(),
            applied: HashSet::new(),
            comments: comments::Comments::default(),
            untokenizable: false,
            not_linted: Vec::new(),
        }
    }

    /// Check the parsed statement at `position` in the file (starting on `line`) against the
    /// shared rules and the dialect's, then record what it changes for the statements after
    /// it.
    fn check(
        &mut self,
        position: usize,
        line: usize,
        statement: &Statement,
        drop_concurrently: bool,
    ) -> Vec<Hit> {
        self.walk.reach(position);
        let mut hits = Vec::new();
        checks::check(&self.walk, statement, &mut hits);
        self.rules
            .check(&self.walk, statement, drop_concurrently, &mut hits);
        let concurrent = self.rules.is_concurrent(statement, drop_concurrently);
        let blocking = self
            .rules
            .takes_blocking_lock(&self.walk, statement, drop_concurrently)
            .is_some();
        self.walk.record(line, statement, concurrent, blocking);
        hits
    }

    /// Check what is known of a statement the parser could not read (starting on `line`), and
    /// record it: a table it creates is new for the statements after it.
    fn unparsed(&mut self, line: usize, known: &Known) -> Vec<Hit> {
        let mut hits = Vec::new();
        match known {
            Known::Nothing | Known::NotLinted(_) => {}
            Known::Creates(table) => self.walk.creates(table),
            Known::Concurrently => {
                self.rules
                    .check_unparsed_concurrently(&self.walk, &mut hits);
                self.walk.concurrently_at(line);
            }
            Known::Vacuum => checks::vacuum(&self.walk, &mut hits),
        }
        hits
    }
}

impl source::Visit for Linter<'_, '_> {
    fn statement(&mut self, statement: Located<'_>) {
        let position = self.position;
        self.position += 1;
        let hits = match &statement.body {
            Body::Parsed {
                statement: ast,
                drop_concurrently,
            } => {
                self.walk.learn(position, Some(ast));
                if self.rules.commits_implicitly(ast) {
                    self.walk.learn_implicit_commit(statement.line);
                }
                self.check(position, statement.line, ast, *drop_concurrently)
            }
            // A statement no rule examines loses nothing by not being parsed.
            Body::Unparsed {
                known: Known::NotLinted(what),
                ..
            } => {
                self.walk.learn(position, None);
                self.not_linted.push((statement.line, what));
                Vec::new()
            }
            Body::Unparsed { reason, known } => {
                self.walk.learn(position, None);
                let mut hits = vec![Hit::new(
                    rules::id::PARSE_ERROR,
                    format!(
                        "godwit could not parse this statement to lint it ({reason}); the \
                         database may still accept it: check it by hand or add \
                         `-- godwit:allow parse-error`"
                    ),
                )];
                hits.extend(self.unparsed(statement.line, known));
                hits
            }
            Body::Untokenizable(reason) => {
                self.untokenizable = true;
                vec![Hit::new(
                    rules::id::PARSE_ERROR,
                    format!(
                        "godwit could not read the file from here on ({reason}), so nothing \
                         after this point was linted; an unterminated string, quoted \
                         identifier or comment is the usual cause: check it by hand"
                    ),
                )]
            }
        };
        // One finding per rule and statement: a statement that breaks a rule twice (two
        // columns added NOT NULL) gets one finding that says both.
        let mut messages: Vec<(Rule, Vec<String>)> = Vec::new();
        for hit in hits {
            let rule = *known_rule(&self.catalogue, hit.rule);
            if statement.allows(rule.id) || self.config.disabled.iter().any(|id| id == rule.id) {
                continue;
            }
            match messages.iter_mut().find(|(seen, _)| seen.id == rule.id) {
                Some((_, said)) if said.contains(&hit.message) => {}
                Some((_, said)) => said.push(hit.message),
                None => messages.push((rule, vec![hit.message])),
            }
        }
        for (rule, said) in messages {
            self.findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                line: statement.line,
                column: statement.column,
                message: said.join("; also, "),
                excerpt: statement.excerpt(),
            });
        }
        self.applied
            .extend(statement.allow_comments.iter().copied());
    }

    fn tokens(&mut self, tokens: &[TokenWithSpan]) {
        self.comments.read(tokens);
    }
}

/// One statement of a script, located, as [`outline`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineStatement {
    /// 1-based line of its first token.
    pub line: usize,
    /// The statement on one line, shortened.
    pub excerpt: String,
    /// The index it creates, for a `CREATE INDEX` statement.
    pub creates_index: Option<CreatedIndex>,
}

/// An index named by a `CREATE INDEX` statement, with names folded as the dialect compares
/// them and without their schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedIndex {
    /// The index.
    pub name: String,
    /// Its table.
    pub table: String,
}

/// The statements of a script with their lines, on the same parse as [`lint`]. `godwit
/// recover` uses it to say which statements of a partly applied migration ran and which
/// indexes the migration builds; a statement the parser cannot read is still listed, without
/// an index.
pub fn outline(rules: &dyn LintRules, sql: &str) -> Vec<OutlineStatement> {
    /// The statements read so far.
    struct Outline {
        facts: LintFacts,
        statements: Vec<OutlineStatement>,
    }
    impl source::Visit for Outline {
        fn statement(&mut self, statement: Located<'_>) {
            let last = |name: &sqlparser::ast::ObjectName| {
                name.0
                    .last()
                    .and_then(|part| part.as_ident())
                    .map(|ident| self.facts.fold(ident))
            };
            let creates_index = match &statement.body {
                Body::Parsed { statement: ast, .. } => match ast.as_ref() {
                    sqlparser::ast::Statement::CreateIndex(create) => {
                        match (
                            create.name.as_ref().and_then(last),
                            last(&create.table_name),
                        ) {
                            (Some(name), Some(table)) => Some(CreatedIndex { name, table }),
                            _ => None,
                        }
                    }
                    _ => None,
                },
                _ => None,
            };
            self.statements.push(OutlineStatement {
                line: statement.line,
                excerpt: statement.excerpt(),
                creates_index,
            });
        }
    }
    let mut outline = Outline {
        facts: rules.facts(),
        statements: Vec::new(),
    };
    source::read(rules, sql, &mut outline);
    outline.statements
}

/// The lines of the statements of a script that end a transaction (`COMMIT`, `END`, `ABORT`,
/// `ROLLBACK` but not to a savepoint), on the same parse as [`lint`]: a migration holding one
/// may end the transaction godwit runs it in, and commit part of itself.
pub fn transaction_ends(rules: &dyn LintRules, sql: &str) -> Vec<usize> {
    /// The lines of the statements read so far that end a transaction.
    struct Ends(Vec<usize>);
    impl source::Visit for Ends {
        fn statement(&mut self, statement: Located<'_>) {
            let ends = match &statement.body {
                Body::Parsed { statement: ast, .. } => matches!(
                    ast.as_ref(),
                    sqlparser::ast::Statement::Commit { .. }
                        | sqlparser::ast::Statement::Rollback {
                            savepoint: None,
                            ..
                        }
                ),
                // By its words, so a spelling the parser does not know still counts.
                Body::Unparsed { .. } => {
                    let words: Vec<String> = statement
                        .excerpt()
                        .split_whitespace()
                        .take(3)
                        .map(str::to_ascii_uppercase)
                        .collect();
                    match words.first().map(String::as_str) {
                        Some("COMMIT" | "END" | "ABORT") => true,
                        Some("ROLLBACK") => !words.iter().any(|w| w == "TO"),
                        _ => false,
                    }
                }
                Body::Untokenizable(_) => false,
            };
            if ends {
                self.0.push(statement.line);
            }
        }
    }
    let mut ends = Ends(Vec::new());
    source::read(rules, sql, &mut ends);
    ends.0
}

/// What a statement of a script does to a table's name, as [`table_changes`] reads it. Names
/// are folded as the dialect compares them; `schema` is the one written, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TableChange {
    /// `CREATE [VIRTUAL] TABLE` without `IF NOT EXISTS`, which fails when the name is taken.
    Creates {
        /// The schema written before the name.
        schema: Option<String>,
        /// The table.
        name: String,
        /// 1-based line of the statement.
        line: usize,
    },
    /// `DROP TABLE`, or `ALTER TABLE ... RENAME TO` of the old name: the name is free after it.
    Frees {
        /// The schema written before the name.
        schema: Option<String>,
        /// The table.
        name: String,
    },
}

/// The tables a script creates (unless it says `IF NOT EXISTS`, or they are temporary) and
/// the names it frees, in order, on the same parse as [`lint`]. `migrate` uses it to find the
/// tables pending migrations would fail to create because a database without history
/// already holds them. A statement the parser cannot read is left out.
pub fn table_changes(rules: &dyn LintRules, sql: &str) -> Vec<TableChange> {
    use sqlparser::ast::{
        AlterTableOperation, ObjectName, ObjectType, RenameTableNameKind, Statement,
    };

    /// The changes read so far.
    struct Changes {
        facts: LintFacts,
        changes: Vec<TableChange>,
    }
    impl Changes {
        /// The schema and name of `name`, folded; `None` for a name that is not identifiers.
        fn split(&self, name: &ObjectName) -> Option<(Option<String>, String)> {
            let parts = name
                .0
                .iter()
                .map(|part| part.as_ident().map(|ident| self.facts.fold(ident)))
                .collect::<Option<Vec<String>>>()?;
            match parts.as_slice() {
                [.., schema, name] => Some((Some(schema.clone()), name.clone())),
                [name] => Some((None, name.clone())),
                [] => None,
            }
        }

        fn creates(&mut self, name: &ObjectName, line: usize) {
            if let Some((schema, name)) = self.split(name) {
                self.changes
                    .push(TableChange::Creates { schema, name, line });
            }
        }

        fn frees(&mut self, name: &ObjectName) {
            if let Some((schema, name)) = self.split(name) {
                self.changes.push(TableChange::Frees { schema, name });
            }
        }
    }
    impl source::Visit for Changes {
        fn statement(&mut self, statement: Located<'_>) {
            let Body::Parsed { statement: ast, .. } = &statement.body else {
                return;
            };
            match ast.as_ref() {
                Statement::CreateTable(create) if !create.if_not_exists && !create.temporary => {
                    self.creates(&create.name, statement.line);
                }
                Statement::CreateVirtualTable {
                    name,
                    if_not_exists: false,
                    ..
                } => self.creates(name, statement.line),
                Statement::Drop {
                    object_type: ObjectType::Table,
                    names,
                    ..
                } => names.iter().for_each(|name| self.frees(name)),
                Statement::AlterTable(alter) => {
                    let renamed = alter.operations.iter().any(|operation| {
                        matches!(
                            operation,
                            AlterTableOperation::RenameTable {
                                table_name: RenameTableNameKind::To(_) | RenameTableNameKind::As(_)
                            }
                        )
                    });
                    if renamed {
                        self.frees(&alter.name);
                    }
                }
                _ => {}
            }
        }
    }
    let mut changes = Changes {
        facts: rules.facts(),
        changes: Vec::new(),
    };
    source::read(rules, sql, &mut changes);
    changes.changes
}

#[cfg(test)]
mod tests {
    use super::source::tests::{SMALL_WINDOWS, TORTURE, fixtures, grammar};
    use super::*;

    // The dialects' own rules run on their fixtures in the workspace's `tests` crate; here the
    // engine reads them with each dialect's grammar and the shared rules.

    /// Each fixture (and a file of hard cases) as `godwit lint` reads it.
    fn cases() -> Vec<(&'static str, String, String)> {
        let mut cases: Vec<(&'static str, String, String)> = fixtures()
            .into_iter()
            .map(|(dialect, path)| {
                let sql = std::fs::read_to_string(&path).unwrap();
                let script = crate::Script::new(sql, Some(path.clone())).unwrap();
                (dialect, path.display().to_string(), script.sql)
            })
            .collect();
        for dialect in ["postgres", "sqlite"] {
            cases.push((
                dialect,
                format!("hard cases, {dialect}"),
                TORTURE.to_string(),
            ));
        }
        cases
    }

    fn input(sql: &str) -> LintInput<'_> {
        LintInput {
            sql,
            transactional: !crate::Directives::parse(sql)
                .unwrap_or_default()
                .no_transaction,
            origin: "test.sql",
            schema: None,
        }
    }

    #[test]
    fn findings_do_not_depend_on_the_window() {
        let config = LintConfig::default();
        for (dialect, name, sql) in cases() {
            let input = input(&sql);
            let rules = grammar(dialect);
            let whole = lint_in_windows(rules.as_ref(), &input, &config, usize::MAX);
            for &window in SMALL_WINDOWS {
                assert_eq!(
                    lint_in_windows(rules.as_ref(), &input, &config, window),
                    whole,
                    "{name} in windows of {window} bytes"
                );
            }
        }
    }

    /// A file read once, whose checks asked nothing a later statement could change, gets the
    /// findings that a walk knowing the whole file gets; the second walk is needed and taken
    /// where one did ask.
    #[test]
    fn one_walk_finds_what_a_walk_knowing_the_whole_file_finds() {
        let config = LintConfig::default();
        let (mut once, mut twice) = (0, 0);
        for (dialect, name, sql) in cases() {
            let input = input(&sql);
            let rules = grammar(dialect);
            let rules = rules.as_ref();
            let mut first = Linter::new(rules, &input, &config);
            source::read(rules, &sql, &mut first);
            let uncertain = first.walk.uncertain();
            let mut second = Linter::again(rules, &input, &config, first.walk);
            source::read(rules, &sql, &mut second);
            if uncertain {
                twice += 1;
            } else {
                once += 1;
                assert_eq!(first.findings, second.findings, "{name}");
            }
        }
        assert!(once > 50 && twice > 3, "read once {once}, twice {twice}");
    }
}
