//! Reading row-level security, policies, privileges and owners.
//!
//! Three more queries, whatever the number of tables. Privileges come from `aclexplode` of
//! the relations' and columns' access lists, one row per role and privilege, without what the
//! owner holds by owning: that follows the owner, and two databases owned by different roles
//! hold the same schema. An owner is listed only when it is not the role reading the catalog,
//! so that a scratch database shows the owners its schema file set, and nothing else.

use godwit_core::dialect::RenderError;
use godwit_core::schema::{Grant, Owner, Policy, PolicyCommand, Relation, RelationKind, Schema};
use godwit_core::store::Row;

use super::{GODWIT_TABLES, Reader, USER_SCHEMA, managed_table, not_from_extension};

/// The relations privileges and owners are read on, as a filter on `c` (`pg_class`) and `n`.
fn relation() -> String {
    format!(
        "c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {USER_SCHEMA} AND c.relname NOT IN {GODWIT_TABLES} \
         AND {}",
        not_from_extension("pg_class", "c.oid")
    )
}

/// A role's name from its oid, `PUBLIC` for 0.
fn role_name(oid: &str) -> String {
    format!("CASE WHEN {oid} = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid({oid})::text END")
}

/// The queries, in the order [`read`] reads their results.
pub(super) fn queries() -> Vec<String> {
    let relation = relation();
    let table = managed_table();
    vec![
        // Row-level security's switches and owners other than the reading role. A sequence a
        // column owns follows its table's owner, and cannot be given to another.
        format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
             c.relrowsecurity::int, c.relforcerowsecurity::int, \
             CASE WHEN c.relowner <> (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d \
                     WHERE c.relkind = 'S' AND d.classid = 'pg_catalog.pg_class'::regclass \
                     AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass \
                     AND d.deptype IN ('a', 'i')) \
                 THEN pg_catalog.pg_get_userbyid(c.relowner)::text END AS owner \
             FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE {relation} \
             AND (c.relrowsecurity OR c.relforcerowsecurity \
                 OR c.relowner <> (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user)) \
             ORDER BY 1, 2"
        ),
        // Policies, with their roles by name.
        format!(
            "SELECT n.nspname::text, c.relname::text, p.polname::text, p.polpermissive::int, \
             p.polcmd::text, \
             (SELECT json_agg(g.name ORDER BY g.name) \
              FROM (SELECT {} AS name FROM unnest(p.polroles) AS r(oid)) AS g)::text, \
             pg_catalog.pg_get_expr(p.polqual, p.polrelid), \
             pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) \
             FROM pg_catalog.pg_policy AS p JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE {table} ORDER BY 1, 2, 3",
            role_name("r.oid")
        ),
        // Privileges on relations, then on their columns.
        format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, NULL::text, {grantee}, \
             a.privilege_type::text, a.is_grantable::int \
             FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS a \
             WHERE {relation} AND a.grantee <> c.relowner \
             UNION ALL \
             SELECT n.nspname::text, c.relname::text, c.relkind::text, t.attname::text, {grantee}, \
             a.privilege_type::text, a.is_grantable::int \
             FROM pg_catalog.pg_attribute AS t JOIN pg_catalog.pg_class AS c ON c.oid = t.attrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) AS a \
             WHERE t.attnum > 0 AND NOT t.attisdropped AND {relation} AND a.grantee <> c.relowner \
             ORDER BY 1, 2, 4, 5, 6",
            grantee = role_name("a.grantee")
        ),
    ]
}

fn relation_kind(reader: &Reader<'_>, index: usize) -> Result<RelationKind, RenderError> {
    Ok(match reader.text(index)?.as_str() {
        "r" | "p" => RelationKind::Table,
        "v" => RelationKind::View,
        "m" => RelationKind::MaterializedView,
        "S" => RelationKind::Sequence,
        other => return Err(reader.error(index, &format!("an unknown relation kind `{other}`"))),
    })
}

/// Add what the rows of [`queries`] say to `schema`, whose tables are read already.
pub(super) fn read(schema: &mut Schema, rows: [Vec<Row>; 3]) -> Result<(), RenderError> {
    let [switches, policies, grants] = rows;
    for row in &switches {
        let r = Reader::new(row, "row security and owners");
        let on = Relation {
            kind: relation_kind(&r, 2)?,
            name: r.name(0, 1)?,
        };
        if let Some(table) = schema.tables.iter_mut().find(|t| t.name == on.name) {
            table.row_security = r.flag(3)?;
            table.force_row_security = r.flag(4)?;
        }
        if let Some(role) = r.opt_text(5)? {
            schema.owners.push(Owner { on, role });
        }
    }
    for row in &policies {
        let r = Reader::new(row, "policies");
        let command = match r.text(4)?.as_str() {
            "*" => PolicyCommand::All,
            "r" => PolicyCommand::Select,
            "a" => PolicyCommand::Insert,
            "w" => PolicyCommand::Update,
            "d" => PolicyCommand::Delete,
            other => return Err(r.error(4, &format!("an unknown policy command `{other}`"))),
        };
        schema.policies.push(Policy {
            table: r.name(0, 1)?,
            name: r.text(2)?,
            permissive: r.flag(3)?,
            command,
            roles: r.json_list(5)?,
            using: r.opt_text(6)?,
            with_check: r.opt_text(7)?,
        });
    }
    for row in &grants {
        let r = Reader::new(row, "privileges");
        schema.grants.push(Grant {
            on: Relation {
                kind: relation_kind(&r, 2)?,
                name: r.name(0, 1)?,
            },
            column: r.opt_text(3)?,
            grantee: r.text(4)?,
            privilege: r.text(5)?,
            grant_option: r.flag(6)?,
        });
    }
    Ok(())
}
