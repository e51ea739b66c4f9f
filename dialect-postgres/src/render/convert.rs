//! What changing a column's type does to the values it holds: kept, converted or refused
//! (the statement fails), or altered (cut, rounded). Each outcome comes as a condition on the
//! column that finds the rows concerned, for the hazard's count queries.
//!
//! PostgreSQL 15 has no `pg_input_is_valid`, so the values the new type cannot read are found
//! with the rules of its input functions: an enum's labels, the digits of an integer or a
//! number. Where those rules grew in later versions (hexadecimal and `_` in numbers, from 16),
//! the conditions take the wider form: a value they let pass that the server still refuses
//! fails the change in its transaction, which rolls back; a value they wrongly counted would
//! refuse a change that works.

use super::sql::{is_widening, literal, type_arguments};

/// The labels of the enum a column changes to.
pub(super) enum Labels<'a> {
    /// Known from the change, which creates or alters the type.
    Known(&'a [String]),
    /// Read from the catalog when the count runs: the type may be an enum that stays, or
    /// another type (then the count says it cannot tell).
    Catalog(&'a str),
}

/// What a type change does to the values of a column.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Conversion {
    /// Every value stays as it is.
    Kept,
    /// Every value converts as it is, or the statement fails: the query counts the rows that
    /// would make it fail (it returns NULL when it cannot tell).
    FailsOn(Count),
    /// Values may change (cut, rounded): the rows whose value changes, and the rows that would
    /// make the statement fail, where some may.
    Alters {
        /// The rows whose value changes.
        altered: String,
        /// The rows that would make it fail.
        fails: Option<String>,
    },
    /// Not known: every value may change.
    Unknown,
}

/// How the rows a conversion refuses are counted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Count {
    /// The rows of the current table that match this condition.
    Where(String),
    /// The rows that match `condition` when `type_name` is an enum (whose labels the
    /// condition reads from the catalog, as `godwit_type`); when it is another type the count
    /// cannot tell, and is NULL.
    WhenEnum {
        /// The type, as `format_type` prints it.
        type_name: String,
        /// The condition.
        condition: String,
    },
}

impl Count {
    /// The count query over `table` (qualified and quoted).
    pub(super) fn query(&self, table: &str) -> String {
        match self {
            Count::Where(condition) => format!("SELECT count(*) FROM {table} WHERE {condition}"),
            Count::WhenEnum {
                type_name,
                condition,
            } => format!(
                "SELECT CASE WHEN godwit_type.typtype = 'e' THEN (SELECT count(*) FROM {table} \
                 WHERE {condition}) END FROM pg_catalog.pg_type AS godwit_type \
                 WHERE godwit_type.oid = {}::regtype",
                literal(type_name)
            ),
        }
    }
}

const INTEGER_RANGES: [(&str, &str, &str); 3] = [
    ("smallint", "-32768", "32767"),
    ("integer", "-2147483648", "2147483647"),
    ("bigint", "-9223372036854775808", "9223372036854775807"),
];

/// Text PostgreSQL 15 reads as an integer: spaces around, a sign, digits.
const DECIMAL_INTEGER: &str = "'^[[:space:]]*[+-]?[0-9]+[[:space:]]*$'";
/// Text any version may read as an integer (16 adds `0x`, `0o`, `0b` and `_`).
const ANY_INTEGER: &str = "'^[[:space:]]*[+-]?(0[xob])?[0-9a-f_]+[[:space:]]*$'";
/// Text PostgreSQL 15 reads as a finite number: digits with a point and an exponent.
const DECIMAL_NUMBER: &str =
    "'^[[:space:]]*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)(e[+-]?[0-9]+)?[[:space:]]*$'";
/// Text any version may read as a number, `NaN` and infinities included.
const ANY_NUMBER: &str = "'^[[:space:]]*[+-]?((0[xob])?[0-9a-f_]*\\.?[0-9_]*(e[+-]?[0-9]+)?|nan|inf|infinity)[[:space:]]*$'";

/// What changing column `c` (quoted) from type `from` to `to` does to its values, as
/// `format_type` prints both; `labels` when `to` may be an enum and `from` holds text.
pub(super) fn conversion(from: &str, to: &str, c: &str, labels: Option<Labels<'_>>) -> Conversion {
    if is_widening(from, to) {
        return Conversion::Kept;
    }
    let array = to.ends_with("[]");
    if let Some(labels) = labels
        && array == from.ends_with("[]")
    {
        return Conversion::FailsOn(unlabelled(c, array, labels));
    }
    if array || from.ends_with("[]") {
        return Conversion::Unknown;
    }
    let (Some((from_base, from_args)), Some((to_base, to_args))) =
        (type_arguments(from), type_arguments(to))
    else {
        return Conversion::Unknown;
    };
    let textual = matches!(from_base, "text" | "character varying" | "character");
    let integral = matches!(from_base, "smallint" | "integer" | "bigint");
    let number = |scale: i64| format!("round({c}::numeric, {scale})");
    let rounded = |scale: i64| format!("{c}::numeric <> {}", number(scale));
    let overflows =
        |precision: i64, scale: i64| format!("abs({}) >= 1e{}", number(scale), precision - scale);
    let range = INTEGER_RANGES
        .iter()
        .find(|(name, _, _)| *name == to_base && to_args.is_empty());
    match (to_base, to_args.as_slice()) {
        ("character varying" | "character", [length]) if textual => Conversion::Alters {
            altered: format!("length({c}) > {length}"),
            fails: None,
        },
        _ if textual && range.is_some() => {
            let (_, low, high) = range.expect("matched");
            Conversion::FailsOn(Count::Where(format!(
                "CASE WHEN {c} ~ {DECIMAL_INTEGER} THEN {c}::numeric NOT BETWEEN {low} AND {high} \
                 ELSE {c} !~* {ANY_INTEGER} END"
            )))
        }
        ("numeric", []) if textual => {
            Conversion::FailsOn(Count::Where(format!("{c} !~* {ANY_NUMBER}")))
        }
        ("numeric", [precision, scale @ ..]) if textual => {
            let scale = scale.first().copied().unwrap_or(0);
            let decimal = format!("{c} ~* {DECIMAL_NUMBER}");
            Conversion::Alters {
                altered: format!("CASE WHEN {decimal} THEN {} ELSE false END", rounded(scale)),
                fails: Some(format!(
                    "CASE WHEN {decimal} THEN {} ELSE {c} !~* {ANY_NUMBER} END",
                    overflows(*precision, scale)
                )),
            }
        }
        _ if !(integral || matches!(from_base, "numeric" | "real" | "double precision")) => {
            Conversion::Unknown
        }
        _ if range.is_some() => {
            let (_, low, high) = range.expect("matched");
            let outside = format!("{} NOT BETWEEN {low} AND {high}", number(0));
            if integral {
                Conversion::FailsOn(Count::Where(format!("{c} NOT BETWEEN {low} AND {high}")))
            } else {
                Conversion::Alters {
                    altered: rounded(0),
                    fails: Some(outside),
                }
            }
        }
        ("numeric", [precision, scale @ ..]) => {
            let scale = scale.first().copied().unwrap_or(0);
            // A value with no more decimals than the new scale is not rounded.
            let exact =
                integral || from_base == "numeric" && from_args.get(1).is_some_and(|s| *s <= scale);
            if exact {
                Conversion::FailsOn(Count::Where(overflows(*precision, scale)))
            } else {
                Conversion::Alters {
                    altered: rounded(scale),
                    fails: Some(overflows(*precision, scale)),
                }
            }
        }
        _ => Conversion::Unknown,
    }
}

/// The rows of `c` (quoted; an array of labels when `array`) holding a value that is not one
/// of `labels`. NULLs convert.
fn unlabelled(c: &str, array: bool, labels: Labels<'_>) -> Count {
    let outside = |list: &str| match array {
        false => format!("{c}::text NOT IN ({list})"),
        true => format!(
            "EXISTS (SELECT 1 FROM unnest({c}::text[]) AS v(label) WHERE v.label NOT IN ({list}))"
        ),
    };
    match labels {
        Labels::Known([]) => Count::Where(format!("{c} IS NOT NULL")),
        Labels::Known(values) => {
            let list = values
                .iter()
                .map(|v| literal(v))
                .collect::<Vec<_>>()
                .join(", ");
            Count::Where(outside(&list))
        }
        Labels::Catalog(type_name) => Count::WhenEnum {
            type_name: type_name.trim_end_matches("[]").to_string(),
            condition: outside(
                "SELECT e.enumlabel::text FROM pg_catalog.pg_enum AS e \
                 WHERE e.enumtypid = godwit_type.oid",
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(conversion: Conversion) -> Option<String> {
        match conversion {
            Conversion::FailsOn(Count::Where(condition)) => Some(condition),
            _ => None,
        }
    }

    #[test]
    fn conversions_that_can_only_fail_count_the_rows_that_would() {
        let labels = ["a".to_string(), "b".to_string()];
        let to_enum = |from, to| conversion(from, to, "\"c\"", Some(Labels::Known(&labels)));
        assert_eq!(
            condition(to_enum("text", "status")).as_deref(),
            Some("\"c\"::text NOT IN ('a', 'b')")
        );
        assert_eq!(
            condition(to_enum("text[]", "status[]")).as_deref(),
            Some(
                "EXISTS (SELECT 1 FROM unnest(\"c\"::text[]) AS v(label) WHERE v.label NOT IN ('a', 'b'))"
            )
        );
        assert_eq!(
            condition(conversion("bigint", "integer", "\"c\"", None)).as_deref(),
            Some("\"c\" NOT BETWEEN -2147483648 AND 2147483647")
        );
        assert!(
            condition(conversion("text", "integer", "\"c\"", None))
                .is_some_and(|c| c.contains("NOT BETWEEN -2147483648 AND 2147483647"))
        );
        assert_eq!(
            condition(conversion("integer", "numeric(4,1)", "\"c\"", None)).as_deref(),
            Some("abs(round(\"c\"::numeric, 1)) >= 1e3")
        );
        let catalog = conversion("text", "mood", "\"c\"", Some(Labels::Catalog("mood")));
        assert!(
            matches!(&catalog, Conversion::FailsOn(Count::WhenEnum { type_name, .. }) if type_name == "mood"),
            "{catalog:?}"
        );
    }

    #[test]
    fn conversions_that_alter_values_count_those_and_the_failures_apart() {
        assert_eq!(
            conversion("text", "character varying(5)", "\"c\"", None),
            Conversion::Alters {
                altered: "length(\"c\") > 5".into(),
                fails: None
            }
        );
        assert_eq!(
            conversion("numeric(10,3)", "numeric(10,1)", "\"c\"", None),
            Conversion::Alters {
                altered: "\"c\"::numeric <> round(\"c\"::numeric, 1)".into(),
                fails: Some("abs(round(\"c\"::numeric, 1)) >= 1e9".into()),
            }
        );
        assert_eq!(
            conversion("numeric", "smallint", "\"c\"", None),
            Conversion::Alters {
                altered: "\"c\"::numeric <> round(\"c\"::numeric, 0)".into(),
                fails: Some("round(\"c\"::numeric, 0) NOT BETWEEN -32768 AND 32767".into()),
            }
        );
        assert_eq!(
            conversion("integer", "bigint", "\"c\"", None),
            Conversion::Kept
        );
        for (from, to) in [
            ("character varying(20)[]", "character varying(3)[]"),
            ("jsonb", "json"),
            ("text", "date"),
        ] {
            assert_eq!(
                conversion(from, to, "\"c\"", None),
                Conversion::Unknown,
                "{from} -> {to}"
            );
        }
    }
}
