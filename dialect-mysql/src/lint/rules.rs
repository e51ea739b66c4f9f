//! The MySQL rules' catalogue entries: stable ids, severities, and the text
//! `godwit lint --explain` shows.

use godwit_core::lint::{RENAME, Rule, Severity};

/// Rule ids, so the checks and the catalogue cannot disagree on a spelling.
pub(crate) mod id {
    pub(crate) const DML_WITH_DDL: &str = "dml-with-ddl";
    pub(crate) const TABLE_COPY: &str = "table-copy";
    pub(crate) const ENUM_VALUES_CHANGED: &str = "enum-values-changed";
}

/// MySQL's own rules, then the shared rule it turns on (renames).
pub(crate) static RULES: &[Rule] = &[
    Rule::new(
        id::DML_WITH_DDL,
        Severity::Warning,
        "rows changed in a migration that also runs DDL, which MySQL commits implicitly",
        "\
MySQL and MariaDB commit the open transaction before and after every DDL statement
(`CREATE`, `ALTER`, `DROP`, `RENAME`, `TRUNCATE`...), so a migration that holds one cannot run
in a transaction: godwit runs it statement by statement, recorded as failed before it starts
and marked applied after it ends. The `INSERT`, `UPDATE` and `DELETE` statements of such a
migration are then protected by nothing: when a later statement fails, the rows they changed
stay changed while the migration is recorded as failed, and running it again changes them a
second time. Reported once per file, at the first statement that changes rows of a table the
file did not create (filling a table created in the same file is not reported).

Safe alternative: split the migration. Put the schema change in one migration and the data
change in the next; a migration of `INSERT`, `UPDATE`, `DELETE` and `SELECT` statements alone
runs in one transaction with its history row, all or nothing, as on the other engines. Make a
data change that must stay with its DDL safe to run twice (`INSERT IGNORE`, `WHERE` clauses
that skip the rows already changed), then put `-- godwit:allow dml-with-ddl` above it.",
    ),
    Rule::new(
        id::TABLE_COPY,
        Severity::Warning,
        "an `ALTER TABLE` that MySQL or MariaDB can only make by copying the table",
        "\
InnoDB makes most changes in place (`ALGORITHM=INSTANT` or `INPLACE`) while reads and writes
go on. A few it can only make by copying every row into a new table (`ALGORITHM=COPY`), and
writes to the table wait for the whole copy, minutes to hours on a large table: changing a
column's type (appending `ENUM`/`SET` values is made in place and not reported; lengthening a
`VARCHAR` is too while its length prefix keeps its size, which depends on the character set,
so it is reported), `CONVERT TO CHARACTER SET`, dropping the primary key
without adding another, adding a `CHECK` or `FOREIGN KEY` constraint (with
`foreign_key_checks` on), adding a stored generated column, an `AUTO_INCREMENT` column or a
column with its own `CHECK`, changing `ENGINE` or `ROW_FORMAT`, partitioning, and asking for
`ALGORITHM=COPY`. These are the changes `godwit generate` marks as copying the table. Not
reported on tables created earlier in the same file, or when the statement says
`ALGORITHM=INSTANT`, `ALGORITHM=INPLACE` or `LOCK=NONE`: the server then refuses the change
rather than block writes.

Safe alternative: state the algorithm you expect, `ALTER TABLE t ..., ALGORITHM=INPLACE,
LOCK=NONE`, so that a change the server can only copy fails at once instead of blocking
writes; for a change that needs a copy, run it on a large table with an online schema change
tool (pt-online-schema-change, gh-ost), which copies in the background and swaps the tables,
or in a maintenance window.",
    ),
    Rule::new(
        id::ENUM_VALUES_CHANGED,
        Severity::Error,
        "an `ENUM` or `SET` column whose values are removed or reordered",
        "\
MySQL stores an `ENUM` value as its position in the column's list (a `SET` as a bit per
position). Removing a value that rows hold fails the `ALTER` in strict mode (`Data truncated`)
and turns those rows' values into `''` otherwise; reordering or inserting values in the middle
renumbers the stored values, which changes `ORDER BY` on the column and every comparison with
a number, and copies the table while writes wait. Appending values at the end changes no
stored value and is made in place. Reported when godwit knows the column's current values,
from earlier in the file or from the live schema.

Safe alternative: only append values at the end of the list. To retire a value, first update
the rows that hold it (in its own migration), then remove it; to change the order in which
values sort, sort by `FIELD(col, ...)` or by a lookup table rather than by the list.",
    ),
    RENAME,
];
