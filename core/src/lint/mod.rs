//! Static analysis of migration files: destructive statements, locks that block production
//! traffic, and statements the target engine cannot run as written.
//!
//! [`lint`] is pure: it takes one script's SQL with what godwit knows about it (the dialect,
//! whether it runs in a transaction, optionally the live [`Schema`]) and returns
//! [`Finding`]s. Every rule works on a real parse of the SQL (sqlparser, with the dialect
//! matching the target engine), never on patterns over the raw text, so a keyword inside a
//! string, a comment or a dollar-quoted function body is never mistaken for a statement.
//!
//! The rules are listed by [`rules`]; each has a stable id, a severity, a one-line summary and
//! an explanation with the safe alternative. A statement is exempt from a rule when a comment
//! line directly above it (possibly among other comment lines) reads
//! `-- godwit:allow RULE_ID[, RULE_ID...]`; a rule is off for every file when its id is in
//! [`LintConfig::disabled`]. A `godwit:` comment that does nothing (an unknown rule id, a
//! misspelled or misplaced directive) is itself a finding.
//!
//! ```
//! use godwit_core::lint::{LintConfig, LintInput, lint};
//!
//! let sql = "ALTER TABLE orders ADD COLUMN status text NOT NULL;\n";
//! let findings = lint(
//!     &LintInput {
//!         dialect: "postgres",
//!         sql,
//!         transactional: true,
//!         origin: "migrations/2_status.up.sql",
//!         schema: None,
//!     },
//!     &LintConfig::default(),
//! );
//! assert!(findings.iter().any(|f| f.rule == "add-column-not-null-without-default"));
//! ```

mod checks;
mod comments;
mod context;
mod gaps;
mod postgres;
mod report;
mod rules;
mod source;
mod sqlite;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sqlparser::dialect::{Dialect, GenericDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::TokenWithSpan;

use crate::schema::Schema;

pub use report::{Report, ScriptFindings};
pub use rules::{Rule, Severity, rule, rules, rules_markdown_table, similar_rules};

use context::Walk;
use source::{Body, Known, Located};

/// One script to lint and what godwit knows about it.
#[derive(Debug, Clone, Copy)]
pub struct LintInput<'a> {
    /// The godwit dialect name (`postgres`, `sqlite`, or a plugin's). It picks the SQL grammar
    /// and the dialect-specific rules; an unknown name gets a generic grammar and the rules
    /// that apply to every dialect.
    pub dialect: &'a str,
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    /// Ids of rules that do not run.
    pub disabled: Vec<String>,
}

impl LintConfig {
    /// The ids in [`Self::disabled`] that name no rule, so a typo in configuration can be
    /// reported instead of silently disabling nothing.
    pub fn unknown_rules(&self) -> impl Iterator<Item = &str> {
        self.disabled
            .iter()
            .map(String::as_str)
            .filter(|id| rule(id).is_none())
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

/// Lint one script. Findings are ordered by position, errors before warnings, then by rule.
pub fn lint(input: &LintInput<'_>, config: &LintConfig) -> Vec<Finding> {
    lint_in_windows(input, config, source::WINDOW)
}

/// [`lint`], reading the script in windows of `window` bytes.
fn lint_in_windows(input: &LintInput<'_>, config: &LintConfig, window: usize) -> Vec<Finding> {
    let dialect = parser_dialect(input.dialect);
    let mut first = Linter::new(input, config, Walk::new(input, dialect.as_ref()));
    source::read_in_windows(dialect.as_ref(), input.sql, window, &mut first);
    let Linter {
        walk,
        mut findings,
        applied,
        comments,
        untokenizable,
        mut not_linted,
        ..
    } = first;
    if walk.uncertain() {
        // A check asked what a statement further down could answer otherwise (an index
        // created after its foreign key): read the file again, knowing all of it.
        let mut second = Linter::new(input, config, walk.again(input));
        source::read_in_windows(dialect.as_ref(), input.sql, window, &mut second);
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
        comments.misused(&applied)
    };
    for misused in misused {
        let Some(rule) = rule(misused.hit.rule) else {
            unreachable!("check emitted unknown rule id `{}`", misused.hit.rule)
        };
        if rule.applies_to(input.dialect) && !config.disabled.iter().any(|id| id == rule.id) {
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
    let order = |id: &str| rules().iter().position(|r| r.id == id);
    findings.sort_by_key(|f| (f.line, f.column, f.severity, order(f.rule)));
    findings
}

/// One walk over a script's statements, as they are read.
struct Linter<'a, 'i> {
    input: &'i LintInput<'a>,
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

impl<'a, 'i> Linter<'a, 'i> {
    fn new(input: &'i LintInput<'a>, config: &'i LintConfig, walk: Walk<'a>) -> Self {
        Linter {
            input,
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
                self.walk
                    .statement(position, statement.line, ast, *drop_concurrently)
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
                let mut hits = vec![checks::Hit::new(
                    rules::id::PARSE_ERROR,
                    format!(
                        "godwit could not parse this statement to lint it ({reason}); the \
                         database may still accept it: check it by hand or add \
                         `-- godwit:allow parse-error`"
                    ),
                )];
                hits.extend(self.walk.unparsed(statement.line, known));
                hits
            }
            Body::Untokenizable(reason) => {
                self.untokenizable = true;
                vec![checks::Hit::new(
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
        let mut messages: Vec<(&'static Rule, Vec<String>)> = Vec::new();
        for hit in hits {
            let Some(rule) = rule(hit.rule) else {
                unreachable!("check emitted unknown rule id `{}`", hit.rule)
            };
            if !rule.applies_to(self.input.dialect)
                || statement.allows(rule.id)
                || self.config.disabled.iter().any(|id| id == rule.id)
            {
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
pub fn outline(dialect_name: &str, sql: &str) -> Vec<OutlineStatement> {
    /// The statements read so far.
    struct Outline<'d> {
        dialect_name: &'d str,
        statements: Vec<OutlineStatement>,
    }
    impl source::Visit for Outline<'_> {
        fn statement(&mut self, statement: Located<'_>) {
            let last = |name: &sqlparser::ast::ObjectName| {
                name.0
                    .last()
                    .and_then(|part| part.as_ident())
                    .map(|ident| context::fold(self.dialect_name, ident))
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
    let dialect = parser_dialect(dialect_name);
    let mut outline = Outline {
        dialect_name,
        statements: Vec::new(),
    };
    source::read(dialect.as_ref(), sql, &mut outline);
    outline.statements
}

/// The lines of the statements of a script that end a transaction (`COMMIT`, `END`, `ABORT`,
/// `ROLLBACK` but not to a savepoint), on the same parse as [`lint`]: a migration holding one
/// may end the transaction godwit runs it in, and commit part of itself.
pub fn transaction_ends(dialect_name: &str, sql: &str) -> Vec<usize> {
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
    let dialect = parser_dialect(dialect_name);
    let mut ends = Ends(Vec::new());
    source::read(dialect.as_ref(), sql, &mut ends);
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
pub fn table_changes(dialect_name: &str, sql: &str) -> Vec<TableChange> {
    use sqlparser::ast::{
        AlterTableOperation, ObjectName, ObjectType, RenameTableNameKind, Statement,
    };

    /// The changes read so far.
    struct Changes<'d> {
        dialect_name: &'d str,
        changes: Vec<TableChange>,
    }
    impl Changes<'_> {
        /// The schema and name of `name`, folded; `None` for a name that is not identifiers.
        fn split(&self, name: &ObjectName) -> Option<(Option<String>, String)> {
            let parts = name
                .0
                .iter()
                .map(|part| {
                    part.as_ident()
                        .map(|ident| context::fold(self.dialect_name, ident))
                })
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
    impl source::Visit for Changes<'_> {
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
    let dialect = parser_dialect(dialect_name);
    let mut changes = Changes {
        dialect_name,
        changes: Vec::new(),
    };
    source::read(dialect.as_ref(), sql, &mut changes);
    changes.changes
}

/// The sqlparser grammar for a godwit dialect name.
fn parser_dialect(name: &str) -> Box<dyn Dialect> {
    match name {
        "postgres" => Box::new(PostgreSqlDialect {}),
        "sqlite" => Box::new(SQLiteDialect {}),
        _ => Box::new(GenericDialect {}),
    }
}

#[cfg(test)]
mod table_change_tests {
    use super::{TableChange, table_changes};

    fn creates(schema: Option<&str>, name: &str, line: usize) -> TableChange {
        TableChange::Creates {
            schema: schema.map(str::to_string),
            name: name.into(),
            line,
        }
    }

    #[test]
    fn creations_that_can_fail_and_names_set_free_are_read_in_order() {
        let sql = "CREATE TABLE Users (id int);\n\
                   CREATE TABLE IF NOT EXISTS posts (id int);\n\
                   CREATE TEMPORARY TABLE scratch (id int);\n\
                   DROP TABLE IF EXISTS app.\"Old\", legacy;\n\
                   ALTER TABLE things RENAME TO stuff;\n\
                   CREATE TABLE app.\"Tags\" (id int);\n";
        assert_eq!(
            table_changes("postgres", sql),
            [
                creates(None, "users", 1),
                TableChange::Frees {
                    schema: Some("app".into()),
                    name: "Old".into()
                },
                TableChange::Frees {
                    schema: None,
                    name: "legacy".into()
                },
                TableChange::Frees {
                    schema: None,
                    name: "things".into()
                },
                creates(Some("app"), "Tags", 6),
            ]
        );
        // SQLite compares names without case, quoted or not.
        assert_eq!(
            table_changes(
                "sqlite",
                "CREATE TABLE \"Users\" (id);\nCREATE VIRTUAL TABLE docs USING fts5(body);"
            ),
            [creates(None, "users", 1), creates(None, "docs", 2)]
        );
    }
}

#[cfg(test)]
mod transaction_end_tests {
    use super::transaction_ends;

    #[test]
    fn statements_that_end_a_transaction_are_found_with_their_lines() {
        let script = "CREATE TABLE a (x int);\nCOMMIT;\nBEGIN;\nSAVEPOINT s;\n\
                      ROLLBACK TO SAVEPOINT s;\nEND;\nROLLBACK;\n\
                      CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ COMMIT $$;\n";
        assert_eq!(transaction_ends("postgres", script), [2, 6, 7]);
        assert_eq!(
            transaction_ends("sqlite", "CREATE TABLE a (x);\nEND TRANSACTION;\n"),
            [2]
        );
        assert!(transaction_ends("sqlite", "CREATE TABLE a (x);\n").is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::source::tests::{SMALL_WINDOWS, TORTURE, fixtures};
    use super::*;

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

    fn input<'a>(dialect: &'a str, sql: &'a str) -> LintInput<'a> {
        LintInput {
            dialect,
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
            let input = input(dialect, &sql);
            let whole = lint_in_windows(&input, &config, usize::MAX);
            for &window in SMALL_WINDOWS {
                assert_eq!(
                    lint_in_windows(&input, &config, window),
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
            let input = input(dialect, &sql);
            let grammar = parser_dialect(dialect);
            let mut first = Linter::new(&input, &config, Walk::new(&input, grammar.as_ref()));
            source::read(grammar.as_ref(), &sql, &mut first);
            let uncertain = first.walk.uncertain();
            let mut second = Linter::new(&input, &config, first.walk.again(&input));
            source::read(grammar.as_ref(), &sql, &mut second);
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
