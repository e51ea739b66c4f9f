//! Row-level security, policies, privileges and owners as statements.
//!
//! None of these touches a row, so none carries a hazard: what a revoke takes away is access,
//! and whether a plan may revoke at all was decided before the diff (`Scope`).

use godwit_core::diff::{Change, Privileges};
use godwit_core::schema::{Policy, Relation, RelationKind};

use super::sql::{qualified, quote, quoted_list};

/// The statements of an access change, or `None` for a change of another kind.
pub(super) fn render(change: &Change) -> Option<Vec<String>> {
    Some(match change {
        Change::SetRowSecurity {
            table,
            enable,
            force,
        } => {
            let table = qualified(table);
            let enable = enable.map(|on| if on { "ENABLE" } else { "DISABLE" });
            let force = force.map(|on| if on { "FORCE" } else { "NO FORCE" });
            (enable.into_iter().chain(force))
                .map(|verb| format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY"))
                .collect()
        }
        Change::CreatePolicy(policy) => vec![create_policy(policy)],
        Change::AlterPolicy { from, to } => vec![alter_policy(from, to)],
        Change::DropPolicy(policy) => vec![format!(
            "DROP POLICY {} ON {}",
            quote(&policy.name),
            qualified(&policy.table)
        )],
        Change::Grant(privileges) => vec![format!(
            "GRANT {} TO {}{}",
            privileges_on(privileges),
            role(&privileges.grantee),
            if privileges.grant_option {
                " WITH GRANT OPTION"
            } else {
                ""
            }
        )],
        Change::Revoke {
            privileges,
            grant_option_only,
        } => vec![format!(
            "REVOKE {}{} FROM {}",
            if *grant_option_only {
                "GRANT OPTION FOR "
            } else {
                ""
            },
            privileges_on(privileges),
            role(&privileges.grantee)
        )],
        Change::SetOwner(owner) => vec![format!(
            "ALTER {} {} OWNER TO {}",
            owner.on.kind.sql(),
            qualified(&owner.on.name),
            quote(&owner.role)
        )],
        _ => return None,
    })
}

/// A role as `GRANT` and `CREATE POLICY` name it: `PUBLIC` is a keyword, not a role.
fn role(name: &str) -> String {
    if name == "PUBLIC" {
        name.to_string()
    } else {
        quote(name)
    }
}

fn roles(names: &[String]) -> String {
    if names.is_empty() {
        return "PUBLIC".to_string();
    }
    names.iter().map(|r| role(r)).collect::<Vec<_>>().join(", ")
}

/// `SELECT (a, b) ON TABLE t`: the privileges, their columns, and the relation. Views and
/// materialized views take `ON TABLE` too.
fn privileges_on(privileges: &Privileges) -> String {
    let columns = if privileges.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", quoted_list(&privileges.columns))
    };
    format!(
        "{}{columns} ON {}",
        privileges.privileges.join(", "),
        relation(&privileges.on)
    )
}

fn relation(relation: &Relation) -> String {
    let kind = match relation.kind {
        RelationKind::Sequence => "SEQUENCE",
        _ => "TABLE",
    };
    format!("{kind} {}", qualified(&relation.name))
}

fn create_policy(policy: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote(&policy.name),
        qualified(&policy.table),
        if policy.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        policy.command.sql(),
        roles(&policy.roles)
    );
    expressions(&mut sql, policy);
    sql
}

/// `ALTER POLICY`, which the diff uses only where it can make `from` into `to`: same kind and
/// command, and no expression that goes.
fn alter_policy(from: &Policy, to: &Policy) -> String {
    let mut sql = format!(
        "ALTER POLICY {} ON {}",
        quote(&to.name),
        qualified(&to.table)
    );
    if from.roles != to.roles {
        sql.push_str(&format!(" TO {}", roles(&to.roles)));
    }
    let changed = Policy {
        using: to.using.clone().filter(|_| from.using != to.using),
        with_check: to
            .with_check
            .clone()
            .filter(|_| from.with_check != to.with_check),
        ..to.clone()
    };
    expressions(&mut sql, &changed);
    sql
}

fn expressions(sql: &mut String, policy: &Policy) {
    if let Some(using) = &policy.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &policy.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
}
