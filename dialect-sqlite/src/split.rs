//! Where the next statement of a script ends, as SQLite's own parser sees it.
//!
//! rusqlite's safe API prepares a whole string or reports "multiple statements", and its
//! `Batch` does not say where each statement ended, so a script's statements could not be
//! numbered or located. This module asks `sqlite3_prepare_v2` for its tail pointer and nothing
//! else: the statement it compiles is finalized at once, and the caller prepares and runs the
//! statement's text through safe rusqlite. It is the crate's only `unsafe` code.

use std::ffi::{CStr, c_char, c_int};
use std::ptr;

use rusqlite::{Connection, ffi};

use crate::error::Failure;

/// What the start of a text holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// One statement, in the first `len` bytes (its `;` and any comment before it included).
    Statement {
        /// Its length in bytes.
        len: usize,
    },
    /// Only whitespace, comments or empty statements in the first `len` bytes.
    Nothing {
        /// How many bytes SQLite consumed; zero when the text holds nothing more.
        len: usize,
    },
    /// SQLite cannot compile the next statement; `offset` in the failure is relative to the
    /// start of the text.
    Invalid(Failure),
}

/// Find where the first statement of `sql` ends. The statement is compiled against `conn`'s
/// current schema, so a statement that refers to a table created by an earlier, not yet
/// executed statement of the same script is reported as invalid: callers execute each
/// statement before looking for the next.
pub(crate) fn next_statement(conn: &Connection, sql: &str) -> Next {
    if sql.is_empty() {
        return Next::Nothing { len: 0 };
    }
    let Ok(len) = c_int::try_from(sql.len()) else {
        return Next::Invalid(Failure::from_raw(
            ffi::SQLITE_TOOBIG,
            "the script is larger than SQLite accepts in one string; split it into several migrations"
                .into(),
            -1,
        ));
    };
    let base = sql.as_ptr().cast::<c_char>();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    let mut tail: *const c_char = ptr::null();

    // SAFETY: `handle` returns the connection's live `sqlite3*`; `conn` is borrowed for the
    // whole function, so the handle is not closed while we use it, and we neither close it nor
    // change its configuration.
    let db = unsafe { conn.handle() };
    // SAFETY: `base` and `len` describe `sql`, a live, initialised buffer of exactly `len`
    // bytes (no NUL terminator is needed when the length is given); `stmt` and `tail` are valid
    // out-pointers to locals.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, base, len, &mut stmt, &mut tail) };

    if rc != ffi::SQLITE_OK {
        // SAFETY: on failure `stmt` is NULL and the connection's error state describes this
        // call until the next API call on `db`; nothing runs in between. `sqlite3_errmsg`
        // returns a NUL-terminated string owned by SQLite that stays valid until then, and it
        // is copied before returning.
        let (extended, message, offset) = unsafe {
            let message = CStr::from_ptr(ffi::sqlite3_errmsg(db))
                .to_string_lossy()
                .into_owned();
            (
                ffi::sqlite3_extended_errcode(db),
                message,
                ffi::sqlite3_error_offset(db),
            )
        };
        return Next::Invalid(Failure::from_raw(extended, message, offset));
    }

    // SQLite guarantees `tail` points into `sql` (at the byte after the statement, or at its
    // end), so the difference of the addresses is the statement's length.
    let consumed = if tail.is_null() {
        sql.len()
    } else {
        (tail as usize).saturating_sub(base as usize).min(sql.len())
    };

    if stmt.is_null() {
        return Next::Nothing { len: consumed };
    }
    // SAFETY: `stmt` was just returned by `sqlite3_prepare_v2`, is owned by us alone and is not
    // used after this call.
    unsafe {
        ffi::sqlite3_finalize(stmt);
    }
    Next::Statement { len: consumed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(sql: &str) -> Vec<Next> {
        let conn = Connection::open_in_memory().unwrap();
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let next = next_statement(&conn, &sql[start..]);
            match next {
                Next::Statement { len } => {
                    conn.execute_batch(&sql[start..start + len]).unwrap();
                    start += len;
                    out.push(next);
                }
                Next::Nothing { len: 0 } | Next::Invalid(_) => {
                    out.push(next);
                    return out;
                }
                Next::Nothing { len } => {
                    start += len;
                    out.push(next);
                }
            }
        }
    }

    #[test]
    fn splits_after_each_semicolon_that_ends_a_statement() {
        let sql = "CREATE TABLE t (x TEXT);\nINSERT INTO t VALUES ('a;b');  -- tail\n";
        assert_eq!(
            lengths(sql),
            [
                Next::Statement { len: 24 },
                Next::Statement { len: 30 },
                Next::Nothing { len: 10 },
                Next::Nothing { len: 0 },
            ]
        );
    }

    #[test]
    fn reports_syntax_errors_with_their_offset() {
        let conn = Connection::open_in_memory().unwrap();
        let Next::Invalid(failure) = next_statement(&conn, "SELECT 1 +\n  FROM;\nSELECT 2;") else {
            panic!("the first statement is invalid");
        };
        assert_eq!(failure.code.as_deref(), Some("SQLITE_ERROR"));
        assert_eq!(failure.offset, Some(13), "{failure:?}");
        assert!(failure.message.contains("syntax error"), "{failure:?}");
    }

    #[test]
    fn skips_empty_statements_and_comments() {
        assert_eq!(
            lengths("/* c */ ;; -- d\nSELECT 1"),
            [Next::Statement { len: 24 }, Next::Nothing { len: 0 }]
        );
    }
}
