//! A schema file out of dependency order, loaded in one round trip.
//!
//! [`Store::execute_in_passes`](godwit_core::Store::execute_in_passes) runs statements in
//! passes, each behind a savepoint. Sent one by one, that is three round trips a statement
//! (the 200-table file of issue 13 took 11 s that way). PostgreSQL can run the passes itself:
//! a `DO` block `EXECUTE`s each statement inside a `BEGIN ... EXCEPTION` block (a savepoint
//! the server sets and undoes), and leaves the indexes of those that failed in the last pass
//! in a transaction-local setting, read by a `SELECT` of the same message. The statements
//! run in the caller's transaction, as screened, and nothing but them and the block runs.

/// The setting the block leaves its result in: the failed indexes, comma separated.
const RESULT: &str = "godwit.schema_failed";

/// The message that runs `statements` in passes, and returns one row holding the 0-based
/// indexes of those that failed in the last pass (empty text when every one ran).
pub(crate) fn message(statements: &[&str]) -> String {
    let literal = free_tag("godwit_statement", statements);
    let body = free_tag("godwit_passes", statements);
    let mut array = String::new();
    for (index, statement) in statements.iter().enumerate() {
        if index > 0 {
            array.push_str(",\n");
        }
        array.push_str(&literal);
        array.push_str(statement);
        array.push_str(&literal);
    }
    format!(
        "DO {body}
DECLARE
    statements text[] := ARRAY[{array}]::text[];
    pending int[] := ARRAY(SELECT generate_series(1, cardinality(statements)));
    failed int[];
    i int;
BEGIN
    LOOP
        failed := '{{}}';
        FOREACH i IN ARRAY pending LOOP
            BEGIN
                EXECUTE statements[i];
            EXCEPTION WHEN OTHERS THEN
                failed := failed || (i - 1);
            END;
        END LOOP;
        EXIT WHEN cardinality(failed) = 0 OR cardinality(failed) = cardinality(pending);
        pending := ARRAY(SELECT f + 1 FROM unnest(failed) AS f);
    END LOOP;
    PERFORM pg_catalog.set_config('{RESULT}', pg_catalog.array_to_string(failed, ','), true);
END
{body};
SELECT pg_catalog.current_setting('{RESULT}')"
    )
}

/// The indexes a [`message`]'s row holds.
pub(crate) fn failed(result: &str) -> Result<Vec<usize>, String> {
    result
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse()
                .map_err(|_| format!("unexpected index {part:?} from the schema passes"))
        })
        .collect()
}

/// A dollar quote `$<stem>_<n>$` that none of `texts` holds, so no statement can end it.
fn free_tag(stem: &str, texts: &[&str]) -> String {
    (0..)
        .map(|n| format!("${stem}_{n}$"))
        .find(|tag| !texts.iter().any(|text| text.contains(tag.as_str())))
        .unwrap_or_else(|| unreachable!("the texts are finite, the tags are not"))
}

#[cfg(test)]
mod tests {
    use super::{failed, free_tag, message};

    #[test]
    fn a_statement_cannot_end_the_quote_around_it() {
        let tricky = "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $godwit_statement_0$ select 1 $godwit_statement_0$";
        assert_eq!(
            free_tag("godwit_statement", &[tricky]),
            "$godwit_statement_1$"
        );
        let sql = message(&[tricky, "CREATE TABLE t ()"]);
        assert!(sql.contains("$godwit_statement_1$CREATE TABLE t ()$godwit_statement_1$"));
        assert!(sql.starts_with("DO $godwit_passes_0$"));
    }

    #[test]
    fn the_result_lists_failed_indexes() {
        assert_eq!(failed(""), Ok(vec![]));
        assert_eq!(failed("0,3"), Ok(vec![0, 3]));
        assert!(failed("x").is_err());
    }
}
