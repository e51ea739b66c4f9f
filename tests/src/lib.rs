//! Support shared by godwit's test suites: a fresh PostgreSQL database per test, and the lint
//! of generated migrations ([`generated`]).
//!
//! Every PostgreSQL test gets its own database, so suites run in parallel without sharing
//! state. The server comes from `GODWIT_TEST_PG_URL`; `cargo xtask test` sets it to a
//! throwaway cluster it starts itself. A missing server is a loud failure, never a skip.
#![warn(missing_docs)]

pub mod generated;
pub mod redundancy;
pub mod verdicts;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// The variable naming the PostgreSQL server tests may use (any database on it; tests create
/// their own).
pub const PG_URL_VAR: &str = "GODWIT_TEST_PG_URL";

/// The admin URL of the test server. Panics with the command that provides one when unset.
pub fn pg_admin_url() -> String {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{PG_URL_VAR} is not set, so the PostgreSQL tests have no server.\n\
             Run the suite with `cargo xtask test` (it starts a throwaway PostgreSQL), or set\n\
             {PG_URL_VAR}=postgres://USER@HOST:PORT/postgres to use a server of yours."
        ),
    }
}

/// Replace the database name of a `postgres://` URL, keeping any query string.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A PostgreSQL database created for one test and dropped when this value is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    /// Its name.
    pub name: String,
    /// A URL connecting to it.
    pub url: String,
    admin_url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn block_on<F: std::future::Future + Send>(future: F) -> F::Output
where
    F::Output: Send,
{
    // Run on a private runtime in its own thread, so this works from sync tests and from
    // inside another runtime alike.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime")
                    .block_on(future)
            })
            .join()
            .expect("database setup thread panicked")
    })
}

impl PgDatabase {
    /// Create a fresh, empty database on the test server.
    pub fn create() -> PgDatabase {
        let admin_url = pg_admin_url();
        let name = format!(
            "godwit_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let statement = format!("CREATE DATABASE \"{name}\"");
        block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("cannot connect to the test server {PG_URL_VAR}: {e}\nIs it running? `cargo xtask test` starts one.")
            });
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        });
        PgDatabase {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let admin_url = self.admin_url.clone();
        let result = block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>(())
        });
        if let Err(error) = result {
            eprintln!(
                "warning: could not drop test database {}: {error}",
                self.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres?host=/tmp", "x"),
            "postgres://u@h:5/x?host=/tmp"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
