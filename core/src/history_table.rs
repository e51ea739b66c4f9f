//! Where the history lives and the states its rows record: the facts about the history that
//! the traits and the errors need, kept apart from reading and writing it so that they depend
//! on nothing that depends on them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::migration::Checksum;

/// Where the history lives: a table name and, on engines with schemas, an optional schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryTable {
    /// Schema (PostgreSQL); `None` means the connection's default.
    pub schema: Option<String>,
    /// Table name, `godwit_migrations` by default.
    pub name: String,
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable {
            schema: None,
            name: "godwit_migrations".into(),
        }
    }
}

impl HistoryTable {
    /// A history table called `name` in `schema`.
    pub fn new(schema: Option<String>, name: impl Into<String>) -> Self {
        HistoryTable {
            schema,
            name: name.into(),
        }
    }

    /// The table holding the layout version.
    pub fn meta_name(&self) -> String {
        format!("{}_meta", self.name)
    }

    /// The table holding the progress of backfills ([`crate::backfill`]): `godwit_backfills`
    /// beside the default `godwit_migrations`, and `<name>_backfills` beside a history whose
    /// name does not end in `_migrations`, so two histories in one database keep theirs apart.
    pub fn backfills_name(&self) -> String {
        match self.name.strip_suffix("_migrations") {
            Some(stem) => format!("{stem}_backfills"),
            None => format!("{}_backfills", self.name),
        }
    }

    /// The table holding a lock row, for backends whose lock is a row.
    pub fn lock_name(&self) -> String {
        format!("{}_lock", self.name)
    }

    /// A stable 64-bit key for session locks (PostgreSQL advisory locks), derived from the
    /// qualified table name so that two godwit histories in one database do not block each other.
    pub fn lock_key(&self) -> i64 {
        let identity = format!(
            "godwit:{}.{}",
            self.schema.as_deref().unwrap_or(""),
            self.name
        );
        let sum = Checksum::of(&identity);
        let hex = &sum.as_str()[..16];
        u64::from_str_radix(hex, 16).map_or(0, |v| v as i64)
    }
}

impl fmt::Display for HistoryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The recorded state of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It ran to completion.
    Applied,
    /// It failed, or was interrupted while running outside a transaction.
    Failed,
    /// It was applied and later reverted; the row stays for audit.
    RolledBack,
}

impl Status {
    /// The text stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::RolledBack => "rolled_back",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "applied" => Some(Status::Applied),
            "failed" => Some(Status::Failed),
            "rolled_back" => Some(Status::RolledBack),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
