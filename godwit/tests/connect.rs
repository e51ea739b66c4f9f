//! `connect` opens what a URL names with the backend compiled in, and says what is wrong with a
//! URL it cannot open. Real SQLite files and a real PostgreSQL server (`GODWIT_TEST_PG_URL`).

use godwit::{ConnectError, ConnectOptions, Value, connect};
use godwit_tests::PgDatabase;

async fn one(url: &str) -> Vec<Vec<Value>> {
    let mut store = connect(url, &ConnectOptions::default()).await.unwrap();
    store.query("SELECT 1", &[]).await.unwrap()
}

#[tokio::test]
async fn each_scheme_opens_its_backend() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.db");
    let postgres = PgDatabase::create();
    for url in [
        format!("sqlite:{}", file.display()),
        "sqlite::memory:".to_string(),
        postgres.url.clone(),
    ] {
        assert_eq!(one(&url).await, vec![vec![Value::Int(1)]], "{url}");
    }
    assert!(file.exists(), "the SQLite file is created by default");
}

#[tokio::test]
async fn a_missing_file_is_refused_when_creating_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.db");
    let mut options = ConnectOptions::default();
    options.create = false;
    let error = connect(&format!("sqlite:{}", file.display()), &options)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectError::NoDatabase { path } if *path == file),
        "{error}"
    );
    assert!(!file.exists(), "nothing was created");
}

#[tokio::test]
async fn bad_urls_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!("sqlite:{}", dir.path().display()),
            "names the directory",
        ),
        (
            "mssql://root:hunter2@localhost/app".to_string(),
            "is not a database URL godwit understands; use sqlite:PATH, sqlite::memory: or postgres://USER@HOST/DB",
        ),
        (
            "postgres:/me:hunter2@127.0.0.1/app".to_string(),
            "names no server",
        ),
        ("sqlite:".to_string(), "names no file"),
        (
            "postgres://me:hunter2@127.0.0.1:1/app?connect_timeout=1".to_string(),
            "cannot open postgres://me:***@127.0.0.1:1/app",
        ),
    ];
    for (url, expected) in cases {
        let error = connect(&url, &ConnectOptions::default()).await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains(expected), "{url}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[tokio::test]
async fn postgres_options_reach_the_connection() {
    let postgres = PgDatabase::create();
    let mut options = ConnectOptions::default();
    options.schema = Some("app".into());
    options.application_name = Some("facade test".into());
    let mut store = connect(&postgres.url, &options).await.unwrap();
    let rows = store
        .query(
            "SELECT current_schema()::text, current_setting('application_name')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Value::Text("app".into()),
            Value::Text("facade test".into())
        ]]
    );
}

#[test]
fn the_registry_holds_the_backends_compiled_in() {
    let registry = godwit::registry();
    let names: Vec<&str> = registry.backends().map(|backend| backend.name()).collect();
    assert_eq!(names, ["sqlite", "postgres"]);
    let (backend, location) = godwit::locate("postgresql://u@h/db").unwrap();
    assert_eq!(
        (backend.name(), location),
        ("postgres", godwit::Location::Server)
    );
    let (backend, location) = godwit::locate("sqlite:app.db").unwrap();
    assert_eq!(
        (backend.name(), location),
        ("sqlite", godwit::Location::File("app.db".into()))
    );
}
