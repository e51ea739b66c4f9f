//! Changing an existing table: with SQLite's own `ALTER TABLE` where it can make the change,
//! else by the rebuild SQLite documents (a new table under a temporary name, the rows copied,
//! the old table dropped, the new one renamed into place, its indexes and triggers remade),
//! with the hazards of either way counted on the rows.

#![allow(
    clippy::wildcard_imports,
    reason = "the rebuild is written with its parent's helpers"
)]

// The rebuild is written with the renderer's own helpers (quoting, column and table SQL).
use super::*;

/// Whether a table change needs more than SQLite's `ALTER TABLE` (foreign-key changes are
/// decided by the caller, from the change list).
pub(super) fn needs_rebuild(change: &TableChange) -> bool {
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
pub(super) fn can_add(table: &Table, column: &Column) -> bool {
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
pub(super) fn can_drop(table: &Table, column: &Column) -> bool {
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
pub(super) fn native_order_matches(change: &TableChange) -> bool {
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

pub(super) fn alter_natively(
    context: &Context<'_>,
    change: &TableChange,
    out: &mut Vec<Statement>,
) {
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
pub(super) fn affinity(data_type: &str) -> &'static str {
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

pub(super) fn rebuild(context: &Context<'_>, change: &TableChange, out: &mut Vec<Statement>) {
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
pub(super) fn refill(table: &Name) -> Statement {
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
pub(super) fn reindex(
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
