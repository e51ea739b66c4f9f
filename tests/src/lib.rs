//! Support shared by godwit's test suites: a fresh PostgreSQL or MySQL/MariaDB database per
//! test, and the lint of generated migrations ([`generated`]).
//!
//! Every server test gets its own database, so suites run in parallel without sharing state.
//! The servers come from `GODWIT_TEST_PG_URL` and `GODWIT_TEST_MYSQL_URL`; `cargo xtask test`
//! sets them to throwaway servers it starts itself. A missing server is a loud failure, never
//! a skip.
#![warn(missing_docs)]

pub mod generated;
pub mod plugins;
pub mod redundancy;
pub mod verdicts;

use std::sync::atomic::{AtomicU32, Ordering};

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

/// Replace the database name of a `postgres://` or `mysql://` URL, keeping any query string.
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

/// A name no other test database has, on any run.
fn fresh_name() -> String {
    format!(
        "godwit_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

/// Run `statement` on a connection of type `C` to `url`, a test server's admin URL.
fn admin<C>(url: &str, statement: &str) -> Result<(), sqlx::Error>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    block_on(async {
        let mut conn = C::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&mut conn)
            .await?;
        Ok(())
    })
}

/// Run `statement` on the test server named by `var`, panicking with what provides one.
fn create<C>(admin_url: &str, var: &str, statement: &str)
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    admin::<C>(admin_url, statement).unwrap_or_else(|e| {
        panic!(
            "{statement} on the test server {var}: {e}\nIs it running? `cargo xtask test` starts one."
        )
    });
}

/// Drop a test database, warning (a drop must not panic) when it cannot.
fn drop_database<C>(admin_url: &str, name: &str, statement: &str)
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    if let Err(error) = admin::<C>(admin_url, statement) {
        eprintln!("warning: could not drop test database {name}: {error}");
    }
}

impl PgDatabase {
    /// Create a fresh, empty database on the test server.
    pub fn create() -> PgDatabase {
        let admin_url = pg_admin_url();
        let name = fresh_name();
        create::<sqlx::PgConnection>(
            &admin_url,
            PG_URL_VAR,
            &format!("CREATE DATABASE \"{name}\""),
        );
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
        drop_database::<sqlx::PgConnection>(&self.admin_url, &self.name, &statement);
    }
}

/// The variable naming the MySQL or MariaDB server tests may use (as a user that may create
/// and drop databases; tests create their own).
pub const MYSQL_URL_VAR: &str = "GODWIT_TEST_MYSQL_URL";

/// The admin URL of the MySQL test server. Panics with the command that provides one when
/// unset.
pub fn mysql_admin_url() -> String {
    match std::env::var(MYSQL_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{MYSQL_URL_VAR} is not set, so the MySQL tests have no server.\n\
             Run the suite with `cargo xtask test` (it starts a throwaway MariaDB), or set\n\
             {MYSQL_URL_VAR}=mysql://USER@HOST:PORT/ to use a server of yours."
        ),
    }
}

/// A MySQL database created for one test and dropped when this value is dropped.
#[derive(Debug)]
pub struct MySqlDatabase {
    /// Its name.
    pub name: String,
    /// A URL connecting to it.
    pub url: String,
    admin_url: String,
}

impl MySqlDatabase {
    /// Create a fresh, empty database on the MySQL test server.
    pub fn create() -> MySqlDatabase {
        let admin_url = mysql_admin_url();
        let name = fresh_name();
        let statement = format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4");
        create::<sqlx::MySqlConnection>(&admin_url, MYSQL_URL_VAR, &statement);
        MySqlDatabase {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }
}

impl Drop for MySqlDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        drop_database::<sqlx::MySqlConnection>(&self.admin_url, &self.name, &statement);
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
