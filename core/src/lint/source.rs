//! A migration file cut into located statements: tokenized and parsed by sqlparser, with the
//! `-- godwit:allow` comments written above each statement.
//!
//! The statement loop is driven here rather than by `Parser::parse_sql`, for four reasons:
//!
//! - **Locations.** A statement's line and column are those of its first token. sqlparser's
//!   `Spanned` is empty for several statement kinds godwit needs (`DROP`, `ALTER TYPE`, `SET`,
//!   `PRAGMA`) and starts at the table name rather than at `CREATE` for others.
//! - **Recovery.** One statement sqlparser cannot read (`REINDEX`, a typo) becomes a
//!   `parse-error` finding for that statement; the statements after it are still linted. Where
//!   it ends is read from the tokens' structure (a trigger's `BEGIN ... END` body holds `;`s of
//!   its own), and the table it creates, if any, from its first tokens, so the statements after
//!   it still know the table is new.
//! - **Gaps in sqlparser 0.64**: valid statements it cannot read are bridged on the token
//!   stream so that they parse (`DROP INDEX CONCURRENTLY`, FTS5 options), or, when no rule
//!   examines them (a PostgreSQL `DO` block), recognised and not linted (`gaps.rs`).
//! - **Memory.** A file is read a window at a time and each statement is handed on as soon as
//!   it is parsed, so the tokens and syntax trees of a whole file are never held at once: they
//!   take about fifty times the file's size, and a data migration can be 50 MB. A window ends
//!   anywhere (even inside a string or a word), so only the statements whose `;` is followed by
//!   several more whole tokens are taken from it; they are tokenized and parsed exactly as in
//!   the whole file, because the tokenizer and the parser look at most a few tokens ahead. The
//!   next window starts at that `;`, where the tokenizer starts as it would after any `;`.

use std::cell::Cell;

use sqlparser::ast::{ObjectName, Statement};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::api::LintRules;
use super::comments::allowed_ids;
use super::gaps;

/// Longest excerpt, in characters, before it is cut with an ellipsis.
const EXCERPT_CHARS: usize = 80;

/// Bytes of the file tokenized at once. Its tokens take about twenty times as much memory; a
/// window grows only when it does not hold one whole statement.
pub(crate) const WINDOW: usize = 64 * 1024;

/// Non-whitespace tokens that must follow a statement's `;` in a window before the statement
/// is taken from it. The window's end may cut the last tokens short (a word, a number), and
/// the parser peeks a few tokens past a statement; this many keep both away from it.
const SETTLED: usize = 16;

/// One statement of the file, where it starts and what it says. It borrows the window it was
/// read from, so it lives only as long as [`Visit::statement`] runs.
#[derive(Debug)]
pub(crate) struct Located<'w> {
    /// 1-based line of its first token.
    pub line: usize,
    /// 1-based column (in characters) of its first token.
    pub column: usize,
    /// Rule ids named by `-- godwit:allow` comments directly above it.
    pub allowed: Vec<String>,
    /// Where those `-- godwit:allow` comments are (line, column), so that one that applies to
    /// no statement can be reported.
    pub allow_comments: Vec<(usize, usize)>,
    /// What the parser made of it.
    pub body: Body,
    /// Its text, read only when an excerpt is asked for.
    source: Source<'w>,
}

/// Where a statement's excerpt comes from.
#[derive(Debug)]
enum Source<'w> {
    /// Its tokens as written, in the window's text.
    Tokens {
        tokens: &'w [TokenWithSpan],
        text: &'w Text<'w>,
    },
    /// The line it starts on, for a statement the tokenizer could not read.
    Line(&'w str),
}

impl Located<'_> {
    /// Whether a `-- godwit:allow` comment above the statement names `rule`.
    pub(super) fn allows(&self, rule: &str) -> bool {
        self.allowed.iter().any(|id| id == rule)
    }

    /// The statement on one line, shortened.
    pub(super) fn excerpt(&self) -> String {
        match &self.source {
            Source::Tokens { tokens, text } => text.excerpt(tokens),
            Source::Line(line) => shorten(line),
        }
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
    /// A valid statement that no rule examines, so not reading it misses nothing: what it is
    /// (`a DO block, whose body is PL/pgSQL`; see [`gaps::not_linted`]).
    NotLinted(&'static str),
}

/// What reads a file's statements.
pub(crate) trait Visit {
    /// The next statement of the file.
    fn statement(&mut self, statement: Located<'_>);

    /// The next tokens of the file as written, comments included. Every token is handed on
    /// once, in order, unless the tokenizer gives up on the file.
    fn tokens(&mut self, _tokens: &[TokenWithSpan]) {}
}

/// Hand the statements of the file to `visit`, in order.
///
/// Where the tokenizer gives up (a string or comment that may not have ended), nothing after
/// can be cut reliably: the statements that end before that point are handed on as usual, then
/// one [`Body::Untokenizable`] pseudo-statement where the broken statement starts.
pub(crate) fn read(rules: &dyn LintRules, sql: &str, visit: &mut dyn Visit) {
    read_in_windows(rules, sql, WINDOW, visit);
}

/// [`read`] with windows of `window` bytes, which tests make small to cut files everywhere.
pub(crate) fn read_in_windows(
    rules: &dyn LintRules,
    sql: &str,
    window: usize,
    visit: &mut dyn Visit,
) {
    let reader = Reader {
        rules,
        dialect: rules.grammar(),
        sql,
        window: window.max(1),
    };
    reader.read(0, sql.len(), Location::new(1, 1), visit);
}

/// One file being read.
struct Reader<'a> {
    /// The dialect's lint, which bridges and recognises its own forms.
    rules: &'a dyn LintRules,
    /// Its grammar.
    dialect: &'a dyn Dialect,
    sql: &'a str,
    window: usize,
}

/// What one window gave.
enum Step {
    /// The text is read to its end.
    Done,
    /// The statements before the `;` at byte `at` (at `location`) are handed on; the next
    /// window starts there.
    Cut { at: usize, location: Location },
    /// No statement could be taken: the window is too small for the next one.
    Grow,
}

impl Reader<'_> {
    /// Read the text from byte `from` to byte `to`, whose first character is at `base`.
    fn read(&self, from: usize, to: usize, mut base: Location, visit: &mut dyn Visit) {
        let mut start = from;
        let mut size = self.window;
        loop {
            let mut end = start.saturating_add(size).min(to);
            while !self.sql.is_char_boundary(end) {
                end += 1;
            }
            match self.window(start, end, end == to, base, visit) {
                Step::Done => return,
                Step::Cut { at, location } => {
                    start = at;
                    base = location;
                    size = self.window;
                }
                Step::Grow => size = size.saturating_mul(2),
            }
        }
    }

    /// Read the statements of the window from byte `from` to byte `to`, which starts at
    /// `base`; `last` when it reaches the end of the text.
    fn window(
        &self,
        from: usize,
        to: usize,
        last: bool,
        base: Location,
        visit: &mut dyn Visit,
    ) -> Step {
        let text = Text::new(&self.sql[from..to], base);
        let mut written = Vec::new();
        let tokenized = Tokenizer::new(self.dialect, text.sql)
            .tokenize_with_location_into_buf_with_mapper(&mut written, |token| TokenWithSpan {
                span: Span::new(
                    shifted(base, token.span.start),
                    shifted(base, token.span.end),
                ),
                token: token.token,
            });
        // In a window that is not the last, the tokens before the one that failed are whole:
        // the window's end may have cut a string or a comment short, and the statements
        // settled before it are still taken.
        if let Err(error) = tokenized
            && last
        {
            self.untokenizable(from, &text, shifted(base, error.location), &error, visit);
            return Step::Done;
        }
        // Excerpts and comments are read from the tokens as written, before the bridging below.
        let mut tokens = written.clone();
        let hidden_concurrently = gaps::bridge(self.rules, &mut tokens);

        // Statements parsed but not handed on yet, because the window's next start cannot be
        // at the `;` that ends them (see `restart_at`).
        let mut pending = Vec::new();
        // Index (in `tokens`) of the `;` where the next window starts.
        let mut cut = None;
        let mut parser = Parser::new(self.dialect).with_tokens_with_locations(tokens.clone());
        // Index (in `tokens`) just after the previous statement, where the comment search stops.
        let mut previous_end = 0;
        loop {
            while parser.consume_token(&Token::SemiColon) {}
            if parser.peek_token_ref().token == Token::EOF {
                break;
            }
            let start = skip_whitespace(&tokens, parser.index());
            let result = parser.parse_statement();
            let next = &parser.peek_token_ref().token;
            let complete = matches!(next, Token::SemiColon | Token::EOF);
            let (body, end) = match result {
                Ok(statement) if complete => {
                    // At its `;`, so the excerpt keeps the words a bridge hid at its end (an
                    // FTS5 table's arguments, `WITH NO DATA`).
                    let end = significant_from(&tokens, parser.index()).unwrap_or(tokens.len());
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
                            ParserError::ParserError(message)
                            | ParserError::TokenizerError(message),
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
                    // Resume after the `;` that ends the statement. The tokenizer keeps
                    // strings, comments and dollar quotes whole, so every `;` token is real; of
                    // those, the one that closes the statement's parentheses and `BEGIN ...
                    // END` / `CASE ... END` blocks ends it. When they never close (a broken
                    // statement that lost a parenthesis), the first `;` at or after the token
                    // the parser stopped on is the best guess left.
                    let stopped = parser.index().saturating_sub(1);
                    let end = structural_end(&tokens, start)
                        .filter(|&end| end >= stopped)
                        .unwrap_or_else(|| {
                            (stopped.max(start)..tokens.len())
                                .find(|&index| tokens[index].token == Token::SemiColon)
                                .unwrap_or(tokens.len())
                        });
                    let known = known(self.rules, &tokens[start..end]);
                    seek(&mut parser, end);
                    (
                        Body::Unparsed {
                            reason: name_invisible(&message),
                            known,
                        },
                        end,
                    )
                }
            };
            if !last && !settled(&tokens, end) {
                break;
            }
            let location = tokens[start].span.start;
            let (allowed, allow_comments) =
                allowed_above(&written[previous_end..start], location.line);
            pending.push(Located {
                line: to_usize(location.line),
                column: to_usize(location.column),
                allowed,
                allow_comments,
                body,
                source: Source::Tokens {
                    tokens: &written[start..end],
                    text: &text,
                },
            });
            previous_end = end;
            if let Some(semicolon) = restart_at(&tokens, end) {
                for statement in pending.drain(..) {
                    visit.statement(statement);
                }
                cut = Some(semicolon);
            }
        }
        if last {
            for statement in pending {
                visit.statement(statement);
            }
            visit.tokens(&written);
            return Step::Done;
        }
        // The statements still pending are parsed again in the next window.
        drop(pending);
        match cut {
            Some(semicolon) => {
                visit.tokens(&written[..semicolon]);
                let location = written[semicolon].span.start;
                Step::Cut {
                    at: from + text.offset(location),
                    location,
                }
            }
            None => Step::Grow,
        }
    }

    /// The tokenizer gave up at `stop` in the last window, which starts at byte `from`: hand
    /// on the statements that end with a `;` before that point, then where the broken
    /// statement starts.
    fn untokenizable(
        &self,
        from: usize,
        text: &Text<'_>,
        stop: Location,
        error: &sqlparser::tokenizer::TokenizerError,
        visit: &mut dyn Visit,
    ) {
        let prefix_end = from + text.offset(stop);
        let start = match Tokenizer::new(self.dialect, &self.sql[from..prefix_end])
            .tokenize_with_location()
        {
            Err(_) => stop,
            Ok(tokens) => match tokens.iter().rposition(|t| t.token == Token::SemiColon) {
                None => tokens
                    .get(skip_whitespace(&tokens, 0))
                    .map_or(stop, |t| shifted(text.base, t.span.start)),
                Some(last) => {
                    let next = skip_whitespace(&tokens, last + 1);
                    let start = match tokens.get(next) {
                        Some(token) if next > last => shifted(text.base, token.span.start),
                        _ => stop,
                    };
                    // The text up to that `;` tokenizes, so this does not come back here.
                    let end = from + text.offset(shifted(text.base, tokens[last].span.end));
                    self.read(from, end, text.base, visit);
                    start
                }
            },
        };
        let line = to_usize(start.line).max(1);
        let at = from + text.offset(start);
        let line_start = self.sql[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.sql[at..].find('\n').map_or(self.sql.len(), |i| at + i);
        let line_text = if to_usize(start.line) == 0 {
            ""
        } else {
            &self.sql[line_start..line_end]
        };
        visit.statement(Located {
            line,
            column: to_usize(start.column).max(1),
            allowed: Vec::new(),
            allow_comments: Vec::new(),
            // The error's own display places it in the window.
            body: Body::Untokenizable(name_invisible(&format!("{}{stop}", error.message))),
            source: Source::Line(line_text),
        });
    }
}

/// `location`, relative to a window that starts at `base`, in the whole file. An empty
/// location stays empty.
fn shifted(base: Location, location: Location) -> Location {
    match location.line {
        0 => location,
        1 => Location::new(base.line, base.column + location.column - 1),
        line => Location::new(base.line + line - 1, location.column),
    }
}

/// Move the parser to token `index`, where the next statement's search for its start begins,
/// as a parser made afresh on the tokens from there would be. sqlparser keeps no state between
/// statements that a failed one could leave behind, so no tokens are copied.
fn seek(parser: &mut Parser<'_>, index: usize) {
    while parser.index() < index {
        parser.next_token_no_skip();
    }
    while parser.index() > index {
        parser.prev_token();
    }
}

/// The first non-whitespace token at or after `index`, if any.
fn significant_from(tokens: &[TokenWithSpan], index: usize) -> Option<usize> {
    (index..tokens.len()).find(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
}

/// Whether the statement that ends before token `end` can be taken from a window that does
/// not reach the end of the file: it ends with a `;`, and [`SETTLED`] whole tokens follow.
fn settled(tokens: &[TokenWithSpan], end: usize) -> bool {
    let Some(semicolon) = significant_from(tokens, end) else {
        return false;
    };
    tokens[semicolon].token == Token::SemiColon
        && tokens[semicolon + 1..]
            .iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_)))
            .take(SETTLED)
            .count()
            == SETTLED
}

/// The `;` after token `end` where a window can start: not one that ends `COPY ... FROM
/// STDIN`, whose rows the tokenizer reads after that `;` (and hands on before it), so that a
/// tokenizer started at the `;` would read them as SQL.
fn restart_at(tokens: &[TokenWithSpan], end: usize) -> Option<usize> {
    let semicolon = significant_from(tokens, end)?;
    let after_rows = semicolon
        .checked_sub(1)
        .is_some_and(|before| matches!(tokens[before].token, Token::CopyData { .. }));
    (tokens[semicolon].token == Token::SemiColon && !after_rows).then_some(semicolon)
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
fn known(rules: &dyn LintRules, tokens: &[TokenWithSpan]) -> Known {
    if let Some(what) = gaps::not_linted(rules, tokens) {
        return Known::NotLinted(what);
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
        _ => created_relation(rules.grammar(), tokens).map_or(Known::Nothing, Known::Creates),
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

/// A window of the file, to turn token locations into byte offsets in it.
#[derive(Debug)]
struct Text<'a> {
    sql: &'a str,
    /// Where its first character is in the file.
    base: Location,
    /// The last location turned into an offset, and that offset: locations are asked for in
    /// order, so each is found by reading on from the one before, and reading a window's
    /// statements and their excerpts reads its text once, however long its lines are.
    cursor: Cell<(Location, usize)>,
}

impl<'a> Text<'a> {
    fn new(sql: &'a str, base: Location) -> Self {
        Text {
            sql,
            base,
            cursor: Cell::new((base, 0)),
        }
    }

    /// Byte offset of a location (1-based line and character column, in the file), or the
    /// window's length when it lies beyond it.
    fn offset(&self, location: Location) -> usize {
        let target = (location.line, location.column);
        let (mut at, mut byte) = self.cursor.get();
        if target < (at.line, at.column) {
            (at, byte) = (self.base, 0);
        }
        if target < (at.line, at.column) {
            return 0;
        }
        for c in self.sql[byte..].chars() {
            if (at.line, at.column) >= target {
                break;
            }
            byte += c.len_utf8();
            if c == '\n' {
                at = Location::new(at.line + 1, 1);
            } else {
                at.column += 1;
            }
        }
        self.cursor.set((at, byte));
        byte
    }

    /// The statement's tokens as written, comments dropped and whitespace folded, shortened.
    fn excerpt(&self, tokens: &[TokenWithSpan]) -> String {
        let mut out = String::new();
        let mut visible = 0;
        for token in tokens {
            if matches!(token.token, Token::Whitespace(_)) {
                out.push(' ');
                continue;
            }
            let from = self.offset(token.span.start);
            let to = self.offset(token.span.end).max(from);
            let written = &self.sql[from..to];
            out.push_str(written);
            // What `shorten` keeps is settled once more characters than it keeps are in: the
            // rest of a long statement is not read.
            visible += written.chars().filter(|c| !c.is_whitespace()).count();
            if visible > EXCERPT_CHARS {
                break;
            }
        }
        shorten(&out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};

    use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};

    use super::*;
    use crate::lint::LintFacts;

    /// A dialect's grammar alone, with no rules, bridges or facts of its own: what the
    /// reading of a file depends on besides the dialect's token bridges.
    pub(crate) struct Grammar<D>(pub D);

    impl<D: Dialect + Send + Sync> LintRules for Grammar<D> {
        fn grammar(&self) -> &dyn Dialect {
            &self.0
        }

        fn facts(&self) -> LintFacts {
            LintFacts::new("test")
        }
    }

    /// The grammar of the dialect a fixture is written for.
    pub(crate) fn grammar(dialect: &str) -> Box<dyn LintRules> {
        match dialect {
            "postgres" => Box::new(Grammar(PostgreSqlDialect {})),
            _ => Box::new(Grammar(SQLiteDialect {})),
        }
    }

    /// Window sizes that cut files everywhere: inside words, strings, comments, multi-byte
    /// characters and `COPY` rows, and between every pair of statements.
    pub(crate) const SMALL_WINDOWS: &[usize] = &[1, 2, 3, 5, 8, 13, 31, 64, 100, 257, 1024];

    /// Every lint fixture with the dialect it is written for.
    pub(crate) fn fixtures() -> Vec<(&'static str, PathBuf)> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tests/lint"),
            &mut paths,
        );
        paths.sort();
        assert!(paths.len() > 50, "the lint fixtures are found");
        paths
            .into_iter()
            .map(|path| {
                let dialect = if path.components().any(|c| c.as_os_str() == "postgres") {
                    "postgres"
                } else {
                    "sqlite"
                };
                (dialect, path)
            })
            .collect()
    }

    /// A file of everything that makes cutting it hard, for both dialects.
    pub(crate) const TORTURE: &str = "-- godwit:allow drop-table\n\
        DROP TABLE a; -- godwit:allow drop-table\n\
        CREATE TABLE \"é; tête\" (x text DEFAULT 'a;b\nc', y text); /* c;\n; */ SELECT 1;\r\n\
        CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM b; END;\n\
        SELECT CASE WHEN 1 = 1 THEN 'ü' ELSE 'ß' END; SELECT 'x' || 'y' AS \"😀\";\n\
        DO $$ BEGIN PERFORM 1; END $$;\n\
        COPY t (a, b) FROM STDIN;\n1\tx;y\n2\tz\n\\.\n\
        REINDEX INDEX CONCURRENTLY i; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -2000;\n\
        DROP INDEX CONCURRENTLY i; CREATE MATERIALIZED VIEW v AS SELECT 1 WITH NO DATA;\n\
        INSERT INTO t VALUES (1, 'broken' ; SELECT 2; SELECT (3;\n\
        SELECT 4; SET CONSTRAINTS ALL DEFERRED; VACUUM (ANALYZE) t;\n\
        -- godwit:allow not-a-rule\n\
        ALTER TABLE a ADD COLUMN b int REFERENCES c (id);\n\
        SELECT 5;\n";

    /// What a reading hands on, in a form that can be compared.
    #[derive(Default)]
    struct Record {
        statements: Vec<String>,
        tokens: Vec<TokenWithSpan>,
    }

    impl Visit for Record {
        fn statement(&mut self, statement: Located<'_>) {
            self.statements.push(format!(
                "{}:{} {:?} {:?} {:?} | {}",
                statement.line,
                statement.column,
                statement.allowed,
                statement.allow_comments,
                statement.body,
                statement.excerpt()
            ));
        }

        fn tokens(&mut self, tokens: &[TokenWithSpan]) {
            self.tokens.extend_from_slice(tokens);
        }
    }

    fn record(rules: &dyn LintRules, sql: &str, window: usize) -> Record {
        let mut record = Record::default();
        read_in_windows(rules, sql, window, &mut record);
        record
    }

    /// The file read whole (as before windows: one window holds all of it) and read in small
    /// windows give the same statements, with the same syntax trees, spans, excerpts and
    /// allow comments, and hand on the same tokens once each.
    fn assert_windows_change_nothing(rules: &dyn LintRules, sql: &str, name: &str) {
        let whole = record(rules, sql, usize::MAX);
        assert!(!whole.statements.is_empty(), "{name} has statements");
        for &window in SMALL_WINDOWS {
            let cut = record(rules, sql, window);
            for (at, (cut, whole)) in cut.statements.iter().zip(&whole.statements).enumerate() {
                assert_eq!(
                    cut, whole,
                    "{name} read in windows of {window} bytes, statement {at}"
                );
            }
            assert_eq!(
                cut.statements.len(),
                whole.statements.len(),
                "{name} read in windows of {window} bytes"
            );
            assert_eq!(
                cut.tokens, whole.tokens,
                "{name} tokens in windows of {window} bytes"
            );
        }
    }

    #[test]
    fn reading_in_windows_changes_nothing_in_the_fixtures() {
        for (dialect, path) in fixtures() {
            let sql = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            assert_windows_change_nothing(grammar(dialect).as_ref(), &sql, &name);
        }
    }

    #[test]
    fn reading_in_windows_changes_nothing_in_hard_cases() {
        assert_windows_change_nothing(&Grammar(PostgreSqlDialect {}), TORTURE, "postgres");
        assert_windows_change_nothing(&Grammar(SQLiteDialect {}), TORTURE, "sqlite");
        let unterminated = format!("{TORTURE}SELECT 6; SELECT 'never closed;\nSELECT 7;\n");
        let postgres = Grammar(PostgreSqlDialect {});
        assert_windows_change_nothing(&postgres, &unterminated, "unterminated");
        let last = record(&postgres, &unterminated, 8);
        assert!(
            last.statements.last().unwrap().contains("Untokenizable"),
            "{:?}",
            last.statements.last()
        );
    }

    #[test]
    fn a_window_holds_a_bounded_part_of_a_long_file() {
        /// The most tokens handed on at once.
        #[derive(Default)]
        struct Largest(usize, usize);
        impl Visit for Largest {
            fn statement(&mut self, _: Located<'_>) {
                self.0 += 1;
            }
            fn tokens(&mut self, tokens: &[TokenWithSpan]) {
                self.1 = self.1.max(tokens.len());
            }
        }
        let statement = "INSERT INTO t (a, b) VALUES (1, 'some text; more');\n";
        let sql = statement.repeat(20_000);
        let mut largest = Largest::default();
        read(&Grammar(SQLiteDialect {}), &sql, &mut largest);
        assert_eq!(largest.0, 20_000);
        let per_statement = Tokenizer::new(&SQLiteDialect {}, statement)
            .tokenize()
            .unwrap()
            .len();
        assert!(
            largest.1 <= (WINDOW / statement.len() + 1) * per_statement,
            "{} tokens held at once, of {}",
            largest.1,
            20_000 * per_statement
        );
    }
}
