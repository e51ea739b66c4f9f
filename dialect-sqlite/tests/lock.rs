//! The migration lock, between real stores on one database file.

use std::path::Path;
use std::time::{Duration, Instant};

use godwit_core::{
    HistoryTable, Liveness, LockOwner, LockRequest, Store, StoreError, UnlockOutcome,
};
use godwit_sqlite::{SqliteOptions, SqliteStore};

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, &SqliteOptions::default()).unwrap()
}

fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn request<'a>(table: &'a HistoryTable, owner: &'a LockOwner, timeout_ms: u64) -> LockRequest<'a> {
    LockRequest {
        table,
        owner,
        timeout: Duration::from_millis(timeout_ms),
    }
}

/// Write a lock row by hand, as a runner that crashed or runs elsewhere would have left it.
fn plant_lock_row(store: &SqliteStore, host: &str, pid: i64) {
    store
        .connection()
        .execute(
            "INSERT OR REPLACE INTO godwit_migrations_lock (id, host, pid, application, acquired_at) \
             VALUES (1, ?1, ?2, 'ghost', '2024-01-01T00:00:00.000Z')",
            rusqlite::params![host, pid],
        )
        .unwrap();
}

/// A pid no process can have: one above the kernel's limit.
#[cfg(target_os = "linux")]
fn dead_pid() -> i64 {
    let max: i64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    max + 1
}

/// Take and release the lock once, so the lock table exists for rows planted by hand.
async fn create_lock_table(store: &mut SqliteStore, table: &HistoryTable) {
    let owner = LockOwner::current(host(), "setup");
    store.lock(&request(table, &owner, 1000)).await.unwrap();
    store.unlock(table).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_runner_waits_then_times_out_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let table = HistoryTable::default();
    let mut first = open(&path);
    let mut second = open(&path);
    let first_owner = LockOwner::current(host(), "first");
    let second_owner = LockOwner::current(host(), "second");

    first
        .lock(&request(&table, &first_owner, 1000))
        .await
        .unwrap();
    // Taking a lock this store already holds is a no-op.
    first
        .lock(&request(&table, &first_owner, 1000))
        .await
        .unwrap();

    let started = Instant::now();
    match second.lock(&request(&table, &second_owner, 300)).await {
        Err(StoreError::LockTimeout { holder, waited }) => {
            let holder = holder.expect("the holder is named");
            assert_eq!(holder.pid, Some(i64::from(std::process::id())));
            assert_eq!(holder.host, Some(host()));
            assert_eq!(holder.application.as_deref(), Some("first"));
            assert!(holder.since.is_some());
            #[cfg(target_os = "linux")]
            assert_eq!(holder.liveness, Liveness::Running);
            assert!(waited >= Duration::from_millis(300), "{waited:?}");
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));

    // Releasing from a store that does not hold the lock leaves it alone.
    second.unlock(&table).await.unwrap();
    let holder = second.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.application.as_deref(), Some("first"));

    first.unlock(&table).await.unwrap();
    assert_eq!(first.lock_holder(&table).await.unwrap(), None);
    second
        .lock(&request(&table, &second_owner, 300))
        .await
        .unwrap();
    let holder = first.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.application.as_deref(), Some("second"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_waiting_runner_gets_the_lock_once_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let table = HistoryTable::default();
    let mut first = open(&path);
    let first_owner = LockOwner::current(host(), "first");
    first
        .lock(&request(&table, &first_owner, 1000))
        .await
        .unwrap();

    let (waiting, started_waiting) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn({
        let path = path.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut second = open(&path);
                let table = HistoryTable::default();
                let owner = LockOwner::current(host(), "second");
                let started = Instant::now();
                waiting.send(()).unwrap();
                second.lock(&request(&table, &owner, 5000)).await.unwrap();
                started.elapsed()
            })
        }
    });
    started_waiting.recv().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.unlock(&table).await.unwrap();
    let waited = waiter.join().unwrap();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    let holder = first.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.application.as_deref(), Some("second"));
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_dead_holder_on_this_host_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    create_lock_table(&mut store, &table).await;
    plant_lock_row(&store, &host(), dead_pid());

    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.pid, Some(dead_pid()));
    assert_eq!(holder.liveness, Liveness::Exited);

    let owner = LockOwner::current(host(), "taker");
    store.lock(&request(&table, &owner, 300)).await.unwrap();
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.pid, Some(i64::from(std::process::id())));
    assert_eq!(holder.application.as_deref(), Some("taker"));
    assert_eq!(holder.liveness, Liveness::Running);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_dead_holder_is_cleared_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    create_lock_table(&mut store, &table).await;
    plant_lock_row(&store, &host(), dead_pid());

    match store.clear_lock(&table, false).await.unwrap() {
        UnlockOutcome::Cleared { holder } => {
            assert_eq!(holder.pid, Some(dead_pid()));
            assert_eq!(holder.application.as_deref(), Some("ghost"));
            assert_eq!(holder.since.as_deref(), Some("2024-01-01T00:00:00.000Z"));
            assert_eq!(holder.liveness, Liveness::Exited);
        }
        other => panic!("expected the lock to be cleared, got {other:?}"),
    }
    assert_eq!(store.lock_holder(&table).await.unwrap(), None);
    assert_eq!(
        store.clear_lock(&table, false).await.unwrap(),
        UnlockOutcome::NotLocked
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_holder_on_another_host_is_cleared_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    create_lock_table(&mut store, &table).await;
    plant_lock_row(&store, "build-server-7", 1);

    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.host.as_deref(), Some("build-server-7"));
    assert_eq!(
        holder.liveness,
        Liveness::OtherHost,
        "another host's process cannot be checked"
    );

    let owner = LockOwner::current(host(), "me");
    match store.lock(&request(&table, &owner, 200)).await {
        Err(StoreError::LockTimeout { holder, .. }) => {
            assert_eq!(holder.unwrap().host.as_deref(), Some("build-server-7"));
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    match store.clear_lock(&table, false).await {
        Err(StoreError::LockHeld { holder }) => {
            assert_eq!(holder.host.as_deref(), Some("build-server-7"));
            assert_eq!(holder.pid, Some(1));
        }
        other => panic!("expected the lock to be refused, got {other:?}"),
    }
    assert!(store.lock_holder(&table).await.unwrap().is_some());

    match store.clear_lock(&table, true).await.unwrap() {
        UnlockOutcome::Cleared { holder } => {
            assert_eq!(holder.host.as_deref(), Some("build-server-7"));
        }
        other => panic!("expected the lock to be cleared, got {other:?}"),
    }
    assert_eq!(store.lock_holder(&table).await.unwrap(), None);
    store.lock(&request(&table, &owner, 200)).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn reading_the_lock_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    assert_eq!(store.lock_holder(&table).await.unwrap(), None);
    assert_eq!(
        store.clear_lock(&table, true).await.unwrap(),
        UnlockOutcome::NotLocked
    );
    store.unlock(&table).await.unwrap();
    let rows = store
        .query("SELECT count(*) FROM sqlite_master", &[])
        .await
        .unwrap();
    assert_eq!(rows, [vec![godwit_core::Value::Int(0)]]);
}

#[tokio::test(flavor = "current_thread")]
async fn locks_of_different_histories_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let app = HistoryTable::default();
    let plugin = HistoryTable::new(None, "plugin_migrations");
    let mut first = open(&path);
    let mut second = open(&path);
    let owner = LockOwner::current(host(), "runner");
    first.lock(&request(&app, &owner, 300)).await.unwrap();
    second.lock(&request(&plugin, &owner, 300)).await.unwrap();
    assert!(first.lock_holder(&plugin).await.unwrap().is_some());
    second.unlock(&plugin).await.unwrap();
    assert!(first.lock_holder(&plugin).await.unwrap().is_none());
    assert!(first.lock_holder(&app).await.unwrap().is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn locking_inside_a_transaction_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    let owner = LockOwner::current(host(), "me");
    store.begin().await.unwrap();
    match store.lock(&request(&table, &owner, 300)).await {
        Err(StoreError::Other(message)) => {
            assert!(message.contains("transaction is open"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    store.rollback().await.unwrap();
    store.lock(&request(&table, &owner, 300)).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_lock_taken_over_is_not_released_by_its_former_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let table = HistoryTable::default();
    let mut first = open(&path);
    let mut second = open(&path);
    let owner = LockOwner::current(host(), "runner");
    first.lock(&request(&table, &owner, 300)).await.unwrap();
    let cleared = second.clear_lock(&table, true).await.unwrap();
    assert!(
        matches!(cleared, UnlockOutcome::Cleared { .. }),
        "{cleared:?}"
    );
    // Same host, same pid: only the time the lock was taken tells the two apart.
    tokio::time::sleep(Duration::from_millis(5)).await;
    second.lock(&request(&table, &owner, 300)).await.unwrap();
    let taken = second.lock_holder(&table).await.unwrap();

    first.unlock(&table).await.unwrap();
    assert_eq!(second.lock_holder(&table).await.unwrap(), taken);
    second.unlock(&table).await.unwrap();
    assert_eq!(second.lock_holder(&table).await.unwrap(), None);
}

/// While another connection writes with an exclusive lock, opening the database and clearing
/// the migration lock say the database is busy (a typed error, not a connection failure).
#[tokio::test(flavor = "current_thread")]
async fn a_database_another_connection_writes_to_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let table = HistoryTable::default();
    let mut writer = open(&path);
    create_lock_table(&mut writer, &table).await;
    writer.execute_script("BEGIN EXCLUSIVE").await.unwrap();
    let options = SqliteOptions::default().with_busy_timeout(Duration::from_millis(100));
    let error = SqliteStore::open(&path, &options).unwrap_err();
    assert!(
        matches!(&error, StoreError::Busy { message } if message.contains("a migration may be running")),
        "{error:?}"
    );
    writer.execute_script("COMMIT").await.unwrap();
}

/// Timeouts longer than the clock or SQLite can count are waits without end, not panics: a lock
/// nobody holds is taken at once, and the busy timeout is cut to what SQLite takes.
#[tokio::test(flavor = "current_thread")]
async fn the_longest_timeouts_do_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let table = HistoryTable::default();
    let options = SqliteOptions::default().with_busy_timeout(Duration::MAX);
    let mut store = SqliteStore::open(&path, &options).unwrap();
    let owner = LockOwner::current(host(), "patient");
    let request = LockRequest {
        table: &table,
        owner: &owner,
        timeout: Duration::MAX,
    };
    store.lock(&request).await.unwrap();
    store.unlock(&table).await.unwrap();
}

/// This machine's boot id and this process's pid namespace and start time, as `/proc` gives
/// them and as a lock row records them.
#[cfg(target_os = "linux")]
fn proc_facts() -> (String, String, i64) {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let namespace = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    let start = after_name
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    (
        boot.trim().to_string(),
        namespace.to_string_lossy().into_owned(),
        start,
    )
}

/// Set the columns that tell a holder's process from a later one under the same pid.
fn set_identity(store: &SqliteStore, boot: &str, namespace: &str, start: i64) {
    store
        .connection()
        .execute(
            "UPDATE godwit_migrations_lock SET boot_id = ?1, pid_namespace = ?2, start_time = ?3",
            rusqlite::params![boot, namespace, start],
        )
        .unwrap();
}

/// A crashed run's pid handed to another process (pid 1 of every new container is the usual
/// case): the process runs, but it started after the lock was taken, so the lock is stale,
/// cleared without force and taken over.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_pid_that_started_after_the_lock_was_taken_holds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    create_lock_table(&mut store, &table).await;
    let (boot, namespace, start) = proc_facts();
    let ours = i64::from(std::process::id());
    plant_lock_row(&store, &host(), ours);

    set_identity(&store, &boot, &namespace, start);
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Running, "{holder}");

    set_identity(&store, &boot, &namespace, start + 1);
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::PidReused, "{holder}");
    assert!(holder.to_string().contains("process gone"), "{holder}");
    match store.clear_lock(&table, false).await.unwrap() {
        UnlockOutcome::Cleared { holder } => assert_eq!(holder.liveness, Liveness::PidReused),
        other => panic!("expected the stale lock to be cleared, got {other:?}"),
    }

    plant_lock_row(&store, &host(), ours);
    set_identity(&store, &boot, &namespace, start + 1);
    let owner = LockOwner::current(host(), "taker");
    store.lock(&request(&table, &owner, 300)).await.unwrap();
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.application.as_deref(), Some("taker"));
    assert_eq!(holder.liveness, Liveness::Running);
}

/// A lock taken before the machine restarted is stale whatever runs under its pid now; one
/// from another machine cannot be checked.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_lock_from_an_earlier_boot_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    create_lock_table(&mut store, &table).await;
    let (_, namespace, start) = proc_facts();
    let earlier = "00000000-0000-4000-8000-000000000000";
    plant_lock_row(&store, &host(), i64::from(std::process::id()));
    set_identity(&store, earlier, &namespace, start);
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Rebooted, "{holder}");

    plant_lock_row(&store, "build-server-7", i64::from(std::process::id()));
    set_identity(&store, earlier, &namespace, start);
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::OtherHost, "{holder}");
    assert!(
        matches!(
            store.clear_lock(&table, false).await,
            Err(StoreError::LockHeld { .. })
        ),
        "another machine's lock needs force"
    );
}

/// The witness file decides where pids cannot: the holder's row says it ran in another pid
/// namespace (a container), yet while its store lives the lock is held, and once the store is
/// gone (as a killed process's files are closed) the lock is stale and taken over.
#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn a_holder_in_another_namespace_is_judged_by_its_witness() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let table = HistoryTable::default();
    let mut holder_store = open(&path);
    let mut other = open(&path);
    let owner = LockOwner::current(host(), "in a container");
    holder_store
        .lock(&request(&table, &owner, 300))
        .await
        .unwrap();
    other
        .connection()
        .execute(
            "UPDATE godwit_migrations_lock SET pid_namespace = 'pid:[1]', start_time = 1",
            [],
        )
        .unwrap();

    let holder = other.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Running, "{holder}");
    let taker = LockOwner::current(host(), "taker");
    assert!(matches!(
        other.lock(&request(&table, &taker, 200)).await,
        Err(StoreError::LockTimeout { .. })
    ));

    drop(holder_store);
    let holder = other.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Exited, "{holder}");
    other.lock(&request(&table, &taker, 300)).await.unwrap();
    let holder = other.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.application.as_deref(), Some("taker"));
    // Released cleanly, a lock leaves no witness file behind.
    other.unlock(&table).await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name != "app.db")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A lock table an older godwit created (five columns) is read as it is, its row judged by
/// host and pid, and gains the new columns when a run takes the lock.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_lock_table_of_the_first_layout_is_read_then_extended() {
    let dir = tempfile::tempdir().unwrap();
    let table = HistoryTable::default();
    let mut store = open(&dir.path().join("app.db"));
    store
        .execute_script(
            "CREATE TABLE godwit_migrations_lock (\n\
             id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT, pid INTEGER,\n\
             application TEXT, acquired_at TEXT);",
        )
        .await
        .unwrap();
    plant_lock_row(&store, &host(), dead_pid());
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Exited, "{holder}");

    let owner = LockOwner::current(host(), "upgrader");
    store.lock(&request(&table, &owner, 300)).await.unwrap();
    let columns: Vec<String> = store
        .connection()
        .prepare("SELECT name FROM pragma_table_info('godwit_migrations_lock')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for column in ["boot_id", "start_time", "pid_namespace", "witness"] {
        assert!(
            columns.iter().any(|c| c == column),
            "{column} in {columns:?}"
        );
    }
    let holder = store.lock_holder(&table).await.unwrap().unwrap();
    assert_eq!(holder.liveness, Liveness::Running);
}
