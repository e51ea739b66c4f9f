//! Backends as a registry sees them: the URL schemes each serves, how it reads its URLs, and
//! how it opens a [`Store`]. A program (the CLI, the `godwit` facade, later the plugin host)
//! fills a [`Registry`] with the backends it has and picks one by a URL's scheme; core names
//! none of them.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::lint::Catalogue;
use crate::store::{Store, StoreError};
use crate::url::{Redacted, UrlError, redact_with_schemes};

/// What a database URL points at, as far as the program around the backend needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Location {
    /// A database file (relative to the working directory unless absolute). A file backend's
    /// dry runs and scratch databases can use [`Location::Memory`] instead.
    File(PathBuf),
    /// A private database in memory, gone when its connection closes.
    Memory,
    /// A database on a server, reached through the URL as given.
    Server,
}

/// How a backend opens a database. Each backend reads the fields that apply to it and ignores
/// the rest; the defaults suit a program migrating its own database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// A file database: create the file when it does not exist. Default: `true`. A program
    /// that only reads a database it expects to find sets `false`, so a mistyped path is an
    /// error rather than a new, empty database.
    pub create: bool,
    /// A file database: how long a statement waits for another connection's write lock.
    /// `None` keeps the backend's default.
    pub busy_timeout: Option<Duration>,
    /// A server database with schemas: the schema to work in, created when missing and put
    /// first on the connection's search path. `None` keeps the server's.
    pub schema: Option<String>,
    /// A server database: the application name the server shows for the connection. `None`
    /// keeps `godwit`.
    pub application_name: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            create: true,
            busy_timeout: None,
            schema: None,
            application_name: None,
        }
    }
}

/// One backend: a dialect with the URLs it serves and a way to connect.
#[async_trait]
pub trait Backend: Send + Sync + Debug {
    /// Its dialect's name ([`crate::Dialect::name`]), which is also the cargo feature that
    /// compiles it into godwit.
    fn name(&self) -> &'static str;

    /// Its dialect, the pure half, which needs no connection: a program lints files and
    /// lists lint rules with it (see [`crate::lint::Catalogue`]).
    fn dialect(&self) -> &'static dyn Dialect;

    /// The URL schemes it serves, lowercase, without the colon (`postgres`, `postgresql`).
    fn schemes(&self) -> &'static [&'static str];

    /// How its URLs are written, for the message about a URL nobody serves
    /// (`postgres://USER@HOST/DB`).
    fn url_forms(&self) -> &'static [&'static str];

    /// What `url`, whose scheme is one of [`Backend::schemes`], points at, or why it is not a
    /// usable URL of this backend. An error never holds a password
    /// ([`redact_with_schemes`]).
    fn locate(&self, url: &str) -> Result<Location, UrlError>;

    /// Open a store on the database at `location` (what [`Backend::locate`] said of `url`, or
    /// [`Location::Memory`] for a file backend's private in-memory database).
    async fn open(
        &self,
        url: &str,
        location: &Location,
        options: &ConnectOptions,
    ) -> Result<Box<dyn Store>, StoreError>;
}

/// The backends a program has, picked by a URL's scheme.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    backends: Vec<Arc<dyn Backend>>,
}

impl Registry {
    /// A registry of no backend.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Add `backend`; one added earlier keeps a scheme both serve.
    pub fn add(&mut self, backend: Arc<dyn Backend>) {
        self.backends.push(backend);
    }

    /// The backends, in the order they were added.
    pub fn backends(&self) -> impl Iterator<Item = &Arc<dyn Backend>> {
        self.backends.iter()
    }

    /// The lint rules of these backends' dialects, for listing and explaining rules and to
    /// tell a misspelt rule id from another dialect's.
    pub fn lint_catalogue(&self) -> Catalogue {
        Catalogue::new(
            self.backends
                .iter()
                .map(|backend| (backend.name(), backend.dialect().lint_rules())),
        )
    }

    /// `url` with every password hidden ([`crate::url::redact`]), reading the schemes of the
    /// backends as schemes.
    pub fn redact(&self, url: &str) -> Redacted {
        let schemes: Vec<&str> = self
            .backends
            .iter()
            .flat_map(|backend| backend.schemes().iter().copied())
            .collect();
        redact_with_schemes(url, &schemes)
    }

    /// The backend serving `url`'s scheme and what the URL points at. A scheme nobody serves
    /// is [`UrlError::UnknownScheme`], listing the URL forms that are served.
    pub fn locate(&self, url: &str) -> Result<(Arc<dyn Backend>, Location), UrlError> {
        let url = url.trim();
        let scheme = scheme(url).unwrap_or_default();
        match self
            .backends
            .iter()
            .find(|backend| backend.schemes().contains(&scheme.as_str()))
        {
            Some(backend) => Ok((Arc::clone(backend), backend.locate(url)?)),
            None => Err(UrlError::UnknownScheme {
                shown: self.redact(url).to_string(),
                forms: self
                    .backends
                    .iter()
                    .flat_map(|backend| backend.url_forms().iter().map(ToString::to_string))
                    .collect(),
            }),
        }
    }
}

/// The scheme of `url`, lowercase: the letters, digits, `+`, `-` and `.` before its first
/// colon. `None` when it has none.
pub fn scheme(url: &str) -> Option<String> {
    let (head, _) = url.trim().split_once(':')?;
    let valid = head.starts_with(|c: char| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| head.to_ascii_lowercase())
}

/// What the URL of a server backend points at: a [`Location::Server`] when an authority (`//`)
/// follows the scheme, or an error without its password saying to write `form`
/// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`). What else is wrong with one (a bad
/// port, an unknown parameter) the driver says when connecting.
pub fn server_location(url: &str, schemes: &[&str], form: &str) -> Result<Location, UrlError> {
    let url = url.trim();
    let after_scheme = url.split_once(':').map_or("", |(_, rest)| rest);
    if after_scheme.starts_with("//") {
        Ok(Location::Server)
    } else {
        Err(UrlError::Invalid {
            shown: redact_with_schemes(url, schemes).to_string(),
            problem: format!("names no server (`//` must follow the scheme); write {form}"),
        })
    }
}
