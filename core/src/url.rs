//! Database URLs: how to print one without its password, and the errors of one no backend
//! can use. Which backend serves a URL is the registry's question ([`crate::backend`]).

use std::fmt;
use std::ops::Range;

/// A URL godwit cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum UrlError {
    /// The URL's scheme is served by no backend this program has.
    #[error(
        "`{shown}` is not a database URL godwit understands; use {}",
        one_of(forms)
    )]
    UnknownScheme {
        /// The URL with any password removed.
        shown: String,
        /// How the URLs of the backends there are written (`sqlite:PATH`).
        forms: Vec<String>,
    },
    /// The scheme's backend cannot use the URL: the backend says why and what to write.
    #[error("`{shown}` {problem}")]
    Invalid {
        /// The URL with any password removed.
        shown: String,
        /// What is wrong and what to do (`names no file; use sqlite:PATH`).
        problem: String,
    },
}

/// `a, b or c`.
fn one_of(forms: &[String]) -> String {
    match forms {
        [] => "a URL of a backend this program was built with (it has none)".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A URL with its password replaced by `***`, for every message and log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hide every password in `url`, a string that was meant as a database URL, whatever its form.
///
/// The text is not trusted to be a well-formed URL: a user who mistypes `postgres:/` or
/// `postgres//` still typed a password. Two shapes are hidden:
///
/// - user information, `user:password@`: everything from the colon after the user name to the
///   last `@` of the string (a password may hold `@`, `/`, `?` or `#` unencoded). A colon or
///   `@` counts percent-encoded too (`%3A`, `%40`). After a scheme that is not known (a
///   backend's, given to [`redact_with_schemes`], or `file`, `http`, `https`), everything
///   from the scheme's colon on is hidden, since `user:/pw@host` may be `user` with the
///   password `/pw`.
/// - a parameter whose name says it holds a secret (`password`, `sslpassword`, `passwd`,
///   `pwd`, `secret`, `token`, in any case, percent-encoded or not), in a query string
///   (`?password=...`, up to the next `&`) or a key/value connection string
///   (`host=h password=...` or `Password=...;`, up to the next space, `;` or `&`, or the
///   closing quote of a quoted value).
///
/// Hiding too much is preferred to hiding too little: an `@` in a query string may hide the
/// host along with the password.
///
/// Core knows no backend's schemes: a program with a [`Registry`](crate::backend::Registry)
/// redacts with [`Registry::redact`](crate::backend::Registry::redact), and a backend with its
/// own [`redact_with_schemes`], so that `scheme:/path@...` is read as the path it is.
pub fn redact(url: &str) -> Redacted {
    redact_with_schemes(url, &[])
}

/// [`redact`], knowing that each of `schemes` (lowercase, without the colon) is a URL scheme
/// rather than a user name.
pub fn redact_with_schemes(url: &str, schemes: &[&str]) -> Redacted {
    let mut hidden: Vec<Range<usize>> = userinfo_password(url, schemes).into_iter().collect();
    hidden.extend(secret_parameters(url));
    hidden.sort_by_key(|range| range.start);
    // Overlapping ranges (a password holding `password=`) become one `***`.
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(hidden.len());
    for range in hidden {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut out = String::with_capacity(url.len());
    let mut shown_to = 0;
    for range in merged {
        out.push_str(&url[shown_to..range.start]);
        out.push_str("***");
        shown_to = range.end;
    }
    out.push_str(&url[shown_to..]);
    Redacted(out)
}

/// Whether the name of a URL parameter says its value is a secret.
pub fn is_secret_parameter(name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .trim()
        .to_ascii_lowercase();
    ["pass", "pwd", "secret", "token"]
        .iter()
        .any(|word| name.contains(word))
        || name == "pw"
}

/// Schemes whose `scheme:/...` is never read as a user name and a password starting with `/`,
/// besides those of the backends a program has.
const KNOWN_SCHEMES: &[&str] = &["file", "http", "https"];

/// The byte range of the password in the user information of `text`, if it has one; each of
/// `schemes` is known to be a scheme.
fn userinfo_password(text: &str, schemes: &[&str]) -> Option<Range<usize>> {
    let at = match (text.rfind('@'), rfind_encoded(text, "%40")) {
        (Some(raw), Some(encoded)) => raw.max(encoded),
        (raw, encoded) => raw.or(encoded)?,
    };
    let start = text.len() - text.trim_start().len();
    let head = &text[start..at];
    let (region_start, scheme_colon) = match scheme_prefix(head, schemes) {
        Some((length, colon)) => (start + length, colon),
        None => (start, None),
    };
    let from = match scheme_colon {
        // `user:/pw@host` and `scheme://user:pw@host` cannot be told apart.
        Some((after_colon, false)) => start + after_colon,
        _ => region_start + find_colon(&text[region_start..at])?,
    };
    (from < at).then_some(from..at)
}

/// The length of a `scheme:` (or `scheme`) followed by slashes at the start of `head`, and for a
/// scheme with a colon, the offset just after that colon and whether the scheme is a known one.
fn scheme_prefix(head: &str, schemes: &[&str]) -> Option<(usize, Option<(usize, bool)>)> {
    let bytes = head.as_bytes();
    let word = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        .count();
    if word > 0 && !bytes[0].is_ascii_alphabetic() {
        return None;
    }
    let mut position = word;
    let mut colon = None;
    if word > 0
        && let Some(length) = encoded_at(head, position, ':', "%3a")
    {
        position += length;
        let known = KNOWN_SCHEMES
            .iter()
            .chain(schemes)
            .any(|scheme| head[..word].eq_ignore_ascii_case(scheme));
        colon = Some((position, known));
    }
    let slashes = position;
    while let Some(length) = encoded_at(head, position, '/', "%2f") {
        position += length;
    }
    (position > slashes).then_some((position, colon))
}

/// The offset just after the first colon (raw or `%3A`) of `text`.
fn find_colon(text: &str) -> Option<usize> {
    let raw = text.find(':').map(|i| i + 1);
    let encoded = find_encoded(text, "%3a").map(|i| i + 3);
    match (raw, encoded) {
        (Some(raw), Some(encoded)) => Some(raw.min(encoded)),
        (raw, encoded) => raw.or(encoded),
    }
}

/// The length of `raw` or its percent-encoding `encoded` (lower case) at `position`, if there.
fn encoded_at(text: &str, position: usize, raw: char, encoded: &str) -> Option<usize> {
    let rest = text.get(position..)?;
    if rest.starts_with(raw) {
        Some(raw.len_utf8())
    } else {
        rest.get(..encoded.len())
            .filter(|start| start.eq_ignore_ascii_case(encoded))
            .map(|_| encoded.len())
    }
}

fn find_encoded(text: &str, encoded: &str) -> Option<usize> {
    text.to_ascii_lowercase().find(encoded)
}

fn rfind_encoded(text: &str, encoded: &str) -> Option<usize> {
    text.to_ascii_lowercase().rfind(encoded)
}

/// Whether a parameter name ends at `byte` (a query string's `?` and `&`, a key/value
/// string's spaces and `;`).
fn ends_parameter(byte: u8) -> bool {
    matches!(byte, b'?' | b'&' | b';') || byte.is_ascii_whitespace()
}

/// The byte ranges of the values of every parameter of `text` whose name says it is a secret.
fn secret_parameters(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut values = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let starts_name = position == 0 || ends_parameter(bytes[position - 1]);
        if !starts_name || ends_parameter(bytes[position]) || bytes[position] == b'=' {
            position += 1;
            continue;
        }
        let name_end = position
            + bytes[position..]
                .iter()
                .take_while(|&&b| b != b'=' && !ends_parameter(b))
                .count();
        // libpq's key/value strings allow spaces around `=`.
        let equals = name_end
            + bytes[name_end..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        if bytes.get(equals) != Some(&b'=') || !is_secret_parameter(&text[position..name_end]) {
            position = name_end.max(position + 1);
            continue;
        }
        let in_query = position > 0 && matches!(bytes[position - 1], b'?' | b'&');
        let value = parameter_value(bytes, equals + 1, in_query);
        position = value.end.max(equals + 1);
        if !value.is_empty() {
            values.push(value);
        }
    }
    values
}

/// The value of a parameter starting at `start`: in a query string up to the next `&`; in a
/// key/value string the quoted value (`'...'`, with `\'` inside) and what follows it up to a
/// space, `;` or `&`, or an unquoted value up to one of those.
fn parameter_value(bytes: &[u8], start: usize, in_query: bool) -> Range<usize> {
    if in_query {
        let length = bytes[start..].iter().take_while(|&&b| b != b'&').count();
        return start..start + length;
    }
    let start = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    match bytes.get(start) {
        Some(&quote @ (b'\'' | b'"')) => {
            let mut end = start + 1;
            while end < bytes.len() && bytes[end] != quote {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            // What sticks to the closing quote is hidden with it: the quoting may be broken.
            let end = (end + 1).min(bytes.len());
            start
                ..end
                    + bytes[end..]
                        .iter()
                        .take_while(|&&b| !ends_parameter(b))
                        .count()
        }
        _ => {
            let length = bytes[start..]
                .iter()
                .take_while(|&&b| !ends_parameter(b) || b == b'?')
                .count();
            start..start + length
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schemes of the backends godwit ships, which their registries know.
    pub(super) const SCHEMES: &[&str] = &["postgres", "postgresql", "sqlite", "mysql"];

    fn hidden(url: &str) -> String {
        redact_with_schemes(url, SCHEMES).to_string()
    }

    #[test]
    fn passwords_of_malformed_urls_are_hidden() {
        let cases = [
            // The slashes after the scheme are missing or misplaced.
            (
                "postgres:/user:s3cret@127.0.0.1:5433/db",
                "postgres:/user:***@127.0.0.1:5433/db",
            ),
            (
                "postgres//user:s3cret@127.0.0.1:5433/db",
                "postgres//user:***@127.0.0.1:5433/db",
            ),
            ("postgres:user:s3cret@h/db", "postgres:***@h/db"),
            ("user:s3cret@h/db", "user:***@h/db"),
            ("//user:s3cret@h/db", "//user:***@h/db"),
            (
                "  postgres://user:s3cret@h/db",
                "  postgres://user:***@h/db",
            ),
            // `user:/pw@h`: an unknown word before `:/` may be the user name.
            ("user:/s3cret@h/db", "user:***@h/db"),
            // A wrong or unknown scheme.
            ("mysql://root:s3cret@h/db", "mysql://root:***@h/db"),
            ("jdbc:postgresql://u:s3cret@h/db", "jdbc:***@h/db"),
            // Unencoded `@`, `/`, `?` and `#` in the password, several `@`.
            ("postgres://us@er:s3@cr@t@h/db", "postgres://us@er:***@h/db"),
            ("postgres://u:s3/cr?e#t@h/db", "postgres://u:***@h/db"),
            // Percent-encoded separators.
            ("postgres://u%3As3cret@h/db", "postgres://u%3A***@h/db"),
            ("postgres://u:s3cret%40h/db", "postgres://u:***%40h/db"),
            (
                "postgres%3A%2F%2Fu%3As3cret%40h%2Fdb",
                "postgres%3A%2F%2Fu%3A***%40h%2Fdb",
            ),
            // Secrets in the query string, whatever the case or encoding of the name.
            (
                "postgres://u@h/db?sslpassword=s3cret&sslmode=require",
                "postgres://u@h/db?sslpassword=***&sslmode=require",
            ),
            (
                "postgres://u@h/db?PassWord=s3cret",
                "postgres://u@h/db?PassWord=***",
            ),
            (
                "postgres://u@h/db?pass%77ord=s3cret",
                "postgres://u@h/db?pass%77ord=***",
            ),
            (
                "postgres:/h/db?password=s3 cret",
                "postgres:/h/db?password=***",
            ),
            // Key/value connection strings.
            (
                "host=h user=u password=s3cret dbname=db",
                "host=h user=u password=*** dbname=db",
            ),
            (
                "host=h password = 's3 \\'cret' dbname=db",
                "host=h password = *** dbname=db",
            ),
            (
                "Server=h;Password=s3cret;Database=db",
                "Server=h;Password=***;Database=db",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(hidden(url), expected, "{url}");
            if let Err(error) = crate::backend::Registry::new().locate(url) {
                assert!(!error.to_string().contains("s3"), "{error}");
            }
        }
    }

    #[test]
    fn urls_without_passwords_are_shown_whole() {
        for url in [
            "postgres://me@h:5432/app?sslmode=require",
            "postgresql://h/app",
            "sqlite:app.db",
            "sqlite::memory:",
            "sqlite:///data/app@2.db",
            "sqlite:/data/app@2.db",
            "host=h user=me dbname=app",
        ] {
            assert_eq!(hidden(url), url);
        }
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            hidden("postgres://me:s3cr%40t@db.example:5432/app?sslmode=require"),
            "postgres://me:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(hidden("postgres://me@h/app"), "postgres://me@h/app");
        assert_eq!(
            hidden("postgres://h/app?user=me&password=pw&x=1"),
            "postgres://h/app?user=me&password=***&x=1"
        );
        assert_eq!(
            hidden("postgres://me:p@ss@h/app"),
            "postgres://me:***@h/app"
        );
    }

    /// Percent-encoding leaves it as it is, so a leak in any spelling shows.
    const MARKER: &str = "Pw9Zq";

    mod generated {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        use proptest::prelude::*;

        use super::super::*;
        use super::MARKER;

        /// A password around the marker, with the characters that break URLs.
        fn password(extra: &'static str) -> impl Strategy<Value = String> {
            let around = || {
                proptest::string::string_regex(&format!("[-!$'()*+,=._~/:@?#%{extra}]{{0,3}}"))
                    .expect("a valid pattern")
            };
            (around(), around()).prop_map(|(before, after)| format!("{before}{MARKER}{after}"))
        }

        fn maybe_encoded(password: String, encode: bool) -> String {
            if encode {
                utf8_percent_encode(&password, NON_ALPHANUMERIC).to_string()
            } else {
                password
            }
        }

        fn scheme() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "postgres://",
                "postgresql://",
                "POSTGRES://",
                "postgres:/",
                "postgres//",
                "postgres:///",
                "postgres:",
                "postgres/",
                "//",
                "",
                " postgres://",
                "mysql://",
                "pg://",
                "sqlite://",
                "sqlite:",
                "jdbc:postgresql://",
                "postgres%3A%2F%2F",
            ])
        }

        fn host() -> impl Strategy<Value = String> {
            (
                "[a-z0-9.]{1,10}",
                prop::option::of(0u16..),
                prop::sample::select(vec!["", "/", "/db", "/db?sslmode=require", "/db?x=a@b"]),
            )
                .prop_map(|(host, port, rest)| match port {
                    Some(port) => format!("{host}:{port}{rest}"),
                    None => format!("{host}{rest}"),
                })
        }

        /// `scheme user:password@host...` in every spelling.
        fn userinfo() -> impl Strategy<Value = String> {
            (
                scheme(),
                "[a-z][a-z0-9_.]{0,6}(@[a-z]{1,4})?",
                prop::sample::select(vec![":", "%3A", "%3a"]),
                password(" &;&"),
                any::<bool>(),
                prop::sample::select(vec!["@", "%40", "@@"]),
                host(),
            )
                .prop_map(|(scheme, user, colon, password, encode, at, host)| {
                    let password = maybe_encoded(password, encode);
                    format!("{scheme}{user}{colon}{password}{at}{host}")
                })
        }

        fn secret_name() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "password",
                "PASSWORD",
                "Password",
                "sslpassword",
                "passwd",
                "pass%77ord",
            ])
        }

        /// A URL with the password in its query string (a value runs to the next `&`).
        fn query() -> impl Strategy<Value = String> {
            (
                scheme(),
                host(),
                prop::sample::select(vec!["?", "?sslmode=require&", "&"]),
                secret_name(),
                password(" ;"),
                any::<bool>(),
                prop::sample::select(vec!["", "&sslmode=require"]),
            )
                .prop_map(|(scheme, host, before, name, password, encode, after)| {
                    let password = maybe_encoded(password, encode);
                    format!("{scheme}u@{host}{before}{name}={password}{after}")
                })
        }

        /// A key/value connection string; a value with spaces is quoted.
        fn key_value() -> impl Strategy<Value = String> {
            (
                secret_name(),
                prop::sample::select(vec!["=", " = ", "= "]),
                password(" ;&\\\\"),
                prop::sample::select(vec![" ", ";"]),
            )
                .prop_map(|(name, equals, password, separator)| {
                    let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
                    format!("host=h{separator}user=u{separator}{name}{equals}'{quoted}'{separator}dbname=d")
                })
        }

        fn bare_key_value() -> impl Strategy<Value = String> {
            (
                secret_name(),
                password(""),
                prop::sample::select(vec![" ", ";"]),
            )
                .prop_map(|(name, password, separator)| {
                    let password: String = password
                        .chars()
                        .filter(|c| !matches!(c, '&' | ';' | '?') && !c.is_whitespace())
                        .collect();
                    format!("host=h{separator}{name}={password}{separator}dbname=d")
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn no_password_is_ever_shown(
                url in prop_oneof![userinfo(), query(), key_value(), bare_key_value()]
            ) {
                let shown = redact_with_schemes(&url, super::SCHEMES).to_string();
                prop_assert!(!shown.contains(MARKER), "{url} -> {shown}");
                prop_assert!(shown.contains("***"), "{url} -> {shown}");
                if let Err(error) = crate::backend::Registry::new().locate(&url) {
                    let message = error.to_string();
                    prop_assert!(!message.contains(MARKER), "{url} -> {message}");
                }
            }
        }
    }
}
