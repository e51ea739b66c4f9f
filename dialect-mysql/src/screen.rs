//! Screening a schema file: what may run on a scratch database.
//!
//! MySQL commits around every DDL statement, so the defence the other engines have behind the
//! screening, running the whole file in one transaction that refuses what reaches outside the
//! database, does not exist here: a statement that runs, stays run. The scratch database is
//! the isolation (a database of its own, dropped after), and the screening is the gate. So it
//! is a list of what is allowed, not of what is refused: `CREATE`, `ALTER` and `DROP` of tables,
//! views, indexes, triggers and events, and nothing else. Routines are left to migrations (the
//! model does not carry them); a `CREATE TABLE ... SELECT` or `AS SELECT` runs a query that may
//! read other databases. An event runs its body on the server's schedule, so it *runs code*:
//! only a sandbox takes it, a scratch database on a server whose event scheduler is off
//! ([`crate::MySqlStore`]'s `open_sandbox`).

use godwit_core::screen::{SchemaStatement, ScreenError, StatementClass};

/// Cut `sql` with MySQL's lexical rules (and the client's `DELIMITER`), and class each
/// statement.
pub(crate) fn screen_schema(sql: &str) -> Result<Vec<SchemaStatement>, ScreenError> {
    let statements =
        crate::script::split(sql).map_err(|error| ScreenError::new(error.line, error.message))?;
    Ok(statements
        .into_iter()
        .map(|statement| {
            let class = classify(&statement.text);
            SchemaStatement::new(statement.line, statement.text, class)
        })
        .collect())
}

/// The words of `text` outside quotes, upper-cased, as far as they decide its class.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .take(24)
        .map(str::to_ascii_uppercase)
        .collect()
}

fn classify(text: &str) -> StatementClass {
    let words = words(text);
    let verb = words.first().map(String::as_str).unwrap_or_default();
    if !matches!(verb, "CREATE" | "ALTER" | "DROP") {
        return StatementClass::refused(format!(
            "{verb} is not schema: a schema file holds CREATE, ALTER and DROP of tables, views, indexes and triggers"
        ));
    }
    // Skip what may stand between the verb and the object's kind.
    let mut object = None;
    for word in words[1..].iter().map(String::as_str) {
        match word {
            "OR" | "REPLACE" | "ONLINE" | "OFFLINE" | "IGNORE" | "UNIQUE" | "FULLTEXT"
            | "SPATIAL" | "SQL" | "SECURITY" | "DEFINER" | "INVOKER" => {}
            w if w.starts_with("ALGORITHM") || w.starts_with("DEFINER") || w == "=" => {}
            w if w.starts_with("CURRENT_USER") => {}
            "MERGE" | "TEMPTABLE" | "UNDEFINED" => {}
            other => {
                object = Some(other);
                break;
            }
        }
    }
    match object.unwrap_or_default() {
        "TABLE" if verb == "CREATE" && reads_a_query(text) => StatementClass::refused(
            "CREATE TABLE ... SELECT runs its query, which may read other databases; create the table, and fill it in a migration",
        ),
        "TABLE" | "VIEW" | "INDEX" | "TRIGGER" => StatementClass::Schema,
        "TEMPORARY" => StatementClass::refused("a temporary table is not schema"),
        "EVENT" if verb == "CREATE" => {
            StatementClass::runs_code("an event runs its body on the server's schedule")
        }
        "EVENT" => StatementClass::Schema,
        "PROCEDURE" | "FUNCTION" | "AGGREGATE" => StatementClass::refused(
            "godwit's schema model does not carry routines yet; create them in a migration",
        ),
        "DATABASE" | "SCHEMA" => {
            StatementClass::refused(format!("{verb} DATABASE acts on another database"))
        }
        other => StatementClass::refused(format!(
            "{verb} {other} is not schema godwit manages on MySQL"
        )),
    }
}

/// Whether a `CREATE TABLE` takes its rows from a query (`... AS SELECT`, `... SELECT`),
/// looking at its words outside strings and backquotes.
fn reads_a_query(text: &str) -> bool {
    let mut plain = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => {
                quote = Some(c);
                plain.push(' ');
            }
            None => plain.push(c),
        }
    }
    plain
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w.eq_ignore_ascii_case("SELECT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(sql: &str) -> StatementClass {
        screen_schema(sql).unwrap().remove(0).class
    }

    #[test]
    fn tables_views_indexes_and_triggers_are_schema() {
        for sql in [
            "CREATE TABLE t (id INT PRIMARY KEY, note TEXT DEFAULT 'select')",
            "create or replace algorithm = merge definer = current_user sql security invoker view v as select 1",
            "CREATE UNIQUE INDEX i ON t (a)",
            "ALTER TABLE t ADD COLUMN b INT",
            "DELIMITER //\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END//",
            "DROP VIEW v",
        ] {
            assert_eq!(class(sql), StatementClass::Schema, "{sql}");
        }
    }

    #[test]
    fn what_reaches_outside_or_runs_is_not() {
        for sql in [
            "CREATE DATABASE other",
            "DROP SCHEMA other",
            "USE other",
            "GRANT ALL ON *.* TO x",
            "SET GLOBAL event_scheduler = ON",
            "INSERT INTO t VALUES (1)",
            "SELECT * FROM other.t INTO OUTFILE '/tmp/x'",
            "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
            "CREATE PROCEDURE p() SELECT 1",
            "CREATE USER u",
            "START TRANSACTION",
            "CALL p()",
            "CREATE TEMPORARY TABLE t (a INT)",
        ] {
            assert!(
                matches!(class(sql), StatementClass::Refused { .. }),
                "{sql}: {:?}",
                class(sql)
            );
        }
        assert!(matches!(
            class("CREATE TABLE t AS SELECT * FROM other.secrets"),
            StatementClass::Refused { .. }
        ));
        assert!(matches!(
            class("CREATE EVENT e ON SCHEDULE EVERY 1 SECOND DO DELETE FROM other.t"),
            StatementClass::RunsCode { .. }
        ));
    }
}
