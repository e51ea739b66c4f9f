//! Which statements of a schema file may run on a scratch database ([`godwit_core::screen`]).
//!
//! The rule, statement by statement, cut as psql cuts them:
//!
//! - **Schema**: `CREATE`, `ALTER` and `DROP` of objects that live in a database (tables,
//!   types, functions, extensions, schemas, policies, ...), `COMMENT ON`, `GRANT` and `REVOKE`
//!   of privileges on them, `ALTER DEFAULT PRIVILEGES`, `SET` and `RESET` of settings, and the
//!   `SELECT pg_catalog.set_config('search_path', ...)` that pg_dump writes. None of these runs
//!   code as it is read: function bodies are stored, not run, and triggers, rules, policies and
//!   defaults act on rows, which a schema file cannot write.
//! - **Alone**: `CREATE INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY`, schema that
//!   PostgreSQL refuses in a transaction block, run on their own after the rest commits.
//! - **Runs code**: `DO` blocks, `CREATE TABLE ... AS`, `SELECT ... INTO` and materialized
//!   views created with data run a query or a body as they are read; event triggers run code
//!   on the DDL after them. No screening can follow what that code does, so they run only on a
//!   sandboxed scratch database: one owned by, and reached only through, a role created for it
//!   that may do nothing else ([`crate::PgStore::open_sandbox`]).
//! - **Refused**: what acts on the server beyond the database (databases, roles, tablespaces,
//!   `ALTER SYSTEM`, subscriptions, foreign servers and user mappings, which connect out,
//!   privileges on databases and parameters, role membership, `SET ROLE`), what reads or
//!   writes files or runs programs (`COPY`, `LOAD`), transaction control, which would end the
//!   transaction the file runs in, and what is not schema: queries and data changes,
//!   maintenance commands, `NOTIFY`, `CALL`.

use godwit_core::screen::{SchemaStatement, ScreenError, StatementClass, Tokens};
use sqlparser::dialect::PostgreSqlDialect;

use crate::script;

/// Screen the statements of a schema file.
pub(crate) fn screen_schema(sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
    let statements = script::split(sql).map_err(|error| {
        ScreenError::new(
            usize::try_from(error.location.line).unwrap_or(usize::MAX),
            error.message,
        )
    })?;
    statements
        .into_iter()
        .map(|statement| {
            let tokens = Tokens::read(statement.text, &PostgreSqlDialect {}).map_err(|error| {
                ScreenError::new(statement.line + error.line - 1, error.message)
            })?;
            Ok(SchemaStatement::new(
                statement.line,
                statement.text,
                class(&tokens),
            ))
        })
        .collect()
}

/// Objects of the server rather than of one database, or that connect out of it: never
/// created, changed, dropped or commented on by a schema file. Each with why.
const SERVER_OBJECTS: &[(&[&str], &str)] = &[
    (
        &["DATABASE"],
        "a database is an object of the server, outside the one the schema describes",
    ),
    (&["ROLE"], "roles are objects of the whole server"),
    (
        &["USER", "MAPPING"],
        "a user mapping holds credentials to connect out of the database",
    ),
    (&["USER"], "users are roles, objects of the whole server"),
    (&["GROUP"], "groups are roles, objects of the whole server"),
    (
        &["TABLESPACE"],
        "a tablespace is an object of the whole server",
    ),
    (
        &["SYSTEM"],
        "ALTER SYSTEM changes the server's configuration",
    ),
    (
        &["SUBSCRIPTION"],
        "a subscription connects to another server",
    ),
    (
        &["SERVER"],
        "a foreign server connects outside the database",
    ),
    (
        &["FOREIGN", "DATA", "WRAPPER"],
        "a foreign-data wrapper connects outside the database",
    ),
];

fn server_object(kind: &[&str]) -> Option<&'static str> {
    SERVER_OBJECTS
        .iter()
        .find(|(object, _)| kind.starts_with(object))
        .map(|(_, reason)| *reason)
}

fn class(tokens: &Tokens) -> StatementClass {
    let leading = tokens.leading();
    match leading.first().copied().unwrap_or_default() {
        "CREATE" => create(tokens, &leading[1..]),
        "ALTER" => alter(&leading[1..]),
        "DROP" => drop(&leading[1..]),
        "COMMENT" | "SECURITY" => comment(&leading),
        "GRANT" | "REVOKE" => privileges(tokens),
        "SET" | "RESET" => setting(&leading[1..]),
        "SELECT" if sets_config(tokens) => StatementClass::Schema,
        "SELECT" if tokens.top_level("INTO").is_some() => {
            StatementClass::runs_code("SELECT ... INTO runs its query to fill the table it creates")
        }
        "DO" => StatementClass::runs_code("a DO block runs its body as it is read"),
        "COPY" => StatementClass::refused(
            "COPY reads or writes rows, files or programs, and a schema file holds no data",
        ),
        "LOAD" => StatementClass::refused("LOAD loads a shared library into the server"),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE"
        | "PREPARE" => {
            StatementClass::refused("it controls the transaction godwit runs the schema file in")
        }
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "TRUNCATE" | "WITH" | "VALUES"
        | "TABLE" | "CALL" | "EXECUTE" => {
            StatementClass::refused("it reads or changes rows, and a schema file holds no data")
        }
        "" => StatementClass::refused("it does not start with a statement keyword"),
        other => StatementClass::refused(format!("{other} describes no schema")),
    }
}

/// The object kind after `CREATE` modifiers (`OR REPLACE`, `TEMP`, `UNIQUE`, ...).
fn object_kind<'a>(words: &'a [&'a str]) -> &'a [&'a str] {
    let mut at = 0;
    while let Some(word) = words.get(at) {
        match *word {
            "OR" | "REPLACE" | "TEMP" | "TEMPORARY" | "UNLOGGED" | "GLOBAL" | "LOCAL"
            | "UNIQUE" | "DEFAULT" | "TRUSTED" | "PROCEDURAL" | "CONSTRAINT" | "RECURSIVE" => {
                at += 1;
            }
            _ => break,
        }
    }
    &words[at..]
}

fn create(tokens: &Tokens, words: &[&str]) -> StatementClass {
    let kind = object_kind(words);
    if let Some(reason) = server_object(kind) {
        return StatementClass::refused(reason);
    }
    let with_data = !tokens.ends_with(&["WITH", "NO", "DATA"]);
    if tokens.top_level("CONCURRENTLY").is_some() && kind.first() == Some(&"INDEX") {
        return StatementClass::Alone;
    }
    match kind {
        ["EVENT", "TRIGGER", ..] => {
            StatementClass::runs_code("an event trigger runs its function on the DDL after it")
        }
        ["MATERIALIZED", "VIEW", ..] if with_data => StatementClass::runs_code(
            "a materialized view created WITH DATA runs its query as it is read",
        ),
        ["TABLE", ..] if with_data && tokens.top_level("AS").is_some() => {
            StatementClass::runs_code("CREATE TABLE ... AS runs its query as it is read")
        }
        _ => StatementClass::Schema,
    }
}

fn alter(words: &[&str]) -> StatementClass {
    match server_object(words) {
        Some(reason) => StatementClass::refused(reason),
        None => StatementClass::Schema,
    }
}

fn drop(words: &[&str]) -> StatementClass {
    if words.starts_with(&["INDEX", "CONCURRENTLY"]) {
        return StatementClass::Alone;
    }
    if words.first() == Some(&"OWNED") {
        return StatementClass::refused(
            "DROP OWNED also revokes privileges on the server's databases and tablespaces",
        );
    }
    alter(words)
}

/// `COMMENT ON` and `SECURITY LABEL ON` are schema, except on the server's shared objects.
fn comment(words: &[&str]) -> StatementClass {
    if words.first() == Some(&"SECURITY") && words.get(1) != Some(&"LABEL") {
        return StatementClass::refused("SECURITY describes no schema");
    }
    let Some(on) = words.iter().position(|word| *word == "ON") else {
        return StatementClass::Schema;
    };
    alter(&words[on + 1..])
}

/// `GRANT`/`REVOKE` of privileges on objects of the database are schema; role membership
/// (no `ON`) and privileges on the server's objects are refused.
fn privileges(tokens: &Tokens) -> StatementClass {
    let words = tokens.words();
    let Some(on) = tokens.top_level("ON") else {
        return StatementClass::refused(
            "granting or revoking membership of a role changes the server's roles",
        );
    };
    let kind: Vec<&str> = words[on + 1..]
        .iter()
        .map_while(|word| word.keyword.as_deref())
        .collect();
    if kind.first() == Some(&"PARAMETER") {
        return StatementClass::refused(
            "privileges on a parameter are settings of the whole server",
        );
    }
    if kind.starts_with(&["FOREIGN", "SERVER"]) {
        return StatementClass::refused("a foreign server connects outside the database");
    }
    alter(&kind)
}

fn setting(words: &[&str]) -> StatementClass {
    let name = match words {
        ["SESSION" | "LOCAL", rest @ ..] if rest.first() != Some(&"AUTHORIZATION") => rest,
        _ => words,
    };
    match name {
        ["ROLE", ..] | ["SESSION", "AUTHORIZATION", ..] | ["ALL", ..] => {
            StatementClass::refused("it changes the role the rest of the schema file runs as")
        }
        _ => StatementClass::Schema,
    }
}

/// `SELECT [pg_catalog.]set_config('name', 'value', true|false)` for a setting other than the
/// role: how pg_dump sets the search path.
fn sets_config(tokens: &Tokens) -> bool {
    let texts: Vec<&str> = tokens
        .words()
        .iter()
        .map(|word| word.text.as_str())
        .filter(|text| *text != ";")
        .collect();
    let call = match texts.as_slice() {
        [_, schema, ".", rest @ ..] if schema.eq_ignore_ascii_case("pg_catalog") => rest,
        [_, rest @ ..] => rest,
        [] => return false,
    };
    let [function, "(", name, ",", value, ",", local, ")"] = call else {
        return false;
    };
    let literal = |text: &str| text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'');
    function.eq_ignore_ascii_case("set_config")
        && literal(name)
        && literal(value)
        && (local.eq_ignore_ascii_case("true") || local.eq_ignore_ascii_case("false"))
        && !["'role'", "'session_authorization'"]
            .iter()
            .any(|setting| name.eq_ignore_ascii_case(setting))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(sql: &str) -> StatementClass {
        let statements = screen_schema(sql).unwrap();
        assert_eq!(statements.len(), 1, "{sql}");
        statements.into_iter().next().unwrap().class
    }

    const SCHEMA: &[&str] = &[
        "CREATE TABLE users (id int PRIMARY KEY, name text GENERATED ALWAYS AS (upper(id::text)) STORED)",
        "CREATE TABLE p (id int) PARTITION BY RANGE (id)",
        "create unlogged table u (id int)",
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN DROP DATABASE x; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto",
        "CREATE SCHEMA app AUTHORIZATION app_owner",
        "CREATE TYPE mood AS ENUM ('a', 'b')",
        "CREATE DOMAIN d AS int CHECK (VALUE > 0)",
        "CREATE VIEW v AS SELECT * FROM users",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 WITH NO DATA",
        "CREATE TABLE t2 AS SELECT * FROM users WITH NO DATA",
        "CREATE POLICY p ON users USING (true)",
        "CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION f()",
        "CREATE FOREIGN TABLE ft (id int) SERVER s",
        "ALTER TABLE users ADD COLUMN email text",
        "ALTER TABLE users OWNER TO app",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app",
        "DROP TABLE IF EXISTS users CASCADE",
        "COMMENT ON TABLE public.hoge IS 'hoge table'",
        "COMMENT ON COLUMN users.id IS 'DROP DATABASE victim'",
        "GRANT SELECT, INSERT ON TABLE \"public\".\"users\" TO \"app_user\"",
        "GRANT USAGE ON SEQUENCE counters_n_seq TO app_user",
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO app",
        "revoke select on table users from readonly_user cascade",
        "SET search_path = public",
        "SET statement_timeout = 0",
        "SET client_encoding = 'UTF8'",
        "SET LOCAL lock_timeout = '1s'",
        "RESET search_path",
        "SELECT pg_catalog.set_config('search_path', '', false)",
        "SELECT set_config('search_path', 'app', true)",
    ];

    const RUNS_CODE: &[&str] = &[
        "DO $$ BEGIN EXECUTE 'DROP DATABASE victim'; END $$",
        "do language plpgsql 'begin null; end'",
        "CREATE TABLE t2 AS SELECT pg_terminate_backend(1)",
        "CREATE TEMP TABLE t3 (a) AS VALUES (1)",
        "CREATE MATERIALIZED VIEW mv AS SELECT pg_read_file('/etc/passwd')",
        "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()",
        "SELECT 1 INTO t4",
    ];

    const REFUSED: &[&str] = &[
        "DROP DATABASE victim",
        "drop database if exists victim with (force)",
        "CREATE DATABASE other",
        "ALTER DATABASE target RENAME TO gone",
        "ALTER DATABASE target SET search_path = evil",
        "CREATE ROLE admin SUPERUSER",
        "CREATE USER u PASSWORD 'x'",
        "ALTER ROLE app SUPERUSER",
        "ALTER USER app PASSWORD 'x'",
        "DROP ROLE app",
        "DROP USER app",
        "CREATE GROUP g",
        "DROP OWNED BY app",
        "CREATE TABLESPACE ts LOCATION '/tmp'",
        "ALTER TABLESPACE pg_default OWNER TO app",
        "ALTER SYSTEM SET fsync = off",
        "CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p",
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw",
        "CREATE FOREIGN DATA WRAPPER w",
        "CREATE USER MAPPING FOR app SERVER s OPTIONS (password 'x')",
        "DROP USER MAPPING FOR app SERVER s",
        "COMMENT ON DATABASE target IS 'x'",
        "COMMENT ON ROLE app IS 'x'",
        "SECURITY LABEL ON DATABASE target IS 'x'",
        "GRANT CONNECT ON DATABASE target TO app",
        "REVOKE ALL ON DATABASE target FROM PUBLIC",
        "GRANT CREATE ON TABLESPACE pg_default TO app",
        "GRANT SET ON PARAMETER work_mem TO app",
        "GRANT USAGE ON FOREIGN SERVER s TO app",
        "GRANT pg_execute_server_program TO app",
        "REVOKE admin FROM app",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
        "SET LOCAL ROLE postgres",
        "RESET ROLE",
        "RESET SESSION AUTHORIZATION",
        "RESET ALL",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT set_config('search_path', current_user, false)",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
        "SELECT pg_read_file('/etc/passwd')",
        "COPY users FROM '/etc/passwd'",
        "COPY users TO PROGRAM 'rm -rf /'",
        "LOAD '/tmp/evil.so'",
        "BEGIN",
        "START TRANSACTION",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT s",
        "RELEASE SAVEPOINT s",
        "PREPARE TRANSACTION 'x'",
        "INSERT INTO users VALUES (1)",
        "UPDATE users SET id = 2",
        "DELETE FROM users",
        "TRUNCATE users",
        "WITH d AS (DELETE FROM users RETURNING *) SELECT 1",
        "CALL p()",
        "VACUUM",
        "ANALYZE users",
        "CHECKPOINT",
        "NOTIFY ch",
        "LISTEN ch",
        "REFRESH MATERIALIZED VIEW mv",
        "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO app",
        "REASSIGN OWNED BY app TO postgres",
        "CLUSTER users",
        "REINDEX DATABASE target",
        "LOCK TABLE users",
        "DISCARD ALL",
    ];

    #[test]
    fn concurrent_index_changes_run_alone() {
        for sql in [
            "CREATE UNIQUE INDEX CONCURRENTLY i ON users (id)",
            "create index concurrently if not exists i on users (id)",
            "DROP INDEX CONCURRENTLY IF EXISTS i",
        ] {
            assert_eq!(class_of(sql), StatementClass::Alone, "{sql}");
        }
    }

    #[test]
    fn schema_statements_run_anywhere() {
        for sql in SCHEMA {
            assert_eq!(class_of(sql), StatementClass::Schema, "{sql}");
        }
    }

    #[test]
    fn code_run_as_it_is_read_needs_a_sandbox() {
        for sql in RUNS_CODE {
            assert!(
                matches!(class_of(sql), StatementClass::RunsCode { .. }),
                "{sql}: {:?}",
                class_of(sql)
            );
        }
    }

    #[test]
    fn what_reaches_beyond_the_database_or_is_not_schema_is_refused() {
        for sql in REFUSED {
            assert!(
                matches!(class_of(sql), StatementClass::Refused { .. }),
                "{sql}: {:?}",
                class_of(sql)
            );
        }
    }

    #[test]
    fn statements_are_cut_as_psql_cuts_them() {
        let statements = screen_schema(
            "CREATE TABLE users (id int primary key);\n\
             COMMENT ON TABLE users IS E'it''s \\'; DROP DATABASE victim; --';\n\
             /* outer /* nested; DROP DATABASE victim; */ still a comment; */\n\
             DROP DATABASE victim;",
        )
        .unwrap();
        let lines: Vec<(usize, bool)> = statements
            .iter()
            .map(|s| (s.line, s.class == StatementClass::Schema))
            .collect();
        assert_eq!(lines, [(1, true), (2, true), (4, false)]);
    }
}
