//! Screening a schema file before it runs: which statements may run on a scratch database.
//!
//! A declarative schema file is run on a scratch database to learn the desired schema
//! ([`crate::declarative`]). Its SQL could as well act on everything the connection reaches:
//! attach the real SQLite file, drop another PostgreSQL database, read files on the server. So
//! before anything runs, the dialect cuts the file into statements with its own lexer and
//! classes each one ([`crate::Dialect::screen_schema`]):
//!
//! - [`StatementClass::Schema`]: it creates or changes objects of the scratch database and
//!   nothing else; it runs on any scratch database.
//! - [`StatementClass::RunsCode`]: it runs code or a query as it is read (PostgreSQL's `DO`,
//!   `CREATE TABLE ... AS`), which no screening can follow; it runs only on a sandboxed scratch
//!   database ([`crate::Store::open_sandbox`]), and is refused where there is none.
//! - [`StatementClass::Alone`]: it only creates or changes objects, but the engine refuses
//!   to run it in a transaction block (PostgreSQL's `CREATE INDEX CONCURRENTLY`); it runs on
//!   its own, after the transaction that runs the rest has committed.
//! - [`StatementClass::Refused`]: it is never part of a schema (database, role and file
//!   commands, transaction control, data changes), and the file is refused naming it.
//!
//! This module holds what dialects share for that: the [`SchemaStatement`] they return, and
//! [`Tokens`], a statement read as words with their nesting depth so that a dialect can ask
//! "what are the leading keywords" or "is there an `AS` outside parentheses" without parsing.

use serde::{Deserialize, Serialize};
use sqlparser::dialect::Dialect as Lexer;
use sqlparser::tokenizer::{Token, Tokenizer};

/// One statement of a schema file, cut by the dialect's lexer, and what may be done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchemaStatement {
    /// The 1-based line of the file the statement starts on.
    pub line: usize,
    /// Its text, from its first token to its end, without the `;` that ends it.
    pub sql: String,
    /// Where it may run.
    pub class: StatementClass,
}

impl SchemaStatement {
    /// A statement starting on `line` of the file.
    pub fn new(line: usize, sql: impl Into<String>, class: StatementClass) -> Self {
        SchemaStatement {
            line,
            sql: sql.into(),
            class,
        }
    }
}

/// Where a statement of a schema file may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StatementClass {
    /// It only creates or changes objects of the database it runs in.
    Schema,
    /// It only creates or changes objects of the database it runs in, but cannot run inside
    /// a transaction block: it runs on its own once the rest has committed.
    Alone,
    /// It runs code or a query as it is read, so it runs only where that code can reach
    /// nothing but the scratch database.
    RunsCode {
        /// What runs, as a sentence fragment (`a DO block runs its body`).
        reason: String,
    },
    /// It never belongs in a schema file.
    Refused {
        /// Why, as a sentence fragment (`DROP DATABASE acts on another database`).
        reason: String,
    },
}

impl StatementClass {
    /// [`StatementClass::RunsCode`] with `reason`.
    pub fn runs_code(reason: impl Into<String>) -> Self {
        StatementClass::RunsCode {
            reason: reason.into(),
        }
    }

    /// [`StatementClass::Refused`] with `reason`.
    pub fn refused(reason: impl Into<String>) -> Self {
        StatementClass::Refused {
            reason: reason.into(),
        }
    }
}

/// A schema file that cannot be cut into statements (an unterminated string or comment).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("line {line}: cannot read the SQL: {message}")]
#[non_exhaustive]
pub struct ScreenError {
    /// The 1-based line where reading failed.
    pub line: usize,
    /// The lexer's message.
    pub message: String,
}

impl ScreenError {
    /// A failure to read the file at `line`.
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        ScreenError {
            line,
            message: message.into(),
        }
    }
}

/// The statements of `sql` as godwit's generic splitter cuts them (at top-level `;`, keeping
/// parentheses, trigger bodies, strings, dollar quotes and comments whole), each with the
/// 1-based line it starts on. Dialects whose lexer the generic one reads alike use it; others
/// cut with their own.
pub fn split(sql: &str) -> Result<Vec<(usize, &str)>, ScreenError> {
    crate::declarative::hints::statements(sql).ok_or_else(|| {
        let error = Tokenizer::new(&sqlparser::dialect::GenericDialect {}, sql)
            .tokenize_with_location()
            .err();
        ScreenError::new(
            error.as_ref().map_or(1, |e| {
                usize::try_from(e.location.line).unwrap_or(usize::MAX)
            }),
            error.map_or_else(|| "cannot cut it into statements".into(), |e| e.message),
        )
    })
}

/// One token of a statement outside comments and whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// An unquoted word (keyword or name) in upper case; `None` for anything else.
    pub keyword: Option<String>,
    /// A word, quoted or not, without its quotes and in upper case; `None` for anything else.
    pub name: Option<String>,
    /// The token as written (a quoted name with its quotes, a string with its quotes).
    pub text: String,
    /// How many parentheses enclose it.
    pub depth: usize,
}

/// A statement read as [`Word`]s, for a dialect's screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    words: Vec<Word>,
}

impl Tokens {
    /// Read `sql` (one statement) with `lexer`, the dialect's own sqlparser lexer.
    pub fn read(sql: &str, lexer: &dyn Lexer) -> Result<Tokens, ScreenError> {
        let tokens = Tokenizer::new(lexer, sql)
            .tokenize_with_location()
            .map_err(|error| {
                ScreenError::new(
                    usize::try_from(error.location.line).unwrap_or(usize::MAX),
                    error.message,
                )
            })?;
        let mut depth = 0usize;
        let mut words = Vec::new();
        for token in tokens {
            match token.token {
                Token::Whitespace(_) | Token::EOF => {}
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    words.push(Word {
                        keyword: None,
                        name: None,
                        text: ")".into(),
                        depth,
                    });
                }
                Token::LParen => {
                    words.push(Word {
                        keyword: None,
                        name: None,
                        text: "(".into(),
                        depth,
                    });
                    depth += 1;
                }
                Token::Word(word) => words.push(Word {
                    keyword: word
                        .quote_style
                        .is_none()
                        .then(|| word.value.to_ascii_uppercase()),
                    name: Some(word.value.to_ascii_uppercase()),
                    text: Token::Word(word).to_string(),
                    depth,
                }),
                other => words.push(Word {
                    keyword: None,
                    name: None,
                    text: other.to_string(),
                    depth,
                }),
            }
        }
        Ok(Tokens { words })
    }

    /// Every word, in order.
    pub fn words(&self) -> &[Word] {
        &self.words
    }

    /// The unquoted words the statement starts with, up to the first other token, in upper
    /// case: `["CREATE", "OR", "REPLACE", "FUNCTION", "F"]` for `CREATE OR REPLACE FUNCTION f()`.
    pub fn leading(&self) -> Vec<&str> {
        self.words
            .iter()
            .map_while(|word| word.keyword.as_deref())
            .collect()
    }

    /// Whether the statement starts with `keywords` (upper case), in order.
    pub fn starts_with(&self, keywords: &[&str]) -> bool {
        keywords.len() <= self.words.len()
            && self
                .words
                .iter()
                .zip(keywords)
                .all(|(word, wanted)| word.keyword.as_deref() == Some(*wanted))
    }

    /// The index of the first unquoted `keyword` (upper case) outside parentheses.
    pub fn top_level(&self, keyword: &str) -> Option<usize> {
        self.words
            .iter()
            .position(|word| word.depth == 0 && word.keyword.as_deref() == Some(keyword))
    }

    /// Whether the statement ends with `keywords` (upper case), in order.
    pub fn ends_with(&self, keywords: &[&str]) -> bool {
        let words: Vec<&Word> = self.words.iter().filter(|word| word.text != ";").collect();
        keywords.len() <= words.len()
            && words[words.len() - keywords.len()..]
                .iter()
                .zip(keywords)
                .all(|(word, wanted)| word.keyword.as_deref() == Some(*wanted))
    }

    /// Whether a function `name` (upper case; written quoted or not) is called anywhere: the
    /// word followed by `(`.
    pub fn calls(&self, name: &str) -> bool {
        self.words
            .windows(2)
            .any(|pair| pair[0].name.as_deref() == Some(name) && pair[1].text == "(")
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::PostgreSqlDialect;

    use super::*;

    fn read(sql: &str) -> Tokens {
        Tokens::read(sql, &PostgreSqlDialect {}).unwrap()
    }

    #[test]
    fn words_know_their_depth_and_case() {
        let tokens = read("create /* c */ table \"T\" (a int) AS select 1");
        assert_eq!(tokens.leading(), ["CREATE", "TABLE"]);
        assert!(tokens.starts_with(&["CREATE", "TABLE"]));
        assert_eq!(tokens.top_level("AS"), Some(7));
        assert_eq!(tokens.top_level("INT"), None);
        assert!(
            read("CREATE MATERIALIZED VIEW v AS SELECT 1 WITH NO DATA")
                .ends_with(&["WITH", "NO", "DATA"])
        );
    }

    #[test]
    fn calls_are_words_followed_by_a_parenthesis() {
        assert!(read("SELECT load_extension ('x')").calls("LOAD_EXTENSION"));
        assert!(!read("SELECT 'load_extension('").calls("LOAD_EXTENSION"));
        assert!(read("SELECT \"load_extension\"(1)").calls("LOAD_EXTENSION"));
    }

    #[test]
    fn split_names_the_line_it_cannot_read() {
        assert_eq!(
            split("CREATE TABLE a (x int);\n\nCREATE TABLE b (y int)").unwrap(),
            [(1, "CREATE TABLE a (x int)"), (3, "CREATE TABLE b (y int)")]
        );
        assert_eq!(split("SELECT 1;\nSELECT 'open").unwrap_err().line, 2);
    }
}
