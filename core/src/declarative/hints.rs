//! Rename hints written as comments in a desired schema file.
//!
//! The declarative diff never guesses a rename (see [`crate::diff`]); the user declares it.
//! In a schema file that is a comment, so the file stays plain SQL that any engine accepts:
//!
//! - godwit's own form, on its own line **above** the definition it renames:
//!   ```sql
//!   -- godwit:renamed-from user_accounts
//!   CREATE TABLE users (
//!       id integer PRIMARY KEY,
//!       -- godwit:renamed-from username
//!       user_name text NOT NULL
//!   );
//!   -- godwit:renamed-from users_email_idx
//!   CREATE INDEX users_email ON users (email);
//!   CREATE TYPE mood AS ENUM (
//!       'happy',
//!       -- godwit:renamed-from sad
//!       'unhappy'
//!   );
//!   ```
//! - sqldef's form, accepted as an alias so its users keep their files: `@renamed from=OLD` in
//!   a comment **on the same line as** (after) the table head, the column definition, the
//!   index or the enum label: `CREATE TABLE users ( -- @renamed from=user_accounts`,
//!   `user_name text NOT NULL, -- @renamed from=username`,
//!   `CREATE INDEX new_idx /* @renamed from=old_idx */ ON users (email);`,
//!   `'unhappy' /* @renamed from=sad */,`.
//!
//! Old names may be quoted (`from="user accounts"`) and schema-qualified (`app.old_users`); an
//! unqualified old table or index name is taken to be in the new name's schema. Column renames
//! are keyed by the table's new name, as [`Renames`] wants them; an enum label's old name is
//! the label, quoted or not. A hint on something godwit does not rename (a constraint, a type
//! itself, a view) is let go with a warning; a hint next to nothing at all is an error naming
//! its line.
//!
//! Finding which definition a comment belongs to needs no SQL parser: the text is read as
//! tokens (sqlparser's tokenizer, which keeps comments), statement heads (`CREATE TABLE name`,
//! `CREATE INDEX name ... ON table`), the column definitions of a `CREATE TABLE` body (the
//! first identifier after its `(` or after a top-level `,`) and the labels of a
//! `CREATE TYPE ... AS ENUM (...)` are located, and each hint is
//! matched to the definition it sits above or beside. Whether the SQL is valid is for the
//! database to say; this module only reads what it needs.

use std::collections::BTreeSet;

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::diff::{ColumnRename, EnumValueRename, Renames};
use crate::schema::Name;

/// A rename hint that cannot be used, with the 1-based line of the comment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
#[non_exhaustive]
pub struct HintError {
    /// 1-based line of the comment (or of the text that could not be read).
    pub line: usize,
    /// What is wrong.
    pub problem: HintProblem,
}

/// What is wrong with a rename hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HintProblem {
    /// The hint is next to no table, column or index.
    #[error(
        "this rename hint belongs to no table, column, index or enum label; put \
         `-- godwit:renamed-from OLD` on the line above a CREATE TABLE, a column definition, a \
         CREATE INDEX or an enum label, or \
         `-- @renamed from=OLD` at the end of that line"
    )]
    Detached,
    /// The hint's text does not name an old name.
    #[error("`{text}` is not a rename hint godwit can read: {reason}")]
    Malformed {
        /// The comment's text.
        text: String,
        /// What is missing.
        reason: String,
    },
    /// A `-- godwit:` comment that is not a directive of schema files.
    #[error(
        "unknown directive `godwit:{directive}`; the directive of schema files is `godwit:renamed-from`"
    )]
    UnknownDirective {
        /// The directive as written.
        directive: String,
    },
    /// `-- godwit:renamed-from` written after code on the same line.
    #[error(
        "`-- godwit:renamed-from` must be on its own line, directly above the definition it \
         renames"
    )]
    NotOwnLine,
    /// Two hints rename the same object.
    #[error("{target} has two rename hints; keep one")]
    Duplicate {
        /// The object, as `table users` or `column users.email`.
        target: String,
    },
    /// The text could not be split into tokens (an unterminated string or comment).
    #[error("cannot read the SQL: {message}")]
    Tokenize {
        /// The tokenizer's message.
        message: String,
    },
}

/// Read the rename hints of a schema file. See the [module documentation](self) for the
/// forms accepted.
pub fn rename_hints(sql: &str) -> Result<Renames, HintError> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .map_err(|error| HintError {
            line: line_of(error.location.line),
            problem: HintProblem::Tokenize {
                message: error.message,
            },
        })?;
    let (significant, comments) = split_tokens(&tokens);
    let definitions = definitions(&significant);
    let mut collected = Collected::default();
    for comment in &comments {
        let Some(hint) = comment.hint()? else {
            continue;
        };
        let target = attach(&hint, comment, &significant, &definitions);
        collected.add(hint, target)?;
    }
    Ok(collected.renames)
}

fn line_of(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// The statements of `sql` with the 1-based line each starts on, cut where this module sees
/// them end: at a top-level `;`, with parentheses, trigger bodies (`BEGIN ... END`), strings,
/// dollar quotes and comments kept whole. Comments between statements are left out. `None` when
/// the text cannot be read as tokens.
///
/// This is for running a schema file one statement at a time when its statements are not in
/// dependency order; a backend still runs each piece with its own parser.
pub(crate) fn statements(sql: &str) -> Option<Vec<(usize, &str)>> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let (significant, _) = split_tokens(&tokens);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let offset = |location: Location| -> Option<usize> {
        let line_start = *line_starts.get(usize::try_from(location.line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(location.column).ok()?.checked_sub(1)?;
        let within = sql[line_start..]
            .char_indices()
            .nth(column)
            .map_or(sql.len() - line_start, |(at, _)| at);
        Some(line_start + within)
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < significant.len() {
        let end = statement_end(&significant, start);
        let from = offset(significant[start].start)?;
        let to = if *significant[end].token == Token::SemiColon {
            offset(significant[end].start)?
        } else {
            sql.len()
        };
        let text = sql.get(from..to)?.trim_end();
        if !text.is_empty() {
            pieces.push((line_of(significant[start].start.line), text));
        }
        start = end + 1;
    }
    Some(pieces)
}

/// The namespaces `sql` creates with `CREATE SCHEMA [IF NOT EXISTS] name`, as written. Empty
/// when the text cannot be read as tokens.
pub(crate) fn created_schemas(sql: &str) -> Vec<String> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return Vec::new();
    };
    let (significant, _) = split_tokens(&tokens);
    let mut names = Vec::new();
    let mut start = 0;
    while start < significant.len() {
        let end = statement_end(&significant, start);
        if start < end
            && is_keyword(significant[start].token, "CREATE")
            && is_keyword(significant[start + 1].token, "SCHEMA")
        {
            let at = skip_words(&significant, start + 2, end, &["IF", "NOT", "EXISTS"]);
            if let Some(Token::Word(word)) = significant.get(at).map(|s| s.token)
                && !(word.quote_style.is_none() && word.value.eq_ignore_ascii_case("AUTHORIZATION"))
            {
                names.push(word.value.clone());
            }
        }
        start = end + 1;
    }
    names
}

/// A token that is not whitespace or a comment, with where it starts and the line it ends on.
#[derive(Debug)]
struct Significant<'a> {
    token: &'a Token,
    start: Location,
    end_line: usize,
}

/// A comment and where it sits among the significant tokens.
#[derive(Debug)]
struct Comment<'a> {
    text: &'a str,
    single_line: bool,
    line: usize,
    /// Index of the significant token before it, if any.
    previous: Option<usize>,
    /// Index of the significant token after it (`len` at the end).
    next: usize,
    /// The previous significant token ends on the comment's line.
    after_code: bool,
}

fn split_tokens(tokens: &[TokenWithSpan]) -> (Vec<Significant<'_>>, Vec<Comment<'_>>) {
    let mut significant: Vec<Significant<'_>> = Vec::new();
    let mut comments = Vec::new();
    for token in tokens {
        let line = line_of(token.span.start.line);
        match &token.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                comments.push((comment.as_str(), true, line, significant.len()));
            }
            Token::Whitespace(Whitespace::MultiLineComment(comment)) => {
                comments.push((comment.as_str(), false, line, significant.len()));
            }
            Token::Whitespace(_) | Token::EOF => {}
            other => significant.push(Significant {
                token: other,
                start: token.span.start,
                end_line: line_of(token.span.end.line),
            }),
        }
    }
    let comments = comments
        .into_iter()
        .map(|(text, single_line, line, next)| {
            let previous = next.checked_sub(1);
            Comment {
                text,
                single_line,
                line,
                previous,
                next,
                after_code: previous.is_some_and(|p| significant[p].end_line == line),
            }
        })
        .collect();
    (significant, comments)
}

/// Which of the two spellings a hint used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `-- godwit:renamed-from OLD`, above the definition.
    Godwit,
    /// `@renamed from=OLD`, beside the definition.
    Sqldef,
}

/// One hint: the old name's parts (`["app", "old_users"]`) and where it was written.
#[derive(Debug)]
struct Hint {
    form: Form,
    old: Vec<String>,
    line: usize,
    text: String,
}

impl Comment<'_> {
    fn error(&self, problem: HintProblem) -> HintError {
        HintError {
            line: self.line,
            problem,
        }
    }

    fn malformed(&self, reason: &str) -> HintError {
        self.error(HintProblem::Malformed {
            text: self.text.trim().to_string(),
            reason: reason.to_string(),
        })
    }

    /// The hint this comment holds, if it is one.
    fn hint(&self) -> Result<Option<Hint>, HintError> {
        let trimmed = self.text.trim();
        if self.single_line
            && let Some(directive) = trimmed.strip_prefix("godwit:")
        {
            let (name, rest) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            if name != "renamed-from" {
                return Err(self.error(HintProblem::UnknownDirective {
                    directive: name.to_string(),
                }));
            }
            if self.after_code {
                return Err(self.error(HintProblem::NotOwnLine));
            }
            let old = old_name(rest)
                .ok_or_else(|| self.malformed("write the old name after `renamed-from`"))?;
            return Ok(Some(self.make(Form::Godwit, old)));
        }
        let Some(at) = trimmed.find("@renamed") else {
            return Ok(None);
        };
        let rest = trimmed[at + "@renamed".len()..].trim_start();
        let old = rest
            .strip_prefix("from=")
            .and_then(old_name)
            .ok_or_else(|| self.malformed("write it as `@renamed from=OLD`"))?;
        Ok(Some(self.make(Form::Sqldef, old)))
    }

    fn make(&self, form: Form, old: Vec<String>) -> Hint {
        Hint {
            form,
            old,
            line: self.line,
            text: self.text.trim().to_string(),
        }
    }
}

/// The (possibly quoted, possibly qualified) name at the start of `text`.
fn old_name(text: &str) -> Option<Vec<String>> {
    let tokens = Tokenizer::new(&GenericDialect {}, text.trim())
        .tokenize()
        .ok()?;
    let mut parts = Vec::new();
    let mut tokens = tokens.iter();
    loop {
        match tokens.next()? {
            Token::Word(word) => parts.push(word.value.clone()),
            Token::SingleQuotedString(text) => parts.push(text.clone()),
            _ => return None,
        }
        match tokens.next() {
            Some(Token::Period) => {}
            _ => return Some(parts),
        }
    }
}

/// What a definition defines, as far as renames go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Table(Name),
    Column {
        table: Name,
        column: String,
    },
    Index(Name),
    /// A label of an enum type.
    EnumValue {
        type_name: Name,
        label: String,
    },
    /// Something godwit does not rename by hint (a constraint, a type, a view). A hint on it is
    /// let go with a warning: the diff matches the object by its definition (renaming a primary
    /// key or unique constraint on the same columns in place, dropping and creating the rest),
    /// and a step of that which destroys data is a hazard that still needs the user's consent.
    Unrenamable(String),
    /// A statement that defines nothing (an INSERT, a SET).
    Nothing,
}

/// A definition spanning significant tokens `start..=end`.
#[derive(Debug)]
struct Definition {
    start: usize,
    end: usize,
    target: Target,
}

fn keyword(token: &Token) -> Option<String> {
    match token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.value.to_ascii_uppercase()),
        _ => None,
    }
}

fn is_keyword(token: &Token, expected: &str) -> bool {
    keyword(token).is_some_and(|k| k == expected)
}

/// The statements and column definitions of the token stream.
fn definitions(tokens: &[Significant<'_>]) -> Vec<Definition> {
    let mut definitions = Vec::new();
    let mut start = 0;
    while start < tokens.len() {
        let end = statement_end(tokens, start);
        statement(tokens, start, end, &mut definitions);
        start = end + 1;
    }
    definitions
}

/// The index of the `;` ending the statement that starts at `start` (or the last token).
/// `BEGIN ... END` bodies of triggers and `CASE ... END` hold semicolons or look like blocks,
/// so they are counted.
fn statement_end(tokens: &[Significant<'_>], start: usize) -> usize {
    let mut parens = 0usize;
    let mut blocks = 0usize;
    for (i, significant) in tokens.iter().enumerate().skip(start) {
        match significant.token {
            Token::LParen => parens += 1,
            Token::RParen => parens = parens.saturating_sub(1),
            Token::SemiColon if parens == 0 && blocks == 0 => return i,
            token => match keyword(token).as_deref() {
                Some("BEGIN") if i > start => blocks += 1,
                Some("CASE") => blocks += 1,
                Some("END") => blocks = blocks.saturating_sub(1),
                _ => {}
            },
        }
    }
    tokens.len() - 1
}

/// A qualified name starting at `at`: its parts and the index after it.
fn qualified_name(tokens: &[Significant<'_>], mut at: usize, end: usize) -> (Vec<String>, usize) {
    let mut parts = Vec::new();
    while at <= end {
        match tokens[at].token {
            Token::Word(word) => parts.push(word.value.clone()),
            Token::SingleQuotedString(text) => parts.push(text.clone()),
            _ => break,
        }
        at += 1;
        if at <= end && *tokens[at].token == Token::Period {
            at += 1;
        } else {
            break;
        }
    }
    (parts, at)
}

fn to_name(parts: &[String]) -> Option<Name> {
    match parts {
        [name] => Some(Name::bare(name.clone())),
        [.., schema, name] => Some(Name::qualified(schema.clone(), name.clone())),
        [] => None,
    }
}

/// Skip the words of `words` that appear in order at `at` (`IF NOT EXISTS`).
fn skip_words(tokens: &[Significant<'_>], mut at: usize, end: usize, words: &[&str]) -> usize {
    if at + words.len() <= end + 1
        && words
            .iter()
            .enumerate()
            .all(|(k, w)| is_keyword(tokens[at + k].token, w))
    {
        at += words.len();
    }
    at
}

const CREATE_MODIFIERS: &[&str] = &[
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "GLOBAL",
    "LOCAL",
    "UNIQUE",
    "VIRTUAL",
    "MATERIALIZED",
    "RECURSIVE",
    "CONSTRAINT",
];

/// Whether token `at` is the keyword `word`.
fn is_keyword_at(tokens: &[Significant<'_>], at: usize, word: &str) -> bool {
    tokens.get(at).is_some_and(|t| is_keyword(t.token, word))
}

/// Whether `word` is a type that takes arguments in parentheses, which a column of that
/// type written right after a column named `key` or `index` would be read as an index of.
fn names_a_type(word: &str) -> bool {
    const TYPES: &[&str] = &[
        "VARCHAR",
        "CHAR",
        "CHARACTER",
        "NUMERIC",
        "DECIMAL",
        "DEC",
        "FLOAT",
        "DOUBLE",
        "INT",
        "INTEGER",
        "BIGINT",
        "SMALLINT",
        "TINYINT",
        "MEDIUMINT",
        "BIT",
        "VARBINARY",
        "BINARY",
        "TIME",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "DATETIME",
        "INTERVAL",
        "ENUM",
        "SET",
        "TEXT",
        "BLOB",
        "NVARCHAR",
        "NCHAR",
        "VARBIT",
        "REAL",
        "YEAR",
    ];
    TYPES.contains(&word.to_ascii_uppercase().as_str())
}

/// The words that open an index written inside `CREATE TABLE` (MySQL).
const INLINE_INDEX_STARTS: &[&str] = &["INDEX", "KEY", "FULLTEXT", "SPATIAL"];

const CONSTRAINT_STARTS: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "FOREIGN",
    "EXCLUDE",
    "LIKE",
    "PERIOD",
];

fn statement(tokens: &[Significant<'_>], start: usize, end: usize, out: &mut Vec<Definition>) {
    let whole = |target: Target| Definition { start, end, target };
    if !is_keyword(tokens[start].token, "CREATE") {
        out.push(whole(Target::Nothing));
        return;
    }
    let mut at = start + 1;
    while at <= end
        && keyword(tokens[at].token).is_some_and(|k| CREATE_MODIFIERS.contains(&k.as_str()))
    {
        at += 1;
    }
    let object = if at <= end {
        keyword(tokens[at].token)
    } else {
        None
    };
    match object.as_deref() {
        Some("TABLE") => {
            let at = skip_words(tokens, at + 1, end, &["IF", "NOT", "EXISTS"]);
            let (parts, after) = qualified_name(tokens, at, end);
            let Some(table) = to_name(&parts) else {
                out.push(whole(Target::Nothing));
                return;
            };
            out.push(whole(Target::Table(table.clone())));
            if after <= end && *tokens[after].token == Token::LParen {
                table_body(tokens, after, end, &table, out);
            }
        }
        Some("INDEX") => {
            let mut at = skip_words(tokens, at + 1, end, &["CONCURRENTLY"]);
            at = skip_words(tokens, at, end, &["IF", "NOT", "EXISTS"]);
            let (parts, after) = if at <= end && !is_keyword(tokens[at].token, "ON") {
                qualified_name(tokens, at, end)
            } else {
                (Vec::new(), at)
            };
            let on_table = if after <= end && is_keyword(tokens[after].token, "ON") {
                let at = skip_words(tokens, after + 1, end, &["ONLY"]);
                to_name(&qualified_name(tokens, at, end).0)
            } else {
                None
            };
            let target = match (to_name(&parts), on_table) {
                (Some(index), Some(table)) if index.schema.is_none() => {
                    Target::Index(match table.schema {
                        Some(schema) => Name::qualified(schema, index.name),
                        None => index,
                    })
                }
                (Some(index), _) => Target::Index(index),
                (None, _) => Target::Unrenamable("an index without a name".into()),
            };
            out.push(whole(target));
        }
        Some("TYPE") => {
            out.push(whole(Target::Unrenamable("a type".into())));
            let (parts, after) = qualified_name(tokens, at + 1, end);
            if let Some(type_name) = to_name(&parts)
                && after + 2 <= end
                && is_keyword(tokens[after].token, "AS")
                && is_keyword(tokens[after + 1].token, "ENUM")
                && *tokens[after + 2].token == Token::LParen
            {
                enum_labels(tokens, after + 2, end, &type_name, out);
            }
        }
        Some(other) => {
            let what = match other {
                "VIEW" => "a view",
                "TYPE" => "a type",
                "DOMAIN" => "a domain",
                "TRIGGER" => "a trigger",
                "FUNCTION" | "PROCEDURE" => "a function",
                "SEQUENCE" => "a sequence",
                "SCHEMA" => "a schema",
                "EXTENSION" => "an extension",
                "POLICY" => "a policy",
                _ => "a statement that creates no table or index",
            };
            out.push(whole(Target::Unrenamable(what.into())));
        }
        None => out.push(whole(Target::Nothing)),
    }
}

/// The column and constraint definitions of a `CREATE TABLE` body opening at `open`.
fn table_body(
    tokens: &[Significant<'_>],
    open: usize,
    end: usize,
    table: &Name,
    out: &mut Vec<Definition>,
) {
    let mut depth = 0usize;
    let mut current: Option<(usize, Target)> = None;
    let mut expect_definition = false;
    for (i, significant) in tokens.iter().enumerate().take(end + 1).skip(open) {
        let token = significant.token;
        match token {
            Token::LParen => {
                depth += 1;
                if depth == 1 {
                    expect_definition = true;
                    continue;
                }
            }
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    if let Some((start, target)) = current.take() {
                        out.push(Definition {
                            start,
                            end: i - 1,
                            target,
                        });
                    }
                    return;
                }
            }
            Token::Comma if depth == 1 => {
                if let Some((start, target)) = current.take() {
                    out.push(Definition {
                        start,
                        end: i,
                        target,
                    });
                }
                expect_definition = true;
                continue;
            }
            _ => {}
        }
        if expect_definition {
            expect_definition = false;
            let target = match token {
                // MySQL's index written in the table (`INDEX name (...)`, `FULLTEXT KEY
                // name (...)`): index names belong to their table there.
                Token::Word(word)
                    if word.quote_style.is_none()
                        && INLINE_INDEX_STARTS
                            .contains(&word.value.to_ascii_uppercase().as_str()) =>
                {
                    let at = if is_keyword_at(tokens, i + 1, "INDEX")
                        || is_keyword_at(tokens, i + 1, "KEY")
                    {
                        i + 2
                    } else {
                        i + 1
                    };
                    match tokens.get(at).map(|t| t.token) {
                        // `key varchar(10)` is a column called key (PostgreSQL and SQLite do
                        // not reserve the word): an index's name is no type, and its columns
                        // follow it.
                        Some(Token::Word(name))
                            if at < end
                                && matches!(tokens[at + 1].token, Token::LParen)
                                && !names_a_type(&name.value) =>
                        {
                            Target::Index(Name {
                                schema: table.schema.clone(),
                                name: name.value.clone(),
                            })
                        }
                        Some(Token::Word(_)) => Target::Column {
                            table: table.clone(),
                            column: word.value.clone(),
                        },
                        _ => Target::Unrenamable("an index without a name".into()),
                    }
                }
                Token::Word(word)
                    if word.quote_style.is_none()
                        && CONSTRAINT_STARTS
                            .contains(&word.value.to_ascii_uppercase().as_str()) =>
                {
                    Target::Unrenamable("a table constraint".into())
                }
                Token::Word(word) => Target::Column {
                    table: table.clone(),
                    column: word.value.clone(),
                },
                Token::SingleQuotedString(text) => Target::Column {
                    table: table.clone(),
                    column: text.clone(),
                },
                _ => Target::Nothing,
            };
            current = Some((i, target));
        }
    }
}

/// The labels of an enum type whose list opens at `open`: each label with the `,` after it.
fn enum_labels(
    tokens: &[Significant<'_>],
    open: usize,
    end: usize,
    type_name: &Name,
    out: &mut Vec<Definition>,
) {
    for (i, significant) in tokens.iter().enumerate().take(end + 1).skip(open + 1) {
        match significant.token {
            Token::SingleQuotedString(label) => {
                let comma = tokens.get(i + 1).is_some_and(|t| *t.token == Token::Comma);
                out.push(Definition {
                    start: i,
                    end: if comma { i + 1 } else { i },
                    target: Target::EnumValue {
                        type_name: type_name.clone(),
                        label: label.clone(),
                    },
                });
            }
            Token::RParen => return,
            _ => {}
        }
    }
}

/// The definition `hint` belongs to.
fn attach<'a>(
    hint: &Hint,
    comment: &Comment<'_>,
    tokens: &[Significant<'_>],
    definitions: &'a [Definition],
) -> Option<&'a Target> {
    let starting_at = |index: usize| {
        definitions
            .iter()
            .filter(|d| d.start == index)
            .max_by_key(|d| std::cmp::Reverse(d.end))
            .map(|d| &d.target)
    };
    let innermost = |index: usize| {
        definitions
            .iter()
            .filter(|d| d.start <= index && index <= d.end)
            .max_by_key(|d| (d.start, std::cmp::Reverse(d.end)))
            .map(|d| &d.target)
    };
    match (hint.form, comment.after_code, comment.previous) {
        (Form::Sqldef, true, Some(previous)) => innermost(previous),
        (Form::Godwit, ..) => starting_at(comment.next),
        (Form::Sqldef, ..) => starting_at(comment.next).or_else(|| {
            // On its own line inside something godwit does not rename (an enum's values):
            // name that thing rather than calling the hint detached.
            innermost(comment.next.min(tokens.len().saturating_sub(1)))
                .filter(|target| matches!(target, Target::Unrenamable(_)))
        }),
    }
}

/// The renames found so far, and which objects already have one.
#[derive(Debug, Default)]
struct Collected {
    renames: Renames,
    seen: BTreeSet<String>,
}

impl Collected {
    fn add(&mut self, hint: Hint, target: Option<&Target>) -> Result<(), HintError> {
        let error = |problem| HintError {
            line: hint.line,
            problem,
        };
        let malformed = |reason: &str| {
            error(HintProblem::Malformed {
                text: hint.text.clone(),
                reason: reason.into(),
            })
        };
        // Columns and labels live inside one object: their old name is a single part.
        let single = |old: &[String], what: &str| match old {
            [one] => Ok(one.clone()),
            _ => Err(malformed(&format!(
                "{what}'s old name is one name; quote it if it holds a dot"
            ))),
        };
        let (key, rename) = match target {
            None | Some(Target::Nothing) => return Err(error(HintProblem::Detached)),
            Some(Target::Unrenamable(what)) => {
                tracing::warn!(
                    "line {}: the rename hint is on {what}, which godwit does not rename by \
                     hint; it is ignored, and the change makes it match by its definition: a \
                     primary key or unique constraint on the same columns is renamed in place, \
                     anything else is dropped and created (a step that destroys data still \
                     needs consent)",
                    hint.line
                );
                return Ok(());
            }
            Some(Target::Table(new)) => {
                let old = old_object_name(&hint.old, new)
                    .ok_or_else(|| malformed("a table's old name is `name` or `schema.name`"))?;
                (format!("table {new}"), Rename::Table(old, new.clone()))
            }
            Some(Target::Index(new)) => {
                let old = old_object_name(&hint.old, new)
                    .ok_or_else(|| malformed("an index's old name is `name` or `schema.name`"))?;
                (format!("index {new}"), Rename::Index(old, new.clone()))
            }
            Some(Target::EnumValue { type_name, label }) => (
                format!("label {type_name}.{label}"),
                Rename::EnumValue(EnumValueRename {
                    type_name: type_name.clone(),
                    from: single(&hint.old, "an enum label")?,
                    to: label.clone(),
                }),
            ),
            Some(Target::Column { table, column }) => (
                format!("column {table}.{column}"),
                Rename::Column(ColumnRename {
                    table: table.clone(),
                    from: single(&hint.old, "a column")?,
                    to: column.clone(),
                }),
            ),
        };
        if !self.seen.insert(key.clone()) {
            return Err(error(HintProblem::Duplicate { target: key }));
        }
        match rename {
            Rename::Table(old, new) => self.renames.tables.push((old, new)),
            Rename::Index(old, new) => self.renames.indexes.push((old, new)),
            Rename::Column(column) => self.renames.columns.push(column),
            Rename::EnumValue(label) => self.renames.enum_values.push(label),
        }
        Ok(())
    }
}

#[derive(Debug)]
enum Rename {
    Table(Name, Name),
    Index(Name, Name),
    Column(ColumnRename),
    EnumValue(EnumValueRename),
}

/// The old name of a table or index; unqualified, it is in the new name's schema.
fn old_object_name(parts: &[String], new: &Name) -> Option<Name> {
    match parts {
        [name] => Some(Name {
            schema: new.schema.clone(),
            name: name.clone(),
        }),
        [schema, name] => Some(Name::qualified(schema.clone(), name.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(sql: &str) -> Renames {
        rename_hints(sql).unwrap_or_else(|error| panic!("{error}"))
    }

    fn column(table: &str, from: &str, to: &str) -> ColumnRename {
        ColumnRename {
            table: Name::bare(table),
            from: from.into(),
            to: to.into(),
        }
    }

    fn table(old: &str, new: &str) -> (Name, Name) {
        (Name::bare(old), Name::bare(new))
    }

    #[test]
    fn godwit_hints_above_tables_columns_and_indexes() {
        let renames = hints(
            "-- godwit:renamed-from user_accounts\n\
             CREATE TABLE users (\n\
             \x20   id integer PRIMARY KEY,\n\
             \x20   -- godwit:renamed-from username\n\
             \x20   user_name text NOT NULL,\n\
             \x20   email varchar(100)\n\
             );\n\
             -- godwit:renamed-from users_email_idx\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n",
        );
        assert_eq!(renames.tables, [table("user_accounts", "users")]);
        assert_eq!(renames.columns, [column("users", "username", "user_name")]);
        assert_eq!(renames.indexes, [table("users_email_idx", "users_email")]);
    }

    #[test]
    fn sqldef_hints_beside_columns() {
        let renames = hints(
            "CREATE TABLE users (\n\
             \x20 id bigint NOT NULL,\n\
             \x20 user_name text NOT NULL, -- @renamed from=username\n\
             \x20 nick text -- @renamed from=nickname\n\
             );\n",
        );
        assert_eq!(
            renames.columns,
            [
                column("users", "username", "user_name"),
                column("users", "nickname", "nick")
            ]
        );
        assert!(renames.tables.is_empty() && renames.indexes.is_empty());
    }

    #[test]
    fn sqldef_hints_on_table_heads_in_both_comment_styles() {
        let renames = hints(
            "CREATE TABLE users ( -- @renamed from=user_accounts\n  id integer\n);\n\
             CREATE TABLE new_users /* @renamed from=old_users */ (\n  id integer\n);\n",
        );
        assert_eq!(
            renames.tables,
            [
                table("user_accounts", "users"),
                table("old_users", "new_users")
            ]
        );
        assert!(renames.columns.is_empty());
    }

    #[test]
    fn sqldef_hints_on_indexes_take_the_table_schema() {
        let renames = hints(
            "CREATE INDEX new_idx /* @renamed from=old_idx */ ON users (email);\n\
             CREATE UNIQUE INDEX u /* @renamed from=old_u */ ON app.users (email) WHERE x = 1;\n",
        );
        assert_eq!(
            renames.indexes,
            [
                table("old_idx", "new_idx"),
                (Name::qualified("app", "old_u"), Name::qualified("app", "u"))
            ]
        );
    }

    #[test]
    fn quoted_and_qualified_names() {
        let renames = hints(
            "CREATE TABLE \"user_profiles\" ( -- @renamed from=\"user accounts\"\n\
             \x20 \"Full Name\" text, -- @renamed from=\"special.column\"\n\
             \x20 email_address varchar(100) -- @renamed from=\"email@address\"\n\
             );\n\
             -- godwit:renamed-from app.old_orders\n\
             CREATE TABLE app.orders (id integer);\n",
        );
        assert_eq!(
            renames.tables,
            [
                table("user accounts", "user_profiles"),
                (
                    Name::qualified("app", "old_orders"),
                    Name::qualified("app", "orders")
                )
            ]
        );
        assert_eq!(
            renames.columns,
            [
                column("user_profiles", "special.column", "Full Name"),
                column("user_profiles", "email@address", "email_address")
            ]
        );
    }

    #[test]
    fn column_renames_are_keyed_by_the_new_qualified_table_name() {
        let renames = hints(
            "CREATE TABLE app.accounts ( -- @renamed from=old_accounts\n\
             \x20 username varchar(100) NOT NULL, -- @renamed from=user_name\n\
             \x20 CONSTRAINT pk PRIMARY KEY (username)\n\
             );\n",
        );
        assert_eq!(
            renames.tables,
            [(
                Name::qualified("app", "old_accounts"),
                Name::qualified("app", "accounts")
            )]
        );
        assert_eq!(
            renames.columns,
            [ColumnRename {
                table: Name::qualified("app", "accounts"),
                from: "user_name".into(),
                to: "username".into(),
            }]
        );
    }

    #[test]
    fn nested_parentheses_commas_and_triggers_do_not_confuse_columns() {
        let renames = hints(
            "CREATE TABLE t (\n\
             \x20 price numeric(10, 2) CHECK (price > 0), -- @renamed from=cost\n\
             \x20 a text\n\
             );\n\
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n\
             \x20 UPDATE t SET a = CASE WHEN a IS NULL THEN 'x' ELSE a END;\n\
             END;\n\
             CREATE TABLE u (\n\
             \x20 -- godwit:renamed-from old_b\n\
             \x20 b text\n\
             );\n",
        );
        assert_eq!(
            renames.columns,
            [column("t", "cost", "price"), column("u", "old_b", "b")]
        );
    }

    #[test]
    fn ordinary_comments_are_ignored() {
        let renames =
            hints("-- the users of the app\nCREATE TABLE users (\n  id integer -- the key\n);\n");
        assert_eq!(renames, Renames::default());
    }

    #[test]
    fn sqldef_hints_on_indexes_written_in_the_table() {
        let renames = hints(
            "CREATE TABLE users (\n  email text,\n  name text,\n\
             \x20 INDEX email_idx (email), -- @renamed from=idx_email\n\
             \x20 FULLTEXT KEY name_idx (name) -- @renamed from=idx_name\n);\n",
        );
        assert_eq!(
            renames.indexes,
            [
                (Name::bare("idx_email"), Name::bare("email_idx")),
                (Name::bare("idx_name"), Name::bare("name_idx")),
            ]
        );
        assert!(renames.columns.is_empty());
        // Columns named like the keywords stay columns.
        let renames = hints(
            "CREATE TABLE t (\n  key varchar(10), -- @renamed from=k\n  index int -- @renamed from=i\n);\n",
        );
        assert!(renames.indexes.is_empty(), "{renames:?}");
        assert_eq!(renames.columns.len(), 2, "{renames:?}");
    }

    #[test]
    fn a_detached_hint_names_its_line() {
        let error =
            rename_hints("CREATE TABLE t (id integer);\n\n-- godwit:renamed-from x\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(error.problem, HintProblem::Detached);
        assert!(error.to_string().starts_with("line 3: "), "{error}");

        let error =
            rename_hints("-- godwit:renamed-from x\nINSERT INTO t VALUES (1);\n").unwrap_err();
        assert_eq!((error.line, error.problem), (1, HintProblem::Detached));
    }

    #[test]
    fn hints_on_enum_labels_in_both_forms() {
        let label = |from: &str, to: &str| EnumValueRename {
            type_name: Name::qualified("app", "level"),
            from: from.into(),
            to: to.into(),
        };
        let renames = hints(
            "CREATE TYPE app.level AS ENUM (\n\
             \x20 'minor' /* @renamed from=low */,\n\
             \x20 'normal', -- @renamed from=medium\n\
             \x20 -- godwit:renamed-from 'very high'\n\
             \x20 'critical',\n\
             \x20 'unchanged'\n\
             );\n",
        );
        assert_eq!(
            renames.enum_values,
            [
                label("low", "minor"),
                label("medium", "normal"),
                label("very high", "critical")
            ]
        );
        assert!(renames.tables.is_empty() && renames.columns.is_empty());

        let error = rename_hints(
            "CREATE TYPE t AS ENUM ('a' /* @renamed from=x */, 'b');\n\
             CREATE TYPE t AS ENUM ('a' /* @renamed from=y */);",
        )
        .unwrap_err();
        assert_eq!(
            error.problem,
            HintProblem::Duplicate {
                target: "label t.a".into()
            }
        );
    }

    #[test]
    fn hints_on_things_godwit_does_not_rename_are_let_go() {
        for sql in [
            "CREATE TYPE order_status /* @renamed from=order_state */ AS ENUM ('a', 'b');\n",
            "-- godwit:renamed-from old_v\nCREATE VIEW v AS SELECT 1;\n",
            "CREATE TABLE t (\n  email text,\n  CONSTRAINT u UNIQUE (email) -- @renamed from=old_u\n);\n",
        ] {
            assert_eq!(hints(sql), Renames::default(), "{sql}");
        }
    }

    #[test]
    fn malformed_misplaced_unknown_and_duplicate_hints() {
        let error = rename_hints("CREATE TABLE t ( -- @renamed to=x\n id int);").unwrap_err();
        assert!(matches!(error.problem, HintProblem::Malformed { .. }));
        let error =
            rename_hints("CREATE TABLE t (id int); -- godwit:renamed-from old\n").unwrap_err();
        assert_eq!(error.problem, HintProblem::NotOwnLine);
        let error =
            rename_hints("-- godwit:rename-from old\nCREATE TABLE t (id int);").unwrap_err();
        assert_eq!(
            error.problem,
            HintProblem::UnknownDirective {
                directive: "rename-from".into()
            }
        );
        let error = rename_hints(
            "-- godwit:renamed-from a\nCREATE TABLE t ( -- @renamed from=b\n id int);",
        )
        .unwrap_err();
        assert_eq!(
            (error.line, error.problem),
            (
                2,
                HintProblem::Duplicate {
                    target: "table t".into()
                }
            )
        );
    }

    #[test]
    fn statements_are_cut_at_top_level_semicolons() {
        let sql = "-- users\nCREATE TABLE t (a text DEFAULT ';', b int);\n\
                   CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET b = 1;\nEND;\n\
                   CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   /* café */ INSERT INTO t VALUES ('é;', 2)";
        let pieces = statements(sql).unwrap();
        assert_eq!(
            pieces,
            [
                (2, "CREATE TABLE t (a text DEFAULT ';', b int)"),
                (
                    3,
                    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET b = 1;\nEND"
                ),
                (
                    6,
                    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"
                ),
                (7, "INSERT INTO t VALUES ('é;', 2)"),
            ]
        );
        assert_eq!(statements("CREATE TABLE t (a text DEFAULT 'x);"), None);
    }

    #[test]
    fn created_schemas_are_found() {
        assert_eq!(
            created_schemas(
                "CREATE SCHEMA app;\nCREATE SCHEMA IF NOT EXISTS \"Reports\";\n\
                 CREATE SCHEMA AUTHORIZATION bob;\nCREATE TABLE app.t (id int);"
            ),
            ["app", "Reports"]
        );
    }

    #[test]
    fn unreadable_sql_is_reported_with_its_line() {
        let error = rename_hints("CREATE TABLE t (a text DEFAULT 'x);\n").unwrap_err();
        assert!(matches!(error.problem, HintProblem::Tokenize { .. }));
        assert_eq!(error.line, 1);
    }
}
