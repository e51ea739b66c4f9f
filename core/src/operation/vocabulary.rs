//! The vocabulary of operations: what a `<version>_<name>.toml` file or a
//! [`MigrationBuilder`](super::MigrationBuilder) holds. Plain data, parsed and written with
//! serde; a [`Migration`](crate::Migration) carries it, and [`super::resolve`] renders it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A column as an operation declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type, as the engine accepts it (`TEXT`, `varchar(20)`, an enum's name).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether NULL is allowed (the default).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub nullable: bool,
    /// A default expression, as SQL (`'none'`, `0`, `now()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

fn yes() -> bool {
    true
}

impl Column {
    /// A nullable column without a default.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
        }
    }

    /// The column refuses NULL.
    #[must_use]
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// The column's default, as an SQL expression.
    #[must_use]
    pub fn default(mut self, expression: impl Into<String>) -> Self {
        self.default = Some(expression.into());
        self
    }
}

/// What a foreign key does when the row it references is deleted or updated.
pub use crate::schema::FkAction;

/// One schema operation. Names of tables may be qualified (`app.users`); an unqualified name
/// is the engine's default schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Operation {
    /// Create a table.
    CreateTable {
        /// Its name.
        table: String,
        /// Its columns, in order.
        columns: Vec<Column>,
        /// The primary key's columns, if it has one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        primary_key: Vec<String>,
    },
    /// Drop a table. Its rows cannot come back from the down script.
    DropTable {
        /// The table.
        table: String,
    },
    /// Rename a table.
    RenameTable {
        /// The table.
        table: String,
        /// Its new name (in the same schema).
        to: String,
    },
    /// Add a column.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// Drop a column, with the indexes and constraints that use it. Its values cannot come
    /// back from the down script.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Rename a column.
    RenameColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its new name.
        to: String,
    },
    /// Change a column's type (values are converted by the engine's cast).
    SetType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The new type.
        #[serde(rename = "type")]
        data_type: String,
    },
    /// Set or remove a column's default.
    SetDefault {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The new default expression; none removes the default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// Allow or refuse NULL in a column.
    SetNullable {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether NULL is allowed.
        nullable: bool,
    },
    /// Create an index.
    CreateIndex {
        /// Its name.
        name: String,
        /// The table.
        table: String,
        /// The indexed columns, in order.
        columns: Vec<String>,
        /// A unique index.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unique: bool,
        /// Build it without blocking writes (PostgreSQL `CONCURRENTLY`, outside the
        /// transaction); refused on an engine that cannot.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
    /// Drop an index.
    DropIndex {
        /// Its name.
        name: String,
        /// Drop it without blocking writes (PostgreSQL `CONCURRENTLY`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
    /// Add a check constraint.
    AddCheck {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// The condition, as SQL.
        expression: String,
    },
    /// Add a unique constraint.
    AddUnique {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// Its columns.
        columns: Vec<String>,
    },
    /// Add a foreign key.
    AddForeignKey {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// Its columns.
        columns: Vec<String>,
        /// The referenced table.
        references: String,
        /// The referenced columns.
        referenced_columns: Vec<String>,
        /// What a delete of the referenced row does.
        #[serde(default)]
        on_delete: FkAction,
        /// What an update of the referenced key does.
        #[serde(default)]
        on_update: FkAction,
    },
    /// Drop a check, unique or foreign-key constraint by name.
    DropConstraint {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// Create an enum type (PostgreSQL).
    CreateEnum {
        /// Its name.
        name: String,
        /// Its labels, in order.
        values: Vec<String>,
    },
    /// Drop an enum type no column uses (PostgreSQL).
    DropEnum {
        /// Its name.
        name: String,
    },
    /// Add a label at the end of an enum type (PostgreSQL).
    AddEnumValue {
        /// The type.
        name: String,
        /// The new label.
        value: String,
    },
    /// Rename a label of an enum type (PostgreSQL).
    RenameEnumValue {
        /// The type.
        name: String,
        /// The label now.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Update the rows of a large table in batches, each batch committed with its progress, so
    /// that locks are held for one batch at a time and an interrupted run resumes where it
    /// stopped. It changes data only: its reverse is nothing.
    Backfill(Backfill),
    /// SQL the operations cannot express, with its reverse. It is opaque: operations after it
    /// in the same migration do not see what it creates, so put those in a later migration.
    Sql {
        /// What runs on `migrate`.
        up: String,
        /// What runs on `rollback`.
        down: String,
    },
}

impl Operation {
    /// The operation's kind, as files spell it (`add_column`).
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::CreateTable { .. } => "create_table",
            Operation::DropTable { .. } => "drop_table",
            Operation::RenameTable { .. } => "rename_table",
            Operation::AddColumn { .. } => "add_column",
            Operation::DropColumn { .. } => "drop_column",
            Operation::RenameColumn { .. } => "rename_column",
            Operation::SetType { .. } => "set_type",
            Operation::SetDefault { .. } => "set_default",
            Operation::SetNullable { .. } => "set_nullable",
            Operation::CreateIndex { .. } => "create_index",
            Operation::DropIndex { .. } => "drop_index",
            Operation::AddCheck { .. } => "add_check",
            Operation::AddUnique { .. } => "add_unique",
            Operation::AddForeignKey { .. } => "add_foreign_key",
            Operation::DropConstraint { .. } => "drop_constraint",
            Operation::CreateEnum { .. } => "create_enum",
            Operation::DropEnum { .. } => "drop_enum",
            Operation::AddEnumValue { .. } => "add_enum_value",
            Operation::RenameEnumValue { .. } => "rename_enum_value",
            Operation::Backfill(_) => "backfill",
            Operation::Sql { .. } => "sql",
        }
    }

    /// What it acts on, for messages: `users.email`, `idx_users_email`.
    pub fn target(&self) -> String {
        match self {
            Operation::CreateTable { table, .. }
            | Operation::DropTable { table }
            | Operation::RenameTable { table, .. } => table.clone(),
            Operation::AddColumn { table, column } => format!("{table}.{}", column.name),
            Operation::DropColumn { table, column }
            | Operation::RenameColumn { table, column, .. }
            | Operation::SetType { table, column, .. }
            | Operation::SetDefault { table, column, .. }
            | Operation::SetNullable { table, column, .. } => format!("{table}.{column}"),
            Operation::CreateIndex { name, .. }
            | Operation::DropIndex { name, .. }
            | Operation::CreateEnum { name, .. }
            | Operation::DropEnum { name }
            | Operation::AddEnumValue { name, .. }
            | Operation::RenameEnumValue { name, .. } => name.clone(),
            Operation::AddCheck { table, name, .. }
            | Operation::AddUnique { table, name, .. }
            | Operation::AddForeignKey { table, name, .. }
            | Operation::DropConstraint { table, name } => format!("{table}.{name}"),
            Operation::Backfill(backfill) => backfill.table.clone(),
            Operation::Sql { .. } => "raw SQL".into(),
        }
    }

    /// Whether it asks for a concurrent index build or drop.
    pub fn concurrently(&self) -> bool {
        matches!(
            self,
            Operation::CreateIndex {
                concurrently: true,
                ..
            } | Operation::DropIndex {
                concurrently: true,
                ..
            }
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.target())
    }
}

/// A backfill: `UPDATE table SET column = expression, ... [WHERE filter]`, run in batches of
/// `batch_size` rows in key order, each batch its own transaction, with a pause between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    /// The table.
    pub table: String,
    /// The assignments: each column and the SQL expression it is set to (`role = "'member'"`).
    pub set: BTreeMap<String, String>,
    /// Which rows are updated, as an SQL condition; all when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Rows per batch; [`crate::backfill::DEFAULT_BATCH_SIZE`] when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    /// The pause after each batch (`100ms`, `1s`); none when none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_duration",
        deserialize_with = "read_duration"
    )]
    pub pause: Option<Duration>,
}

impl Backfill {
    /// A backfill of `table` that sets nothing yet.
    pub fn new(table: impl Into<String>) -> Self {
        Backfill {
            table: table.into(),
            set: BTreeMap::new(),
            filter: None,
            batch_size: None,
            pause: None,
        }
    }

    /// Set `column` to the SQL `expression` in every row the backfill updates.
    #[must_use]
    pub fn set(mut self, column: impl Into<String>, expression: impl Into<String>) -> Self {
        self.set.insert(column.into(), expression.into());
        self
    }

    /// Update only the rows where the SQL `condition` holds.
    #[must_use]
    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        self.filter = Some(condition.into());
        self
    }

    /// Rows per batch.
    #[must_use]
    pub fn batch_size(mut self, rows: u64) -> Self {
        self.batch_size = Some(rows);
        self
    }

    /// The pause after each batch.
    #[must_use]
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = Some(pause);
        self
    }
}

fn write_duration<S: Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(duration) => {
            serializer.serialize_str(&humantime::format_duration(*duration).to_string())
        }
        None => serializer.serialize_none(),
    }
}

fn read_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map(Some).map_err(|error| {
        serde::de::Error::custom(format!(
            "pause `{text}`: {error} (write it like `100ms` or `2s`)"
        ))
    })
}

/// The operations of one migration, and the lint rules its author accepts the risk of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    /// Lint rules the rendered statements may break on purpose (`drop-column`): each rendered
    /// statement gets a `-- godwit:allow` naming them, as a hand-written file would.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// The operations, in order.
    #[serde(default, rename = "op")]
    pub list: Vec<Operation>,
}

impl Operations {
    /// Parse the text of a `<version>_<name>.toml` operations file. The error is TOML's message, with its line.
    pub fn parse(text: &str) -> Result<Operations, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Whether any of them is a backfill, which makes the migration run in phases
    /// ([`crate::backfill`]).
    pub fn has_backfill(&self) -> bool {
        self.list
            .iter()
            .any(|op| matches!(op, Operation::Backfill(_)))
    }

    /// The template `godwit new --ops` writes: every operation kind, commented out.
    pub const TEMPLATE: &'static str = include_str!("template.toml");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_field_or_kind_is_refused_naming_it() {
        let error =
            Operations::parse("[[op]]\nkind = \"drop_table\"\ntabel = \"a\"\n").unwrap_err();
        assert!(error.contains("tabel"), "{error}");
        let error = Operations::parse("[[op]]\nkind = \"drop_tables\"\n").unwrap_err();
        assert!(error.contains("drop_tables"), "{error}");
        let error = Operations::parse("alow = []\n").unwrap_err();
        assert!(error.contains("alow"), "{error}");
        let error = Operations::parse(
            "[[op]]\nkind = \"backfill\"\ntable = \"t\"\nset = { a = \"1\" }\nbatch = 5\n",
        )
        .unwrap_err();
        assert!(error.contains("batch"), "{error}");
        let error = Operations::parse(
            "[[op]]\nkind = \"backfill\"\ntable = \"t\"\nset = { a = \"1\" }\npause = \"soon\"\n",
        )
        .unwrap_err();
        assert!(error.contains("pause `soon`"), "{error}");
    }

    #[test]
    fn a_backfill_round_trips_through_its_file_form() {
        let text = "[[op]]\nkind = \"backfill\"\ntable = \"users\"\nset = { role = \"'admin'\" }\n\
                    filter = \"is_admin\"\nbatch_size = 500\npause = \"100ms\"\n";
        let parsed = Operations::parse(text).unwrap();
        let expected = Backfill::new("users")
            .set("role", "'admin'")
            .filter("is_admin")
            .batch_size(500)
            .pause(Duration::from_millis(100));
        assert_eq!(parsed.list, [Operation::Backfill(expected)]);
        assert!(parsed.has_backfill());
        let written = toml::to_string(&parsed).unwrap();
        assert_eq!(Operations::parse(&written).unwrap(), parsed);
    }
}
