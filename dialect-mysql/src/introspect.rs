//! Reading a MySQL/MariaDB database into godwit's schema model, from `information_schema` in
//! a fixed number of queries (one per kind of object, whatever the number of tables), and
//! `SHOW CREATE TABLE` of only the tables whose indexes may carry a `USING` clause
//! ([`detail_queries`]).
//!
//! Text fields hold the server's own spelling (`COLUMN_TYPE`, `COLUMN_DEFAULT`,
//! `CHECK_CLAUSE`, `VIEW_DEFINITION`), so two databases built from the same DDL read the same.
//! Indexes are written back by godwit in one fixed form (see [`index_definition`]), which is
//! what the diff compares and what [`crate::render`] reads back.

use godwit_core::dialect::RenderError;
use godwit_core::schema::{
    Check, Column, FkAction, ForeignKey, Function, Generated, Index, Name, PrimaryKey, Schema,
    Table, Trigger, Unmanaged, View,
};
use godwit_core::store::{Row, Value};

use crate::sql::{quote, read_quoted, string_literal};

/// The queries, in the order [`schema_from_catalog`] reads their results.
pub(crate) fn queries() -> Vec<String> {
    [
        // 0: tables (views are read from VIEWS; sequences are not managed).
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME",
        // 1: columns of tables and views, in their order.
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, IS_NULLABLE, COLUMN_TYPE, \
         COLLATION_NAME, EXTRA, GENERATION_EXPRESSION, COLUMN_COMMENT \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
        // 2: index parts. `IGNORED` is MariaDB's (10.6+) name for an index the optimiser
        // leaves alone, MySQL's `INVISIBLE`.
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, \
         INDEX_TYPE, INDEX_COMMENT, IGNORED \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        // 3: foreign keys, one row per column.
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
         k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
          AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        // 4: check constraints; MariaDB says whether each was written on a column.
        "SELECT TABLE_NAME, CONSTRAINT_NAME, LEVEL, CHECK_CLAUSE \
         FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, CONSTRAINT_NAME",
        // 5: views.
        "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, ALGORITHM \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        // 6: triggers, in the order they fire.
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, \
         ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
         ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
        // 7: partitions, in order.
        "SELECT TABLE_NAME, PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, \
         PARTITION_DESCRIPTION, SUBPARTITION_METHOD FROM information_schema.PARTITIONS \
         WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL \
         ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION",
        // 8: events. Times as text: the binary protocol would give bytes.
        "SELECT EVENT_NAME, EVENT_DEFINITION, CAST(EXECUTE_AT AS CHAR), INTERVAL_VALUE, \
         INTERVAL_FIELD, ON_COMPLETION, STATUS, EVENT_COMMENT FROM information_schema.EVENTS \
         WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME",
        // 9: what the model does not carry.
        "SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE()",
    ]
    .map(str::to_string)
    .to_vec()
}

/// The `SHOW CREATE TABLE` of each table with an index the catalog calls `BTREE`, given the
/// results of [`queries`]: `USING BTREE` and `USING HASH` on such an index are kept by the
/// server and shown by it, and no catalog column says whether one was written (InnoDB builds
/// a B-tree either way, and reports it as one).
pub(crate) fn detail_queries(catalog: &[Vec<Row>]) -> Vec<String> {
    let mut tables: Vec<String> = catalog
        .get(2)
        .into_iter()
        .flatten()
        .filter(|row| {
            field(row, 1).is_ok_and(|name| name != "PRIMARY")
                && field(row, 6).is_ok_and(|kind| kind == "BTREE")
        })
        .filter_map(|row| field(row, 0).ok())
        .collect();
    tables.dedup();
    tables
        .iter()
        .map(|table| format!("SHOW CREATE TABLE {}", quote(table)))
        .collect()
}

/// The indexes that name their algorithm in the `SHOW CREATE TABLE` results of
/// [`detail_queries`]: (table, index, `BTREE` or `HASH`).
fn written_algorithms(shown: &[Vec<Row>]) -> Result<Vec<(String, String, String)>, RenderError> {
    let mut written = Vec::new();
    for row in shown.iter().flatten() {
        let table = field(row, 0)?;
        for line in field(row, 1)?.lines() {
            if let Some((index, algorithm)) = index_algorithm(line.trim()) {
                written.push((table.clone(), index, algorithm.to_string()));
            }
        }
    }
    Ok(written)
}

/// The name and the written algorithm of the index a line of `SHOW CREATE TABLE` declares
/// (`` KEY `i` (`a`,`b`(10)) USING BTREE COMMENT '...' ``), if it names one.
fn index_algorithm(line: &str) -> Option<(String, &'static str)> {
    let rest = ["UNIQUE ", "FULLTEXT ", "SPATIAL "]
        .iter()
        .find_map(|kind| line.strip_prefix(kind))
        .unwrap_or(line);
    let (name, rest) = read_quoted(rest.strip_prefix("KEY ")?)?;
    let parts = rest.strip_prefix(" (")?;
    // The parts end at the parenthesis that closes the list, outside backquotes.
    let (mut depth, mut quoted, mut end) = (1, false, None);
    for (at, c) in parts.char_indices() {
        match c {
            '`' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    end = Some(at);
                    break;
                }
            }
            _ => {}
        }
    }
    let after = &parts[end? + 1..];
    ["BTREE", "HASH"]
        .into_iter()
        .find(|algorithm| {
            after
                .strip_prefix(" USING ")
                .is_some_and(|a| a.trim_end_matches(',').split(' ').next() == Some(algorithm))
        })
        .map(|algorithm| (name, algorithm))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Int(n) => Some(n.to_string()),
        Value::Text(text) => Some(text.clone()),
    }
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::Text(text) => text.parse().ok(),
        Value::Null => None,
    }
}

/// Column `i` of `row` as text, empty when NULL.
fn field(row: &Row, i: usize) -> Result<String, RenderError> {
    row.get(i)
        .map(|v| text(v).unwrap_or_default())
        .ok_or_else(|| RenderError::Impossible(format!("a catalog row has no column {i}")))
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// Build the model from the rows of [`queries`], followed by those of [`detail_queries`].
pub(crate) fn schema_from_catalog(mut results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
    let shown = results.split_off(results.len().min(10));
    let [
        tables,
        columns,
        statistics,
        foreign_keys,
        checks,
        views,
        triggers,
        partitions,
        events,
        unmanaged,
    ]: [Vec<Row>; 10] = results.try_into().map_err(|results: Vec<Vec<Row>>| {
        RenderError::Impossible(format!(
            "expected the results of 10 catalog queries, got {}",
            results.len()
        ))
    })?;
    let mut schema = Schema::default();
    for row in &tables {
        let name = field(row, 0)?;
        if field(row, 1)? != "BASE TABLE" {
            continue;
        }
        let mut table = Table::new(Name::bare(&name), Vec::new());
        table.engine = non_empty(field(row, 2)?);
        table.collation = non_empty(field(row, 3)?);
        let options = field(row, 4)?;
        for option in options.split_whitespace() {
            if let Some(format) = option.strip_prefix("row_format=") {
                table.row_format = Some(format.to_ascii_uppercase());
            }
            if let Some(size) = option.strip_prefix("key_block_size=") {
                table.key_block_size = size.parse().ok();
            }
        }
        table.comment = non_empty(field(row, 5)?);
        schema.tables.push(table);
    }
    for row in &columns {
        let table_name = field(row, 0)?;
        let Some(table) = schema.tables.iter_mut().find(|t| t.name.name == table_name) else {
            continue;
        };
        table.columns.push(column(row)?);
    }
    read_indexes(&mut schema, &statistics, &written_algorithms(&shown)?)?;
    read_foreign_keys(&mut schema, &foreign_keys)?;
    for row in &checks {
        let table_name = field(row, 0)?;
        let Some(table) = schema.tables.iter_mut().find(|t| t.name.name == table_name) else {
            continue;
        };
        let check = Check {
            name: Some(field(row, 1)?),
            expression: field(row, 3)?,
        };
        // A CHECK written on a column is shown on it, and named after it: kept apart so that
        // it is written back the same way.
        if field(row, 2)? == "Column" {
            table.other_constraints.push(check);
        } else {
            table.checks.push(check);
        }
    }
    for row in &views {
        schema.views.push(view(row)?);
    }
    for row in &triggers {
        let name = field(row, 0)?;
        let table = field(row, 1)?;
        schema.triggers.push(Trigger {
            definition: format!(
                "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
                quote(&name),
                field(row, 2)?,
                field(row, 3)?,
                quote(&table),
                field(row, 4)?
            ),
            name,
            table: Name::bare(table),
        });
    }
    read_partitions(&mut schema, &partitions)?;
    for row in &events {
        schema.functions.push(event(row)?);
    }
    for row in &unmanaged {
        schema.unmanaged.push(Unmanaged {
            kind: field(row, 0)?,
            object: field(row, 1)?,
        });
    }
    schema.normalize();
    Ok(schema)
}

fn column(row: &Row) -> Result<Column, RenderError> {
    let mut column = Column::new(field(row, 1)?, field(row, 4)?);
    column.nullable = field(row, 3)? == "YES";
    // MariaDB writes a default as an expression (`'x'`, `1.50`, `current_timestamp()`), and
    // the NULL default of a nullable column as `NULL`.
    column.default = row
        .get(2)
        .and_then(text)
        .filter(|default| default != "NULL");
    column.collation = row.get(5).and_then(text);
    let extra = field(row, 6)?;
    let lower = extra.to_ascii_lowercase();
    column.autoincrement = lower.contains("auto_increment");
    if let Some(at) = lower.find("on update ") {
        let rest = &extra[at + "on update ".len()..];
        column.on_update = Some(
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    if lower.contains("generated") {
        column.generated = Some(Generated {
            expression: field(row, 7)?,
            stored: lower.contains("stored"),
        });
        column.default = None;
    }
    column.comment = non_empty(field(row, 8)?);
    Ok(column)
}

/// What one index reads as, part by part.
struct IndexParts {
    table: String,
    name: String,
    unique: bool,
    kind: String,
    comment: String,
    ignored: bool,
    parts: Vec<String>,
    columns: Vec<String>,
}

fn read_indexes(
    schema: &mut Schema,
    rows: &[Row],
    written: &[(String, String, String)],
) -> Result<(), RenderError> {
    let mut indexes: Vec<IndexParts> = Vec::new();
    for row in rows {
        let table = field(row, 0)?;
        let name = field(row, 1)?;
        let column = field(row, 3)?;
        let mut part = quote(&column);
        // A SPATIAL index reports a length of its own choosing, which no one writes.
        if let Some(length) = row.get(4).and_then(int)
            && field(row, 6)? != "SPATIAL"
        {
            part.push_str(&format!("({length})"));
        }
        if field(row, 5)? == "D" {
            part.push_str(" DESC");
        }
        match indexes.last_mut() {
            Some(last) if last.table == table && last.name == name => {
                last.parts.push(part);
                last.columns.push(column);
            }
            _ => indexes.push(IndexParts {
                table,
                name,
                unique: row.get(2).and_then(int) == Some(0),
                kind: field(row, 6)?,
                comment: field(row, 7)?,
                ignored: field(row, 8)? == "YES",
                parts: vec![part],
                columns: vec![column],
            }),
        }
    }
    for index in indexes {
        let Some(table) = schema
            .tables
            .iter_mut()
            .find(|t| t.name.name == index.table)
        else {
            continue;
        };
        if index.name == "PRIMARY" {
            table.primary_key = Some(PrimaryKey {
                comment: non_empty(index.comment),
                ..PrimaryKey::new(index.columns)
            });
            continue;
        }
        let method = match index.kind.as_str() {
            "FULLTEXT" | "SPATIAL" | "HASH" => Some(index.kind.clone()),
            _ => written
                .iter()
                .find(|(table, name, _)| *table == index.table && *name == index.name)
                .map(|(_, _, algorithm)| algorithm.clone()),
        };
        table.indexes.push(Index {
            definition: index_definition(
                &index.table,
                &index.name,
                index.unique,
                method.as_deref(),
                &index.parts,
                &index.comment,
                index.ignored,
            ),
            name: Name::bare(index.name),
            unique: index.unique,
            keys: index.parts,
            predicate: None,
            method,
        });
    }
    Ok(())
}

/// An index as godwit writes it: `CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON table
/// (parts) [USING BTREE|HASH] [COMMENT '...'] [IGNORED]`. The renderer cuts it back into the clause
/// `ALTER TABLE` and `CREATE TABLE` take ([`crate::render::index_clause`]).
pub(crate) fn index_definition(
    table: &str,
    name: &str,
    unique: bool,
    method: Option<&str>,
    parts: &[String],
    comment: &str,
    ignored: bool,
) -> String {
    let kind = match method {
        Some(kind @ ("FULLTEXT" | "SPATIAL")) => format!("{kind} "),
        _ if unique => "UNIQUE ".to_string(),
        _ => String::new(),
    };
    let mut definition = format!(
        "CREATE {kind}INDEX {} ON {} ({})",
        quote(name),
        quote(table),
        parts.join(", ")
    );
    if let Some(algorithm @ ("BTREE" | "HASH")) = method {
        definition.push_str(&format!(" USING {algorithm}"));
    }
    if !comment.is_empty() {
        definition.push_str(&format!(" COMMENT {}", string_literal(comment)));
    }
    if ignored {
        definition.push_str(" IGNORED");
    }
    definition
}

/// An event, kept as code by its full definition ([`Function`], under the signature
/// `event <name>`). `STARTS` and `ENDS` are left out: a recurring event starts when it is
/// made unless told otherwise, so a scratch database's would always differ.
fn event(row: &Row) -> Result<Function, RenderError> {
    let name = field(row, 0)?;
    let schedule = match row.get(2).and_then(text) {
        Some(at) => format!("AT {}", string_literal(&at)),
        // The server quotes a compound interval (`'1:30'`) itself.
        None => format!("EVERY {} {}", field(row, 3)?, field(row, 4)?),
    };
    let status = match field(row, 6)?.as_str() {
        "ENABLED" => "ENABLE",
        "DISABLED" => "DISABLE",
        _ => "DISABLE ON SLAVE",
    };
    let mut definition = format!(
        "CREATE OR REPLACE EVENT {} ON SCHEDULE {schedule} ON COMPLETION {} {status}",
        quote(&name),
        field(row, 5)?,
    );
    let comment = field(row, 7)?;
    if !comment.is_empty() {
        definition.push_str(&format!(" COMMENT {}", string_literal(&comment)));
    }
    definition.push_str(&format!(" DO {}", field(row, 1)?));
    Ok(Function {
        signature: format!("event {name}"),
        name: Name::bare(name),
        returns: None,
        definition,
    })
}

/// Each partitioned table's `PARTITION BY` clause, written back from its partitions: the
/// method and expression, then each partition with its bound; for a hash or key the number
/// of partitions alone, when they have the names the server gives (`p0`, `p1`, ...).
fn read_partitions(schema: &mut Schema, rows: &[Row]) -> Result<(), RenderError> {
    let mut at = 0;
    while at < rows.len() {
        let table_name = field(&rows[at], 0)?;
        let end = rows[at..]
            .iter()
            .position(|r| field(r, 0).ok().as_deref() != Some(table_name.as_str()))
            .map_or(rows.len(), |n| at + n);
        let group = &rows[at..end];
        at = end;
        let method = field(&group[0], 2)?;
        let expression = field(&group[0], 3)?;
        if !field(&group[0], 5)?.is_empty() {
            schema.unmanaged.push(Unmanaged {
                kind: "subpartitioning".into(),
                object: table_name.clone(),
            });
        }
        let columns = method.ends_with("COLUMNS");
        let mut clause = if columns {
            format!("PARTITION BY {method}({expression})")
        } else {
            format!("PARTITION BY {method} ({expression})")
        };
        let names = group
            .iter()
            .map(|r| field(r, 1))
            .collect::<Result<Vec<_>, _>>()?;
        if method.starts_with("RANGE") || method.starts_with("LIST") {
            let mut parts = Vec::new();
            for (row, name) in group.iter().zip(&names) {
                let bound = field(row, 4)?;
                let values = match (method.starts_with("RANGE"), columns) {
                    (true, false) if bound == "MAXVALUE" => "VALUES LESS THAN MAXVALUE".into(),
                    (true, _) => format!("VALUES LESS THAN ({bound})"),
                    (false, _) => format!("VALUES IN ({bound})"),
                };
                parts.push(format!("PARTITION {} {values}", quote(name)));
            }
            clause.push_str(&format!(" ({})", parts.join(", ")));
        } else if names.iter().enumerate().all(|(i, n)| *n == format!("p{i}")) {
            // One partition is what the method alone gives.
            if names.len() > 1 {
                clause.push_str(&format!(" PARTITIONS {}", names.len()));
            }
        } else {
            let parts: Vec<String> = names
                .iter()
                .map(|n| format!("PARTITION {}", quote(n)))
                .collect();
            clause.push_str(&format!(" ({})", parts.join(", ")));
        }
        if let Some(table) = schema.tables.iter_mut().find(|t| t.name.name == table_name) {
            table.partitioning = Some(clause);
        }
    }
    Ok(())
}

fn read_foreign_keys(schema: &mut Schema, rows: &[Row]) -> Result<(), RenderError> {
    let action = |rule: &str| match rule {
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        "NO ACTION" => FkAction::NoAction,
        _ => FkAction::Restrict,
    };
    for row in rows {
        let table_name = field(row, 0)?;
        let Some(table) = schema.tables.iter_mut().find(|t| t.name.name == table_name) else {
            continue;
        };
        let name = field(row, 1)?;
        let column = field(row, 2)?;
        let referenced = field(row, 5)?;
        if let Some(key) = table
            .foreign_keys
            .iter_mut()
            .find(|k| k.name.as_deref() == Some(&name))
        {
            key.columns.push(column);
            key.referenced_columns.push(referenced);
            continue;
        }
        table.foreign_keys.push(ForeignKey {
            name: Some(name),
            columns: vec![column],
            references: Name::bare(field(row, 4)?),
            referenced_columns: vec![referenced],
            on_update: action(&field(row, 6)?),
            on_delete: action(&field(row, 7)?),
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        });
    }
    Ok(())
}

/// A view, its query freed of the database's name: the server qualifies every table and
/// column with it (`` `app`.`users`.`id` ``), and the scratch database has another.
fn view(row: &Row) -> Result<View, RenderError> {
    let database = field(row, 0)?;
    let name = field(row, 1)?;
    let raw = field(row, 2)?;
    let qualifier = format!("{}.", quote(&database));
    let mut depends_on: Vec<Name> = Vec::new();
    let mut rest = raw.as_str();
    while let Some(at) = rest.find(&qualifier) {
        rest = &rest[at + qualifier.len()..];
        if let Some((read, _)) = read_quoted(rest)
            && !depends_on.iter().any(|n| n.name == read)
        {
            depends_on.push(Name::bare(read));
        }
    }
    depends_on.sort();
    let query = raw.replace(&qualifier, "");
    let mut definition = format!(
        "CREATE ALGORITHM={} SQL SECURITY {} VIEW {} AS {query}",
        field(row, 5)?,
        field(row, 4)?,
        quote(&name)
    );
    match field(row, 3)?.as_str() {
        "CASCADED" => definition.push_str(" WITH CASCADED CHECK OPTION"),
        "LOCAL" => definition.push_str(" WITH LOCAL CHECK OPTION"),
        _ => {}
    }
    Ok(View {
        name: Name::bare(name),
        materialized: false,
        query,
        definition,
        depends_on,
        indexes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_algorithms_are_read_from_key_lines() {
        for (line, read) in [
            ("KEY `i` (`a`) USING BTREE,", Some(("i", "BTREE"))),
            ("UNIQUE KEY `u` (`t`) USING HASH", Some(("u", "HASH"))),
            (
                "KEY `c` (`a`(10),`b`) USING HASH COMMENT 'x',",
                Some(("c", "HASH")),
            ),
            ("KEY `n) USING BTREE` (`a`),", None),
            ("KEY `m` (`a`) COMMENT 'USING BTREE',", None),
            ("PRIMARY KEY (`id`) USING BTREE,", None),
            ("`a` int(11) DEFAULT NULL,", None),
        ] {
            assert_eq!(
                index_algorithm(line),
                read.map(|(name, algorithm)| (name.to_string(), algorithm)),
                "{line}"
            );
        }
    }
}
