//! Turning the diff's changes into SQLite statements.
//!
//! SQLite's `ALTER TABLE` can rename a table or a column, add a column and drop a column, each
//! with conditions. Every other change to a table is a rebuild, done as SQLite documents it
//! (<https://www.sqlite.org/lang_altertable.html>, "Making Other Kinds Of Table Schema
//! Changes"): with foreign keys off, create the new table under a temporary name, copy the
//! rows, drop the old table, rename the new one, recreate its indexes, then check the foreign
//! keys before the transaction commits.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::Checksum;
use godwit_core::dialect::{Hazard, HazardKind, RenderError, Statement};
use godwit_core::diff::{Change, TableChange};
use godwit_core::schema::{Column, FkAction, ForeignKey, Name, OnConflict, Table};

use crate::sql::{self, quote};
use crate::vtab::{self, Content};

mod rebuild;

use rebuild::{alter_natively, needs_rebuild, rebuild, refill, reindex};

/// The prefix of the temporary name a table is rebuilt under.
const REBUILD_PREFIX: &str = "_godwit_new_";

fn quote_list(idents: &[String]) -> String {
    idents
        .iter()
        .map(|i| quote(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How names are compared: SQLite's identifiers are case-insensitive, and the diff compares
/// them lowercased.
fn key(name: &Name) -> String {
    name.name.to_lowercase()
}

fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// How an existing table is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// With `ALTER TABLE` alone.
    Native,
    /// Rebuilt under a temporary name and swapped in.
    Rebuild,
    /// A virtual table that is not an FTS5 table before and after the change: dropped and
    /// created again, since its module owns its storage.
    Recreate,
    /// An FTS5 table that stays one: a new index takes over its rows ([`reindex`]).
    Reindex,
}

/// Facts about the whole change list that single changes depend on.
struct Context<'a> {
    /// Tables the list creates.
    created: BTreeSet<String>,
    /// Views the list creates that it does not drop first: they did not exist before.
    new_views: BTreeSet<String>,
    /// Foreign keys the list adds, by table: folded into the table's `CREATE TABLE`, since
    /// SQLite cannot add a foreign key to an existing table.
    added_keys: BTreeMap<String, Vec<&'a ForeignKey>>,
    /// The current name of each renamed table, by its new name: hazard queries run against
    /// the database before any change.
    original_names: BTreeMap<String, &'a Name>,
    /// How each altered table changes, by its (new) name.
    modes: BTreeMap<String, Mode>,
    /// Indexes of rebuilt tables: the rebuild drops and recreates them all, so the diff's
    /// separate index changes for them are skipped.
    absorbed_indexes: BTreeSet<String>,
}

impl<'a> Context<'a> {
    fn new(changes: &'a [Change]) -> Result<Self, RenderError> {
        let mut context = Context {
            created: BTreeSet::new(),
            new_views: BTreeSet::new(),
            added_keys: BTreeMap::new(),
            original_names: BTreeMap::new(),
            modes: BTreeMap::new(),
            absorbed_indexes: BTreeSet::new(),
        };
        let mut new_names: BTreeMap<String, &Name> = BTreeMap::new();
        let mut altered: Vec<&TableChange> = Vec::new();
        let mut dropped_views: BTreeSet<String> = BTreeSet::new();
        for change in changes {
            match change {
                Change::DropView(view) => {
                    dropped_views.insert(key(&view.name));
                }
                Change::CreateView(view) if !dropped_views.contains(&key(&view.name)) => {
                    context.new_views.insert(key(&view.name));
                }
                Change::RenameTable { from, to } => {
                    context.original_names.insert(key(to), from);
                    new_names.insert(key(from), to);
                }
                Change::CreateTable(table) => {
                    context.created.insert(key(&table.name));
                }
                Change::AlterTable(change) => altered.push(change),
                Change::AddForeignKey { table, key: fk } => {
                    context.added_keys.entry(key(table)).or_default().push(fk)
                }
                _ => {}
            }
        }
        // Tables whose foreign keys change: SQLite can only do that by rebuilding them.
        let mut keys_changed: BTreeSet<String> = BTreeSet::new();
        for change in changes {
            let (table, verb) = match change {
                Change::AddForeignKey { table, .. } => (key(table), "add"),
                // Named by the table's current name; the alteration uses its new one.
                Change::DropForeignKey { table, .. } => (
                    new_names
                        .get(&key(table))
                        .map_or_else(|| key(table), |n| key(n)),
                    "drop",
                ),
                _ => continue,
            };
            if context.created.contains(&table) {
                continue;
            }
            if !altered.iter().any(|c| key(&c.to.name) == table) {
                return Err(RenderError::Impossible(format!(
                    "cannot {verb} a foreign key on existing table {table}: SQLite needs the \
                     table rebuilt for that, and the change list does not carry the table's \
                     definition to rebuild it from; make this change with a versioned migration"
                )));
            }
            keys_changed.insert(table);
        }
        for change in altered {
            let name = key(&change.to.name);
            let mode = if vtab::fts5_content(&change.from).is_some()
                && vtab::fts5_content(&change.to).is_some()
            {
                Mode::Reindex
            } else if change.from.virtual_table.is_some() || change.to.virtual_table.is_some() {
                Mode::Recreate
            } else if keys_changed.contains(&name) || needs_rebuild(change) {
                Mode::Rebuild
            } else {
                Mode::Native
            };
            if mode == Mode::Rebuild {
                for index in change.from.indexes.iter().chain(&change.to.indexes) {
                    context.absorbed_indexes.insert(key(&index.name));
                }
            }
            context.modes.insert(name, mode);
        }
        Ok(context)
    }

    /// The name `table` (known by its new name) has in the database before any change.
    fn original_name<'n>(&'n self, table: &'n Name) -> &'n str {
        self.original_names
            .get(&key(table))
            .map_or(&table.name, |n| &n.name)
    }

    fn absorbed(&self, index: &Name) -> bool {
        self.absorbed_indexes.contains(&key(index))
    }

    /// Whether the table or view called `name` is one the list makes from nothing, and so
    /// holds no rows yet.
    fn is_new(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.created.contains(&name) || self.new_views.contains(&name)
    }
}

/// The temporary table holding, per rebuilt table, how many rows broke a foreign key before.
const FOREIGN_KEY_BASELINE: &str = "\"godwit_foreign_key_baseline\"";

/// Render `changes`, in the diff's order, as statements.
pub(crate) fn render(changes: &[Change]) -> Result<Vec<Statement>, RenderError> {
    let context = Context::new(changes)?;
    let mut body = Vec::new();
    // FTS5 indexes to fill from the tables they index, once every table has its new shape.
    let mut refills = Vec::new();
    // Rebuilt tables, whose foreign keys are checked once every change is made.
    let mut rebuilt: Vec<&Name> = Vec::new();
    let mut drops_tables = false;
    for change in changes {
        match change {
            Change::DropTrigger(trigger) => body.push(Statement::execute(format!(
                "DROP TRIGGER {}",
                quote(&trigger.name)
            ))),
            Change::DropView(view) => body.push(Statement::execute(format!(
                "DROP VIEW {}",
                quote(&view.name.name)
            ))),
            // Folded into CREATE TABLE or a rebuild; `Context::new` checked there is one.
            Change::DropForeignKey { .. } | Change::AddForeignKey { .. } => {}
            Change::DropIndex(index) => {
                if !context.absorbed(&index.name) {
                    body.push(drop_index(&index.name));
                }
            }
            Change::RenameTable { from, to } => body.push(Statement::execute(format!(
                "ALTER TABLE {} RENAME TO {}",
                quote(&from.name),
                quote(&to.name)
            ))),
            Change::CreateTable(table) => {
                let added = context
                    .added_keys
                    .get(&key(&table.name))
                    .map_or(&[][..], Vec::as_slice);
                let keys: Vec<&ForeignKey> = table
                    .foreign_keys
                    .iter()
                    .chain(added.iter().copied())
                    .collect();
                body.push(Statement::execute(create_table(
                    table,
                    &table.name.name,
                    &keys,
                )));
                // A new index of a table that has rows already starts empty; FTS5 fills it.
                if let Some(Content::External(source)) = vtab::fts5_content(table)
                    && !context.is_new(&source)
                {
                    refills.push(refill(&table.name));
                }
            }
            Change::AlterTable(change) => match context.modes[&key(&change.to.name)] {
                Mode::Native => alter_natively(&context, change, &mut body),
                Mode::Rebuild => {
                    rebuild(&context, change, &mut body);
                    rebuilt.push(&change.to.name);
                }
                Mode::Recreate => {
                    body.push(drop_table(
                        &change.from,
                        context.original_name(&change.to.name),
                    ));
                    let keys: Vec<&ForeignKey> = change.to.foreign_keys.iter().collect();
                    body.push(Statement::execute(create_table(
                        &change.to,
                        &change.to.name.name,
                        &keys,
                    )));
                }
                Mode::Reindex => reindex(&context, change, &mut body, &mut refills),
            },
            Change::DropTable(table) => {
                drops_tables = true;
                body.push(drop_table(table, &table.name.name));
            }
            Change::CreateIndex(index) => {
                if !context.absorbed(&index.name) {
                    body.push(Statement::execute(&index.definition));
                }
            }
            Change::RenameIndex { from, index } => {
                if !context.absorbed(from) && !context.absorbed(&index.name) {
                    // SQLite has no ALTER INDEX: the index is created again under its new name.
                    body.push(drop_index(from));
                    body.push(Statement::execute(&index.definition));
                }
            }
            Change::CreateView(view) => body.push(Statement::execute(&view.definition)),
            Change::CreateTrigger(trigger) => {
                body.push(Statement::execute(&trigger.definition));
            }
            // SQLite has no comments.
            Change::CommentColumn { .. } | Change::Comment { .. } => {}
            Change::CreateSchema(_) | Change::DropSchema(_) => {
                return Err(postgres_only("schemas"));
            }
            Change::CreateExtension(_) | Change::DropExtension(_) => {
                return Err(postgres_only("extensions"));
            }
            Change::CreateEnum(_) | Change::AlterEnum { .. } | Change::DropEnum(_) => {
                return Err(postgres_only("enum types"));
            }
            Change::CreateDomain(_) | Change::DropDomain(_) => {
                return Err(postgres_only("domains"));
            }
            Change::CreateSequence(_) | Change::DropSequence(_) => {
                return Err(postgres_only("sequences"));
            }
            Change::CreateFunction(_) | Change::DropFunction(_) => {
                return Err(postgres_only("functions"));
            }
            other => {
                return Err(RenderError::Impossible(format!(
                    "godwit-sqlite cannot render this change: {other:?}"
                )));
            }
        }
    }

    body.extend(refills);

    let mut statements = Vec::new();
    // Off while tables are rebuilt or dropped, so that dropping the old copy of a table never
    // runs ON DELETE actions on the rows that reference it. SQLite ignores this pragma inside a
    // transaction, hence outside.
    let keys_off = !rebuilt.is_empty() || drops_tables;
    if keys_off {
        statements.push(Statement::execute("PRAGMA foreign_keys = OFF").session_setting());
    }
    // Rows may break a foreign key before anything runs (written while keys were off); a
    // rebuild must not add to them, but is not blamed for them: their count per table is
    // kept first, under the table's final name, and compared after.
    let violations = |name: &str| {
        let name = sql::string_literal(name);
        format!(
            "SELECT count(*) FROM pragma_foreign_key_check \
             WHERE lower(\"table\") = lower({name}) OR lower(parent) = lower({name})"
        )
    };
    if !rebuilt.is_empty() {
        statements.push(Statement::execute(format!(
            "CREATE TEMP TABLE IF NOT EXISTS {FOREIGN_KEY_BASELINE} \
             (\"table_name\" TEXT NOT NULL, \"violations\" INTEGER NOT NULL)"
        )));
    }
    for table in &rebuilt {
        statements.push(Statement::execute(format!(
            "INSERT INTO temp.{FOREIGN_KEY_BASELINE} SELECT {}, ({})",
            sql::string_literal(&table.name),
            violations(context.original_name(table))
        )));
    }
    statements.extend(body);
    for table in rebuilt {
        statements.push(Statement::assert_empty(
            format!(
                "SELECT 1 WHERE ({}) > (SELECT \"violations\" FROM temp.{FOREIGN_KEY_BASELINE} \
                 WHERE \"table_name\" = {} ORDER BY rowid DESC LIMIT 1)",
                violations(&table.name),
                sql::string_literal(&table.name)
            ),
            format!(
                "rebuilding table {table} would leave more rows breaking a foreign key from or \
                 to it than there were before, so nothing was changed; PRAGMA \
                 foreign_key_check lists them"
            ),
        ));
    }
    if keys_off {
        statements.push(Statement::execute("PRAGMA foreign_keys = ON").session_setting());
    }
    Ok(statements)
}

/// Statements that fail, saying `message`, when `query` returns a row. SQLite has no
/// procedural code outside triggers; a constraint does the failing instead: the count of rows
/// goes into a temporary table whose check, named after the message, wants zero, and SQLite's
/// error names the failed constraint. Each message gets its own table, named after its
/// checksum, so a migration can hold several checks.
pub(crate) fn assertion(query: &str, message: &str) -> String {
    let checksum = Checksum::of(message);
    let table = quote(&format!("godwit_check_{}", &checksum.as_str()[..8]));
    format!(
        "CREATE TEMP TABLE IF NOT EXISTS {table} (\"rows\" INTEGER CONSTRAINT {} CHECK (\"rows\" = 0));\n\
         INSERT INTO temp.{table} SELECT count(*) FROM ({})",
        quote(message),
        query.trim().trim_end_matches(';')
    )
}

fn postgres_only(what: &str) -> RenderError {
    RenderError::Impossible(format!(
        "SQLite has no {what}; a schema for SQLite cannot contain them"
    ))
}

fn drop_index(name: &Name) -> Statement {
    Statement::execute(format!("DROP INDEX {}", quote(&name.name)))
}

/// `DROP TABLE` for `table`, whose rows are counted under `counted_as`: its name before any
/// change of the list ran.
fn drop_table(table: &Table, counted_as: &str) -> Statement {
    let drop = format!("DROP TABLE {}", quote(&table.name.name));
    if let Some(Content::External(_)) = vtab::fts5_content(table) {
        // An index of another table's text loses no row with it. The comments tell the lint
        // so when the statement is written into a migration; they name no table, whose name
        // could hold a line break.
        return Statement::execute(format!(
            "-- An FTS5 index of another table's text: that table keeps the text.\n\
             -- godwit:allow drop-table\n{drop}"
        ));
    }
    let quoted = quote(counted_as);
    Statement::execute(drop).with_hazard(Hazard::new(
        HazardKind::DropTable,
        format!("drops table {}", table.name),
        Some(format!("SELECT count(*) FROM {quoted}")),
    ))
}

/// Whether `column` is the table's rowid: its only primary-key column, declared `INTEGER`,
/// and not `PRIMARY KEY DESC`.
fn is_rowid_alias(table: &Table, column: &Column) -> bool {
    !table.without_rowid
        && table.primary_key.as_ref().is_some_and(|pk| {
            pk.columns.len() == 1 && same(&pk.columns[0], &column.name) && !pk.descending
        })
        && column.data_type.eq_ignore_ascii_case("INTEGER")
}

/// The `ON CONFLICT` clause for `action`, with a leading space; nothing for SQLite's default.
fn conflict_sql(action: Option<OnConflict>) -> String {
    action
        .map(|a| format!(" ON CONFLICT {}", a.sql()))
        .unwrap_or_default()
}

/// A default as it goes after `DEFAULT`: SQLite accepts a literal (or a signed number) bare,
/// anything else in parentheses. The catalog gives an expression without its parentheses.
fn default_sql(default: &str) -> String {
    let tokens = sql::tokenize(default);
    let literal = match tokens.as_slice() {
        [_] => true,
        [sign, number] => (sign.is("-") || sign.is("+")) && number.kind == sql::Kind::Number,
        _ => false,
    };
    if literal {
        default.to_string()
    } else {
        format!("({default})")
    }
}

fn column_sql(table: &Table, column: &Column) -> String {
    let mut out = quote(&column.name);
    if !column.data_type.is_empty() {
        out.push(' ');
        out.push_str(&column.data_type);
    }
    let inline_key = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.columns.len() == 1 && same(&pk.columns[0], &column.name));
    if let Some(pk) = inline_key {
        out.push_str(" PRIMARY KEY");
        // Only here, on the column: `PRIMARY KEY (id DESC)` would make an INTEGER column the
        // rowid, which `id INTEGER PRIMARY KEY DESC` is not.
        if pk.descending {
            out.push_str(" DESC");
        }
        out.push_str(&conflict_sql(pk.on_conflict));
        // SQLite allows AUTOINCREMENT only here, on the rowid.
        if column.autoincrement {
            out.push_str(" AUTOINCREMENT");
        }
    }
    if !column.nullable {
        out.push_str(" NOT NULL");
        out.push_str(&conflict_sql(column.not_null_conflict));
    }
    if let Some(default) = &column.default {
        out.push_str(" DEFAULT ");
        out.push_str(&default_sql(default));
    }
    if let Some(collation) = &column.collation {
        out.push_str(" COLLATE ");
        out.push_str(&quote(collation));
    }
    if let Some(generated) = &column.generated {
        out.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            generated.expression,
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        ));
    }
    out
}

fn foreign_key_sql(key: &ForeignKey) -> String {
    let mut out = String::new();
    if let Some(name) = &key.name {
        out.push_str(&format!("CONSTRAINT {} ", quote(name)));
    }
    out.push_str(&format!(
        "FOREIGN KEY ({}) REFERENCES {}",
        quote_list(&key.columns),
        quote(&key.references.name)
    ));
    // No columns: the referenced table's primary key.
    if !key.referenced_columns.is_empty() {
        out.push_str(&format!(" ({})", quote_list(&key.referenced_columns)));
    }
    if key.on_delete != FkAction::NoAction {
        out.push_str(&format!(" ON DELETE {}", key.on_delete.sql()));
    }
    if key.on_update != FkAction::NoAction {
        out.push_str(&format!(" ON UPDATE {}", key.on_update.sql()));
    }
    if key.deferrable {
        out.push_str(" DEFERRABLE");
        if key.initially_deferred {
            out.push_str(" INITIALLY DEFERRED");
        }
    }
    out
}

/// `CREATE TABLE` for `table` under `name`, with `keys` as its foreign keys, or `CREATE
/// VIRTUAL TABLE` for a virtual table.
fn create_table(table: &Table, name: &str, keys: &[&ForeignKey]) -> String {
    if let Some(virtual_table) = &table.virtual_table {
        let module = &virtual_table.module;
        let module = if module
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            module.clone()
        } else {
            quote(module)
        };
        let arguments = vtab::arguments(table, virtual_table);
        return if arguments.is_empty() {
            format!("CREATE VIRTUAL TABLE {} USING {module}", quote(name))
        } else {
            format!(
                "CREATE VIRTUAL TABLE {} USING {module}({})",
                quote(name),
                arguments.join(", ")
            )
        };
    }
    let mut lines: Vec<String> = table.columns.iter().map(|c| column_sql(table, c)).collect();
    if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
        let constraint = pk
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", quote(n)))
            .unwrap_or_default();
        lines.push(format!(
            "{constraint}PRIMARY KEY ({}){}",
            quote_list(&pk.columns),
            conflict_sql(pk.on_conflict)
        ));
    }
    for unique in &table.uniques {
        let constraint = unique
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", quote(n)))
            .unwrap_or_default();
        lines.push(format!(
            "{constraint}UNIQUE ({}){}",
            quote_list(&unique.columns),
            conflict_sql(unique.on_conflict)
        ));
    }
    for check in &table.checks {
        let constraint = check
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", quote(n)))
            .unwrap_or_default();
        lines.push(format!("{constraint}CHECK ({})", check.expression));
    }
    for key in keys {
        lines.push(foreign_key_sql(key));
    }
    // Constraints the model has no field for are kept as the definitions they came as.
    lines.extend(table.other_constraints.iter().map(|c| c.expression.clone()));
    let mut options = Vec::new();
    if table.strict {
        options.push("STRICT");
    }
    if table.without_rowid {
        options.push("WITHOUT ROWID");
    }
    let mut out = format!(
        "CREATE TABLE {} (\n    {}\n)",
        quote(name),
        lines.join(",\n    ")
    );
    if !options.is_empty() {
        out.push(' ');
        out.push_str(&options.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use godwit_core::diff::ColumnChange;
    use godwit_core::schema::PrimaryKey;

    use super::rebuild::{affinity, can_add, can_drop, native_order_matches};
    use super::*;

    fn table(name: &str, columns: &[(&str, &str)]) -> Table {
        let mut table = Table::new(
            Name::bare(name),
            columns.iter().map(|(n, t)| Column::new(*n, *t)).collect(),
        );
        table.primary_key = Some(PrimaryKey::new(vec![columns[0].0.to_string()]));
        table
    }

    fn change(from: Table, to: Table) -> TableChange {
        TableChange {
            from,
            to,
            renamed_columns: Vec::new(),
            added_columns: Vec::new(),
            dropped_columns: Vec::new(),
            altered_columns: Vec::new(),
            primary_key: None,
            added_uniques: Vec::new(),
            dropped_uniques: Vec::new(),
            added_checks: Vec::new(),
            dropped_checks: Vec::new(),
            added_foreign_keys: Vec::new(),
            dropped_foreign_keys: Vec::new(),
            options_changed: false,
            comment: None,
            kept_triggers: Vec::new(),
            children: Vec::new(),
        }
    }

    fn sql(statements: &[Statement]) -> Vec<&str> {
        statements.iter().map(|s| s.sql.as_str()).collect()
    }

    fn parent_key() -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            references: Name::bare("parent"),
            referenced_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        }
    }

    #[test]
    fn defaults_are_bare_literals_or_parenthesized() {
        assert_eq!(default_sql("'a'"), "'a'");
        assert_eq!(default_sql("-1"), "-1");
        assert_eq!(default_sql("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(default_sql("1 + 2"), "(1 + 2)");
        assert_eq!(default_sql("datetime('now')"), "(datetime('now'))");
    }

    #[test]
    fn affinities_follow_sqlite_rules() {
        assert_eq!(affinity("BIGINT"), "INTEGER");
        assert_eq!(affinity("VARCHAR(20)"), "TEXT");
        assert_eq!(affinity(""), "BLOB");
        assert_eq!(affinity("DOUBLE PRECISION"), "REAL");
        assert_eq!(affinity("DECIMAL(10, 2)"), "NUMERIC");
        // "POINT" contains INT: SQLite's rule, not a bug.
        assert_eq!(affinity("FLOATING POINT"), "INTEGER");
    }

    #[test]
    fn a_key_added_to_an_existing_table_rebuilds_it_with_the_key() {
        let from = table("child", &[("id", "INTEGER"), ("parent_id", "INTEGER")]);
        let mut to = from.clone();
        to.foreign_keys.push(parent_key());
        let changes = [
            Change::AlterTable(Box::new(change(from, to))),
            Change::AddForeignKey {
                table: Name::bare("child"),
                key: parent_key(),
            },
        ];
        let statements = render(&changes).unwrap();
        let sql = sql(&statements);
        assert_eq!(sql[0], "PRAGMA foreign_keys = OFF");
        // The count of rows breaking a key before, which the rebuild must not add to.
        assert!(sql[2].starts_with("INSERT INTO temp.\"godwit_foreign_key_baseline\""));
        assert!(
            sql[3].starts_with("CREATE TABLE \"_godwit_new_child\"")
                && sql[3].contains(
                    "FOREIGN KEY (\"parent_id\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE"
                ),
            "{sql:#?}"
        );
        assert!(sql.contains(&"DROP TABLE \"child\""), "{sql:#?}");
        assert_eq!(sql[sql.len() - 1], "PRAGMA foreign_keys = ON");
        assert!(sql[sql.len() - 2].contains("pragma_foreign_key_check"));
    }

    #[test]
    fn a_key_change_without_the_table_definition_is_refused() {
        let changes = [Change::AddForeignKey {
            table: Name::bare("child"),
            key: parent_key(),
        }];
        let error = render(&changes).unwrap_err();
        assert!(error.to_string().contains("child"), "{error}");
    }

    #[test]
    fn an_index_rename_recreates_the_index_under_its_new_name() {
        let rename = Change::RenameIndex {
            from: Name::bare("a"),
            index: godwit_core::schema::Index {
                name: Name::bare("b"),
                unique: false,
                keys: vec!["x".into()],
                predicate: None,
                method: None,
                definition: "CREATE INDEX b ON t(x)".into(),
            },
        };
        let statements = render(&[rename]).unwrap();
        assert_eq!(
            sql(&statements),
            ["DROP INDEX \"a\"", "CREATE INDEX b ON t(x)"]
        );
    }

    #[test]
    fn postgres_objects_are_refused() {
        let error = render(&[Change::CreateSchema("app".into())]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "SQLite has no schemas; a schema for SQLite cannot contain them"
        );
    }

    #[test]
    fn columns_added_before_the_end_need_a_rebuild() {
        let from = table("t", &[("id", "INTEGER"), ("b", "TEXT")]);
        let to = table("t", &[("id", "INTEGER"), ("a", "TEXT"), ("b", "TEXT")]);
        let mut c = change(from, to);
        c.added_columns.push(Column::new("a", "TEXT"));
        assert!(!native_order_matches(&c));
        c.to.columns.swap(1, 2);
        assert!(native_order_matches(&c));
    }

    #[test]
    fn native_operations_respect_sqlite_limits() {
        let mut t = table("t", &[("id", "INTEGER"), ("a", "TEXT"), ("b", "TEXT")]);
        t.checks.push(godwit_core::schema::Check {
            name: None,
            expression: "length(\"A\") > 0".into(),
        });
        assert!(!can_drop(&t, &t.columns[0]), "primary key");
        assert!(!can_drop(&t, &t.columns[1]), "used by a check");
        assert!(can_drop(&t, &t.columns[2]));
        let mut column = Column::new("c", "TEXT");
        assert!(can_add(&t, &column));
        column.nullable = false;
        assert!(!can_add(&t, &column), "NOT NULL without a default");
        column.default = Some("'x'".into());
        assert!(can_add(&t, &column));
        column.default = Some("CURRENT_TIMESTAMP".into());
        assert!(!can_add(&t, &column), "not a constant");
        let altered = ColumnChange {
            from: Column::new("a", "TEXT"),
            to: Column::new("a", "INTEGER"),
        };
        let mut c = change(t.clone(), t);
        c.altered_columns.push(altered);
        assert!(needs_rebuild(&c));
    }
}
