//! The rule catalogue: stable ids, severities, and the text `godwit lint --explain` shows.
//!
//! Ids are part of godwit's interface (configuration, `-- godwit:allow` comments, JSON
//! output): a rule may be added, never renamed. Core holds the rules every dialect runs
//! ([`shared_rules`]) and those a dialect turns on by listing them ([`PRAGMA_IN_TRANSACTION`]);
//! each dialect crate holds its own. A [`Catalogue`] lists the rules of the dialects a program
//! has, for `godwit lint --list`, `--explain` and the README.

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The migration loses data, fails, or blocks production traffic as written.
    Error,
    /// The migration is risky or costly in ways that depend on the data or the server.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rule {
    /// Stable kebab-case id, used in configuration and `-- godwit:allow` comments.
    pub id: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// One line: what it catches.
    pub summary: &'static str,
    /// Why it matters and the safe alternative; several lines.
    pub explanation: &'static str,
}

impl Rule {
    /// A rule, for a dialect crate's own list ([`super::LintRules::rules`]).
    pub const fn new(
        id: &'static str,
        severity: Severity,
        summary: &'static str,
        explanation: &'static str,
    ) -> Self {
        Rule {
            id,
            severity,
            summary,
            explanation,
        }
    }
}

/// The ids of the rules core defines, so the checks and the catalogue cannot disagree on a
/// spelling. A dialect crate names its own rules' ids the same way.
pub mod id {
    /// A statement the parser cannot read.
    pub const PARSE_ERROR: &str = "parse-error";
    /// A `godwit:` comment that does nothing.
    pub const INVALID_DIRECTIVE: &str = "invalid-directive";
    /// `DROP TABLE` of a table that holds rows.
    pub const DROP_TABLE: &str = "drop-table";
    /// `ALTER TABLE ... DROP COLUMN`.
    pub const DROP_COLUMN: &str = "drop-column";
    /// `TRUNCATE`.
    pub const TRUNCATE: &str = "truncate";
    /// `DELETE` without `WHERE`.
    pub const DELETE_WITHOUT_WHERE: &str = "delete-without-where";
    /// `UPDATE` without `WHERE`.
    pub const UPDATE_WITHOUT_WHERE: &str = "update-without-where";
    /// A foreign key no index leads with.
    pub const FOREIGN_KEY_WITHOUT_INDEX: &str = "foreign-key-without-index";
    /// A `NOT NULL` column added without a default.
    pub const ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT: &str = "add-column-not-null-without-default";
    /// A `CREATE` that a run again after a failure meets.
    pub const NON_IDEMPOTENT_CREATE: &str = "non-idempotent-create";
    /// Transaction control in a file godwit runs in a transaction.
    pub const EXPLICIT_TRANSACTION: &str = "explicit-transaction";
    /// A setting or `VACUUM` that the engine ignores or refuses in a transaction
    /// ([`super::PRAGMA_IN_TRANSACTION`]).
    pub const PRAGMA_IN_TRANSACTION: &str = "pragma-in-transaction";
    /// Renaming a table or column ([`super::RENAME`]).
    pub const RENAME: &str = "rename";
}

/// The rules every dialect runs, in a stable order.
static SHARED: &[Rule] = &[
    Rule {
        id: id::PARSE_ERROR,
        // A warning: the database, not sqlparser, is the judge of what is valid SQL, and
        // refusing `migrate` over a statement the server runs fine would train users to pass
        // `--no-lint`. A real typo still fails in the database, inside the migration's
        // transaction.
        severity: Severity::Warning,
        summary: "a statement godwit's SQL parser cannot read, so no other rule checked it",
        explanation: "\
godwit lints a real parse of each statement. When its parser (sqlparser) cannot read one, that
statement is not checked at all; the statements around it still are. The database may well
accept it: sqlparser does not know every engine's full grammar (for example `REINDEX`), so
this is a warning and `migrate` goes on; a statement the database rejects fails there, inside
the migration's transaction. What the statement's opening words tell is still used: the table
a `CREATE TABLE` creates, a `REINDEX ... CONCURRENTLY` or a `VACUUM` in a transaction.

Not reported: valid statements that no rule examines, in the forms sqlparser does not read
(`godwit -v` names each one as not linted): PostgreSQL `DO` blocks (their body is PL/pgSQL),
functions, procedures, domains, sequences, comments and `SET CONSTRAINTS`; unless a line inside
one starts a statement that parses on its own, which means the `;` above that line was
forgotten. The forms godwit writes itself and others common in migrations are read: FTS5
options (`content=posts`), SQLite conflict clauses on table constraints and
`CREATE TRIGGER IF NOT EXISTS`, PostgreSQL identity changes (`DROP IDENTITY`,
`SET GENERATED`), `DROP EXPRESSION`, `TYPE ... COLLATE` and trigger arguments.

Safe alternative: read the statement by hand for the hazards the other rules look for, then
put `-- godwit:allow parse-error` on the line above it. If the statement is a typo, fix it:
the database would reject it too.",
    },
    Rule {
        id: id::DROP_TABLE,
        severity: Severity::Error,
        summary: "`DROP TABLE` (or `DROP SCHEMA ... CASCADE`) deletes tables and every row in \
                  them",
        explanation: "\
`DROP TABLE` cannot be undone by a down migration: the rows are gone, and application code
still deployed that reads the table fails at once. `DROP SCHEMA ... CASCADE` does the same to
every table in the schema. Without `IF EXISTS` it also fails when the
table is already gone.

Safe alternative (expand/contract): deploy code that no longer uses the table, wait until no
running version reads it, take a backup (or rename it aside and drop it in a later release),
then drop it with `DROP TABLE IF EXISTS`. When the data is truly disposable, put
`-- godwit:allow drop-table` above it.

Not reported: tables created earlier in the same file, and a table rebuild written by hand
by the book: every row of `t` copied with `INSERT INTO t_new ... SELECT ... FROM t` (no
`WHERE`, `GROUP BY`, `DISTINCT`, limit, join, `ON CONFLICT`, `OR IGNORE` or `OR REPLACE`;
`OR ABORT`, `OR FAIL` and `OR ROLLBACK` stop the copy rather than leave a row out) before
`DROP TABLE t`, and `ALTER TABLE t_new RENAME TO t` after it. A copy that leaves out a column
godwit knows `t` has (from the file, or the live schema when `migrate` or `lint` reads the
database, as columns renamed or dropped earlier in the file leave it) drops that column's data
and is reported. The rebuilds `godwit generate` writes say instead, in an allow
comment with its reason, which of their drops lose nothing; one that leaves a column out or
converts its values is left for you to allow.",
    },
    Rule {
        id: id::DROP_COLUMN,
        severity: Severity::Error,
        summary: "`ALTER TABLE ... DROP COLUMN` deletes a column's data",
        explanation: "\
Dropping a column destroys its data, and any deployed code that selects or inserts it breaks
the moment the migration commits (ORMs that list every column break even if they never use
it).

Safe alternative (expand/contract): stop writing the column, deploy code that ignores it (for
example Rails `ignored_columns`), wait until no running version reads it, then drop it in a
later migration and put `-- godwit:allow drop-column` above that statement.",
    },
    Rule {
        id: id::TRUNCATE,
        severity: Severity::Error,
        summary: "`TRUNCATE` deletes every row of a table",
        explanation: "\
`TRUNCATE` removes every row at once, fires no row-level triggers, and on PostgreSQL takes an
ACCESS EXCLUSIVE lock that blocks all reads and writes while it waits and runs. In a migration
that runs against production it is almost always a leftover from development. SQLite has no
`TRUNCATE` at all and rejects the statement.

Safe alternative: delete only the rows you mean to, with a `WHERE` clause (in batches on big
tables). If emptying the table really is intended, put `-- godwit:allow truncate` above it.",
    },
    Rule {
        id: id::DELETE_WITHOUT_WHERE,
        severity: Severity::Error,
        summary: "`DELETE` without `WHERE` deletes every row of a table",
        explanation: "\
A `DELETE` with no `WHERE` clause removes every row, in one transaction that holds a lock on
each row it deletes. It is most often a data fix whose condition was forgotten.

Safe alternative: add the `WHERE` clause that selects the rows to remove; on big tables delete
in batches (by key range) from a `-- godwit:no-transaction` migration or a background job. If
deleting everything is intended, put `-- godwit:allow delete-without-where` above it.
Tables created earlier in the same file are not reported.",
    },
    Rule {
        id: id::UPDATE_WITHOUT_WHERE,
        severity: Severity::Error,
        summary: "`UPDATE` without `WHERE` rewrites every row of a table",
        explanation: "\
An `UPDATE` with no `WHERE` clause overwrites the column in every row and locks every row
until the migration commits, so concurrent writers wait (on PostgreSQL it also writes a new
version of each row, doubling the table until vacuum). Backfills written this way are the
classic cause: `ALTER TABLE ... ADD COLUMN`, then `UPDATE t SET col = ...`.

Safe alternative: backfill in batches by key range (`WHERE id >= $1 AND id < $2`) from a
`-- godwit:no-transaction` migration or a background job, and restrict each batch to rows that
still need it (`AND col IS NULL`). If a single statement is fine (a small table), put
`-- godwit:allow update-without-where` above it.",
    },
    Rule {
        id: id::FOREIGN_KEY_WITHOUT_INDEX,
        severity: Severity::Warning,
        summary: "a foreign key whose columns no index, primary key or unique constraint leads with",
        explanation: "\
Neither PostgreSQL nor SQLite indexes the referencing side of a foreign key. Without an index
led by the key's columns, every delete or key update in the referenced table scans the whole
referencing table (under a lock), and joins along the key scan too. MySQL and MariaDB (InnoDB)
build that index themselves when none exists, so the rule reports nothing there.

Safe alternative: create an index whose leading columns are the foreign key's columns (in any
order), in the same migration or next to it; on PostgreSQL, on an existing table, with
`CREATE INDEX CONCURRENTLY` in a `-- godwit:no-transaction` migration. A primary key or unique
constraint led by those columns also counts, and so does one already in the live schema when
godwit knows it. Partial indexes do not count: they do not cover every row.",
    },
    Rule {
        id: id::ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT,
        severity: Severity::Error,
        summary: "a `NOT NULL` column added to an existing table without a `DEFAULT`",
        explanation: "\
Existing rows have no value for the new column, so PostgreSQL and SQLite both reject the change
as soon as the table has a row: it passes on an empty development database and fails in
production. MySQL and MariaDB accept it and silently give every existing row the type's
implicit default (`0`, `''`, `0000-00-00`), which no test on an empty database notices.

Safe alternative: add the column with a `DEFAULT` (on PostgreSQL 11+ a constant default does
not rewrite the table), or add it nullable, backfill it in batches, then add the `NOT NULL`
constraint (see `set-not-null` on PostgreSQL; SQLite needs a table rebuild for that). A
primary key column is `NOT NULL` too. Tables created earlier in the same file are not
reported.",
    },
    Rule {
        id: id::NON_IDEMPOTENT_CREATE,
        severity: Severity::Warning,
        summary: "`CREATE TABLE` or `CREATE INDEX` without `IF NOT EXISTS` that a failure later \
                  in a no-transaction migration leaves behind",
        explanation: "\
A migration that runs in a transaction (the default) is all or nothing: when a statement
fails, what the ones before it created is gone too, and running the migration again starts
afresh, so a plain `CREATE TABLE` there is no finding. A `-- godwit:no-transaction` migration
is not: each statement outside the file's own `BEGIN ... COMMIT` commits by itself, and a
`COMMIT` commits what came before it. When a statement after that fails, the migration is
recorded as failed, and running it again (`godwit recover --retry`) fails on the table or
index it already created; an unnamed index is built a second time. Reported when such a
statement comes after the `CREATE` has committed; settings (`SET`, `RESET`, `PRAGMA`) cannot
fail and do not count. On an engine other than PostgreSQL and SQLite, whose DDL may commit by
itself, a transaction does not count either.

Safe alternative: write `CREATE TABLE IF NOT EXISTS` / `CREATE INDEX IF NOT EXISTS`, or move the
statements that may fail into their own migration. On PostgreSQL a failed
`CREATE INDEX CONCURRENTLY` leaves an invalid index behind that `IF NOT EXISTS` would skip;
`godwit migrate` drops the invalid indexes a no-transaction migration builds (matched by index
and table name) before it runs the migration again, so the retry builds them afresh.",
    },
    Rule {
        id: id::EXPLICIT_TRANSACTION,
        severity: Severity::Error,
        summary: "`BEGIN`, `COMMIT`, `ROLLBACK` or `END` in a migration that runs in a transaction",
        explanation: "\
godwit runs a migration and writes its history row in one transaction, unless the file says
`-- godwit:no-transaction`. A `COMMIT` (or `END`) in the file commits that transaction
part-way: when a later statement fails, what ran before the `COMMIT` stays applied while the
migration is recorded as failed, so a retry runs it again on a half-changed schema. A
`ROLLBACK` silently undoes the statements before it and lets the rest run outside any
transaction. A `BEGIN` (or `START TRANSACTION`) is refused by SQLite inside a transaction;
PostgreSQL only warns, and the `COMMIT` that pairs with it does the damage.

Safe alternative: delete the `BEGIN`/`COMMIT` lines; godwit already makes the whole file
atomic. To control transactions yourself (for example to group statements around ones that
cannot run in a transaction), put `-- godwit:no-transaction` in the file's leading comment
lines; explicit transactions are fine there. `SAVEPOINT`, `RELEASE` and
`ROLLBACK TO SAVEPOINT` stay inside godwit's transaction and are not reported.",
    },
    Rule {
        id: id::INVALID_DIRECTIVE,
        // A warning: the rule the comment meant to silence still reports its statement, so
        // nothing gets through unseen; this says why the comment did not work.
        severity: Severity::Warning,
        summary: "a `godwit:` comment that does nothing: an unknown rule id, a misspelled or \
                  misplaced directive",
        explanation: "\
godwit reads two kinds of comments: `-- godwit:no-transaction` among the comment lines that
open a file, and `-- godwit:allow RULE[, RULE...]` on the comment lines directly above a
statement. A comment that looks meant for godwit but is not one of these does nothing, so it
is reported: a rule id that names no rule (`drop-tabel`, `drop_table`), a misspelled
directive (`godwit:allow: drop-table`, `godwit:allowed`), a directive in a `/* ... */` block
comment, an allow comment that is not directly above a statement (after code on its line, or
with a blank line before the statement), or `-- godwit:no-transaction` after the first
statement (the migration then runs in a transaction). An unknown directive among a file's opening comments is an error when the
file is read, before any lint.

Safe alternative: write the comment as godwit reads it, on its own line:
  -- godwit:allow drop-table
with the ids `godwit lint --list` shows, and put `-- godwit:no-transaction` at the top of the
file.",
    },
];

/// The rules every dialect runs, in a stable order.
pub fn shared_rules() -> &'static [Rule] {
    SHARED
}

/// A shared rule that a dialect turns on by listing it among its own rules and saying in its
/// [`super::LintFacts::vacuum_inside_transaction_fails`] that its engine refuses `VACUUM` in a
/// transaction; its own checks may report settings that do nothing there.
pub const PRAGMA_IN_TRANSACTION: Rule = Rule {
    id: id::PRAGMA_IN_TRANSACTION,
    severity: Severity::Error,
    summary: "a `PRAGMA` or `VACUUM` that has no effect or fails inside a transaction",
    explanation: "\
godwit runs a migration inside a transaction (`BEGIN IMMEDIATE` on SQLite) unless told
otherwise. Inside a transaction SQLite silently ignores `PRAGMA foreign_keys = ...`, refuses
`PRAGMA synchronous = ...` and changing `journal_mode` to or from WAL, and refuses `VACUUM`
(only a switch to WAL is reported: whether the database is in WAL mode when the migration runs
is not in the file, and other journal modes switch fine inside a transaction);
PostgreSQL refuses `VACUUM` (`VACUUM FULL` included) inside a transaction block.

Safe alternative: put `-- godwit:no-transaction` in the file's leading comment lines, or leave
connection settings to the application (godwit leaves the journal mode to the user).",
};

/// A shared rule that a dialect whose `ALTER TABLE` renames in place turns on by listing it
/// among its own rules; its own checks report the renames its grammar has.
pub const RENAME: Rule = Rule {
    id: id::RENAME,
    severity: Severity::Warning,
    summary: "renaming a table or column breaks the application code still running",
    explanation: "\
During a deployment the old version of the application keeps running against the new schema
for a while; every query it makes with the old name fails from the moment the rename commits.

Safe alternative (expand/contract): add the new column (or a new table, or a view with the new
name), write to both and backfill, move reads over, and drop the old name in a later release.
Not reported on tables created earlier in the same file.",
};

/// The shared rules a dialect turns on by listing them, in a stable order.
static OPTIONAL: &[Rule] = &[PRAGMA_IN_TRANSACTION, RENAME];

/// A rule as a [`Catalogue`] lists it: with the dialects that check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ListedRule {
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// The names of the dialects that check it, in name order; empty means every dialect.
    pub dialects: Vec<&'static str>,
}

impl ListedRule {
    /// `all`, or the dialects that check the rule.
    pub fn dialects_text(&self) -> String {
        if self.dialects.is_empty() {
            "all".to_string()
        } else {
            self.dialects.join(", ")
        }
    }
}

/// Every rule of the dialects a program has, in a stable order: the shared rules, then each
/// dialect's own rules (dialects in name order), then the optional shared rules some dialect
/// turns on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    rules: Vec<ListedRule>,
}

impl Catalogue {
    /// The catalogue of `dialects`, each a name with every rule its lint reports
    /// ([`crate::Dialect::lint_rules`]).
    pub fn new(dialects: impl IntoIterator<Item = (&'static str, Vec<Rule>)>) -> Self {
        let mut dialects: Vec<(&'static str, Vec<Rule>)> = dialects.into_iter().collect();
        dialects.sort_by_key(|(name, _)| *name);
        let mut rules: Vec<ListedRule> = SHARED
            .iter()
            .map(|rule| ListedRule {
                rule: *rule,
                dialects: Vec::new(),
            })
            .collect();
        let core = |id: &str| SHARED.iter().chain(OPTIONAL).any(|rule| rule.id == id);
        let listed = |rules: &mut Vec<ListedRule>, name: &'static str, rule: &Rule| match rules
            .iter_mut()
            .find(|listed| listed.rule.id == rule.id)
        {
            Some(listed) => listed.dialects.push(name),
            None => rules.push(ListedRule {
                rule: *rule,
                dialects: vec![name],
            }),
        };
        for (name, own) in &dialects {
            for rule in own.iter().filter(|rule| !core(rule.id)) {
                listed(&mut rules, name, rule);
            }
        }
        for optional in OPTIONAL {
            for (name, own) in &dialects {
                if own.iter().any(|rule| rule.id == optional.id) {
                    listed(&mut rules, name, optional);
                }
            }
        }
        Catalogue { rules }
    }

    /// Every rule, in a stable order.
    pub fn rules(&self) -> &[ListedRule] {
        &self.rules
    }

    /// The rule with `id`, if there is one.
    pub fn rule(&self, id: &str) -> Option<&ListedRule> {
        self.rules.iter().find(|listed| listed.rule.id == id)
    }

    /// Every rule id, in order.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rules.iter().map(|listed| listed.rule.id)
    }

    /// The rule ids `id` may be a misspelling of, most alike first (at most three): ids within
    /// a few edits of it (`drop-tabel`, `drop_table`) and ids that contain it (`drop`).
    pub fn similar(&self, id: &str) -> Vec<&'static str> {
        similar(id, self.ids())
    }

    /// The rule table for the README: `| rule | severity | dialects | what it catches |`.
    pub fn markdown_table(&self) -> String {
        let mut out =
            String::from("| rule | severity | dialects | what it catches |\n|---|---|---|---|\n");
        for listed in &self.rules {
            let rule = &listed.rule;
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                rule.id,
                rule.severity,
                listed.dialects_text(),
                rule.summary.replace('|', "\\|")
            ));
        }
        out
    }
}

/// The `candidates` `word` may be a misspelling of, most alike first (at most three).
pub(crate) fn similar<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Vec<&'c str> {
    let word = word.trim().to_ascii_lowercase().replace('_', "-");
    let mut found: Vec<(usize, &str)> = candidates
        .filter_map(|candidate| {
            let distance = edit_distance(&word, candidate);
            let close = distance <= (word.chars().count() / 4).max(1);
            let contains = word.len() >= 3 && candidate.contains(word.as_str());
            (close || contains).then_some((distance, candidate))
        })
        .collect();
    found.sort_by_key(|&(distance, _)| distance);
    found.into_iter().take(3).map(|(_, id)| id).collect()
}

/// Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
