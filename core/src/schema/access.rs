//! Who may do what with a table: row-level security, its policies, privileges and owners
//! (PostgreSQL).
//!
//! They are kept apart from the objects they protect, as comments are, so that a change of a
//! grant never makes a table or a view look changed: a new privilege is a `GRANT`, never a
//! rebuild. Row-level security's two switches are the exception: they are the table's own
//! (`Table::row_security`, `Table::force_row_security`).

use serde::{Deserialize, Serialize};

use super::Name;

/// What a privilege or an owner is on: a relation of some kind. The kind says how statements
/// name it (`ON SEQUENCE`, `ALTER VIEW`); two relations cannot share a name in one schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    /// Which kind of relation.
    pub kind: RelationKind,
    /// Its name.
    pub name: Name,
}

/// The kinds of relation privileges are granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// A table (partitioned or not).
    Table,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A sequence, free-standing or owned by a column.
    Sequence,
}

impl RelationKind {
    /// The kind as statements name it (`ALTER MATERIALIZED VIEW`).
    pub fn sql(self) -> &'static str {
        match self {
            RelationKind::Table => "TABLE",
            RelationKind::View => "VIEW",
            RelationKind::MaterializedView => "MATERIALIZED VIEW",
            RelationKind::Sequence => "SEQUENCE",
        }
    }
}

/// One privilege held by one role on a relation or one of its columns (PostgreSQL `GRANT`).
/// What the owner holds by owning is not a grant, and is not listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The relation.
    pub on: Relation,
    /// The column, for a column privilege.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The role that holds it, or `PUBLIC`.
    pub grantee: String,
    /// The privilege, as PostgreSQL names it (`SELECT`, `USAGE`).
    pub privilege: String,
    /// `WITH GRANT OPTION`: the grantee may grant it to others.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grant_option: bool,
}

/// The role that owns a relation, listed when it is not the role that reads the database: on
/// a scratch database that ran a schema file, an owner the file set with `ALTER ... OWNER TO`.
/// A relation without an entry has no declared owner, and its owner is left alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    /// The relation.
    pub on: Relation,
    /// The role that owns it.
    pub role: String,
}

/// A row-level security policy (PostgreSQL `CREATE POLICY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The table it is on.
    pub table: Name,
    /// Its name, unique on its table.
    pub name: String,
    /// `AS PERMISSIVE` (true, the default) or `AS RESTRICTIVE`.
    pub permissive: bool,
    /// The command it applies to.
    pub command: PolicyCommand,
    /// The roles it applies to, sorted; `PUBLIC` for every role.
    pub roles: Vec<String>,
    /// The `USING` expression, as the engine prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// The `WITH CHECK` expression, as the engine prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

/// The command a [`Policy`] applies to (`FOR ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyCommand {
    /// `FOR ALL`.
    All,
    /// `FOR SELECT`.
    Select,
    /// `FOR INSERT`.
    Insert,
    /// `FOR UPDATE`.
    Update,
    /// `FOR DELETE`.
    Delete,
}

impl PolicyCommand {
    /// The keyword after `FOR`.
    pub fn sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}
