//! One object, two spellings.
//!
//! An engine that stores expressions parsed (PostgreSQL) prints them back in its own words, and
//! reading those words back need not print the same again: `s IN ('a', 'b')` on a `varchar`
//! column comes back as `(s)::text = ANY ((ARRAY['a'::character varying, ...])::text[])`, and
//! that, run again, as `... ANY (ARRAY[('a'::character varying)::text, ...])`. A database that
//! a push built holds the second spelling, the desired schema read from the user's file the
//! first, and a diff of the two would drop and add the same constraint on every push.
//!
//! So the desired schema is created once more from its own rendering, and wherever the current
//! database matches that second spelling of an object but not the first, the object is taken
//! as unchanged. Where it matches the first (a database built from the same file by hand),
//! nothing changes either.

use crate::schema::{Check, Schema, Table};

/// `desired` with the objects whose `settled` spelling (the desired schema created again from
/// its rendering) is what `current` holds taken from `settled`.
pub fn adopt_spellings(mut desired: Schema, settled: &Schema, current: &Schema) -> Schema {
    for table in &mut desired.tables {
        if let (Some(again), Some(now)) = (settled.table(&table.name), current.table(&table.name)) {
            adopt_in_table(table, again, now);
        }
    }
    for view in &mut desired.views {
        let again = settled.views.iter().find(|v| v.name == view.name);
        let now = current.views.iter().find(|v| v.name == view.name);
        if let (Some(again), Some(now)) = (again, now)
            && now.definition != view.definition
            && now.definition == again.definition
        {
            view.clone_from(again);
        }
    }
    for trigger in &mut desired.triggers {
        let same = |t: &&crate::schema::Trigger| t.table == trigger.table && t.name == trigger.name;
        let again = settled.triggers.iter().find(same);
        let now = current.triggers.iter().find(same);
        if let (Some(again), Some(now)) = (again, now)
            && now.definition != trigger.definition
            && now.definition == again.definition
        {
            trigger.clone_from(again);
        }
    }
    for domain in &mut desired.domains {
        let again = settled.domains.iter().find(|d| d.name == domain.name);
        let now = current.domains.iter().find(|d| d.name == domain.name);
        if let (Some(again), Some(now)) = (again, now)
            && now != domain
            && now == again
        {
            domain.clone_from(again);
        }
    }
    desired
}

fn adopt_in_table(table: &mut Table, again: &Table, now: &Table) {
    let adopt_checks = |mine: &mut Vec<Check>, again: &[Check], now: &[Check]| {
        for check in mine.iter_mut() {
            if now.contains(check) {
                continue;
            }
            if let Some(again) = again.iter().find(|c| c.name == check.name)
                && now.contains(again)
            {
                check.clone_from(again);
            }
        }
    };
    adopt_checks(&mut table.checks, &again.checks, &now.checks);
    adopt_checks(
        &mut table.other_constraints,
        &again.other_constraints,
        &now.other_constraints,
    );
    for index in &mut table.indexes {
        let again = again.indexes.iter().find(|i| i.name == index.name);
        let now = now.indexes.iter().find(|i| i.name == index.name);
        if let (Some(again), Some(now)) = (again, now)
            && now != index
            && now == again
        {
            index.clone_from(again);
        }
    }
    for column in &mut table.columns {
        let (Some(again), Some(now)) = (again.column(&column.name), now.column(&column.name))
        else {
            continue;
        };
        if now.default != column.default && now.default == again.default {
            column.default.clone_from(&again.default);
        }
        if now.generated != column.generated && now.generated == again.generated {
            column.generated.clone_from(&again.generated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, Name};

    const FIRST: &str = "((s)::text = ANY ((ARRAY['a'::character varying])::text[]))";
    const SECOND: &str = "((s)::text = ANY (ARRAY[('a'::character varying)::text]))";

    fn schema(check: &str, default: Option<&str>) -> Schema {
        let mut column = Column::new("s", "character varying(5)");
        column.default = default.map(str::to_string);
        let mut table = Table::new(Name::bare("t"), vec![column]);
        table.checks.push(Check {
            name: Some("t_s_check".into()),
            expression: format!("CHECK {check}"),
        });
        Schema {
            tables: vec![table],
            ..Schema::default()
        }
    }

    #[test]
    fn the_second_spelling_of_an_object_the_database_holds_is_no_change() {
        let desired = schema(FIRST, Some("'a'::character varying"));
        let settled = schema(SECOND, Some("'a'::text"));
        let current = schema(SECOND, Some("'a'::text"));
        assert_eq!(adopt_spellings(desired, &settled, &current), current);
    }

    #[test]
    fn the_first_spelling_stays_when_the_database_holds_it_or_something_else() {
        let desired = schema(FIRST, None);
        let settled = schema(SECOND, None);
        assert_eq!(
            adopt_spellings(desired.clone(), &settled, &desired),
            desired
        );
        let other = schema("(length(s) > 1)", None);
        assert_eq!(adopt_spellings(desired.clone(), &settled, &other), desired);
    }
}
