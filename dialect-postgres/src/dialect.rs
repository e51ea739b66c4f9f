//! The pure half of the backend: PostgreSQL's SQL text and facts.

use godwit_core::dialect::{
    RenderError, RenderOptions, Statement, double_quoted, portable_history_ddl,
    portable_history_upgrade_ddl,
};
use godwit_core::diff::{Change, Dependants, DiffOptions};
use godwit_core::lint::LintRules;
use godwit_core::schema::Schema;
use godwit_core::screen::{SchemaStatement, ScreenError};
use godwit_core::store::Row;
use godwit_core::{Capabilities, Dialect, HistoryTable, InvalidIndex, LockKind, Value};

/// PostgreSQL's [`Dialect`]: `$n` placeholders, schemas, transactional DDL and a session lock.
///
/// The history table uses the engine's default DDL, which is valid PostgreSQL and creates the
/// schema first when one is configured, with its times as `timestamptz` (layout 3).
///
/// Declarative schemas: [`Dialect::introspection_queries`] reads the catalog in a fixed dozen
/// queries, [`Dialect::schema_from_catalog`] builds the model from the server's own
/// normalised text, and [`Dialect::render`] turns core's changes into statements with their
/// hazards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PgDialect;

impl Dialect for PgDialect {
    fn quote_identifier(&self, ident: &str) -> String {
        double_quoted(ident)
    }

    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String> {
        portable_history_ddl(self, table)
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn capabilities(&self) -> Capabilities {
        // Advisory locks belong to the session, so the server frees them when a runner dies.
        Capabilities::new(LockKind::Session)
            .with_schemas(true)
            .with_concurrent_indexes(true)
    }

    fn placeholder(&self, index: usize) -> String {
        format!("${index}")
    }

    fn lint_support(&self) -> &dyn LintRules {
        &crate::lint::PgLint
    }

    // PostgreSQL keeps views and triggers through every change of their table but two, to a
    // column they use: dropping it, and changing its type, which it refuses while they stand.
    fn diff_options(&self) -> DiffOptions {
        DiffOptions {
            case_insensitive: false,
            dependants: Dependants::UsedColumns,
        }
    }

    fn table_exists_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        // Without a schema the history table is created unqualified, so it lands in the first
        // existing schema of the search path: exactly what `current_schema()` names.
        match schema {
            Some(schema) => (
                "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2"
                    .to_string(),
                vec![Value::from(schema), Value::from(name)],
            ),
            None => (
                "SELECT 1 FROM pg_catalog.pg_tables \
                 WHERE schemaname = current_schema() AND tablename = $1"
                    .to_string(),
                vec![Value::from(name)],
            ),
        }
    }

    fn name_holder_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        // `to_regclass` resolves the name as every later query will: through the search path,
        // with pg_catalog ahead of it, so `pg_class` is the catalog and not a table godwit
        // would create in the current schema and never read again. An unqualified history
        // table is created in `current_schema()`.
        let (home, mut params) = match schema {
            Some(schema) => ("$2", vec![Value::from(schema)]),
            None => ("current_schema()", Vec::new()),
        };
        params.insert(0, Value::from(self.qualified_name(schema, name)));
        let sql = format!(
            "SELECT 'the ' || CASE c.relkind \
                 WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' \
                 WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' \
                 WHEN 'i' THEN 'index' WHEN 'I' THEN 'partitioned index' \
                 WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'composite type' \
                 ELSE 'relation' END \
                 || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
             CASE WHEN c.relkind IN ('r', 'p') AND n.nspname = {home} THEN 1 ELSE 0 END \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = pg_catalog.to_regclass($1)"
        );
        (sql, params)
    }

    fn invalid_indexes_query(&self) -> Option<String> {
        // `indisvalid` is false from the start of a `CREATE INDEX CONCURRENTLY` until its last
        // phase commits, and stays false when the build fails or its session dies. The query
        // reads the catalog only and takes no lock.
        Some(
            "SELECT n.nspname::text, c.relname::text, t.relname::text \
             FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_class t ON t.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%' \
             ORDER BY 1, 2"
                .to_string(),
        )
    }

    fn drop_invalid_index(&self, index: &InvalidIndex) -> String {
        // CONCURRENTLY, so dropping it does not block writes to its table while the lock waits.
        format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            self.qualified_name(Some(&index.schema), &index.name)
        )
    }

    fn history_time_type(&self) -> &'static str {
        // A time the server can compare, sort and convert (`started_at > now() - '1 day'`),
        // rather than text that only looks like one.
        "TIMESTAMPTZ"
    }

    fn history_time_text(&self, column: &str) -> String {
        // `to_char` of the UTC wall time depends on neither the session's TimeZone nor its
        // DateStyle, so the text read back is the text godwit wrote.
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
    }

    fn history_upgrade_ddl(&self, table: &HistoryTable, version: i64) -> Vec<String> {
        match version {
            // Layouts 1 and 2 held RFC 3339 text, which `timestamptz` reads whatever the
            // session's DateStyle. The rows are rewritten in place, in the upgrade's
            // transaction: a row that does not convert fails it and changes nothing.
            3 => vec![format!(
                "ALTER TABLE {} \
                 ALTER COLUMN started_at TYPE TIMESTAMPTZ USING started_at::TIMESTAMPTZ, \
                 ALTER COLUMN finished_at TYPE TIMESTAMPTZ USING finished_at::TIMESTAMPTZ",
                self.qualified_name(table.schema.as_deref(), &table.name)
            )],
            _ => portable_history_upgrade_ddl(self, table, version),
        }
    }

    fn introspection_queries(&self) -> Vec<String> {
        crate::introspect::queries()
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

    fn assertion(&self, query: &str, message: &str) -> Option<String> {
        Some(crate::render::assertion(query, message))
    }

    fn check_definition(&self, condition: &str) -> String {
        // The model holds what `pg_get_constraintdef` prints, which the renderer writes after
        // `ADD CONSTRAINT name`.
        format!("CHECK ({condition})")
    }

    fn unflushed_commit(&self) -> Option<String> {
        Some("SET LOCAL synchronous_commit = off".into())
    }

    fn type_check_query(&self) -> Option<String> {
        // `to_regtype` reads a type name as a cast to `regtype` does, modifiers included
        // (`varchar(20)`), and gives NULL, not an error, for a type that does not exist.
        Some("SELECT to_regtype($1)::text".into())
    }

    fn screen_schema(&self, sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
        crate::screen::screen_schema(sql)
    }

    /// The server's version and the times it started and last read its configuration (a
    /// restart or a reload is a miss: an upgrade of an extension or a changed default setting
    /// comes with one), the role and search path a scratch database is read with, the
    /// database's encoding and locale (a scratch database takes them), the role's own settings
    /// (a scratch session gets them), and the extensions the server offers, with the version
    /// `CREATE EXTENSION` would install.
    fn normalisation_fingerprint_query(&self) -> Option<&'static str> {
        Some(
            "SELECT pg_catalog.version(), pg_catalog.pg_postmaster_start_time()::text, \
             pg_catalog.pg_conf_load_time()::text, current_user::text, \
             pg_catalog.current_setting('search_path'), \
             pg_catalog.pg_encoding_to_char(d.encoding)::text, d.datcollate::text, d.datctype::text, \
             (SELECT pg_catalog.string_agg(pg_catalog.array_to_string(s.setconfig, ','), ';' ORDER BY s.setrole) \
                FROM pg_catalog.pg_db_role_setting s \
                WHERE s.setdatabase = 0 AND s.setrole IN (0, (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user))), \
             (SELECT pg_catalog.string_agg(e.name || ' ' || coalesce(e.default_version, ''), ',' ORDER BY e.name) \
                FROM pg_catalog.pg_available_extensions e) \
             FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()",
        )
    }
}

#[cfg(test)]
mod tests {
    use godwit_core::LockKind;

    use super::*;

    #[test]
    fn describes_postgres() {
        let capabilities = PgDialect.capabilities();
        assert_eq!(PgDialect.name(), "postgres");
        assert!(capabilities.transactional_ddl);
        assert!(capabilities.schemas);
        assert_eq!(capabilities.lock, LockKind::Session);
        assert_eq!(PgDialect.placeholder(1), "$1");
        assert_eq!(PgDialect.placeholder(15), "$15");
    }

    #[test]
    fn table_lookups_bind_their_names() {
        let (sql, params) = PgDialect.table_exists_query(Some("app"), "godwit_migrations");
        assert_eq!(
            sql,
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2"
        );
        assert_eq!(
            params,
            vec![Value::from("app"), Value::from("godwit_migrations")]
        );

        let (sql, params) = PgDialect.table_exists_query(None, "odd'name");
        assert!(
            sql.contains("schemaname = current_schema() AND tablename = $1"),
            "{sql}"
        );
        assert_eq!(params, vec![Value::from("odd'name")]);
    }

    #[test]
    fn history_times_are_timestamptz_from_layout_3() {
        let table = HistoryTable::default();
        let ddl = PgDialect.history_table_ddl(&table);
        assert!(
            ddl[0].contains("started_at TIMESTAMPTZ NOT NULL"),
            "{}",
            ddl[0]
        );
        assert!(ddl[0].contains("finished_at TIMESTAMPTZ,"), "{}", ddl[0]);
        let upgrade = PgDialect.history_upgrade_ddl(&table, 3).join("\n");
        assert!(
            upgrade.contains("started_at TYPE TIMESTAMPTZ USING started_at::TIMESTAMPTZ"),
            "{upgrade}"
        );
        // The earlier step is the portable one.
        assert_eq!(
            PgDialect.history_upgrade_ddl(&table, 2),
            ["ALTER TABLE \"godwit_migrations\" ADD COLUMN backup TEXT"]
        );
    }

    #[test]
    fn history_ddl_creates_the_schema_first() {
        let table = HistoryTable::new(Some("my \"app\"".into()), "godwit_migrations");
        let ddl = PgDialect.history_table_ddl(&table);
        assert_eq!(ddl[0], "CREATE SCHEMA IF NOT EXISTS \"my \"\"app\"\"\"");
        assert!(
            ddl[1]
                .starts_with("CREATE TABLE IF NOT EXISTS \"my \"\"app\"\"\".\"godwit_migrations\""),
            "{}",
            ddl[1]
        );
    }
}
