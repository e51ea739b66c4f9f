//! Virtual tables: reading `CREATE VIRTUAL TABLE` into the model, and FTS5's arguments.
//!
//! SQLite hands a module its arguments as the text between the commas, as written, and every
//! module reads them with rules of its own. godwit keeps a virtual table as its module and
//! those arguments ([`VirtualTable`]), spelled canonically so that writing the same table
//! differently is no change. For a module godwit does not know, that is each argument's
//! tokens with canonical spacing. FTS5 arguments are read as FTS5 reads them
//! (`sqlite3Fts5ConfigParse` in `fts5_config.c`): its columns become the table's columns,
//! with `UNINDEXED` as their type (how SQLite's own grammar reads `title UNINDEXED`), and its
//! options become `key=value` arguments with the key spelled out, the value unquoted where it
//! can be, defaults left out, and in key order, since FTS5 gives their order no meaning.

use std::collections::BTreeMap;

use godwit_core::schema::{Column, Table, VirtualTable};

use crate::sql::{self, Token, quote};

/// The name of the FTS5 module, as the model spells it.
const FTS5: &str = "fts5";

/// FTS5's options, in the order FTS5 tries them: it takes an abbreviation (`detail` for
/// `d`) for the first option it begins.
const FTS5_OPTIONS: [&str; 10] = [
    "prefix",
    "tokenize",
    "content",
    "contentless_delete",
    "contentless_unindexed",
    "content_rowid",
    "columnsize",
    "locale",
    "detail",
    "tokendata",
];

/// Options whose value is `0` or `1`, with their default.
const FTS5_SWITCHES: [(&str, &str); 5] = [
    ("columnsize", "1"),
    ("contentless_delete", "0"),
    ("contentless_unindexed", "0"),
    ("locale", "0"),
    ("tokendata", "0"),
];

/// The values of `detail`, of which FTS5 also takes an unambiguous abbreviation.
const FTS5_DETAILS: [&str; 3] = ["none", "full", "columns"];

/// The module, columns and arguments of a `CREATE VIRTUAL TABLE` statement; `None` when the
/// statement names no module.
pub(crate) fn read(create: &str) -> Option<(VirtualTable, Vec<Column>)> {
    let tokens = sql::tokenize(create);
    // CREATE VIRTUAL TABLE [IF NOT EXISTS] [schema.]name USING module[(arguments)]
    let mut at = 3;
    if tokens.get(at).is_some_and(|t| t.is_word("IF")) {
        at += 3;
    }
    at += 1;
    if tokens.get(at).is_some_and(|t| t.is(".")) {
        at += 2;
    }
    if !tokens.get(at)?.is_word("USING") {
        return None;
    }
    let module = tokens.get(at + 1)?.name().to_lowercase();
    let arguments: Vec<&[Token<'_>]> = match tokens.get(at + 2) {
        Some(open) if open.is("(") => {
            let close = sql::closing(&tokens, at + 2);
            sql::split_commas(&tokens[at + 3..close])
                .into_iter()
                .filter(|argument| !argument.is_empty())
                .collect()
        }
        _ => Vec::new(),
    };
    if module == FTS5 {
        // SQLite passes each argument as its text from its first token to its last.
        let texts = arguments.iter().map(|argument| {
            let (first, last) = (&argument[0], &argument[argument.len() - 1]);
            &create[first.start..last.start + last.text.len()]
        });
        if let Some((columns, options)) = fts5_arguments(texts) {
            let virtual_table = VirtualTable {
                module,
                arguments: options,
            };
            return Some((virtual_table, columns));
        }
    }
    let arguments = arguments.into_iter().map(sql::join).collect();
    Some((VirtualTable { module, arguments }, Vec::new()))
}

/// The arguments of `CREATE VIRTUAL TABLE` for `table`: its columns, then the rest.
pub(crate) fn arguments(table: &Table, virtual_table: &VirtualTable) -> Vec<String> {
    table
        .columns
        .iter()
        .map(|c| match c.data_type.as_str() {
            "" => quote(&c.name),
            option => format!("{} {option}", quote(&c.name)),
        })
        .chain(virtual_table.arguments.iter().cloned())
        .collect()
}

/// Where an FTS5 table's text lives (<https://www.sqlite.org/fts5.html#external_content_and_contentless_tables>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// In the table's own shadow table: it can be read back.
    Own,
    /// In another table or view (`content=posts`): the index is built from it.
    External(String),
    /// Nowhere (`content=''`): only the index is kept, and the text cannot be read back.
    Contentless,
}

/// Where the text of `table` lives, when it is an FTS5 table.
pub(crate) fn fts5_content(table: &Table) -> Option<Content> {
    let virtual_table = table.virtual_table.as_ref().filter(|v| v.module == FTS5)?;
    let content =
        virtual_table
            .arguments
            .iter()
            .find_map(|argument| match fts5_argument(argument)? {
                Fts5Argument::Option {
                    key: "content",
                    value,
                } => Some(value),
                _ => None,
            });
    Some(match content {
        None => Content::Own,
        Some(source) if source.is_empty() => Content::Contentless,
        Some(source) => Content::External(source),
    })
}

/// One FTS5 argument: a column, or an option with its (unquoted) value.
#[derive(Debug, PartialEq, Eq)]
enum Fts5Argument {
    Column { name: String, unindexed: bool },
    Option { key: &'static str, value: String },
}

/// FTS5's columns, as model columns, and its options, spelled canonically; `None` when an
/// argument is not one FTS5 reads, so that the table is kept as any module's would be.
fn fts5_arguments<'a>(texts: impl Iterator<Item = &'a str>) -> Option<(Vec<Column>, Vec<String>)> {
    let mut columns = Vec::new();
    let mut options: BTreeMap<&'static str, String> = BTreeMap::new();
    // `prefix` may be given more than once; its lengths add up.
    let mut prefixes: Vec<u32> = Vec::new();
    for text in texts {
        match fts5_argument(text)? {
            Fts5Argument::Column { name, unindexed } => {
                columns.push(Column::new(name, if unindexed { "UNINDEXED" } else { "" }));
            }
            Fts5Argument::Option { key, value } => {
                let value = match key {
                    "prefix" => {
                        prefixes.extend(fts5_prefixes(&value)?);
                        continue;
                    }
                    "tokenize" => fts5_words(&value)?
                        .iter()
                        .map(|word| fts5_quoted(word))
                        .collect::<Vec<_>>()
                        .join(" "),
                    "detail" => {
                        let mut matching = FTS5_DETAILS.iter().filter(|d| {
                            d.len() >= value.len() && d[..value.len()].eq_ignore_ascii_case(&value)
                        });
                        let detail = matching.next()?;
                        if matching.next().is_some() {
                            return None;
                        }
                        (*detail).to_string()
                    }
                    _ => value,
                };
                // FTS5 keeps the last of a repeated option.
                options.insert(key, value);
            }
        }
    }
    if !prefixes.is_empty() {
        let lengths: Vec<String> = prefixes.iter().map(u32::to_string).collect();
        options.insert("prefix", lengths.join(" "));
    }
    let defaults = FTS5_SWITCHES.iter().copied().chain([("detail", "full")]);
    for (key, default) in defaults {
        if options.get(key).is_some_and(|v| v == default) {
            options.remove(key);
        }
    }
    let options = options
        .into_iter()
        .map(|(key, value)| format!("{key}={}", fts5_quoted(&value)))
        .collect();
    Some((columns, options))
}

/// Read one argument as FTS5 does: `word [= word]` is an option (the first word unquoted),
/// `word [UNINDEXED]` a column.
fn fts5_argument(text: &str) -> Option<Fts5Argument> {
    let (first, quoted, rest) = fts5_word(text)?;
    let rest = rest.trim_start_matches(' ');
    let (option, rest) = match rest.strip_prefix('=') {
        Some(_) if quoted => return None,
        Some(after) => (true, after.trim_start_matches(' ')),
        None => (false, rest),
    };
    let second = if rest.is_empty() {
        None
    } else {
        let (second, _, rest) = fts5_word(rest)?;
        if !rest.is_empty() {
            return None;
        }
        Some(second)
    };
    if option {
        let key = FTS5_OPTIONS
            .iter()
            .find(|o| o.len() >= first.len() && o[..first.len()].eq_ignore_ascii_case(&first))?;
        let value = second.unwrap_or_default();
        if FTS5_SWITCHES.iter().any(|(k, _)| k == key) && value != "0" && value != "1" {
            return None;
        }
        Some(Fts5Argument::Option { key, value })
    } else {
        let unindexed = match second {
            None => false,
            Some(word) if word.eq_ignore_ascii_case("unindexed") => true,
            Some(_) => return None,
        };
        Some(Fts5Argument::Column {
            name: first,
            unindexed,
        })
    }
}

/// The word at the start of `text` as FTS5 reads it: quoted (`'x'`, `"x"`, `` `x` ``, `[x]`,
/// a doubled closing quote standing for itself) or bare. Returns the word unquoted, whether it
/// was quoted, and the text after it.
fn fts5_word(text: &str) -> Option<(String, bool, &str)> {
    let close = match text.chars().next()? {
        '[' => ']',
        quote @ ('\'' | '"' | '`') => quote,
        _ => {
            let end = text
                .bytes()
                .position(|b| !fts5_bareword(b))
                .unwrap_or(text.len());
            return (end > 0).then(|| (text[..end].to_string(), false, &text[end..]));
        }
    };
    let mut word = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        if c == close {
            if chars.peek().is_some_and(|&(_, next)| next == close) {
                chars.next();
            } else {
                return Some((word, true, &text[at + 1..]));
            }
        }
        word.push(c);
    }
    None
}

/// FTS5's bareword characters: ASCII letters and digits, `_`, `\x1a`, and any byte of a
/// non-ASCII character.
fn fts5_bareword(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == 0x1a || b >= 0x80
}

/// The words of a `tokenize` value: bare, or in single quotes.
fn fts5_words(value: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut rest = value.trim_start_matches(' ');
    while !rest.is_empty() {
        let (word, after) = if rest.starts_with('\'') {
            let (word, _, after) = fts5_word(rest)?;
            (word, after)
        } else {
            let end = rest
                .bytes()
                .position(|b| !fts5_bareword(b))
                .unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            (rest[..end].to_string(), &rest[end..])
        };
        words.push(word);
        rest = after.trim_start_matches(' ');
    }
    Some(words)
}

/// The lengths of a `prefix` value: numbers apart by spaces or commas.
fn fts5_prefixes(value: &str) -> Option<Vec<u32>> {
    value
        .split([' ', ','])
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok().filter(|n| (1..1000).contains(n)))
        .collect()
}

/// `value` as an FTS5 value: bare when FTS5 and SQLite both read it as one word, otherwise
/// in single quotes.
fn fts5_quoted(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && (!value.as_bytes()[0].is_ascii_digit() || value.bytes().all(|b| b.is_ascii_digit()));
    if bare {
        value.to_string()
    } else {
        sql::string_literal(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model of a statement, as `module(columns; arguments)`.
    fn model(create: &str) -> String {
        let (virtual_table, columns) = read(create).unwrap();
        let columns: Vec<String> = columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.data_type).trim().to_string())
            .collect();
        format!(
            "{}({}; {})",
            virtual_table.module,
            columns.join(", "),
            virtual_table.arguments.join(", ")
        )
    }

    #[test]
    fn fts5_arguments_are_read_as_fts5_reads_them() {
        let canonical = "fts5(title, body UNINDEXED; content=posts, content_rowid=id, \
                         prefix='2 3', tokenize='porter unicode61 tokenchars ''-_''')";
        for create in [
            "CREATE VIRTUAL TABLE t USING fts5(title, body UNINDEXED, content=posts, \
             content_rowid=id, prefix='2 3', tokenize='porter unicode61 tokenchars ''-_''')",
            "create virtual table if not exists main.t using FTS5 ( \"title\" , [body] unindexed,\n\
             tokenize = \"porter   unicode61 tokenchars '-_'\", Content = 'posts', \
             prefix=2, content_rowid=\"id\", pre = '3', detail=full, columnsize='1' )",
        ] {
            assert_eq!(model(create), canonical, "{create}");
        }
        assert_eq!(
            model("CREATE VIRTUAL TABLE t USING fts5(a, content='', detail=col, columnsize=0)"),
            "fts5(a; columnsize=0, content='', detail=columns)"
        );
    }

    #[test]
    fn other_modules_keep_their_arguments_with_canonical_spacing() {
        assert_eq!(
            model("CREATE VIRTUAL TABLE r USING RTree( id ,minX,maxX )"),
            "rtree(; id, minX, maxX)"
        );
        assert_eq!(
            model("CREATE VIRTUAL TABLE s USING fts4(a, tokenize = porter)"),
            "fts4(; a, tokenize = porter)"
        );
        assert_eq!(model("CREATE VIRTUAL TABLE v USING dbstat"), "dbstat(; )");
        // What FTS5 would not read is kept as any module's arguments are.
        assert_eq!(
            model("CREATE VIRTUAL TABLE t USING fts5(a, b c)"),
            "fts5(; a, b c)"
        );
    }

    #[test]
    fn where_fts5_text_lives() {
        let content = |create: &str| {
            let (virtual_table, columns) = read(create).unwrap();
            let mut table = Table::new(godwit_core::schema::Name::bare("t"), columns);
            table.virtual_table = Some(virtual_table);
            fts5_content(&table)
        };
        assert_eq!(
            content("CREATE VIRTUAL TABLE t USING fts5(a)"),
            Some(Content::Own)
        );
        assert_eq!(
            content("CREATE VIRTUAL TABLE t USING fts5(a, content=\"posts\")"),
            Some(Content::External("posts".into()))
        );
        assert_eq!(
            content("CREATE VIRTUAL TABLE t USING fts5(a, content='')"),
            Some(Content::Contentless)
        );
        assert_eq!(content("CREATE VIRTUAL TABLE t USING fts4(a)"), None);
    }
}
