//! Namespaces, extensions, types (enums, domains, sequences) and functions: created before
//! the tables that use them, dropped once nothing does.

use super::{Change, Renames, Steps};
use crate::schema::{Enum, Function, Name, Schema, Table};

/// The current enums, and those that lose labels.
pub(super) struct Enums<'a> {
    /// Each current enum with its labels under their declared new names, and those renames.
    current: Vec<(Enum, Vec<(String, String)>)>,
    /// The desired enums that lose a label: PostgreSQL cannot remove one, so the type is
    /// made again and the columns using it move to the new one.
    pub(super) rebuilt: Vec<&'a Name>,
}

impl<'a> Enums<'a> {
    pub(super) fn new(from: &Schema, to: &'a Schema, renames: &Renames) -> Self {
        let current: Vec<(Enum, Vec<(String, String)>)> = from
            .enums
            .iter()
            .map(|e| with_renamed_labels(e, renames))
            .collect();
        let rebuilt = to
            .enums
            .iter()
            .filter(|e| {
                current.iter().any(|(c, _)| {
                    c.name == e.name && c.values.iter().any(|v| !e.values.contains(v))
                })
            })
            .map(|e| &e.name)
            .collect();
        Enums { current, rebuilt }
    }

    /// Whether a column of `table` has an enum type that is made again: the table changes
    /// even when nothing of its own does, since the column moves to the new type.
    pub(super) fn used_by(&self, table: &Table) -> bool {
        table
            .columns
            .iter()
            .any(|c| self.rebuilt.iter().any(|e| mentions_type(&c.data_type, e)))
    }
}

/// Create the namespaces, extensions, enums, domains and sequences `to` adds, and change
/// those it changes: an enum in place, a domain and a sequence by dropping and creating.
pub(super) fn create(from: &Schema, to: &Schema, enums: &Enums<'_>, steps: &mut Steps) {
    for schema in &to.schemas {
        if !from.schemas.contains(schema) {
            steps.creates.push(Change::CreateSchema(schema.clone()));
        }
    }
    for ext in &to.extensions {
        if !from.extensions.iter().any(|e| e.name == ext.name) {
            steps.creates.push(Change::CreateExtension(ext.clone()));
        }
    }
    for desired in &to.enums {
        match enums.current.iter().find(|(e, _)| e.name == desired.name) {
            None => steps.creates.push(Change::CreateEnum(desired.clone())),
            Some((current, renamed)) if current.values != desired.values || !renamed.is_empty() => {
                steps.creates.push(Change::AlterEnum {
                    from: current.clone(),
                    to: desired.clone(),
                    renamed: renamed.clone(),
                });
            }
            Some(_) => {}
        }
    }
    for desired in &to.domains {
        match from.domains.iter().find(|d| d.name == desired.name) {
            None => steps.creates.push(Change::CreateDomain(desired.clone())),
            Some(current) if current != desired => {
                steps.early.push(Change::DropDomain(current.clone()));
                steps.creates.push(Change::CreateDomain(desired.clone()));
            }
            Some(_) => {}
        }
    }
    for desired in &to.sequences {
        match from.sequences.iter().find(|s| s.name == desired.name) {
            None => steps.creates.push(Change::CreateSequence(desired.clone())),
            Some(current) if current != desired => {
                steps
                    .final_drops
                    .push(Change::DropSequence(current.clone()));
                steps.creates.push(Change::CreateSequence(desired.clone()));
            }
            Some(_) => {}
        }
    }
}

/// Place each new or changed function once the types its arguments and result name exist:
/// into `creates` before domains (whose checks may call it) unless it takes or returns a new
/// domain, and before tables (whose defaults and checks may call it) unless it takes or
/// returns a new table's row type; those are returned, to follow the tables. Its body is not
/// checked when it is created, so what the body reads does not matter. A changed result type
/// cannot be replaced in place: drop, then create.
pub(super) fn place_functions(
    from: &Schema,
    to: &Schema,
    new_tables: &[&Name],
    creates: &mut Vec<Change>,
) -> Vec<Change> {
    let new_domains: Vec<&Name> = to
        .domains
        .iter()
        .filter(|d| !from.domains.iter().any(|c| c.name == d.name))
        .map(|d| &d.name)
        .collect();
    let mut functions: [Vec<Change>; 3] = Default::default();
    for desired in &to.functions {
        let current = from
            .functions
            .iter()
            .find(|f| f.signature == desired.signature);
        if current.is_some_and(|c| c.definition == desired.definition) {
            continue;
        }
        let stage = if new_tables.iter().any(|t| function_uses_type(desired, t)) {
            2
        } else if new_domains.iter().any(|d| function_uses_type(desired, d)) {
            1
        } else {
            0
        };
        if let Some(current) = current.filter(|c| c.returns != desired.returns) {
            functions[stage].push(Change::DropFunction(current.clone()));
        }
        functions[stage].push(Change::CreateFunction(desired.clone()));
    }
    let [before_domains, after_domains, after_tables] = functions;
    let domains_at = creates
        .iter()
        .position(|c| matches!(c, Change::CreateDomain(_)))
        .unwrap_or(creates.len());
    creates.splice(domains_at..domains_at, before_domains);
    let sequences_at = creates
        .iter()
        .position(|c| matches!(c, Change::CreateSequence(_)))
        .unwrap_or(creates.len());
    creates.splice(sequences_at..sequences_at, after_domains);
    after_tables
}

/// Drop the functions, sequences, domains, enums, extensions and namespaces `to` no longer
/// has, in that order: each after what may use it.
pub(super) fn drop_unused(from: &Schema, to: &Schema, final_drops: &mut Vec<Change>) {
    for current in &from.functions {
        if !to
            .functions
            .iter()
            .any(|f| f.signature == current.signature)
        {
            final_drops.push(Change::DropFunction(current.clone()));
        }
    }
    for current in &from.sequences {
        if !to.sequences.iter().any(|s| s.name == current.name) {
            final_drops.push(Change::DropSequence(current.clone()));
        }
    }
    for current in &from.domains {
        if !to.domains.iter().any(|d| d.name == current.name) {
            final_drops.push(Change::DropDomain(current.clone()));
        }
    }
    for current in &from.enums {
        if !to.enums.iter().any(|e| e.name == current.name) {
            final_drops.push(Change::DropEnum(current.clone()));
        }
    }
    for current in &from.extensions {
        if !to.extensions.iter().any(|e| e.name == current.name) {
            final_drops.push(Change::DropExtension(current.clone()));
        }
    }
    for schema in &from.schemas {
        if !to.schemas.contains(schema) {
            final_drops.push(Change::DropSchema(schema.clone()));
        }
    }
}

/// Whether `function` takes or returns the type called `name`, going by the words of its
/// argument list and result as the engine prints them. A parameter that happens to share the
/// type's name only places the function later than needed.
fn function_uses_type(function: &Function, name: &Name) -> bool {
    let arguments = function
        .signature
        .split_once('(')
        .map_or("", |(_, arguments)| arguments);
    mentions_type(arguments, name)
        || mentions_type(function.returns.as_deref().unwrap_or_default(), name)
}

/// Whether the type text `text`, as the engine prints it, has the word `name` in it (`mood`,
/// `app.mood[]`, `SETOF mood`).
pub(super) fn mentions_type(text: &str, name: &Name) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .any(|word| word == name.name)
}

/// `current` with the labels `renames` renames under their new names, and those renames as
/// `(old, new)` in the order given.
pub(crate) fn with_renamed_labels(
    current: &Enum,
    renames: &Renames,
) -> (Enum, Vec<(String, String)>) {
    let mut renamed_type = current.clone();
    let mut renamed = Vec::new();
    for rename in renames
        .enum_values
        .iter()
        .filter(|r| r.type_name == current.name)
    {
        if let Some(label) = renamed_type.values.iter_mut().find(|v| **v == rename.from) {
            label.clone_from(&rename.to);
            renamed.push((rename.from.clone(), rename.to.clone()));
        }
    }
    (renamed_type, renamed)
}
