//! The plugin's side: what [`crate::export_plugin!`] compiles into a dialect's cdylib. It
//! answers the host's requests with the crate's own [`Backend`], its dialect and its stores,
//! which it keeps in a table by handle and runs on a Tokio runtime of its own.
//!
//! Everything here is safe code; reading the host's bytes and handing buffers back is in
//! [`raw`], the guest's only `unsafe`.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use godwit_core::lint::LintInput;
use godwit_core::{Backend, BackupRequest, Dialect, LockRequest, Store, StoreError};
use serde::Serialize;

use crate::abi::{ABI_VERSION, CONTRACT_VERSION, Header, Text};
use crate::wire::{
    DialectRequest, Failure, Outcome, Request, StoreRequest, WireBackupError, WireFinding,
    WireRenderError, WireRule, decode, encode,
};

pub(crate) mod raw;

/// An open store, shared by the calls made on it (one runs at a time).
type Shared = Arc<tokio::sync::Mutex<Box<dyn Store>>>;

/// The one plugin of this library: its backend, its open stores and its runtime.
struct Guest {
    backend: &'static dyn Backend,
    stores: Mutex<HashMap<u64, Shared>>,
    next_handle: AtomicU64,
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
}

/// The library's plugin. A cdylib holds its own copy of this crate, so each plugin loaded
/// into a process has its own.
static GUEST: OnceLock<Guest> = OnceLock::new();
static HEADER: OnceLock<Header> = OnceLock::new();

/// What the entry symbol [`crate::export_plugin!`] writes does: start the plugin once, with
/// the backend `backend` makes, and return its header; null when that panicked or a name
/// does not fit the header. `abi_version` is [`ABI_VERSION`] but in the refusal tests'
/// fixture.
#[doc(hidden)]
pub fn entry(
    backend: fn() -> Box<dyn Backend>,
    name: &str,
    version: &str,
    abi_version: u32,
) -> *const Header {
    let started = catch_unwind(AssertUnwindSafe(|| {
        let guest = GUEST.get_or_init(|| Guest {
            backend: Box::leak(backend()),
            stores: Mutex::default(),
            next_handle: AtomicU64::new(1),
            runtime: OnceLock::new(),
        });
        let header = Header {
            abi_version,
            header_size: u32::try_from(size_of::<Header>()).ok()?,
            contract_version: CONTRACT_VERSION,
            name: Text::new(name)?,
            version: Text::new(version)?,
            schemes: Text::new(&guest.backend.schemes().join(" "))?,
            call: raw::call,
            call_async: raw::call_async,
            free: raw::free,
        };
        Some(HEADER.get_or_init(|| header) as *const Header)
    }));
    started.ok().flatten().unwrap_or(std::ptr::null())
}

const _: () = assert!(ABI_VERSION == 1, "entry builds the header of ABI 1");

impl Guest {
    fn get() -> Outcome<&'static Guest> {
        GUEST.get().ok_or_else(|| Failure::BadRequest {
            message: "the plugin was called before its entry symbol".to_string(),
        })
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.backend.dialect()
    }

    fn runtime(&self) -> Outcome<&tokio::runtime::Runtime> {
        self.runtime
            .get_or_init(|| {
                // Two workers: a store waiting for the migration lock must not hold up
                // another store of the same process (a second runner in a test).
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("godwit-plugin")
                    .enable_all()
                    .build()
                    .map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(|message| Failure::Runtime {
                message: message.clone(),
            })
    }

    fn store(&self, handle: u64) -> Outcome<Shared> {
        self.stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&handle)
            .cloned()
            .ok_or(Failure::NoSuchStore { handle })
    }

    fn insert(&self, store: Box<dyn Store>) -> u64 {
        let handle = self.next_handle.fetch_add(1, Ordering::Relaxed);
        self.stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(handle, Arc::new(tokio::sync::Mutex::new(store)));
        handle
    }

    fn remove(&self, handle: u64) -> Option<Shared> {
        self.stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&handle)
    }
}

/// A reply: the method's result, serialised.
fn ok<T: Serialize>(value: T) -> Vec<u8> {
    encode(&Outcome::Ok(value))
}

fn failed(failure: Failure) -> Vec<u8> {
    encode(&Outcome::<()>::Err(failure))
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// A synchronous request's reply. Never unwinds: a panic becomes [`Failure::Panicked`].
pub(crate) fn call(request: &[u8]) -> Vec<u8> {
    catch_unwind(AssertUnwindSafe(|| answer(request))).unwrap_or_else(|payload| {
        failed(Failure::Panicked {
            message: panic_message(payload.as_ref()),
        })
    })
}

fn answer(request: &[u8]) -> Vec<u8> {
    let guest = match Guest::get() {
        Ok(guest) => guest,
        Err(failure) => return failed(failure),
    };
    match decode::<Request>(request) {
        Ok(Request::Describe) => ok(describe(guest)),
        Ok(Request::Locate { url }) => ok(guest.backend.locate(&url)),
        Ok(Request::Dialect(request)) => dialect(guest.dialect(), *request),
        Ok(_) => failed(Failure::BadRequest {
            message: "an asynchronous request was sent synchronously".to_string(),
        }),
        Err(error) => failed(Failure::BadRequest {
            message: error.to_string(),
        }),
    }
}

fn describe(guest: &Guest) -> crate::wire::Description {
    let dialect = guest.dialect();
    crate::wire::Description {
        dialect: dialect.name().to_string(),
        url_forms: guest
            .backend
            .url_forms()
            .iter()
            .map(ToString::to_string)
            .collect(),
        capabilities: dialect.capabilities(),
        history_time_type: dialect.history_time_type().to_string(),
        normalisation_fingerprint_query: dialect
            .normalisation_fingerprint_query()
            .map(ToString::to_string),
        introspection_queries: dialect.introspection_queries(),
        invalid_indexes_query: dialect.invalid_indexes_query(),
        unflushed_commit: dialect.unflushed_commit(),
        diff_options: dialect.diff_options(),
        lint_rules: dialect
            .lint_rules()
            .into_iter()
            .map(WireRule::from)
            .collect(),
    }
}

fn dialect(dialect: &dyn Dialect, request: DialectRequest) -> Vec<u8> {
    use DialectRequest as R;
    match request {
        R::QuoteIdentifier { ident } => ok(dialect.quote_identifier(&ident)),
        R::Placeholder { index } => ok(dialect.placeholder(index)),
        R::QualifiedName { schema, name } => ok(dialect.qualified_name(schema.as_deref(), &name)),
        R::TableExistsQuery { schema, name } => {
            ok(dialect.table_exists_query(schema.as_deref(), &name))
        }
        R::NameHolderQuery { schema, name } => {
            ok(dialect.name_holder_query(schema.as_deref(), &name))
        }
        R::TransactionalScript { script } => ok(dialect.transactional_script(&script)),
        R::HistoryTimeValue { placeholder } => ok(dialect.history_time_value(&placeholder)),
        R::TextCast { expression } => ok(dialect.text_cast(&expression)),
        R::KeyBind {
            placeholder,
            data_type,
        } => ok(dialect.key_bind(&placeholder, &data_type)),
        R::UpsertClause { key, columns } => {
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            ok(dialect.upsert_clause(&key, &columns))
        }
        R::HistoryTimeText { column } => ok(dialect.history_time_text(&column)),
        R::HistoryTableDdl { table } => ok(dialect.history_table_ddl(&table)),
        R::DropInvalidIndex { index } => ok(dialect.drop_invalid_index(&index)),
        R::HistoryUpgradeDdl { table, version } => ok(dialect.history_upgrade_ddl(&table, version)),
        R::ScreenSchema { sql } => ok(dialect.screen_schema(&sql)),
        R::Savepoint { name } => ok(dialect.savepoint(&name)),
        R::IntrospectionDetailQueries { catalog } => {
            ok(dialect.introspection_detail_queries(&catalog))
        }
        R::SchemaFromCatalog { results } => ok(dialect
            .schema_from_catalog(results)
            .map_err(WireRenderError::from)),
        R::Render { changes, options } => ok(dialect
            .render(&changes, &options)
            .map_err(WireRenderError::from)),
        R::Assertion { query, message } => ok(dialect.assertion(&query, &message)),
        R::Lint { input, config } => {
            let input = LintInput {
                sql: &input.sql,
                transactional: input.transactional,
                origin: &input.origin,
                schema: input.schema.as_ref(),
            };
            let findings: Vec<WireFinding> = dialect
                .lint(&input, &config)
                .into_iter()
                .map(WireFinding::from)
                .collect();
            ok(findings)
        }
        R::Outline { sql } => ok(dialect.outline(&sql)),
        R::TransactionEnds { sql } => ok(dialect.transaction_ends(&sql)),
        R::TableChanges { sql } => ok(dialect.table_changes(&sql)),
        R::RenderSchema { schema } => ok(dialect
            .render_schema(&schema)
            .map_err(WireRenderError::from)),
    }
}

/// Where an asynchronous call reports: events, then its one reply.
pub(crate) trait Notify: Send + Sync + 'static {
    /// An event of the running call.
    fn event(&self, message: &[u8]);
    /// The reply; [`call_async`] sends it once, last.
    fn reply(&self, message: &[u8]);
}

/// Start an asynchronous request; `notify` hears its events and its reply, from a thread of
/// the plugin's runtime (or from this one, when the request is refused at once).
pub(crate) fn call_async(request: &[u8], notify: impl Notify) {
    let started = catch_unwind(AssertUnwindSafe(|| {
        let guest = Guest::get()?;
        let runtime = guest.runtime()?;
        let request = decode::<Request>(request).map_err(|error| Failure::BadRequest {
            message: error.to_string(),
        })?;
        Ok((guest, runtime, request))
    }));
    let (guest, runtime, request) = match started {
        Ok(Ok(started)) => started,
        Ok(Err(failure)) => return notify.reply(&failed(failure)),
        Err(payload) => {
            return notify.reply(&failed(Failure::Panicked {
                message: panic_message(payload.as_ref()),
            }));
        }
    };
    let notify = Arc::new(notify);
    let events = Arc::clone(&notify);
    let task = runtime.spawn(async move { serve(guest, request, &*events).await });
    // The reply is sent by a task of its own that awaits the first: a panic of the first
    // ends only it, and its join error becomes the reply.
    runtime.spawn(async move {
        let reply = match task.await {
            Ok(reply) => reply,
            Err(error) if error.is_panic() => failed(Failure::Panicked {
                message: panic_message(error.into_panic().as_ref()),
            }),
            Err(error) => failed(Failure::Runtime {
                message: error.to_string(),
            }),
        };
        notify.reply(&reply);
    });
}

async fn serve(guest: &'static Guest, request: Request, notify: &dyn NotifyEvents) -> Vec<u8> {
    match request {
        Request::Open {
            url,
            location,
            options,
        } => match guest.backend.open(&url, &location, &options).await {
            Ok(store) => ok(Ok::<u64, StoreError>(guest.insert(store))),
            Err(error) => ok(Err::<u64, StoreError>(error)),
        },
        Request::Store { handle, call } => match guest.store(handle) {
            Ok(store) => {
                let mut store = store.lock_owned().await;
                store_call(guest, store.as_mut(), call, notify).await
            }
            Err(failure) => failed(failure),
        },
        Request::Release { handle } => {
            // Dropped here, on the runtime, where a driver's connection may need it.
            drop(guest.remove(handle));
            ok(())
        }
        _ => failed(Failure::BadRequest {
            message: "a synchronous request was sent asynchronously".to_string(),
        }),
    }
}

/// The events half of [`Notify`], usable through a shared reference.
trait NotifyEvents: Send + Sync {
    fn send_event(&self, message: &[u8]);
}

impl<N: Notify> NotifyEvents for N {
    fn send_event(&self, message: &[u8]) {
        self.event(message);
    }
}

async fn store_call(
    guest: &'static Guest,
    store: &mut dyn Store,
    call: StoreRequest,
    notify: &dyn NotifyEvents,
) -> Vec<u8> {
    use StoreRequest as R;
    match call {
        R::ExecuteScript { sql } => ok(store.execute_script(&sql).await),
        R::ExecuteScriptInSteps { sql } => {
            let mut on_step = |step| notify.send_event(&encode(&step));
            ok(store.execute_script_in_steps(&sql, &mut on_step).await)
        }
        R::ExecuteInPasses { statements } => {
            let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
            ok(store.execute_in_passes(&statements).await)
        }
        R::Execute { sql, params } => ok(store.execute(&sql, &params).await),
        R::Query { sql, params } => ok(store.query(&sql, &params).await),
        R::QuerySnapshot { queries } => ok(store.query_snapshot(&queries).await),
        R::Begin => ok(store.begin().await),
        R::Commit => ok(store.commit().await),
        R::Rollback => ok(store.rollback().await),
        R::TransactionOpen => ok(store.transaction_open().await),
        R::Lock {
            table,
            owner,
            timeout,
        } => {
            let request = LockRequest {
                table: &table,
                owner: &owner,
                timeout,
            };
            ok(store.lock(&request).await)
        }
        R::Unlock { table } => ok(store.unlock(&table).await),
        R::LockHolder { table } => ok(store.lock_holder(&table).await),
        R::ClearLock { table, force } => ok(store.clear_lock(&table, force).await),
        R::OpenScratch => ok(store
            .open_scratch()
            .await
            .map(|scratch| guest.insert(scratch))),
        R::OpenSandbox => ok(store
            .open_sandbox()
            .await
            .map(|sandbox| guest.insert(sandbox))),
        R::Backup { dir, stamp } => {
            let request = BackupRequest {
                dir: dir.as_deref(),
                stamp: &stamp,
            };
            ok(store.backup(&request).await.map_err(WireBackupError::from))
        }
        R::Close => ok(store.close().await),
    }
}

/// Make a dialect crate a plugin: `godwit_plugin::export_plugin!(MyBackend)` in the crate
/// built as a `cdylib` exports the entry symbol ([`crate::abi::ENTRY_SYMBOL`]) serving
/// `MyBackend` (an expression of a type implementing [`Backend`]), named and versioned after
/// the crate. Write it once, at the crate's root; the same crate still builds as an ordinary
/// library.
#[macro_export]
macro_rules! export_plugin {
    ($backend:expr) => {
        $crate::export_plugin!(@abi $crate::abi::ABI_VERSION, $backend);
    };
    // The refusal tests' fixture claims another ABI version; no plugin should.
    (@abi $abi:expr, $backend:expr) => {
        /// The godwit plugin entry symbol.
        // A symbol the host finds by name must not be mangled; writing one is `unsafe` to
        // the compiler because two such symbols of one name would clash at link time. This
        // is the only one this macro writes, once per library.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn godwit_plugin_entry() -> *const $crate::abi::Header {
            fn backend() -> ::std::boxed::Box<dyn $crate::__core::Backend> {
                ::std::boxed::Box::new($backend)
            }
            $crate::guest::entry(
                backend,
                ::std::env!("CARGO_PKG_NAME"),
                ::std::env!("CARGO_PKG_VERSION"),
                $abi,
            )
        }
    };
}
