//! Turning the diff's changes into SQLite statements.
//!
//! SQLite's `ALTER TABLE` can rename a table or a column, add a column and drop a column, each
//! with conditions. Every other change to a table is a rebuild, done as SQLite documents it
//! (<https://www.sqlite.org/lang_altertable.html>, "Making Other Kinds Of Table Schema
//! Changes"): with foreign keys off, create the new table under a temporary name, copy the
//! rows, drop the old table, rename the new one, recreate its indexes, then check the foreign
//! keys before the transaction commits.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::dialect::{Hazard, HazardKind, RenderError, Statement};
use godwit_core::diff::{Change, TableChange};
use godwit_core::schema::{Column, FkAction, ForeignKey, Name, OnConflict, Table};
use godwit_core::{Checksum, Dialect};

use crate::dialect::SqliteDialect;
use crate::sql;
use crate::vtab::{self, Content};

/// The prefix of the temporary name a table is rebuilt under.
const REBUILD_PREFIX: &str = "_godwit_new_";

fn quote(ident: &str) -> String {
    SqliteDialect.quote_identifier(ident)
}

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

/// Whether a table change needs more than SQLite's `ALTER TABLE` (foreign-key changes are
/// decided by the caller, from the change list).
fn needs_rebuild(change: &TableChange) -> bool {
    !change.altered_columns.is_empty()
        || change.primary_key.is_some()
        || !change.added_uniques.is_empty()
        || !change.dropped_uniques.is_empty()
        || !change.added_checks.is_empty()
        || !change.dropped_checks.is_empty()
        || change.options_changed
        || !change.added_columns.iter().all(|c| can_add(&change.to, c))
        || !change
            .dropped_columns
            .iter()
            .all(|c| can_drop(&change.from, c))
        || !native_order_matches(change)
}

/// Whether `ADD COLUMN` can add `column`: SQLite refuses a key or unique column, a stored
/// generated column, and a default that is not a constant; and a NOT NULL column needs a
/// default that is not NULL. A generated NOT NULL column is left to a rebuild, which checks
/// the existing rows with the same rules as any insert.
fn can_add(table: &Table, column: &Column) -> bool {
    let in_key = table
        .primary_key
        .iter()
        .flat_map(|pk| &pk.columns)
        .chain(table.uniques.iter().flat_map(|u| &u.columns))
        .any(|c| same(c, &column.name));
    let constant_default = column.default.as_deref().is_none_or(|default| {
        let tokens = sql::tokenize(default);
        match tokens.as_slice() {
            [token] => {
                !token.is("(")
                    && !["CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"]
                        .iter()
                        .any(|w| token.is_word(w))
            }
            [sign, number] => (sign.is("-") || sign.is("+")) && number.kind == sql::Kind::Number,
            _ => false,
        }
    });
    let not_null_ok = column.nullable
        || (column.generated.is_none()
            && column
                .default
                .as_deref()
                .is_some_and(|d| !d.eq_ignore_ascii_case("NULL")));
    !in_key
        && !column.generated.as_ref().is_some_and(|g| g.stored)
        && constant_default
        && not_null_ok
}

/// Whether `DROP COLUMN` can drop `column`: SQLite refuses a column of a key, a unique
/// constraint or a foreign key, one a CHECK or a generated column uses, and a stored generated
/// column. Indexes, views and triggers that use it have been dropped by earlier changes.
fn can_drop(table: &Table, column: &Column) -> bool {
    let in_constraint = table
        .primary_key
        .iter()
        .flat_map(|pk| &pk.columns)
        .chain(table.uniques.iter().flat_map(|u| &u.columns))
        .chain(table.foreign_keys.iter().flat_map(|k| &k.columns))
        .any(|c| same(c, &column.name));
    let used = table
        .checks
        .iter()
        .map(|c| c.expression.as_str())
        .chain(
            table
                .columns
                .iter()
                .filter(|c| !same(&c.name, &column.name))
                .filter_map(|c| c.generated.as_ref().map(|g| g.expression.as_str())),
        )
        .any(|expression| sql::mentions(expression, &column.name));
    !in_constraint && !used && !column.generated.as_ref().is_some_and(|g| g.stored)
}

/// Whether renaming, dropping and appending columns gives the desired column order; a column
/// added anywhere but at the end needs a rebuild.
fn native_order_matches(change: &TableChange) -> bool {
    let names = |columns: &mut dyn Iterator<Item = &Column>| -> Vec<String> {
        columns.map(|c| c.name.to_lowercase()).collect()
    };
    let kept = change.from.columns.iter().filter(|c| {
        !change
            .dropped_columns
            .iter()
            .any(|d| same(&d.name, &c.name))
    });
    let expected = names(&mut kept.chain(&change.added_columns));
    expected == names(&mut change.to.columns.iter())
}

/// `RENAME COLUMN` for every renamed column. A rebuild renames first too: SQLite then rewrites
/// what refers to the column elsewhere (other tables' foreign keys, triggers), which copying
/// rows into a table with the new name would not.
fn rename_columns(change: &TableChange, out: &mut Vec<Statement>) {
    let table = quote(&change.from.name.name);
    for (from, to) in &change.renamed_columns {
        out.push(Statement::execute(format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            quote(from),
            quote(to)
        )));
    }
}

fn alter_natively(context: &Context<'_>, change: &TableChange, out: &mut Vec<Statement>) {
    rename_columns(change, out);
    let table = quote(&change.from.name.name);
    let original = quote(context.original_name(&change.to.name));
    for column in &change.dropped_columns {
        let drop = Statement::execute(format!(
            "ALTER TABLE {table} DROP COLUMN {}",
            quote(&column.name)
        ))
        .with_hazard(Hazard::new(
            HazardKind::DropColumn,
            format!("drops column {}.{}", change.to.name, column.name),
            Some(format!(
                "SELECT count(*) FROM {original} WHERE {} IS NOT NULL",
                quote(&column.name)
            )),
        ));
        out.push(drop);
    }
    for column in &change.added_columns {
        out.push(Statement::execute(format!(
            "ALTER TABLE {table} ADD COLUMN {}",
            column_sql(&change.to, column)
        )));
    }
}

/// SQLite's type affinity of a declared type (<https://www.sqlite.org/datatype3.html>, 3.1).
fn affinity(data_type: &str) -> &'static str {
    let upper = data_type.to_ascii_uppercase();
    if upper.contains("INT") {
        "INTEGER"
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
        "TEXT"
    } else if upper.is_empty() || upper.contains("BLOB") {
        "BLOB"
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|t| upper.contains(t)) {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// The data a rebuild may lose, as one hazard: a statement carries one, and godwit asks once.
/// The count is of rows any part of the change touches, in the database as it is now.
fn rebuild_hazard(context: &Context<'_>, change: &TableChange) -> Option<Hazard> {
    let table = &change.to.name;
    let mut found: Vec<(HazardKind, String, String)> = Vec::new();
    for column in &change.dropped_columns {
        found.push((
            HazardKind::DropColumn,
            format!("drops column {table}.{}", column.name),
            format!("{} IS NOT NULL", quote(&column.name)),
        ));
    }
    for altered in &change.altered_columns {
        let (from, to) = (&altered.from, &altered.to);
        let physical = quote(physical_name(change, &from.name));
        let (before, after) = (
            stored_affinity(&change.from, &from.data_type),
            stored_affinity(&change.to, &to.data_type),
        );
        let retyped = format!(
            "changes the type of {table}.{} from {} to {}",
            to.name,
            display_type(&from.data_type),
            display_type(&to.data_type)
        );
        if before != after
            && let Some(altered) = altered_values(after, &physical)
        {
            found.push((HazardKind::NarrowType, retyped.clone(), altered));
        }
        if change.to.strict
            && from.data_type != to.data_type
            && let Some(refused) = unstorable_values(&to.data_type, &physical)
        {
            found.push((HazardKind::ConvertType, retyped, refused));
        }
        if from.nullable && !to.nullable {
            found.push((
                HazardKind::AddConstraint,
                format!("adds NOT NULL to {table}.{}", to.name),
                format!("{physical} IS NULL"),
            ));
        }
    }
    // A table made STRICT takes only values its columns' types can hold, also in the columns
    // that keep their type (a rowid holds integers already).
    if change.to.strict && !change.from.strict {
        let refused: Vec<String> = change
            .to
            .columns
            .iter()
            .filter(|column| {
                column.generated.is_none()
                    && !is_rowid_alias(&change.to, column)
                    && change.from.columns.iter().any(|c| {
                        same(&c.name, &column.name)
                            && c.data_type == column.data_type
                            && c.generated.is_none()
                    })
            })
            .filter_map(|column| {
                let physical = quote(physical_name(change, &column.name));
                unstorable_values(&column.data_type, &physical).map(|c| format!("({c})"))
            })
            .collect();
        if !refused.is_empty() {
            found.push((
                HazardKind::ConvertType,
                format!("makes {table} STRICT: its columns take only values of their types"),
                refused.join(" OR "),
            ));
        }
    }
    // Checks and unique constraints name columns by their new names; with none renamed or
    // added, the rows that break them can be counted in the table as it is.
    if change.renamed_columns.is_empty() && change.added_columns.is_empty() {
        for check in &change.added_checks {
            found.push((
                HazardKind::AddConstraint,
                format!("adds CHECK ({}) to {table}", check.expression),
                // A check holds unless its expression is false; NULL passes.
                format!("NOT ({})", check.expression),
            ));
        }
        let original = quote(context.original_name(table));
        for unique in &change.added_uniques {
            let columns = quote_list(&unique.columns);
            // NULLs are distinct in a SQLite unique constraint.
            let not_null = unique
                .columns
                .iter()
                .map(|c| format!(" AND {} IS NOT NULL", quote(c)))
                .collect::<String>();
            found.push((
                HazardKind::AddConstraint,
                format!("adds UNIQUE ({}) to {table}", unique.columns.join(", ")),
                format!(
                    "({columns}) IN (SELECT {columns} FROM {original} GROUP BY {columns} \
                     HAVING count(*) > 1){not_null}"
                ),
            ));
        }
    }
    for column in &change.added_columns {
        if !column.nullable && column.default.is_none() && column.generated.is_none() {
            found.push((
                HazardKind::AddConstraint,
                format!(
                    "adds NOT NULL column {table}.{} without a default",
                    column.name
                ),
                "1".to_string(),
            ));
        }
    }
    // What the copy loses needs consent; what makes it fail refuses the change (counted apart
    // when the copy loses something too, so that consent to the loss does not let it fail).
    let (lost, failing): (Vec<_>, Vec<_>) = found
        .iter()
        .partition(|(kind, _, _)| matches!(kind, HazardKind::DropColumn | HazardKind::NarrowType));
    let original = quote(context.original_name(table));
    let count = |parts: &[&(HazardKind, String, String)]| {
        let condition = parts
            .iter()
            .map(|(_, _, c)| format!("({c})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        format!("SELECT count(*) FROM {original} WHERE {condition}")
    };
    let first = |kinds: [HazardKind; 2], parts: &[&(HazardKind, String, String)]| {
        kinds
            .into_iter()
            .find(|k| parts.iter().any(|(f, _, _)| f == k))
    };
    let description = found
        .iter()
        .map(|(_, d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(kind) = first([HazardKind::DropColumn, HazardKind::NarrowType], &lost) {
        let failing = (!failing.is_empty()).then(|| count(&failing));
        return Some(
            Hazard::new(kind, description, Some(count(&lost))).with_failing_query(failing),
        );
    }
    let kind = first(
        [HazardKind::AddConstraint, HazardKind::ConvertType],
        &failing,
    )?;
    Some(Hazard::new(kind, description, Some(count(&failing))))
}

/// The affinity by which a column of `table` declared `data_type` stores what it is given:
/// a STRICT table's `ANY` column keeps every value as it comes.
fn stored_affinity(table: &Table, data_type: &str) -> &'static str {
    if table.strict && data_type.eq_ignore_ascii_case("ANY") {
        "BLOB"
    } else {
        affinity(data_type)
    }
}

/// The rows whose value of column `c` (quoted) a copy into a column of affinity `after`
/// changes (<https://www.sqlite.org/datatype3.html>, 3): text that reads as a number becomes
/// that number, which loses its spelling when it does not read back the same (`007`, `1.50`);
/// a number stored as text loses digits beyond the fifteen SQLite writes; an integer stored as
/// a real loses digits beyond 2^53. A comparison with a `CAST` applies numeric affinity to
/// the text, which tells text that converts from text that stays. `None` when nothing
/// changes (BLOB affinity converts nothing).
fn altered_values(after: &str, c: &str) -> Option<String> {
    let reads_back = |affinity: &str| {
        format!(
            "typeof({c}) = 'text' AND {c} = CAST({c} AS {affinity}) \
             AND CAST(CAST({c} AS {affinity}) AS TEXT) <> {c}"
        )
    };
    match after {
        "TEXT" => Some(format!(
            "typeof({c}) = 'real' AND CAST(CAST({c} AS TEXT) AS REAL) <> {c}"
        )),
        "NUMERIC" | "INTEGER" => Some(reads_back("NUMERIC")),
        "REAL" => Some(format!(
            "({}) OR (typeof({c}) = 'integer' AND CAST(CAST({c} AS REAL) AS INTEGER) <> {c})",
            reads_back("REAL")
        )),
        _ => None,
    }
}

/// The rows whose value of column `c` (quoted) a STRICT column declared `data_type` cannot
/// store, which makes the copy fail (<https://www.sqlite.org/stricttables.html>): a value its
/// type's affinity cannot convert without loss. `None` for `ANY`, which takes everything.
fn unstorable_values(data_type: &str, c: &str) -> Option<String> {
    match data_type.to_ascii_uppercase().as_str() {
        "INT" | "INTEGER" => Some(format!(
            "typeof({c}) = 'blob' OR (typeof({c}) IN ('text', 'real') AND NOT ({c} = CAST({c} AS INTEGER)))"
        )),
        "REAL" => Some(format!(
            "typeof({c}) = 'blob' OR (typeof({c}) = 'text' AND NOT ({c} = CAST({c} AS REAL)))"
        )),
        "TEXT" => Some(format!("typeof({c}) = 'blob'")),
        "BLOB" => Some(format!("typeof({c}) IN ('integer', 'real', 'text')")),
        _ => None,
    }
}

fn display_type(data_type: &str) -> &str {
    if data_type.is_empty() {
        "no type"
    } else {
        data_type
    }
}

/// The name a column of `change.from` (which carries renamed columns under their new names)
/// has in the table before the change, where hazard counts run.
fn physical_name<'c>(change: &'c TableChange, name: &'c str) -> &'c str {
    change
        .renamed_columns
        .iter()
        .find(|(_, new)| same(new, name))
        .map_or(name, |(old, _)| old.as_str())
}

/// A name for the rowid that no column of `tables` hides, if any is left.
fn rowid_name(tables: &[&Table]) -> Option<&'static str> {
    ["rowid", "_rowid_", "oid"].into_iter().find(|alias| {
        !tables
            .iter()
            .any(|t| t.columns.iter().any(|c| same(&c.name, alias)))
    })
}

fn rebuild(context: &Context<'_>, change: &TableChange, out: &mut Vec<Statement>) {
    let (from, to) = (&change.from, &change.to);
    let current = quote(&from.name.name);
    let temporary_name = format!("{REBUILD_PREFIX}{}", to.name.name);
    let temporary = quote(&temporary_name);
    rename_columns(change, out);
    let keys: Vec<&ForeignKey> = to.foreign_keys.iter().collect();
    out.push(Statement::execute(create_table(to, &temporary_name, &keys)));

    // Every desired column that exists now is copied (renames are done by now); new columns
    // get their defaults and generated columns compute themselves.
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for column in &to.columns {
        if column.generated.is_some()
            || change
                .added_columns
                .iter()
                .any(|a| same(&a.name, &column.name))
        {
            continue;
        }
        if let Some(source) = from.columns.iter().find(|c| same(&c.name, &column.name)) {
            targets.push(quote(&column.name));
            sources.push(quote(&source.name));
        }
    }
    // Keep rowids where both tables have one that no column stands for, so that anything
    // pointing at rows by rowid still finds them.
    let alias_column = to.columns.iter().any(|c| is_rowid_alias(to, c));
    if !from.without_rowid
        && !to.without_rowid
        && !alias_column
        && let Some(rowid) = rowid_name(&[from, to])
    {
        targets.push(rowid.to_string());
        sources.push(rowid.to_string());
    }
    let hazard = rebuild_hazard(context, change);
    let mut drop = Statement::execute(format!("DROP TABLE {current}"));
    // Dropping the old table loses nothing when the copy took every column that holds data
    // (a generated one computes itself) and changed no value on the way: a hazard that only
    // adds a constraint makes the copy fail, never lose a row. A dropped column or a type
    // change is the user's to acknowledge, so such a drop stays a lint finding.
    let copied_all = !targets.is_empty()
        && from
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .all(|c| sources.contains(&quote(&c.name)))
        && hazard
            .as_ref()
            .is_none_or(|h| matches!(h.kind, HazardKind::AddConstraint | HazardKind::ConvertType));
    if copied_all {
        drop = drop.allowing_lint(
            "drop-table",
            format!(
                "rebuilding table {}: every row was copied into {temporary} above with every \
                 column (the check above compares the row counts), which takes its name below",
                to.name
            ),
        );
    }
    if targets.is_empty() {
        if let Some(hazard) = hazard {
            drop = drop.with_hazard(hazard);
        }
    } else {
        // OR ABORT overrides the new table's ON CONFLICT clauses, which would otherwise have
        // the copy delete (REPLACE) or skip (IGNORE) rows that break a constraint, or store a
        // default for a NULL, where a rebuild must fail and change nothing.
        let mut copy = Statement::execute(format!(
            "INSERT OR ABORT INTO {temporary} ({}) SELECT {} FROM {current}",
            targets.join(", "),
            sources.join(", ")
        ));
        if let Some(hazard) = hazard {
            copy = copy.with_hazard(hazard);
        }
        out.push(copy);
    }
    // AUTOINCREMENT promises never to reuse a key, including those of deleted rows; the copy
    // only restores the largest key present, so the counter is carried over.
    if from.columns.iter().any(|c| c.autoincrement) && to.columns.iter().any(|c| c.autoincrement) {
        let (old, new) = (
            sql::string_literal(&from.name.name),
            sql::string_literal(&temporary_name),
        );
        out.push(Statement::execute(format!(
            "DELETE FROM sqlite_sequence WHERE name = {new}"
        )));
        out.push(Statement::execute(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {new}, seq FROM sqlite_sequence \
             WHERE name = {old}"
        )));
    }
    out.push(Statement::assert_empty(
        format!(
            "SELECT 1 WHERE (SELECT count(*) FROM {current}) <> (SELECT count(*) FROM {temporary})"
        ),
        format!(
            "rebuilding table {} would not copy every row, so nothing was changed",
            to.name
        ),
    ));
    out.push(drop);
    // Legacy renaming leaves views and triggers alone: the views and the triggers of other
    // tables that name this one mean the table under its final name, and its own triggers
    // went with the old copy.
    rename_into_place(out, &temporary, &to.name.name);
    for index in &to.indexes {
        out.push(Statement::execute(&index.definition));
    }
    // The old table's triggers went with it; those the change keeps come back on the new one.
    for trigger in &change.kept_triggers {
        out.push(Statement::execute(&trigger.definition));
    }
}

/// FTS5's command that empties an index and builds it again from the table whose text it
/// indexes.
fn refill(table: &Name) -> Statement {
    let quoted = quote(&table.name);
    Statement::execute(format!(
        "INSERT INTO {quoted} ({quoted}) VALUES ('rebuild')"
    ))
}

/// An FTS5 table whose columns or options change. FTS5 cannot alter a table, so a new one
/// takes its place, keeping what the old one holds:
///
/// - one that indexes another table's text (`content=posts`) holds no rows of its own: it is
///   dropped, created again, and filled from that table by FTS5's `rebuild` command once every
///   table has its new shape;
/// - otherwise, one that can give its text back (its own, or another table's) is copied,
///   rowids included, into the new table created under a temporary name, which then takes its
///   name, as a table rebuild does;
/// - a contentless one (`content=''`) cannot give its text back: it is dropped and created
///   empty, and the drop's hazard counts its rows.
fn reindex(
    context: &Context<'_>,
    change: &TableChange,
    out: &mut Vec<Statement>,
    refills: &mut Vec<Statement>,
) {
    let (from, to) = (&change.from, &change.to);
    let old = vtab::fts5_content(from).unwrap_or(Content::Own);
    let new = vtab::fts5_content(to).unwrap_or(Content::Own);
    let original = context.original_name(&to.name);
    if matches!(new, Content::External(_)) || old == Content::Contentless {
        out.push(drop_table(from, original));
        out.push(Statement::execute(create_table(to, &to.name.name, &[])));
        if matches!(new, Content::External(_)) {
            refills.push(refill(&to.name));
        }
        return;
    }
    let current = quote(&from.name.name);
    let temporary_name = format!("{REBUILD_PREFIX}{}", to.name.name);
    let temporary = quote(&temporary_name);
    out.push(Statement::execute(create_table(to, &temporary_name, &[])));
    // FTS5 reserves the name `rowid` for the rowid: no column hides it.
    let mut targets = vec!["rowid".to_string()];
    let mut sources = vec!["rowid".to_string()];
    for column in &to.columns {
        let added = (change.added_columns.iter()).any(|a| same(&a.name, &column.name));
        if let Some(source) = from.columns.iter().find(|c| same(&c.name, &column.name))
            && !added
        {
            targets.push(quote(&column.name));
            sources.push(quote(physical_name(change, &source.name)));
        }
    }
    // `OR ABORT`, as a table rebuild's copy: a row that does not fit stops the change.
    let mut copy = Statement::execute(format!(
        "INSERT OR ABORT INTO {temporary} ({}) SELECT {} FROM {current}",
        targets.join(", "),
        sources.join(", ")
    ));
    // Text another table keeps is not lost with the index.
    let hazard = (old == Content::Own)
        .then(|| reindex_hazard(context, change, &new))
        .flatten();
    let lossless = hazard.is_none();
    if let Some(hazard) = hazard {
        copy = copy.with_hazard(hazard);
    }
    out.push(copy);
    out.push(Statement::assert_empty(
        format!(
            "SELECT 1 WHERE (SELECT count(*) FROM {current}) <> (SELECT count(*) FROM {temporary})"
        ),
        format!(
            "rebuilding full-text index {} would not copy every row, so nothing was changed",
            to.name
        ),
    ));
    // The old index goes once its every row is in the new one; when the copy leaves text
    // out, the loss is the user's to allow in a generated migration.
    let mut drop = Statement::execute(format!("DROP TABLE {current}"));
    if lossless {
        drop = drop.allowing_lint(
            "drop-table",
            "the full-text index was copied whole into its new shape just before",
        );
    }
    out.push(drop);
    // Triggers on other tables that write to this one keep naming it; legacy renaming leaves
    // them alone rather than checking them while the name is free.
    rename_into_place(out, &temporary, &to.name.name);
}

/// Give the new copy (`temporary`, quoted) of a rebuilt table its final `name` with legacy
/// renaming, which leaves the views and triggers that name the table as they are.
fn rename_into_place(out: &mut Vec<Statement>, temporary: &str, name: &str) {
    out.push(Statement::execute("PRAGMA legacy_alter_table = ON"));
    out.push(Statement::execute(format!(
        "ALTER TABLE {temporary} RENAME TO {}",
        quote(name)
    )));
    out.push(Statement::execute("PRAGMA legacy_alter_table = OFF"));
}

/// The text an FTS5 table that stores its own loses when copied into its new shape (`new`):
/// all of it when the new table is contentless, otherwise that of its dropped columns.
fn reindex_hazard(context: &Context<'_>, change: &TableChange, new: &Content) -> Option<Hazard> {
    let table = &change.to.name;
    let original = quote(context.original_name(table));
    if *new == Content::Contentless {
        return Some(Hazard::new(
            HazardKind::DropColumn,
            format!("makes table {table} contentless: the text of its rows is no longer kept"),
            Some(format!("SELECT count(*) FROM {original}")),
        ));
    }
    if change.dropped_columns.is_empty() {
        return None;
    }
    let description = (change.dropped_columns.iter())
        .map(|c| format!("drops column {table}.{}", c.name))
        .collect::<Vec<_>>()
        .join("; ");
    let condition = (change.dropped_columns.iter())
        .map(|c| format!("{} IS NOT NULL", quote(&c.name)))
        .collect::<Vec<_>>()
        .join(" OR ");
    Some(Hazard::new(
        HazardKind::DropColumn,
        description,
        Some(format!("SELECT count(*) FROM {original} WHERE {condition}")),
    ))
}

#[cfg(test)]
mod tests {
    use godwit_core::diff::ColumnChange;
    use godwit_core::schema::PrimaryKey;

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
