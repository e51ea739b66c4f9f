//! Bound values written into a statement as literals.
//!
//! A statement with parameters costs two round trips through sqlx when it is not prepared
//! once and kept (parse and describe, then bind and execute), and keeping it is unsafe for
//! statements a migration can invalidate. godwit's own writes (a history row, a lock's
//! bookkeeping) carry only integers, text and `NULL`, which have exact literal spellings; with
//! the values inlined, the statement travels as one simple-query message, and the history row
//! can share that message with the `COMMIT` after it.

use godwit_core::Value;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::script::LineIndex;

/// `sql` with each placeholder `$n` replaced by `params[n - 1]` as a literal, or `None` when
/// that cannot be done exactly: the tokenizer cannot read `sql`, a placeholder has no value,
/// or a text holds a NUL (which no PostgreSQL text can; the server's own error is better).
///
/// Placeholders are found by the tokenizer, so a `$1` inside a string, a quoted identifier,
/// a dollar-quoted body or a comment is left alone.
pub(crate) fn inline(sql: &str, params: &[Value]) -> Option<String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let lines = LineIndex::new(sql);
    let mut out = String::with_capacity(sql.len() + 64);
    let mut copied = 0;
    for token in tokens {
        let Token::Placeholder(placeholder) = &token.token else {
            continue;
        };
        let index: usize = placeholder.strip_prefix('$')?.parse().ok()?;
        let value = params.get(index.checked_sub(1)?)?;
        let start = lines.offset(token.span.start);
        out.push_str(&sql[copied..start]);
        out.push_str(&literal(value)?);
        copied = lines.offset(token.span.end);
    }
    out.push_str(&sql[copied..]);
    Some(out)
}

/// `value` as a PostgreSQL literal. Text is an escape string (`E'...'`), whose meaning does
/// not depend on `standard_conforming_strings`; a negative integer is parenthesised, so that
/// a cast after it (`$1::bigint`) or an operator before it (`x - $1`) reads as it did.
fn literal(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("NULL".into()),
        Value::Int(n) if *n < 0 => Some(format!("({n})")),
        Value::Int(n) => Some(n.to_string()),
        Value::Text(text) if text.contains('\0') => None,
        Value::Text(text) => {
            let mut out = String::with_capacity(text.len() + 3);
            out.push_str("E'");
            for c in text.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push('\'');
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_literals_and_quoted_text_is_left_alone() {
        let sql = "INSERT INTO \"t$1\" (a, b, c, d) VALUES ($1, $2::bigint, $3, $4) -- $2\n\
                   ON CONFLICT (a) DO UPDATE SET b = '$1' || $$ $2 $$";
        let params = [
            Value::Text("it's a \\ back".into()),
            Value::Int(-7),
            Value::Null,
            Value::Int(12),
        ];
        assert_eq!(
            inline(sql, &params).as_deref(),
            Some(
                "INSERT INTO \"t$1\" (a, b, c, d) VALUES (E'it''s a \\\\ back', (-7)::bigint, NULL, 12) -- $2\n\
                 ON CONFLICT (a) DO UPDATE SET b = '$1' || $$ $2 $$"
            )
        );
    }

    #[test]
    fn what_cannot_be_inlined_exactly_is_refused() {
        assert_eq!(inline("SELECT $2", &[Value::Int(1)]), None);
        assert_eq!(inline("SELECT $0", &[Value::Int(1)]), None);
        assert_eq!(inline("SELECT $1", &[Value::Text("a\0b".into())]), None);
        assert_eq!(inline("SELECT 'open", &[]), None);
    }
}
