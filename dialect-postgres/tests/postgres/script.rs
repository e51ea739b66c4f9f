//! Scripts: whole in a transaction, statement by statement outside one, errors located.

use godwit_core::{Store, Value};
use godwit_tests::PgDatabase;

use crate::{connect, rows, scalar, unwrap_statement_error};

const SYNTAX_ERROR_ON_LINE_4: &str = "CREATE TABLE a (id int);\n\
                                      INSERT INTO a VALUES (1);\n\
                                      \n\
                                      SELEC 1;\n\
                                      INSERT INTO a VALUES (2);\n";

#[tokio::test]
async fn a_syntax_error_in_a_transaction_names_its_line() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store.begin().await.unwrap();
    let error = unwrap_statement_error(store.execute_script(SYNTAX_ERROR_ON_LINE_4).await);
    store.rollback().await.unwrap();

    assert_eq!(error.code.as_deref(), Some("42601"), "{error}");
    assert_eq!((error.line, error.column), (Some(4), Some(1)), "{error}");
    assert_eq!(error.statement_index, Some(3));
    assert_eq!(error.statement.as_deref(), Some("SELEC 1"));
    assert!(error.message.contains("syntax error"), "{error}");
    // The server parses the whole query string first, so nothing ran.
    assert_eq!(
        scalar(
            &mut store,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"
        )
        .await,
        Value::Int(0)
    );
}

#[tokio::test]
async fn a_syntax_error_outside_a_transaction_names_its_line() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let error = unwrap_statement_error(store.execute_script(SYNTAX_ERROR_ON_LINE_4).await);

    assert_eq!(error.code.as_deref(), Some("42601"), "{error}");
    assert_eq!((error.line, error.column), (Some(4), Some(1)), "{error}");
    assert_eq!(error.statement_index, Some(3));
    assert_eq!(error.statement.as_deref(), Some("SELEC 1"));
    // Statement by statement, in autocommit: what came before the failure stays.
    assert_eq!(
        rows(&mut store, "SELECT id FROM a").await,
        vec![vec![Value::Int(1)]]
    );
}

#[tokio::test]
async fn an_error_position_inside_a_line_gives_its_column() {
    let script = "SELECT 1;\nSELECT 'é' FROM missing_table;\n";
    for transactional in [true, false] {
        let db = PgDatabase::create();
        let mut store = connect(&db).await;
        if transactional {
            store.begin().await.unwrap();
        }
        let error = unwrap_statement_error(store.execute_script(script).await);
        if transactional {
            store.rollback().await.unwrap();
        }
        assert_eq!(error.code.as_deref(), Some("42P01"), "{error}");
        assert_eq!((error.line, error.column), (Some(2), Some(17)), "{error}");
        assert_eq!(error.statement_index, Some(2), "{error}");
    }
}

const DUPLICATE_KEY: &str = "CREATE TABLE u (id int CONSTRAINT u_pkey PRIMARY KEY);\n\
                             INSERT INTO u VALUES (1);\n\
                             INSERT INTO u\n  VALUES (1);\n\
                             INSERT INTO u VALUES (2);\n";

#[tokio::test]
async fn a_runtime_error_reports_sqlstate_constraint_and_statement() {
    for transactional in [true, false] {
        let db = PgDatabase::create();
        let mut store = connect(&db).await;
        if transactional {
            store.begin().await.unwrap();
        }
        let error = unwrap_statement_error(store.execute_script(DUPLICATE_KEY).await);
        if transactional {
            store.rollback().await.unwrap();
        }

        assert_eq!(error.code.as_deref(), Some("23505"), "{error}");
        assert_eq!(error.constraint.as_deref(), Some("u_pkey"), "{error}");
        assert!(
            error.message.contains("Key (id)=(1) already exists"),
            "{error}"
        );
        // No position for a runtime error: the failing statement's first line.
        assert_eq!((error.line, error.column), (Some(3), None), "{error}");
        assert_eq!(error.statement_index, Some(3), "{error}");
        assert_eq!(
            error.statement.as_deref(),
            Some("INSERT INTO u\n  VALUES (1)")
        );
    }
}

const PLPGSQL: &str = r#"-- bodies with semicolons and dollar quotes of all kinds
CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
INSERT INTO notes VALUES (1, 'semi; colon; inside');
DO $$
BEGIN
  INSERT INTO notes VALUES (2, 'from a DO block; really');
END
$$;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  suffix text := $body$!; $$ not the end$body$;
BEGIN
  RETURN upper(t) || suffix;
END
$fn$;
/* a block comment; with a semicolon */
INSERT INTO notes VALUES (3, shout(E'it\'s; fine'));
"#;

#[tokio::test]
async fn do_blocks_functions_and_quoted_semicolons_run_in_both_modes() {
    for transactional in [true, false] {
        let db = PgDatabase::create();
        let mut store = connect(&db).await;
        if transactional {
            store.begin().await.unwrap();
        }
        store
            .execute_script(PLPGSQL)
            .await
            .unwrap_or_else(|error| panic!("transactional={transactional}: {error}"));
        if transactional {
            store.commit().await.unwrap();
        }
        assert_eq!(
            rows(&mut store, "SELECT id, body FROM notes ORDER BY id").await,
            vec![
                vec![Value::Int(1), Value::from("semi; colon; inside")],
                vec![Value::Int(2), Value::from("from a DO block; really")],
                vec![Value::Int(3), Value::from("IT'S; FINE!; $$ not the end")],
            ],
            "transactional={transactional}"
        );
    }
}

#[tokio::test]
async fn an_error_inside_a_do_block_names_the_block() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let script = "SELECT 1;\nDO $$\nBEGIN\n  RAISE EXCEPTION 'nope; %', 42;\nEND\n$$;\n";
    store.begin().await.unwrap();
    let error = unwrap_statement_error(store.execute_script(script).await);
    store.rollback().await.unwrap();
    assert_eq!(error.code.as_deref(), Some("P0001"), "{error}");
    assert_eq!(error.line, Some(2), "{error}");
    assert_eq!(error.statement_index, Some(2), "{error}");
    assert!(error.message.starts_with("nope; 42"), "{error}");
    assert!(
        error
            .message
            .contains("PL/pgSQL function inline_code_block line 3"),
        "{error}"
    );
}

const CONCURRENT_INDEX: &str = "-- godwit:no-transaction\n\
                                CREATE TABLE big (id int, v text);\n\
                                CREATE INDEX CONCURRENTLY big_v ON big (v);\n\
                                COMMENT ON INDEX big_v IS 'built; concurrently';\n";

#[tokio::test]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store.execute_script(CONCURRENT_INDEX).await.unwrap();
    assert_eq!(
        scalar(
            &mut store,
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = 'big_v'"
        )
        .await,
        Value::Int(1)
    );
    assert_eq!(
        scalar(
            &mut store,
            "SELECT obj_description('big_v'::regclass, 'pg_class')"
        )
        .await,
        Value::from("built; concurrently")
    );
}

#[tokio::test]
async fn create_index_concurrently_is_refused_inside_a_transaction() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store.begin().await.unwrap();
    let error = unwrap_statement_error(store.execute_script(CONCURRENT_INDEX).await);
    store.rollback().await.unwrap();
    assert_eq!(error.code.as_deref(), Some("25001"), "{error}");
    assert_eq!(error.line, Some(3), "{error}");
}

#[tokio::test]
async fn atomic_function_bodies_and_rules_stay_whole_outside_a_transaction() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let script = "-- godwit:no-transaction\n\
                  CREATE TABLE a (id int);\n\
                  CREATE TABLE b (id int);\n\
                  CREATE VIEW both_tables AS SELECT id FROM a;\n\
                  CREATE RULE fan_out AS ON INSERT TO both_tables DO INSTEAD\n\
                    (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id * 10));\n\
                  CREATE FUNCTION sign_of(x int) RETURNS int LANGUAGE sql\n\
                  BEGIN ATOMIC\n\
                    SELECT CASE WHEN x > 0 THEN 1 WHEN x < 0 THEN -1 ELSE 0 END;\n\
                  END;\n\
                  INSERT INTO both_tables VALUES (sign_of(-5));\n";
    store.execute_script(script).await.unwrap();
    assert_eq!(
        rows(&mut store, "SELECT (SELECT id FROM a), (SELECT id FROM b)").await,
        vec![vec![Value::Int(-1), Value::Int(-10)]]
    );
}

/// A check of a generated migration fails the script with its message when its query finds a
/// row, and passes when it finds none.
#[tokio::test]
async fn an_assertion_fails_with_its_message_only_when_its_query_finds_rows() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let dialect = store.dialect();
    let passing = dialect
        .assertion("SELECT 1 WHERE false", "never shown")
        .unwrap();
    let failing = dialect
        .assertion("SELECT 1 AS \"it's\";", "type t loses 'x' while it is used")
        .unwrap();
    store.execute_script(&passing).await.unwrap();
    let error = unwrap_statement_error(store.execute_script(&failing).await);
    assert!(
        error
            .message
            .starts_with("type t loses 'x' while it is used"),
        "{error}"
    );
}
