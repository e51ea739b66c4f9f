//! The dialect conformance kit (`godwit-dialect-tests`) on PostgreSQL: a fresh database per
//! case on the server of `GODWIT_TEST_PG_URL` (a throwaway one under `cargo xtask test`).

use std::path::Path;

use godwit_core::Store;
use godwit_dialect_tests::{Fixtures, Fresh, Harness};
use godwit_postgres::{PgOptions, PgStore};
use godwit_tests::PgDatabase;

struct Postgres;

impl Harness for Postgres {
    fn fresh(&self, _dir: &Path) -> Box<dyn Fresh> {
        Box::new(Database(PgDatabase::create()))
    }

    fn fixtures(&self) -> Fixtures {
        Fixtures {
            relations: "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
                 ORDER BY 1",
            procedural: "CREATE TABLE item (id SERIAL PRIMARY KEY, name TEXT);\n\
                 CREATE TABLE audit (item_id INTEGER, note TEXT);\n\
                 CREATE FUNCTION item_audit() RETURNS trigger LANGUAGE plpgsql AS $fn$\n\
                 BEGIN\n\
                 \x20   INSERT INTO audit VALUES (NEW.id, 'created; with a semicolon');\n\
                 \x20   INSERT INTO audit VALUES (NEW.id, $q$second statement$q$);\n\
                 \x20   RETURN NEW;\n\
                 END;\n\
                 $fn$;\n\
                 CREATE TRIGGER item_audit AFTER INSERT ON item FOR EACH ROW EXECUTE FUNCTION item_audit();\n\
                 DO $$\n\
                 BEGIN\n\
                 \x20   INSERT INTO item (name) VALUES ('x;y');\n\
                 END\n\
                 $$;\n",
            // CREATE INDEX CONCURRENTLY fails inside a transaction block.
            outside_transaction: "-- godwit:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\nANALYZE t;\n",
            history_schema: Some("audit"),
            // An unqualified name resolves to the system catalog before the current schema.
            system_name: Some(("pg_class", "the table pg_catalog.pg_class")),
            // The times became timestamps, and hold the instants the text said.
            upgraded_history: &[
                (
                    "SELECT COUNT(*) FROM information_schema.columns \
                     WHERE table_name = 'godwit_migrations' \
                     AND column_name IN ('started_at', 'finished_at') \
                     AND data_type = 'timestamp with time zone'",
                    2,
                ),
                (
                    "SELECT COUNT(*) FROM godwit_migrations \
                     WHERE version = 1 AND finished_at - started_at = interval '10 milliseconds'",
                    1,
                ),
            ],
        }
    }
}

/// A database of its own on the test server, dropped with it.
struct Database(PgDatabase);

#[async_trait::async_trait]
impl Fresh for Database {
    async fn connect(&self) -> Box<dyn Store> {
        Box::new(
            PgStore::connect(&self.0.url, &PgOptions::default())
                .await
                .expect("connect postgres"),
        )
    }
}

godwit_dialect_tests::suite!(Postgres);
