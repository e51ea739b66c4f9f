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

use crate::schema::{Index, Schema, Table};

/// `desired` with the objects whose `settled` spelling (the desired schema created again from
/// its rendering) is what `current` holds taken from `settled`.
pub fn adopt_spellings(mut desired: Schema, settled: &Schema, current: &Schema) -> Schema {
    for table in &mut desired.tables {
        if let (Some(again), Some(now)) = (settled.table(&table.name), current.table(&table.name)) {
            adopt_in_table(table, again, now);
        }
    }
    // A view's indexes are objects of their own: each keeps the spelling it adopts below, not
    // the one the view it is on would bring along.
    let declared: Vec<Vec<Index>> = desired.views.iter().map(|v| v.indexes.clone()).collect();
    adopt(
        &mut desired.views,
        &settled.views,
        &current.views,
        |a, b| a.name == b.name,
        |a, b| a.definition == b.definition,
    );
    for (view, indexes) in desired.views.iter_mut().zip(declared) {
        view.indexes = indexes;
        let again = settled.views.iter().find(|v| v.name == view.name);
        let now = current.views.iter().find(|v| v.name == view.name);
        if let (Some(again), Some(now)) = (again, now) {
            adopt_indexes(&mut view.indexes, &again.indexes, &now.indexes);
        }
    }
    adopt(
        &mut desired.triggers,
        &settled.triggers,
        &current.triggers,
        |a, b| a.table == b.table && a.name == b.name,
        |a, b| a.definition == b.definition,
    );
    adopt(
        &mut desired.domains,
        &settled.domains,
        &current.domains,
        |a, b| a.name == b.name,
        |a, b| a == b,
    );
    adopt(
        &mut desired.policies,
        &settled.policies,
        &current.policies,
        |a, b| a.table == b.table && a.name == b.name,
        |a, b| a == b,
    );
    desired
}

/// Take from `again` each object of `mine` that `now` spells as `again` does and not as
/// `mine` does. `same` says whether two are the same object, `alike` whether they are
/// spelled alike.
fn adopt<'a, T: Clone>(
    mine: &mut [T],
    again: &'a [T],
    now: &'a [T],
    same: impl Fn(&T, &T) -> bool,
    alike: impl Fn(&T, &T) -> bool,
) {
    for item in mine {
        let twin = |list: &'a [T]| list.iter().find(|other| same(other, item));
        if let (Some(again), Some(now)) = (twin(again), twin(now))
            && !alike(now, item)
            && alike(now, again)
        {
            item.clone_from(again);
        }
    }
}

fn adopt_indexes(mine: &mut [Index], again: &[Index], now: &[Index]) {
    adopt(mine, again, now, |a, b| a.name == b.name, |a, b| a == b);
}

fn adopt_in_table(table: &mut Table, again: &Table, now: &Table) {
    adopt(
        &mut table.checks,
        &again.checks,
        &now.checks,
        |a, b| a.name == b.name,
        |a, b| a == b,
    );
    adopt(
        &mut table.other_constraints,
        &again.other_constraints,
        &now.other_constraints,
        |a, b| a.name == b.name,
        |a, b| a == b,
    );
    adopt_indexes(&mut table.indexes, &again.indexes, &now.indexes);
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
    use crate::schema::{Check, Column, Name, Policy, PolicyCommand};

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
            policies: vec![Policy {
                table: Name::bare("t"),
                name: "p".into(),
                permissive: true,
                command: PolicyCommand::All,
                roles: vec!["PUBLIC".into()],
                using: Some(check.into()),
                with_check: None,
            }],
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
