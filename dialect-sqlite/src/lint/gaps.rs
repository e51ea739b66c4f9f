//! Statements that sqlparser 0.64 cannot read but SQLite migrations hold (see core's
//! `lint/gaps.rs` for the forms every dialect shares): FTS5 options, the `ON CONFLICT` clauses
//! of table constraints and `CREATE TRIGGER IF NOT EXISTS` are rewritten on the token stream,
//! never on the text, so that the statement parses and every rule reads it as it would read
//! what was written. Token positions are kept, so every location still points into the file.

use godwit_core::lint::bridging::{hide, keyword, parentheses_after, statement_tokens};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Rewrite the statement starting at `start`, whose opening words are `words`, when it is one
/// of the forms this module bridges.
pub(crate) fn bridge(tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
    let keywords: Vec<Keyword> = words.iter().map(|&(_, keyword)| keyword).collect();
    match keywords.as_slice() {
        [Keyword::CREATE, Keyword::VIRTUAL, Keyword::TABLE, ..] => {
            hide_module_arguments(tokens, start);
        }
        [
            Keyword::CREATE,
            Keyword::TEMP | Keyword::TEMPORARY,
            Keyword::TABLE,
            ..,
        ]
        | [Keyword::CREATE, Keyword::TABLE, ..] => {
            hide_conflict_clauses(tokens, start);
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
        ] => {
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
