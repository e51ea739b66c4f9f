//! godwit's side: loading plugins and adapting each to core's traits, so the rest of godwit
//! cannot tell a plugin from a dialect compiled in. [`load`] gives a [`PluginBackend`] to add
//! to a [`godwit_core::Registry`]; [`search`] finds the plugins a program is configured with.
//!
//! The adapters are safe code over [`load::Loaded`], the host's only `unsafe`.
//!
//! Which dialect methods cross: those without arguments are answered from the
//! [`Description`] the plugin sends once at load (a dialect is pure, so they return the same
//! every time); `quote_identifier` and `placeholder`, called for every query godwit writes
//! itself, are asked once per argument and remembered, exact for the same reason; every other
//! method is a request. `lint_support` cannot cross (it returns a trait object): the five
//! lint methods built on it are requests instead.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use godwit_core::dialect::{RenderError, RenderOptions, Savepoint, Statement};
use godwit_core::diff::{Change, DiffOptions};
use godwit_core::lint::{Finding, LintConfig, LintInput, OutlineStatement, Rule, TableChange};
use godwit_core::schema::Schema;
use godwit_core::screen::{SchemaStatement, ScreenError};
use godwit_core::url::UrlError;
use godwit_core::{
    Backend, Backup, BackupError, BackupRequest, Capabilities, ConnectOptions, Dialect,
    HistoryTable, InvalidIndex, Location, LockHolder, LockRequest, Row, Step, Store, StoreError,
    UnlockOutcome, Value,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::{
    Description, DialectRequest, Failure, Outcome, Request, StoreRequest, WireBackupError,
    WireFinding, WireLintInput, WireRenderError, decode, encode,
};

mod elf;
mod load;
pub mod search;

use load::{Loaded, Message};

/// A plugin that could not be loaded, and why. Nothing of the library ran but its
/// initialisers and, when the error is not about the library itself, its entry symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be loaded as a library (not one, damaged, or for another platform).
    #[error("cannot load {} as a library ({message}); a plugin is a dynamic library built for this platform", path.display())]
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// The system loader's message.
        message: String,
    },
    /// The library is shorter than its own headers say: cut short when copied or downloaded.
    #[error("{} is cut short: it has {size} bytes and its headers describe {needed}; copy or build the plugin again", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The size its headers describe.
        needed: u64,
    },
    /// The library exports no entry symbol.
    #[error("{} is a library but not a godwit plugin: it exports no `{}` symbol; a plugin crate invokes `godwit_plugin::export_plugin!` and builds as a cdylib", path.display(), crate::abi::ENTRY_SYMBOL)]
    NoEntry {
        /// The file.
        path: PathBuf,
    },
    /// The entry symbol returned no header: the plugin failed to start.
    #[error("the plugin {} failed to start (its entry symbol returned no header)", path.display())]
    EntryFailed {
        /// The file.
        path: PathBuf,
    },
    /// The plugin was built for another ABI version.
    #[error("the plugin {} was built for plugin ABI version {plugin}, and this godwit speaks ABI version {host}; rebuild it against the godwit-plugin of this godwit", path.display())]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// The plugin's ABI version.
        plugin: u32,
        /// This host's.
        host: u32,
    },
    /// The plugin was built against another version of the message contract.
    #[error("the plugin {} was built for godwit contract version {plugin}, and this godwit speaks contract version {host}; rebuild it against the godwit-plugin of this godwit", path.display())]
    ContractMismatch {
        /// The file.
        path: PathBuf,
        /// The plugin's contract version.
        plugin: u32,
        /// This host's.
        host: u32,
    },
    /// The header is damaged.
    #[error("the plugin {} has a damaged header: {problem}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A plugin named by its name was in none of the folders searched.
    #[error(
        "no plugin named `{name}` is in {}; name its file instead, or put it in one of those folders",
        searched_list(searched)
    )]
    NotFound {
        /// The name.
        name: String,
        /// The folders searched.
        searched: Vec<PathBuf>,
    },
    /// The plugin did not describe itself.
    #[error("the plugin {} did not describe itself: {failure}", path.display())]
    Describe {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        failure: Failure,
    },
}

fn searched_list(searched: &[PathBuf]) -> String {
    if searched.is_empty() {
        return "no folder (no plugin folder is set, and there is no default one)".to_string();
    }
    searched
        .iter()
        .map(|dir| dir.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl LoadError {
    /// The file that was refused (`None` for a name that was not found).
    pub fn path(&self) -> Option<&Path> {
        Some(match self {
            LoadError::NotFound { .. } => return None,
            LoadError::NotALibrary { path, .. }
            | LoadError::Truncated { path, .. }
            | LoadError::NoEntry { path }
            | LoadError::EntryFailed { path }
            | LoadError::AbiMismatch { path, .. }
            | LoadError::ContractMismatch { path, .. }
            | LoadError::BadHeader { path, .. }
            | LoadError::Describe { path, .. } => path,
        })
    }
}

/// What a loaded plugin says of itself, for `godwit plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PluginInfo {
    /// Its crate's name (`godwit-mysql`).
    pub name: String,
    /// Its crate's version.
    pub version: String,
    /// The ABI version it speaks (this host's).
    pub abi_version: u32,
    /// The contract version it speaks (this host's).
    pub contract_version: u32,
    /// Its dialect's name (`mysql`).
    pub dialect: String,
    /// The URL schemes it serves.
    pub schemes: Vec<String>,
    /// The library file.
    pub path: PathBuf,
}

/// A loaded plugin. Leaked: a library is never unloaded, so what points into it lives as long
/// as the process, and so may this.
#[derive(Debug)]
struct Link {
    loaded: Loaded,
    info: PluginInfo,
}

impl Link {
    /// A synchronous request's outcome.
    fn call<T: DeserializeOwned>(&self, request: &Request) -> Outcome<T> {
        read_reply(&self.loaded.call(&encode(request)))
    }

    /// An asynchronous request's outcome; `on_event` hears its events.
    async fn call_async<T: DeserializeOwned>(
        &self,
        request: &Request,
        mut on_event: impl FnMut(&[u8]) + Send,
    ) -> Outcome<T> {
        let mut receiver = self.loaded.call_async(&encode(request));
        loop {
            match receiver.recv().await {
                Some(Message::Event(event)) => on_event(&event),
                Some(Message::Reply(reply)) => return read_reply(&reply),
                None => {
                    return Err(Failure::BadReply {
                        message: "the call ended without a reply".to_string(),
                    });
                }
            }
        }
    }

    /// What a failure at the boundary says, naming the plugin.
    fn failed(&self, method: &str, failure: &Failure) -> String {
        format!(
            "the plugin {} {} ({}) {failure} in {method}",
            self.info.name,
            self.info.version,
            self.info.path.display()
        )
    }
}

fn read_reply<T: DeserializeOwned>(reply: &[u8]) -> Outcome<T> {
    decode::<Outcome<T>>(reply).unwrap_or_else(|error| {
        Err(Failure::BadReply {
            message: error.to_string(),
        })
    })
}

/// Load the plugin at `path` for the rest of the process: check its versions, read its
/// description, and adapt it to [`Backend`].
pub fn load(path: &Path) -> Result<PluginBackend, LoadError> {
    // The system loader reads a bare file name as a library to look for on its own search
    // path, not as a file in the working directory.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    if let Some((size, needed)) = elf::missing_bytes(path) {
        return Err(LoadError::Truncated {
            path: path.to_path_buf(),
            size,
            needed,
        });
    }
    let loaded = load::load(path)?;
    let header = loaded.header();
    let text = |field: Option<&str>, what: &str| {
        field
            .map(ToString::to_string)
            .ok_or_else(|| LoadError::BadHeader {
                path: path.to_path_buf(),
                problem: format!("its {what} is not text"),
            })
    };
    let name = text(header.name.get(), "name")?;
    let version = text(header.version.get(), "version")?;
    let schemes = text(header.schemes.get(), "list of schemes")?;
    let mut link = Link {
        loaded,
        info: PluginInfo {
            name,
            version,
            abi_version: header.abi_version,
            contract_version: header.contract_version,
            dialect: String::new(),
            schemes: schemes
                .split_whitespace()
                .map(ToString::to_string)
                .collect(),
            path: path.to_path_buf(),
        },
    };
    let description: Description =
        link.call(&Request::Describe)
            .map_err(|failure| LoadError::Describe {
                path: path.to_path_buf(),
                failure,
            })?;
    link.info.dialect.clone_from(&description.dialect);
    let link: &'static Link = Box::leak(Box::new(link));
    let dialect: &'static PluginDialect =
        Box::leak(Box::new(PluginDialect::new(link, description)));
    Ok(PluginBackend {
        link,
        dialect,
        schemes: leak_all(&link.info.schemes),
        url_forms: leak_all(&dialect.url_forms),
    })
}

/// `&'static` copies of `texts`, for the trait methods that return them. Called once per
/// loaded plugin, whose data lives as long as the process anyway.
fn leak_all(texts: &[String]) -> &'static [&'static str] {
    Vec::leak(texts.iter().map(|text| leak(text)).collect())
}

fn leak(text: &str) -> &'static str {
    String::leak(text.to_string())
}

/// A loaded plugin as a [`Backend`].
#[derive(Debug, Clone, Copy)]
pub struct PluginBackend {
    link: &'static Link,
    dialect: &'static PluginDialect,
    schemes: &'static [&'static str],
    url_forms: &'static [&'static str],
}

impl PluginBackend {
    /// What the plugin says of itself.
    pub fn info(&self) -> &'static PluginInfo {
        &self.link.info
    }
}

#[async_trait]
impl Backend for PluginBackend {
    fn name(&self) -> &'static str {
        self.dialect.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    fn schemes(&self) -> &'static [&'static str] {
        self.schemes
    }

    fn url_forms(&self) -> &'static [&'static str] {
        self.url_forms
    }

    fn locate(&self, url: &str) -> Result<Location, UrlError> {
        let request = Request::Locate {
            url: url.to_string(),
        };
        self.link
            .call::<Result<Location, UrlError>>(&request)
            .unwrap_or_else(|failure| {
                Err(UrlError::Invalid {
                    shown: godwit_core::url::redact_with_schemes(url, self.schemes).to_string(),
                    problem: format!(
                        "could not be read: {}",
                        self.link.failed("locate", &failure)
                    ),
                })
            })
    }

    async fn open(
        &self,
        url: &str,
        location: &Location,
        options: &ConnectOptions,
    ) -> Result<Box<dyn Store>, StoreError> {
        let request = Request::Open {
            url: url.to_string(),
            location: location.clone(),
            options: options.clone(),
        };
        let handle = self
            .link
            .call_async::<Result<u64, StoreError>>(&request, |_| {})
            .await
            .map_err(|failure| StoreError::Other(self.link.failed("open", &failure)))??;
        Ok(Box::new(PluginStore::new(self.link, self.dialect, handle)))
    }
}

/// A loaded plugin's dialect as a [`Dialect`].
///
/// A method core declares infallible has no error to return when the plugin fails at the
/// boundary (a caught panic): it panics in the host with the plugin's message, as a built-in
/// dialect's panic would, and the process unwinds rather than aborting.
pub struct PluginDialect {
    link: &'static Link,
    name: &'static str,
    capabilities: Capabilities,
    history_time_type: &'static str,
    normalisation_fingerprint_query: Option<&'static str>,
    introspection_queries: Vec<String>,
    invalid_indexes_query: Option<String>,
    unflushed_commit: Option<String>,
    diff_options: DiffOptions,
    lint_rules: Vec<Rule>,
    url_forms: Vec<String>,
    quoted: Mutex<HashMap<String, String>>,
    placeholders: Mutex<HashMap<usize, String>>,
}

impl fmt::Debug for PluginDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginDialect")
            .field("name", &self.name)
            .field("plugin", &self.link.info.path)
            .finish_non_exhaustive()
    }
}

impl PluginDialect {
    fn new(link: &'static Link, description: Description) -> Self {
        let lint_rules = description
            .lint_rules
            .into_iter()
            .map(|rule| {
                Rule::new(
                    leak(&rule.id),
                    rule.severity,
                    leak(&rule.summary),
                    leak(&rule.explanation),
                )
            })
            .collect();
        PluginDialect {
            link,
            name: leak(&description.dialect),
            capabilities: description.capabilities,
            history_time_type: leak(&description.history_time_type),
            normalisation_fingerprint_query: description
                .normalisation_fingerprint_query
                .as_deref()
                .map(leak),
            introspection_queries: description.introspection_queries,
            invalid_indexes_query: description.invalid_indexes_query,
            unflushed_commit: description.unflushed_commit,
            diff_options: description.diff_options,
            lint_rules,
            url_forms: description.url_forms,
            quoted: Mutex::default(),
            placeholders: Mutex::default(),
        }
    }

    /// What an infallible method returns.
    fn ask<T: DeserializeOwned>(&self, method: &str, request: DialectRequest) -> T {
        self.link
            .call(&Request::Dialect(Box::new(request)))
            .unwrap_or_else(|failure| panic!("{}", self.link.failed(method, &failure)))
    }

    /// What a method returning a [`RenderError`] returns.
    fn render_call<T: DeserializeOwned>(
        &self,
        method: &str,
        request: DialectRequest,
    ) -> Result<T, RenderError> {
        match self
            .link
            .call::<Result<T, WireRenderError>>(&Request::Dialect(Box::new(request)))
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(WireRenderError::Unsupported)) => {
                Err(RenderError::Unsupported { dialect: self.name })
            }
            Ok(Err(WireRenderError::Impossible(message))) => Err(RenderError::Impossible(message)),
            Err(failure) => Err(RenderError::Impossible(self.link.failed(method, &failure))),
        }
    }

    /// The `&'static` id of a finding's rule: one of the rules the plugin described, or,
    /// should it report another, a copy kept for the process.
    fn rule_id(&self, id: &str) -> &'static str {
        self.lint_rules
            .iter()
            .find(|rule| rule.id == id)
            .map_or_else(|| leak(id), |rule| rule.id)
    }
}

/// The remembered answer for `key`, or `ask`'s, remembered.
fn remembered<K: std::hash::Hash + Eq + Clone>(
    memory: &Mutex<HashMap<K, String>>,
    key: &K,
    ask: impl FnOnce() -> String,
) -> String {
    if let Some(known) = memory
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(key)
    {
        return known.clone();
    }
    let answer = ask();
    memory
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key.clone(), answer.clone());
    answer
}

impl Dialect for PluginDialect {
    fn name(&self) -> &'static str {
        self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    fn quote_identifier(&self, ident: &str) -> String {
        remembered(&self.quoted, &ident.to_string(), || {
            self.ask(
                "quote_identifier",
                DialectRequest::QuoteIdentifier {
                    ident: ident.to_string(),
                },
            )
        })
    }

    fn placeholder(&self, index: usize) -> String {
        remembered(&self.placeholders, &index, || {
            self.ask("placeholder", DialectRequest::Placeholder { index })
        })
    }

    fn qualified_name(&self, schema: Option<&str>, name: &str) -> String {
        self.ask(
            "qualified_name",
            DialectRequest::QualifiedName {
                schema: schema.map(ToString::to_string),
                name: name.to_string(),
            },
        )
    }

    fn table_exists_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        self.ask(
            "table_exists_query",
            DialectRequest::TableExistsQuery {
                schema: schema.map(ToString::to_string),
                name: name.to_string(),
            },
        )
    }

    fn name_holder_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        self.ask(
            "name_holder_query",
            DialectRequest::NameHolderQuery {
                schema: schema.map(ToString::to_string),
                name: name.to_string(),
            },
        )
    }

    fn history_time_type(&self) -> &'static str {
        self.history_time_type
    }

    fn transactional_script(&self, script: &str) -> bool {
        self.ask(
            "transactional_script",
            DialectRequest::TransactionalScript {
                script: script.to_string(),
            },
        )
    }

    fn history_time_value(&self, placeholder: &str) -> String {
        self.ask(
            "history_time_value",
            DialectRequest::HistoryTimeValue {
                placeholder: placeholder.to_string(),
            },
        )
    }

    fn text_cast(&self, expression: &str) -> String {
        self.ask(
            "text_cast",
            DialectRequest::TextCast {
                expression: expression.to_string(),
            },
        )
    }

    fn key_bind(&self, placeholder: &str, data_type: &str) -> String {
        self.ask(
            "key_bind",
            DialectRequest::KeyBind {
                placeholder: placeholder.to_string(),
                data_type: data_type.to_string(),
            },
        )
    }

    fn upsert_clause(&self, key: &str, columns: &[&str]) -> String {
        self.ask(
            "upsert_clause",
            DialectRequest::UpsertClause {
                key: key.to_string(),
                columns: columns.iter().map(ToString::to_string).collect(),
            },
        )
    }

    fn history_time_text(&self, column: &str) -> String {
        self.ask(
            "history_time_text",
            DialectRequest::HistoryTimeText {
                column: column.to_string(),
            },
        )
    }

    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String> {
        self.ask(
            "history_table_ddl",
            DialectRequest::HistoryTableDdl {
                table: table.clone(),
            },
        )
    }

    fn invalid_indexes_query(&self) -> Option<String> {
        self.invalid_indexes_query.clone()
    }

    fn unflushed_commit(&self) -> Option<String> {
        self.unflushed_commit.clone()
    }

    fn drop_invalid_index(&self, index: &InvalidIndex) -> String {
        self.ask(
            "drop_invalid_index",
            DialectRequest::DropInvalidIndex {
                index: index.clone(),
            },
        )
    }

    fn history_upgrade_ddl(&self, table: &HistoryTable, version: i64) -> Vec<String> {
        self.ask(
            "history_upgrade_ddl",
            DialectRequest::HistoryUpgradeDdl {
                table: table.clone(),
                version,
            },
        )
    }

    fn screen_schema(&self, sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
        self.ask(
            "screen_schema",
            DialectRequest::ScreenSchema {
                sql: sql.to_string(),
            },
        )
    }

    fn normalisation_fingerprint_query(&self) -> Option<&'static str> {
        self.normalisation_fingerprint_query
    }

    fn savepoint(&self, name: &str) -> Savepoint {
        self.ask(
            "savepoint",
            DialectRequest::Savepoint {
                name: name.to_string(),
            },
        )
    }

    fn diff_options(&self) -> DiffOptions {
        self.diff_options
    }

    fn introspection_queries(&self) -> Vec<String> {
        self.introspection_queries.clone()
    }

    fn introspection_detail_queries(&self, catalog: &[Vec<Row>]) -> Vec<String> {
        self.ask(
            "introspection_detail_queries",
            DialectRequest::IntrospectionDetailQueries {
                catalog: catalog.to_vec(),
            },
        )
    }

    fn schema_from_catalog(&self, results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
        self.render_call(
            "schema_from_catalog",
            DialectRequest::SchemaFromCatalog { results },
        )
    }

    fn render(
        &self,
        changes: &[Change],
        options: &RenderOptions,
    ) -> Result<Vec<Statement>, RenderError> {
        self.render_call(
            "render",
            DialectRequest::Render {
                changes: changes.to_vec(),
                options: options.clone(),
            },
        )
    }

    fn assertion(&self, query: &str, message: &str) -> Option<String> {
        self.ask(
            "assertion",
            DialectRequest::Assertion {
                query: query.to_string(),
                message: message.to_string(),
            },
        )
    }

    fn lint(&self, input: &LintInput<'_>, config: &LintConfig) -> Vec<Finding> {
        let findings: Vec<WireFinding> = self.ask(
            "lint",
            DialectRequest::Lint {
                input: WireLintInput {
                    sql: input.sql.to_string(),
                    transactional: input.transactional,
                    origin: input.origin.to_string(),
                    schema: input.schema.cloned(),
                },
                config: config.clone(),
            },
        );
        findings
            .into_iter()
            .map(|finding| Finding {
                rule: self.rule_id(&finding.rule),
                severity: finding.severity,
                line: finding.line,
                column: finding.column,
                message: finding.message,
                excerpt: finding.excerpt,
            })
            .collect()
    }

    fn lint_rules(&self) -> Vec<Rule> {
        self.lint_rules.clone()
    }

    fn outline(&self, sql: &str) -> Vec<OutlineStatement> {
        self.ask(
            "outline",
            DialectRequest::Outline {
                sql: sql.to_string(),
            },
        )
    }

    fn transaction_ends(&self, sql: &str) -> Vec<usize> {
        self.ask(
            "transaction_ends",
            DialectRequest::TransactionEnds {
                sql: sql.to_string(),
            },
        )
    }

    fn table_changes(&self, sql: &str) -> Vec<TableChange> {
        self.ask(
            "table_changes",
            DialectRequest::TableChanges {
                sql: sql.to_string(),
            },
        )
    }

    fn render_schema(&self, schema: &Schema) -> Result<String, RenderError> {
        self.render_call(
            "render_schema",
            DialectRequest::RenderSchema {
                schema: schema.clone(),
            },
        )
    }
}

/// A store the plugin opened, as a [`Store`]. Dropping it drops the plugin's.
pub struct PluginStore {
    link: &'static Link,
    dialect: &'static PluginDialect,
    handle: u64,
}

impl fmt::Debug for PluginStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginStore")
            .field("plugin", &self.link.info.name)
            .field("handle", &self.handle)
            .finish()
    }
}

impl PluginStore {
    fn new(link: &'static Link, dialect: &'static PluginDialect, handle: u64) -> Self {
        PluginStore {
            link,
            dialect,
            handle,
        }
    }

    /// What the store method `method` returns, `StoreError`s included.
    async fn ask<T: DeserializeOwned>(
        &self,
        method: &str,
        call: StoreRequest,
    ) -> Result<T, StoreError> {
        self.ask_with_events(method, call, |_| {}).await
    }

    async fn ask_with_events<T: DeserializeOwned>(
        &self,
        method: &str,
        call: StoreRequest,
        on_event: impl FnMut(&[u8]) + Send,
    ) -> Result<T, StoreError> {
        let request = Request::Store {
            handle: self.handle,
            call,
        };
        self.link
            .call_async::<Result<T, StoreError>>(&request, on_event)
            .await
            .map_err(|failure| StoreError::Other(self.link.failed(method, &failure)))?
    }
}

impl Drop for PluginStore {
    fn drop(&mut self) {
        // Not awaited: the plugin drops its store on its own runtime, and the reply, when it
        // comes, finds the receiver gone.
        drop(self.link.loaded.call_async(&encode(&Request::Release {
            handle: self.handle,
        })));
    }
}

#[async_trait]
impl Store for PluginStore {
    fn dialect(&self) -> &dyn Dialect {
        self.dialect
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        self.ask(
            "execute_script",
            StoreRequest::ExecuteScript {
                sql: sql.to_string(),
            },
        )
        .await
    }

    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        let call = StoreRequest::ExecuteScriptInSteps {
            sql: sql.to_string(),
        };
        self.ask_with_events("execute_script_in_steps", call, |event| {
            // A step the plugin sent that cannot be read is left out: steps only report
            // progress, and the call's reply says how it ended.
            if let Ok(step) = decode::<Step>(event) {
                on_step(step);
            }
        })
        .await
    }

    async fn execute_in_passes(&mut self, statements: &[&str]) -> Result<Vec<usize>, StoreError> {
        let call = StoreRequest::ExecuteInPasses {
            statements: statements.iter().map(ToString::to_string).collect(),
        };
        self.ask("execute_in_passes", call).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let call = StoreRequest::Execute {
            sql: sql.to_string(),
            params: params.to_vec(),
        };
        self.ask("execute", call).await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let call = StoreRequest::Query {
            sql: sql.to_string(),
            params: params.to_vec(),
        };
        self.ask("query", call).await
    }

    async fn query_snapshot(&mut self, queries: &[String]) -> Result<Vec<Vec<Row>>, StoreError> {
        let call = StoreRequest::QuerySnapshot {
            queries: queries.to_vec(),
        };
        self.ask("query_snapshot", call).await
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        self.ask("begin", StoreRequest::Begin).await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.ask("commit", StoreRequest::Commit).await
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.ask("rollback", StoreRequest::Rollback).await
    }

    async fn transaction_open(&mut self) -> Result<Option<bool>, StoreError> {
        self.ask("transaction_open", StoreRequest::TransactionOpen)
            .await
    }

    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError> {
        let call = StoreRequest::Lock {
            table: request.table.clone(),
            owner: request.owner.clone(),
            timeout: request.timeout,
        };
        self.ask("lock", call).await
    }

    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError> {
        let call = StoreRequest::Unlock {
            table: table.clone(),
        };
        self.ask("unlock", call).await
    }

    async fn lock_holder(
        &mut self,
        table: &HistoryTable,
    ) -> Result<Option<LockHolder>, StoreError> {
        let call = StoreRequest::LockHolder {
            table: table.clone(),
        };
        self.ask("lock_holder", call).await
    }

    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError> {
        let call = StoreRequest::ClearLock {
            table: table.clone(),
            force,
        };
        self.ask("clear_lock", call).await
    }

    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        let handle = self.ask("open_scratch", StoreRequest::OpenScratch).await?;
        Ok(Box::new(PluginStore::new(self.link, self.dialect, handle)))
    }

    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        let handle = self.ask("open_sandbox", StoreRequest::OpenSandbox).await?;
        Ok(Box::new(PluginStore::new(self.link, self.dialect, handle)))
    }

    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let call = StoreRequest::Backup {
            dir: request.dir.map(Path::to_path_buf),
            stamp: request.stamp.to_string(),
        };
        let request = Request::Store {
            handle: self.handle,
            call,
        };
        let reply = self
            .link
            .call_async::<Result<Backup, WireBackupError>>(&request, |_| {})
            .await
            .map_err(|failure| StoreError::Other(self.link.failed("backup", &failure)))?;
        reply.map_err(|error| match error {
            WireBackupError::Unsupported => BackupError::Unsupported {
                dialect: self.dialect.name,
            },
            WireBackupError::InMemory => BackupError::InMemory,
            WireBackupError::Store(error) => BackupError::Store(error),
            WireBackupError::Copy {
                from,
                to,
                message,
                code,
            } => BackupError::Copy {
                from,
                to,
                message,
                code,
            },
            WireBackupError::Other(message) => BackupError::Store(StoreError::Other(message)),
        })
    }

    // The host waits itself: a pause holds nothing of the plugin's, so it need not cross.
    async fn pause(&mut self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }

    async fn close(&mut self) -> Result<(), StoreError> {
        self.ask("close", StoreRequest::Close).await
    }
}
