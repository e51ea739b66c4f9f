//! The declarative diff: two schema models in, an ordered list of typed changes out.
//!
//! The diff knows nothing of SQL. It decides *what* changes and in *which order* dependencies
//! allow; a [`Dialect`](crate::Dialect) decides *how* (native `ALTER`, a table rebuild, a new
//! type and a cast). Renames are never guessed: they come from [`Renames`], given by the user
//! through flags or comments in the schema file.
//!
//! [`diff`] is the orchestrator; each kind of object has its own file:
//! - `change.rs`: the [`Change`] vocabulary dialects render;
//! - `tables.rs`: tables matched through renames, what changes inside one, keys and indexes;
//! - `dependants.rs`: views and triggers a table change breaks, dropped and made again;
//! - `types.rs`: namespaces, extensions, enums, domains, sequences and functions;
//! - `inherits.rs`, `security.rs`, `comments.rs`: inheritance, privileges and policies,
//!   comments on other objects;
//! - `spellings.rs`: the desired schema in the live database's spellings.

mod change;
mod comments;
mod dependants;
mod inherits;
mod security;
mod spellings;
mod tables;
mod types;

pub use self::change::{Change, ColumnChange, Privileges, TableChange};
pub(crate) use self::comments::{after_renames, exists};
pub(crate) use self::dependants::mentions;
pub(crate) use self::security::{holds, renamed_grant};
pub use self::spellings::adopt_spellings;
pub(crate) use self::tables::renamed_fk;
pub(crate) use self::types::with_renamed_labels;

use serde::{Deserialize, Serialize};

use crate::schema::{Name, Schema};

/// Renames the user declared. Old names refer to the current database, new ones to the
/// desired schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renames {
    /// Tables: `(old, new)`.
    pub tables: Vec<(Name, Name)>,
    /// Columns, keyed by the table's new name.
    pub columns: Vec<ColumnRename>,
    /// Indexes: `(old, new)`.
    pub indexes: Vec<(Name, Name)>,
    /// Labels of enum types (PostgreSQL).
    #[serde(default)]
    pub enum_values: Vec<EnumValueRename>,
}

/// One enum label rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumValueRename {
    /// The enum type.
    pub type_name: Name,
    /// The current label.
    pub from: String,
    /// The desired label.
    pub to: String,
}

/// One column rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRename {
    /// The table, by its name in the desired schema.
    pub table: Name,
    /// The current column name.
    pub from: String,
    /// The desired column name.
    pub to: String,
}

/// How names compare, and what a change to a table does to what reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffOptions {
    /// Identifiers are case-insensitive (SQLite): `USERS` and `users` are one table.
    pub case_insensitive: bool,
    /// Which changes of a table break the views and triggers on it that do not change
    /// themselves; the diff drops those before the change and creates them again after it,
    /// and leaves the others alone.
    pub dependants: Dependants,
}

/// Which changes of a table break the views and triggers that read it, in an engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Dependants {
    /// Any change may: they are dropped before every change of their table and created
    /// again after it. What an engine the diff knows nothing about gets.
    #[default]
    AnyChange,
    /// Only a change of a column they use: one that goes, changes its type or collation, or
    /// is made again (a generated column's expression), and the columns of a primary key
    /// that goes (a view may group by it). PostgreSQL refuses each while a view or a
    /// trigger uses the column, and keeps them through everything else. A view reading a
    /// view that is made again is made again too, since the first cannot be dropped under it.
    UsedColumns,
    /// None: the engine reads a view's text when it is used, and the triggers of a table
    /// the dialect replaces to change it go with it and are made again by the dialect, from
    /// [`TableChange::kept_triggers`] (SQLite). A view or trigger reading a view that is made
    /// again is left alone too, unless the change renames a table or a column or drops a
    /// column: SQLite then checks the whole schema, and one reading a view that is gone for
    /// the moment fails that check.
    ReadWhenUsed,
}

/// Builds the keys names are compared by.
pub(crate) struct Keyed {
    options: DiffOptions,
}

impl Keyed {
    /// Keys for names compared as `options` say.
    pub(crate) fn new(options: DiffOptions) -> Self {
        Keyed { options }
    }

    pub(crate) fn name(&self, name: &Name) -> Name {
        if self.options.case_insensitive {
            Name {
                schema: name.schema.as_ref().map(|s| s.to_lowercase()),
                name: name.name.to_lowercase(),
            }
        } else {
            name.clone()
        }
    }

    pub(crate) fn ident(&self, ident: &str) -> String {
        if self.options.case_insensitive {
            ident.to_lowercase()
        } else {
            ident.to_string()
        }
    }
}

/// The changes of a diff by when they run.
#[derive(Default)]
struct Steps {
    /// Drops of what stands in the way: the triggers and views a change breaks, the foreign
    /// keys, indexes and domains that go or change.
    early: Vec<Change>,
    /// Namespaces, extensions, types and functions, then tables: renamed, created, changed,
    /// dropped.
    creates: Vec<Change>,
    /// What needs the tables in place: indexes, foreign keys, views, triggers, comments.
    late: Vec<Change>,
    /// Functions, sequences, types and namespaces that go, once nothing uses them.
    final_drops: Vec<Change>,
}

/// Compute the changes that turn `from` into `to`.
pub fn diff(from: &Schema, to: &Schema, renames: &Renames, options: DiffOptions) -> Vec<Change> {
    let key = Keyed { options };
    let mut steps = Steps::default();
    let tables = tables::Tables::matched(&key, from, to, renames);
    let enums = types::Enums::new(from, to, renames);

    let mut table_changes = tables.changes(&key, to, renames, &enums);
    let breaks = dependants::Breaks::of(&key, from, renames, &tables, &table_changes, &enums);
    let readers = dependants::drop_broken(&key, from, to, &breaks, &tables, &mut steps.early);
    readers.keep_triggers(&key, to, &mut table_changes);
    let index_renames = tables::index_renames(&key, renames);
    let (index_creates, fk_adds) =
        tables.keys_and_indexes(&key, renames, &index_renames, &mut steps.early);

    types::create(from, to, &enums, &mut steps);
    let after_tables = types::place_functions(from, to, &tables.new_names(), &mut steps.creates);
    tables.create_alter_drop(&key, from, renames, table_changes, &mut steps.creates);
    steps.creates.extend(after_tables);

    steps.late.extend(index_creates);
    steps.late.extend(fk_adds);
    readers.create(&key, from, to, &index_renames, &mut steps);
    tables.column_comments(&key, to, &mut steps.late);
    types::drop_unused(from, to, &mut steps.final_drops);

    let Steps {
        early,
        creates,
        late,
        final_drops,
    } = steps;
    let mut changes = early;
    changes.extend(creates);
    changes.extend(late);
    let (first, last) = security::security_changes(from, to, renames, &changes);
    changes.splice(0..0, first);
    changes.extend(last);
    let comments = comments::comment_changes(from, to, renames, &changes);
    changes.extend(comments);
    changes.extend(final_drops);
    changes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::{
        Column, FkAction, ForeignKey, Index, OnConflict, PrimaryKey, Table, Trigger, Unique, View,
    };

    fn table(name: &str, columns: &[(&str, &str)]) -> Table {
        Table::new(
            Name::bare(name),
            columns.iter().map(|(n, t)| Column::new(*n, *t)).collect(),
        )
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    /// The kind of each change, as its JSON names it.
    pub(crate) fn kinds(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                serde_json::to_value(c).unwrap()["change"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    /// An index on one column of `table`.
    pub(crate) fn index(name: &str, table: &str, col: &str) -> Index {
        Index {
            name: Name::bare(name),
            unique: false,
            keys: vec![col.into()],
            predicate: None,
            method: None,
            definition: format!("CREATE INDEX {name} ON {table} ({col})"),
        }
    }

    /// A view of everything in `on`.
    pub(crate) fn view(name: &str, on: &str) -> View {
        View {
            name: Name::bare(name),
            materialized: false,
            query: format!("SELECT * FROM {on}"),
            definition: format!("CREATE VIEW {name} AS SELECT * FROM {on}"),
            depends_on: vec![Name::bare(on)],
            indexes: Vec::new(),
        }
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let s = schema(vec![table("a", &[("id", "integer")])]);
        assert!(diff(&s, &s, &Renames::default(), DiffOptions::default()).is_empty());
    }

    /// A virtual table's module and arguments are compared as the table's options: only a
    /// difference in them changes the table.
    #[test]
    fn a_virtual_table_changes_when_its_module_arguments_do() {
        let fts = |arguments: &[&str]| {
            let mut t = table("docs", &[("title", "")]);
            t.virtual_table = Some(crate::schema::VirtualTable {
                module: "fts5".into(),
                arguments: arguments.iter().map(|a| a.to_string()).collect(),
            });
            schema(vec![t])
        };
        let (a, b) = (fts(&["content=posts"]), fts(&["content=articles"]));
        assert!(diff(&a, &a, &Renames::default(), DiffOptions::default()).is_empty());
        let changes = diff(&a, &b, &Renames::default(), DiffOptions::default());
        match changes.as_slice() {
            [Change::AlterTable(change)] => assert!(change.options_changed),
            other => panic!("{other:?}"),
        }
    }

    /// A sequence a column owns is named by the engine: two columns owning one are alike
    /// whatever its name and the default that names it; owning one or not is a change.
    #[test]
    fn owned_sequences_compare_by_whether_there_is_one() {
        let serial = |sequence: Option<&str>| {
            let mut t = table("orders", &[("id", "integer")]);
            t.columns[0].owned_sequence = sequence.map(str::to_string);
            t.columns[0].default = sequence.map(|s| format!("nextval('{s}'::regclass)"));
            schema(vec![t])
        };
        let (standard, numbered) = (
            serial(Some("orders_id_seq")),
            serial(Some("orders_id_seq1")),
        );
        assert!(
            diff(
                &numbered,
                &standard,
                &Renames::default(),
                DiffOptions::default()
            )
            .is_empty()
        );
        let changes = diff(
            &serial(None),
            &standard,
            &Renames::default(),
            DiffOptions::default(),
        );
        match changes.as_slice() {
            [Change::AlterTable(change)] => assert_eq!(change.altered_columns.len(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_tables_get_their_foreign_keys_and_indexes_afterwards() {
        let mut child = table("child", &[("id", "integer"), ("parent_id", "integer")]);
        child.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            references: Name::bare("parent"),
            referenced_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        });
        child
            .indexes
            .push(index("child_parent", "child", "parent_id"));
        let to = schema(vec![child, table("parent", &[("id", "integer")])]);
        let changes = diff(
            &Schema::default(),
            &to,
            &Renames::default(),
            DiffOptions::default(),
        );
        assert_eq!(
            kinds(&changes),
            [
                "create_table",
                "create_table",
                "create_index",
                "add_foreign_key"
            ]
        );
        match &changes[0] {
            Change::CreateTable(t) => assert!(t.foreign_keys.is_empty() && t.indexes.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn column_add_drop_and_alter() {
        let from = schema(vec![table(
            "t",
            &[("id", "integer"), ("old", "text"), ("n", "integer")],
        )]);
        let mut to = schema(vec![table(
            "t",
            &[("id", "integer"), ("n", "bigint"), ("new", "text")],
        )]);
        to.tables[0].columns[0].nullable = false;
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        let Change::AlterTable(change) = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(change.added_columns[0].name, "new");
        assert_eq!(change.dropped_columns[0].name, "old");
        let altered: Vec<&str> = change
            .altered_columns
            .iter()
            .map(|c| c.to.name.as_str())
            .collect();
        assert_eq!(altered, ["id", "n"]);
    }

    #[test]
    fn renames_are_applied_not_guessed() {
        let from = schema(vec![table(
            "accounts",
            &[("id", "integer"), ("username", "text")],
        )]);
        let to = schema(vec![table(
            "users",
            &[("id", "integer"), ("user_name", "text")],
        )]);
        // Without renames: drop and create.
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["create_table", "drop_table"]);
        // With renames: rename table and column, nothing dropped.
        let renames = Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["rename_table", "alter_table"]);
        let Change::AlterTable(change) = &changes[1] else {
            panic!()
        };
        assert_eq!(
            change.renamed_columns,
            [("username".into(), "user_name".into())]
        );
        assert!(change.added_columns.is_empty() && change.dropped_columns.is_empty());
        assert!(change.altered_columns.is_empty());
    }

    #[test]
    fn views_on_a_changed_table_are_recreated_in_dependency_order() {
        let mut from = schema(vec![table("t", &[("id", "integer")])]);
        from.views = vec![view("v2", "v1"), view("v1", "t")];
        let mut to = schema(vec![table("t", &[("id", "integer"), ("x", "text")])]);
        to.views = from.views.clone();
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(
            kinds(&changes),
            [
                "drop_view",
                "drop_view",
                "alter_table",
                "create_view",
                "create_view"
            ]
        );
        let names: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) | Change::CreateView(v) => Some(v.name.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["v2", "v1", "v1", "v2"]);
    }

    #[test]
    fn unchanged_views_on_unchanged_tables_stay() {
        let mut from = schema(vec![
            table("t", &[("id", "integer")]),
            table("u", &[("id", "integer")]),
        ]);
        from.views = vec![view("v", "t")];
        let mut to = schema(vec![
            table("t", &[("id", "integer")]),
            table("u", &[("id", "bigint")]),
        ]);
        to.views = from.views.clone();
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table"]);
    }

    #[test]
    fn a_materialized_view_gets_its_indexes_after_it_and_changes_them_in_place() {
        let plain = |from: &Schema, to: &Schema| {
            kinds(&diff(from, to, &Renames::default(), DiffOptions::default()))
        };
        let mut from = schema(vec![table("t", &[("id", "integer"), ("n", "integer")])]);
        from.views = vec![View {
            materialized: true,
            indexes: vec![index("mv_id", "mv", "id")],
            ..view("mv", "t")
        }];
        let empty = Schema::default();
        assert_eq!(
            plain(&empty, &from),
            ["create_table", "create_view", "create_index"]
        );
        let created = diff(&empty, &from, &Renames::default(), DiffOptions::default());
        assert!(matches!(&created[1], Change::CreateView(v) if v.indexes.is_empty()));

        let mut to = from.clone();
        to.views[0].indexes = vec![index("mv_n", "mv", "n"), index("mv_renamed", "mv", "id")];
        let renames = Renames {
            indexes: vec![(Name::bare("mv_id"), Name::bare("mv_renamed"))],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["rename_index", "create_index"]);
        to.views[0].indexes.clear();
        assert_eq!(plain(&from, &to), ["drop_index"]);

        // Recreated for its own change or for its table's: the index comes back after it.
        let mut to = from.clone();
        to.views[0].definition.push_str(" WHERE id > 0");
        assert_eq!(
            plain(&from, &to),
            ["drop_view", "create_view", "create_index"]
        );
        let mut to = from.clone();
        to.tables[0].columns.push(Column::new("x", "text"));
        assert_eq!(
            plain(&from, &to),
            ["drop_view", "alter_table", "create_view", "create_index"]
        );
    }

    #[test]
    fn indexes_are_renamed_when_declared_and_replaced_when_changed() {
        let mut from = schema(vec![table("t", &[("a", "text"), ("b", "text")])]);
        from.tables[0].indexes = vec![index("old_a", "t", "a"), index("ib", "t", "b")];
        let mut to = from.clone();
        to.tables[0].indexes = vec![index("new_a", "t", "a"), index("ib", "t", "a")];
        let renames = Renames {
            indexes: vec![(Name::bare("old_a"), Name::bare("new_a"))],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(
            kinds(&changes),
            ["drop_index", "rename_index", "create_index"]
        );
    }

    #[test]
    fn names_compare_case_insensitively_when_asked() {
        let from = schema(vec![table("USERS", &[("ID", "integer")])]);
        let to = schema(vec![table("users", &[("id", "integer")])]);
        assert!(
            diff(
                &from,
                &to,
                &Renames::default(),
                DiffOptions {
                    case_insensitive: true,
                    ..DiffOptions::default()
                }
            )
            .is_empty()
        );
        assert!(!diff(&from, &to, &Renames::default(), DiffOptions::default()).is_empty());
    }

    fn fk(column: &str, references: &str, referenced: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec![column.into()],
            references: Name::bare(references),
            referenced_columns: vec![referenced.into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        }
    }

    #[test]
    fn conflict_clauses_and_a_descending_key_change_the_table() {
        let base = || {
            let mut t = table("t", &[("id", "INTEGER"), ("k", "TEXT")]);
            t.primary_key = Some(PrimaryKey::new(vec!["id".into()]));
            t.columns[1].nullable = false;
            t.uniques.push(Unique {
                name: None,
                columns: vec!["k".into()],
                nulls_not_distinct: false,
                on_conflict: None,
                deferral: Default::default(),
            });
            t
        };
        type Edit = fn(&mut Table);
        let cases: [(Edit, &str); 4] = [
            (
                |t| t.primary_key.as_mut().unwrap().on_conflict = Some(OnConflict::Replace),
                "primary key",
            ),
            (
                |t| t.primary_key.as_mut().unwrap().descending = true,
                "primary key",
            ),
            (
                |t| t.uniques[0].on_conflict = Some(OnConflict::Ignore),
                "unique",
            ),
            (
                |t| t.columns[1].not_null_conflict = Some(OnConflict::Fail),
                "column",
            ),
        ];
        for (edit, expected) in cases {
            let mut to = base();
            edit(&mut to);
            let changes = diff(
                &schema(vec![base()]),
                &schema(vec![to.clone()]),
                &Renames::default(),
                DiffOptions::default(),
            );
            let [Change::AlterTable(change)] = changes.as_slice() else {
                panic!("{to:?}: {changes:?}")
            };
            let parts: Vec<&str> = [
                ("primary key", change.primary_key.is_some()),
                (
                    "unique",
                    change.added_uniques.len() == 1 && change.dropped_uniques.len() == 1,
                ),
                ("column", change.altered_columns.len() == 1),
            ]
            .into_iter()
            .filter_map(|(part, changed)| changed.then_some(part))
            .collect();
            assert_eq!(parts, [expected], "{to:?}");
            assert!(change.renamed_constraints().is_empty(), "{to:?}");
        }
    }

    #[test]
    fn a_foreign_key_alone_changes_the_table_too() {
        let parent = table("p", &[("id", "integer")]);
        let from = schema(vec![parent.clone(), table("c", &[("p_id", "integer")])]);
        let mut to = from.clone();
        to.tables[0].foreign_keys.push(fk("p_id", "p", "id"));
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table", "add_foreign_key"]);
        let Change::AlterTable(change) = &changes[0] else {
            panic!()
        };
        assert_eq!(change.added_foreign_keys.len(), 1);
        let back = diff(&to, &from, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&back), ["drop_foreign_key", "alter_table"]);
    }

    #[test]
    fn renaming_a_referenced_column_keeps_the_foreign_key() {
        let mut child = table("c", &[("p_id", "integer")]);
        child.foreign_keys.push(fk("p_id", "p", "id"));
        let from = schema(vec![child.clone(), table("p", &[("id", "integer")])]);
        let mut renamed_child = child;
        renamed_child.foreign_keys[0].referenced_columns = vec!["key".into()];
        let to = schema(vec![renamed_child, table("p", &[("key", "integer")])]);
        let renames = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("p"),
                from: "id".into(),
                to: "key".into(),
            }],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table"], "{changes:#?}");
    }

    #[test]
    fn changed_triggers_are_dropped_first_and_created_last() {
        let trig = |def: &str| Trigger {
            name: "tr".into(),
            table: Name::bare("t"),
            definition: def.into(),
        };
        let mut from = schema(vec![table("t", &[("id", "integer")])]);
        from.triggers = vec![trig("CREATE TRIGGER tr ... 1")];
        let mut to = from.clone();
        to.triggers = vec![trig("CREATE TRIGGER tr ... 2")];
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["drop_trigger", "create_trigger"]);
    }

    /// A table `t` with columns `a` and `b`, a view and a trigger on each column, and a view
    /// reading the view on `a`.
    fn with_dependants() -> Schema {
        let mut s = schema(vec![table("t", &[("a", "integer"), ("b", "integer")])]);
        s.views = vec![
            View {
                query: "SELECT t.a FROM t".into(),
                ..view("on_a", "t")
            },
            View {
                query: "SELECT t.b FROM t".into(),
                ..view("on_b", "t")
            },
            View {
                query: "SELECT on_a.a FROM on_a".into(),
                ..view("on_on_a", "on_a")
            },
        ];
        s.triggers = ["a", "b"]
            .map(|c| Trigger {
                name: format!("when_{c}"),
                table: Name::bare("t"),
                definition: format!("CREATE TRIGGER when_{c} ... WHEN (new.{c} > 0) ..."),
            })
            .to_vec();
        s
    }

    fn dependants(dependants: Dependants) -> DiffOptions {
        DiffOptions {
            dependants,
            ..DiffOptions::default()
        }
    }

    /// The names of the views and triggers that `changes` drops.
    fn dropped(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) => Some(v.name.name.clone()),
                Change::DropTrigger(t) => Some(t.name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn which_table_changes_remake_views_and_triggers_depends_on_the_engine() {
        let from = with_dependants();
        // Column a changes type, and a column is added.
        let mut to = from.clone();
        to.tables[0].columns[0].data_type = "bigint".into();
        to.tables[0].columns.push(Column::new("c", "text"));
        let remade = |options| dropped(&diff(&from, &to, &Renames::default(), options));
        assert_eq!(
            remade(dependants(Dependants::AnyChange)),
            ["when_b", "when_a", "on_on_a", "on_b", "on_a"]
        );
        // What uses a, and what reads what uses it.
        assert_eq!(
            remade(dependants(Dependants::UsedColumns)),
            ["when_a", "on_on_a", "on_a"]
        );
        let none: [&str; 0] = [];
        assert_eq!(remade(dependants(Dependants::ReadWhenUsed)), none);
        // The triggers left alone ride on the table's change, for a dialect that rebuilds it.
        let changes = diff(
            &from,
            &to,
            &Renames::default(),
            dependants(Dependants::UsedColumns),
        );
        let kept: Vec<&str> = changes
            .iter()
            .find_map(|c| match c {
                Change::AlterTable(t) => Some(t.kept_triggers.iter().map(|t| t.name.as_str())),
                _ => None,
            })
            .unwrap()
            .collect();
        assert_eq!(kept, ["when_b"]);
        // Dropping b breaks what uses b; a rename breaks what names the table.
        let mut to = from.clone();
        to.tables[0].columns.pop();
        to.views.retain(|v| v.name.name != "on_b");
        to.triggers.retain(|t| t.name != "when_b");
        assert_eq!(
            dropped(&diff(
                &from,
                &to,
                &Renames::default(),
                dependants(Dependants::UsedColumns)
            )),
            ["when_b", "on_b"]
        );
    }

    /// SQLite reads a view when it is used, so one reading a view made again can stay, unless
    /// the change has SQLite check the whole schema (a rename, a dropped column) while the
    /// view it reads is gone.
    #[test]
    fn a_view_reading_a_remade_view_stays_unless_the_schema_is_checked_meanwhile() {
        let from = with_dependants();
        let mut to = from.clone();
        to.views[0].definition.push_str(" WHERE a > 0");
        let options = dependants(Dependants::ReadWhenUsed);
        assert_eq!(
            dropped(&diff(&from, &to, &Renames::default(), options)),
            ["on_a"]
        );
        let mut renamed = to.clone();
        renamed.tables[0].columns[1].name = "bb".into();
        let renames = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("t"),
                from: "b".into(),
                to: "bb".into(),
            }],
            ..Renames::default()
        };
        assert_eq!(
            dropped(&diff(&from, &renamed, &renames, options)),
            ["on_on_a", "on_a"]
        );
    }

    #[test]
    fn a_column_is_mentioned_as_a_word_in_any_case() {
        assert!(mentions("SELECT t.id, t.n FROM t", "n"));
        assert!(!mentions("SELECT t.id, t.name FROM t", "n"));
        assert!(mentions("SELECT \"Mixed\" FROM t", "mixed"));
        assert!(mentions("SELECT \"two words\" FROM t", "Two Words"));
    }
}
