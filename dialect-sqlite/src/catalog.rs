//! Reading a SQLite database's schema into godwit's model.
//!
//! The pragmas are the truth for names, types, nullability, defaults, keys, foreign keys and
//! indexes. What they do not report (CHECK constraints, generated expressions, collations,
//! AUTOINCREMENT, constraint names, DEFERRABLE, `ON CONFLICT` clauses, `PRIMARY KEY DESC`) is
//! read from the `CREATE TABLE` text with a
//! small parser of SQLite's column- and table-constraint grammar over SQLite's own tokens. A
//! general SQL parser is not used for this: sqlparser 0.64 rejects syntax SQLite documents,
//! such as multi-word type names (`UNSIGNED BIG INT`) and `ON CONFLICT` on table constraints,
//! and the model only needs spans of text, which the tokens give exactly.

use std::collections::BTreeMap;

use godwit_core::dialect::RenderError;
use godwit_core::schema::{
    Check, Column, Deferral, FkAction, ForeignKey, Generated, Index, Name, OnConflict, PrimaryKey,
    Schema, Table, Trigger, Unique, View,
};
use godwit_core::{Row, Value};

use crate::sql::{self, Token};
use crate::vtab;

/// godwit's own tables under the default history name. The declarative layer of godwit-core
/// also removes the tables of a configured history name, which this crate cannot know.
const GODWIT_TABLES: &str =
    "'godwit_migrations', 'godwit_migrations_meta', 'godwit_migrations_lock'";

/// The tables godwit manages: ordinary and virtual tables of the main database, without
/// SQLite's internal tables, the shadow tables of virtual tables (FTS5's `_data`, `_idx`, ...),
/// and godwit's history tables.
fn managed() -> String {
    format!(
        "WITH managed AS (\
         SELECT s.name, s.sql, l.type AS kind, l.strict, l.wr \
         FROM sqlite_schema AS s \
         JOIN pragma_table_list AS l ON l.schema = 'main' AND l.name = s.name \
         WHERE s.type = 'table' AND l.type IN ('table', 'virtual') \
         AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND lower(s.name) NOT IN ({GODWIT_TABLES})) "
    )
}

/// The catalog queries; [`schema_from_catalog`] reads their results in this order. Columns,
/// foreign keys and indexes of virtual tables are not read: a virtual table is read from its
/// definition (`vtab::read`), and asking a module for them could fail when it is not loaded.
pub(crate) fn queries() -> Vec<String> {
    let managed = managed();
    vec![
        format!("{managed}SELECT name, sql, kind, strict, wr FROM managed ORDER BY name"),
        format!(
            "{managed}SELECT m.name, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk, c.hidden \
             FROM managed AS m JOIN pragma_table_xinfo(m.name, 'main') AS c \
             WHERE m.kind = 'table' ORDER BY m.name, c.cid"
        ),
        format!(
            "{managed}SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, \
             f.on_delete \
             FROM managed AS m JOIN pragma_foreign_key_list(m.name, 'main') AS f \
             WHERE m.kind = 'table' ORDER BY m.name, f.id, f.seq"
        ),
        format!(
            "{managed}SELECT m.name, i.name, i.\"unique\", i.origin, x.name, s.sql \
             FROM managed AS m JOIN pragma_index_list(m.name, 'main') AS i \
             JOIN pragma_index_xinfo(i.name, 'main') AS x \
             LEFT JOIN sqlite_schema AS s ON s.type = 'index' AND s.name = i.name \
             WHERE m.kind = 'table' AND i.origin <> 'pk' AND x.key = 1 \
             ORDER BY m.name, i.name, x.seqno"
        ),
        format!(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE type IN ('view', 'trigger') AND lower(tbl_name) NOT IN ({GODWIT_TABLES}) \
             ORDER BY type, name"
        ),
    ]
}

/// A catalog row that is not what the queries select.
fn malformed(what: &str, row: &Row) -> RenderError {
    RenderError::Impossible(format!("unexpected SQLite catalog row for {what}: {row:?}"))
}

fn text(row: &Row, i: usize, what: &str) -> Result<String, RenderError> {
    match row.get(i) {
        Some(Value::Text(s)) => Ok(s.clone()),
        _ => Err(malformed(what, row)),
    }
}

fn opt_text(row: &Row, i: usize, what: &str) -> Result<Option<String>, RenderError> {
    match row.get(i) {
        Some(Value::Text(s)) => Ok(Some(s.clone())),
        Some(Value::Null) => Ok(None),
        _ => Err(malformed(what, row)),
    }
}

fn int(row: &Row, i: usize, what: &str) -> Result<i64, RenderError> {
    match row.get(i) {
        Some(Value::Int(v)) => Ok(*v),
        _ => Err(malformed(what, row)),
    }
}

/// Build the model from the results of [`queries`].
pub(crate) fn schema_from_catalog(results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
    let [tables, columns, foreign_keys, indexes, others]: [Vec<Row>; 5] =
        results.try_into().map_err(|results: Vec<Vec<Row>>| {
            RenderError::Impossible(format!(
                "expected the results of 5 SQLite catalog queries, got {}",
                results.len()
            ))
        })?;

    let mut schema = Schema::default();
    // Tables by name, with what their CREATE TABLE text says beyond the pragmas.
    let mut parsed: BTreeMap<String, (Table, TableSql)> = BTreeMap::new();
    for row in &tables {
        let name = text(row, 0, "a table")?;
        let create = text(row, 1, "a table")?.trim().to_string();
        let mut table = Table::new(Name::bare(&name), Vec::new());
        if text(row, 2, "a table")? == "virtual" {
            let (virtual_table, columns) = vtab::read(&create).ok_or_else(|| {
                RenderError::Impossible(format!(
                    "cannot find the module of virtual table {name} in its definition: {create}"
                ))
            })?;
            table.columns = columns;
            table.virtual_table = Some(virtual_table);
            schema.tables.push(table);
            continue;
        }
        table.strict = int(row, 3, "a table")? != 0;
        table.without_rowid = int(row, 4, "a table")? != 0;
        let table_sql = parse_create_table(&create);
        table.checks.clone_from(&table_sql.checks);
        parsed.insert(name, (table, table_sql));
    }

    let mut primary_keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in &columns {
        let table_name = text(row, 0, "a column")?;
        let Some((table, table_sql)) = parsed.get_mut(&table_name) else {
            return Err(malformed("a column", row));
        };
        let name = text(row, 1, "a column")?;
        let mut column = Column::new(&name, data_type(&text(row, 2, "a column")?));
        column.nullable = int(row, 3, "a column")? == 0;
        column.default = opt_text(row, 4, "a column")?.map(|d| d.trim().to_string());
        let pk = int(row, 5, "a column")?;
        if pk > 0 {
            primary_keys
                .entry(table_name.clone())
                .or_default()
                .push((pk, name.clone()));
        }
        let declared = table_sql.column(&name);
        column.collation = declared.and_then(|c| c.collation.clone());
        column.autoincrement = declared.is_some_and(|c| c.autoincrement);
        column.not_null_conflict = declared.and_then(|c| c.not_null_conflict);
        // 2: VIRTUAL generated, 3: STORED generated.
        let hidden = int(row, 6, "a column")?;
        if hidden == 2 || hidden == 3 {
            let expression = declared.and_then(|c| c.generated.clone()).ok_or_else(|| {
                RenderError::Impossible(format!(
                    "cannot find the expression of generated column {table_name}.{name} \
                         in its CREATE TABLE statement"
                ))
            })?;
            column.generated = Some(Generated {
                expression,
                stored: hidden == 3,
            });
        }
        table.columns.push(column);
    }
    for (table_name, mut key) in primary_keys {
        key.sort();
        if let Some((table, table_sql)) = parsed.get_mut(&table_name) {
            table.primary_key = Some(PrimaryKey {
                on_conflict: table_sql.primary_key_conflict,
                descending: table_sql.primary_key_descending,
                ..PrimaryKey::new(key.into_iter().map(|(_, c)| c).collect())
            });
        }
    }

    read_foreign_keys(&foreign_keys, &mut parsed)?;
    read_indexes(&indexes, &mut parsed)?;
    for (table, table_sql) in parsed.values_mut() {
        // A UNIQUE constraint on exactly the primary key's columns gets no index of its own
        // (unless the key is the rowid, which has none): SQLite merges it into the key's,
        // ON CONFLICT clause included, so the clause is the key's.
        if let Some(pk) = &mut table.primary_key
            && pk.on_conflict.is_none()
            && !table
                .uniques
                .iter()
                .any(|u| same_columns(&u.columns, &pk.columns))
        {
            pk.on_conflict = table_sql.unique_conflict(&pk.columns);
        }
    }
    schema.tables.extend(parsed.into_values().map(|(t, _)| t));
    read_views_and_triggers(&others, &mut schema)?;
    schema.normalize();
    Ok(schema)
}

/// A declared type as the model keeps it: canonical spacing, upper case, so `varchar( 20 )`
/// and `VARCHAR(20)` are one type.
fn data_type(declared: &str) -> String {
    sql::normalize(declared).to_uppercase()
}

fn fk_action(action: &str) -> FkAction {
    match action.to_ascii_uppercase().as_str() {
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        "RESTRICT" => FkAction::Restrict,
        _ => FkAction::NoAction,
    }
}

fn read_foreign_keys(
    rows: &[Row],
    parsed: &mut BTreeMap<String, (Table, TableSql)>,
) -> Result<(), RenderError> {
    // One pragma row per column of a key: gather them by (table, key id).
    let mut keys: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
    for row in rows {
        let what = "a foreign key";
        let entry = keys
            .entry((text(row, 0, what)?, int(row, 1, what)?))
            .or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                references: Name::bare(""),
                referenced_columns: Vec::new(),
                on_delete: FkAction::NoAction,
                on_update: FkAction::NoAction,
                deferrable: false,
                initially_deferred: false,
                match_full: false,
            });
        entry.references = Name::bare(text(row, 2, what)?);
        entry.columns.push(text(row, 3, what)?);
        // NULL when the key names no columns and so references the primary key.
        if let Some(to) = opt_text(row, 4, what)? {
            entry.referenced_columns.push(to);
        }
        entry.on_update = fk_action(&text(row, 5, what)?);
        entry.on_delete = fk_action(&text(row, 6, what)?);
    }
    for ((table_name, _), mut key) in keys {
        let Some((table, table_sql)) = parsed.get_mut(&table_name) else {
            continue;
        };
        if let Some(declared) = table_sql.take_foreign_key(&key) {
            key.name = declared.name;
            key.deferrable = declared.deferrable;
            key.initially_deferred = declared.initially_deferred;
        }
        table.foreign_keys.push(key);
    }
    Ok(())
}

fn read_indexes(
    rows: &[Row],
    parsed: &mut BTreeMap<String, (Table, TableSql)>,
) -> Result<(), RenderError> {
    struct Found {
        unique: bool,
        origin: String,
        columns: Vec<String>,
        sql: Option<String>,
    }
    let mut found: BTreeMap<(String, String), Found> = BTreeMap::new();
    for row in rows {
        let what = "an index";
        let entry = found
            .entry((text(row, 0, what)?, text(row, 1, what)?))
            .or_insert(Found {
                unique: int(row, 2, what)? != 0,
                origin: text(row, 3, what)?,
                columns: Vec::new(),
                sql: opt_text(row, 5, what)?,
            });
        // NULL for an expression key, which only CREATE INDEX can have.
        if let Some(column) = opt_text(row, 4, what)? {
            entry.columns.push(column);
        }
    }
    for ((table_name, index_name), index) in found {
        let Some((table, table_sql)) = parsed.get_mut(&table_name) else {
            continue;
        };
        match (index.origin.as_str(), index.sql) {
            // A UNIQUE constraint, kept by SQLite as an automatic index with no SQL.
            ("u", _) => table.uniques.push(Unique {
                name: None,
                on_conflict: table_sql.unique_conflict(&index.columns),
                columns: index.columns,
                nulls_not_distinct: false,
                deferral: Deferral::default(),
            }),
            (_, Some(create)) => {
                let parts = parse_create_index(&create).ok_or_else(|| {
                    RenderError::Impossible(format!(
                        "cannot read the definition of index {index_name}: {create}"
                    ))
                })?;
                table.indexes.push(Index {
                    name: Name::bare(index_name),
                    unique: index.unique,
                    keys: parts.keys,
                    predicate: parts.predicate,
                    method: None,
                    definition: sql::normalize(&create),
                });
            }
            (origin, None) => {
                return Err(RenderError::Impossible(format!(
                    "index {index_name} of table {table_name} (origin {origin}) has no definition"
                )));
            }
        }
    }
    Ok(())
}

fn read_views_and_triggers(rows: &[Row], schema: &mut Schema) -> Result<(), RenderError> {
    let mut views = Vec::new();
    for row in rows {
        let what = "a view or trigger";
        let kind = text(row, 0, what)?;
        let name = text(row, 1, what)?;
        let create = text(row, 3, what)?;
        if kind == "trigger" {
            schema.triggers.push(Trigger {
                name,
                table: Name::bare(text(row, 2, what)?),
                definition: sql::normalize(&create),
            });
        } else {
            views.push((name, create.trim().to_string()));
        }
    }
    // Names a view may read, for its dependencies.
    let known: Vec<String> = schema
        .tables
        .iter()
        .map(|t| t.name.name.clone())
        .chain(views.iter().map(|(name, _)| name.clone()))
        .collect();
    for (name, definition) in views {
        let tokens = sql::tokenize(&definition);
        let query = sql::find_top_level(&tokens, |t| t.is_word("AS"))
            .map(|at| sql::text_after(&definition, &tokens[at]).to_string())
            .ok_or_else(|| {
                RenderError::Impossible(format!("cannot find the query of view {name}"))
            })?;
        let depends_on = view_dependencies(&name, &query, &known);
        schema.views.push(View {
            name: Name::bare(name),
            materialized: false,
            query,
            // Kept verbatim, not re-spelled: the names of a view's unaliased columns are the
            // text of their expressions, so spacing is part of what a view means.
            definition,
            depends_on,
            indexes: Vec::new(),
        });
    }
    Ok(())
}

/// The tables and views `query` may read: every name in it that is one of `known`. This
/// over-approximates (a column that shares a table's name counts), which only recreates a view
/// more often than needed; it never misses a dependency, whatever syntax the query uses.
fn view_dependencies(view: &str, query: &str, known: &[String]) -> Vec<Name> {
    let mut depends_on: Vec<Name> = Vec::new();
    for token in sql::tokenize(query).iter().filter(|t| t.is_name()) {
        let name = token.name();
        if let Some(found) = known.iter().find(|k| k.eq_ignore_ascii_case(&name))
            && !found.eq_ignore_ascii_case(view)
            && !depends_on.iter().any(|d| d.name == *found)
        {
            depends_on.push(Name::bare(found));
        }
    }
    depends_on.sort();
    depends_on
}

/// What a `CREATE TABLE` statement says that the pragmas do not.
#[derive(Debug, Default)]
struct TableSql {
    columns: Vec<ColumnSql>,
    checks: Vec<Check>,
    foreign_keys: Vec<ForeignKeySql>,
    /// The primary key's `ON CONFLICT` action, on the column or the table constraint.
    primary_key_conflict: Option<OnConflict>,
    /// `PRIMARY KEY DESC` on a column (not `PRIMARY KEY (x DESC)`, which means another thing).
    primary_key_descending: bool,
    uniques: Vec<UniqueSql>,
}

#[derive(Debug, Default)]
struct ColumnSql {
    name: String,
    collation: Option<String>,
    generated: Option<String>,
    autoincrement: bool,
    not_null_conflict: Option<OnConflict>,
}

/// A UNIQUE constraint as declared, on a column or the table.
#[derive(Debug)]
struct UniqueSql {
    columns: Vec<String>,
    on_conflict: Option<OnConflict>,
}

/// The constraint of a column definition an `ON CONFLICT` clause that follows belongs to.
#[derive(Debug, Clone, Copy)]
enum Conflicting {
    PrimaryKey,
    NotNull,
    Unique,
}

#[derive(Debug)]
struct ForeignKeySql {
    name: Option<String>,
    columns: Vec<String>,
    table: String,
    deferrable: bool,
    initially_deferred: bool,
}

impl TableSql {
    fn column(&self, name: &str) -> Option<&ColumnSql> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The `ON CONFLICT` action of the UNIQUE constraint on `columns`. SQLite makes one index
    /// of UNIQUE constraints on the same columns, and takes the action of whichever has one
    /// (it refuses two different actions), so a declaration without one does not hide it.
    fn unique_conflict(&self, columns: &[String]) -> Option<OnConflict> {
        self.uniques
            .iter()
            .filter(|u| same_columns(&u.columns, columns))
            .find_map(|u| u.on_conflict)
    }

    /// The declared key matching `key`'s columns and table, removed so that two keys with the
    /// same shape each get their own declaration.
    fn take_foreign_key(&mut self, key: &ForeignKey) -> Option<ForeignKeySql> {
        let same = |a: &[String], b: &[String]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
        };
        let at = self.foreign_keys.iter().position(|d| {
            d.table.eq_ignore_ascii_case(&key.references.name) && same(&d.columns, &key.columns)
        })?;
        Some(self.foreign_keys.remove(at))
    }
}

/// Whether two lists name the same columns in the same order (names are case-insensitive).
fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Read the constraints of a `CREATE TABLE` statement (a `CREATE TABLE ... AS SELECT` has
/// none). Anything not understood is skipped: the pragmas still describe the table.
fn parse_create_table(create: &str) -> TableSql {
    let tokens = sql::tokenize(create);
    let mut table = TableSql::default();
    // The column list opens at the first parenthesis, unless AS comes first: a table made
    // from a query.
    let Some(open) = tokens
        .iter()
        .position(|t| t.is("(") || t.is_word("AS"))
        .filter(|&at| tokens[at].is("("))
    else {
        return table;
    };
    let close = sql::closing(&tokens, open);
    for item in sql::split_commas(&tokens[open + 1..close]) {
        let Some(first) = item.first() else { continue };
        // These keywords are reserved in SQLite, so they cannot start a column definition.
        if ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| first.is_word(k))
        {
            table_constraint(item, &mut table);
        } else {
            column_definition(item, &mut table);
        }
    }
    table
}

/// The text inside the parentheses opening at `tokens[open]`, and the index after them.
fn parenthesized(tokens: &[Token<'_>], open: usize) -> Option<(String, usize)> {
    if !tokens.get(open)?.is("(") {
        return None;
    }
    let close = sql::closing(tokens, open);
    Some((sql::join(&tokens[open + 1..close]), close + 1))
}

fn column_definition(item: &[Token<'_>], table: &mut TableSql) {
    let mut column = ColumnSql {
        name: item[0].name(),
        ..ColumnSql::default()
    };
    let mut pending_name: Option<String> = None;
    // The foreign key this column's REFERENCES clause declared, for DEFERRABLE.
    let mut key: Option<usize> = None;
    // The constraint an ON CONFLICT clause would belong to: the grammar puts it right after.
    let mut conflicting: Option<Conflicting> = None;
    let mut i = 1;
    while i < item.len() {
        let token = &item[i];
        let word = if token.kind == sql::Kind::Word {
            token.text.to_ascii_uppercase()
        } else {
            String::new()
        };
        i += 1;
        match word.as_str() {
            _ if token.is("(") => i = sql::closing(item, i - 1) + 1,
            "CONSTRAINT" => {
                pending_name = item.get(i).map(Token::name);
                i += 1;
            }
            "CHECK" => {
                if let Some((expression, next)) = parenthesized(item, i) {
                    table.checks.push(Check {
                        name: pending_name.take(),
                        expression,
                    });
                    i = next;
                }
            }
            "AS" => {
                if let Some((expression, next)) = parenthesized(item, i) {
                    column.generated = Some(expression);
                    i = next;
                }
            }
            "COLLATE" => {
                column.collation = item.get(i).map(Token::name);
                i += 1;
            }
            "DEFAULT" => {
                // Skipped so its tokens are not read as constraints.
                i = match item.get(i) {
                    Some(t) if t.is("(") => sql::closing(item, i) + 1,
                    Some(t) if t.is("-") || t.is("+") => i + 2,
                    _ => i + 1,
                };
            }
            "AUTOINCREMENT" => column.autoincrement = true,
            "REFERENCES" => {
                table.foreign_keys.push(ForeignKeySql {
                    name: pending_name.take(),
                    columns: vec![column.name.clone()],
                    table: item.get(i).map(Token::name).unwrap_or_default(),
                    deferrable: false,
                    initially_deferred: false,
                });
                key = Some(table.foreign_keys.len() - 1);
                i += 1;
            }
            "DEFERRABLE" | "DEFERRED" => {
                if let Some(k) = key {
                    deferral(&mut table.foreign_keys[k], &item[..i]);
                }
            }
            "PRIMARY" => {
                pending_name = None;
                conflicting = Some(Conflicting::PrimaryKey);
                // PRIMARY KEY [ASC | DESC]
                if item.get(i).is_some_and(|t| t.is_word("KEY")) {
                    i += 1;
                    if item.get(i).is_some_and(|t| t.is_word("DESC")) {
                        table.primary_key_descending = true;
                    }
                }
            }
            "NOT" => {
                pending_name = None;
                if item.get(i).is_some_and(|t| t.is_word("NULL")) {
                    conflicting = Some(Conflicting::NotNull);
                    i += 1;
                }
            }
            "UNIQUE" => {
                pending_name = None;
                conflicting = Some(Conflicting::Unique);
                table.uniques.push(UniqueSql {
                    columns: vec![column.name.clone()],
                    on_conflict: None,
                });
            }
            "ON" => {
                if let Some((action, next)) = conflict_clause(item, i - 1) {
                    match conflicting {
                        Some(Conflicting::PrimaryKey) => table.primary_key_conflict = action,
                        Some(Conflicting::NotNull) => column.not_null_conflict = action,
                        Some(Conflicting::Unique) => {
                            if let Some(unique) = table.uniques.last_mut() {
                                unique.on_conflict = action;
                            }
                        }
                        None => {}
                    }
                    i = next;
                }
            }
            // A bare NULL constraint may carry a conflict clause too, which means nothing.
            "NULL" => {
                pending_name = None;
                conflicting = None;
            }
            "GENERATED" => pending_name = None,
            _ => {}
        }
    }
    table.columns.push(column);
}

/// The `ON CONFLICT` clause starting at `tokens[at]`: its action (`None` for `ABORT`,
/// SQLite's default) and the index after it.
fn conflict_clause(tokens: &[Token<'_>], at: usize) -> Option<(Option<OnConflict>, usize)> {
    if !(tokens.get(at)?.is_word("ON") && tokens.get(at + 1)?.is_word("CONFLICT")) {
        return None;
    }
    let action = match tokens.get(at + 2)?.text.to_ascii_uppercase().as_str() {
        "ROLLBACK" => Some(OnConflict::Rollback),
        "ABORT" => None,
        "FAIL" => Some(OnConflict::Fail),
        "IGNORE" => Some(OnConflict::Ignore),
        "REPLACE" => Some(OnConflict::Replace),
        _ => return None,
    };
    Some((action, at + 3))
}

/// Apply the DEFERRABLE or DEFERRED keyword that ends `seen` to `key`. SQLite defers a key
/// only for `DEFERRABLE INITIALLY DEFERRED`; `NOT DEFERRABLE` is immediate whatever follows.
fn deferral(key: &mut ForeignKeySql, seen: &[Token<'_>]) {
    let n = seen.len();
    let before = |back: usize| n.checked_sub(back + 1).map(|at| &seen[at]);
    if seen[n - 1].is_word("DEFERRABLE") {
        key.deferrable = !before(1).is_some_and(|t| t.is_word("NOT"));
    } else if before(1).is_some_and(|t| t.is_word("INITIALLY")) {
        key.initially_deferred = key.deferrable;
    }
}

fn table_constraint(item: &[Token<'_>], table: &mut TableSql) {
    let (name, rest) = if item[0].is_word("CONSTRAINT") && item.len() > 2 {
        (Some(item[1].name()), &item[2..])
    } else {
        (None, item)
    };
    if rest[0].is_word("CHECK") {
        if let Some((expression, _)) = parenthesized(rest, 1) {
            table.checks.push(Check { name, expression });
        }
    } else if rest[0].is_word("PRIMARY") || rest[0].is_word("UNIQUE") {
        // PRIMARY KEY (columns) [ON CONFLICT action], UNIQUE (columns) [ON CONFLICT action]
        let Some(open) = rest.iter().position(|t| t.is("(")) else {
            return;
        };
        let close = sql::closing(rest, open);
        let on_conflict = conflict_clause(rest, close + 1).and_then(|(action, _)| action);
        if rest[0].is_word("PRIMARY") {
            table.primary_key_conflict = on_conflict;
        } else {
            table.uniques.push(UniqueSql {
                columns: sql::split_commas(&rest[open + 1..close])
                    .iter()
                    .filter_map(|c| c.first().map(Token::name))
                    .collect(),
                on_conflict,
            });
        }
    } else if rest[0].is_word("FOREIGN") {
        // FOREIGN KEY (columns) REFERENCES table ...
        let Some(open) = rest.iter().position(|t| t.is("(")) else {
            return;
        };
        let close = sql::closing(rest, open);
        let columns = sql::split_commas(&rest[open + 1..close])
            .iter()
            .filter_map(|c| c.first().map(Token::name))
            .collect();
        let mut key = ForeignKeySql {
            name,
            columns,
            table: rest.get(close + 2).map(Token::name).unwrap_or_default(),
            deferrable: false,
            initially_deferred: false,
        };
        for i in close + 1..rest.len() {
            if rest[i].is_word("DEFERRABLE") || rest[i].is_word("DEFERRED") {
                deferral(&mut key, &rest[..=i]);
            }
        }
        table.foreign_keys.push(key);
    }
}

/// The parts of a `CREATE INDEX` statement the model keeps besides its text.
#[derive(Debug, PartialEq, Eq)]
struct IndexSql {
    keys: Vec<String>,
    predicate: Option<String>,
}

/// `CREATE [UNIQUE] INDEX name ON table (key, ...) [WHERE predicate]`.
fn parse_create_index(create: &str) -> Option<IndexSql> {
    let tokens = sql::tokenize(create);
    let on = sql::find_top_level(&tokens, |t| t.is_word("ON"))?;
    let open = on + 2;
    if !tokens.get(open)?.is("(") {
        return None;
    }
    let close = sql::closing(&tokens, open);
    let keys = sql::split_commas(&tokens[open + 1..close])
        .into_iter()
        .map(sql::join)
        .collect();
    let predicate = tokens
        .get(close + 1)
        .filter(|t| t.is_word("WHERE"))
        .map(|_| sql::join(&tokens[close + 2..]));
    Some(IndexSql { keys, predicate })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_pragmas_do_not_say() {
        let table = parse_create_table(
            "CREATE TABLE t(\n\
             id INTEGER PRIMARY KEY DESC ON CONFLICT REPLACE AUTOINCREMENT,\n\
             name VARYING CHARACTER(20) NOT NULL DEFAULT 'a,b' COLLATE \"NoCase\",\n\
             total UNSIGNED BIG INT GENERATED ALWAYS AS (price*qty) STORED,\n\
             v AS ( qty + 1 ),\n\
             qty INT CONSTRAINT positive CHECK (qty>0) DEFAULT -1,\n\
             p INT CONSTRAINT to_p REFERENCES parent(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n\
             q INT REFERENCES parent NOT DEFERRABLE INITIALLY DEFERRED NOT NULL,\n\
             UNIQUE (name) ON CONFLICT IGNORE,\n\
             CHECK (length(name) > 0),\n\
             CONSTRAINT two FOREIGN KEY (p, q) REFERENCES other(a, b) DEFERRABLE\n\
             ) STRICT",
        );
        let column = |name: &str| table.column(name).unwrap();
        assert!(column("ID").autoincrement);
        assert_eq!(column("name").collation.as_deref(), Some("NoCase"));
        assert_eq!(column("total").generated.as_deref(), Some("price * qty"));
        assert_eq!(column("v").generated.as_deref(), Some("qty + 1"));
        assert_eq!(column("qty").generated, None);
        let checks: Vec<(Option<&str>, &str)> = table
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.expression.as_str()))
            .collect();
        assert_eq!(
            checks,
            [(Some("positive"), "qty > 0"), (None, "length(name) > 0")]
        );
        let keys: Vec<String> = table
            .foreign_keys
            .iter()
            .map(|k| {
                format!(
                    "{:?} {:?} -> {} deferrable={} deferred={}",
                    k.name, k.columns, k.table, k.deferrable, k.initially_deferred
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                r#"Some("to_p") ["p"] -> parent deferrable=true deferred=true"#,
                r#"None ["q"] -> parent deferrable=false deferred=false"#,
                r#"Some("two") ["p", "q"] -> other deferrable=true deferred=false"#,
            ]
        );
    }

    /// What the conflict clauses and the key's direction of one table read as, in one line.
    fn conflicts(create: &str) -> String {
        let table = parse_create_table(create);
        let mut parts = Vec::new();
        if let Some(action) = table.primary_key_conflict {
            parts.push(format!("pk {}", action.sql()));
        }
        if table.primary_key_descending {
            parts.push("pk DESC".into());
        }
        for column in &table.columns {
            if let Some(action) = column.not_null_conflict {
                parts.push(format!("{} NOT NULL {}", column.name, action.sql()));
            }
        }
        for unique in &table.uniques {
            let action = unique.on_conflict.map_or("-", OnConflict::sql);
            parts.push(format!("unique {} {action}", unique.columns.join(",")));
        }
        parts.join("; ")
    }

    #[test]
    fn reads_conflict_clauses_and_a_descending_key() {
        let cases = [
            (
                "CREATE TABLE s (key TEXT PRIMARY KEY ON CONFLICT REPLACE, value TEXT)",
                "pk REPLACE",
            ),
            (
                "CREATE TABLE s (id integer primary key desc on conflict ignore, b)",
                "pk IGNORE; pk DESC",
            ),
            // ASC and a table-level DESC leave the column the rowid: nothing to keep.
            ("CREATE TABLE s (id INTEGER PRIMARY KEY ASC, b)", ""),
            ("CREATE TABLE s (id INTEGER, b, PRIMARY KEY (id DESC))", ""),
            (
                "CREATE TABLE s (a, b, CONSTRAINT k PRIMARY KEY (a, b DESC) ON CONFLICT ROLLBACK)",
                "pk ROLLBACK",
            ),
            (
                "CREATE TABLE s (a NOT NULL ON CONFLICT IGNORE DEFAULT 1, \
                 b TEXT CONSTRAINT n NOT NULL ON CONFLICT REPLACE DEFAULT '')",
                "a NOT NULL IGNORE; b NOT NULL REPLACE",
            ),
            (
                "CREATE TABLE s (a UNIQUE ON CONFLICT FAIL NOT NULL, b UNIQUE, \
                 UNIQUE (\"A\" COLLATE NOCASE, b) ON CONFLICT REPLACE)",
                "unique a FAIL; unique b -; unique A,b REPLACE",
            ),
            // ABORT is what no clause does; a bare NULL constraint's clause means nothing.
            (
                "CREATE TABLE s (a PRIMARY KEY ON CONFLICT ABORT, b NULL ON CONFLICT REPLACE)",
                "",
            ),
            // ON in a foreign key or a default is not a conflict clause.
            (
                "CREATE TABLE s (a NOT NULL REFERENCES p (id) ON DELETE CASCADE ON UPDATE \
                 SET NULL, b DEFAULT (1) CHECK (b > 0))",
                "",
            ),
        ];
        for (create, expected) in cases {
            assert_eq!(conflicts(create), expected, "{create}");
        }
    }

    #[test]
    fn a_table_made_from_a_query_has_no_constraints() {
        let table = parse_create_table("CREATE TABLE t AS SELECT count(*) AS n FROM u");
        assert!(table.columns.is_empty() && table.checks.is_empty());
    }

    #[test]
    fn reads_index_keys_and_predicates() {
        assert_eq!(
            parse_create_index(
                "CREATE UNIQUE INDEX \"i\" ON t ( lower(email) DESC, b COLLATE NOCASE ) \
                 WHERE deleted_at IS NULL"
            ),
            Some(IndexSql {
                keys: vec!["lower(email) DESC".into(), "b COLLATE NOCASE".into()],
                predicate: Some("deleted_at IS NULL".into()),
            })
        );
        assert_eq!(parse_create_index("CREATE INDEX i"), None);
    }

    #[test]
    fn view_dependencies_are_the_known_names_it_mentions() {
        let known = ["users".to_string(), "Orders".into(), "v".into()];
        let names: Vec<String> = view_dependencies(
            "v",
            "SELECT u.id FROM \"USERS\" AS u JOIN orders ON orders.uid = u.id, v",
            &known,
        )
        .into_iter()
        .map(|n| n.name)
        .collect();
        assert_eq!(names, ["Orders", "users"]);
    }
}
