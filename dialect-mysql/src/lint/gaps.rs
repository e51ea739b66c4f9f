//! Forms that sqlparser 0.64 cannot read as MySQL does (see core's `lint/gaps.rs` for the forms
//! every dialect shares), rewritten on the token stream, never on the text; token positions are
//! kept, so every location still points into the file.
//!
//! - Table options among an `ALTER TABLE`'s operations (`ENGINE=InnoDB`,
//!   `CONVERT TO CHARACTER SET utf8mb4`, `COMMENT='...'`, `PARTITION BY ...`) become the
//!   `ALGORITHM` clause that says what they cost, which sqlparser reads: `ALGORITHM=COPY` for
//!   the options that copy the table, `ALGORITHM=DEFAULT` (which asks for nothing) for those
//!   that change only the data dictionary.
//! - A trigger whose body is one statement (`FOR EACH ROW SET NEW.a = 1`): sqlparser reads
//!   statements after `FOR EACH ROW` up to an `END`, so without a `BEGIN ... END` block it would
//!   take the rest of the file as the body and lint none of it. The body runs for each row
//!   later, not as a statement of the migration, so no rule reads it: it becomes an empty
//!   `BEGIN END` block.
//!
//! - What an index's definition says about whether the optimizer uses it (MariaDB's
//!   `IGNORED`, MySQL's `INVISIBLE`), MariaDB's `DROP INDEX IF EXISTS` in an `ALTER TABLE`,
//!   and a view's `WITH CHECK OPTION`: no rule reads them, and they are hidden.
//!
//! Not linted: the statements between `DELIMITER` lines, which MySQL users write around
//! procedure, function and trigger bodies (the client, and godwit, change the statement
//! delimiter there; the server never sees those lines), and events. Their bodies run later,
//! when called or scheduled.

use godwit_core::lint::bridging::{hide, keyword, statement_tokens};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Rewrite the statement starting at `start`, whose opening words are `words`, when it is an
/// `ALTER TABLE` with table options.
pub(crate) fn bridge(tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
    match words.first().map(|&(_, keyword)| keyword) {
        Some(Keyword::ALTER) => {
            table_options(tokens, start, words);
            index_options(tokens, start);
        }
        Some(Keyword::CREATE) => {
            trigger_body(tokens, start);
            view_check_option(tokens, start);
            index_options(tokens, start);
        }
        _ => {}
    }
}

/// The words of the significant tokens `significant` of `tokens`, upper-cased (`""` for
/// anything but an unquoted word).
fn words_of(tokens: &[TokenWithSpan], significant: &[usize]) -> Vec<String> {
    significant
        .iter()
        .map(|&index| match &tokens[index].token {
            Token::Word(word) if word.quote_style.is_none() => word.value.to_ascii_uppercase(),
            _ => String::new(),
        })
        .collect()
}

/// Hide what sqlparser does not read of an index's definition: MariaDB's `[NOT] IGNORED`
/// and MySQL's `VISIBLE`/`INVISIBLE` after its key list or comment (whether the optimizer
/// uses it), and `IF EXISTS` in `ALTER TABLE ... DROP INDEX` (MariaDB's).
fn index_options(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    let words = words_of(tokens, &significant);
    for at in 1..significant.len() {
        let after_key = matches!(
            tokens[significant[at - 1]].token,
            Token::RParen | Token::SingleQuotedString(_)
        );
        match words[at].as_str() {
            "IGNORED" | "VISIBLE" | "INVISIBLE" if after_key => hide(tokens, significant[at]),
            "NOT" if after_key && words.get(at + 1).is_some_and(|w| w == "IGNORED") => {
                hide(tokens, significant[at]);
                hide(tokens, significant[at + 1]);
            }
            "IF" if at >= 2
                && words[at - 2] == "DROP"
                && matches!(words[at - 1].as_str(), "INDEX" | "KEY")
                && words.get(at + 1).is_some_and(|w| w == "EXISTS") =>
            {
                hide(tokens, significant[at]);
                hide(tokens, significant[at + 1]);
            }
            _ => {}
        }
    }
}

/// Hide a view's closing `WITH [CASCADED | LOCAL] CHECK OPTION`, which says which rows an
/// update through the view may write and which sqlparser does not read after MySQL's query.
fn view_check_option(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    let words = words_of(tokens, &significant);
    if !words.iter().take(12).any(|w| w == "VIEW") {
        return;
    }
    let tail = match words.as_slice() {
        [.., with, mode, check, option]
            if with == "WITH"
                && matches!(mode.as_str(), "CASCADED" | "LOCAL")
                && check == "CHECK"
                && option == "OPTION" =>
        {
            4
        }
        [.., with, check, option] if with == "WITH" && check == "CHECK" && option == "OPTION" => 3,
        _ => return,
    };
    for &index in &significant[significant.len() - tail..] {
        hide(tokens, index);
    }
}

/// Empty the body of a `CREATE [DEFINER = ...] TRIGGER ... FOR EACH ROW` that is one
/// statement rather than a `BEGIN ... END` block: its first token becomes `BEGIN`, its last
/// `END`, and those between are hidden.
fn trigger_body(tokens: &mut [TokenWithSpan], start: usize) {
    let significant = statement_tokens(tokens, start);
    let word = |at: usize| {
        significant
            .get(at)
            .and_then(|&index| keyword(tokens, index))
    };
    let Some(trigger) = (0..significant.len()).find(|&at| word(at) == Some(Keyword::TRIGGER))
    else {
        return;
    };
    let Some(row) = (trigger..significant.len()).find(|&at| {
        word(at) == Some(Keyword::FOR)
            && word(at + 1) == Some(Keyword::EACH)
            && word(at + 2) == Some(Keyword::ROW)
    }) else {
        return;
    };
    let body = &significant[row + 3..];
    let ([first, .., last], false) = (body, word(row + 3) == Some(Keyword::BEGIN)) else {
        return;
    };
    tokens[*first].token = Token::make_keyword("BEGIN");
    tokens[*last].token = Token::make_keyword("END");
    for &index in &body[1..body.len() - 1] {
        hide(tokens, index);
    }
}

/// Rewrite the table options of `ALTER TABLE` into `ALGORITHM` clauses.
fn table_options(tokens: &mut [TokenWithSpan], start: usize, words: &[(usize, Keyword)]) {
    let Some(table_at) = words
        .iter()
        .take(3)
        .position(|&(_, keyword)| keyword == Keyword::TABLE)
    else {
        return;
    };
    // `ALTER [ONLINE] [IGNORE] TABLE`.
    let significant = statement_tokens(tokens, start);
    let Some(name_at) = significant.iter().position(|&i| i == words[table_at].0) else {
        return;
    };
    // The table's name: words joined by periods.
    let mut at = name_at + 1;
    while at < significant.len() && matches!(tokens[significant[at]].token, Token::Word(_)) {
        at += 1;
        if at < significant.len() && tokens[significant[at]].token == Token::Period {
            at += 1;
        } else {
            break;
        }
    }
    // Each operation starts there or after a comma outside parentheses.
    let mut depth = 0usize;
    let mut operation = vec![at];
    for (offset, &index) in significant.iter().enumerate().skip(at) {
        match tokens[index].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => operation.push(offset + 1),
            _ => {}
        }
    }
    operation.push(significant.len() + 1);
    for bounds in operation.windows(2) {
        let (first, end) = (bounds[0], bounds[1] - 1);
        if first + 1 >= end {
            continue;
        }
        let Some(cost) = option_cost(tokens, &significant[first..end]) else {
            continue;
        };
        tokens[significant[first]].token = Token::make_keyword("ALGORITHM");
        tokens[significant[first + 1]].token = Token::make_keyword(cost);
        for &index in &significant[first + 2..end] {
            hide(tokens, index);
        }
    }
}

/// What the table option whose tokens are `option` costs, as an `ALGORITHM` (`COPY` or
/// `DEFAULT`), when it is one sqlparser cannot read.
fn option_cost(tokens: &[TokenWithSpan], option: &[usize]) -> Option<&'static str> {
    let word = |at: usize| match option.get(at).map(|&i| &tokens[i].token) {
        Some(Token::Word(word)) if word.quote_style.is_none() => word.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    match (word(0).as_str(), word(1).as_str()) {
        // The rows are rewritten: another engine or row format, every text column in another
        // character set, rows moved into partitions.
        ("ENGINE" | "ROW_FORMAT" | "KEY_BLOCK_SIZE", _) | ("CONVERT", "TO") => Some("COPY"),
        ("PARTITION", "BY") | ("REMOVE", "PARTITIONING") => Some("COPY"),
        // Only the data dictionary changes: the defaults of columns added later, a comment.
        ("COMMENT" | "CHARSET" | "COLLATE", _)
        | ("CHARACTER", "SET")
        | ("DEFAULT", "CHARSET" | "CHARACTER" | "COLLATE") => Some("DEFAULT"),
        _ => None,
    }
}

/// What a statement sqlparser could not read is, when no rule needs to read it: a
/// `DELIMITER` block, or an event (`CREATE`, `ALTER` or `DROP EVENT`).
pub(crate) fn not_linted(tokens: &[TokenWithSpan]) -> Option<&'static str> {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&index| !matches!(tokens[index].token, Token::Whitespace(_)))
        .collect();
    let words = words_of(tokens, &significant);
    match words.first().map(String::as_str) {
        Some("DELIMITER") => {
            Some("statements between DELIMITER lines, the bodies of routines and triggers")
        }
        // The word EVENT before any other object's keyword: `CREATE DEFINER = ... EVENT`.
        Some("CREATE" | "ALTER" | "DROP")
            if words
                .iter()
                .take_while(|w| !matches!(w.as_str(), "TABLE" | "VIEW" | "INDEX" | "TRIGGER"))
                .any(|w| w == "EVENT") =>
        {
            Some("an event, whose body runs on its schedule, not in the migration")
        }
        _ => None,
    }
}
