//! The messages that cross the boundary, one request per method of core's `Dialect`, `Store`
//! and `Backend`, serialised as JSON.
//!
//! JSON, because the types that cross are core's own serde types, whose attributes
//! (`skip_serializing_if`, internally tagged enums, `default`) need a self-describing format;
//! because a plugin built against a newer core that adds an optional field still reads and
//! writes messages this host understands; and because a message can be read when debugging.
//! Its cost is small beside the database round trip most calls make, and the calls made
//! most often are answered without crossing (see `crate::host`).
//!
//! A reply is an [`Outcome`]: `Ok` with what the method returns (its own `Result` included),
//! or a [`Failure`] of the boundary itself. Types holding `&'static str` or borrowed data
//! cross as the owned mirrors below.

use std::path::PathBuf;
use std::time::Duration;

use godwit_core::dialect::{RenderError, RenderOptions};
use godwit_core::diff::{Change, DiffOptions};
use godwit_core::lint::{Finding, LintConfig, Rule, Severity};
use godwit_core::schema::Schema;
use godwit_core::{
    BackupError, Capabilities, ConnectOptions, HistoryTable, InvalidIndex, Location, LockOwner,
    Row, StoreError, Value,
};
use serde::{Deserialize, Serialize};

/// What every reply is: the method's result, or why the call did not run to its end.
pub type Outcome<T> = Result<T, Failure>;

/// A call that failed at the boundary rather than in the method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// The plugin panicked; the panic was caught in the plugin.
    #[error("panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// The plugin could not read the request.
    #[error("could not read the request: {message}")]
    BadRequest {
        /// What was wrong.
        message: String,
    },
    /// The request named a store the plugin does not have (closed, or never opened).
    #[error("has no open store {handle}")]
    NoSuchStore {
        /// The handle.
        handle: u64,
    },
    /// The plugin's reply could not be read (said by the host).
    #[error("sent a reply that could not be read: {message}")]
    BadReply {
        /// What was wrong.
        message: String,
    },
    /// The plugin could not start the runtime its stores run on.
    #[error("could not start its runtime: {message}")]
    Runtime {
        /// The operating system's message.
        message: String,
    },
}

/// What a plugin says of itself once, at load: the answers of the methods that take no
/// argument, which a pure dialect answers the same every time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Description {
    /// `Dialect::name` (and `Backend::name`).
    pub dialect: String,
    /// `Backend::url_forms`.
    pub url_forms: Vec<String>,
    /// `Dialect::capabilities`.
    pub capabilities: Capabilities,
    /// `Dialect::history_time_type`.
    pub history_time_type: String,
    /// `Dialect::normalisation_fingerprint_query`.
    pub normalisation_fingerprint_query: Option<String>,
    /// `Dialect::introspection_queries`.
    pub introspection_queries: Vec<String>,
    /// `Dialect::invalid_indexes_query`.
    pub invalid_indexes_query: Option<String>,
    /// `Dialect::unflushed_commit`.
    pub unflushed_commit: Option<String>,
    /// `Dialect::diff_options`.
    pub diff_options: DiffOptions,
    /// `Dialect::lint_rules`.
    pub lint_rules: Vec<WireRule>,
}

/// Every request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Request {
    /// The plugin's [`Description`]. Synchronous.
    Describe,
    /// `Backend::locate`; replies `Result<Location, UrlError>`. Synchronous.
    Locate {
        /// The URL.
        url: String,
    },
    /// A `Dialect` method. Synchronous.
    Dialect(Box<DialectRequest>),
    /// `Backend::open`; replies `Result<u64, StoreError>`, the new store's handle.
    /// Asynchronous.
    Open {
        /// The URL.
        url: String,
        /// What `locate` said of it.
        location: Location,
        /// How to open it.
        options: ConnectOptions,
    },
    /// A `Store` method of the store `handle`. Asynchronous.
    Store {
        /// The store.
        handle: u64,
        /// The method.
        call: StoreRequest,
    },
    /// Drop the store `handle` (the host dropped its side); replies `()`. Asynchronous.
    Release {
        /// The store.
        handle: u64,
    },
}

/// A `Dialect` method with an argument; each replies what the method returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    missing_docs,
    reason = "each variant is the Dialect method of its name, its fields the method's arguments"
)]
pub enum DialectRequest {
    QuoteIdentifier {
        ident: String,
    },
    Placeholder {
        index: usize,
    },
    QualifiedName {
        schema: Option<String>,
        name: String,
    },
    TableExistsQuery {
        schema: Option<String>,
        name: String,
    },
    NameHolderQuery {
        schema: Option<String>,
        name: String,
    },
    TransactionalScript {
        script: String,
    },
    HistoryTimeValue {
        placeholder: String,
    },
    TextCast {
        expression: String,
    },
    KeyBind {
        placeholder: String,
        data_type: String,
    },
    UpsertClause {
        key: String,
        columns: Vec<String>,
    },
    HistoryTimeText {
        column: String,
    },
    HistoryTableDdl {
        table: HistoryTable,
    },
    DropInvalidIndex {
        index: InvalidIndex,
    },
    HistoryUpgradeDdl {
        table: HistoryTable,
        version: i64,
    },
    /// Replies `Result<Vec<SchemaStatement>, ScreenError>`.
    ScreenSchema {
        sql: String,
    },
    Savepoint {
        name: String,
    },
    IntrospectionDetailQueries {
        catalog: Vec<Vec<Row>>,
    },
    /// Replies `Result<Schema, WireRenderError>`.
    SchemaFromCatalog {
        results: Vec<Vec<Row>>,
    },
    /// Replies `Result<Vec<Statement>, WireRenderError>`.
    Render {
        changes: Vec<Change>,
        options: RenderOptions,
    },
    Assertion {
        query: String,
        message: String,
    },
    /// Replies `Vec<WireFinding>`.
    Lint {
        input: WireLintInput,
        config: LintConfig,
    },
    Outline {
        sql: String,
    },
    TransactionEnds {
        sql: String,
    },
    TableChanges {
        sql: String,
    },
    /// Replies `Result<String, WireRenderError>`.
    RenderSchema {
        schema: Schema,
    },
}

/// A `Store` method; each replies what the method returns, errors as `StoreError`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    missing_docs,
    reason = "each variant is the Store method of its name, its fields the method's arguments"
)]
pub enum StoreRequest {
    ExecuteScript {
        sql: String,
    },
    /// Sends each `Step` as an event before its statement runs.
    ExecuteScriptInSteps {
        sql: String,
    },
    ExecuteInPasses {
        statements: Vec<String>,
    },
    Execute {
        sql: String,
        params: Vec<Value>,
    },
    Query {
        sql: String,
        params: Vec<Value>,
    },
    QuerySnapshot {
        queries: Vec<String>,
    },
    Begin,
    Commit,
    Rollback,
    TransactionOpen,
    Lock {
        table: HistoryTable,
        owner: LockOwner,
        timeout: Duration,
    },
    Unlock {
        table: HistoryTable,
    },
    LockHolder {
        table: HistoryTable,
    },
    ClearLock {
        table: HistoryTable,
        force: bool,
    },
    /// Replies `Result<u64, StoreError>`, the scratch store's handle.
    OpenScratch,
    /// Replies `Result<u64, StoreError>`, the sandbox's handle.
    OpenSandbox,
    /// Replies `Result<Backup, WireBackupError>`.
    Backup {
        dir: Option<PathBuf>,
        stamp: String,
    },
    Close,
}

/// `LintInput`, owned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs, reason = "the fields of LintInput")]
pub struct WireLintInput {
    pub sql: String,
    pub transactional: bool,
    pub origin: String,
    pub schema: Option<Schema>,
}

/// `Rule`, whose text is `&'static str` in core.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs, reason = "the fields of Rule")]
pub struct WireRule {
    pub id: String,
    pub severity: Severity,
    pub summary: String,
    pub explanation: String,
}

impl From<Rule> for WireRule {
    fn from(rule: Rule) -> Self {
        WireRule {
            id: rule.id.to_string(),
            severity: rule.severity,
            summary: rule.summary.to_string(),
            explanation: rule.explanation.to_string(),
        }
    }
}

/// `Finding`, whose rule id is `&'static str` in core.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs, reason = "the fields of Finding")]
pub struct WireFinding {
    pub rule: String,
    pub severity: Severity,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub excerpt: String,
}

impl From<Finding> for WireFinding {
    fn from(finding: Finding) -> Self {
        WireFinding {
            rule: finding.rule.to_string(),
            severity: finding.severity,
            line: finding.line,
            column: finding.column,
            message: finding.message,
            excerpt: finding.excerpt,
        }
    }
}

/// `RenderError`, whose dialect name is `&'static str` in core (the host knows it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WireRenderError {
    /// `RenderError::Unsupported`.
    Unsupported,
    /// `RenderError::Impossible`.
    Impossible(String),
}

impl From<RenderError> for WireRenderError {
    fn from(error: RenderError) -> Self {
        match error {
            RenderError::Unsupported { .. } => WireRenderError::Unsupported,
            other => WireRenderError::Impossible(other.to_string()),
        }
    }
}

/// `BackupError`, whose text fields are `&'static str` and which may hold an I/O error in
/// core. The variants a caller tells apart cross as they are; the others as their message.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WireBackupError {
    /// `BackupError::Unsupported`.
    Unsupported,
    /// `BackupError::InMemory`.
    InMemory,
    /// `BackupError::Store`.
    Store(StoreError),
    /// `BackupError::Copy`.
    Copy {
        /// What was copied.
        from: PathBuf,
        /// Where to.
        to: PathBuf,
        /// The engine's message.
        message: String,
        /// The engine's error code name.
        code: Option<String>,
    },
    /// Any other: its message, with its causes.
    Other(String),
}

impl From<BackupError> for WireBackupError {
    fn from(error: BackupError) -> Self {
        match error {
            BackupError::Unsupported { .. } => WireBackupError::Unsupported,
            BackupError::InMemory => WireBackupError::InMemory,
            BackupError::Store(error) => WireBackupError::Store(error),
            BackupError::Copy {
                from,
                to,
                message,
                code,
            } => WireBackupError::Copy {
                from,
                to,
                message,
                code,
            },
            other => {
                let mut message = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                WireBackupError::Other(message)
            }
        }
    }
}

/// Serialise a message. The types that cross serialise to JSON without fail (no map has
/// keys that are not strings), so a failure is a bug in a type that crosses.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    serde_json::to_vec(message).expect("the messages of the plugin contract serialise to JSON")
}

/// Read a message.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}
