//! SQL text: quoting, and reading back what the server wrote (qualified names, `nextval`
//! defaults, types, the markers introspection leaves in `other_constraints`).

use godwit_core::dialect::double_quoted;
use godwit_core::schema::{Check, Column, Deferral, Name, PrimaryKey, Table, Unique};

/// The marker, in a table's `other_constraints`, of how a partitioned table is partitioned.
pub(crate) const PARTITION_BY: &str = "PARTITION BY ";

/// The marker, in a partition's `other_constraints`, of the table it is a partition of.
pub(crate) const PARTITION_OF: &str = "PARTITION OF ";

/// The quoted, schema-qualified name.
pub(crate) fn qualified(name: &Name) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(&name.name)),
        None => quote(&name.name),
    }
}

/// A quoted identifier, as [`PgDialect::quote_identifier`](crate::PgDialect) writes it.
pub(crate) fn quote(ident: &str) -> String {
    double_quoted(ident)
}

/// A string literal. Backslashes are literal because `standard_conforming_strings` is on, as
/// it has been by default since PostgreSQL 9.1.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(super) fn quoted_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A partition's parent (as quoted text) and bound, from its `other_constraints` marker.
pub(super) fn partition_of(table: &Table) -> Option<(&str, &str)> {
    table.other_constraints.iter().find_map(|c| {
        let rest = c.expression.strip_prefix(PARTITION_OF)?;
        split_leading_name(rest)
    })
}

/// Split `"s"."t" FOR VALUES ...` after its leading quoted, qualified name.
fn split_leading_name(text: &str) -> Option<(&str, &str)> {
    let mut in_quotes = false;
    for (i, ch) in text.char_indices() {
        match ch {
            '"' => in_quotes = !in_quotes,
            ' ' if !in_quotes => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The table an index is on, and whether that table is partitioned, read from the index's
/// definition as `pg_get_indexdef` writes it:
/// `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING ...`, where `ONLY` marks the index
/// of a partitioned table.
pub(super) fn index_table(definition: &str) -> Option<(Name, bool)> {
    let rest = definition
        .strip_prefix("CREATE UNIQUE INDEX ")
        .or_else(|| definition.strip_prefix("CREATE INDEX "))?;
    let (_index, rest) = split_leading_name(rest)?;
    let rest = rest.strip_prefix("ON ")?;
    let (partitioned, rest) = match rest.strip_prefix("ONLY ") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (table, _) = split_leading_name(rest)?;
    let name = match split_qualified(table)?.as_slice() {
        [schema, name] => Name::qualified(schema.clone(), name.clone()),
        [name] => Name::bare(name.clone()),
        _ => return None,
    };
    Some((name, partitioned))
}

pub(super) fn partition_key(table: &Table) -> Option<&str> {
    table
        .other_constraints
        .iter()
        .find_map(|c| c.expression.strip_prefix(PARTITION_BY))
}

pub(super) fn is_partition_marker(check: &Check) -> bool {
    check.name.is_none()
        && (check.expression.starts_with(PARTITION_BY)
            || check.expression.starts_with(PARTITION_OF))
}

/// The parts of a qualified name as the server prints it (`app."Odd name"`), unquoted.
pub(super) fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    if quoted || current.is_empty() {
        return None;
    }
    parts.push(current);
    Some(parts)
}

/// The sequence a `nextval('...'::regclass)` default draws from, as the server wrote it.
pub(super) fn nextval_sequence(default: &str) -> Option<String> {
    let inner = default
        .strip_prefix("nextval('")?
        .strip_suffix("'::regclass)")?;
    Some(inner.replace("''", "'"))
}

/// The name `serial` gives the sequence it creates for `column` of `table`, when it needs no
/// cutting to fit PostgreSQL's 63 bytes (the server then shortens both parts, and numbers the
/// name when it is taken, which only the server can tell).
pub(super) fn serial_sequence_name(table: &Name, column: &str) -> Option<String> {
    let name = format!("{}_{column}_seq", table.name);
    (name.len() <= 63).then_some(name)
}

/// The `serial` pseudo-type that creates `column` with its sequence, when the column is what
/// such a type leaves behind: an integer, NOT NULL, owning the sequence its default draws from.
pub(super) fn serial_type(column: &Column) -> Option<&'static str> {
    let keyword = match column.data_type.as_str() {
        "smallint" => "smallserial",
        "integer" => "serial",
        "bigint" => "bigserial",
        _ => return None,
    };
    (!column.nullable
        && column.identity.is_none()
        && column.generated.is_none()
        && column.owned_sequence.is_some())
    .then_some(keyword)
}

/// Whether changing a column from type `from` to `to` keeps every value as it is.
pub(super) fn is_widening(from: &str, to: &str) -> bool {
    // An array widens when its element type does; `format_type` prints the dimensions as
    // trailing `[]`, after the element's arguments.
    let dimensions = |ty: &str| ty.len() - ty.trim_end_matches("[]").len();
    if dimensions(from) != dimensions(to) {
        return false;
    }
    if to == "text" && dimensions(from) == 0 {
        return true;
    }
    let (from, to) = (from.trim_end_matches("[]"), to.trim_end_matches("[]"));
    let (Some((from_base, from_args)), Some((to_base, to_args))) =
        (type_arguments(from), type_arguments(to))
    else {
        return false;
    };
    match (from_base, to_base) {
        ("smallint", "integer" | "bigint")
        | ("integer", "bigint")
        | ("real", "double precision") => true,
        // An integer fits a numeric with as many digits before the point as its largest
        // value has.
        ("smallint" | "integer" | "bigint", "numeric") => {
            let digits = match from_base {
                "smallint" => 5,
                "integer" => 10,
                _ => 19,
            };
            match to_args.as_slice() {
                [] => true,
                [precision] => *precision >= digits,
                [precision, scale] => precision - scale >= digits,
                _ => false,
            }
        }
        ("text", "character varying") => to_args.is_empty(),
        ("character varying", "character varying") => {
            to_args.is_empty() || (from_args.first() <= to_args.first() && !from_args.is_empty())
        }
        ("numeric", "numeric") => match (from_args.as_slice(), to_args.as_slice()) {
            (_, []) => true,
            ([p1, s1], [p2, s2]) => s1 == s2 && p2 >= p1,
            ([p1], [p2]) => p2 >= p1,
            _ => false,
        },
        _ => false,
    }
}

/// A type's base name and numeric arguments, as `format_type` prints them: `numeric(8,3)` is
/// `numeric` with `[8, 3]`. Text after the arguments (`timestamp(3) with time zone`) makes it
/// unknown.
pub(super) fn type_arguments(ty: &str) -> Option<(&str, Vec<i64>)> {
    let Some((base, rest)) = ty.split_once('(') else {
        return Some((ty, Vec::new()));
    };
    let args = rest.strip_suffix(')')?;
    let args = args
        .split(',')
        .map(|a| a.trim().parse().ok())
        .collect::<Option<Vec<i64>>>()?;
    Some((base, args))
}

pub(super) fn identity_clause(always: bool, options: Option<&str>) -> String {
    format!(
        " GENERATED {} AS IDENTITY{}",
        if always { "ALWAYS" } else { "BY DEFAULT" },
        options.map(|o| format!(" ({o})")).unwrap_or_default()
    )
}

pub(super) fn constraint_prefix(name: Option<&str>) -> String {
    name.map(|n| format!("CONSTRAINT {} ", quote(n)))
        .unwrap_or_default()
}

pub(super) fn constraint_clause(check: &Check) -> String {
    format!(
        "{}{}",
        constraint_prefix(check.name.as_deref()),
        check.expression
    )
}

pub(super) fn unique_clause(unique: &Unique) -> String {
    format!(
        "{}UNIQUE{} ({}){}",
        constraint_prefix(unique.name.as_deref()),
        if unique.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        quoted_list(&unique.columns),
        deferral_clause(unique.deferral)
    )
}

pub(super) fn primary_key_clause(key: &PrimaryKey) -> String {
    format!(
        "{}PRIMARY KEY ({}){}",
        constraint_prefix(key.name.as_deref()),
        quoted_list(&key.columns),
        deferral_clause(key.deferral)
    )
}

/// What follows a constraint that is not checked at once: ` DEFERRABLE`, maybe
/// ` INITIALLY DEFERRED`; nothing for one that is.
pub(super) fn deferral_clause(deferral: Deferral) -> &'static str {
    match (deferral.deferrable, deferral.initially_deferred) {
        (false, _) => "",
        (true, false) => " DEFERRABLE",
        (true, true) => " DEFERRABLE INITIALLY DEFERRED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_columns_are_recognised_by_the_sequence_they_own() {
        let mut column = Column::new("id", "integer");
        column.nullable = false;
        column.default = Some("nextval('orders_id_seq1'::regclass)".into());
        assert_eq!(serial_type(&column), None);
        column.owned_sequence = Some("orders_id_seq1".into());
        assert_eq!(serial_type(&column), Some("serial"));
        column.data_type = "bigint".into();
        assert_eq!(serial_type(&column), Some("bigserial"));
        column.data_type = "smallint".into();
        assert_eq!(serial_type(&column), Some("smallserial"));
        column.nullable = true;
        assert_eq!(serial_type(&column), None);
    }

    #[test]
    fn serial_sequence_names_that_need_no_cutting() {
        let table = Name::qualified("app", "orders");
        assert_eq!(
            serial_sequence_name(&table, "id").as_deref(),
            Some("orders_id_seq")
        );
        let long = Name::qualified("app", "t".repeat(60));
        assert_eq!(serial_sequence_name(&long, "id"), None);
    }

    #[test]
    fn widening_is_recognised() {
        for (from, to) in [
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("character varying(10)", "character varying(20)"),
            ("character varying(10)", "text"),
            ("character varying(10)", "character varying"),
            ("text", "character varying"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
            ("real", "double precision"),
            ("integer", "numeric(12,2)"),
            ("uuid", "text"),
            ("character varying(3)[]", "character varying(20)[]"),
            ("integer[]", "bigint[]"),
            ("numeric(8,3)[]", "numeric[]"),
        ] {
            assert!(is_widening(from, to), "{from} -> {to}");
        }
        for (from, to) in [
            ("bigint", "integer"),
            ("character varying(20)", "character varying(10)"),
            ("text", "character varying(10)"),
            ("character varying", "character varying(10)"),
            ("numeric(10,2)", "numeric(10,1)"),
            ("text", "integer"),
            ("integer[]", "text"),
            ("integer", "numeric(10,2)"),
            // Arrays narrow like their elements: these truncate or round every value.
            ("character varying(20)[]", "character varying(3)[]"),
            ("numeric(8,3)[]", "numeric(8,0)[]"),
            ("text[]", "character varying(3)[]"),
            ("integer[]", "integer"),
            (
                "timestamp(6) without time zone",
                "timestamp(3) without time zone",
            ),
        ] {
            assert!(!is_widening(from, to), "{from} -> {to}");
        }
    }

    #[test]
    fn index_definitions_name_their_table() {
        assert_eq!(
            index_table("CREATE INDEX \"odd ON idx\" ON app.\"Odd T\" USING btree (a)"),
            Some((Name::qualified("app", "Odd T"), false))
        );
        assert_eq!(
            index_table("CREATE UNIQUE INDEX u ON public.t USING btree (a) WHERE (a > 0)"),
            Some((Name::qualified("public", "t"), false))
        );
        assert_eq!(
            index_table("CREATE INDEX p_a ON ONLY public.p USING btree (a)"),
            Some((Name::qualified("public", "p"), true))
        );
        assert_eq!(index_table("CREATE INDEX broken"), None);
    }

    #[test]
    fn qualified_names_split_like_the_server_writes_them() {
        assert_eq!(
            split_qualified("app.\"Odd.\"\"name\""),
            Some(vec!["app".to_string(), "Odd.\"name".to_string()])
        );
        assert_eq!(split_qualified("\"unterminated"), None);
    }
}
