//! Cutting a script into statements, and placing a server error back into the script's text.
//!
//! PostgreSQL reports an error position as a 1-based *character* offset into the query string
//! it received. godwit sometimes sends a whole script and sometimes one statement of it, so
//! both cases are mapped back to a line and column of the script the user wrote.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, TokenizerError};

/// One statement of a script, cut from the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    /// 1-based position among the script's non-empty statements.
    pub index: usize,
    /// The statement from its first token to its last, without the `;` and without comments
    /// around it.
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub start: usize,
    /// 1-based line of the statement's first character.
    pub line: usize,
    /// 1-based column (in characters) of the statement's first character.
    pub column: usize,
}

/// Split `sql` at the semicolons that end statements.
///
/// The tokenizer reads dollar-quoted bodies, `E''` strings, quoted identifiers and comments as
/// single tokens, so a `;` inside any of them never splits. Statements that are only comments
/// or whitespace are dropped, as the server drops them.
pub(crate) fn split(sql: &str) -> Result<Vec<Statement<'_>>, TokenizerError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location()?;
    let lines = LineIndex::new(sql);
    let mut statements = Vec::new();
    let mut pending = Pending::default();
    for token in &tokens {
        match &token.token {
            Token::Whitespace(_) => {}
            Token::SemiColon if pending.ends_at_semicolon() => {
                if let Some((first, last)) = pending.span {
                    statements.push(lines.statement(statements.len() + 1, first, last));
                }
                pending = Pending::default();
            }
            other => pending.note(other, token.span.start, token.span.end),
        }
    }
    if let Some((first, last)) = pending.span {
        statements.push(lines.statement(statements.len() + 1, first, last));
    }
    Ok(statements)
}

/// The statement being read, and what psql's lexer (`psqlscan.l`) tracks to decide whether a
/// `;` ends it: open parentheses (`CREATE RULE ... DO INSTEAD (a; b)`), and `BEGIN ... END`
/// nesting in the body of `CREATE [OR REPLACE] {FUNCTION|PROCEDURE} ... BEGIN ATOMIC ... END`.
#[derive(Debug, Default)]
struct Pending {
    /// Start of the first and end of the last significant token.
    span: Option<(Location, Location)>,
    parens: usize,
    begins: usize,
    /// The statement's first unquoted words, lowercased; enough to recognise a routine.
    lead: Vec<String>,
}

impl Pending {
    fn ends_at_semicolon(&self) -> bool {
        self.parens == 0 && self.begins == 0
    }

    fn note(&mut self, token: &Token, start: Location, end: Location) {
        self.span = Some((self.span.map_or(start, |(first, _)| first), end));
        match token {
            Token::LParen => self.parens += 1,
            Token::RParen => self.parens = self.parens.saturating_sub(1),
            Token::Word(word) if word.quote_style.is_none() => {
                let word = word.value.to_ascii_lowercase();
                if self.parens == 0 && self.creates_routine() {
                    match word.as_str() {
                        "begin" => self.begins += 1,
                        // CASE also closes with END; it only matters inside a BEGIN.
                        "case" if self.begins > 0 => self.begins += 1,
                        "end" => self.begins = self.begins.saturating_sub(1),
                        _ => {}
                    }
                }
                if self.lead.len() < 4 {
                    self.lead.push(word);
                }
            }
            _ => {}
        }
    }

    fn creates_routine(&self) -> bool {
        let lead: Vec<&str> = self.lead.iter().map(String::as_str).collect();
        matches!(
            lead.as_slice(),
            ["create", "function" | "procedure", ..]
                | ["create", "or", "replace", "function" | "procedure", ..]
        )
    }
}

/// Byte offsets of line starts, to turn the tokenizer's line/column locations into slices.
/// Byte offsets of the tokenizer's line and column locations in a text.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The byte offset of a 1-based line and character column.
    pub(crate) fn offset(&self, location: Location) -> usize {
        let line = usize::try_from(location.line).unwrap_or(usize::MAX);
        let column = usize::try_from(location.column).unwrap_or(usize::MAX);
        let Some(&start) = line.checked_sub(1).and_then(|l| self.starts.get(l)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    /// The statement between the start of `first` and the (exclusive) end of `last`.
    fn statement(&self, index: usize, first: Location, last: Location) -> Statement<'a> {
        let start = self.offset(first);
        let end = self.offset(last).max(start);
        Statement {
            index,
            text: &self.text[start..end],
            start,
            line: usize::try_from(first.line).unwrap_or(usize::MAX),
            column: usize::try_from(first.column).unwrap_or(usize::MAX),
        }
    }
}

/// Where in the script an error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site<'a> {
    /// The failing statement, when known.
    pub statement: Option<&'a Statement<'a>>,
    /// 1-based line in the script: the error position's, else the failing statement's start.
    pub line: Option<usize>,
    /// 1-based column of the error position, when the server gave one.
    pub column: Option<usize>,
}

/// An error raised by `statement`, which was sent on its own; `position` is the server's
/// 1-based character offset into the statement's text.
pub(crate) fn site_in_statement<'a>(
    statement: &'a Statement<'a>,
    position: Option<usize>,
) -> Site<'a> {
    let (line, column) = match position {
        Some(position) => {
            let (line, column, _) =
                advance(statement.text, statement.line, statement.column, position);
            (line, Some(column))
        }
        None => (statement.line, None),
    };
    Site {
        statement: Some(statement),
        line: Some(line),
        column,
    }
}

/// An error raised while the whole `script` ran as one query string. `position` is the server's
/// 1-based character offset into `script`; `completed` is how many statements finished before
/// the failure, which names the failing statement when there is no position (a runtime error).
/// `statements` is the script's split, when the tokenizer could read it.
pub(crate) fn site_in_script<'a>(
    script: &str,
    statements: Option<&'a [Statement<'a>]>,
    completed: usize,
    position: Option<usize>,
) -> Site<'a> {
    let statements = statements.unwrap_or_default();
    match position {
        Some(position) => {
            let (line, column, offset) = advance(script, 1, 1, position);
            // The statement holding the position is the last one starting at or before it.
            let statement = statements
                .iter()
                .take_while(|s| s.start <= offset)
                .last()
                .or_else(|| statements.first());
            Site {
                statement,
                line: Some(line),
                column: Some(column),
            }
        }
        None => {
            let statement = statements.get(completed);
            Site {
                statement,
                line: statement.map(|s| s.line),
                column: None,
            }
        }
    }
}

/// Walk `position - 1` characters into `text`, which starts at `line`/`column`; returns the line,
/// column and byte offset reached. A position past the end stops at the end.
fn advance(
    text: &str,
    mut line: usize,
    mut column: usize,
    position: usize,
) -> (usize, usize, usize) {
    let mut offset = text.len();
    let mut chars = text.char_indices();
    for _ in 1..position.max(1) {
        match chars.next() {
            Some((_, '\n')) => {
                line += 1;
                column = 1;
            }
            Some(_) => column += 1,
            None => break,
        }
    }
    if let Some((i, _)) = chars.next() {
        offset = i;
    }
    (line, column, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).unwrap().into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "-- godwit:no-transaction\n\
                   CREATE TABLE t (a text DEFAULT 'x;y');\n\
                   /* a; comment */ INSERT INTO t VALUES (E'it\\'s; fine');\n\
                   CREATE FUNCTION f() RETURNS int AS $fn$\n\
                   BEGIN\n  PERFORM $body$ ; $body$;\n  RETURN 1;\nEND\n$fn$ LANGUAGE plpgsql;\n\
                   DO $$ BEGIN NULL; END $$;\n\
                   SELECT \"odd;name\" FROM t -- trailing; comment\n";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE TABLE t (a text DEFAULT 'x;y')",
                "INSERT INTO t VALUES (E'it\\'s; fine')",
                "CREATE FUNCTION f() RETURNS int AS $fn$\nBEGIN\n  PERFORM $body$ ; $body$;\n  RETURN 1;\nEND\n$fn$ LANGUAGE plpgsql",
                "DO $$ BEGIN NULL; END $$",
                "SELECT \"odd;name\" FROM t",
            ]
        );
    }

    #[test]
    fn semicolons_in_parentheses_and_atomic_bodies_do_not_split() {
        let sql = "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n\
                   CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
                   BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT x;\nEND;\n\
                   CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (3); END;\n\
                   BEGIN; SELECT 1; END;";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
                "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT x;\nEND",
                "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (3); END",
                "BEGIN",
                "SELECT 1",
                "END",
            ]
        );
    }

    #[test]
    fn other_lexical_forms_keep_their_semicolons() {
        let sql = "SELECT 1 /* a /* nested; */ still; comment */;\n\
                   SELECT a$b, 'C:\\', U&'d\\0061t;a', $q$a;b$q$, 'it''s;' FROM t;\n\
                   SELECT x ->> 'a;' FROM t WHERE y @> '{}'";
        assert_eq!(
            texts(sql),
            vec![
                "SELECT 1",
                "SELECT a$b, 'C:\\', U&'d\\0061t;a', $q$a;b$q$, 'it''s;' FROM t",
                "SELECT x ->> 'a;' FROM t WHERE y @> '{}'",
            ]
        );
    }

    #[test]
    fn empty_statements_and_comments_are_dropped() {
        assert_eq!(texts(";;\n-- only a comment\n;  \n"), Vec::<&str>::new());
        assert_eq!(texts("SELECT 1;;SELECT 2"), vec!["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn statements_know_where_they_start() {
        let sql = "SELECT 1;\n\n  -- next\n  SELECT 'é'; SELECT 3";
        let statements = split(sql).unwrap();
        let starts: Vec<_> = statements
            .iter()
            .map(|s| {
                (
                    s.index,
                    s.line,
                    s.column,
                    &sql[s.start..s.start + s.text.len()],
                )
            })
            .collect();
        assert_eq!(
            starts,
            vec![
                (1, 1, 1, "SELECT 1"),
                (2, 4, 3, "SELECT 'é'"),
                (3, 4, 15, "SELECT 3"),
            ]
        );
    }

    #[test]
    fn positions_in_a_statement_map_to_script_lines() {
        let sql = "SELECT 1;\n\nSELECT 'é',\n  nope(;";
        let statements = split(sql).unwrap();
        let second = &statements[1];
        // Character 15 of the second statement is `n` of `nope` (the `é` counts once).
        let site = site_in_statement(second, Some(15));
        assert_eq!((site.line, site.column), (Some(4), Some(3)));
        let site = site_in_statement(second, None);
        assert_eq!((site.line, site.column), (Some(3), None));
    }

    #[test]
    fn positions_in_a_script_find_their_statement() {
        let sql = "SELECT 1;\nSELECT 2;\nSELEC 3;";
        let statements = split(sql).unwrap();
        let site = site_in_script(sql, Some(&statements), 0, Some(21));
        assert_eq!((site.line, site.column), (Some(3), Some(1)));
        assert_eq!(site.statement.map(|s| s.index), Some(3));

        // A runtime error has no position: the statements that completed name the failing one.
        let site = site_in_script(sql, Some(&statements), 1, None);
        assert_eq!((site.line, site.column), (Some(2), None));
        assert_eq!(site.statement.map(|s| s.text), Some("SELECT 2"));

        // Without a split there is still a line for a positioned error, and nothing otherwise.
        let site = site_in_script(sql, None, 0, Some(21));
        assert_eq!(
            (site.line, site.column, site.statement),
            (Some(3), Some(1), None)
        );
        let site = site_in_script(sql, None, 1, None);
        assert_eq!((site.line, site.column, site.statement), (None, None, None));
    }

    #[test]
    fn positions_past_the_end_stop_at_the_end() {
        let sql = "SELECT (";
        let site = site_in_script(sql, None, 0, Some(9));
        assert_eq!((site.line, site.column), (Some(1), Some(9)));
        assert_eq!(advance(sql, 1, 1, 100), (1, 9, sql.len()));
    }
}
