//! Tables: creating, altering (columns, constraints, identity, serial sequences), foreign
//! keys, dropping.

use godwit_core::dialect::{Hazard, HazardKind, RenderError, Statement};
use godwit_core::diff::{Change, ColumnChange, TableChange};
use godwit_core::schema::{Column, Deferral, ForeignKey, Name, Table};

use super::convert::{Conversion, Count, conversion};
use super::inherits::ColumnDrop;
use super::sql::{
    constraint_clause, constraint_prefix, deferral_clause, identity_clause, is_partition_marker,
    literal, nextval_sequence, partition_key, partition_of, primary_key_clause, qualified, quote,
    quoted_list, serial_sequence_name, serial_type, unique_clause,
};
use super::{Context, constraint_name, impossible};
use crate::sequence::SequenceOptions;

impl Context<'_> {
    pub(super) fn create_table(
        &self,
        table: &Table,
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let name = qualified(&table.name);
        let create = if table.unlogged {
            "CREATE UNLOGGED TABLE"
        } else {
            "CREATE TABLE"
        };
        let partition_by = partition_key(table)
            .map(|key| format!(" PARTITION BY {key}"))
            .unwrap_or_default();
        let mut constraints = Vec::new();
        if let Some(pk) = &table.primary_key {
            constraints.push(primary_key_clause(pk));
        }
        for unique in &table.uniques {
            constraints.push(unique_clause(unique));
        }
        for check in table.checks.iter().chain(&table.other_constraints) {
            if !is_partition_marker(check) {
                constraints.push(constraint_clause(check));
            }
        }
        if let Some((parent, bound)) = partition_of(table) {
            // A partition takes its columns from its parent; its own constraints follow.
            out.push(Statement::execute(format!(
                "{create} {name} PARTITION OF {parent} {bound}{partition_by}"
            )));
            for constraint in constraints {
                out.push(Statement::execute(format!(
                    "ALTER TABLE {name} ADD {constraint}"
                )));
            }
        } else {
            // Inherited columns come from the parents, and would be the table's own if written.
            let mut lines: Vec<String> = table
                .columns
                .iter()
                .filter(|c| !c.inherited)
                .map(|c| self.column_definition(c))
                .collect();
            lines.extend(constraints);
            let body = if lines.is_empty() {
                String::new()
            } else {
                format!("\n    {}\n", lines.join(",\n    "))
            };
            out.push(Statement::execute(format!(
                "{create} {name} ({body}){}{partition_by}",
                self.inherits_clause(table)
            )));
            out.extend(
                self.inherited_column_overrides(table)
                    .into_iter()
                    .map(Statement::execute),
            );
        }
        if let Some(comment) = &table.comment {
            out.push(Statement::execute(format!(
                "COMMENT ON TABLE {name} IS {}",
                literal(comment)
            )));
        }
        Ok(())
    }

    /// A column as `CREATE TABLE` and `ADD COLUMN` take it. A column that `serial` would
    /// leave behind is written as `serial`, which creates its sequence too, under the name the
    /// server gives it then, which is the one the desired schema's own server gave it.
    fn column_definition(&self, column: &Column) -> String {
        let serial = serial_type(column);
        let mut sql = format!(
            "{} {}",
            quote(&column.name),
            serial.unwrap_or(&column.data_type)
        );
        if let Some(collation) = &column.collation {
            sql.push_str(&format!(" COLLATE {collation}"));
        }
        if let Some(generated) = &column.generated {
            sql.push_str(&format!(" GENERATED ALWAYS AS ({})", generated.expression));
            if generated.stored {
                sql.push_str(" STORED");
            }
        }
        if let Some(identity) = &column.identity {
            sql.push_str(&identity_clause(
                identity.always,
                identity.options.as_deref(),
            ));
        }
        if let (Some(default), None) = (&column.default, serial) {
            sql.push_str(&format!(" DEFAULT {default}"));
        }
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
        sql
    }

    pub(super) fn alter_table(
        &self,
        change: &TableChange,
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let table = &change.to.name;
        let name = qualified(table);
        let alter = |action: String| Statement::execute(format!("ALTER TABLE {name} {action}"));
        for check in change.added_checks.iter().chain(&change.dropped_checks) {
            if is_partition_marker(check) {
                return Err(impossible(format!(
                    "table {table} changes how it is partitioned ({}); godwit cannot do that \
                     in place: write a versioned migration that moves the rows",
                    check.expression
                )));
            }
        }

        out.extend(
            self.leave_parents(change)
                .into_iter()
                .map(Statement::execute),
        );
        for (old, new) in &change.renamed_columns {
            out.push(alter(format!(
                "RENAME COLUMN {} TO {}",
                quote(old),
                quote(new)
            )));
        }
        for (old, new) in change.renamed_constraints() {
            out.push(alter(format!(
                "RENAME CONSTRAINT {} TO {}",
                quote(old),
                quote(new)
            )));
        }
        for column in &change.to.columns {
            if let Some((current, target)) = self.sequence_renamed_along(change, column) {
                out.push(Statement::execute(format!(
                    "ALTER SEQUENCE {} RENAME TO {}",
                    qualified(&current),
                    quote(&target)
                )));
            }
        }

        if let Some((Some(pk), _)) = &change.primary_key {
            let constraint = constraint_name(pk.name.as_deref(), table, "primary key")?;
            out.push(alter(format!("DROP CONSTRAINT {}", quote(constraint))));
        }
        for unique in &change.dropped_uniques {
            let constraint = constraint_name(unique.name.as_deref(), table, "unique constraint")?;
            out.push(alter(format!("DROP CONSTRAINT {}", quote(constraint))));
        }
        for check in &change.dropped_checks {
            let constraint = constraint_name(check.name.as_deref(), table, "constraint")?;
            out.push(alter(format!("DROP CONSTRAINT {}", quote(constraint))));
        }

        for column in &change.dropped_columns {
            let mode = self.drop_mode(change, column);
            if mode != ColumnDrop::ThroughParent {
                out.push(self.drop_column(change, column, mode));
            }
        }
        for column in &change.added_columns {
            // A parent's ADD COLUMN reaches its children: one that only inherits the column
            // gets it so, and one that has it as its own added it first, here below.
            if self.added_by_parent(change, &column.name) {
                continue;
            }
            for (child, own) in self.children_adding_first(change, &column.name) {
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    qualified(child),
                    self.column_definition(own)
                )));
            }
            let mut statement = alter(format!("ADD COLUMN {}", self.column_definition(column)));
            if !column.nullable && !fills_itself(column) {
                // Every row the table has would hold NULL in it.
                statement = statement.with_hazard(Hazard::new(
                    HazardKind::AddConstraint,
                    format!(
                        "adds column {} to {table} NOT NULL without a default; fails on every \
                         row the table has",
                        column.name
                    ),
                    Some(format!(
                        "SELECT count(*) FROM {}",
                        qualified(&self.current_table(table))
                    )),
                ));
            }
            out.push(statement);
        }
        for column in &change.altered_columns {
            self.alter_column(change, column, out)?;
        }

        if let Some((_, Some(pk))) = &change.primary_key {
            let added = |name: &String| change.added_columns.iter().find(|c| &c.name == name);
            let existing: Vec<String> = pk
                .columns
                .iter()
                .filter(|c| added(c).is_none())
                .cloned()
                .collect();
            let new_columns: Vec<&Column> = pk.columns.iter().filter_map(added).collect();
            let query = if new_columns.is_empty() {
                self.count_query(table, &existing, |cols| {
                    let nulls = cols
                        .iter()
                        .map(|c| format!("{c} IS NULL"))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    format!(
                        "{nulls} OR ({}) IN ({})",
                        cols.join(", "),
                        duplicates(table, self, cols)
                    )
                })
            } else if new_columns.iter().any(|c| numbers_itself(c)) {
                // A column numbered from a sequence makes every key distinct; only NULLs in
                // the key's other columns can fail it.
                self.count_query(table, &existing, |cols| {
                    let nulls: Vec<String> = cols.iter().map(|c| format!("{c} IS NULL")).collect();
                    if nulls.is_empty() {
                        "false".to_string()
                    } else {
                        nulls.join(" OR ")
                    }
                })
            } else {
                // The new column's values come from a default this cannot judge, or are NULL,
                // which its ADD COLUMN is already refused for.
                None
            };
            let hazard = query.map(|query| {
                Hazard::new(
                    HazardKind::AddConstraint,
                    format!(
                        "adds primary key ({}) to {table}; fails on NULL or duplicate keys",
                        pk.columns.join(", ")
                    ),
                    Some(query),
                )
            });
            let mut statement = alter(format!("ADD {}", primary_key_clause(pk))).allowing_lint(
                "index-without-concurrently",
                builds_key_index("the primary key", table),
            );
            if let Some(hazard) = hazard {
                statement = statement.with_hazard(hazard);
            }
            out.push(statement);
        }
        for unique in &change.added_uniques {
            let mut statement = alter(format!("ADD {}", unique_clause(unique))).allowing_lint(
                "index-without-concurrently",
                builds_key_index("the unique constraint", table),
            );
            let query = self.count_query(table, &unique.columns, |cols| {
                let not_null = if unique.nulls_not_distinct {
                    String::new()
                } else {
                    cols.iter()
                        .map(|c| format!(" AND {c} IS NOT NULL"))
                        .collect::<String>()
                };
                format!(
                    "({}) IN ({}){not_null}",
                    cols.join(", "),
                    duplicates(table, self, cols)
                )
            });
            statement = statement.with_hazard(Hazard::new(
                HazardKind::AddConstraint,
                format!(
                    "adds a unique constraint on ({}) to {table}; fails on duplicates",
                    unique.columns.join(", ")
                ),
                query,
            ));
            out.push(statement);
        }
        for check in &change.added_checks {
            let mut statement = alter(format!("ADD {}", constraint_clause(check)));
            if check.expression.starts_with("EXCLUDE ") {
                statement = statement.allowing_lint(
                    "index-without-concurrently",
                    format!(
                        "an exclusion constraint builds its index while reads and writes of \
                         {table} wait, and PostgreSQL has no concurrent way to add one"
                    ),
                );
            }
            // A NOT VALID check does not look at existing rows.
            if !check.expression.ends_with(" NOT VALID") {
                if check.expression.starts_with("CHECK ") {
                    statement = statement.allowing_lint(
                        "constraint-without-not-valid",
                        checks_every_row(table, None),
                    );
                }
                let query = check
                    .expression
                    .strip_prefix("CHECK ")
                    .filter(|_| {
                        // The expression names columns by their new names.
                        change.renamed_columns.is_empty() && change.added_columns.is_empty()
                    })
                    .map(|expression| {
                        format!(
                            "SELECT count(*) FROM {} WHERE NOT {expression}",
                            qualified(&self.current_table(table))
                        )
                    });
                statement = statement.with_hazard(Hazard::new(
                    HazardKind::AddConstraint,
                    format!(
                        "adds constraint {} to {table}; fails on rows that violate it",
                        check.name.as_deref().unwrap_or(&check.expression)
                    ),
                    query,
                ));
            }
            out.push(statement);
        }

        out.extend(
            self.join_parents(change)
                .into_iter()
                .map(Statement::execute),
        );
        if let Some(comment) = &change.comment {
            out.push(Statement::execute(format!(
                "COMMENT ON TABLE {name} IS {}",
                comment
                    .as_deref()
                    .map_or_else(|| "NULL".to_string(), literal)
            )));
        }
        Ok(())
    }

    /// The drop of `column` from the table of `change`, counting the values it loses: those of
    /// the table itself, and of the children that only inherit the column, which lose it too
    /// unless the drop is `ONLY`.
    fn drop_column(&self, change: &TableChange, column: &Column, mode: ColumnDrop) -> Statement {
        let table = &change.to.name;
        let has_children = !change.children.is_empty() || self.has_children(table);
        let only = if mode == ColumnDrop::Only {
            "ONLY "
        } else {
            ""
        };
        let c = quote(&column.name);
        let count = |t: &Name| {
            format!(
                "SELECT count(*) FROM {}{} WHERE {c} IS NOT NULL",
                if has_children { "ONLY " } else { "" },
                qualified(t)
            )
        };
        let mut counts = vec![count(&self.current_table(table))];
        if mode == ColumnDrop::Recursive {
            counts.extend(self.dropped_with(change, &column.name).iter().map(count));
        }
        let query = match counts.as_slice() {
            [one] => one.clone(),
            many => format!(
                "SELECT {}",
                many.iter()
                    .map(|q| format!("({q})"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        };
        Statement::execute(format!(
            "ALTER TABLE {only}{} DROP COLUMN {c}",
            qualified(table)
        ))
        .with_hazard(Hazard::new(
            HazardKind::DropColumn,
            format!("drops column {} of {table} and its values", column.name),
            Some(query),
        ))
    }

    /// The sequence `column` (as desired) owns, when it follows its table or column to a new
    /// name: its current name and the one it takes. It follows, as Rails' `rename_table` has
    /// it do, only from the name `serial` gave it under the old names to the one `serial`
    /// gives under the new ones; a name the server cut or numbered, or a user chose, stays.
    fn sequence_renamed_along(
        &self,
        change: &TableChange,
        column: &Column,
    ) -> Option<(Name, String)> {
        let target = column.owned_sequence.as_ref()?;
        let current = change
            .from
            .columns
            .iter()
            .find(|c| c.name == column.name)?
            .owned_sequence
            .as_ref()?;
        let table = &change.to.name;
        let old_column = change
            .renamed_columns
            .iter()
            .find(|(_, new)| *new == column.name)
            .map_or(column.name.as_str(), |(old, _)| old.as_str());
        let renamed = current != target
            && serial_sequence_name(&self.current_table(table), old_column).as_ref()
                == Some(current)
            && serial_sequence_name(table, &column.name).as_ref() == Some(target);
        renamed.then(|| {
            (
                Name {
                    schema: table.schema.clone(),
                    name: current.clone(),
                },
                target.clone(),
            )
        })
    }

    fn alter_column(
        &self,
        change: &TableChange,
        column: &ColumnChange,
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let table = &change.to.name;
        let name = qualified(table);
        let (mut from, mut to) = (column.from.clone(), column.to.clone());
        if from.owned_sequence.is_some() && to.owned_sequence.is_some() {
            // The column keeps the sequence it has, and its counter: under the name it takes
            // when renamed along with the column, otherwise under the one it has.
            if self.sequence_renamed_along(change, &to).is_some() {
                from.default.clone_from(&to.default);
            } else {
                to.default.clone_from(&from.default);
            }
            to.owned_sequence.clone_from(&from.owned_sequence);
        }
        let to = &to;
        if let Some(array) = self.rebuilt_enum_column(&from.data_type) {
            // The enum's rebuild ran first: it moved the column to the rebuilt type with its
            // desired default, or, when the column is to change type, left it as text without
            // a default.
            if from.data_type == to.data_type {
                from.default.clone_from(&to.default);
            } else {
                from.data_type = if array { "text[]" } else { "text" }.to_string();
                from.default = None;
            }
        }
        if let Some(parent) = self.retyped_by_parent(change, &to.name) {
            // The parent's type change converts this column too, after its DROP DEFAULT,
            // which reaches this column as well.
            from.data_type.clone_from(&to.data_type);
            from.collation.clone_from(&to.collation);
            if parent.default.is_some() {
                from.default = None;
            }
        }
        let c = quote(&to.name);
        let alter = |action: String| {
            Statement::execute(format!("ALTER TABLE {name} ALTER COLUMN {c} {action}"))
        };
        // What would reach the children, where they may differ from this table: its default
        // and whether it takes NULL.
        let only_name = if change.children.is_empty() {
            name.clone()
        } else {
            format!("ONLY {name}")
        };
        let alter_only = |action: String| {
            Statement::execute(format!("ALTER TABLE {only_name} ALTER COLUMN {c} {action}"))
        };

        if from.generated != to.generated {
            match (&from.generated, &to.generated) {
                // The stored values stay and become ordinary ones.
                (Some(_), None) => {
                    out.push(alter("DROP EXPRESSION".into()));
                    from.generated = None;
                }
                // A generation expression cannot be added or changed in place (before
                // PostgreSQL 17): the column is made again. Only a column that held its own
                // data loses any.
                _ => {
                    let mut drop = self.drop_column(change, &from, ColumnDrop::Recursive);
                    if from.generated.is_some() {
                        drop.hazard = None;
                        drop = drop.allowing_lint(
                            "drop-column",
                            format!(
                                "{} is a generated column: the ADD COLUMN below computes its \
                                 values again, with the new expression",
                                to.name
                            ),
                        );
                    }
                    out.push(drop);
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {name} ADD COLUMN {}",
                        self.column_definition(to)
                    )));
                    return Ok(());
                }
            }
        }

        if from.identity.is_some() && to.identity.is_none() {
            out.push(alter("DROP IDENTITY".into()));
        }

        let to_serial = serial_type(to).is_some();
        let to_sequence = to.default.as_deref().and_then(nextval_sequence);
        // The sequence the column owns now, as its default names it; one of that name that the
        // plan creates or drops by itself is someone else's.
        let from_sequence = from
            .owned_sequence
            .as_ref()
            .and(from.default.as_deref())
            .and_then(nextval_sequence)
            .filter(|s| !self.sequence_mentioned(s));
        let create_sequence = to
            .owned_sequence
            .as_ref()
            .filter(|_| from.owned_sequence.is_none() && to_serial)
            .map(|sequence| Name {
                schema: table.schema.clone(),
                name: sequence.clone(),
            });

        let type_changed = from.data_type != to.data_type || from.collation != to.collation;
        // A default is dropped before a type change, as it may not cast to the new type, and
        // when it goes; a new one replaces the old one by itself.
        let drop_default = from.default.is_some() && (type_changed || to.default.is_none());
        if drop_default && type_changed {
            // Down to the children too, whose defaults the type change would have to convert.
            out.push(alter("DROP DEFAULT".into()));
        } else if drop_default {
            out.push(alter_only("DROP DEFAULT".into()));
        }
        if type_changed {
            let collate = to
                .collation
                .as_deref()
                .map(|c| format!(" COLLATE {c}"))
                .unwrap_or_default();
            let through_text = (self.enum_in_change(&from.data_type)
                || self.enum_in_change(&to.data_type))
                && !matches!(to.data_type.as_str(), "text" | "text[]");
            let via = match (through_text, to.data_type.ends_with("[]")) {
                (false, _) => "",
                (true, false) => "::text",
                (true, true) => "::text[]",
            };
            let mut statement = alter(format!(
                "TYPE {}{collate} USING {c}{via}::{}",
                to.data_type, to.data_type
            ));
            if from.data_type != to.data_type
                && let Some(hazard) = self.conversion_hazard(table, &from, to)
            {
                statement = statement.with_hazard(hazard);
            }
            out.push(statement);
        }
        if let Some(sequence) = &create_sequence {
            out.push(Statement::execute(format!(
                "CREATE SEQUENCE IF NOT EXISTS {} AS {} OWNED BY {name}.{c}",
                qualified(sequence),
                to.data_type
            )));
        }
        if let Some(default) = &to.default
            && (drop_default || from.default != to.default)
        {
            out.push(alter_only(format!("SET DEFAULT {default}")));
        }
        if let Some(sequence) = &from_sequence
            && to_sequence.as_ref() != Some(sequence)
            && from.default != to.default
        {
            // The column's own sequence (from `serial`) is not used any more. A sequence
            // of that name that the column does not own is someone else's: keep it.
            let regclass = literal(sequence);
            out.push(Statement::execute(format!(
                "DO $godwit$ BEGIN\n\
                     \x20   IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend \
                     WHERE classid = 'pg_catalog.pg_class'::regclass \
                     AND objid = {regclass}::regclass AND deptype = 'a') THEN\n\
                     \x20       DROP SEQUENCE {sequence};\n\
                     \x20   END IF;\n\
                     END $godwit$"
            )));
        }
        if from.data_type != to.data_type
            && to_serial
            && create_sequence.is_none()
            && let Some(sequence) = &to_sequence
        {
            out.push(Statement::execute(format!(
                "ALTER SEQUENCE {sequence} AS {}",
                to.data_type
            )));
        }

        if from.nullable && !to.nullable {
            out.push(alter("SET NOT NULL".into()).with_hazard(Hazard::new(
                HazardKind::AddConstraint,
                format!(
                    "makes column {} of {table} NOT NULL; fails on NULL values",
                    to.name
                ),
                self.count_query(table, std::slice::from_ref(&to.name), |cols| {
                    format!("{} IS NULL", cols[0])
                }),
            )));
        } else if !from.nullable && to.nullable {
            out.push(alter_only("DROP NOT NULL".into()));
        }

        let mut restart_from_data = None;
        match (&from.identity, &to.identity) {
            (None, Some(identity)) => {
                out.push(alter(format!(
                    "ADD{}",
                    identity_clause(identity.always, identity.options.as_deref())
                )));
                let options =
                    SequenceOptions::from_identity(&to.data_type, identity.options.as_deref())?;
                restart_from_data = Some((
                    format!(
                        "pg_catalog.pg_get_serial_sequence({}, {})",
                        literal(&name),
                        literal(&to.name)
                    ),
                    options,
                ));
            }
            (Some(current), Some(identity)) => {
                if current.always != identity.always {
                    out.push(alter(format!(
                        "SET GENERATED {}",
                        if identity.always {
                            "ALWAYS"
                        } else {
                            "BY DEFAULT"
                        }
                    )));
                }
                if current.options != identity.options {
                    let options =
                        SequenceOptions::from_identity(&to.data_type, identity.options.as_deref())?;
                    out.push(alter(options.set_clauses()));
                }
            }
            _ => {}
        }
        if let Some(sequence) = &create_sequence {
            restart_from_data = Some((
                literal(&qualified(sequence)),
                SequenceOptions::defaults(&to.data_type, 1),
            ));
        }
        if let Some((sequence, options)) = restart_from_data {
            // A new sequence on a column that already has values would hand out those values
            // again: continue after the largest one.
            if options.increment > 0 {
                out.push(Statement::execute(format!(
                    "SELECT pg_catalog.setval({sequence}, max({c})) FROM {name} HAVING max({c}) >= {}",
                    options.start
                )));
            }
        }
        Ok(())
    }

    /// What changing column `to` of `table` from the type of `from` may do to its values: a
    /// conversion that can only fail is refused for the rows that would fail it, one that
    /// alters values needs consent for the rows it alters (and is refused for those it
    /// cannot convert), and one this cannot tell about counts every value.
    fn conversion_hazard(&self, table: &Name, from: &Column, to: &Column) -> Option<Hazard> {
        let change = format!(
            "changes column {} of {table} from {} to {}",
            to.name, from.data_type, to.data_type
        );
        let current_table = qualified(&self.current_table(table));
        let column = self.current_column(table, &to.name).map(|c| quote(&c));
        let labels = self.target_labels(&from.data_type, &to.data_type);
        let conversion = column
            .as_deref()
            .map(|c| conversion(&from.data_type, &to.data_type, c, labels));
        let count = |condition: &str| Count::Where(condition.to_string()).query(&current_table);
        match conversion {
            Some(Conversion::Kept) => None,
            Some(Conversion::FailsOn(rows)) => Some(Hazard::new(
                HazardKind::ConvertType,
                format!("{change}; fails on values the new type cannot take"),
                Some(rows.query(&current_table)),
            )),
            Some(Conversion::Alters { altered, fails }) => Some(
                Hazard::new(
                    HazardKind::NarrowType,
                    format!(
                        "{change}; values may be cut or rounded{}",
                        if fails.is_some() {
                            ", or fail to convert"
                        } else {
                            ""
                        }
                    ),
                    Some(count(&altered)),
                )
                .with_failing_query(fails.as_deref().map(count)),
            ),
            Some(Conversion::Unknown) | None => Some(Hazard::new(
                HazardKind::NarrowType,
                format!("{change}; values may be cut, rounded or fail to convert"),
                column.map(|c| count(&format!("{c} IS NOT NULL"))),
            )),
        }
    }

    /// The key this change adds in place of `dropped` (of `table`, by its current name) when
    /// the two differ only in when they are checked, which `ALTER CONSTRAINT` changes without
    /// checking the rows again. Not when the referenced table's keys change, which needs the
    /// key out of the way.
    pub(super) fn deferral_changed(
        &self,
        table: &Name,
        dropped: &ForeignKey,
    ) -> Option<&ForeignKey> {
        self.changes.iter().find_map(|c| match c {
            Change::AddForeignKey { table: t, key }
                if &self.current_table(t) == table
                    && (key.deferrable, key.initially_deferred)
                        != (dropped.deferrable, dropped.initially_deferred)
                    && *key
                        == ForeignKey {
                            deferrable: key.deferrable,
                            initially_deferred: key.initially_deferred,
                            ..dropped.clone()
                        }
                    && !self.table_change(&key.references).is_some_and(|r| {
                        r.primary_key.is_some() || !r.dropped_uniques.is_empty()
                    }) =>
            {
                Some(key)
            }
            _ => None,
        })
    }

    pub(super) fn add_foreign_key(
        &self,
        table: &Name,
        key: &ForeignKey,
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let current = self.current_table(table);
        let altered = self.changes.iter().any(|c| {
            matches!(c, Change::DropForeignKey { table: t, key: dropped }
                if *t == current && self.deferral_changed(t, dropped) == Some(key))
        });
        if altered {
            let constraint = constraint_name(key.name.as_deref(), table, "foreign key")?;
            let deferral = deferral_clause(Deferral {
                deferrable: key.deferrable,
                initially_deferred: key.initially_deferred,
            });
            out.push(Statement::execute(format!(
                "ALTER TABLE {} ALTER CONSTRAINT {}{}",
                qualified(table),
                quote(constraint),
                if deferral.is_empty() {
                    " NOT DEFERRABLE"
                } else {
                    deferral
                }
            )));
            return Ok(());
        }
        let mut sql = format!(
            "ALTER TABLE {} ADD {}FOREIGN KEY ({}) REFERENCES {}",
            qualified(table),
            constraint_prefix(key.name.as_deref()),
            quoted_list(&key.columns),
            qualified(&key.references)
        );
        if !key.referenced_columns.is_empty() {
            sql.push_str(&format!(" ({})", quoted_list(&key.referenced_columns)));
        }
        if key.match_full {
            sql.push_str(" MATCH FULL");
        }
        if key.on_update != Default::default() {
            sql.push_str(&format!(" ON UPDATE {}", key.on_update.sql()));
        }
        if key.on_delete != Default::default() {
            sql.push_str(&format!(" ON DELETE {}", key.on_delete.sql()));
        }
        sql.push_str(deferral_clause(Deferral {
            deferrable: key.deferrable,
            initially_deferred: key.initially_deferred,
        }));
        let mut statement = Statement::execute(sql);
        if !self.table_created(table) {
            statement = statement.allowing_lint(
                "constraint-without-not-valid",
                checks_every_row(table, Some(&key.references)),
            );
            // Rows of an existing table may reference nothing; count them before anything
            // runs, in the referenced table's current state (empty when it is new).
            // MATCH FULL also refuses rows whose key is NULL in some columns but not all.
            let partly_null = |cols: &[String]| {
                (key.match_full && cols.len() > 1).then(|| {
                    format!(
                        " OR num_nonnulls({}) NOT IN (0, {})",
                        cols.join(", "),
                        cols.len()
                    )
                })
            };
            let query = if self.table_created(&key.references) {
                self.count_query(table, &key.columns, |cols| {
                    let present = cols
                        .iter()
                        .map(|c| format!("{c} IS NOT NULL"))
                        .collect::<Vec<_>>()
                        .join(" AND ");
                    match partly_null(cols) {
                        Some(partly) => format!("({present}){partly}"),
                        None => present,
                    }
                })
            } else {
                let referenced: Option<Vec<String>> = key
                    .referenced_columns
                    .iter()
                    .map(|c| self.current_column(&key.references, c).map(|c| quote(&c)))
                    .collect();
                let referenced_table = qualified(&self.current_table(&key.references));
                // Outer columns are qualified: the referenced table may have columns of the
                // same names, which would otherwise shadow them inside the subquery.
                let outer = qualified(&self.current_table(table));
                referenced
                    .filter(|r| r.len() == key.columns.len())
                    .and_then(|referenced| {
                        self.count_query(table, &key.columns, |cols| {
                            let present = cols
                                .iter()
                                .map(|c| format!("{c} IS NOT NULL"))
                                .collect::<Vec<_>>()
                                .join(" AND ");
                            let matches = cols
                                .iter()
                                .zip(&referenced)
                                .map(|(c, r)| format!("r.{r} = {outer}.{c}"))
                                .collect::<Vec<_>>()
                                .join(" AND ");
                            let unmatched = format!(
                                "{present} AND NOT EXISTS (SELECT 1 FROM {referenced_table} AS r WHERE {matches})"
                            );
                            match partly_null(cols) {
                                Some(partly) => format!("({unmatched}){partly}"),
                                None => unmatched,
                            }
                        })
                    })
            };
            statement = statement.with_hazard(Hazard::new(
                HazardKind::AddConstraint,
                format!(
                    "adds foreign key ({}) on {table} referencing {}; fails on rows that reference nothing",
                    key.columns.join(", "),
                    key.references
                ),
                query,
            ));
        }
        out.push(statement);
        Ok(())
    }

    /// The foreign keys of the tables this change drops, dropped before anything else runs:
    /// dropped tables may reference each other, in any order, and a key to a table that stays
    /// would stop the change from dropping the primary key or unique constraint it uses.
    pub(super) fn drop_foreign_keys_of_dropped_tables(&self, out: &mut Vec<Statement>) {
        for change in self.changes {
            let Change::DropTable(table) = change else {
                continue;
            };
            for key in &table.foreign_keys {
                if key.references != table.name
                    && let Some(constraint) = &key.name
                {
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        qualified(&table.name),
                        quote(constraint)
                    )));
                }
            }
        }
    }
}

/// Whether a new column gets a value of its own on every existing row: from a default, an
/// identity, or its generation expression. `DEFAULT NULL` is none.
fn fills_itself(column: &Column) -> bool {
    column.identity.is_some()
        || column.generated.is_some()
        || column
            .default
            .as_deref()
            .is_some_and(|d| !d.to_ascii_uppercase().starts_with("NULL"))
}

/// Whether a new column numbers the existing rows from a sequence (an identity, or `serial`),
/// so that no two get the same value.
fn numbers_itself(column: &Column) -> bool {
    column.identity.is_some() || serial_type(column).is_some()
}

/// Why adding `what` (a key or unique constraint) to the existing `table` blocks it, for
/// `index-without-concurrently` in a generated migration.
fn builds_key_index(what: &str, table: &Name) -> String {
    format!(
        "adding {what} builds its index while reads and writes of {table} wait; godwit has no \
         concurrent form for it: on a table in use, build the unique index CONCURRENTLY in a \
         migration of its own and add the constraint USING INDEX"
    )
}

/// Why adding a constraint to the existing `table` (a foreign key to `references`) blocks
/// it, for `constraint-without-not-valid` in a generated migration.
fn checks_every_row(table: &Name, references: Option<&Name>) -> String {
    let waiting = match references {
        Some(references) => format!("{table} and {references}"),
        None => "it".to_string(),
    };
    format!(
        "it checks every row of {table} while writes to {waiting} wait; godwit does not split \
         it: on a large table, add it NOT VALID and run VALIDATE CONSTRAINT in a later migration"
    )
}

/// Rows whose key is duplicated, as a subquery on the current table.
fn duplicates(table: &Name, context: &Context<'_>, columns: &[String]) -> String {
    let list = columns.join(", ");
    format!(
        "SELECT {list} FROM {} GROUP BY {list} HAVING count(*) > 1",
        qualified(&context.current_table(table))
    )
}
