//! Views and triggers: which of them a change of the tables they read breaks, dropped
//! before the change and created again after it; the others stay as they are.

use std::collections::{BTreeMap, BTreeSet};

use super::tables::{Tables, declared_renames, index_changes};
use super::types::{Enums, mentions_type};
use super::{Change, Dependants, Keyed, Renames, Steps, TableChange};
use crate::schema::{Name, Schema, Trigger, View};

/// The views and triggers a diff makes again, and those it keeps.
pub(super) struct Readers {
    /// The current views dropped and created again, by key.
    recreated_views: BTreeSet<Name>,
    /// The triggers that stay as they are, by the key of their table and their name.
    kept_triggers: BTreeSet<(Name, String)>,
}

/// What the changes of a diff break of the views and triggers reading the tables.
pub(super) struct Breaks {
    /// What each table's change breaks of the views and triggers on it, by the table's key.
    broken: BTreeMap<Name, Broken>,
    /// Whether what reads a view that is made again must be made again with it: always
    /// where the engine refuses to drop a view that others read, and on SQLite when the
    /// change makes SQLite check the whole schema (see `Dependants::ReadWhenUsed`).
    chained: bool,
}

impl Breaks {
    /// What `changes` (the changes of the tables that stay) and the renamed and dropped
    /// tables break.
    pub(super) fn of(
        key: &Keyed,
        from: &Schema,
        renames: &Renames,
        tables: &Tables<'_>,
        changes: &[TableChange],
        enums: &Enums<'_>,
    ) -> Self {
        let dependants = key.options.dependants;
        let mut broken: BTreeMap<Name, Broken> = BTreeMap::new();
        for change in changes {
            let breaks = match dependants {
                Dependants::AnyChange => Some(Broken::Everything),
                Dependants::UsedColumns => {
                    Some(Broken::Columns(pinned_columns(change, &enums.rebuilt)))
                }
                Dependants::ReadWhenUsed => None,
            };
            broken.extend(breaks.map(|b| (key.name(&change.to.name), b)));
        }
        // A renamed table's dependants name it by its old name, and a dropped table's go
        // with it.
        for (old, new) in declared_renames(key, from, renames) {
            broken.insert(key.name(old), Broken::Everything);
            broken.insert(key.name(new), Broken::Everything);
        }
        for table in tables.dropped() {
            broken.insert(key.name(&table.name), Broken::Everything);
        }
        let checks_schema = !renames.tables.is_empty()
            || changes
                .iter()
                .any(|c| !c.renamed_columns.is_empty() || !c.dropped_columns.is_empty());
        Breaks {
            broken,
            chained: dependants != Dependants::ReadWhenUsed || checks_schema,
        }
    }

    /// Whether SQL text `text` reading `table` is broken.
    fn breaks(&self, key: &Keyed, text: &str, table: &Name) -> bool {
        match self.broken.get(&key.name(table)) {
            Some(Broken::Everything) => true,
            Some(Broken::Columns(columns)) => columns.iter().any(|c| mentions(text, c)),
            None => false,
        }
    }
}

/// Drop, into `early`, the current views and triggers that change, go, or are broken;
/// views after those that read them, triggers first.
pub(super) fn drop_broken(
    key: &Keyed,
    from: &Schema,
    to: &Schema,
    breaks: &Breaks,
    tables: &Tables<'_>,
    early: &mut Vec<Change>,
) -> Readers {
    let chained = breaks.chained;
    let breaks = |text: &str, table: &Name| breaks.breaks(key, text, table);

    // Views: recreate when changed, or when a change of a table they read breaks them, or
    // when they read a recreated view and that matters.
    let desired_views: BTreeMap<Name, &View> =
        to.views.iter().map(|v| (key.name(&v.name), v)).collect();
    let mut recreated_views: BTreeSet<Name> = BTreeSet::new();
    loop {
        let before = recreated_views.len();
        for view in &from.views {
            let k = key.name(&view.name);
            let changed = match desired_views.get(&k) {
                None => true,
                Some(desired) => desired.definition != view.definition,
            };
            let depends_on_change = view.depends_on.iter().any(|d| {
                breaks(&view.query, d) || (chained && recreated_views.contains(&key.name(d)))
            });
            if changed || depends_on_change {
                recreated_views.insert(k);
            }
        }
        if recreated_views.len() == before {
            break;
        }
    }
    for view in views_in_dependency_order(&from.views, key)
        .into_iter()
        .rev()
    {
        if recreated_views.contains(&key.name(&view.name)) {
            early.push(Change::DropView(view.clone()));
        }
    }
    // Triggers: same rule.
    let desired_triggers: BTreeMap<(Name, String), &Trigger> = to
        .triggers
        .iter()
        .map(|t| ((key.name(&t.table), key.ident(&t.name)), t))
        .collect();
    let mut kept_triggers = BTreeSet::new();
    for trigger in &from.triggers {
        let renamed_table = tables
            .renames
            .get(&key.name(&trigger.table))
            .cloned()
            .unwrap_or_else(|| trigger.table.clone());
        let k = (key.name(&renamed_table), key.ident(&trigger.name));
        // A trigger on a view goes with the view; one whose text reads a recreated view
        // fails SQLite's check of the schema as a view would (PostgreSQL keeps a trigger's
        // code in its function, which reads nothing until it runs).
        let reads_recreated_view = chained
            && key.options.dependants != Dependants::UsedColumns
            && recreated_views
                .iter()
                .any(|v| mentions(&trigger.definition, &v.name));
        let unchanged = desired_triggers
            .get(&k)
            .is_some_and(|d| d.definition == trigger.definition)
            && !breaks(&trigger.definition, &trigger.table)
            && !breaks(&trigger.definition, &renamed_table)
            && !recreated_views.contains(&key.name(&trigger.table))
            && !reads_recreated_view;
        if unchanged {
            kept_triggers.insert(k);
        } else {
            early.insert(0, Change::DropTrigger(trigger.clone()));
        }
    }
    Readers {
        recreated_views,
        kept_triggers,
    }
}

impl Readers {
    /// Tell each table change which of its table's triggers stay, for a dialect that
    /// replaces the table to change it (see [`TableChange::kept_triggers`]).
    pub(super) fn keep_triggers(&self, key: &Keyed, to: &Schema, changes: &mut [TableChange]) {
        for change in changes {
            change.kept_triggers = to
                .triggers
                .iter()
                .filter(|t| self.kept(key, t))
                .filter(|t| key.name(&t.table) == key.name(&change.to.name))
                .cloned()
                .collect();
        }
    }

    /// Create, into `steps.late`, the views and triggers that are new or made again, views
    /// after those they read; a materialized view that stays changes its indexes as a table
    /// does, and one that is created gets its indexes after it.
    pub(super) fn create(
        &self,
        key: &Keyed,
        from: &Schema,
        to: &Schema,
        index_renames: &BTreeMap<Name, &Name>,
        steps: &mut Steps,
    ) {
        for view in views_in_dependency_order(&to.views, key) {
            let k = key.name(&view.name);
            let current = from.views.iter().find(|v| key.name(&v.name) == k);
            match current {
                Some(current) if !self.recreated_views.contains(&k) => index_changes(
                    key,
                    &current.indexes,
                    &view.indexes,
                    index_renames,
                    &mut steps.early,
                    &mut steps.late,
                ),
                _ => {
                    steps.late.push(Change::CreateView(View {
                        indexes: Vec::new(),
                        ..view.clone()
                    }));
                    steps
                        .late
                        .extend(view.indexes.iter().cloned().map(Change::CreateIndex));
                }
            }
        }
        for trigger in &to.triggers {
            if !self.kept(key, trigger) {
                steps.late.push(Change::CreateTrigger(trigger.clone()));
            }
        }
    }

    fn kept(&self, key: &Keyed, trigger: &Trigger) -> bool {
        self.kept_triggers
            .contains(&(key.name(&trigger.table), key.ident(&trigger.name)))
    }
}

/// What a table's change breaks of the views and triggers on it.
enum Broken {
    /// All of them.
    Everything,
    /// Those that use one of these columns (current and new names).
    Columns(Vec<String>),
}

/// The columns of `change` that views and triggers pin where they stop a column they use
/// from changing (`Dependants::UsedColumns`): those that go, change type or collation, or
/// are made again; those of an enum that loses labels, which move to the rebuilt type; and
/// those of a primary key that goes or changes. Each by its current and its new name.
fn pinned_columns(change: &TableChange, rebuilt_enums: &[&Name]) -> Vec<String> {
    let mut columns: Vec<String> = change
        .dropped_columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let retyped = change.altered_columns.iter().filter(|c| {
        c.from.data_type != c.to.data_type
            || c.from.collation != c.to.collation
            || c.from.generated != c.to.generated
    });
    columns.extend(retyped.map(|c| c.to.name.clone()));
    columns.extend(
        change
            .from
            .columns
            .iter()
            .filter(|c| rebuilt_enums.iter().any(|e| mentions_type(&c.data_type, e)))
            .map(|c| c.name.clone()),
    );
    if let Some((Some(key), _)) = &change.primary_key {
        columns.extend(key.columns.iter().cloned());
    }
    let originals: Vec<String> = change
        .renamed_columns
        .iter()
        .filter(|(_, new)| columns.contains(new))
        .map(|(old, _)| old.clone())
        .collect();
    columns.extend(originals);
    columns
}

/// Whether SQL text `text` (a view's query, a trigger's definition, as the engine prints
/// them) may use the column or view called `name`: it has the name as a word, whatever its
/// case. A name that is not one word is looked for anywhere. Saying yes wrongly only makes
/// again an object that could have stayed.
pub(crate) fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if name.chars().all(word) {
        text.split(|c: char| !word(c))
            .any(|w| w.eq_ignore_ascii_case(name))
    } else {
        text.to_lowercase().contains(&name.to_lowercase())
    }
}

/// Views ordered so that every view comes after the views it reads.
fn views_in_dependency_order<'a>(views: &'a [View], key: &Keyed) -> Vec<&'a View> {
    let mut ordered: Vec<&View> = Vec::with_capacity(views.len());
    let mut placed: BTreeSet<Name> = BTreeSet::new();
    let names: BTreeSet<Name> = views.iter().map(|v| key.name(&v.name)).collect();
    while ordered.len() < views.len() {
        let before = ordered.len();
        for view in views {
            let k = key.name(&view.name);
            if placed.contains(&k) {
                continue;
            }
            let ready = view.depends_on.iter().all(|d| {
                let d = key.name(d);
                d == k || !names.contains(&d) || placed.contains(&d)
            });
            if ready {
                placed.insert(k);
                ordered.push(view);
            }
        }
        if ordered.len() == before {
            // A cycle cannot exist among valid views; keep the rest in name order.
            for view in views {
                if placed.insert(key.name(&view.name)) {
                    ordered.push(view);
                }
            }
        }
    }
    ordered
}
