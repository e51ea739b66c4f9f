//! MySQL's spelling of names and strings, shared by what reads the catalog and what writes
//! statements.

/// A backquoted identifier.
pub(crate) fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// A string literal, with MySQL's escapes for quotes and backslashes.
pub(crate) fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The backquoted identifier `text` starts with, and what follows it.
pub(crate) fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '`' {
        return None;
    }
    let mut name = String::new();
    let mut escaped = false;
    for (at, c) in chars {
        if escaped {
            escaped = false;
            if c == '`' {
                name.push('`');
                continue;
            }
            return Some((name, &text[at..]));
        }
        if c == '`' {
            escaped = true;
        } else {
            name.push(c);
        }
    }
    escaped.then_some((name, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_are_read_with_their_doubled_backquotes() {
        assert_eq!(read_quoted("`a``b`.`c`"), Some(("a`b".to_string(), ".`c`")));
        assert_eq!(read_quoted("`t`"), Some(("t".to_string(), "")));
        assert_eq!(read_quoted("t"), None);
    }
}
