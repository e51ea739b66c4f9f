//! The PostgreSQL rules' catalogue entries: stable ids, severities, and the text
//! `godwit lint --explain` shows.

use godwit_core::lint::{PRAGMA_IN_TRANSACTION, RENAME, Rule, Severity};

/// Rule ids, so the checks and the catalogue cannot disagree on a spelling.
pub(crate) mod id {
    pub(crate) const SET_NOT_NULL: &str = "set-not-null";
    pub(crate) const INDEX_WITHOUT_CONCURRENTLY: &str = "index-without-concurrently";
    pub(crate) const CONCURRENTLY_IN_TRANSACTION: &str = "concurrently-in-transaction";
    pub(crate) const MULTIPLE_CONCURRENTLY: &str = "multiple-concurrently";
    pub(crate) const CONSTRAINT_WITHOUT_NOT_VALID: &str = "constraint-without-not-valid";
    pub(crate) const COLUMN_TYPE_CHANGE: &str = "column-type-change";
    pub(crate) const VOLATILE_DEFAULT: &str = "volatile-default";
    pub(crate) const ENUM_VALUE_IN_TRANSACTION: &str = "enum-value-in-transaction";
    pub(crate) const MISSING_LOCK_TIMEOUT: &str = "missing-lock-timeout";
}

/// PostgreSQL's own rules, with the shared rules it turns on (renames, and `VACUUM` in a
/// transaction).
pub(crate) static RULES: &[Rule] = &[
    Rule::new(
        id::SET_NOT_NULL,
        Severity::Warning,
        "`ALTER COLUMN ... SET NOT NULL` scans the table under an ACCESS EXCLUSIVE lock",
        "\
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
    ),
    Rule::new(
        id::INDEX_WITHOUT_CONCURRENTLY,
        Severity::Error,
        "an index built or dropped on an existing table without `CONCURRENTLY`",
        "\
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
    ),
    Rule::new(
        id::CONCURRENTLY_IN_TRANSACTION,
        Severity::Error,
        "`CONCURRENTLY` in a migration that runs in a transaction",
        "\
PostgreSQL refuses `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` and
`DETACH PARTITION ... CONCURRENTLY` inside a transaction block, and godwit runs a migration in
a transaction unless told otherwise, so the migration fails.

Safe alternative: put `-- godwit:no-transaction` in the file's leading comment lines. godwit
then records the migration as failed before running it and as applied after, so a crash half-way
is visible; keep one concurrent statement per such file.",
    ),
    Rule::new(
        id::MULTIPLE_CONCURRENTLY,
        Severity::Warning,
        "more than one `CONCURRENTLY` statement in one migration",
        "\
A no-transaction migration is not atomic. If the second concurrent build fails (a deadlock, a
duplicate key, a cancelled statement), the first index stays, and a failed concurrent build
leaves an INVALID index that still slows every write. Re-running the migration then trips on
what is already there.

Safe alternative: one `CONCURRENTLY` statement per migration file, with `IF NOT EXISTS` /
`IF EXISTS`. After a failure `godwit migrate` drops the invalid indexes the migration builds
before running it again; an index built by hand or by another tool is only reported.",
    ),
    Rule::new(
        id::CONSTRAINT_WITHOUT_NOT_VALID,
        Severity::Error,
        "a `FOREIGN KEY` or `CHECK` added to an existing table without `NOT VALID`",
        "\
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
    ),
    Rule::new(
        id::COLUMN_TYPE_CHANGE,
        Severity::Warning,
        "`ALTER COLUMN ... TYPE` that rewrites the table and its indexes",
        "\
Changing a column's type rewrites the whole table and rebuilds its indexes under an ACCESS
EXCLUSIVE lock: no reads or writes until it finishes. A few changes need no rewrite and are
not reported when godwit knows the current type (from the same file or the live schema):
  varchar(n) -> varchar(m) with m >= n, varchar(n) -> varchar or text, text -> varchar,
  numeric(p,s) -> numeric(q,s) with q >= p, numeric(p,s) -> numeric.

Safe alternative: add a new column of the new type, backfill it in batches, keep both in sync
(a trigger or the application) while code moves over, then drop the old column in a later
release.",
    ),
    Rule::new(
        id::VOLATILE_DEFAULT,
        Severity::Warning,
        "`ADD COLUMN` with a volatile default or a stored generated value, which \
                  rewrites the table",
        "\
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
    ),
    Rule::new(
        id::ENUM_VALUE_IN_TRANSACTION,
        Severity::Warning,
        "`ALTER TYPE ... ADD VALUE` in a migration that runs in a transaction",
        "\
Before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` cannot run inside a transaction block at all.
Since 12 it can, but the new value cannot be used until the transaction commits, so a later
statement in the same migration that inserts or compares it fails.

Safe alternative: put the `ADD VALUE` in its own migration with `-- godwit:no-transaction`,
and use the new value from the next migration on.",
    ),
    RENAME,
    Rule::new(
        id::MISSING_LOCK_TIMEOUT,
        Severity::Warning,
        "a statement that takes a blocking lock on an existing table with no `lock_timeout` set",
        "\
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
    ),
    PRAGMA_IN_TRANSACTION,
];
