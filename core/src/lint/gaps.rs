//! Statements that sqlparser 0.64 cannot read but migrations hold, valid on the engine they are
//! written for. Each is handled one of two ways, on the token stream, never on the text:
//!
//! - **Bridged**: a few token sequences are rewritten so that the statement parses, and every
//!   rule reads it as it would read what was written. Here, for every dialect: `DROP INDEX
//!   CONCURRENTLY`, a materialized view's closing `WITH [NO] DATA`, and pragmas whose value is
//!   a bare word or a signed number; a dialect bridges its own forms
//!   ([`super::LintRules::bridge`]) with the helpers of [`super::bridging`]. Token positions
//!   are kept (a hidden token becomes whitespace with the same span), so every location still
//!   points into the file.
//! - **Not linted**: a statement that no rule examines, recognised by its opening words and
//!   shape: `SET CONSTRAINTS` here, a dialect's own ([`super::LintRules::not_linted`]). Not
//!   reading it misses nothing a rule checks, so it is no `parse-error`. What sqlparser cannot
//!   read otherwise stays one.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use super::api::LintRules;

/// Rewrite the token sequences of every statement in `tokens` that sqlparser cannot parse
/// but means the same to the rules once rewritten. Returns the indexes of hidden
/// `CONCURRENTLY` tokens.
pub(crate) fn bridge(rules: &dyn LintRules, tokens: &mut [TokenWithSpan]) -> Vec<usize> {
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
            _ => rules.bridge(tokens, index, &words),
        }
    }
    hidden
}

/// What a statement sqlparser could not read is, when it is valid SQL that no rule examines
/// (see the module's documentation): `SET CONSTRAINTS`, and what the dialect says.
pub(crate) fn not_linted(rules: &dyn LintRules, tokens: &[TokenWithSpan]) -> Option<&'static str> {
    if is_set_constraints(tokens) {
        return Some("SET CONSTRAINTS, which only says when constraints are checked");
    }
    rules.not_linted(tokens)
}

/// The token at `index` as a keyword, when it is an unquoted word.
pub fn keyword(tokens: &[TokenWithSpan], index: usize) -> Option<Keyword> {
    match &tokens.get(index)?.token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    }
}

/// Turn the token at `index` into whitespace, keeping its span.
pub fn hide(tokens: &mut [TokenWithSpan], index: usize) {
    tokens[index].token = Token::Whitespace(Whitespace::Space);
}

/// The indexes of the non-whitespace tokens of the statement that starts at `start`, up to
/// the `;` that ends it (a `;` inside parentheses does not).
pub fn statement_tokens(tokens: &[TokenWithSpan], start: usize) -> Vec<usize> {
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

/// The positions in `significant` of the first `(` after the keyword `after`, and of the `)`
/// that closes it (or the end).
pub fn parentheses_after(
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
