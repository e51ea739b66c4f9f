//! Which statements of a schema file may run on a scratch database ([`godwit_core::screen`]).
//!
//! A SQLite scratch database is a private database in memory, opened with no room for an
//! attached database ([`crate::SqliteStore::open_scratch`]), so the only ways out of it are
//! statements that name another file or load native code. Those are refused here, and so is
//! what is not schema: data changes and queries, and transaction control, which would end the
//! transaction the file runs in. Nothing SQLite runs as it is read can reach further than the
//! scratch database, so no statement needs a sandbox beyond it.

use godwit_core::screen::{self, SchemaStatement, ScreenError, StatementClass, Tokens};
use sqlparser::dialect::SQLiteDialect;

/// Screen the statements of a schema file.
pub(crate) fn screen_schema(sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
    screen::split(sql)?
        .into_iter()
        .map(|(line, text)| {
            let tokens = Tokens::read(text, &SQLiteDialect {})
                .map_err(|error| ScreenError::new(line + error.line - 1, error.message))?;
            Ok(SchemaStatement::new(line, text, class(&tokens)))
        })
        .collect()
}

fn class(tokens: &Tokens) -> StatementClass {
    if tokens.calls("LOAD_EXTENSION") {
        return StatementClass::refused("load_extension() loads native code into godwit");
    }
    let leading = tokens.leading();
    match leading.first().copied().unwrap_or_default() {
        "CREATE" | "ALTER" | "DROP" | "PRAGMA" => StatementClass::Schema,
        "ATTACH" | "DETACH" => StatementClass::refused(
            "it attaches another database file, which godwit would change instead of a scratch database",
        ),
        "VACUUM" => StatementClass::refused(
            "VACUUM rewrites a database (VACUUM INTO writes a file) and describes no schema",
        ),
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" => {
            StatementClass::refused("it controls the transaction godwit runs the schema file in")
        }
        "SELECT" | "INSERT" | "REPLACE" | "UPDATE" | "DELETE" | "WITH" | "VALUES" => {
            StatementClass::refused("it reads or changes rows, and a schema file holds no data")
        }
        "" => StatementClass::refused("it does not start with a statement keyword"),
        other => StatementClass::refused(format!("{other} describes no schema")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(sql: &str) -> Vec<(usize, StatementClass)> {
        screen_schema(sql)
            .unwrap()
            .into_iter()
            .map(|statement| (statement.line, statement.class))
            .collect()
    }

    fn refused(sql: &str) -> bool {
        matches!(
            classes(sql).as_slice(),
            [(_, StatementClass::Refused { .. })]
        )
    }

    #[test]
    fn schema_statements_run() {
        let sql = "PRAGMA foreign_keys = ON;\n\
                   CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT DEFAULT 'ATTACH');\n\
                   CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO t (body) VALUES ('x');\nEND;\n\
                   create virtual table f using fts5(body);\n\
                   ALTER TABLE t ADD COLUMN c TEXT; DROP VIEW IF EXISTS v";
        assert!(
            classes(sql)
                .iter()
                .all(|(_, class)| *class == StatementClass::Schema),
            "{:?}",
            classes(sql)
        );
    }

    #[test]
    fn ways_out_of_the_scratch_database_are_refused() {
        for sql in [
            "ATTACH DATABASE 'app.db' AS real",
            "attach 'app.db' as real",
            "DETACH real",
            "VACUUM INTO '/tmp/copy.db'",
            "SELECT load_extension('/tmp/evil.so')",
            "CREATE VIEW v AS SELECT load_extension('/tmp/evil.so')",
            "BEGIN",
            "COMMIT",
            "END TRANSACTION",
            "ROLLBACK",
            "SAVEPOINT s",
            "RELEASE s",
            "DELETE FROM real.users",
            "INSERT INTO t VALUES (1)",
            "REPLACE INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "WITH x AS (SELECT 1) DELETE FROM t",
            "SELECT 1",
            "ANALYZE",
            "REINDEX",
        ] {
            assert!(refused(sql), "{sql} was not refused");
        }
    }

    #[test]
    fn a_refused_statement_keeps_its_line() {
        let found = classes(
            "CREATE TABLE users (id int primary key);\n\nATTACH DATABASE 'app.db' AS real;\nDELETE FROM real.users;",
        );
        assert_eq!(
            found.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [1, 3, 4]
        );
    }
}
