//! The rule catalogue: stable ids, severities, and the text `godwit lint --explain` shows.
//!
//! Ids are part of godwit's interface (configuration, `-- godwit:allow` comments, JSON
//! output): a rule may be added, never renamed.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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
    /// The godwit dialects it applies to; empty means all.
    pub dialects: &'static [&'static str],
}

impl Rule {
    /// Whether the rule applies to migrations for `dialect` (a godwit dialect name).
    pub fn applies_to(&self, dialect: &str) -> bool {
        self.dialects.is_empty() || self.dialects.contains(&dialect)
    }
}

/// Rule ids, so the checks and the catalogue cannot disagree on a spelling.
pub(crate) mod id {
    pub(crate) const PARSE_ERROR: &str = "parse-error";
    pub(crate) const INVALID_DIRECTIVE: &str = "invalid-directive";
    pub(crate) const DROP_TABLE: &str = "drop-table";
    pub(crate) const DROP_COLUMN: &str = "drop-column";
    pub(crate) const TRUNCATE: &str = "truncate";
    pub(crate) const DELETE_WITHOUT_WHERE: &str = "delete-without-where";
    pub(crate) const UPDATE_WITHOUT_WHERE: &str = "update-without-where";
    pub(crate) const FOREIGN_KEY_WITHOUT_INDEX: &str = "foreign-key-without-index";
    pub(crate) const ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT: &str =
        "add-column-not-null-without-default";
    pub(crate) const NON_IDEMPOTENT_CREATE: &str = "non-idempotent-create";
    pub(crate) const EXPLICIT_TRANSACTION: &str = "explicit-transaction";
    pub(crate) const SET_NOT_NULL: &str = "set-not-null";
    pub(crate) const INDEX_WITHOUT_CONCURRENTLY: &str = "index-without-concurrently";
    pub(crate) const CONCURRENTLY_IN_TRANSACTION: &str = "concurrently-in-transaction";
    pub(crate) const MULTIPLE_CONCURRENTLY: &str = "multiple-concurrently";
    pub(crate) const CONSTRAINT_WITHOUT_NOT_VALID: &str = "constraint-without-not-valid";
    pub(crate) const COLUMN_TYPE_CHANGE: &str = "column-type-change";
    pub(crate) const VOLATILE_DEFAULT: &str = "volatile-default";
    pub(crate) const ENUM_VALUE_IN_TRANSACTION: &str = "enum-value-in-transaction";
    pub(crate) const RENAME: &str = "rename";
    pub(crate) const MISSING_LOCK_TIMEOUT: &str = "missing-lock-timeout";
    pub(crate) const UNSUPPORTED_ALTER: &str = "unsupported-alter";
    pub(crate) const PRAGMA_IN_TRANSACTION: &str = "pragma-in-transaction";
}

const POSTGRES: &[&str] = &["postgres"];
const SQLITE: &[&str] = &["sqlite"];
const POSTGRES_AND_SQLITE: &[&str] = &["postgres", "sqlite"];
const ALL: &[&str] = &[];

static RULES: &[Rule] = &[
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
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
    },
    Rule {
        id: id::FOREIGN_KEY_WITHOUT_INDEX,
        severity: Severity::Warning,
        summary: "a foreign key whose columns no index, primary key or unique constraint leads with",
        explanation: "\
Neither PostgreSQL nor SQLite indexes the referencing side of a foreign key. Without an index
led by the key's columns, every delete or key update in the referenced table scans the whole
referencing table (under a lock), and joins along the key scan too.

Safe alternative: create an index whose leading columns are the foreign key's columns (in any
order), in the same migration or next to it; on PostgreSQL, on an existing table, with
`CREATE INDEX CONCURRENTLY` in a `-- godwit:no-transaction` migration. A primary key or unique
constraint led by those columns also counts, and so does one already in the live schema when
godwit knows it. Partial indexes do not count: they do not cover every row.",
        dialects: ALL,
    },
    Rule {
        id: id::ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT,
        severity: Severity::Error,
        summary: "a `NOT NULL` column added to an existing table without a `DEFAULT`",
        explanation: "\
Existing rows have no value for the new column, so PostgreSQL and SQLite both reject the change
as soon as the table has a row: it passes on an empty development database and fails in
production.

Safe alternative: add the column with a `DEFAULT` (on PostgreSQL 11+ a constant default does
not rewrite the table), or add it nullable, backfill it in batches, then add the `NOT NULL`
constraint (see `set-not-null` on PostgreSQL; SQLite needs a table rebuild for that). A
primary key column is `NOT NULL` too. Tables created earlier in the same file are not
reported.",
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
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
        dialects: ALL,
    },
    Rule {
        id: id::SET_NOT_NULL,
        severity: Severity::Warning,
        summary: "`ALTER COLUMN ... SET NOT NULL` scans the table under an ACCESS EXCLUSIVE lock",
        explanation: "\
To add `NOT NULL`, PostgreSQL reads every row to prove there is no NULL, holding an ACCESS
EXCLUSIVE lock that blocks all reads and writes of the table for the whole scan.

Safe alternative (PostgreSQL 12+ uses a validated check constraint instead of scanning):
  1. ALTER TABLE t ADD CONSTRAINT t_col_not_null CHECK (col IS NOT NULL) NOT VALID;
  2. in a later migration: ALTER TABLE t VALIDATE CONSTRAINT t_col_not_null;
     (validation takes a lock that lets reads and writes continue)
  3. ALTER TABLE t ALTER COLUMN col SET NOT NULL;  -- no scan
     ALTER TABLE t DROP CONSTRAINT t_col_not_null;
Not reported on tables created earlier in the same file, or when a check constraint
`col IS NOT NULL` was validated earlier in the file or is validated in the live schema (when
`migrate` or `lint` reads the database).",
        dialects: POSTGRES,
    },
    Rule {
        id: id::INDEX_WITHOUT_CONCURRENTLY,
        severity: Severity::Error,
        summary: "an index built or dropped on an existing table without `CONCURRENTLY`",
        explanation: "\
`CREATE INDEX` blocks every write to the table while the index builds (minutes on a large
table); `DROP INDEX` takes an ACCESS EXCLUSIVE lock that also blocks reads. Adding a `UNIQUE`
or `PRIMARY KEY` constraint builds its index the same way, under ACCESS EXCLUSIVE, and so does
an `EXCLUDE` constraint, which has no concurrent form at all.

Safe alternative: in a `-- godwit:no-transaction` migration, one statement per file:
  CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (col);
  DROP INDEX CONCURRENTLY IF EXISTS idx;
For a constraint, build the unique index concurrently first, then attach it:
  ALTER TABLE t ADD CONSTRAINT t_col_key UNIQUE USING INDEX idx;
Tables, materialized views and indexes created earlier in the same file (also by
`CREATE TABLE ... AS` and `SELECT ... INTO`) are not reported.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::CONCURRENTLY_IN_TRANSACTION,
        severity: Severity::Error,
        summary: "`CONCURRENTLY` in a migration that runs in a transaction",
        explanation: "\
PostgreSQL refuses `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` and
`DETACH PARTITION ... CONCURRENTLY` inside a transaction block, and godwit runs a migration in
a transaction unless told otherwise, so the migration fails.

Safe alternative: put `-- godwit:no-transaction` in the file's leading comment lines. godwit
then records the migration as failed before running it and as applied after, so a crash half-way
is visible; keep one concurrent statement per such file.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::MULTIPLE_CONCURRENTLY,
        severity: Severity::Warning,
        summary: "more than one `CONCURRENTLY` statement in one migration",
        explanation: "\
A no-transaction migration is not atomic. If the second concurrent build fails (a deadlock, a
duplicate key, a cancelled statement), the first index stays, and a failed concurrent build
leaves an INVALID index that still slows every write. Re-running the migration then trips on
what is already there.

Safe alternative: one `CONCURRENTLY` statement per migration file, with `IF NOT EXISTS` /
`IF EXISTS`. After a failure `godwit migrate` drops the invalid indexes the migration builds
before running it again; an index built by hand or by another tool is only reported.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::CONSTRAINT_WITHOUT_NOT_VALID,
        severity: Severity::Error,
        summary: "a `FOREIGN KEY` or `CHECK` added to an existing table without `NOT VALID`",
        explanation: "\
Adding a foreign key or check constraint validates every existing row while holding a lock
that blocks writes (a foreign key also locks the referenced table). On a large table that is
an outage. A `CHECK` or `REFERENCES` written on a column in `ADD COLUMN` does the same, and
cannot be `NOT VALID`: add the column without it, then the constraint as below.

Safe alternative, in two migrations:
  ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID;
  -- next migration: validation lets reads and writes continue
  ALTER TABLE t VALIDATE CONSTRAINT t_fk;
Validating in the same transaction as the `ADD ... NOT VALID` gains nothing, because the lock
taken by the `ADD` is held until commit; that is reported too.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::COLUMN_TYPE_CHANGE,
        severity: Severity::Warning,
        summary: "`ALTER COLUMN ... TYPE` that rewrites the table and its indexes",
        explanation: "\
Changing a column's type rewrites the whole table and rebuilds its indexes under an ACCESS
EXCLUSIVE lock: no reads or writes until it finishes. A few changes need no rewrite and are
not reported when godwit knows the current type (from the same file or the live schema):
  varchar(n) -> varchar(m) with m >= n, varchar(n) -> varchar or text, text -> varchar,
  numeric(p,s) -> numeric(q,s) with q >= p, numeric(p,s) -> numeric.

Safe alternative: add a new column of the new type, backfill it in batches, keep both in sync
(a trigger or the application) while code moves over, then drop the old column in a later
release.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::VOLATILE_DEFAULT,
        severity: Severity::Warning,
        summary: "`ADD COLUMN` with a volatile default or a stored generated value, which \
                  rewrites the table",
        explanation: "\
Since PostgreSQL 11, `ADD COLUMN ... DEFAULT` with a constant or stable default (`0`, `now()`,
`CURRENT_TIMESTAMP`) is instant. A volatile default must be computed per row, so the whole
table is rewritten under an ACCESS EXCLUSIVE lock: `random()`, `clock_timestamp()`,
`timeofday()`, `gen_random_uuid()`, `uuidv4()`, `uuidv7()` (PostgreSQL 18),
`uuid_generate_v1()`/`v1mc()`/`v4()`, `nextval(...)`, and
the `serial` types and identity columns, which fill every row from a sequence. A
`GENERATED ALWAYS AS (...) STORED` column is computed for every row the same way (a virtual
one, PostgreSQL 18's default, is not).

Safe alternative: add the column without a default (or with a constant one), set the volatile
default with `ALTER COLUMN ... SET DEFAULT` (which affects only new rows), then backfill
existing rows in batches.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::ENUM_VALUE_IN_TRANSACTION,
        severity: Severity::Warning,
        summary: "`ALTER TYPE ... ADD VALUE` in a migration that runs in a transaction",
        explanation: "\
Before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` cannot run inside a transaction block at all.
Since 12 it can, but the new value cannot be used until the transaction commits, so a later
statement in the same migration that inserts or compares it fails.

Safe alternative: put the `ADD VALUE` in its own migration with `-- godwit:no-transaction`,
and use the new value from the next migration on.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::RENAME,
        severity: Severity::Warning,
        summary: "renaming a table or column breaks the application code still running",
        explanation: "\
During a deployment the old version of the application keeps running against the new schema
for a while; every query it makes with the old name fails from the moment the rename commits.

Safe alternative (expand/contract): add the new column (or a new table, or a view with the new
name), write to both and backfill, move reads over, and drop the old name in a later release.
Not reported on tables created earlier in the same file.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::MISSING_LOCK_TIMEOUT,
        severity: Severity::Warning,
        summary: "a statement that takes a blocking lock on an existing table with no `lock_timeout` set",
        explanation: "\
`ALTER TABLE`, `DROP`, `TRUNCATE`, `CREATE TRIGGER`, non-concurrent index builds and foreign
keys (which lock the referenced table, even from a new table) wait for their lock behind every
running query on the table, and every query that arrives afterwards queues behind them: one
long-running report turns a millisecond `ALTER` into an outage.

Safe alternative: give up quickly and retry later. Start the migration with
  SET LOCAL lock_timeout = '5s';   -- in a transactional migration
  SET lock_timeout = '5s';         -- in a -- godwit:no-transaction migration
(`SET LOCAL` has no effect outside a transaction, so it does not count there, except between
a no-transaction file's own `BEGIN` and `COMMIT`). `set_config('lock_timeout', ...)` counts
too; `SET lock_timeout = DEFAULT`, `= 0` and `RESET` turn it off again. Reported once per
file, at the first statement that needs it.",
        dialects: POSTGRES,
    },
    Rule {
        id: id::UNSUPPORTED_ALTER,
        severity: Severity::Error,
        summary: "an `ALTER TABLE` form SQLite cannot execute",
        explanation: "\
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
        dialects: SQLITE,
    },
    Rule {
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
        dialects: POSTGRES_AND_SQLITE,
    },
];

/// Every rule, in a stable order.
pub fn rules() -> &'static [Rule] {
    RULES
}

/// The rule with `id`, if there is one.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// The rule ids `id` may be a misspelling of, most alike first (at most three): ids within a
/// few edits of it (`drop-tabel`, `drop_table`) and ids that contain it (`drop`).
pub fn similar_rules(id: &str) -> Vec<&'static str> {
    similar(id, RULES.iter().map(|rule| rule.id))
}

/// The `candidates` `word` may be a misspelling of, most alike first (at most three).
pub(crate) fn similar(
    word: &str,
    candidates: impl Iterator<Item = &'static str>,
) -> Vec<&'static str> {
    let word = word.trim().to_ascii_lowercase().replace('_', "-");
    let mut found: Vec<(usize, &'static str)> = candidates
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

/// The rule table for the README: `| rule | severity | dialects | what it catches |`.
pub fn rules_markdown_table() -> String {
    let mut out =
        String::from("| rule | severity | dialects | what it catches |\n|---|---|---|---|\n");
    for rule in RULES {
        let dialects = if rule.dialects.is_empty() {
            "all".to_string()
        } else {
            rule.dialects.join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id,
            rule.severity,
            dialects,
            rule.summary.replace('|', "\\|")
        ));
    }
    out
}
