//! Where the next statement of a script ends, as SQLite's own parser sees it.
//!
//! rusqlite's safe API prepares a whole string or reports "multiple statements", and its
//! `Batch` does not say where each statement ended, so a script's statements could not be
//! numbered or located. This module asks `sqlite3_prepare_v2` for its tail pointer and nothing
//! else: the statement it compiles is finalized at once, and the caller prepares and runs the
//! statement's text through safe rusqlite. It is the crate's only `unsafe` code.

use std::ffi::{CStr, c_char};
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

/// A script with a NUL byte after it, which SQLite reads in place.
///
/// Handed a length whose last byte is not NUL, `sqlite3_prepare_v2` copies all of it before
/// it parses the first statement. Asking for the next statement of the rest of a script, once
/// per statement, then copied the rest every time: quadratic in the script's length (a 50 MB
/// script of 120,000 statements copied about 3 TB). Copied once here with its terminator, the
/// text is read where it lies and only up to the end of the statement SQLite compiles.
pub(crate) struct Terminated {
    /// The script and one NUL byte.
    text: String,
}

impl Terminated {
    pub(crate) fn new(sql: &str) -> Self {
        let mut text = String::with_capacity(sql.len() + 1);
        text.push_str(sql);
        text.push('\0');
        Terminated { text }
    }

    /// The script, without the terminator.
    pub(crate) fn sql(&self) -> &str {
        &self.text[..self.text.len() - 1]
    }

    /// Find where the first statement of the script's text from byte `start` ends. The
    /// statement is compiled against `conn`'s current schema, so a statement that refers to a
    /// table created by an earlier, not yet executed statement of the same script is reported
    /// as invalid: callers execute each statement before looking for the next.
    ///
    /// A NUL byte inside the script ends it for SQLite, as it always did: nothing after it is
    /// found.
    pub(crate) fn next_statement(&self, conn: &Connection, start: usize) -> Next {
        let rest = &self.text[start..];
        if rest.len() <= 1 {
            return Next::Nothing { len: 0 };
        }
        let base = rest.as_ptr().cast::<c_char>();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();

        // SAFETY: `handle` returns the connection's live `sqlite3*`; `conn` is borrowed for the
        // whole function, so the handle is not closed while we use it, and we neither close it nor
        // change its configuration.
        let db = unsafe { conn.handle() };
        // SAFETY: `base` points into `self.text`, a live, initialised buffer that ends with a NUL
        // byte, so SQLite, told to read up to the first NUL (a negative length), stays inside it;
        // `stmt` and `tail` are valid out-pointers to locals.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, base, -1, &mut stmt, &mut tail) };

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

        // SQLite guarantees `tail` points into the text (at the byte after the statement, or at
        // the terminator), so the difference of the addresses is the statement's length.
        let end = rest.len() - 1;
        let consumed = if tail.is_null() {
            end
        } else {
            (tail as usize).saturating_sub(base as usize).min(end)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(sql: &str) -> Vec<Next> {
        let conn = Connection::open_in_memory().unwrap();
        let script = Terminated::new(sql);
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let next = script.next_statement(&conn, start);
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
        let script = Terminated::new("SELECT 1 +\n  FROM;\nSELECT 2;");
        let Next::Invalid(failure) = script.next_statement(&conn, 0) else {
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
