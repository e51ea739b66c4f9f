//! Operations migrations: every operation applied, rolled back and applied again, with the
//! schema read back from the catalog after each step.

use godwit_core::declarative::introspect;
use godwit_core::operation::{Column, MigrationBuilder, OperationError};
use godwit_core::plan::MigrateOptions;
use godwit_core::schema::Schema;
use godwit_core::{
    Error, HistoryTable, Migration, Migrations, Migrator, MigratorConfig, RollbackTarget, Status,
};

use crate::Case;

/// The schema every case starts from, in SQL both engines read alike: a column with a default,
/// a named check, a named foreign key and an index (`users.team_id`), and a row in each table.
const BASE: &str = "CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    nickname TEXT,
    team_id INTEGER DEFAULT 1
        CONSTRAINT users_team_positive CHECK (team_id > 0)
        CONSTRAINT users_team_fk REFERENCES teams (id),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_team_idx ON users (team_id);
CREATE INDEX users_nickname_idx ON users (nickname);
CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT NOT NULL DEFAULT 'empty');
CREATE INDEX notes_body_idx ON notes (body);
INSERT INTO teams (id, name) VALUES (1, 'one');
INSERT INTO users (id, email, nickname, team_id) VALUES (1, 'a@example.com', 'a', 1);
INSERT INTO notes (id, user_id, body) VALUES (1, 1, 'hello');
";

/// One operation per row, as an operations file would hold it: `(what, TOML)`.
const EVERY_OPERATION: &[(&str, &str)] = &[
    (
        "create_table",
        r#"[[op]]
kind = "create_table"
table = "projects"
primary_key = ["id"]
columns = [
  { name = "id", type = "integer" },
  { name = "title", type = "text", nullable = false, default = "'untitled'" },
]"#,
    ),
    (
        "drop_table",
        r#"allow = ["drop-table"]
[[op]]
kind = "drop_table"
table = "notes""#,
    ),
    (
        "rename_table",
        r#"[[op]]
kind = "rename_table"
table = "notes"
to = "memos""#,
    ),
    (
        "add_column",
        r#"[[op]]
kind = "add_column"
table = "users"
column = { name = "avatar_url", type = "text" }"#,
    ),
    (
        "add_column_not_null_with_default",
        r#"[[op]]
kind = "add_column"
table = "users"
column = { name = "score", type = "integer", nullable = false, default = "0" }"#,
    ),
    (
        "drop_column_with_default_check_foreign_key_and_index",
        r#"allow = ["drop-column", "drop-table"]
[[op]]
kind = "drop_column"
table = "users"
column = "team_id""#,
    ),
    (
        "rename_column",
        r#"[[op]]
kind = "rename_column"
table = "users"
column = "nickname"
to = "handle""#,
    ),
    (
        "set_type",
        r#"allow = ["change-column-type", "alter-column-type"]
[[op]]
kind = "set_type"
table = "notes"
column = "user_id"
type = "bigint""#,
    ),
    (
        "set_default",
        r#"[[op]]
kind = "set_default"
table = "users"
column = "nickname"
default = "'anon'""#,
    ),
    (
        "remove_default",
        r#"[[op]]
kind = "set_default"
table = "users"
column = "team_id""#,
    ),
    (
        "set_not_null",
        r#"[[op]]
kind = "set_nullable"
table = "users"
column = "nickname"
nullable = false"#,
    ),
    (
        "drop_not_null",
        r#"[[op]]
kind = "set_nullable"
table = "users"
column = "email"
nullable = true"#,
    ),
    (
        "create_index",
        r#"[[op]]
kind = "create_index"
name = "users_email_nickname_idx"
table = "users"
columns = ["email", "nickname"]
unique = true"#,
    ),
    (
        "drop_index",
        r#"[[op]]
kind = "drop_index"
name = "users_nickname_idx""#,
    ),
    (
        "add_check",
        r#"[[op]]
kind = "add_check"
table = "users"
name = "users_nickname_length"
expression = "length(nickname) > 0""#,
    ),
    (
        "add_unique",
        r#"[[op]]
kind = "add_unique"
table = "users"
name = "users_nickname_key"
columns = ["nickname"]"#,
    ),
    (
        "add_foreign_key",
        r#"[[op]]
kind = "add_foreign_key"
table = "notes"
name = "notes_user_fk"
columns = ["user_id"]
references = "users"
referenced_columns = ["id"]
on_delete = "cascade""#,
    ),
    (
        "drop_check",
        r#"[[op]]
kind = "drop_constraint"
table = "users"
name = "users_team_positive""#,
    ),
    (
        "drop_unique",
        r#"[[op]]
kind = "drop_constraint"
table = "users"
name = "users_email_key""#,
    ),
    (
        "drop_foreign_key",
        r#"[[op]]
kind = "drop_constraint"
table = "users"
name = "users_team_fk""#,
    ),
    (
        "sql_with_its_reverse",
        r#"[[op]]
kind = "sql"
up = "CREATE VIEW user_emails AS SELECT id, email FROM users"
down = "DROP VIEW user_emails""#,
    ),
    (
        "several_at_once",
        r#"allow = ["drop-column", "drop-table"]
[[op]]
kind = "add_column"
table = "users"
column = { name = "bio", type = "text", default = "''" }
[[op]]
kind = "create_index"
name = "users_bio_idx"
table = "users"
columns = ["bio"]
[[op]]
kind = "drop_column"
table = "users"
column = "team_id"
[[op]]
kind = "rename_table"
table = "notes"
to = "memos""#,
    ),
];

/// The enum operations, for engines with enum types.
const ENUM_OPERATIONS: &[(&str, &str)] = &[
    (
        "create_enum",
        r#"[[op]]
kind = "create_enum"
name = "mood"
values = ["sad", "ok"]
[[op]]
kind = "add_column"
table = "users"
column = { name = "mood", type = "mood", default = "'ok'" }"#,
    ),
    (
        "add_enum_value",
        r#"[[op]]
kind = "add_enum_value"
name = "level"
value = "high""#,
    ),
    (
        "rename_enum_value",
        r#"[[op]]
kind = "rename_enum_value"
name = "level"
from = "low"
to = "lowest""#,
    ),
    (
        "drop_enum",
        r#"[[op]]
kind = "drop_enum"
name = "level""#,
    ),
];

async fn schema(case: &Case) -> Schema {
    let mut store = case.store().await;
    introspect(store.as_mut(), &HistoryTable::default())
        .await
        .expect("introspect")
}

/// Assert that `left` and `right` are one schema as the declarative engine compares them: no
/// change between them.
///
/// Index definitions are compared without double quotes: SQLite rewrites the stored text of an
/// index when its table is renamed, quoting the table's name, so a table renamed and renamed
/// back has its indexes as they were, spelt `ON "notes"(body)` where they said `ON notes(body)`.
async fn assert_same(case: &Case, left: &Schema, right: &Schema, what: &str) {
    let unquoted = |schema: &Schema| {
        let mut schema = schema.clone();
        for table in &mut schema.tables {
            for index in &mut table.indexes {
                index.definition = index.definition.replace('"', "");
            }
        }
        schema
    };
    let (left, right) = (unquoted(left), unquoted(right));
    if left == right {
        return;
    }
    let store = case.store().await;
    let changes = godwit_core::diff::diff(
        &left,
        &right,
        &Default::default(),
        store.dialect().diff_options(),
    );
    assert!(changes.is_empty(), "{what}: {changes:#?}");
}

/// Whether the engine keeps the names of unique constraints, as the base schema shows after
/// it is applied (which this does, as migration 1).
async fn keeps_unique_names(case: &Case) -> bool {
    case.write("1_base.up.sql", BASE);
    case.migrate(super::to(1)).await.expect("base");
    schema(case).await.tables.iter().any(|t| {
        t.uniques
            .iter()
            .any(|u| u.name.as_deref() == Some("users_email_key"))
    })
}

/// Whether the engine has enum types, as the operations decide it: by the dialect.
async fn has_enums(case: &Case) -> bool {
    let store = case.store().await;
    let probe = godwit_core::diff::Change::CreateEnum(godwit_core::schema::Enum {
        name: godwit_core::schema::Name::bare("probe"),
        values: vec!["a".into()],
    });
    store
        .dialect()
        .render(&[probe], &Default::default())
        .is_ok()
}

/// Apply `toml` on the base schema, roll it back, apply it again: the schema after the
/// rollback is the schema before, the second apply gives what the first gave, and no row of
/// the base is lost on the way.
async fn round_trip(case: &Case, base: &str, what: &str, toml: &str) {
    case.write("1_base.up.sql", base);
    case.write(&format!("2_{what}.toml"), toml);
    case.migrate(super::to(1)).await.expect("base");
    let before = schema(case).await;
    let applied = case
        .migrate(MigrateOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(applied, [2], "{what}");
    let after = schema(case).await;
    assert_ne!(before, after, "{what} changed nothing");
    let row = case
        .history()
        .await
        .into_iter()
        .find(|r| r.version.get() == 2)
        .expect("row");
    assert_eq!(row.checksum, godwit_core::Checksum::of(toml), "{what}");
    assert!(row.down_script.is_some(), "{what}: no down script recorded");

    assert_eq!(
        case.rollback(RollbackTarget::Steps(1))
            .await
            .unwrap_or_else(|e| panic!("{what}: rollback: {e}\n{:?}", row.down_script)),
        [2]
    );
    let restored = schema(case).await;
    let down = row.down_script.unwrap_or_default();
    assert_same(
        case,
        &before,
        &restored,
        &format!("{what}: the rollback did not restore the schema; down script:\n{down}"),
    )
    .await;
    assert_eq!(case.count("SELECT count(*) FROM users").await, 1, "{what}");

    assert_eq!(
        case.migrate(MigrateOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{what}: again: {e}")),
        [2]
    );
    assert_same(
        case,
        &schema(case).await,
        &after,
        &format!("{what}: applied again"),
    )
    .await;
}

#[doc(hidden)]
pub async fn every_operation_rolls_back_to_the_schema_before(case: Case) {
    for (what, toml) in EVERY_OPERATION {
        let case = case.another();
        if *what == "drop_unique" && !keeps_unique_names(&case).await {
            // SQLite does not keep the name of a unique constraint: there is nothing to drop
            // by name, and the operation says so rather than guessing.
            case.write("2_drop_unique.toml", toml);
            let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("no check, unique or foreign-key constraint `users_email_key`"),
                "{error}"
            );
            continue;
        }
        round_trip(&case, BASE, what, toml).await;
    }
    if has_enums(&case).await {
        let base = format!(
            "CREATE TYPE level AS ENUM ('low', 'mid');\n{BASE}ALTER TABLE notes ADD COLUMN level level DEFAULT 'low';\n"
        );
        for (what, toml) in ENUM_OPERATIONS {
            // The type a column uses cannot be dropped: that is refused below.
            let base = if *what == "drop_enum" {
                format!("CREATE TYPE level AS ENUM ('low', 'mid');\n{BASE}")
            } else {
                base.clone()
            };
            round_trip(&case.another(), &base, what, toml).await;
        }
    }
}

#[doc(hidden)]
pub async fn a_dropped_column_comes_back_with_its_default_constraints_and_index(case: Case) {
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_drop_team.toml",
        "allow = [\"drop-column\", \"drop-table\"]\n[[op]]\nkind = \"drop_column\"\ntable = \"users\"\ncolumn = \"team_id\"\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let before = schema(&case).await;
    let users = |schema: &Schema| {
        schema
            .tables
            .iter()
            .find(|t| t.name.name == "users")
            .expect("users")
            .clone()
    };
    case.migrate(MigrateOptions::default()).await.expect("drop");
    let dropped = users(&schema(&case).await);
    assert!(dropped.column("team_id").is_none());
    assert!(dropped.foreign_keys.is_empty() && dropped.checks.is_empty());
    assert!(
        !dropped
            .indexes
            .iter()
            .any(|i| i.name.name == "users_team_idx")
    );

    case.rollback(RollbackTarget::Steps(1))
        .await
        .expect("rollback");
    let back = users(&schema(&case).await);
    let column = back.column("team_id").expect("team_id is back");
    assert_eq!(
        column.data_type,
        users(&before).column("team_id").unwrap().data_type
    );
    assert!(column.default.as_deref().is_some_and(|d| d.contains('1')));
    assert!(
        back.checks
            .iter()
            .any(|c| c.name.as_deref() == Some("users_team_positive"))
    );
    assert!(
        back.foreign_keys
            .iter()
            .any(|k| k.name.as_deref() == Some("users_team_fk"))
    );
    assert!(back.indexes.iter().any(|i| i.name.name == "users_team_idx"));
    assert_eq!(back, users(&before));
    // The rows stay; the values of the dropped column do not come back, as its hazard said:
    // the restored column holds its default.
    assert_eq!(case.count("SELECT count(*) FROM users").await, 1);
}

#[doc(hidden)]
pub async fn operations_that_do_not_fit_change_nothing(case: Case) {
    let cases: &[(&str, &str, usize)] = &[
        (
            "missing_column",
            "[[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"ok\", type = \"text\" }\n\
             [[op]]\nkind = \"drop_column\"\ntable = \"users\"\ncolumn = \"nope\"\n",
            2,
        ),
        (
            "existing_table",
            "[[op]]\nkind = \"create_table\"\ntable = \"teams\"\ncolumns = [{ name = \"id\", type = \"integer\" }]\n",
            1,
        ),
        (
            "missing_table",
            "[[op]]\nkind = \"create_index\"\nname = \"i\"\ntable = \"nope\"\ncolumns = [\"id\"]\n",
            1,
        ),
        (
            "referenced_table",
            "[[op]]\nkind = \"drop_table\"\ntable = \"teams\"\n",
            1,
        ),
    ];
    for (what, toml, index) in cases {
        let case = case.another();
        case.write("1_base.up.sql", BASE);
        case.write(&format!("2_{what}.toml"), toml);
        case.migrate(super::to(1)).await.expect("base");
        let before = schema(&case).await;
        let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Operation(OperationError::Invalid { index: i, .. }) if i == index),
            "{what}: {error}"
        );
        assert!(
            error.to_string().contains(&format!("operation {index}")),
            "{error}"
        );
        assert_eq!(schema(&case).await, before, "{what}");
        assert!(
            case.history().await.iter().all(|r| r.version.get() == 1),
            "{what}: a row was written"
        );
    }

    // A later operations migration that does not fit refuses the whole run: the first is
    // not applied either.
    let case = case.another();
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_fits.toml",
        "[[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"ok\", type = \"text\" }\n",
    );
    case.write(
        "3_does_not.toml",
        "[[op]]\nkind = \"drop_column\"\ntable = \"users\"\ncolumn = \"nope\"\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let before = schema(&case).await;
    let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(error.to_string().contains("migration 3"), "{error}");
    assert_eq!(schema(&case).await, before);
    assert!(case.history().await.iter().all(|r| r.version.get() == 1));

    // After SQL, an operations migration is checked only when its turn comes: the error says
    // which migrations of the run stay applied.
    let case = case.another();
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_more.up.sql",
        "CREATE TABLE more (id INTEGER PRIMARY KEY);\n",
    );
    case.write(
        "3_does_not.toml",
        "[[op]]\nkind = \"drop_column\"\ntable = \"more\"\ncolumn = \"nope\"\n",
    );
    let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(
        matches!(&error, Error::StoppedAfter { applied, cause } if applied.len() == 2
            && matches!(**cause, Error::Operation(_))),
        "{error}"
    );
    assert!(error.to_string().contains("still applied: 1, 2"), "{error}");

    // A type the engine does not know, where the engine can tell.
    let case = case.another();
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_unknown_type.toml",
        "[[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"x\", type = \"no_such_type\" }\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let checks_types = case.store().await.dialect().type_check_query().is_some();
    let result = case.migrate(MigrateOptions::default()).await;
    if checks_types {
        let error = result.unwrap_err();
        assert!(error.to_string().contains("no_such_type"), "{error}");
    } else {
        // SQLite takes any type name (its type affinity rules): there is nothing to check.
        assert_eq!(result.unwrap(), [2]);
    }

    // Enum types on an engine without them, concurrent indexes on one that cannot.
    let case = case.another();
    case.write("1_base.up.sql", BASE);
    let enums = has_enums(&case).await;
    case.write(
        "2_enum.toml",
        "[[op]]\nkind = \"create_enum\"\nname = \"mood\"\nvalues = [\"a\"]\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let result = case.migrate(MigrateOptions::default()).await;
    assert_eq!(result.is_ok(), enums, "{result:?}");
}

#[doc(hidden)]
pub async fn a_dry_run_renders_operations_and_changes_nothing(case: Case) {
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_avatar.toml",
        "[[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"avatar_url\", type = \"text\" }\n",
    );
    case.write(
        "3_index.toml",
        "[[op]]\nkind = \"create_index\"\nname = \"users_avatar_idx\"\ntable = \"users\"\ncolumns = [\"avatar_url\"]\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let before = schema(&case).await;
    let plan = case
        .migrator()
        .await
        .plan(&MigrateOptions::default())
        .await
        .expect("plan");
    assert_eq!(plan.steps.len(), 2);
    // The second is rendered on the schema the first leaves: the column it indexes.
    assert!(plan.steps[0].migration.up.sql.contains("avatar_url"));
    assert!(
        plan.steps[1].migration.up.sql.contains("users_avatar_idx"),
        "{}",
        plan.steps[1].migration.up.sql
    );
    assert_eq!(schema(&case).await, before);
    assert_eq!(case.history().await.len(), 1);
}

#[doc(hidden)]
pub async fn a_builder_migration_runs_beside_sql_migrations(case: Case) {
    let base = Migration {
        version: super::v(1),
        name: "base".into(),
        up: godwit_core::Script::new(BASE, None).unwrap(),
        down: None,
        operations: None,
    };
    let avatar = MigrationBuilder::new("add_avatar")
        .add_column("users", Column::new("avatar_url", "TEXT"))
        .create_index("idx_users_email", "users", ["email"])
        .build(2)
        .expect("build");
    let migrations = Migrations::from_list(vec![base, avatar]).expect("migrations");
    let migrator = || async {
        let mut config = MigratorConfig::new("godwit behaviour suite");
        config.lock_timeout = std::time::Duration::from_secs(10);
        Migrator::new(case.store().await, migrations.clone(), config)
    };
    let report = migrator()
        .await
        .migrate(&super::to(1), &mut |_| {})
        .await
        .expect("base");
    assert_eq!(report.completed.len(), 1);
    let before = schema(&case).await;
    migrator()
        .await
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .expect("builder migration");
    let users = schema(&case).await;
    let users = users
        .tables
        .iter()
        .find(|t| t.name.name == "users")
        .unwrap();
    assert!(users.column("avatar_url").is_some());
    assert!(
        users
            .indexes
            .iter()
            .any(|i| i.name.name == "idx_users_email")
    );
    let history = migrator().await.history().await.unwrap();
    assert!(history.iter().all(|r| r.status == Status::Applied));
    migrator()
        .await
        .rollback(RollbackTarget::Steps(1), &mut |_| {})
        .await
        .expect("rollback");
    assert_eq!(schema(&case).await, before);
}

#[doc(hidden)]
pub async fn a_concurrent_index_runs_outside_the_transaction(case: Case) {
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_index.toml",
        "[[op]]\nkind = \"create_index\"\nname = \"users_email_idx\"\ntable = \"users\"\ncolumns = [\"email\"]\nconcurrently = true\n",
    );
    case.migrate(super::to(1)).await.expect("base");
    let can = case
        .store()
        .await
        .dialect()
        .capabilities()
        .concurrent_indexes;
    let before = schema(&case).await;
    let result = case.migrate(MigrateOptions::default()).await;
    if !can {
        let error = result.unwrap_err();
        assert!(error.to_string().contains("concurrently"), "{error}");
        assert_eq!(schema(&case).await, before);
        return;
    }
    assert_eq!(result.unwrap(), [2]);
    let row = case
        .history()
        .await
        .into_iter()
        .find(|r| r.version.get() == 2)
        .unwrap();
    assert!(!row.transactional);
    assert!(
        row.down_script
            .as_deref()
            .is_some_and(|d| d.contains("CONCURRENTLY")),
        "{:?}",
        row.down_script
    );
    case.rollback(RollbackTarget::Steps(1))
        .await
        .expect("rollback");
    assert_eq!(schema(&case).await, before);
}

#[doc(hidden)]
pub async fn verify_and_check_render_operations_as_migrate_does(case: Case) {
    case.write("1_base.up.sql", BASE);
    case.write(
        "2_ops.toml",
        "allow = [\"drop-column\", \"drop-table\"]\n\
         [[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"bio\", type = \"text\" }\n\
         [[op]]\nkind = \"drop_column\"\ntable = \"users\"\ncolumn = \"team_id\"\n\
         [[op]]\nkind = \"create_index\"\nname = \"users_bio_idx\"\ntable = \"users\"\ncolumns = [\"bio\"]\n",
    );
    // Verify runs every down script: the base needs one too. (No rename here: SQLite rewrites
    // an index's stored text when its column is renamed, quoting the name, so renamed back it
    // is spelt otherwise, which verify's exact comparison reports, as for a SQL migration.)
    case.write(
        "1_base.down.sql",
        "DROP TABLE notes;\nDROP TABLE users;\nDROP TABLE teams;\n",
    );
    let migrations =
        Migrations::from_dir(&case.dir.path().join("migrations")).expect("load migrations");
    let mut host = case.store().await;
    let verified = godwit_core::declarative::Verify::new(host.as_mut())
        .run(&migrations)
        .await
        .unwrap();
    assert!(
        matches!(
            verified,
            godwit_core::declarative::Verification::Verified { .. }
        ),
        "{verified:?}"
    );
    drop(host);

    case.migrate(MigrateOptions::default()).await.unwrap();
    let mut store = case.store().await;
    let history = HistoryTable::default();
    let drift = godwit_core::declarative::Check::new(store.as_mut(), &history)
        .run(&migrations)
        .await
        .unwrap();
    assert!(!drift.drifted(), "{drift:?}");
}
