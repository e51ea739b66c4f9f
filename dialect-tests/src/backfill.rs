//! Backfills: batches that update every row once, resume after a failed batch, and phases
//! that roll back like any operations migration.

use godwit_core::backfill::BackfillOverrides;
use godwit_core::plan::MigrateOptions;
use godwit_core::{BackfillRow, Error, Event, RollbackTarget, State};

use crate::Case;

/// Rows of the table the cases walk: not a multiple of the batch sizes below, so the last
/// batch is a short one.
const ROWS: i64 = 2345;

/// `items` with [`ROWS`] rows whose `counter` is 0, and `stop`, which the backfill below reads.
fn base() -> String {
    let values: Vec<String> = (1..=ROWS).map(|id| format!("({id})")).collect();
    format!(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, counter INTEGER NOT NULL DEFAULT 0);\n\
         CREATE TABLE stop (id INTEGER PRIMARY KEY);\n\
         INSERT INTO items (id) VALUES {};\n",
        values.join(", ")
    )
}

/// Two backfills between schema steps: every counter goes up by one, in batches of 100, unless
/// `stop` holds a row at the moment the batch holding item 1500 runs (then that batch fails on
/// the NOT NULL of `counter`); then the first 100 items are marked `seen`.
const TWO_BACKFILLS: &str = r#"[[op]]
kind = "add_column"
table = "items"
column = { name = "seen", type = "integer" }

[[op]]
kind = "backfill"
table = "items"
set = { counter = "CASE WHEN id = 1500 AND EXISTS (SELECT 1 FROM stop) THEN NULL ELSE counter + 1 END" }
batch_size = 100

[[op]]
kind = "backfill"
table = "items"
set = { seen = "1" }
filter = "id <= 100"

[[op]]
kind = "set_default"
table = "items"
column = "seen"
default = "0"
"#;

async fn progress(case: &Case) -> Vec<BackfillRow> {
    case.migrator().await.backfills().await.expect("backfills")
}

/// Run `migrate` with `options`, counting the batches its backfills did.
async fn migrate_counting(case: &Case, options: &MigrateOptions) -> (Result<Vec<i64>, Error>, u64) {
    let mut batches = 0;
    let result = case
        .migrator()
        .await
        .migrate(options, &mut |event| {
            if let Event::Backfill { progress } = event
                && progress.finished
            {
                batches += progress.batches;
            }
        })
        .await;
    (
        result.map(|report| report.completed.iter().map(|c| c.version.get()).collect()),
        batches,
    )
}

#[doc(hidden)]
pub async fn a_backfill_updates_every_row_once_and_rolls_back_with_its_steps(case: Case) {
    case.write("1_base.up.sql", &base());
    case.write("2_backfills.toml", TWO_BACKFILLS);
    case.migrate(crate::to(1)).await.expect("base");
    let (applied, batches) = migrate_counting(&case, &MigrateOptions::default()).await;
    assert_eq!(applied.expect("migrate"), [2]);
    // 24 batches of 100 for the first (the last one short, so it ends the walk); the second
    // walks all rows in three of 1,000, updating the 100 its filter keeps.
    assert_eq!(batches, 24 + 3, "batches reported");
    let count = |condition: &str| format!("SELECT count(*) FROM items WHERE {condition}");
    assert_eq!(case.count(&count("counter = 1")).await, ROWS);
    assert_eq!(case.count(&count("seen = 1")).await, 100);
    assert_eq!(case.count(&count("seen IS NULL")).await, ROWS - 100);
    let rows = progress(&case).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row.version.get(), 2);
        assert_eq!(row.table, "items");
        assert_eq!((row.rows_done, row.rows_estimated), (ROWS, Some(ROWS)));
        assert!(row.finished_at.is_some(), "{row:?}");
        assert_eq!(row.last_key.as_deref(), Some(&[ROWS.to_string()][..]));
    }
    // A finished backfill is not `status`'s to show.
    let status = case.migrator().await.status().await.expect("status");
    assert!(status.backfills.is_empty(), "{:?}", status.backfills);

    // The reverse drops the column the migration added; the counters stay as the backfill
    // left them, as a down script cannot know what they were.
    assert_eq!(
        case.rollback(RollbackTarget::Steps(1))
            .await
            .expect("rollback"),
        [2]
    );
    assert_eq!(case.count(&count("counter = 1")).await, ROWS);
    assert!(
        case.migrator()
            .await
            .store_mut()
            .query("SELECT seen FROM items", &[])
            .await
            .is_err(),
        "the rollback must drop `seen`"
    );

    // Applied again, it starts over, with the batch size of the run.
    let options = MigrateOptions {
        backfill: BackfillOverrides {
            batch_size: Some(1000),
            pause: None,
        },
        ..MigrateOptions::default()
    };
    let (applied, batches) = migrate_counting(&case, &options).await;
    assert_eq!(applied.expect("again"), [2]);
    assert_eq!(batches, 3 + 3, "batches of 1,000");
    assert_eq!(case.count(&count("counter = 2")).await, ROWS);
    let rows = progress(&case).await;
    assert!(rows.iter().all(|row| row.rows_done == ROWS), "{rows:?}");
}

#[doc(hidden)]
pub async fn a_failed_batch_resumes_after_the_batches_done(case: Case) {
    case.write("1_base.up.sql", &base());
    case.write("2_backfills.toml", TWO_BACKFILLS);
    case.migrate(crate::to(1)).await.expect("base");
    case.execute("INSERT INTO stop (id) VALUES (1)").await;

    let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, Error::MigrationFailed { .. }) && message.contains("resumes after them"),
        "{message}"
    );
    // Batches 1 to 14 are done and recorded; the 15th, holding item 1500, is not.
    let count = |condition: &str| format!("SELECT count(*) FROM items WHERE {condition}");
    assert_eq!(case.count(&count("counter = 1")).await, 1400);
    assert_eq!(case.count(&count("counter = 0")).await, ROWS - 1400);
    let rows = progress(&case).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].rows_done, 1400);
    assert_eq!(rows[0].last_key.as_deref(), Some(&["1400".to_string()][..]));
    let status = case.migrator().await.status().await.expect("status");
    assert_eq!(status.backfills, rows);
    assert_eq!(
        case.states().await,
        [(1, State::Applied), (2, State::Failed)]
    );

    // With the cause gone, the same file resumes: no counter goes up twice.
    case.execute("DELETE FROM stop").await;
    assert_eq!(
        case.migrate(MigrateOptions::default())
            .await
            .expect("resume"),
        [2]
    );
    assert_eq!(case.count(&count("counter = 1")).await, ROWS);
    assert_eq!(case.count(&count("seen = 1")).await, 100);
    assert_eq!(
        case.states().await,
        [(1, State::Applied), (2, State::Applied)]
    );
    let rows = progress(&case).await;
    assert!(
        rows.iter()
            .all(|row| row.rows_done == ROWS && row.finished_at.is_some()),
        "{rows:?}"
    );
}

#[doc(hidden)]
pub async fn a_backfill_of_a_table_without_a_key_is_refused(case: Case) {
    case.write(
        "1_base.up.sql",
        "CREATE TABLE logs (line TEXT);\nINSERT INTO logs (line) VALUES ('a'), ('b');\n",
    );
    case.write(
        "2_backfill.toml",
        "[[op]]\nkind = \"add_column\"\ntable = \"logs\"\ncolumn = { name = \"n\", type = \"integer\" }\n\n\
         [[op]]\nkind = \"backfill\"\ntable = \"logs\"\nset = { n = \"1\" }\n",
    );
    case.migrate(crate::to(1)).await.expect("base");
    let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("operation 2 (backfill logs)")
            && message.contains("no primary key")
            && message.contains("nothing was changed"),
        "{message}"
    );
    assert_eq!(
        case.states().await,
        [(1, State::Applied), (2, State::Pending)]
    );
    assert!(
        case.migrator()
            .await
            .store_mut()
            .query("SELECT n FROM logs", &[])
            .await
            .is_err(),
        "the column must not be added"
    );
}
