//! What the shared rules need to know of an engine, as data a dialect fills in.

/// Facts about an engine that the shared rules and the walk over a file read: how names
/// compare, where unqualified names live, whether DDL commits with the transaction, and what
/// the engine refuses inside one. The defaults ([`LintFacts::new`]) describe an engine godwit
/// knows nothing of: names compared as the SQL standard folds them, no default schema, DDL
/// that may commit by itself, and nothing refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LintFacts {
    /// The engine's name as messages spell it (`MySQL`).
    pub engine: &'static str,
    /// The schema unqualified names resolve to, dropped from a qualified name so that
    /// `schema.users` and `users` are the same table.
    pub default_schema: Option<&'static str>,
    /// DDL takes part in transactions, so a statement of a migration godwit runs in a
    /// transaction commits only with it.
    pub transactional_ddl: bool,
    /// Every identifier, quoted or not, compares without regard to case. Otherwise unquoted
    /// identifiers fold to lower case and quoted ones keep theirs.
    pub case_insensitive_identifiers: bool,
    /// The engine has a `TRUNCATE` statement.
    pub has_truncate: bool,
    /// `BEGIN` inside a transaction is an error (rather than a warning that starts nothing).
    pub begin_inside_transaction_fails: bool,
    /// `VACUUM` inside a transaction is an error. A dialect saying so lists the rule
    /// [`super::PRAGMA_IN_TRANSACTION`] among its rules.
    pub vacuum_inside_transaction_fails: bool,
    /// `ALTER COLUMN ... SET NOT NULL` exists, so a column can be added nullable, backfilled
    /// and made `NOT NULL` in place; otherwise only a table rebuild adds `NOT NULL`.
    pub sets_not_null_in_place: bool,
    /// A `NOT NULL` column added without a default gets the type's implicit default (`0`,
    /// `''`, a zero date) in every existing row, rather than failing when the table has one.
    pub fills_new_not_null_columns: bool,
    /// The engine builds an index for a foreign key that no index leads with, so none is
    /// ever missing.
    pub indexes_foreign_keys: bool,
}

impl LintFacts {
    /// The facts of an engine named `engine` in messages, as described on [`LintFacts`];
    /// adjust them with the `with_*` methods.
    pub fn new(engine: &'static str) -> Self {
        LintFacts {
            engine,
            default_schema: None,
            transactional_ddl: false,
            case_insensitive_identifiers: false,
            has_truncate: true,
            begin_inside_transaction_fails: false,
            vacuum_inside_transaction_fails: false,
            sets_not_null_in_place: true,
            fills_new_not_null_columns: false,
            indexes_foreign_keys: false,
        }
    }

    /// Set the schema unqualified names resolve to.
    #[must_use]
    pub fn with_default_schema(mut self, schema: &'static str) -> Self {
        self.default_schema = Some(schema);
        self
    }

    /// Set whether DDL takes part in transactions.
    #[must_use]
    pub fn with_transactional_ddl(mut self, yes: bool) -> Self {
        self.transactional_ddl = yes;
        self
    }

    /// Set whether every identifier compares without regard to case.
    #[must_use]
    pub fn with_case_insensitive_identifiers(mut self, yes: bool) -> Self {
        self.case_insensitive_identifiers = yes;
        self
    }

    /// Set whether the engine has `TRUNCATE`.
    #[must_use]
    pub fn with_truncate(mut self, yes: bool) -> Self {
        self.has_truncate = yes;
        self
    }

    /// Set whether `BEGIN` inside a transaction is an error.
    #[must_use]
    pub fn with_begin_inside_transaction_fails(mut self, yes: bool) -> Self {
        self.begin_inside_transaction_fails = yes;
        self
    }

    /// Set whether `VACUUM` inside a transaction is an error.
    #[must_use]
    pub fn with_vacuum_inside_transaction_fails(mut self, yes: bool) -> Self {
        self.vacuum_inside_transaction_fails = yes;
        self
    }

    /// Set whether `ALTER COLUMN ... SET NOT NULL` exists.
    #[must_use]
    pub fn with_sets_not_null_in_place(mut self, yes: bool) -> Self {
        self.sets_not_null_in_place = yes;
        self
    }

    /// Set whether a `NOT NULL` column added without a default is filled with the type's
    /// implicit default.
    #[must_use]
    pub fn with_fills_new_not_null_columns(mut self, yes: bool) -> Self {
        self.fills_new_not_null_columns = yes;
        self
    }

    /// Set whether the engine builds an index for a foreign key no index leads with.
    #[must_use]
    pub fn with_indexes_foreign_keys(mut self, yes: bool) -> Self {
        self.indexes_foreign_keys = yes;
        self
    }

    /// An identifier as the engine compares it.
    pub fn fold(&self, ident: &sqlparser::ast::Ident) -> String {
        if ident.quote_style.is_none() || self.case_insensitive_identifiers {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        }
    }

    /// A name read from the live schema (as the catalog stores it) as the engine compares it.
    pub fn fold_live(&self, name: &str) -> String {
        if self.case_insensitive_identifiers {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    }
}
