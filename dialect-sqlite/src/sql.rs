//! SQLite's tokens, and the canonical spelling of SQL text built from them.
//!
//! The schema model compares definitions as text. Both sides come from SQLite's catalog, which
//! keeps `CREATE` statements as the user wrote them, so two schemas that differ only in layout
//! would compare unequal. Re-spelling the text from its tokens with one fixed spacing removes
//! that difference without changing what the text means: the lexer follows SQLite's own
//! (`tokenize.c`), so every token it yields is one SQLite token and spacing can only be changed
//! where it cannot merge or split tokens.

/// A quoted identifier, as [`SqliteDialect::quote_identifier`](crate::SqliteDialect) writes
/// it: what rendering and virtual tables quote with, without going through the dialect.
pub(crate) fn quote(ident: &str) -> String {
    godwit_core::dialect::double_quoted(ident)
}

/// What a token is, as far as spacing and name matching need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword or an unquoted identifier.
    Word,
    /// A quoted identifier: `"x"`, `[x]` or `` `x` ``.
    Quoted,
    /// A string literal. SQLite also takes one as an identifier where only a name can stand.
    String,
    /// A blob literal, `x'00ff'`.
    Blob,
    /// A numeric literal.
    Number,
    /// A bound parameter: `?1`, `:name`, `@name`, `$name`.
    Variable,
    /// An operator or punctuation.
    Punct,
}

/// One token: where it is in the text it came from, and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// Its kind.
    pub(crate) kind: Kind,
    /// Byte offset of its first character.
    pub(crate) start: usize,
    /// Its text, quotes included.
    pub(crate) text: &'a str,
}

impl Token<'_> {
    /// Whether this is the punctuation `p`.
    pub(crate) fn is(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.text == p
    }

    /// Whether this is the unquoted keyword `word` (any case).
    pub(crate) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// Whether this token can name something (a table, column, collation).
    pub(crate) fn is_name(&self) -> bool {
        matches!(self.kind, Kind::Word | Kind::Quoted | Kind::String)
    }

    /// The name this token spells: quotes removed and doubled quotes undone.
    pub(crate) fn name(&self) -> String {
        let text = self.text;
        match self.kind {
            Kind::Quoted | Kind::String if text.len() >= 2 => {
                let quote = &text[..1];
                let inner = &text[1..text.len() - 1];
                match quote {
                    "[" => inner.to_string(),
                    _ => inner.replace(&quote.repeat(2), quote),
                }
            }
            _ => text.to_string(),
        }
    }

    fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// The tokens of `sql`, without whitespace and comments. An unterminated quote or comment runs
/// to the end of the text, as in SQLite.
pub(crate) fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let (kind, len) = match b {
            b' ' | b'\t' | b'\n' | b'\x0c' | b'\r' => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i += bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(bytes.len() - i);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i += sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len() - i, |end| end + 4);
                continue;
            }
            b'\'' => (Kind::String, quoted_len(bytes, i, b'\'')),
            b'"' => (Kind::Quoted, quoted_len(bytes, i, b'"')),
            b'`' => (Kind::Quoted, quoted_len(bytes, i, b'`')),
            b'[' => (
                Kind::Quoted,
                bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len() - i, |end| end + 1),
            ),
            b'x' | b'X' if next == Some(b'\'') => (Kind::Blob, 1 + quoted_len(bytes, i + 1, b'\'')),
            b'0'..=b'9' => (Kind::Number, number_len(bytes, i)),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                (Kind::Number, number_len(bytes, i))
            }
            b'?' => (
                Kind::Variable,
                1 + run_len(bytes, i + 1, |c| c.is_ascii_digit()),
            ),
            b':' | b'@' | b'$' | b'#' if next.is_some_and(is_id_char) => {
                (Kind::Variable, 1 + run_len(bytes, i + 1, is_id_char))
            }
            _ if is_id_char(b) && b != b'$' => (Kind::Word, run_len(bytes, i, is_id_char)),
            _ => (Kind::Punct, punct_len(&sql[i..])),
        };
        tokens.push(Token {
            kind,
            start: i,
            text: &sql[i..i + len],
        });
        i += len;
    }
    tokens
}

/// SQLite's identifier characters; every byte of a multi-byte UTF-8 character is one, so
/// tokens always end on character boundaries.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn run_len(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes[from..].iter().take_while(|&&c| pred(c)).count()
}

/// Length of the quoted token at `at`, where a doubled quote stands for itself.
fn quoted_len(bytes: &[u8], at: usize, quote: u8) -> usize {
    let mut i = at + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1 - at;
        }
        i += 1;
    }
    bytes.len() - at
}

/// Length of the number at `at`: hexadecimal, or digits with an optional fraction and
/// exponent (`_` separates digits since SQLite 3.46). Identifier characters glued to a number
/// are kept with it: SQLite rejects such a token, and keeping it whole keeps it rejected.
fn number_len(bytes: &[u8], at: usize) -> usize {
    let digits = |c: u8| c.is_ascii_digit() || c == b'_';
    let mut i = at;
    if bytes[i] == b'0'
        && matches!(bytes.get(i + 1), Some(b'x' | b'X'))
        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    } else {
        i += run_len(bytes, i, digits);
        if bytes.get(i) == Some(&b'.') {
            i += 1 + run_len(bytes, i + 1, digits);
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
            if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
                i += 1 + sign + run_len(bytes, i + 1 + sign, digits);
            }
        }
    }
    i + run_len(bytes, i, is_id_char) - at
}

/// Length of the operator at the start of `rest`: the longest of SQLite's operators, or one
/// character.
fn punct_len(rest: &str) -> usize {
    const OPERATORS: [&str; 10] = ["->>", "->", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>"];
    OPERATORS
        .iter()
        .find(|op| rest.starts_with(*op))
        .map_or_else(
            || rest.chars().next().map_or(1, char::len_utf8),
            |op| op.len(),
        )
}

/// `sql` spelled canonically: comments removed, no space inside parentheses, before a comma or
/// around a dot, none between a name and its opening parenthesis or between a sign and its
/// number, and one space everywhere else.
pub(crate) fn normalize(sql: &str) -> String {
    join(&tokenize(sql))
}

/// Tokens spelled canonically (see [`normalize`]).
pub(crate) fn join(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Token<'_>> = None;
    let mut prev_is_sign = false;
    for token in tokens {
        if let Some(p) = prev {
            let tight = token.is(")")
                || token.is(",")
                || token.is(";")
                || token.is(".")
                || p.is("(")
                || p.is(".")
                || (token.is("(") && matches!(p.kind, Kind::Word | Kind::Quoted))
                || (prev_is_sign && token.kind == Kind::Number);
            if !tight {
                out.push(' ');
            }
        }
        // A sign is unary when nothing that ends an operand comes before it.
        prev_is_sign = (token.is("-") || token.is("+"))
            && prev.is_none_or(|p| p.kind == Kind::Punct && !p.is(")"));
        out.push_str(token.text);
        prev = Some(token);
    }
    out
}

/// Index of the `)` that closes the `(` at `open`, or the last token when it is unclosed.
pub(crate) fn closing(tokens: &[Token<'_>], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token.is("(") {
            depth += 1;
        } else if token.is(")") {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    tokens.len().saturating_sub(1)
}

/// `tokens` cut at the commas outside parentheses.
pub(crate) fn split_commas<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.is("(") {
            depth += 1;
        } else if token.is(")") {
            depth = depth.saturating_sub(1);
        } else if token.is(",") && depth == 0 {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

/// Index of the first token outside parentheses that satisfies `pred`.
pub(crate) fn find_top_level(
    tokens: &[Token<'_>],
    pred: impl Fn(&Token<'_>) -> bool,
) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        if token.is("(") {
            depth += 1;
        } else if token.is(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && pred(token) {
            return Some(i);
        }
    }
    None
}

/// The text of `sql` from the end of `token` on, trimmed.
pub(crate) fn text_after<'a>(sql: &'a str, token: &Token<'_>) -> &'a str {
    sql[token.end()..].trim()
}

/// Whether `name` appears in `sql` as a name (any case, quoted or not).
pub(crate) fn mentions(sql: &str, name: &str) -> bool {
    tokenize(sql)
        .iter()
        .any(|t| t.is_name() && t.name().eq_ignore_ascii_case(name))
}

/// `text` as an SQL string literal.
pub(crate) fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, &str)> {
        tokenize(sql).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn tokens_follow_sqlite() {
        use Kind::*;
        assert_eq!(
            kinds("a.b->>'$.x' || x'0F' -- c\n/* d */ 1.5e-3 0x1F [w x] \"q\"\"r\" ?2 :v <> -1"),
            [
                (Word, "a"),
                (Punct, "."),
                (Word, "b"),
                (Punct, "->>"),
                (String, "'$.x'"),
                (Punct, "||"),
                (Blob, "x'0F'"),
                (Number, "1.5e-3"),
                (Number, "0x1F"),
                (Quoted, "[w x]"),
                (Quoted, "\"q\"\"r\""),
                (Variable, "?2"),
                (Variable, ":v"),
                (Punct, "<>"),
                (Punct, "-"),
                (Number, "1"),
            ]
        );
        assert_eq!(kinds("'it''s' é"), [(String, "'it''s'"), (Word, "é")]);
        assert_eq!(kinds("'open"), [(String, "'open")]);
    }

    #[test]
    fn names_lose_their_quotes() {
        let names: Vec<String> = tokenize("\"a\"\"b\" [c d] `e` 'f''g' h")
            .iter()
            .map(Token::name)
            .collect();
        assert_eq!(names, ["a\"b", "c d", "e", "f'g", "h"]);
    }

    #[test]
    fn normal_spelling_ignores_layout() {
        let canonical = "CREATE INDEX i ON t(lower(a) DESC, b) WHERE a > -1 AND t.c IN(1, 2)";
        for variant in [
            "CREATE INDEX i ON t(lower(a) DESC, b) WHERE a > -1 AND t.c IN(1, 2)",
            "CREATE INDEX i ON t ( lower ( a ) DESC ,b )\n  WHERE a>-1 -- why\n AND t . c IN (1,2)",
            "CREATE INDEX i ON t(lower(a) DESC,/* c */b) WHERE a > - 1 AND t.c IN(1 , 2)",
        ] {
            assert_eq!(normalize(variant), canonical, "{variant}");
        }
        assert_eq!(normalize("x - 1"), "x - 1");
        assert_eq!(normalize("(x)-1"), "(x) - 1");
        assert_eq!(normalize("'a  b' || \"c  d\""), "'a  b' || \"c  d\"");
        let once = normalize("f( a,b )*-2");
        assert_eq!(normalize(&once), once);
    }

    #[test]
    fn splits_and_finds_outside_parentheses() {
        let tokens = tokenize("a INT, b DECIMAL(10, 2), CHECK (a IN (1, 2))");
        let parts: Vec<String> = split_commas(&tokens).into_iter().map(join).collect();
        assert_eq!(parts, ["a INT", "b DECIMAL(10, 2)", "CHECK(a IN(1, 2))"]);
        let tokens = tokenize("CREATE VIEW v(a) AS SELECT (SELECT 1 AS x) AS a");
        let at = find_top_level(&tokens, |t| t.is_word("as")).unwrap();
        assert_eq!(
            text_after(
                "CREATE VIEW v(a) AS SELECT (SELECT 1 AS x) AS a",
                &tokens[at]
            ),
            "SELECT (SELECT 1 AS x) AS a"
        );
        assert!(mentions("price * \"QTY\"", "qty"));
        assert!(!mentions("price * 'qty'x", "q"));
    }
}
