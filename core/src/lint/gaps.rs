//! Statements that sqlparser 0.64 cannot read but migrations hold, valid on the engine they are
//! written for. Each is handled one of two ways, on the token stream, never on the text:
//!
//! - **Bridged**: a few token sequences are rewritten so that the statement parses, and every
//!   rule reads it as it would read what was written: `DROP INDEX CONCURRENTLY`, a
//!   materialized view's closing `WITH [NO] DATA`, SQLite pragmas whose value is a bare word or
//!   a signed number, SQLite's `ON CONFLICT` clauses of table constraints, an FTS5 table's
//!   `key=value` options, SQLite's `CREATE TRIGGER IF NOT EXISTS`, and on PostgreSQL the
//!   identity and generation changes of `ALTER COLUMN`, a `COLLATE` in its new type, and the
//!   string arguments a trigger passes to its function. Token positions are kept (a hidden
//!   token becomes whitespace with the same span), so every location still points into the
//!   file.
//! - **Not linted**: a PostgreSQL statement that no rule examines (a `DO` block, whose body is
//!   PL/pgSQL; a function, procedure, domain or sequence; a comment), recognised by its
//!   opening words and shape. Not reading it misses nothing a rule checks, so it is no
//!   `parse-error`. What sqlparser cannot read otherwise stays one, and so does such a
//!   statement when one of its lines starts a statement that parses on its own: the `;` above
//!   that line was forgotten, and the rules would miss what follows.

use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

/// Rewrite the token sequences of every statement in `tokens` that sqlparser cannot parse
/// but means the same to the rules once rewritten. Returns the indexes of hidden
/// `CONCURRENTLY` tokens.
pub(crate) fn bridge(dialect: &dyn Dialect, tokens: &mut [TokenWithSpan]) -> Vec<usize> {
    let postgres = dialect.is::<PostgreSqlDialect>();
    let sqlite = dialect.is::<SQLiteDialect>();
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
        let words = next_words(tokens, index, 6);
        let keywords: Vec<Keyword> = words.iter().map(|&(_, keyword)| keyword).collect();
        match keywords.as_slice() {
            [Keyword::DROP, Keyword::INDEX, Keyword::CONCURRENTLY, ..] => {
                let (at, _) = words[2];
                hide(tokens, at);
                hidden.push(at);
            }
            [Keyword::PRAGMA, ..] => bridge_pragma_value(tokens, index),
            [Keyword::CREATE, Keyword::MATERIALIZED, ..] => hide_with_data(tokens, index),
            [Keyword::ALTER, Keyword::TABLE, ..] if postgres => bridge_alter_column(tokens, index),
            [
                Keyword::CREATE,
                Keyword::OR,
                Keyword::REPLACE,
                Keyword::TRIGGER | Keyword::CONSTRAINT,
                ..,
            ]
            | [Keyword::CREATE, Keyword::TRIGGER | Keyword::CONSTRAINT, ..]
                if postgres =>
            {
                hide_trigger_arguments(tokens, index)
            }
            [Keyword::CREATE, Keyword::VIRTUAL, Keyword::TABLE, ..] if sqlite => {
                hide_module_arguments(tokens, index);
            }
            [
                Keyword::CREATE,
                Keyword::TEMP | Keyword::TEMPORARY,
                Keyword::TABLE,
                ..,
            ]
            | [Keyword::CREATE, Keyword::TABLE, ..]
                if sqlite =>
            {
                hide_conflict_clauses(tokens, index);
            }
            [
                Keyword::CREATE,
                Keyword::TEMP | Keyword::TEMPORARY,
                Keyword::TRIGGER,
                Keyword::IF,
                Keyword::NOT,
                Keyword::EXISTS,
            ]
            | [
                Keyword::CREATE,
                Keyword::TRIGGER,
                Keyword::IF,
                Keyword::NOT,
                Keyword::EXISTS,
                ..,
            ] if sqlite => {
                // `IF NOT EXISTS` follows `TRIGGER`, which is the second or third word.
                let after = if keywords[1] == Keyword::TRIGGER {
                    2
                } else {
                    3
                };
                for &(at, _) in &words[after..after + 3] {
                    hide(tokens, at);
                }
            }
            _ => {}
        }
    }
    hidden
}

/// What a statement sqlparser could not read is, when it is valid SQL that no rule examines
/// (see the module's documentation): `SET CONSTRAINTS`, and on PostgreSQL `DO` blocks,
/// functions, procedures, domains, sequences and comments.
pub(crate) fn not_linted(dialect: &dyn Dialect, tokens: &[TokenWithSpan]) -> Option<&'static str> {
    if is_set_constraints(tokens) {
        return Some("SET CONSTRAINTS, which only says when constraints are checked");
    }
    if !dialect.is::<PostgreSqlDialect>() {
        return None;
    }
    let significant: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let words: Vec<Keyword> = significant
        .iter()
        .map_while(|token| match token {
            Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
            _ => None,
        })
        .collect();
    let what = match words.as_slice() {
        [Keyword::DO, ..] => {
            return is_do_block(&significant).then_some("a DO block, whose body is PL/pgSQL");
        }
        [Keyword::COMMENT, Keyword::ON, ..] => {
            return is_comment(&significant).then_some("a comment");
        }
        [Keyword::CREATE | Keyword::ALTER | Keyword::DROP, rest @ ..] => {
            let kind = rest.iter().find(|word| {
                !matches!(
                    word,
                    Keyword::OR
                        | Keyword::REPLACE
                        | Keyword::TEMP
                        | Keyword::TEMPORARY
                        | Keyword::UNLOGGED
                )
            });
            match kind {
                Some(
                    Keyword::FUNCTION | Keyword::PROCEDURE | Keyword::ROUTINE | Keyword::AGGREGATE,
                ) => "a function or procedure",
                Some(Keyword::DOMAIN) => "a domain",
                Some(Keyword::SEQUENCE) => "a sequence",
                _ => return None,
            }
        }
        _ => return None,
    };
    (!hides_a_statement(dialect, tokens)).then_some(what)
}

/// `DO [LANGUAGE name] code` or `DO code LANGUAGE name`, the code a string (usually dollar
/// quoted).
fn is_do_block(significant: &[&Token]) -> bool {
    let code = |token: &Token| {
        matches!(
            token,
            Token::DollarQuotedString(_)
                | Token::SingleQuotedString(_)
                | Token::EscapedStringLiteral(_)
        )
    };
    let language = |keyword: &Token, name: &Token| {
        matches!(keyword, Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::LANGUAGE)
            && matches!(name, Token::Word(_) | Token::SingleQuotedString(_))
    };
    match significant {
        [_, body] => code(body),
        [_, first, second, third] => {
            (language(first, second) && code(third)) || (code(first) && language(second, third))
        }
        _ => false,
    }
}

/// `COMMENT ON object IS {string | NULL}`.
fn is_comment(significant: &[&Token]) -> bool {
    match significant {
        [_, _, object @ .., is, value] => {
            !object.is_empty()
                && matches!(is, Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::IS)
                && match value {
                    Token::Word(w) => w.quote_style.is_none() && w.keyword == Keyword::NULL,
                    Token::SingleQuotedString(_)
                    | Token::DollarQuotedString(_)
                    | Token::EscapedStringLiteral(_) => true,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// Keywords that open the statements the rules examine, for [`hides_a_statement`].
const CHECKED_STATEMENTS: &[Keyword] = &[
    Keyword::ALTER,
    Keyword::CREATE,
    Keyword::DROP,
    Keyword::DELETE,
    Keyword::INSERT,
    Keyword::UPDATE,
    Keyword::TRUNCATE,
    Keyword::COMMIT,
    Keyword::ROLLBACK,
    Keyword::VACUUM,
];

/// Whether a line of the statement, outside its parentheses and `BEGIN ... END` blocks, starts
/// with a statement the rules examine that parses on its own to the end: the `;` above it
/// was forgotten.
fn hides_a_statement(dialect: &dyn Dialect, tokens: &[TokenWithSpan]) -> bool {
    let mut depth = 0usize;
    let mut previous_line = None;
    for (index, token) in tokens.iter().enumerate() {
        if matches!(token.token, Token::Whitespace(_)) {
            continue;
        }
        let starts_line = previous_line.is_some_and(|line| token.span.start.line > line);
        previous_line = Some(token.span.end.line);
        match &token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::BEGIN | Keyword::CASE => depth += 1,
                Keyword::END => depth = depth.saturating_sub(1),
                keyword if depth == 0 && starts_line && CHECKED_STATEMENTS.contains(&keyword) => {
                    let mut parser =
                        Parser::new(dialect).with_tokens_with_locations(tokens[index..].to_vec());
                    if parser.parse_statement().is_ok()
                        && parser.peek_token_ref().token == Token::EOF
                    {
                        return true;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    false
}

/// The token at `index` as a keyword, when it is an unquoted word.
fn keyword(tokens: &[TokenWithSpan], index: usize) -> Option<Keyword> {
    match &tokens.get(index)?.token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    }
}

/// Turn the token at `index` into whitespace, keeping its span.
fn hide(tokens: &mut [TokenWithSpan], index: usize) {
    tokens[index].token = Token::Whitespace(Whitespace::Space);
}

/// The indexes of the non-whitespace tokens of the statement that starts at `start`, up to
/// the `;` that ends it (a `;` inside parentheses does not).
fn statement_tokens(tokens: &[TokenWithSpan], start: usize) -> Vec<usize> {
    let mut depth = 0usize;
    let mut found = Vec::new();
    for (index, token) in tokens.iter().enumerate().skip(start) {
        match token.token {
            Token::Whitespace(_) => continue,
            Token::SemiColon if depth == 0 => break,
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        found.push(index);
    }
    found
}

/// The position in `significant` of the `)` that closes the `(` at position `open`, or the
/// end.
fn closing(tokens: &[TokenWithSpan], significant: &[usize], open: usize) -> usize {
    let mut depth = 0usize;
    for (at, &index) in significant.iter().enumerate().skip(open) {
        match tokens[index].token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    significant.len()
}

/// PostgreSQL's `ALTER [COLUMN] c` forms sqlparser does not know, in an `ALTER TABLE`:
/// `DROP IDENTITY [IF EXISTS]`, `DROP EXPRESSION [IF EXISTS]`, and identity changes (`SET
/// GENERATED ...`, `SET INCREMENT BY ...` and the other sequence options, `RESTART WITH n`)
/// are read as `DROP DEFAULT`, which like them rewrites no row and takes the lock every
/// `ALTER TABLE` takes; and a `COLLATE` after a new type (`TYPE text COLLATE "C"`) is hidden,
/// as the collation does not change whether the type change rewrites the table.
fn bridge_alter_column(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    let word = |tokens: &[TokenWithSpan], at: usize| {
        significant
            .get(at)
            .and_then(|&index| keyword(tokens, index))
    };
    // Where each subcommand ends: the next `,` outside parentheses.
    let mut depth = 0usize;
    let mut ends = vec![significant.len(); significant.len()];
    let mut subcommand_start = 0;
    for (at, &index) in significant.iter().enumerate() {
        match tokens[index].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                ends[subcommand_start..at].fill(at);
                subcommand_start = at + 1;
            }
            _ => {}
        }
    }
    // The statement's own `ALTER` opens it; each `ALTER` after it opens a subcommand.
    for (at, &end) in ends.iter().enumerate().skip(1) {
        if word(tokens, at) != Some(Keyword::ALTER) {
            continue;
        }
        let mut op = at + 1;
        if word(tokens, op) == Some(Keyword::COLUMN) {
            op += 1;
        }
        // After the column's name.
        op += 1;
        if op + 1 >= end {
            continue;
        }
        // EXPRESSION is no keyword of sqlparser's.
        let expression = matches!(&tokens[significant[op + 1]].token,
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("expression"));
        let drop_default = match (word(tokens, op), word(tokens, op + 1)) {
            (Some(Keyword::DROP), second) => expression || second == Some(Keyword::IDENTITY),
            (Some(Keyword::SET), second) => matches!(
                second,
                Some(
                    Keyword::GENERATED
                        | Keyword::INCREMENT
                        | Keyword::MINVALUE
                        | Keyword::MAXVALUE
                        | Keyword::START
                        | Keyword::CACHE
                        | Keyword::CYCLE
                        | Keyword::NO
                )
            ),
            (Some(Keyword::RESTART), _) => true,
            _ => false,
        };
        if drop_default {
            tokens[significant[op]].token = Token::make_keyword("DROP");
            tokens[significant[op + 1]].token = Token::make_keyword("DEFAULT");
            for &index in &significant[op + 2..end] {
                hide(tokens, index);
            }
            continue;
        }
        let new_type = matches!(
            (word(tokens, op), word(tokens, op + 1)),
            (Some(Keyword::TYPE), _) | (Some(Keyword::SET), Some(Keyword::DATA))
        );
        let collate = (op..end).find(|&at| word(tokens, at) == Some(Keyword::COLLATE));
        if let (true, Some(collate)) = (new_type, collate) {
            // `COLLATE name` or `COLLATE schema.name`.
            let mut last = collate + 1;
            while significant
                .get(last + 1)
                .is_some_and(|&index| tokens[index].token == Token::Period)
            {
                last += 2;
            }
            for &index in &significant[collate..=last.min(end - 1)] {
                hide(tokens, index);
            }
        }
    }
}

/// PostgreSQL's `CREATE TRIGGER ... EXECUTE {FUNCTION | PROCEDURE} f(arguments)`: the
/// arguments are string constants passed to the trigger function, which sqlparser reads as
/// argument types and rejects; they are hidden.
fn hide_trigger_arguments(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    if let Some((open, close)) = parentheses_after(tokens, &significant, Keyword::EXECUTE) {
        for &index in &significant[open + 1..close] {
            hide(tokens, index);
        }
    }
}

/// SQLite's `CREATE VIRTUAL TABLE t USING module(arguments)`: the arguments are the module's
/// own (FTS5's `content=posts`, `tokenize='porter'`), which sqlparser reads as column names and
/// rejects when they are not; no rule reads them, so they are hidden with their parentheses.
fn hide_module_arguments(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    if let Some((open, close)) = parentheses_after(tokens, &significant, Keyword::USING) {
        for &index in &significant[open..=close.min(significant.len() - 1)] {
            hide(tokens, index);
        }
    }
}

/// The positions in `significant` of the first `(` after the keyword `after`, and of the `)`
/// that closes it (or the end).
fn parentheses_after(
    tokens: &[TokenWithSpan],
    significant: &[usize],
    after: Keyword,
) -> Option<(usize, usize)> {
    let keyword_at = significant
        .iter()
        .position(|&index| keyword(tokens, index) == Some(after))?;
    let open = keyword_at
        + significant[keyword_at..]
            .iter()
            .position(|&index| tokens[index].token == Token::LParen)?;
    Some((open, closing(tokens, significant, open)))
}

/// SQLite's `ON CONFLICT {ROLLBACK | ABORT | FAIL | IGNORE | REPLACE}` on a `CREATE TABLE`'s
/// constraints: sqlparser reads it on a column's but not on a table constraint's
/// (`PRIMARY KEY (a, b) ON CONFLICT ROLLBACK`). It says what an `INSERT` does on a conflict,
/// which no rule reads, so it is hidden everywhere in the column list.
fn hide_conflict_clauses(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    let mut depth = 0usize;
    for at in 0..significant.len() {
        match tokens[significant[at]].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        let word = |offset: usize| {
            significant
                .get(at + offset)
                .and_then(|&index| keyword(tokens, index))
        };
        if depth == 1
            && word(0) == Some(Keyword::ON)
            && word(1) == Some(Keyword::CONFLICT)
            && matches!(
                word(2),
                Some(
                    Keyword::ROLLBACK
                        | Keyword::ABORT
                        | Keyword::FAIL
                        | Keyword::IGNORE
                        | Keyword::REPLACE
                )
            )
        {
            for &index in &significant[at..at + 3] {
                hide(tokens, index);
            }
        }
    }
}

/// `CREATE MATERIALIZED VIEW ... WITH [NO] DATA`: sqlparser reads the view without
/// its closing `WITH [NO] DATA`, which only says whether the view is filled now, so those words
/// are hidden.
fn hide_with_data(tokens: &mut [TokenWithSpan], create: usize) {
    let significant = statement_tokens(tokens, create);
    let keyword = |i: usize| keyword(tokens, i);
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
        hide(tokens, i);
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
    let significant = statement_tokens(tokens, pragma);
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
                hide(tokens, sign);
            }
        }
        _ => {}
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
