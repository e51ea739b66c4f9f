//! Statements that sqlparser 0.64 cannot read but PostgreSQL migrations hold (see core's
//! `lint/gaps.rs` for the forms every dialect shares). Each is handled on the token stream,
//! never on the text:
//!
//! - **Bridged**: the identity and generation changes of `ALTER COLUMN`, a `COLLATE` in its new
//!   type, and the string arguments a trigger passes to its function are rewritten so that the
//!   statement parses, and every rule reads it as it would read what was written. Token
//!   positions are kept, so every location still points into the file.
//! - **Not linted**: a statement that no rule examines (a `DO` block, whose body is PL/pgSQL; a
//!   function, procedure, domain or sequence; a comment), recognised by its opening words and
//!   shape. Not reading it misses nothing a rule checks, so it is no `parse-error`, unless one
//!   of its lines starts a statement that parses on its own: the `;` above that line was
//!   forgotten, and the rules would miss what follows.

use godwit_core::lint::bridging::{hide, keyword, parentheses_after, statement_tokens};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Rewrite the statement starting at `start`, whose opening words are `words`, when it is one
/// of the forms this module bridges.
pub(crate) fn bridge(tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
    let keywords: Vec<Keyword> = words.iter().map(|&(_, keyword)| keyword).collect();
    match keywords.as_slice() {
        [Keyword::ALTER, Keyword::TABLE, ..] => bridge_alter_column(tokens, start),
        [
            Keyword::CREATE,
            Keyword::OR,
            Keyword::REPLACE,
            Keyword::TRIGGER | Keyword::CONSTRAINT,
            ..,
        ]
        | [Keyword::CREATE, Keyword::TRIGGER | Keyword::CONSTRAINT, ..] => {
            hide_trigger_arguments(tokens, start);
        }
        _ => {}
    }
}

/// What a statement sqlparser could not read is, when it is valid SQL that no rule examines
/// (see the module's documentation): `DO` blocks, functions, procedures, domains, sequences
/// and comments.
pub(crate) fn not_linted(tokens: &[TokenWithSpan]) -> Option<&'static str> {
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
    (!hides_a_statement(tokens)).then_some(what)
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
fn hides_a_statement(tokens: &[TokenWithSpan]) -> bool {
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
                    let mut parser = Parser::new(&PostgreSqlDialect {})
                        .with_tokens_with_locations(tokens[index..].to_vec());
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
