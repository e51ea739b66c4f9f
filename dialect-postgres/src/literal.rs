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

/// A statement's text and where its placeholders are. Finding them takes the tokenizer, the
/// costly part; godwit sends the same statement (the history row) once per migration, so a
/// store keeps the last template and fills it again.
///
/// Placeholders are found by the tokenizer, so a `$1` inside a string, a quoted identifier,
/// a dollar-quoted body or a comment is left alone.
#[derive(Debug)]
pub(crate) struct Template {
    sql: String,
    /// Byte ranges of the placeholders in `sql`, in order, with their 0-based value index.
    slots: Vec<(std::ops::Range<usize>, usize)>,
}

impl Template {
    /// The template of `sql`, or `None` when the tokenizer cannot read it or a placeholder is
    /// not `$n` with `n` from 1.
    pub(crate) fn parse(sql: &str) -> Option<Template> {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .ok()?;
        let lines = LineIndex::new(sql);
        let mut slots = Vec::new();
        for token in tokens {
            let Token::Placeholder(placeholder) = &token.token else {
                continue;
            };
            let index: usize = placeholder.strip_prefix('$')?.parse().ok()?;
            let range = lines.offset(token.span.start)..lines.offset(token.span.end);
            slots.push((range, index.checked_sub(1)?));
        }
        Some(Template {
            sql: sql.to_string(),
            slots,
        })
    }

    /// Whether this is the template of `sql`.
    pub(crate) fn is_of(&self, sql: &str) -> bool {
        self.sql == sql
    }

    /// The statement with each placeholder replaced by its value as a literal, or `None` when
    /// that cannot be done exactly: a placeholder has no value, or a text holds a NUL (which
    /// no PostgreSQL text can; the server's own error is better).
    pub(crate) fn fill(&self, params: &[Value]) -> Option<String> {
        let mut out = String::with_capacity(self.sql.len() + 64);
        let mut copied = 0;
        for (range, index) in &self.slots {
            out.push_str(&self.sql[copied..range.start]);
            out.push_str(&literal(params.get(*index)?)?);
            copied = range.end;
        }
        out.push_str(&self.sql[copied..]);
        Some(out)
    }
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

    fn inline(sql: &str, params: &[Value]) -> Option<String> {
        Template::parse(sql)?.fill(params)
    }

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
