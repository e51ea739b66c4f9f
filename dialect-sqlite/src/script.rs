//! Running a migration script one statement at a time, located by SQLite's own parser.

use godwit_core::{StatementError, Step};
use rusqlite::Connection;

use crate::error::Failure;
use crate::split::{Next, Terminated};

/// Run every statement of `script` in order, in the current transaction if one is open,
/// telling `on_step` of each as it starts. How many there are is not known before the last:
/// counting them would mean compiling each before the one before it ran.
///
/// Each statement is compiled only after the one before it ran, because it may refer to a
/// table that statement created.
pub(crate) fn execute(
    conn: &Connection,
    script: &str,
    mut on_step: Option<&mut (dyn FnMut(Step) + Send)>,
) -> Result<(), StatementError> {
    let terminated = Terminated::new(script);
    let script = terminated.sql();
    let mut start = 0;
    let mut index = 0;
    // The line of `counted`, kept as the statements go, so that finding each statement's line
    // reads the script once in all.
    let (mut line, mut counted) = (1, 0);
    while start < script.len() {
        let rest = &script[start..];
        match terminated.next_statement(conn, start) {
            Next::Nothing { len: 0 } => break,
            Next::Nothing { len } => start += len,
            Next::Invalid(failure) => {
                index += 1;
                return Err(locate(script, start, None, index, failure));
            }
            Next::Statement { len } => {
                index += 1;
                if let Some(on_step) = on_step.as_mut() {
                    let text_start = start + leading_trivia(&rest[..len]);
                    line += script[counted..text_start].matches('\n').count();
                    counted = text_start;
                    on_step(Step::statement(
                        index,
                        None,
                        line,
                        &script[text_start..start + len],
                    ));
                }
                if let Err(error) = run(conn, &rest[..len]) {
                    return Err(locate(script, start, Some(len), index, error.into()));
                }
                start += len;
            }
        }
    }
    Ok(())
}

/// Prepare and step `sql` to completion, so a statement that returns rows (`PRAGMA
/// journal_mode = WAL`, a `SELECT` used for its side effects) runs fully too.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

/// Place `failure` of the statement at `start` in `script`. `len` is the statement's length
/// when SQLite could delimit it; a statement it cannot compile has no known end, so its text is
/// cut after the line of the error instead.
fn locate(
    script: &str,
    start: usize,
    len: Option<usize>,
    index: usize,
    failure: Failure,
) -> StatementError {
    let rest = &script[start..];
    let text_start = start + leading_trivia(rest);
    let error_at = failure
        .offset
        .map(|offset| start + offset)
        .filter(|&at| at <= script.len() && script.is_char_boundary(at));
    let (line, column) = match error_at {
        Some(at) => {
            let (line, column) = line_and_column(script, at);
            (line, Some(column))
        }
        None => (line_and_column(script, text_start).0, None),
    };
    let text_end = match len {
        Some(len) => start + len,
        None => {
            let from = error_at.unwrap_or(text_start).max(text_start);
            script[from..].find('\n').map_or(script.len(), |i| from + i)
        }
    };
    let statement = script[text_start..text_end.max(text_start)].trim_end();
    StatementError {
        statement_index: Some(index),
        line: Some(line),
        column,
        statement: Some(statement.to_string()),
        message: failure.message,
        code: failure.code,
        constraint: None,
    }
}

/// Bytes of whitespace, comments and empty statements before the first token of `text`, so a
/// statement is located at its first keyword rather than at the comment above it.
fn leading_trivia(text: &str) -> usize {
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        rest = if let Some(comment) = trimmed.strip_prefix("--") {
            comment.find('\n').map_or("", |i| &comment[i + 1..])
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            comment.find("*/").map_or("", |i| &comment[i + 2..])
        } else {
            return text.len() - trimmed.len();
        };
    }
}

/// 1-based line and column (in characters) of byte `at` in `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivia_covers_comments_blanks_and_empty_statements() {
        assert_eq!(leading_trivia("SELECT 1"), 0);
        assert_eq!(leading_trivia("\n  -- a\n /* b\n */ ;\nSELECT 1"), 20);
        assert_eq!(leading_trivia("-- only a comment"), 17);
    }

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = "ab\nçd\nef";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 3), (2, 1));
        assert_eq!(line_and_column(text, 5), (2, 2));
        assert_eq!(line_and_column(text, text.len()), (3, 3));
    }
}
