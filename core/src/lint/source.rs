//! A migration file cut into located statements: tokenized and parsed by sqlparser, with the
//! `-- godwit:allow` comments written above each statement.
//!
//! The statement loop is driven here rather than by `Parser::parse_sql`, for three reasons:
//!
//! - **Locations.** A statement's line and column are those of its first token. sqlparser's
//!   `Spanned` is empty for several statement kinds godwit needs (`DROP`, `ALTER TYPE`, `SET`,
//!   `PRAGMA`) and starts at the table name rather than at `CREATE` for others.
//! - **Recovery.** One statement sqlparser cannot read (a `DO` block, `REINDEX`) becomes a
//!   `parse-error` finding for that statement; the statements after it are still linted. Where
//!   it ends is read from the tokens' structure (a trigger's `BEGIN ... END` body holds `;`s of
//!   its own), and the table it creates, if any, from its first tokens, so the statements after
//!   it still know the table is new.
//! - **Gaps in sqlparser 0.64** that godwit's own advice depends on are bridged on the token
//!   stream, never on the text: `DROP INDEX CONCURRENTLY` (not in its grammar), the closing
//!   `WITH [NO] DATA` of `CREATE MATERIALIZED VIEW`, and SQLite pragmas whose value is a bare
//!   word (`PRAGMA foreign_keys = OFF`) or a negative number.

use sqlparser::ast::{ObjectName, Statement};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::comments::allowed_ids;

/// Longest excerpt, in characters, before it is cut with an ellipsis.
const EXCERPT_CHARS: usize = 80;

/// One statement of the file, where it starts and what it says.
#[derive(Debug)]
pub(crate) struct Located {
    /// 1-based line of its first token.
    pub line: usize,
    /// 1-based column (in characters) of its first token.
    pub column: usize,
    /// The statement on one line, shortened.
    pub excerpt: String,
    /// Rule ids named by `-- godwit:allow` comments directly above it.
    pub allowed: Vec<String>,
    /// Where those `-- godwit:allow` comments are (line, column), so that one that applies to
    /// no statement can be reported.
    pub allow_comments: Vec<(usize, usize)>,
    /// What the parser made of it.
    pub body: Body,
}

impl Located {
    /// Whether a `-- godwit:allow` comment above the statement names `rule`.
    pub fn allows(&self, rule: &str) -> bool {
        self.allowed.iter().any(|id| id == rule)
    }
}

/// A statement as parsed, or the reason it could not be.
#[derive(Debug)]
pub(crate) enum Body {
    /// sqlparser read it.
    Parsed {
        /// The syntax tree.
        statement: Box<Statement>,
        /// `DROP INDEX CONCURRENTLY`: the keyword was hidden from the parser, which does not
        /// know it, and is remembered here.
        drop_concurrently: bool,
    },
    /// sqlparser could not read it.
    Unparsed {
        /// sqlparser's message.
        reason: String,
        /// What its opening tokens still tell.
        known: Known,
    },
    /// The tokenizer stopped here (an unterminated string, quoted identifier or comment), so
    /// nothing from here to the end of the file could be cut into statements.
    Untokenizable(String),
}

/// What godwit reads from the opening tokens of a statement sqlparser cannot parse.
#[derive(Debug)]
pub(crate) enum Known {
    /// Nothing useful.
    Nothing,
    /// It creates this table or materialized view (`CREATE TABLE [IF NOT EXISTS] name ...`),
    /// so later statements know it is new.
    Creates(ObjectName),
    /// `REINDEX ... CONCURRENTLY`, which PostgreSQL refuses in a transaction block.
    Concurrently,
    /// `VACUUM (...)`, which neither engine runs in a transaction.
    Vacuum,
    /// A statement no rule concerns, so not reading it misses nothing:
    /// `SET CONSTRAINTS {ALL | name, ...} {DEFERRED | IMMEDIATE}` (Django writes it).
    Harmless,
}

/// The file as located statements.
///
/// Where the tokenizer gives up (a string or comment that may not have ended), nothing after
/// can be cut reliably: the statements that end before that point are returned as usual, then
/// one [`Body::Untokenizable`] pseudo-statement where the broken statement starts.
pub(crate) fn statements(dialect: &dyn Dialect, sql: &str) -> Vec<Located> {
    let text = Text::new(sql);
    let mut tokens = match Tokenizer::new(dialect, sql).tokenize_with_location() {
        Ok(tokens) => tokens,
        Err(error) => {
            let stop = text.offset(error.location);
            let (mut out, start) = statements_before(dialect, &sql[..stop], error.location);
            let line = to_usize(start.line).max(1);
            out.push(Located {
                line,
                column: to_usize(start.column).max(1),
                excerpt: shorten(sql.lines().nth(line - 1).unwrap_or_default()),
                allowed: Vec::new(),
                allow_comments: Vec::new(),
                body: Body::Untokenizable(name_invisible(&error.to_string())),
            });
            return out;
        }
    };
    // Excerpts and comments are read from the tokens as written, before the bridging below.
    let written = tokens.clone();
    let hidden_concurrently = bridge_grammar_gaps(&mut tokens);

    let mut out = Vec::new();
    // Where the parser's token vector starts in `tokens`; it is rebuilt after an error.
    let mut offset = 0;
    let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens.clone());
    // Index (in `tokens`) just after the previous statement, where the comment search stops.
    let mut previous_end = 0;
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token_ref().token == Token::EOF {
            break;
        }
        let start = skip_whitespace(&tokens, offset + parser.index());
        let result = parser.parse_statement();
        let next = &parser.peek_token_ref().token;
        let complete = matches!(next, Token::SemiColon | Token::EOF);
        let (body, end) = match result {
            Ok(statement) if complete => {
                let end = offset + parser.index();
                let drop_concurrently = hidden_concurrently
                    .iter()
                    .any(|&index| (start..end).contains(&index));
                let statement = Box::new(statement);
                let body = Body::Parsed {
                    statement,
                    drop_concurrently,
                };
                (body, end)
            }
            outcome => {
                let message = match outcome {
                    Err(
                        ParserError::ParserError(message) | ParserError::TokenizerError(message),
                    ) => message,
                    Err(ParserError::RecursionLimitExceeded) => {
                        "the statement nests deeper than the parser's recursion limit".into()
                    }
                    Ok(_) => {
                        let found = parser.peek_token();
                        format!(
                            "Expected: end of statement, found: {}{}",
                            found.token, found.span.start
                        )
                    }
                };
                // Resume after the `;` that ends the statement. The tokenizer keeps strings,
                // comments and dollar quotes whole, so every `;` token is real; of those, the
                // one that closes the statement's parentheses and `BEGIN ... END` / `CASE ...
                // END` blocks ends it. When they never close (a broken statement that lost a
                // parenthesis), the first `;` at or after the token the parser stopped on is
                // the best guess left.
                let stopped = offset + parser.index().saturating_sub(1);
                let end = structural_end(&tokens, start)
                    .filter(|&end| end >= stopped)
                    .unwrap_or_else(|| {
                        (stopped.max(start)..tokens.len())
                            .find(|&index| tokens[index].token == Token::SemiColon)
                            .unwrap_or(tokens.len())
                    });
                let known = known(dialect, &tokens[start..end]);
                offset = end;
                parser = Parser::new(dialect).with_tokens_with_locations(tokens[end..].to_vec());
                (
                    Body::Unparsed {
                        reason: name_invisible(&message),
                        known,
                    },
                    end,
                )
            }
        };
        let location = tokens[start].span.start;
        let (allowed, allow_comments) = allowed_above(&written[previous_end..start], location.line);
        out.push(Located {
            line: to_usize(location.line),
            column: to_usize(location.column),
            excerpt: text.excerpt(&written[start..end]),
            allowed,
            allow_comments,
            body,
        });
        previous_end = end;
    }
    out
}

/// The statements of `prefix` (the text before the tokenizer gave up) that end with a `;`,
/// and where the statement after them starts (`stop` when the prefix has no `;`).
fn statements_before(
    dialect: &dyn Dialect,
    prefix: &str,
    stop: Location,
) -> (Vec<Located>, Location) {
    let Ok(tokens) = Tokenizer::new(dialect, prefix).tokenize_with_location() else {
        return (Vec::new(), stop);
    };
    let Some(last) = tokens.iter().rposition(|t| t.token == Token::SemiColon) else {
        let first = tokens.get(skip_whitespace(&tokens, 0));
        return (Vec::new(), first.map_or(stop, |t| t.span.start));
    };
    let next = skip_whitespace(&tokens, last + 1);
    let start = match tokens.get(next) {
        Some(token) if next > last => token.span.start,
        _ => stop,
    };
    // The text up to that `;` tokenizes, so this does not recurse again.
    let end = Text::new(prefix).offset(tokens[last].span.end);
    (statements(dialect, &prefix[..end]), start)
}

/// The index of the `;` that ends the statement starting at `start` (`tokens.len()` for a last
/// statement without one), by the statement's structure: parentheses nest, and so do
/// `BEGIN ... END` (a SQLite trigger's body, PostgreSQL's `BEGIN ATOMIC`) and `CASE ... END`,
/// whose insides may hold `;`. A `BEGIN` that opens the statement is a transaction, not a
/// block. `None` when the structure is still open at the end of the file.
fn structural_end(tokens: &[TokenWithSpan], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(start) {
        match &token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.checked_sub(1)?,
            Token::SemiColon if depth == 0 => return Some(index),
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::BEGIN if index > start => depth += 1,
                Keyword::CASE => depth += 1,
                Keyword::END => depth = depth.checked_sub(1)?,
                _ => {}
            },
            _ => {}
        }
    }
    (depth == 0).then_some(tokens.len())
}

/// What the opening tokens of an unparsable statement tell.
fn known(dialect: &dyn Dialect, tokens: &[TokenWithSpan]) -> Known {
    if is_set_constraints(tokens) {
        return Known::Harmless;
    }
    let words: Vec<Keyword> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map_while(|t| match &t.token {
            Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
            _ => None,
        })
        .collect();
    match words.as_slice() {
        // `REINDEX [ (options) ] {INDEX | TABLE | ...} CONCURRENTLY name`: the options end the
        // run of words, so CONCURRENTLY is looked for among every word of the statement.
        [Keyword::REINDEX, ..] => {
            let concurrently = tokens.iter().any(|t| {
                matches!(&t.token, Token::Word(w) if w.quote_style.is_none()
                    && w.keyword == Keyword::CONCURRENTLY)
            });
            if concurrently {
                Known::Concurrently
            } else {
                Known::Nothing
            }
        }
        [Keyword::VACUUM, ..] => Known::Vacuum,
        _ => created_relation(dialect, tokens).map_or(Known::Nothing, Known::Creates),
    }
}

/// `SET CONSTRAINTS {ALL | name[, ...]} {DEFERRED | IMMEDIATE}`, names possibly quoted or
/// qualified.
fn is_set_constraints(tokens: &[TokenWithSpan]) -> bool {
    let significant: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let word = |token: &Token, expected: &str| {
        matches!(token, Token::Word(w) if w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case(expected))
    };
    match significant.as_slice() {
        [set, constraints, names @ .., mode]
            if word(set, "SET")
                && word(constraints, "CONSTRAINTS")
                && (word(mode, "DEFERRED") || word(mode, "IMMEDIATE")) =>
        {
            !names.is_empty()
                && names
                    .iter()
                    .all(|t| matches!(t, Token::Word(_) | Token::Comma | Token::Period))
        }
        _ => false,
    }
}

/// The table (or materialized view) a statement creates, read from its opening tokens:
/// `CREATE [OR REPLACE] [GLOBAL | LOCAL] [TEMP | TEMPORARY | UNLOGGED] TABLE [IF NOT EXISTS]
/// name`, or `CREATE [OR REPLACE] MATERIALIZED VIEW [IF NOT EXISTS] name`. Only the name is
/// parsed, so the rest of the statement may be anything.
fn created_relation(dialect: &dyn Dialect, tokens: &[TokenWithSpan]) -> Option<ObjectName> {
    let significant: Vec<&TokenWithSpan> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let keyword = |at: usize| match significant.get(at).map(|t| &t.token) {
        Some(Token::Word(word)) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    };
    if keyword(0) != Some(Keyword::CREATE) {
        return None;
    }
    let mut at = 1;
    if keyword(at) == Some(Keyword::OR) && keyword(at + 1) == Some(Keyword::REPLACE) {
        at += 2;
    }
    if matches!(keyword(at), Some(Keyword::GLOBAL | Keyword::LOCAL)) {
        at += 1;
    }
    if matches!(
        keyword(at),
        Some(Keyword::TEMP | Keyword::TEMPORARY | Keyword::UNLOGGED)
    ) {
        at += 1;
    }
    if keyword(at) == Some(Keyword::MATERIALIZED) && keyword(at + 1) == Some(Keyword::VIEW) {
        at += 1;
    } else if keyword(at) != Some(Keyword::TABLE) {
        return None;
    }
    at += 1;
    if keyword(at) == Some(Keyword::IF)
        && keyword(at + 1) == Some(Keyword::NOT)
        && keyword(at + 2) == Some(Keyword::EXISTS)
    {
        at += 3;
    }
    let name: Vec<TokenWithSpan> = significant[at..].iter().map(|&t| t.clone()).collect();
    Parser::new(dialect)
        .with_tokens_with_locations(name)
        .parse_object_name(false)
        .ok()
}

/// Characters that print as nothing (or as a space) in a terminal, and what to call them.
const INVISIBLE: &[(char, &str)] = &[
    ('\u{feff}', "U+FEFF (a byte order mark)"),
    ('\u{200b}', "U+200B (a zero-width space)"),
    ('\u{00a0}', "U+00A0 (a no-break space)"),
];

/// A parser message with its invisible characters named: `found: \u{feff}` reads as `found: `
/// otherwise, which tells the reader nothing.
fn name_invisible(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match INVISIBLE.iter().find(|(invisible, _)| *invisible == c) {
            Some((_, name)) => out.push_str(name),
            None => out.push(c),
        }
    }
    out
}

/// The first non-whitespace token at or after `index`.
fn skip_whitespace(tokens: &[TokenWithSpan], mut index: usize) -> usize {
    while matches!(tokens.get(index), Some(t) if matches!(t.token, Token::Whitespace(_))) {
        index += 1;
    }
    index.min(tokens.len().saturating_sub(1))
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Rewrite the few token sequences sqlparser 0.64 cannot parse but migrations commonly hold.
/// Token positions are kept (a hidden token becomes whitespace with the same span), so every
/// location still points into the file. Returns the indexes of hidden `CONCURRENTLY` tokens.
fn bridge_grammar_gaps(tokens: &mut [TokenWithSpan]) -> Vec<usize> {
    let mut hidden = Vec::new();
    let mut at_statement_start = true;
    for index in 0..tokens.len() {
        match &tokens[index].token {
            Token::SemiColon => {
                at_statement_start = true;
                continue;
            }
            Token::Whitespace(_) => continue,
            _ => {}
        }
        if !at_statement_start {
            continue;
        }
        at_statement_start = false;
        let words = next_words(tokens, index, 3);
        match words.as_slice() {
            [
                (_, Keyword::DROP),
                (_, Keyword::INDEX),
                (at, Keyword::CONCURRENTLY),
            ] => {
                tokens[*at].token = Token::Whitespace(Whitespace::Space);
                hidden.push(*at);
            }
            [(_, Keyword::PRAGMA), ..] => bridge_pragma_value(tokens, index),
            [(_, Keyword::CREATE), (_, Keyword::MATERIALIZED), ..] => {
                hide_with_data(tokens, index);
            }
            _ => {}
        }
    }
    hidden
}

/// `CREATE MATERIALIZED VIEW ... WITH [NO] DATA`: sqlparser reads the view without
/// its closing `WITH [NO] DATA`, which only says whether the view is filled now, so those words
/// are hidden.
fn hide_with_data(tokens: &mut [TokenWithSpan], create: usize) {
    let significant: Vec<usize> = (create..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .take_while(|&i| tokens[i].token != Token::SemiColon)
        .collect();
    let keyword = |i: usize| match &tokens[i].token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    };
    let tail = match significant.as_slice() {
        [.., with, no, data]
            if keyword(*with) == Some(Keyword::WITH)
                && keyword(*no) == Some(Keyword::NO)
                && keyword(*data) == Some(Keyword::DATA) =>
        {
            vec![*with, *no, *data]
        }
        [.., with, data]
            if keyword(*with) == Some(Keyword::WITH) && keyword(*data) == Some(Keyword::DATA) =>
        {
            vec![*with, *data]
        }
        _ => return,
    };
    for i in tail {
        tokens[i].token = Token::Whitespace(Whitespace::Space);
    }
}

/// Up to `n` consecutive keyword tokens from `index`, skipping whitespace, with their indexes.
fn next_words(tokens: &[TokenWithSpan], index: usize, n: usize) -> Vec<(usize, Keyword)> {
    tokens[index..]
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_)))
        .take(n)
        .map_while(|(i, t)| match &t.token {
            Token::Word(word) => Some((index + i, word.keyword)),
            _ => None,
        })
        .collect()
}

/// `PRAGMA name = value` / `PRAGMA name(value)`: SQLite accepts a bare word (`ON`, `WAL`) or a
/// signed number as the value, sqlparser only strings and unsigned numbers. The value becomes
/// a string token with the word's text (or the signed number), so the statement parses.
fn bridge_pragma_value(tokens: &mut [TokenWithSpan], pragma: usize) {
    let significant: Vec<usize> = (pragma..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .take_while(|&i| tokens[i].token != Token::SemiColon)
        .collect();
    let Some(open) = significant
        .iter()
        .position(|&i| matches!(tokens[i].token, Token::Eq | Token::LParen))
    else {
        return;
    };
    match significant[open + 1..] {
        [value, ..] if matches!(&tokens[value].token, Token::Word(w) if w.quote_style.is_none()) => {
            if let Token::Word(word) = &tokens[value].token {
                tokens[value].token = Token::SingleQuotedString(word.value.clone());
            }
        }
        [sign, number, ..]
            if matches!(tokens[sign].token, Token::Minus | Token::Plus)
                && matches!(tokens[number].token, Token::Number(..)) =>
        {
            if let Token::Number(digits, _) = &tokens[number].token {
                let signed = format!("{}{digits}", tokens[sign].token);
                tokens[number].token = Token::SingleQuotedString(signed);
                tokens[sign].token = Token::Whitespace(Whitespace::Space);
            }
        }
        _ => {}
    }
}

/// The rule ids of `-- godwit:allow` comments in the comment lines directly above `line`, and
/// where those comments are:
/// the run of lines holding only comments that ends on the line before the statement. A blank
/// line or code ends the run, so a comment meant for one statement cannot reach the next.
fn allowed_above(gap: &[TokenWithSpan], line: u64) -> (Vec<String>, Vec<(usize, usize)>) {
    let mut ids = Vec::new();
    let mut comments = Vec::new();
    let mut expected = line.saturating_sub(1);
    for token in gap.iter().rev() {
        match &token.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, prefix })
                if prefix == "--" =>
            {
                if token.span.start.line != expected || !starts_line(gap, token) {
                    break;
                }
                expected -= 1;
                if let Some(list) = allowed_ids(comment) {
                    ids.extend(list);
                    let at = token.span.start;
                    comments.push((to_usize(at.line), to_usize(at.column)));
                }
            }
            Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline) => {}
            _ => break,
        }
    }
    (ids, comments)
}

/// Whether `comment` is the first non-blank token on its line within `gap` (a comment after a
/// statement's `;` on the same line belongs to that statement, not to the next one).
fn starts_line(gap: &[TokenWithSpan], comment: &TokenWithSpan) -> bool {
    let line = comment.span.start.line;
    !gap.iter().any(|t| {
        t.span.start.line == line
            && t.span.start.column < comment.span.start.column
            && !matches!(
                t.token,
                Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline)
            )
    })
}

/// `s` on one line, cut to [`EXCERPT_CHARS`].
fn shorten(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= EXCERPT_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(EXCERPT_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The file's text with an index of line starts, to turn token locations into byte offsets.
struct Text<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(sql: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        Text { sql, line_starts }
    }

    /// Byte offset of a 1-based line and character column.
    fn offset(&self, location: Location) -> usize {
        let line = to_usize(location.line).saturating_sub(1);
        let Some(&start) = self.line_starts.get(line) else {
            return self.sql.len();
        };
        let column = to_usize(location.column).saturating_sub(1);
        self.sql[start..]
            .char_indices()
            .nth(column)
            .map_or(self.sql.len(), |(i, _)| start + i)
    }

    /// The statement's tokens as written, comments dropped and whitespace folded, shortened.
    fn excerpt(&self, tokens: &[TokenWithSpan]) -> String {
        let mut out = String::new();
        for token in tokens {
            if matches!(token.token, Token::Whitespace(_)) {
                out.push(' ');
            } else {
                let from = self.offset(token.span.start);
                let to = self.offset(token.span.end).max(from);
                out.push_str(&self.sql[from..to]);
            }
        }
        shorten(&out)
    }
}
