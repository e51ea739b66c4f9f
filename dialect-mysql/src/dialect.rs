//! The pure half of the backend: MySQL's and MariaDB's SQL text and facts.

use godwit_core::dialect::{RenderError, RenderOptions, Statement, portable_history_upgrade_ddl};
use godwit_core::diff::Change;
use godwit_core::lint::LintRules;
use godwit_core::schema::Schema;
use godwit_core::screen::{SchemaStatement, ScreenError};
use godwit_core::store::Row;
use godwit_core::{Capabilities, Dialect, HistoryTable, LockKind, Value};

/// MySQL's and MariaDB's [`Dialect`]: backtick quoting, `?` placeholders, a session lock
/// (`GET_LOCK`), and no transactional DDL: every DDL statement commits the open transaction
/// before and after itself, so core runs a migration that holds anything but DML as it runs
/// `-- godwit:no-transaction` ones elsewhere (recorded as failed before it starts, marked
/// applied after it ends). A migration of DML alone runs in a transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MySqlDialect;

impl Dialect for MySqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn capabilities(&self) -> Capabilities {
        // GET_LOCK belongs to the session, so the server frees it when a runner dies.
        Capabilities::new(LockKind::Session).with_transactional_ddl(false)
    }

    // DML takes part in transactions (on InnoDB; a MyISAM table's rows never roll back,
    // whatever godwit does). Anything else may commit implicitly, or may run code that does
    // (CALL), so it makes the migration run outside a transaction.
    fn transactional_script(&self, script: &str) -> bool {
        const DML: &[&str] = &[
            "INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH", "DO",
        ];
        crate::script::split(script).is_ok_and(|statements| {
            statements.iter().all(|statement| {
                let first = statement
                    .text
                    .trim_start_matches('(')
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .next()
                    .unwrap_or_default();
                DML.iter()
                    .any(|keyword| first.eq_ignore_ascii_case(keyword))
            })
        })
    }

    fn lint_support(&self) -> &dyn LintRules {
        &crate::lint::MySqlLint
    }

    fn quote_identifier(&self, ident: &str) -> String {
        crate::sql::quote(ident)
    }

    fn placeholder(&self, _index: usize) -> String {
        "?".to_string()
    }

    fn table_exists_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        // Without a schema the history table is created unqualified, in the connection's
        // current database.
        match schema {
            Some(schema) => (
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = ? AND table_name = ? AND table_type = 'BASE TABLE'"
                    .to_string(),
                vec![Value::from(schema), Value::from(name)],
            ),
            None => (
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = ? AND table_type = 'BASE TABLE'"
                    .to_string(),
                vec![Value::from(name)],
            ),
        }
    }

    fn name_holder_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        let (home, mut params) = match schema {
            Some(schema) => ("?", vec![Value::from(schema)]),
            None => ("DATABASE()", Vec::new()),
        };
        params.push(Value::from(name));
        let sql = format!(
            "SELECT CONCAT(CASE table_type WHEN 'VIEW' THEN 'the view ' \
                 WHEN 'SEQUENCE' THEN 'the sequence ' ELSE 'the table ' END, \
                 table_schema, '.', table_name), \
             CASE WHEN table_type = 'BASE TABLE' THEN 1 ELSE 0 END \
             FROM information_schema.tables WHERE table_schema = {home} AND table_name = ?"
        );
        (sql, params)
    }

    /// Keys need a length in MySQL: the history's is a `BIGINT`, the `_meta` table's a
    /// `VARCHAR(191)`, the longest that fits InnoDB's 767-byte key prefix in `utf8mb4` on old
    /// row formats. Scripts and errors are `LONGTEXT` (`TEXT` stops at 64 KiB); times are
    /// `DATETIME(6)`, which holds the UTC wall time godwit writes without the session's time
    /// zone ever converting it.
    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String> {
        let history = self.qualified_name(table.schema.as_deref(), &table.name);
        let meta = self.qualified_name(table.schema.as_deref(), &table.meta_name());
        let time = self.history_time_type();
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {history} (\n\
                 \x20   version BIGINT NOT NULL PRIMARY KEY,\n\
                 \x20   name TEXT NOT NULL,\n\
                 \x20   checksum TEXT NOT NULL,\n\
                 \x20   down_checksum TEXT,\n\
                 \x20   down_script LONGTEXT,\n\
                 \x20   transactional BIGINT NOT NULL,\n\
                 \x20   status VARCHAR(32) NOT NULL,\n\
                 \x20   started_at {time} NOT NULL,\n\
                 \x20   finished_at {time},\n\
                 \x20   duration_ms BIGINT,\n\
                 \x20   error LONGTEXT,\n\
                 \x20   error_statement LONGTEXT,\n\
                 \x20   error_line BIGINT,\n\
                 \x20   previous_checksums LONGTEXT,\n\
                 \x20   applied_by TEXT,\n\
                 \x20   backup TEXT\n\
                 ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {meta} (\n\
                 \x20   `key` VARCHAR(191) NOT NULL PRIMARY KEY,\n\
                 \x20   `value` TEXT NOT NULL\n\
                 ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ),
        ]
    }

    fn history_time_type(&self) -> &'static str {
        "DATETIME(6)"
    }

    // Strict mode turns the warning a CAST of `2024-01-01T12:00:00.000Z` gives (the `T` and
    // the `Z`) into an error in an INSERT, so the text is parsed by its exact format.
    fn history_time_value(&self, placeholder: &str) -> String {
        format!("STR_TO_DATE({placeholder}, '%Y-%m-%dT%H:%i:%s.%fZ')")
    }

    // MySQL's CAST knows no `TEXT` target: `CHAR` is its text.
    fn text_cast(&self, expression: &str) -> String {
        format!("CAST({expression} AS CHAR)")
    }

    // CAST takes only a few targets (no `int`, no `varchar(20)`), and compares a string with a
    // text column as text and with a date as a date by itself; an integer key must be bound
    // as an integer, or MySQL compares it with the text as a double and loses the low digits
    // of a 64-bit key.
    fn key_bind(&self, placeholder: &str, data_type: &str) -> String {
        let data_type = data_type.to_ascii_lowercase();
        let integer = data_type
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .is_some_and(|word| word.ends_with("int"));
        match (integer, data_type.contains("unsigned")) {
            (true, true) => format!("CAST({placeholder} AS UNSIGNED)"),
            (true, false) => format!("CAST({placeholder} AS SIGNED)"),
            (false, _) => placeholder.to_string(),
        }
    }

    fn history_time_text(&self, column: &str) -> String {
        // Milliseconds, as godwit writes them: `%f` gives six digits.
        format!("CONCAT(LEFT(DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')")
    }

    fn history_upgrade_ddl(&self, table: &HistoryTable, version: i64) -> Vec<String> {
        let history = self.qualified_name(table.schema.as_deref(), &table.name);
        match version {
            // Text in RFC 3339 becomes the DATETIME it names: MODIFY reads `YYYY-MM-DD
            // HH:MM:SS.fff` and refuses the `T` and `Z`, so they go first. The ALTER commits
            // implicitly: the upgrade's `_meta` row is written after it, and a crash between
            // the two leaves a table MODIFY turns into itself on the next run.
            3 => vec![
                format!(
                    "UPDATE {history} SET \
                     started_at = REPLACE(REPLACE(started_at, 'T', ' '), 'Z', ''), \
                     finished_at = REPLACE(REPLACE(finished_at, 'T', ' '), 'Z', '')"
                ),
                format!(
                    "ALTER TABLE {history} \
                     MODIFY started_at DATETIME(6) NOT NULL, MODIFY finished_at DATETIME(6) NULL"
                ),
            ],
            _ => portable_history_upgrade_ddl(self, table, version),
        }
    }

    fn introspection_queries(&self) -> Vec<String> {
        crate::introspect::queries()
    }

    fn introspection_detail_queries(&self, catalog: &[Vec<Row>]) -> Vec<String> {
        crate::introspect::detail_queries(catalog)
    }

    fn schema_from_catalog(&self, results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
        crate::introspect::schema_from_catalog(results)
    }

    fn render(
        &self,
        changes: &[Change],
        options: &RenderOptions,
    ) -> Result<Vec<Statement>, RenderError> {
        crate::render::render(changes, options)
    }

    fn screen_schema(&self, sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
        crate::screen::screen_schema(sql)
    }

    /// The server's version, its start to the minute (a restart may come with new settings;
    /// a minute's rounding at worst misses the cache once), the settings that change how DDL
    /// reads (`sql_mode`, the server's and the database's default charset and collation, which
    /// a scratch database takes,
    /// `explicit_defaults_for_timestamp`, the default engine, `lower_case_table_names`), and
    /// the user a scratch database is made by.
    fn normalisation_fingerprint_query(&self) -> Option<&'static str> {
        Some(
            "SELECT VERSION(), \
             (SELECT ROUND((UNIX_TIMESTAMP() - VARIABLE_VALUE) / 60) FROM information_schema.GLOBAL_STATUS \
                WHERE VARIABLE_NAME = 'UPTIME'), \
             @@GLOBAL.sql_mode, @@SESSION.sql_mode, @@character_set_server, @@collation_server, \
             @@character_set_database, @@collation_database, \
             @@explicit_defaults_for_timestamp, @@default_storage_engine, @@lower_case_table_names, \
             CURRENT_USER()",
        )
    }

    fn upsert_clause(&self, _key: &str, columns: &[&str]) -> String {
        // `VALUES(column)` reads the value the INSERT carried; MySQL 8.0.20 deprecates it in
        // favour of a row alias that MariaDB does not have, and both still accept it.
        let updates = columns
            .iter()
            .map(|column| format!("{column} = VALUES({column})"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("ON DUPLICATE KEY UPDATE {updates}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_mysql() {
        let capabilities = MySqlDialect.capabilities();
        assert_eq!(MySqlDialect.name(), "mysql");
        assert!(!capabilities.transactional_ddl);
        assert!(!capabilities.schemas);
        assert_eq!(capabilities.lock, LockKind::Session);
        assert_eq!(MySqlDialect.placeholder(3), "?");
    }

    #[test]
    fn only_dml_runs_in_a_transaction() {
        let dialect = MySqlDialect;
        assert!(dialect.transactional_script(
            "-- data only\nINSERT INTO t VALUES (1);\nupdate t SET a = 2;\n(SELECT 1);\nDELETE FROM t;"
        ));
        assert!(
            !dialect.transactional_script("INSERT INTO t VALUES (1);\nCREATE INDEX i ON t (a);")
        );
        assert!(!dialect.transactional_script("CALL refresh();"));
        assert!(!dialect.transactional_script("SET autocommit = 1;"));
        assert!(!dialect.transactional_script("INSERT INTO t VALUES ('unclosed);"));
    }

    #[test]
    fn identifiers_are_backticked() {
        assert_eq!(MySqlDialect.quote_identifier("a`b"), "`a``b`");
        assert_eq!(
            MySqlDialect.qualified_name(Some("app"), "key"),
            "`app`.`key`"
        );
    }

    #[test]
    fn the_history_has_keys_of_a_bounded_length() {
        let ddl = MySqlDialect.history_table_ddl(&HistoryTable::default());
        assert!(
            ddl[0].contains("started_at DATETIME(6) NOT NULL"),
            "{}",
            ddl[0]
        );
        assert!(ddl[0].contains("down_script LONGTEXT"), "{}", ddl[0]);
        assert!(
            ddl[1].contains("`key` VARCHAR(191) NOT NULL PRIMARY KEY"),
            "{}",
            ddl[1]
        );
        assert_eq!(
            MySqlDialect.upsert_clause("version", &["name", "status"]),
            "ON DUPLICATE KEY UPDATE name = VALUES(name), status = VALUES(status)"
        );
    }
}
