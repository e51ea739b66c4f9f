//! The dialect conformance kit (`godwit-dialect-tests`) on SQLite files.

use std::path::{Path, PathBuf};

use godwit_core::Store;
use godwit_dialect_tests::{Fixtures, Fresh, Harness};
use godwit_sqlite::{SqliteOptions, SqliteStore};

struct Sqlite;

/// A database file in the case's folder.
struct File(PathBuf);

impl Harness for Sqlite {
    fn fresh(&self, dir: &Path) -> Box<dyn Fresh> {
        Box::new(File(dir.join("test.db")))
    }

    fn fixtures(&self) -> Fixtures {
        Fixtures {
            relations: "SELECT name FROM sqlite_master ORDER BY name",
            procedural: "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);\n\
                 CREATE TABLE audit (item_id INTEGER, note TEXT);\n\
                 CREATE TRIGGER item_audit AFTER INSERT ON item BEGIN\n\
                 \x20   INSERT INTO audit VALUES (NEW.id, 'created; with a semicolon');\n\
                 \x20   INSERT INTO audit VALUES (NEW.id, 'second statement');\n\
                 END;\n\
                 INSERT INTO item (name) VALUES ('x;y');\n",
            // VACUUM fails inside a transaction.
            outside_transaction: "-- godwit:no-transaction\nCREATE INDEX t_v ON t (v);\nVACUUM;\n",
            history_schema: None,
            system_name: None,
            // Times stay the RFC 3339 text godwit writes.
            upgraded_history: &[],
        }
    }
}

#[async_trait::async_trait]
impl Fresh for File {
    async fn connect(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.0, &SqliteOptions::default()).expect("open sqlite"))
    }
}

godwit_dialect_tests::suite!(Sqlite);
