//! Plugins through the binary: a godwit built without the `mysql` feature (the default build)
//! migrates, reports and rolls back a MariaDB database through the MySQL plugin that
//! `godwit.toml` names, and `godwit plugins` lists what was loaded and what was refused.
//!
//! The plugin library is built by cargo when the test starts (`godwit-mysql --features
//! plugin`); the database is a fresh one on `GODWIT_TEST_MYSQL_URL`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use godwit_tests::MySqlDatabase;
use serde_json::Value;

/// `godwit` in `dir` with `args`, seeing no plugin but those the test gives: no
/// `GODWIT_PLUGIN_PATH` unless `plugin_path`, and a default folder inside `dir`.
fn godwit(dir: &Path, plugin_path: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_godwit"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("GODWIT_PLUGIN_PATH")
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("HOME", dir);
    if let Some(path) = plugin_path {
        command.env("GODWIT_PLUGIN_PATH", path);
    }
    command.output().expect("run godwit")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The MySQL plugin library, built into `dir`.
fn mysql_plugin(dir: &Path) -> PathBuf {
    godwit_tests::plugins::build("godwit-mysql", &["plugin"], dir)
}

#[test]
fn a_godwit_without_mysql_migrates_mariadb_through_the_plugin() {
    let database = MySqlDatabase::create();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("migrations")).unwrap();

    // This binary has no MySQL of its own: without the plugin, the URL names the feature and
    // the plugins searched. (A build with the feature would connect instead, and fail here.)
    let status = godwit(dir, None, &["--url", &database.url, "status"]);
    assert_eq!(status.status.code(), Some(2), "{}", stderr(&status));
    assert!(
        stderr(&status).contains("built without the `mysql` feature")
            && stderr(&status).contains("plugins searched: GODWIT_PLUGIN_PATH (unset)")
            && stderr(&status).contains("none was loaded"),
        "{}",
        stderr(&status)
    );

    let library = mysql_plugin(dir);
    let name = library.file_name().unwrap().to_str().unwrap();
    std::fs::write(
        dir.join("godwit.toml"),
        format!("url = \"{}\"\nplugins = [\"{name}\"]\n", database.url),
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/20240101000000_items.up.sql"),
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50));\n\
         INSERT INTO items VALUES (1, 'one');\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/20240101000000_items.down.sql"),
        "DROP TABLE items;\n",
    )
    .unwrap();

    let plugins = godwit(dir, None, &["plugins", "--format", "json"]);
    assert!(plugins.status.success(), "{}", stderr(&plugins));
    let plugins = json(&plugins);
    assert_eq!(plugins["refused"], serde_json::json!([]));
    let loaded = &plugins["plugins"][0];
    assert_eq!(loaded["name"], "godwit-mysql");
    assert_eq!(loaded["dialect"], "mysql");
    assert_eq!(loaded["abi_version"], godwit_plugin::abi::ABI_VERSION);
    assert_eq!(loaded["schemes"], serde_json::json!(["mysql", "mariadb"]));
    assert_eq!(loaded["source"], "config");
    assert_eq!(
        loaded["path"],
        dir.join(name).canonicalize().unwrap().to_str().unwrap()
    );

    let migrate = godwit(dir, None, &["migrate", "--format", "json"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let status = godwit(dir, None, &["status", "--format", "json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let status = json(&status);
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
    let rollback = godwit(dir, None, &["rollback", "--format", "json"]);
    assert!(rollback.status.success(), "{}", stderr(&rollback));
    let status = json(&godwit(dir, None, &["status", "--format", "json"]));
    assert_eq!(status["migrations"][0]["state"], "rolled_back", "{status}");
}

#[test]
fn refused_plugins_are_listed_and_named_by_a_url_nobody_serves() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("migrations")).unwrap();
    let folder = dir.join("plugins");
    std::fs::create_dir(&folder).unwrap();
    let not_a_library = folder.join(format!("notes{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&not_a_library, "not a library").unwrap();
    std::fs::write(dir.join("godwit.toml"), "plugins = [\"nowhere\"]\n").unwrap();

    let listed = godwit(dir, Some(&folder), &["plugins", "--format", "json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed = json(&listed);
    assert_eq!(listed["plugins"], serde_json::json!([]));
    let refused = listed["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{listed}");
    assert_eq!(refused[0]["path"], "nowhere");
    assert_eq!(refused[0]["source"], "config");
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("no plugin named `nowhere` is in"),
        "{listed}"
    );
    assert_eq!(refused[1]["source"], "env");
    assert!(
        refused[1]["reason"].as_str().unwrap().starts_with(&format!(
            "cannot load {} as a library",
            not_a_library.display()
        )),
        "{listed}"
    );

    let human = godwit(dir, Some(&folder), &["plugins"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("refused {} (from env): ", not_a_library.display())),
        "{text}"
    );

    let unknown = godwit(dir, Some(&folder), &["--url", "oracle://u@h/db", "status"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    let message = stderr(&unknown);
    assert!(
        message.contains("is not a database URL godwit understands")
            && message.contains(&format!(
                "plugins searched: `plugins` in the config file (nowhere), GODWIT_PLUGIN_PATH ({})",
                folder.display()
            ))
            && message.contains(&format!("refused {}", not_a_library.display())),
        "{message}"
    );
}
