//! Which roles' privileges, and which owners, a plan changes.
//!
//! Privileges are shared ground: a database's roles are the cluster's, other tools and people
//! grant to them, and a platform grants to its own roles on every new table (Supabase's `anon`
//! and `authenticated`). So godwit changes the privileges of the roles the user names, and
//! leaves every other role's alone, as sqldef does (`managed_roles`, `manage.privilege`).
//! Rather than give the diff a mode, [`Scope::settle`] makes the desired model say, for every
//! role outside the scope, what the database already holds; the ordinary diff then finds
//! nothing to change for them, and a view that is made again gets its grants back.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::diff::{Renames, holds, renamed_grant};
use crate::schema::{Name, Schema};

/// Which roles' privileges, and which owners, a plan changes. The default changes none: a
/// schema file's `GRANT`s are then shown by `inspect` and left alone by `push`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Scope {
    /// Roles whose privileges are granted and revoked as the schema says (`PUBLIC` for every
    /// role's). A revoke is a drop: `push --skip-drops` keeps what these roles hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_roles: Vec<String>,
    /// Rules naming roles by pattern; the first that matches a role decides. Consulted before
    /// `managed_roles`. `Some` of an empty list manages every role and revokes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privilege_rules: Option<Vec<PrivilegeRule>>,
}

/// Roles whose privileges a plan changes, by pattern (sqldef's `manage.privilege`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivilegeRule {
    /// A regular expression that must match the whole role name.
    pub target: String,
    /// Whether privileges may be revoked from the roles it matches, even when drops are
    /// skipped; without it, they are only granted.
    #[serde(default)]
    pub drop: bool,
}

/// A [`PrivilegeRule`] whose target is not a regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the privilege rule target `{target}` is not a regular expression: {reason}")]
pub struct InvalidRule {
    /// The target as written.
    pub target: String,
    /// What the regular expression parser said.
    pub reason: String,
}

impl PrivilegeRule {
    /// A rule for the roles whose whole name `target` matches.
    pub fn new(target: impl Into<String>, drop: bool) -> Result<Self, InvalidRule> {
        let rule = PrivilegeRule {
            target: target.into(),
            drop,
        };
        rule.pattern()?;
        Ok(rule)
    }

    fn pattern(&self) -> Result<Regex, InvalidRule> {
        Regex::new(&format!("^(?:{})$", self.target)).map_err(|error| InvalidRule {
            target: self.target.clone(),
            reason: error.to_string(),
        })
    }
}

/// Something a schema declares that a plan leaves alone, because its role is outside the
/// [`Scope`]: a privilege, or an owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeftAlone {
    /// Privileges of one role on one relation.
    Privileges {
        /// The role, or `PUBLIC`.
        role: String,
        /// The privileges (`SELECT`, `UPDATE (note)`).
        privileges: Vec<String>,
        /// The relation.
        on: Name,
    },
    /// The owner of a relation.
    Owner {
        /// The role.
        role: String,
        /// The relation.
        on: Name,
    },
}

impl LeftAlone {
    /// What it is, to stand before it in a sentence (`privileges SELECT on t to app`).
    pub fn kind(&self) -> &'static str {
        match self {
            LeftAlone::Privileges { .. } => "privileges",
            LeftAlone::Owner { .. } => "role",
        }
    }

    /// The role outside the scope.
    pub fn role(&self) -> &str {
        match self {
            LeftAlone::Privileges { role, .. } | LeftAlone::Owner { role, .. } => role,
        }
    }
}

impl fmt::Display for LeftAlone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeftAlone::Privileges {
                role,
                privileges,
                on,
            } => write!(f, "{} on {on} to {role}", privileges.join(", ")),
            LeftAlone::Owner { role, on } => write!(f, "{role} as the owner of {on}"),
        }
    }
}

/// What a plan may do to one role's privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Managed {
    /// Nothing.
    No,
    /// Grant only.
    Grant,
    /// Grant and revoke.
    GrantAndRevoke,
}

impl Scope {
    /// A scope of the roles in `roles`.
    pub fn of_roles(roles: Vec<String>) -> Self {
        Scope {
            managed_roles: roles,
            privilege_rules: None,
        }
    }

    /// The scope with these privilege rules.
    #[must_use]
    pub fn with_privilege_rules(mut self, rules: Vec<PrivilegeRule>) -> Self {
        self.privilege_rules = Some(rules);
        self
    }

    /// What `desired` declares and `current` does not hold that a plan leaves alone, because
    /// its role is outside the scope: privileges, grouped by role and relation, then owners.
    pub fn left_alone(&self, current: &Schema, desired: &Schema) -> Vec<LeftAlone> {
        let settled = self.settle(current, desired, &Renames::default(), false);
        let mut privileges: BTreeMap<(&String, &Name), Vec<String>> = BTreeMap::new();
        for grant in &desired.grants {
            if !settled.grants.contains(grant) && !current.grants.contains(grant) {
                let privilege = match &grant.column {
                    Some(column) => format!("{} ({column})", grant.privilege),
                    None => grant.privilege.clone(),
                };
                privileges
                    .entry((&grant.grantee, &grant.on.name))
                    .or_default()
                    .push(privilege);
            }
        }
        let mut out: Vec<LeftAlone> = privileges
            .into_iter()
            .map(|((role, on), privileges)| LeftAlone::Privileges {
                role: role.clone(),
                privileges,
                on: on.clone(),
            })
            .collect();
        out.extend(
            (desired.owners.iter())
                .filter(|o| !settled.owners.contains(o) && !current.owners.contains(o))
                .map(|o| LeftAlone::Owner {
                    role: o.role.clone(),
                    on: o.on.name.clone(),
                }),
        );
        out
    }

    /// `desired` as a plan from `current` should reach it: the privileges of roles outside
    /// the scope, and those the scope may not revoke, as `current` holds them (on relations
    /// `desired` keeps, after `renames`), and only the owners it declares for roles in the
    /// scope. With `skip_drops`, roles of `managed_roles` keep what they hold too.
    pub fn settle(
        &self,
        current: &Schema,
        desired: &Schema,
        renames: &Renames,
        skip_drops: bool,
    ) -> Schema {
        // Validated when the rules were made.
        let rules: Vec<(Regex, bool)> = (self.privilege_rules.iter().flatten())
            .filter_map(|rule| Some((rule.pattern().ok()?, rule.drop)))
            .collect();
        let managed = |role: &str| {
            if let Some(listed) = &self.privilege_rules {
                if listed.is_empty() {
                    return Managed::Grant;
                }
                if let Some((_, drop)) = rules.iter().find(|(pattern, _)| pattern.is_match(role)) {
                    return if *drop {
                        Managed::GrantAndRevoke
                    } else {
                        Managed::Grant
                    };
                }
            }
            match self.managed_roles.iter().any(|r| r == role) {
                true if skip_drops => Managed::Grant,
                true => Managed::GrantAndRevoke,
                false => Managed::No,
            }
        };
        let mut settled = desired.clone();
        settled
            .grants
            .retain(|grant| managed(&grant.grantee) != Managed::No);
        for grant in &current.grants {
            let grant = renamed_grant(grant, renames);
            if !holds(desired, &grant.on, grant.column.as_deref()) {
                continue;
            }
            let same = |g: &&mut crate::schema::Grant| {
                g.on == grant.on
                    && g.column == grant.column
                    && g.grantee == grant.grantee
                    && g.privilege == grant.privilege
            };
            match managed(&grant.grantee) {
                Managed::GrantAndRevoke => {}
                Managed::No => settled.grants.push(grant),
                Managed::Grant => match settled.grants.iter_mut().find(same) {
                    Some(declared) => declared.grant_option |= grant.grant_option,
                    None => settled.grants.push(grant),
                },
            }
        }
        settled
            .owners
            .retain(|owner| managed(&owner.role) != Managed::No);
        settled.grants.sort();
        settled.grants.dedup();
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Grant, Name, Relation, RelationKind, Table};

    /// A schema of one table with these `(role, privilege)` grants on it.
    fn schema(grants: &[(&str, &str)]) -> Schema {
        let on = Relation {
            kind: RelationKind::Table,
            name: Name::qualified("public", "t"),
        };
        Schema {
            tables: vec![Table::new(on.name.clone(), Vec::new())],
            grants: (grants.iter())
                .map(|(role, privilege)| Grant {
                    on: on.clone(),
                    column: None,
                    grantee: role.to_string(),
                    privilege: privilege.to_string(),
                    grant_option: false,
                })
                .collect(),
            ..Schema::default()
        }
    }

    /// The grants a plan from `current` to `desired` reaches under `scope`.
    fn settled(
        scope: &Scope,
        current: &[(&str, &str)],
        desired: &[(&str, &str)],
        skip_drops: bool,
    ) -> Vec<(String, String)> {
        let settled = scope.settle(
            &schema(current),
            &schema(desired),
            &Renames::default(),
            skip_drops,
        );
        (settled.grants.iter())
            .map(|g| (g.grantee.clone(), g.privilege.clone()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        (list.iter())
            .map(|(r, p)| (r.to_string(), p.to_string()))
            .collect()
    }

    #[test]
    fn unmanaged_roles_keep_what_they_hold() {
        let scope = Scope::of_roles(vec!["app".into()]);
        let current = [("app", "INSERT"), ("other", "SELECT")];
        let desired = [("app", "SELECT"), ("other", "UPDATE")];
        assert_eq!(
            settled(&scope, &current, &desired, false),
            pairs(&[("app", "SELECT"), ("other", "SELECT")])
        );
        // Skipping drops, managed roles keep what they hold too.
        assert_eq!(
            settled(&scope, &current, &desired, true),
            pairs(&[("app", "INSERT"), ("app", "SELECT"), ("other", "SELECT")])
        );
    }

    #[test]
    fn the_first_rule_that_matches_a_whole_name_decides_whether_to_revoke() {
        let rules = vec![
            PrivilegeRule::new(r"user\d", true).unwrap(),
            PrivilegeRule::new("read.*", false).unwrap(),
        ];
        let scope = Scope::default().with_privilege_rules(rules);
        let current = [
            ("user1", "SELECT"),
            ("reader", "SELECT"),
            ("user12", "SELECT"),
        ];
        assert_eq!(
            settled(&scope, &current, &[], true),
            pairs(&[("reader", "SELECT"), ("user12", "SELECT")])
        );
    }

    #[test]
    fn a_target_that_is_no_pattern_is_refused() {
        let error = PrivilegeRule::new("user(", true).unwrap_err();
        assert!(error.to_string().contains("`user(`"), "{error}");
    }
}
