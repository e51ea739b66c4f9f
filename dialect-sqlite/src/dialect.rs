//! SQL text for SQLite.

use godwit_core::dialect::{
    RenderError, RenderOptions, Statement, double_quoted, portable_history_ddl,
};
use godwit_core::diff::{Change, Dependants, DiffOptions};
use godwit_core::lint::LintRules;
use godwit_core::schema::Schema;
use godwit_core::screen::{SchemaStatement, ScreenError};
use godwit_core::{Capabilities, Dialect, HistoryTable, LockKind, Row, Value};

use crate::{catalog, render};

/// The SQLite dialect: `?N` placeholders, `sqlite_master` lookups and no schemas, and
/// declarative schema changes (see the crate documentation for what they cover).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn quote_identifier(&self, ident: &str) -> String {
        double_quoted(ident)
    }

    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String> {
        portable_history_ddl(self, table)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> Capabilities {
        // A lock row, because SQLite has no session-scoped lock that outlives a transaction.
        Capabilities::new(LockKind::Row).with_case_insensitive_identifiers(true)
    }

    fn placeholder(&self, index: usize) -> String {
        format!("?{index}")
    }

    fn lint_support(&self) -> &dyn LintRules {
        &crate::lint::SqliteLint
    }

    // SQLite reads a view's text when the view is used, so no change of a table breaks it;
    // the triggers of a rebuilt table go with its old copy, and the rebuild makes them again.
    fn diff_options(&self) -> DiffOptions {
        DiffOptions {
            case_insensitive: true,
            dependants: Dependants::ReadWhenUsed,
        }
    }

    // SQLite has no schemas; an attached database would look like one, but godwit keeps its
    // history in the main database, so a schema given by a caller is ignored rather than
    // turned into a reference to a database that does not exist.
    fn qualified_name(&self, _schema: Option<&str>, name: &str) -> String {
        self.quote_identifier(name)
    }

    // The history's times stay RFC 3339 text (the default `history_time_type`): SQLite has no
    // date-time type (a column's type is only an affinity), and its date and time functions
    // read and write exactly that text, so text is SQLite's own way to store a time.

    fn table_exists_query(&self, _schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        // Names match whatever their case, as SQLite looks tables up.
        (
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE"
                .to_string(),
            vec![Value::from(name)],
        )
    }

    fn name_holder_query(&self, _schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        // Tables, indexes and views share one namespace, and names match whatever their case.
        (
            "SELECT 'the ' || type || ' ' || name, CASE WHEN type = 'table' THEN 1 ELSE 0 END \
             FROM sqlite_master \
             WHERE type IN ('table', 'index', 'view') AND name = ?1 COLLATE NOCASE"
                .to_string(),
            vec![Value::from(name)],
        )
    }

    fn introspection_queries(&self) -> Vec<String> {
        catalog::queries()
    }

    fn schema_from_catalog(&self, results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
        catalog::schema_from_catalog(results)
    }

    // SQLite builds an index under the database's write lock, so it has no concurrent index
    // changes to offer: its capabilities say so, and core refuses to ask.
    fn render(
        &self,
        changes: &[Change],
        _options: &RenderOptions,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(changes)
    }

    fn assertion(&self, query: &str, message: &str) -> Option<String> {
        Some(render::assertion(query, message))
    }

    fn screen_schema(&self, sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
        crate::screen::screen_schema(sql)
    }

    /// The SQLite library godwit is built with, which alone reads a schema on the in-memory
    /// scratch database.
    fn normalisation_fingerprint_query(&self) -> Option<&'static str> {
        Some("SELECT sqlite_source_id()")
    }
}

#[cfg(test)]
mod tests {
    use godwit_core::{HistoryTable, LockKind};

    use super::*;

    #[test]
    fn describes_sqlite() {
        let dialect = SqliteDialect;
        assert_eq!(dialect.name(), "sqlite");
        let capabilities = dialect.capabilities();
        assert!(capabilities.transactional_ddl);
        assert_eq!(capabilities.lock, LockKind::Row);
        assert!(!capabilities.schemas);
        assert!(capabilities.case_insensitive_identifiers);
        assert!(dialect.diff_options().case_insensitive);
        assert_eq!(dialect.introspection_queries().len(), 5);
        assert_eq!(dialect.placeholder(1), "?1");
        assert_eq!(dialect.placeholder(15), "?15");
    }

    #[test]
    fn ignores_schemas_and_quotes_names() {
        let dialect = SqliteDialect;
        assert_eq!(dialect.qualified_name(Some("app"), "t"), "\"t\"");
        assert_eq!(dialect.qualified_name(None, "we\"ird"), "\"we\"\"ird\"");
        let (sql, params) = dialect.table_exists_query(Some("app"), "godwit_migrations");
        assert!(sql.contains("sqlite_master"), "{sql}");
        assert_eq!(params, vec![Value::from("godwit_migrations")]);
        let table = HistoryTable::new(Some("ignored".into()), "history");
        let ddl = dialect.history_table_ddl(&table);
        assert_eq!(ddl.len(), 2, "no CREATE SCHEMA on SQLite: {ddl:?}");
        assert!(ddl[0].starts_with("CREATE TABLE IF NOT EXISTS \"history\" ("));
    }
}
