//! The schema model: what a database contains, as introspected from its catalog.
//!
//! Both sides of a declarative diff are read from a real database of the same engine (the
//! desired schema is applied to a scratch database first), so every text field here is the
//! engine's own normalised spelling: PostgreSQL's `format_type`/`pg_get_expr`/`pg_get_*def`, or
//! SQLite's catalog text. Comparing two models is then plain equality, and rendering can reuse
//! a definition the engine produced.

use serde::{Deserialize, Serialize};

mod access;

pub use self::access::{Grant, Owner, Policy, PolicyCommand, Relation, RelationKind};

/// A possibly schema-qualified object name. `schema` is `None` on engines without schemas.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Name {
    /// Schema (namespace), if the engine has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Object name.
    pub name: String,
}

impl Name {
    /// An unqualified name.
    pub fn bare(name: impl Into<String>) -> Self {
        Name {
            schema: None,
            name: name.into(),
        }
    }

    /// A name in `schema`.
    pub fn qualified(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Name {
            schema: Some(schema.into()),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Everything godwit manages in one database. Lists are kept sorted by name so two models of
/// the same database compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schema {
    /// Schemas (namespaces) besides the engine's default ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Extensions (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Enum types (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    /// Domains (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
    /// Sequences not owned by a column (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// Functions and procedures (PostgreSQL) and events (MySQL), by their full definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    /// Tables, with their columns, constraints and indexes.
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Views and materialized views.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Triggers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Comments on objects other than tables and columns (whose comments are part of their
    /// [`Table`]). They are kept apart from the objects so that a comment never takes part in
    /// deciding whether an object changed: a new comment is a `COMMENT ON`, never a rebuild.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
    /// Row-level security policies (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Privileges granted on relations and their columns (PostgreSQL), one per role and
    /// privilege. Which roles' privileges a plan changes is the user's choice
    /// ([`Scope`](crate::declarative::Scope)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Owners of relations, where they are not the role that reads the database (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// What the database holds that godwit does not manage (rules, extended statistics):
    /// never diffed, and listed so that a schema file relying on them is told so
    /// rather than silently pushed without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged: Vec<Unmanaged>,
}

impl Schema {
    /// Sort every list by name, so equality does not depend on catalog order.
    pub fn normalize(&mut self) {
        self.schemas.sort();
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        self.enums.sort_by(|a, b| a.name.cmp(&b.name));
        self.domains.sort_by(|a, b| a.name.cmp(&b.name));
        self.sequences.sort_by(|a, b| a.name.cmp(&b.name));
        self.functions.sort_by(|a, b| a.signature.cmp(&b.signature));
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.normalize();
        }
        self.views.sort_by(|a, b| a.name.cmp(&b.name));
        for view in &mut self.views {
            view.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.triggers
            .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        self.comments.sort_by(|a, b| a.on.cmp(&b.on));
        self.policies
            .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        self.grants.sort();
        self.owners.sort();
        self.unmanaged.sort();
    }

    /// The table called `name`.
    pub fn table(&self, name: &Name) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// Every index: those of tables, then those of materialized views.
    pub fn indexes(&self) -> impl Iterator<Item = &Index> + Clone {
        (self.tables.iter().flat_map(|t| &t.indexes))
            .chain(self.views.iter().flat_map(|v| &v.indexes))
    }
}

/// An extension (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Its name.
    pub name: String,
    /// The schema it was installed into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// An enum type (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    /// Its name.
    pub name: Name,
    /// Its labels, in sort order.
    pub values: Vec<String>,
}

/// A domain (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Its name.
    pub name: Name,
    /// The base type, as the engine formats it.
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Check constraints, by name and definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// A free-standing sequence (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    /// Its name.
    pub name: Name,
    /// `CREATE SEQUENCE` options as the engine reports them (type, start, increment, ...).
    pub definition: String,
}

/// A function or procedure (PostgreSQL), or an event (MySQL): code kept by its full
/// definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// What identifies it: the name with argument types (`public.f(integer)`), or for a MySQL
    /// event `event <name>`.
    pub signature: String,
    /// Its name.
    pub name: Name,
    /// What it returns, as the engine prints it (`integer`, `SETOF users`,
    /// `TABLE(id integer)`); `None` for a procedure. `CREATE OR REPLACE` cannot change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    /// The complete `CREATE OR REPLACE FUNCTION` statement.
    pub definition: String,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Its name.
    pub name: Name,
    /// Columns in their physical order. A virtual table has those its dialect reads from its
    /// module's arguments ([`VirtualTable`]).
    pub columns: Vec<Column>,
    /// Primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Foreign keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique constraints (not unique indexes, which are in `indexes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    /// Check constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Indexes that are not backing a constraint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Table comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// SQLite `STRICT`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// SQLite `WITHOUT ROWID`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_rowid: bool,
    /// The module that implements a virtual table (SQLite `CREATE VIRTUAL TABLE ... USING`),
    /// and its arguments. `None` for an ordinary table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_table: Option<VirtualTable>,
    /// Constraints and options the model has no field for, as definitions the engine gave
    /// (PostgreSQL exclusion constraints, partitioning), compared and recreated verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_constraints: Vec<Check>,
    /// The tables it inherits from, in order (PostgreSQL `INHERITS`; partitions are not
    /// children in this sense). Their columns it does not declare itself are marked
    /// [`Column::inherited`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<Name>,
    /// PostgreSQL `UNLOGGED`: not written to the write-ahead log, emptied after a crash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlogged: bool,
    /// PostgreSQL `ENABLE ROW LEVEL SECURITY`: its [`Policy`]s decide which rows a role sees.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub row_security: bool,
    /// PostgreSQL `FORCE ROW LEVEL SECURITY`: the policies bind the table's owner too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_row_security: bool,
    /// MySQL `ENGINE` (`InnoDB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// MySQL's default collation of the table (`DEFAULT CHARSET` follows from it): what new
    /// columns get. Each text column also names its own ([`Column::collation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// MySQL `ROW_FORMAT`, when the table names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_format: Option<String>,
    /// MySQL `KEY_BLOCK_SIZE` (kilobytes), when the table names one: the page size of an
    /// InnoDB table compressed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_block_size: Option<u32>,
    /// MySQL partitioning, as the dialect writes the `PARTITION BY` clause from the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<String>,
}

impl Table {
    /// A table with `columns` and nothing else.
    pub fn new(name: Name, columns: Vec<Column>) -> Self {
        Table {
            name,
            columns,
            primary_key: None,
            foreign_keys: Vec::new(),
            uniques: Vec::new(),
            checks: Vec::new(),
            indexes: Vec::new(),
            comment: None,
            strict: false,
            without_rowid: false,
            virtual_table: None,
            other_constraints: Vec::new(),
            inherits: Vec::new(),
            unlogged: false,
            row_security: false,
            force_row_security: false,
            engine: None,
            collation: None,
            row_format: None,
            key_block_size: None,
            partitioning: None,
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn normalize(&mut self) {
        self.foreign_keys
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.uniques
            .sort_by(|a, b| (&a.name, &a.columns).cmp(&(&b.name, &b.columns)));
        self.checks
            .sort_by(|a, b| (&a.name, &a.expression).cmp(&(&b.name, &b.expression)));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.other_constraints.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// What makes a table virtual: the module that stores and answers for its rows (SQLite's
/// `fts5`, `rtree`), and the module's arguments.
///
/// Arguments are the module's own syntax, so only the dialect can read them: it spells each one
/// canonically, so that writing the same table differently is no change, and moves the ones it
/// reads as columns (FTS5's) into [`Table::columns`], where the diff sees a column added or
/// dropped as it does for any table. What stays here is compared as a whole: any difference is
/// a change of the table's options ([`TableChange::options_changed`](crate::diff::TableChange)),
/// which the dialect carries out as its module allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualTable {
    /// The module's name, as the dialect spells it (`fts5`).
    pub module: String,
    /// The arguments not read as columns, in their canonical spelling and order
    /// (`content=posts`, `tokenize='porter unicode61'`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type as the engine spells it (`integer`, `character varying(20)`, `TEXT`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression, as the engine stores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Collation, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Generated column expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Identity column (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The sequence the column owns and its default draws from, in the table's schema: what
    /// PostgreSQL's `serial` leaves behind. The engine chooses its name (`<table>_<column>_seq`,
    /// cut to fit, numbered when taken, and kept when the table or column is renamed), so the
    /// diff compares only whether a column has one, and not its name nor the default that
    /// names it. Such a sequence is never among [`Schema::sequences`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_sequence: Option<String>,
    /// SQLite `AUTOINCREMENT` on an `INTEGER PRIMARY KEY`; MySQL `AUTO_INCREMENT`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub autoincrement: bool,
    /// MySQL `ON UPDATE` expression (`current_timestamp()`), set on every update of the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// SQLite `NOT NULL ON CONFLICT ...`: what an insert or update of NULL does instead of
    /// failing (`REPLACE` stores the default). Only on a column that is not nullable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_conflict: Option<OnConflict>,
    /// Column comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The column exists only because a parent table has it (PostgreSQL inheritance): the
    /// table did not declare it, so it goes when the parent drops it. A column both declared
    /// and inherited is not marked, and a parent dropping it leaves it to the table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

impl Column {
    /// A nullable column with no default.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            collation: None,
            generated: None,
            identity: None,
            owned_sequence: None,
            autoincrement: false,
            on_update: None,
            not_null_conflict: None,
            comment: None,
            inherited: false,
        }
    }
}

/// A generated column's expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    /// The expression.
    pub expression: String,
    /// `STORED` (true) or `VIRTUAL` (false).
    pub stored: bool,
}

/// An identity column (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `GENERATED ALWAYS` (true) or `BY DEFAULT` (false).
    pub always: bool,
    /// Sequence options, as the engine reports them, when not the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    /// Constraint name, when the engine has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key columns in order.
    pub columns: Vec<String>,
    /// SQLite `PRIMARY KEY ... ON CONFLICT ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// SQLite `PRIMARY KEY DESC` written on the key's only column. Kept because it changes
    /// what the key is, not only its order: an `INTEGER` column declared so is not an alias
    /// of the rowid, while `PRIMARY KEY (id DESC)` at table level still makes one
    /// (<https://www.sqlite.org/lang_createtable.html#rowid>).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub descending: bool,
    /// PostgreSQL `DEFERRABLE` and `INITIALLY DEFERRED`.
    #[serde(default, flatten)]
    pub deferral: Deferral,
    /// MySQL's comment on the key's index (`PRIMARY KEY (id) COMMENT '...'`): part of the
    /// key's definition there, so a new one makes the key again. (A PostgreSQL constraint's
    /// comment is a [`Comment`], apart from the key.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl PrimaryKey {
    /// A key on `columns`, with no name and no engine-specific clause.
    pub fn new(columns: Vec<String>) -> Self {
        PrimaryKey {
            name: None,
            columns,
            on_conflict: None,
            descending: false,
            deferral: Deferral::default(),
            comment: None,
        }
    }
}

/// When a key or unique constraint is checked (PostgreSQL): by default at the end of each
/// statement; a `DEFERRABLE` one may be checked at commit instead, and an `INITIALLY
/// DEFERRED` one is, unless the transaction says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deferral {
    /// `DEFERRABLE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
}

/// What SQLite does when a row breaks a `PRIMARY KEY`, `UNIQUE` or `NOT NULL` constraint that
/// carries an `ON CONFLICT` clause (<https://www.sqlite.org/lang_conflict.html>). `ABORT` is
/// not a variant: it is what a constraint without the clause does, and one meaning with two
/// spellings would make equal schemas look different.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// `ROLLBACK`: the whole transaction is rolled back.
    Rollback,
    /// `FAIL`: the statement stops, keeping the changes it made before the failing row.
    Fail,
    /// `IGNORE`: the failing row is skipped.
    Ignore,
    /// `REPLACE`: the rows in the way are deleted (for `NOT NULL`, the default is stored).
    Replace,
}

impl OnConflict {
    /// The keyword after `ON CONFLICT`.
    pub fn sql(self) -> &'static str {
        match self {
            OnConflict::Rollback => "ROLLBACK",
            OnConflict::Fail => "FAIL",
            OnConflict::Ignore => "IGNORE",
            OnConflict::Replace => "REPLACE",
        }
    }
}

/// What a foreign key does when the referenced row changes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl FkAction {
    /// The SQL keywords.
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name, when the engine has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub references: Name,
    /// Referenced columns (empty: the referenced table's primary key).
    pub referenced_columns: Vec<String>,
    /// `ON DELETE`.
    #[serde(default)]
    pub on_delete: FkAction,
    /// `ON UPDATE`.
    #[serde(default)]
    pub on_update: FkAction,
    /// `DEFERRABLE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
    /// `MATCH FULL`: a row with some key columns NULL must have all of them NULL (PostgreSQL;
    /// SQLite parses the clause and ignores it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub match_full: bool,
}

impl ForeignKey {
    fn sort_key(&self) -> (&Option<String>, &Vec<String>, &Name) {
        (&self.name, &self.columns, &self.references)
    }
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unique {
    /// Constraint name, when the engine has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Columns.
    pub columns: Vec<String>,
    /// PostgreSQL 15+ `NULLS NOT DISTINCT`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
    /// SQLite `UNIQUE ... ON CONFLICT ...`, on the column or the table constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// PostgreSQL `DEFERRABLE` and `INITIALLY DEFERRED`.
    #[serde(default, flatten)]
    pub deferral: Deferral,
}

/// A check constraint (also used for other constraints kept by definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Constraint name, when the engine has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The expression (or full constraint definition for `other_constraints`).
    pub expression: String,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Its name.
    pub name: Name,
    /// Whether it is unique.
    pub unique: bool,
    /// Key parts: column names, or expressions, with their ordering as written by the engine
    /// (`email`, `lower(email)`, `created_at DESC`).
    pub keys: Vec<String>,
    /// Partial index predicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Access method when not the default (`gin`, `gist`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The complete `CREATE INDEX` statement as the engine gives it; it is what gets executed
    /// and what is compared.
    pub definition: String,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Its name.
    pub name: Name,
    /// Whether it is materialized.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized: bool,
    /// Its query as the engine normalised it.
    pub query: String,
    /// The complete statement that creates it (engine-normalised where the engine offers it).
    pub definition: String,
    /// Tables and views the query reads, so dependants can be dropped and recreated around a
    /// change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Name>,
    /// Indexes of a materialized view (PostgreSQL); a plain view has none. A unique one is
    /// what `REFRESH MATERIALIZED VIEW CONCURRENTLY` needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// Its name.
    pub name: String,
    /// The table or view it is on.
    pub table: Name,
    /// The complete `CREATE TRIGGER` statement.
    pub definition: String,
}

/// A comment on an object that is not a table or a column (PostgreSQL `COMMENT ON`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The object it is on.
    pub on: CommentTarget,
    /// Its text.
    pub text: String,
}

/// The object a [`Comment`] is on. Objects of different kinds may share a name (an index and
/// a type both called `foo`), so the kind is part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommentTarget {
    /// An index.
    Index {
        /// Its name.
        name: Name,
    },
    /// A table constraint (primary key, unique, check, foreign key, exclusion).
    Constraint {
        /// The table it is on.
        table: Name,
        /// Its name.
        name: String,
    },
    /// A view or materialized view.
    View {
        /// Its name.
        name: Name,
        /// Whether it is materialized.
        materialized: bool,
    },
    /// A trigger.
    Trigger {
        /// The table or view it is on.
        table: Name,
        /// Its name.
        name: String,
    },
    /// A function or procedure.
    Routine {
        /// Its name.
        name: Name,
        /// Its signature, as in [`Function::signature`].
        signature: String,
    },
    /// An enum type.
    Type {
        /// Its name.
        name: Name,
    },
    /// A domain.
    Domain {
        /// Its name.
        name: Name,
    },
    /// A sequence.
    Sequence {
        /// Its name.
        name: Name,
    },
}

/// Something in a database that godwit does not manage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unmanaged {
    /// What kind of thing (`rule`, `extended statistics`).
    pub kind: String,
    /// Which one, as the engine names it (`p on public.t`).
    pub object: String,
}
