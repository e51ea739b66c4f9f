//! The `godwit:` comments of a file that do nothing, so that a typo in one is reported instead
//! of silently leaving a statement unexempted or a migration in a transaction.
//!
//! Comments are read from sqlparser's tokens, so `godwit:` inside a string or a dollar quote is
//! not a comment. They are gathered while the file's statements are read, and judged once all
//! of them are, since whether an allow comment applies depends on the statements.

use std::collections::HashSet;

use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use super::api::Hit;
use super::rules::{id, similar};

/// A comment that speaks to godwit, located.
#[derive(Debug)]
pub(crate) struct Misused {
    /// 1-based line of the comment.
    pub line: usize,
    /// 1-based column of the comment.
    pub column: usize,
    /// The comment, on one line.
    pub excerpt: String,
    /// What is wrong with it.
    pub hit: Hit,
}

/// The rule ids of an allow comment's text (what follows `--`): `godwit:allow a, b` (spaces
/// around the `:` are tolerated, as for `godwit:no-transaction`). `None` when the comment is
/// not an allow comment.
pub(crate) fn allowed_ids(comment: &str) -> Option<Vec<String>> {
    let directive = comment.trim().strip_prefix("godwit:")?.trim_start();
    let list = directive.strip_prefix("allow")?;
    if !list.is_empty() && !list.starts_with(char::is_whitespace) {
        return None;
    }
    Some(
        list.split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// A `godwit:` comment of the file, as the tokenizer read it.
#[derive(Debug)]
struct Comment {
    line: usize,
    column: usize,
    /// The comment's text (after `--`, or between `/*` and `*/`).
    text: String,
    /// A `/* ... */` comment.
    block: bool,
    /// Only comments come before it: it is among the lines that open the file.
    leading: bool,
}

/// The `godwit:` comments of a file, gathered from its tokens as they are read.
#[derive(Debug)]
pub(crate) struct Comments {
    found: Vec<Comment>,
    /// No code has been read yet.
    leading: bool,
}

impl Default for Comments {
    fn default() -> Self {
        Comments {
            found: Vec::new(),
            leading: true,
        }
    }
}

impl Comments {
    /// Read the next tokens of the file. Comments are read from sqlparser's tokens, so
    /// `godwit:` inside a string or a dollar quote is not a comment.
    pub(super) fn read(&mut self, tokens: &[TokenWithSpan]) {
        for token in tokens {
            let (text, block) = match &token.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                    (comment, false)
                }
                Token::Whitespace(Whitespace::MultiLineComment(comment)) => (comment, true),
                Token::Whitespace(_) => continue,
                _ => {
                    self.leading = false;
                    continue;
                }
            };
            if text.trim().starts_with("godwit:") {
                self.found.push(Comment {
                    line: usize::try_from(token.span.start.line).unwrap_or(usize::MAX),
                    column: usize::try_from(token.span.start.column).unwrap_or(usize::MAX),
                    text: text.clone(),
                    block,
                    leading: self.leading,
                });
            }
        }
    }

    /// Every `godwit:` comment read that does nothing, with the reason. `applied` holds the
    /// (line, column) of the allow comments that stand directly above a statement; `known`
    /// the rule ids an allow comment may name.
    pub(super) fn misused(
        &self,
        applied: &HashSet<(usize, usize)>,
        known: &[&str],
    ) -> Vec<Misused> {
        let mut out = Vec::new();
        for found in &self.found {
            misused(found, applied, known, &mut out);
        }
        out
    }
}

/// What is wrong with one `godwit:` comment, if anything, onto `out`.
fn misused(
    found: &Comment,
    applied: &HashSet<(usize, usize)>,
    known: &[&str],
    out: &mut Vec<Misused>,
) {
    let Comment {
        line,
        column,
        ref text,
        block,
        leading,
    } = *found;
    let Some(directive) = text.trim().strip_prefix("godwit:") else {
        return;
    };
    let directive = directive.trim();
    let written = if block {
        format!("/* godwit:{directive} */")
    } else {
        format!("-- godwit:{directive}")
    };
    let mut report = |message: String| {
        out.push(Misused {
            line,
            column,
            excerpt: written.split_whitespace().collect::<Vec<_>>().join(" "),
            hit: Hit::new(id::INVALID_DIRECTIVE, message),
        });
    };
    if block {
        report(format!(
            "godwit reads directives only from `--` comments, so this block comment does \
             nothing; write `-- godwit:{}` on a line of its own",
            directive.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        return;
    }
    let word = directive.split_whitespace().next().unwrap_or_default();
    if let Some(ids) = allowed_ids(text) {
        if ids.is_empty() {
            report(
                "this `-- godwit:allow` names no rule, so it exempts nothing; list the rule \
                 ids after it: `-- godwit:allow RULE[, RULE...]`"
                    .into(),
            );
        }
        if !ids.is_empty() && !applied.contains(&(line, column)) {
            report(
                "this `-- godwit:allow` is not on the comment lines directly above a \
                 statement (it follows code on its line, a blank line separates it from \
                 the statement, or it sits inside one), so it exempts nothing; put it on a \
                 line of its own right above the statement"
                    .into(),
            );
        }
        for unknown in ids.iter().filter(|id| !known.contains(&id.as_str())) {
            report(format!(
                "`-- godwit:allow` names `{unknown}`, which is no lint rule, so it exempts \
                 nothing; {}",
                did_you_mean(
                    &similar(unknown, known.iter().copied()),
                    "`godwit lint --list` lists every rule"
                )
            ));
        }
    } else if word.starts_with("allow") {
        // `allow:`, `allow=drop-table`, `allowed`: the ids follow whatever glued onto it.
        let ids = directive
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .trim_start_matches([':', '=', ' ', '\t']);
        report(format!(
            "`godwit:{word}` is not a directive, so this comment exempts nothing; write \
             `-- godwit:allow {}`",
            if ids.is_empty() { "RULE" } else { ids }
        ));
    } else if word == "no-transaction" {
        if !leading {
            report(
                "`-- godwit:no-transaction` after the first statement does nothing: godwit \
                 reads directives only from the comment lines that open the file; move it \
                 to the top"
                    .into(),
            );
        }
    } else if !leading {
        // Among the opening comments an unknown directive stops the file from loading at
        // all; further down it would be ignored.
        report(format!(
            "`godwit:{word}` is not a directive godwit knows, so it does nothing; {}",
            did_you_mean(
                &similar(word, crate::Directives::KNOWN.iter().copied()),
                "the directives are `no-transaction` (at the top of the file) and `allow`"
            )
        ));
    }
}

/// `did you mean `a` or `b`?`, or `otherwise` when nothing is alike.
fn did_you_mean(similar: &[&str], otherwise: &str) -> String {
    match similar {
        [] => otherwise.to_string(),
        [one] => format!("did you mean `{one}`?"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|id| format!("`{id}`")).collect();
            format!("did you mean {} or `{last}`?", init.join(", "))
        }
    }
}
