//! The pure half of a backend: SQL text and facts about it, never I/O.

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use crate::diff::{Change, Dependants, DiffOptions};
use crate::history_table::HistoryTable;
use crate::lint::{
    Finding, GenericLint, LintConfig, LintInput, LintRules, OutlineStatement, Rule, TableChange,
};
use crate::schema::Schema;
use crate::screen::{SchemaStatement, ScreenError, StatementClass};
use crate::store::data::{Row, Value};

/// What a backend can do, as data rather than a row of booleans on the trait, so a plugin can
/// describe itself in one serialised message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// DDL statements take part in transactions (true for SQLite and PostgreSQL), so a failed
    /// migration leaves the schema untouched.
    pub transactional_ddl: bool,
    /// How concurrent runners are kept apart.
    pub lock: LockKind,
    /// The backend has schemas (namespaces) that the history table may live in.
    pub schemas: bool,
    /// Unquoted identifiers are case-insensitive and compared that way by the diff (SQLite).
    #[serde(default)]
    pub case_insensitive_identifiers: bool,
    /// Indexes can be built and dropped without blocking writes to their table (PostgreSQL's
    /// `CONCURRENTLY`), so [`RenderOptions::concurrent_indexes`] can be honoured.
    #[serde(default)]
    pub concurrent_indexes: bool,
}

impl Capabilities {
    /// A backend with transactional DDL and no schemas that locks with `lock`; adjust the rest
    /// with the `with_*` methods.
    pub fn new(lock: LockKind) -> Self {
        Capabilities {
            transactional_ddl: true,
            lock,
            schemas: false,
            case_insensitive_identifiers: false,
            concurrent_indexes: false,
        }
    }

    /// Set whether indexes can be built and dropped without blocking writes.
    #[must_use]
    pub fn with_concurrent_indexes(mut self, yes: bool) -> Self {
        self.concurrent_indexes = yes;
        self
    }

    /// Set whether identifiers compare case-insensitively.
    #[must_use]
    pub fn with_case_insensitive_identifiers(mut self, yes: bool) -> Self {
        self.case_insensitive_identifiers = yes;
        self
    }

    /// Set whether DDL takes part in transactions.
    #[must_use]
    pub fn with_transactional_ddl(mut self, transactional_ddl: bool) -> Self {
        self.transactional_ddl = transactional_ddl;
        self
    }

    /// Set whether the backend has schemas.
    #[must_use]
    pub fn with_schemas(mut self, schemas: bool) -> Self {
        self.schemas = schemas;
        self
    }
}

/// One statement a dialect renders for a declarative change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// What running it means.
    pub kind: StatementKind,
    /// Whether it may run inside the transaction that holds the other statements. Statements
    /// that may not (SQLite `PRAGMA foreign_keys`, PostgreSQL `ALTER TYPE ... ADD VALUE` on old
    /// servers, `CREATE INDEX CONCURRENTLY`) run before or after it, outside.
    pub transactional: bool,
    /// Data this statement may destroy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard: Option<Hazard>,
    /// It builds or drops an object while other sessions keep writing (PostgreSQL's
    /// `CREATE INDEX CONCURRENTLY`). Such a statement runs outside any transaction, may take
    /// long, and may leave a partial object behind when it fails, so it is never grouped with
    /// transactional statements: `apply` runs it on its own and never runs it to restore
    /// state after a failure, and a generated migration gets it in a file of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub concurrent: bool,
    /// What to do when it fails besides fixing the cause, when a failure leaves something
    /// behind (an INVALID index after a failed concurrent build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_hint: Option<String>,
    /// It changes only the connection's state, and a later statement of the same plan sets it
    /// back (SQLite's `PRAGMA foreign_keys = OFF` before a rebuild): no change to the database
    /// stays behind it, even when the change fails.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session_setting: bool,
    /// Lint rules the statement breaks as the lint reads it, with the dialect's reason for
    /// writing it so anyway (the `DROP TABLE` of a rebuild that copied every row first). A
    /// generated migration carries each as a `-- godwit:allow` comment with the reason above
    /// it, so that `godwit migrate` accepts what godwit wrote and the file says why. Never
    /// set on a statement that loses data the desired schema gives up: that is for the user to
    /// acknowledge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lint_allowances: Vec<LintAllowance>,
}

impl Statement {
    /// A statement to execute inside the transaction.
    pub fn execute(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            kind: StatementKind::Execute,
            transactional: true,
            hazard: None,
            concurrent: false,
            failure_hint: None,
            session_setting: false,
            lint_allowances: Vec::new(),
        }
    }

    /// A query that must return no rows, or the whole change is rolled back with `message`
    /// (SQLite's `PRAGMA foreign_key_check` after a rebuild, a row-count comparison).
    pub fn assert_empty(sql: impl Into<String>, message: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            kind: StatementKind::AssertEmpty {
                message: message.into(),
            },
            transactional: true,
            hazard: None,
            concurrent: false,
            failure_hint: None,
            session_setting: false,
            lint_allowances: Vec::new(),
        }
    }

    /// The same statement, to run outside the transaction.
    #[must_use]
    pub fn outside_transaction(mut self) -> Self {
        self.transactional = false;
        self
    }

    /// The same statement as a [`Statement::session_setting`] that runs outside the
    /// transaction.
    #[must_use]
    pub fn session_setting(mut self) -> Self {
        self.transactional = false;
        self.session_setting = true;
        self
    }

    /// The same statement, marked as running concurrently with other sessions' writes (see
    /// [`Statement::concurrent`]); it runs outside the transaction.
    #[must_use]
    pub fn concurrently(mut self) -> Self {
        self.transactional = false;
        self.concurrent = true;
        self
    }

    /// The same statement, with advice for when it fails.
    #[must_use]
    pub fn with_failure_hint(mut self, hint: impl Into<String>) -> Self {
        self.failure_hint = Some(hint.into());
        self
    }

    /// The same statement, marked as possibly destroying data.
    #[must_use]
    pub fn with_hazard(mut self, hazard: Hazard) -> Self {
        self.hazard = Some(hazard);
        self
    }

    /// The same statement, allowed to break the lint rule `rule` (its id, `drop-table`) for
    /// `reason`: see [`Statement::lint_allowances`].
    #[must_use]
    pub fn allowing_lint(mut self, rule: &str, reason: impl Into<String>) -> Self {
        self.lint_allowances.push(LintAllowance {
            rule: rule.to_string(),
            reason: reason.into(),
        });
        self
    }
}

/// A lint rule a rendered statement breaks on purpose, and why: see
/// [`Statement::lint_allowances`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LintAllowance {
    /// The rule's id (`drop-table`).
    pub rule: String,
    /// Why the statement is written so: what makes it lose nothing, or the lock it takes and
    /// how to avoid it. One sentence, for the reader of the migration file.
    pub reason: String,
}

/// What a [`Statement`] is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StatementKind {
    /// Execute it.
    Execute,
    /// Run it as a query; any row means a check failed.
    AssertEmpty {
        /// What failed, for the error.
        message: String,
    },
}

/// Data a statement may destroy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hazard {
    /// What kind of loss.
    pub kind: HazardKind,
    /// A sentence naming the object (`drops table users`).
    pub description: String,
    /// A query returning one row with one integer: how many rows would lose data, or, for
    /// the kinds that rows make fail ([`HazardKind::AddConstraint`],
    /// [`HazardKind::RemoveEnumValue`], [`HazardKind::ConvertType`]), how many would make the
    /// statement fail. When it returns 0 the statement is not destructive after all (adding
    /// NOT NULL to a column with no NULLs), and godwit does not ask. NULL means the rows
    /// cannot be counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_query: Option<String>,
    /// For a statement that may both lose data and fail (a type change that rounds some
    /// values and cannot hold others, a SQLite rebuild that drops a column and adds a
    /// constraint): a query counting the rows that would make it fail, in the form of
    /// `count_query`. Any such row refuses the change before anything runs, with or without
    /// consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_query: Option<String>,
}

impl Hazard {
    /// A hazard with a query counting the affected rows.
    pub fn new(
        kind: HazardKind,
        description: impl Into<String>,
        count_query: Option<String>,
    ) -> Self {
        Hazard {
            kind,
            description: description.into(),
            count_query,
            failing_query: None,
        }
    }

    /// The same hazard, with a query counting the rows that would make the statement fail:
    /// see [`Hazard::failing_query`].
    #[must_use]
    pub fn with_failing_query(mut self, query: Option<String>) -> Self {
        self.failing_query = query;
        self
    }
}

/// Kinds of data loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HazardKind {
    /// A table and its rows go away.
    DropTable,
    /// A column and its values go away.
    DropColumn,
    /// A type change may truncate or fail on existing values.
    NarrowType,
    /// A NOT NULL (or other) constraint is added that existing rows may violate.
    AddConstraint,
    /// Enum values still used by rows are removed.
    RemoveEnumValue,
    /// A column changes to a type that takes every value as it is or fails on it (text to an
    /// enum whose labels it must hold, a wider integer to a narrower one): like an added
    /// constraint, it loses nothing when it succeeds, and rows holding a value the new type
    /// cannot take make it fail.
    ConvertType,
    /// Other objects go away (views, indexes, types) with no row data.
    DropObject,
    /// The engine copies the whole table to make the change (MySQL's `ALGORITHM=COPY`):
    /// nothing is lost, but writes to the table wait for the copy, which takes as long as
    /// the table is big. Shown with the plan; it needs no consent.
    CopyTable,
}

/// How a plan is made and rendered, beyond what the two schemas say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Create and drop the indexes of tables and materialized views that already exist
    /// without blocking writes to them (a materialized view's refresh), as
    /// [`Statement::concurrent`] statements. Indexes of tables created by the same change stay
    /// plain: nobody writes to those yet. So do those of a materialized view the change
    /// creates or recreates, which it gets in the same transaction. Only for dialects whose
    /// [`Capabilities::concurrent_indexes`] is set.
    #[serde(default)]
    pub concurrent_indexes: bool,
    /// Which roles' privileges and which owners the plan changes; the diff sees the others as
    /// the database holds them.
    #[serde(default)]
    pub scope: crate::declarative::scope::Scope,
}

impl RenderOptions {
    /// Set which roles' privileges and which owners the plan changes.
    #[must_use]
    pub fn with_scope(mut self, scope: crate::declarative::scope::Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Set whether index changes on existing tables are rendered concurrently.
    #[must_use]
    pub fn with_concurrent_indexes(mut self, yes: bool) -> Self {
        self.concurrent_indexes = yes;
        self
    }
}

/// A dialect cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The dialect does not support declarative schemas at all.
    #[error("the {dialect} backend does not support declarative schema changes")]
    Unsupported {
        /// The dialect's name.
        dialect: &'static str,
    },
    /// One change cannot be expressed on this engine.
    #[error("{0}")]
    Impossible(String),
}

/// How a backend serialises concurrent runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LockKind {
    /// A session-level lock held by the server for as long as the connection lives (PostgreSQL
    /// advisory locks): it cannot go stale, because a dead runner's connection releases it.
    Session,
    /// A row in a lock table, written under an exclusive write transaction: it survives the
    /// process that took it, so liveness has to be judged from its owner (SQLite).
    Row,
}

/// The statements that set, roll back to and release one savepoint, so a statement that
/// fails inside a transaction undoes only itself ([`Dialect::savepoint`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Savepoint {
    /// Sets it.
    pub set: String,
    /// Undoes what ran since it was set, keeping the transaction open.
    pub rollback_to: String,
    /// Forgets it, keeping what ran since.
    pub release: String,
}

/// The upgrade steps of the default history table: layout 2 adds `backup` with `ALTER TABLE
/// ... ADD COLUMN`, which SQLite and PostgreSQL both accept; layout 3 changes nothing, as the
/// default time type is the text layouts 1 and 2 hold. A dialect overriding
/// [`Dialect::history_upgrade_ddl`] for one step hands the others to this.
pub fn portable_history_upgrade_ddl<D: Dialect + ?Sized>(
    dialect: &D,
    table: &HistoryTable,
    version: i64,
) -> Vec<String> {
    let history = dialect.qualified_name(table.schema.as_deref(), &table.name);
    match version {
        2 => vec![format!("ALTER TABLE {history} ADD COLUMN backup TEXT")],
        _ => Vec::new(),
    }
}

/// An index that a failed or interrupted `CREATE INDEX CONCURRENTLY` left behind: it exists,
/// takes writes, and is never used by queries. A retry with `IF NOT EXISTS` would skip it and
/// report success, so godwit drops it before running the migration that creates it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidIndex {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// The table it indexes.
    pub table: String,
}

impl std::fmt::Display for InvalidIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "index {}.{} on {} is invalid (a concurrent build failed, was interrupted or is still running)",
            self.schema, self.name, self.table
        )
    }
}

/// `ident` in the SQL standard's double quotes, a quote inside doubled: a
/// [`Dialect::quote_identifier`] for the engines that follow the standard.
pub fn double_quoted(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// godwit's history tables in types that SQLite and PostgreSQL both accept, with the
/// dialect's [`Dialect::history_time_type`] for times and its quoting for names: a
/// [`Dialect::history_table_ddl`] for engines that take `TEXT PRIMARY KEY` and
/// `CREATE SCHEMA IF NOT EXISTS`.
pub fn portable_history_ddl(dialect: &dyn Dialect, table: &HistoryTable) -> Vec<String> {
    let time = dialect.history_time_type();
    let history = dialect.qualified_name(table.schema.as_deref(), &table.name);
    let meta = dialect.qualified_name(table.schema.as_deref(), &table.meta_name());
    let mut statements = Vec::new();
    if let (true, Some(schema)) = (dialect.capabilities().schemas, table.schema.as_deref()) {
        statements.push(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            dialect.quote_identifier(schema)
        ));
    }
    statements.push(format!(
        "CREATE TABLE IF NOT EXISTS {history} (\n\
         \x20   version BIGINT PRIMARY KEY,\n\
         \x20   name TEXT NOT NULL,\n\
         \x20   checksum TEXT NOT NULL,\n\
         \x20   down_checksum TEXT,\n\
         \x20   down_script TEXT,\n\
         \x20   transactional BIGINT NOT NULL,\n\
         \x20   status TEXT NOT NULL,\n\
         \x20   started_at {time} NOT NULL,\n\
         \x20   finished_at {time},\n\
         \x20   duration_ms BIGINT,\n\
         \x20   error TEXT,\n\
         \x20   error_statement TEXT,\n\
         \x20   error_line BIGINT,\n\
         \x20   previous_checksums TEXT,\n\
         \x20   applied_by TEXT,\n\
         \x20   backup TEXT\n\
         )"
    ));
    statements.push(format!(
        "CREATE TABLE IF NOT EXISTS {meta} (\n\
         \x20   key TEXT PRIMARY KEY,\n\
         \x20   value TEXT NOT NULL\n\
         )"
    ));
    statements
}

/// SQL text and facts for one database engine. Implementations must be pure: every method is a
/// function of its arguments, with no I/O, so dialects are cheap to snapshot-test and to host
/// behind a plugin boundary.
pub trait Dialect: Send + Sync + Debug {
    /// The backend's short name, as used in URLs and messages (`sqlite`, `postgres`).
    fn name(&self) -> &'static str;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Quote an identifier so that any name, including keywords and names with quotes in them,
    /// is taken literally. Engines that follow the SQL standard return [`double_quoted`].
    fn quote_identifier(&self, ident: &str) -> String;

    /// The bound-parameter marker for the 1-based parameter `index`.
    fn placeholder(&self, index: usize) -> String;

    /// The schema-qualified, quoted name of a table.
    fn qualified_name(&self, schema: Option<&str>, name: &str) -> String {
        match schema {
            Some(schema) => format!(
                "{}.{}",
                self.quote_identifier(schema),
                self.quote_identifier(name)
            ),
            None => self.quote_identifier(name),
        }
    }

    /// A query returning one row when `table` exists and none otherwise.
    fn table_exists_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>);

    /// A query for whatever already holds `name` (in `schema`, or wherever an unqualified
    /// name resolves, system catalogs included), asked before godwit creates a history table
    /// of that name: no row when nothing does; otherwise a row whose first column describes the
    /// object for messages (`table pg_catalog.pg_class`) and whose second is 1 when it is a
    /// table where godwit would create its own (so it may be godwit's), else 0. The default,
    /// [`Dialect::table_exists_query`], sees only tables where godwit creates them.
    fn name_holder_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        self.table_exists_query(schema, name)
    }

    /// The type of the history table's `started_at` and `finished_at` columns. godwit binds
    /// times as RFC 3339 text in UTC and casts them to this type; the default, `TEXT`, stores
    /// that text as it is.
    fn history_time_type(&self) -> &'static str {
        "TEXT"
    }

    /// Whether a transaction rolls back everything `script` does, so that a migration of it
    /// runs in one. The default is [`Capabilities::transactional_ddl`] for every script; an
    /// engine without transactional DDL says yes of a script whose statements all take part
    /// in transactions (MySQL's DML), so only migrations that change the schema run outside
    /// one.
    fn transactional_script(&self, script: &str) -> bool {
        let _ = script;
        self.capabilities().transactional_ddl
    }

    /// The expression that turns a time bound at `placeholder` as RFC 3339 text in UTC
    /// (`2024-01-01T12:00:00.000Z`) into a value of [`Dialect::history_time_type`]. The
    /// default casts it; an engine whose cast refuses that text (MySQL, in strict mode) parses
    /// it.
    fn history_time_value(&self, placeholder: &str) -> String {
        format!("CAST({placeholder} AS {})", self.history_time_type())
    }

    /// The clause that ends an `INSERT ... VALUES (...)` so that a row whose `key` column is
    /// already taken has its `columns` updated to the inserted values instead: one statement,
    /// so a crash cannot fall between a delete and an insert. The default is the upsert
    /// SQLite (3.24+) and PostgreSQL (9.5+) share, `ON CONFLICT (key) DO UPDATE`.
    fn upsert_clause(&self, key: &str, columns: &[&str]) -> String {
        let updates = columns
            .iter()
            .map(|column| format!("{column} = excluded.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("ON CONFLICT ({key}) DO UPDATE SET {updates}")
    }

    /// An expression reading the history's time column `column` (of
    /// [`Dialect::history_time_type`]) back as the RFC 3339 text in UTC, with milliseconds,
    /// that godwit wrote (`2024-01-01T12:00:00.000Z`), whatever the session's time zone and
    /// date style. The default reads the text column as it is.
    fn history_time_text(&self, column: &str) -> String {
        column.to_string()
    }

    /// Statements that create godwit's history tables when they are missing. They must be
    /// idempotent (`IF NOT EXISTS`), because two runners may race to create them, and give
    /// the columns [`crate::history`] reads and writes. [`portable_history_ddl`] is a version
    /// in types SQLite and PostgreSQL both accept; an engine whose text keys need a length
    /// (MySQL) writes its own.
    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String>;

    /// A query listing the indexes that a failed or interrupted concurrent build left invalid,
    /// one row per index of three text columns: schema, index, table. `None` (the default)
    /// when the engine builds every index atomically.
    fn invalid_indexes_query(&self) -> Option<String> {
        None
    }

    /// The statement that drops an invalid index before the migration that builds it runs
    /// again. It runs outside a transaction.
    fn drop_invalid_index(&self, index: &InvalidIndex) -> String {
        format!(
            "DROP INDEX {}",
            self.qualified_name(Some(&index.schema), &index.name)
        )
    }

    /// Statements that turn a history table of the layout before `version` into `version`
    /// (see [`LAYOUT_VERSION`](crate::history::LAYOUT_VERSION)); they run in one transaction
    /// with the layout's new `_meta` row, under the migration lock. The default,
    /// [`portable_history_upgrade_ddl`], matches the default [`Dialect::history_table_ddl`]; a
    /// dialect with a [`Dialect::history_time_type`] of its own converts the time columns to
    /// it at layout 3, keeping every row.
    fn history_upgrade_ddl(&self, table: &HistoryTable, version: i64) -> Vec<String> {
        portable_history_upgrade_ddl(self, table, version)
    }

    /// Cut a schema file into statements with this engine's own lexical rules, and class
    /// each one: schema, code that runs as it is read, or refused ([`crate::screen`]). Nothing
    /// of the file runs before this says so, and the statements run in passes are the ones
    /// returned here, so the cut must be the engine's. The default cuts with the generic
    /// splitter ([`crate::screen::split`]) and trusts every statement: a dialect that does
    /// not screen runs its schema files as they are.
    fn screen_schema(&self, sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
        Ok(crate::screen::split(sql)?
            .into_iter()
            .map(|(line, text)| SchemaStatement::new(line, text, StatementClass::Schema))
            .collect())
    }

    /// A query whose rows describe what, besides a schema file's text, decides the schema a
    /// scratch database of this engine reads back from it: the server's version, its
    /// configuration, the role and search path a scratch database is read with, its encoding,
    /// the extensions it offers. It runs on the scratch host before a cached desired schema
    /// is used ([`crate::declarative::SchemaCache`]), and any change in its rows is a cache
    /// miss, so it must name everything that could change normalisation, erring towards too
    /// much. `None`, the default, caches nothing.
    fn normalisation_fingerprint_query(&self) -> Option<&'static str> {
        None
    }

    /// The statements of a savepoint named `name` (an identifier that needs no quoting). The
    /// default is the SQL standard's `SAVEPOINT`, `ROLLBACK TO SAVEPOINT` and
    /// `RELEASE SAVEPOINT`.
    fn savepoint(&self, name: &str) -> Savepoint {
        Savepoint {
            set: format!("SAVEPOINT {name}"),
            rollback_to: format!("ROLLBACK TO SAVEPOINT {name}"),
            release: format!("RELEASE SAVEPOINT {name}"),
        }
    }

    /// How the declarative diff compares names on this engine, and which changes of a table
    /// break the views and triggers that read it. The default: names as the capabilities
    /// say, and every change of a table breaks them ([`Dependants::AnyChange`]), which
    /// makes them again more often than needed but never leaves one in the way.
    fn diff_options(&self) -> DiffOptions {
        DiffOptions {
            case_insensitive: self.capabilities().case_insensitive_identifiers,
            dependants: Dependants::AnyChange,
        }
    }

    /// Queries that read the whole catalog. Their number is fixed (it must not grow with the
    /// number of tables); [`Dialect::schema_from_catalog`] turns their results into a model.
    /// The default is none: a backend without declarative support.
    fn introspection_queries(&self) -> Vec<String> {
        Vec::new()
    }

    /// Queries for what the catalog's tables do not show, chosen from the results of
    /// [`Dialect::introspection_queries`] (MySQL's `SHOW CREATE TABLE` of the tables whose
    /// indexes may carry a `USING` clause no catalog column records). Unlike those, their
    /// number may grow with the objects the catalog lists, so a dialect asks only for what it
    /// cannot read otherwise. Their results follow the catalog's in
    /// [`Dialect::schema_from_catalog`]. The default is none.
    fn introspection_detail_queries(&self, catalog: &[Vec<Row>]) -> Vec<String> {
        let _ = catalog;
        Vec::new()
    }

    /// Build the schema model from the results of [`Dialect::introspection_queries`], one
    /// row list per query, in order, followed by those of
    /// [`Dialect::introspection_detail_queries`].
    fn schema_from_catalog(&self, results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
        let _ = results;
        Err(RenderError::Unsupported {
            dialect: self.name(),
        })
    }

    /// A check constraint's condition (`age > 0`) as this dialect's schema model holds it in
    /// [`Check::expression`](crate::schema::Check): the condition itself by default (SQLite's
    /// catalog text), the whole definition where the catalog gives that (PostgreSQL's
    /// `pg_get_constraintdef`, `CHECK (age > 0)`).
    fn check_definition(&self, condition: &str) -> String {
        condition.to_string()
    }

    /// A query with one parameter, a type's name as an operation declares it, returning one
    /// row whose one value is NULL when the engine knows no such type. `None` when the engine
    /// accepts any type name (SQLite, by design), so there is nothing to check.
    fn type_check_query(&self) -> Option<String> {
        None
    }

    /// A statement that, run in an open transaction, lets that transaction's commit return
    /// before the engine has made it durable (PostgreSQL: `SET LOCAL synchronous_commit =
    /// off`). A backfill runs it in each batch: a batch lost in a crash of the server is lost
    /// with the progress row it commits with, so the next run does it again, and the batch no
    /// longer waits for a flush of the log, which is most of what a batch of a thousand rows
    /// costs beyond the work itself. Later commits wait for the log up to them, so what
    /// follows the backfill is as durable as ever. `None` (the default) when the engine has no
    /// such setting for one transaction.
    fn unflushed_commit(&self) -> Option<String> {
        None
    }

    /// `expression` read as text: how a backfill reads the keys it walks, whatever their type,
    /// so they can be recorded and bound again ([`Dialect::key_bind`]). The default is the
    /// standard `CAST(expression AS TEXT)`.
    fn text_cast(&self, expression: &str) -> String {
        format!("CAST({expression} AS TEXT)")
    }

    /// The value of a key column of type `data_type`, bound as text ([`Dialect::text_cast`])
    /// at `placeholder`, as an expression comparable with the column, so a backfill's keyset
    /// bound compares as the column does (numbers as numbers) and can use its index. The
    /// default casts to the column's type, which SQLite and PostgreSQL accept for any type a
    /// column can have; a column without a declared type takes the text as it is.
    fn key_bind(&self, placeholder: &str, data_type: &str) -> String {
        if data_type.trim().is_empty() {
            placeholder.to_string()
        } else {
            format!("CAST({placeholder} AS {data_type})")
        }
    }

    /// Render changes (in the order the diff produced them) as statements, as `options` ask.
    fn render(
        &self,
        changes: &[Change],
        options: &RenderOptions,
    ) -> Result<Vec<Statement>, RenderError> {
        let _ = (changes, options);
        Err(RenderError::Unsupported {
            dialect: self.name(),
        })
    }

    /// SQL that fails, saying `message`, when `query` returns a row: how a check
    /// ([`StatementKind::AssertEmpty`]) runs inside a migration file, where godwit does not
    /// read query results. `None` when the engine has no way to; the file then carries the
    /// check as a comment for the reader.
    fn assertion(&self, query: &str, message: &str) -> Option<String> {
        let _ = (query, message);
        None
    }

    /// The lint's view of this engine, for a dialect that runs in the process that parses:
    /// its grammar, its rules and the facts the shared rules need. It serves the defaults of
    /// the lint methods below, which are all core calls; a dialect behind a process or
    /// library boundary, where syntax trees cannot cross, implements those instead. The
    /// default is [`GenericLint`]: sqlparser's generic grammar and the shared rules.
    fn lint_support(&self) -> &dyn LintRules {
        &GenericLint
    }

    /// Lint one script with this engine's rules ([`crate::lint`]).
    fn lint(&self, input: &LintInput<'_>, config: &LintConfig) -> Vec<Finding> {
        crate::lint::lint(self.lint_support(), input, config)
    }

    /// Every rule [`Dialect::lint`] reports, in a stable order: for `godwit lint --list` and
    /// `--explain`, and to tell a misspelt rule id from another dialect's.
    fn lint_rules(&self) -> Vec<Rule> {
        crate::lint::rules_of(self.lint_support())
    }

    /// The statements of a script with their lines, on the lint's parse
    /// ([`crate::lint::outline`]).
    fn outline(&self, sql: &str) -> Vec<OutlineStatement> {
        crate::lint::outline(self.lint_support(), sql)
    }

    /// The lines of the statements of a script that end a transaction, on the lint's parse
    /// ([`crate::lint::transaction_ends`]).
    fn transaction_ends(&self, sql: &str) -> Vec<usize> {
        crate::lint::transaction_ends(self.lint_support(), sql)
    }

    /// The tables a script creates and the names it frees, on the lint's parse
    /// ([`crate::lint::table_changes`]).
    fn table_changes(&self, sql: &str) -> Vec<TableChange> {
        crate::lint::table_changes(self.lint_support(), sql)
    }

    /// Render a whole schema as DDL that recreates it (`godwit inspect`). The default renders
    /// the diff from an empty schema.
    fn render_schema(&self, schema: &Schema) -> Result<String, RenderError> {
        let changes = crate::diff::diff(
            &Schema::default(),
            schema,
            &crate::diff::Renames::default(),
            self.diff_options(),
        );
        let mut out = String::new();
        for statement in self.render(&changes, &RenderOptions::default())? {
            if statement.kind == StatementKind::Execute && statement.transactional {
                out.push_str(statement.sql.trim_end());
                if !statement.sql.trim_end().ends_with(';') {
                    out.push(';');
                }
                out.push_str("\n\n");
            }
        }
        Ok(out)
    }
}

/// What core's unit tests share: a dialect for planning and reading scripts, with no engine
/// behind it.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Capabilities, Dialect, LockKind};
    use crate::history_table::HistoryTable;
    use crate::store::Value;

    /// A dialect for scripts, reading them with the lint's generic grammar: `checks` says
    /// whether it can turn a check into SQL.
    #[derive(Debug)]
    pub(crate) struct Script {
        pub(crate) checks: bool,
    }

    impl Dialect for Script {
        fn name(&self) -> &'static str {
            "script"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new(LockKind::Row)
        }
        fn placeholder(&self, _: usize) -> String {
            "?".into()
        }
        fn table_exists_query(&self, _: Option<&str>, _: &str) -> (String, Vec<Value>) {
            (String::new(), Vec::new())
        }
        fn quote_identifier(&self, ident: &str) -> String {
            super::double_quoted(ident)
        }
        fn history_table_ddl(&self, _: &HistoryTable) -> Vec<String> {
            Vec::new()
        }
        fn assertion(&self, query: &str, message: &str) -> Option<String> {
            self.checks
                .then(|| format!("SELECT fail({message:?}) WHERE EXISTS ({query})"))
        }
    }
}
