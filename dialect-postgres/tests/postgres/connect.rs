//! Connecting: options, and errors that say what to fix without showing the password.

use std::time::{Duration, Instant};

use godwit_core::{Backend, StoreError, Value};
use godwit_postgres::{PgBackend, PgOptions, PgStore};
use godwit_tests::{PgDatabase, pg_admin_url, with_database};

use crate::scalar;

/// `url` with `password` in its user-info part (or as a parameter when it names no user).
fn with_password(url: &str, password: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority_start + i);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => {
            let at = authority_start + at;
            let user_end = url[authority_start..at]
                .find(':')
                .map_or(at, |i| authority_start + i);
            format!("{}:{password}{}", &url[..user_end], &url[at..])
        }
        None => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}password={password}")
        }
    }
}

/// The password in the user-info part of `url`, if any.
fn password_of(url: &str) -> Option<&str> {
    let authority = url.split("://").nth(1)?.split(['/', '?']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

fn connect_error(result: Result<PgStore, StoreError>) -> (String, String) {
    match result {
        Err(StoreError::Connect { target, message }) => (target, message),
        Err(other) => panic!("expected a connect error, got {other}"),
        Ok(store) => panic!("expected a connect error, got {store:?}"),
    }
}

#[tokio::test]
async fn a_missing_database_says_how_to_create_it() {
    let url = with_database(&pg_admin_url(), "godwit_no_such_database");
    let (target, message) = connect_error(PgStore::connect(&url, &PgOptions::default()).await);
    assert_eq!(
        target,
        godwit_core::url::redact_with_schemes(&url, PgBackend.schemes()).to_string()
    );
    assert!(
        message.contains("\"godwit_no_such_database\" does not exist"),
        "{message}"
    );
    assert!(
        message.contains("createdb godwit_no_such_database"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unreachable_server_names_host_and_port_and_hides_the_password() {
    // Port 1 on the loopback interface: nothing listens there, so the connection is refused.
    let url = "postgres://godwit:hunter2-secret@127.0.0.1:1/app";
    let result = PgStore::connect(url, &PgOptions::default()).await;
    let error = result.expect_err("nothing listens on port 1");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }
    let (target, message) = connect_error(Err(error));
    assert_eq!(target, "postgres://godwit:***@127.0.0.1:1/app");
    assert!(
        message.starts_with("cannot reach 127.0.0.1:1: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_silent_server_hits_the_connect_timeout() {
    // The kernel accepts TCP connections into the backlog of a listener that never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://godwit@127.0.0.1:{port}/app?sslmode=disable");
    let options = PgOptions {
        connect_timeout: Duration::from_millis(300),
        ..PgOptions::default()
    };
    let start = Instant::now();
    let (_, message) = connect_error(PgStore::connect(&url, &options).await);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        message,
        format!(
            "no answer from 127.0.0.1:{port} within 0.3 s; check that the server is up and reachable from here"
        )
    );
}

#[tokio::test]
async fn errors_and_debug_output_never_show_the_password() {
    let db = PgDatabase::create();
    let password = "hunter2-secret";

    // A database that does not exist, with a password in the URL.
    let missing = with_password(&with_database(&db.url, "godwit_no_such_database"), password);
    let error = PgStore::connect(&missing, &PgOptions::default())
        .await
        .expect_err("the database does not exist");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(password), "{shown}");
    }

    // A working connection: keep a password the server checks, else add one it ignores.
    let (url, secret) = match password_of(&db.url) {
        Some(existing) => (db.url.clone(), existing.to_string()),
        None => (with_password(&db.url, password), password.to_string()),
    };
    let store = PgStore::connect(&url, &PgOptions::default()).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains(&secret), "{debug}");
    assert!(debug.contains("***"), "{debug}");
}

#[tokio::test]
async fn the_application_name_is_set() {
    let db = PgDatabase::create();
    let options = PgOptions {
        application_name: "billing migrations".into(),
        ..PgOptions::default()
    };
    let mut store = PgStore::connect(&db.url, &options).await.unwrap();
    assert_eq!(
        scalar(&mut store, "SELECT current_setting('application_name')").await,
        Value::from("billing migrations")
    );
}

#[tokio::test]
async fn a_schema_is_created_and_searched_first() {
    let db = PgDatabase::create();
    let options = PgOptions {
        schema: Some("Billing App".into()),
        ..PgOptions::default()
    };
    let mut store = PgStore::connect(&db.url, &options).await.unwrap();
    assert_eq!(
        scalar(&mut store, "SELECT current_schema()").await,
        Value::from("Billing App")
    );
    assert_eq!(
        scalar(&mut store, "SELECT current_setting('search_path')").await,
        Value::from("\"Billing App\", \"$user\", public")
    );
    // Connecting again finds the schema in place.
    let mut again = PgStore::connect(&db.url, &options).await.unwrap();
    assert_eq!(
        scalar(&mut again, "SELECT current_schema()").await,
        Value::from("Billing App")
    );
}

/// A URL without a host is refused as incomplete, saying what it lacks (it once said that
/// "pg_dump could not be given it", even to commands that never run pg_dump).
#[tokio::test]
async fn a_url_without_a_host_is_incomplete() {
    let cases = [
        ("postgres://", "it names no host and no database"),
        ("postgres:///app", "it names no host;"),
        (
            "postgresql:///app?host=/var/run/postgresql",
            "only in the host= parameter",
        ),
    ];
    for (url, says) in cases {
        match PgStore::connect(url, &PgOptions::default()).await {
            Err(StoreError::InvalidUrl { target, reason }) => {
                assert_eq!(target, url);
                assert!(reason.contains(says), "{url}: {reason}");
                assert!(!reason.contains("pg_dump"), "{url}: {reason}");
                assert!(
                    reason.ends_with("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"),
                    "{url}: {reason}"
                );
            }
            other => panic!("{url}: expected an invalid URL, got {other:?}"),
        }
    }
}
