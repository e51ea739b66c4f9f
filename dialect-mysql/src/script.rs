//! Cutting a script into the statements MySQL runs one at a time, with MySQL's lexical rules
//! and the client's `DELIMITER` convention.
//!
//! The server takes one statement per query here (godwit does not turn on multi-statement
//! queries, which would hide which statement failed), so the script is cut on the client, as
//! the `mysql` client does: at the current delimiter (`;` until a `DELIMITER` line changes it)
//! outside quotes, backticks and comments. A `DELIMITER` line is the client's, never sent to
//! the server, which does not know it: it is how MySQL users write trigger and procedure
//! bodies whose inner statements end in `;`.

/// One statement of a script: where it starts and its text, without its delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// 1-based position among the script's statements.
    pub(crate) index: usize,
    /// 1-based line of the script where its first token is.
    pub(crate) line: usize,
    /// The text as written, from its first token to just before its delimiter.
    pub(crate) text: String,
}

/// A script's text could not be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    /// 1-based line of the problem.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) message: String,
}

/// The statements of `sql`, in order; comments and blank text between them are dropped.
pub(crate) fn split(sql: &str) -> Result<Vec<Statement>, SplitError> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut delimiter = ";".to_string();
    let mut line = 1;
    let mut i = 0;
    // The first token of the statement being read, and its line.
    let mut start: Option<(usize, usize)> = None;
    // Its first words, and how deep it is in BEGIN ... END and CASE ... END blocks.
    let mut words: Vec<String> = Vec::new();
    let mut depth = 0usize;
    // The CASE just read closes a block (`END CASE`) rather than opening one.
    let mut closing_case = false;
    while i < bytes.len() {
        let c = bytes[i];
        if start.is_none() {
            if c == b'\n' {
                line += 1;
                i += 1;
                continue;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if let Some(rest) = delimiter_line(&sql[i..]) {
                let (new, consumed) = rest;
                if new.is_empty() {
                    return Err(SplitError {
                        line,
                        message: "DELIMITER names no delimiter".into(),
                    });
                }
                delimiter = new.to_string();
                i += consumed;
                continue;
            }
        }
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'\'' | b'"' | b'`' => {
                start.get_or_insert((i, line));
                let opened = line;
                i += 1;
                loop {
                    let Some(&d) = bytes.get(i) else {
                        return Err(SplitError {
                            line: opened,
                            message: format!("unclosed {}", c as char),
                        });
                    };
                    if d == b'\n' {
                        line += 1;
                    }
                    if d == b'\\' && c != b'`' {
                        if bytes.get(i + 1) == Some(&b'\n') {
                            line += 1;
                        }
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if d == c {
                        if bytes.get(i) == Some(&c) {
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
            }
            b'#' => i = skip_line(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-')
                && bytes.get(i + 2).is_none_or(u8::is_ascii_whitespace) =>
            {
                i = skip_line(bytes, i);
            }
            // `/*! ... */` is MySQL's executable comment: part of the statement.
            b'/' if bytes.get(i + 1) == Some(&b'*') && bytes.get(i + 2) != Some(&b'!') => {
                let opened = line;
                let Some(end) = sql[i + 2..].find("*/") else {
                    return Err(SplitError {
                        line: opened,
                        message: "unclosed comment".into(),
                    });
                };
                line += sql[i..i + 2 + end].matches('\n').count();
                i += end + 4;
            }
            _ if depth == 0 && sql[i..].starts_with(delimiter.as_str()) => {
                if let Some((first, first_line)) = start.take() {
                    push(&mut statements, first_line, &sql[first..i]);
                }
                words.clear();
                i += delimiter.len();
            }
            _ if c.is_ascii_alphabetic() && (i == 0 || !is_word_byte(bytes[i - 1])) => {
                start.get_or_insert((i, line));
                let word = read_word(sql, i);
                i += word.len();
                let word = word.to_ascii_uppercase();
                // Without a DELIMITER line, a body's `;` ends nothing while a BEGIN or a CASE
                // is open, as the `mysql` client reads it.
                if delimiter == ";" && has_body(&words) {
                    match word.as_str() {
                        "CASE" if closing_case => closing_case = false,
                        "BEGIN" | "CASE" => depth += 1,
                        "END" => {
                            let next = next_word(sql, i).to_ascii_uppercase();
                            if !matches!(next.as_str(), "IF" | "LOOP" | "WHILE" | "REPEAT") {
                                closing_case = next == "CASE";
                                depth = depth.saturating_sub(1);
                            }
                        }
                        _ => {}
                    }
                }
                if words.len() < 8 {
                    words.push(word);
                }
            }
            _ => {
                start.get_or_insert((i, line));
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    if let Some((first, first_line)) = start {
        push(&mut statements, first_line, &sql[first..]);
    }
    Ok(statements)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The word (letters, digits, `_`, `$`) starting at `i`.
fn read_word(sql: &str, i: usize) -> &str {
    let end = sql[i..]
        .bytes()
        .position(|b| !is_word_byte(b))
        .map_or(sql.len(), |n| i + n);
    &sql[i..end]
}

/// The next word after `i`, past blanks.
fn next_word(sql: &str, i: usize) -> &str {
    let rest = sql[i..].trim_start();
    read_word(rest, 0)
}

/// Whether a statement that starts with `words` may hold a compound body: `CREATE` of a
/// trigger, routine or event.
fn has_body(words: &[String]) -> bool {
    words.first().is_some_and(|w| w == "CREATE")
        && words
            .iter()
            .any(|w| matches!(w.as_str(), "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT"))
}

fn push(statements: &mut Vec<Statement>, line: usize, text: &str) {
    let text = text.trim_end();
    if !text.is_empty() {
        statements.push(Statement {
            index: statements.len() + 1,
            line,
            text: text.to_string(),
        });
    }
}

/// The index just past the end of the line holding `i` (its newline left for the caller).
fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

/// When `rest` starts with a `DELIMITER` command, the new delimiter and the bytes the command
/// takes (to its line's end, the newline left).
fn delimiter_line(rest: &str) -> Option<(&str, usize)> {
    let keyword = "delimiter";
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let after = &rest[keyword.len()..];
    if !after.starts_with([' ', '\t']) {
        return None;
    }
    let end = after.find('\n').unwrap_or(after.len());
    let new = after[..end].trim();
    Some((new, keyword.len() + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(usize, String)> {
        split(sql)
            .unwrap()
            .into_iter()
            .map(|s| (s.line, s.text))
            .collect()
    }

    #[test]
    fn splits_at_semicolons_outside_quotes_and_comments() {
        let sql = "CREATE TABLE a (id INT);\n-- a comment; still\nINSERT INTO a VALUES (1); # x;y\n\
                   INSERT INTO `b;c` VALUES ('it''s; \\' ;', \"d;e\");\n/* x; */ SELECT 1";
        assert_eq!(
            texts(sql),
            [
                (1, "CREATE TABLE a (id INT)".to_string()),
                (3, "INSERT INTO a VALUES (1)".to_string()),
                (
                    4,
                    "INSERT INTO `b;c` VALUES ('it''s; \\' ;', \"d;e\")".to_string()
                ),
                (5, "SELECT 1".to_string()),
            ]
        );
    }

    #[test]
    fn delimiter_lines_change_the_delimiter_and_are_not_sent() {
        let sql = "CREATE TABLE t (id INT);\nDELIMITER //\nCREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  INSERT INTO u VALUES (1);\n  INSERT INTO u VALUES (2);\nEND//\ndelimiter ;\nSELECT 1;\n";
        let got = texts(sql);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].0, 3);
        assert!(got[1].1.starts_with("CREATE TRIGGER"), "{got:?}");
        assert!(got[1].1.ends_with("END"), "{got:?}");
        assert_eq!(got[2], (9, "SELECT 1".to_string()));
    }

    #[test]
    fn bodies_without_a_delimiter_line_stay_whole() {
        let sql = "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN\n\
                   IF NEW.a > 0 THEN INSERT INTO u VALUES (CASE WHEN 1 THEN 2 END); END IF;\n\
                   CASE NEW.b WHEN 1 THEN SET @x = 1; END CASE;\n\
                   END;\nCREATE TABLE v (a INT);\nSELECT 'begin';";
        let got = texts(sql);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].1.ends_with("END CASE;\nEND"), "{got:?}");
        assert_eq!(got[1], (5, "CREATE TABLE v (a INT)".to_string()));
    }

    #[test]
    fn executable_comments_stay_and_double_dash_needs_a_space() {
        assert_eq!(
            texts("/*!40101 SET NAMES utf8 */;\nSELECT 1--1;"),
            [
                (1, "/*!40101 SET NAMES utf8 */".to_string()),
                (2, "SELECT 1--1".to_string())
            ]
        );
    }

    #[test]
    fn unclosed_quotes_are_errors_with_their_line() {
        let error = split("SELECT 1;\nSELECT 'x;\n").unwrap_err();
        assert_eq!(error.line, 2);
    }
}
