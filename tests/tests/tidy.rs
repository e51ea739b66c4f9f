//! Workspace policy, written as tests so that plain `cargo test` enforces it.
//!
//! The dependency rules read the graph from `cargo metadata` with every feature turned on, so
//! an optional dependency cannot slip past them.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// Packages that do I/O: database drivers, the tokio runtime, dynamic loading.
const IO_PACKAGES: &[&str] = &[
    "sqlx",
    "sqlx-core",
    "sqlx-postgres",
    "sqlx-mysql",
    "rusqlite",
    "libsqlite3-sys",
    "tokio",
    "libloading",
    "postgres",
    "tokio-postgres",
];

#[test]
fn core_has_no_io_dependencies() {
    let meta = metadata();
    let core = package_id(meta, "godwit-core");
    let mut found: Vec<String> = normal_dependency_paths(meta, core)
        .into_iter()
        .filter(|path| IO_PACKAGES.contains(&path.last().unwrap().as_str()))
        .map(|path| path.join(" -> "))
        .collect();
    found.sort();
    assert!(
        found.is_empty(),
        "godwit-core depends on I/O crates:\n  {}\nThis breaks the policy that core does no I/O \
         (no database driver, no tokio runtime, no libloading): move the code that needs them \
         into a dialect crate or the CLI",
        found.join("\n  ")
    );
}

#[test]
fn one_sqlite_library_is_linked() {
    let names: Vec<&str> = metadata()["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
        .iter()
        .map(|package| package["name"].as_str().expect("packages have names"))
        .collect();
    let libsqlite = names
        .iter()
        .filter(|&&name| name == "libsqlite3-sys")
        .count();
    assert!(
        libsqlite <= 1,
        "the workspace graph has {libsqlite} libsqlite3-sys packages; this breaks the policy of \
         linking one SQLite C library (rusqlite's bundled copy): align the rusqlite versions"
    );
    assert!(
        !names.contains(&"sqlx-sqlite"),
        "the workspace graph contains sqlx-sqlite, which links a second SQLite C library; this \
         breaks the policy that sqlx serves PostgreSQL and MySQL only: use sqlx with default-features = false \
         and never its `sqlite` feature"
    );
}

#[test]
fn core_forbids_unsafe_code() {
    let lib = lib_source(metadata(), "godwit-core");
    assert!(
        has_line(&lib, &["#![forbid(unsafe_code)]"]),
        "godwit-core's lib.rs lacks `#![forbid(unsafe_code)]`; this breaks the policy that core \
         has no unsafe code: add the attribute at the top of the crate"
    );
}

#[test]
fn published_libraries_require_docs() {
    let meta = metadata();
    let undocumented: Vec<&str> = published_libraries(meta)
        .into_iter()
        .filter(|&name| {
            !has_line(
                &lib_source(meta, name),
                &[
                    "#![warn(missing_docs)]",
                    "#![deny(missing_docs)]",
                    "#![forbid(missing_docs)]",
                ],
            )
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "these library crates lack `#![warn(missing_docs)]` in their lib.rs: {}; this breaks \
         the policy that public library items are documented: add the attribute at the top of \
         each crate",
        undocumented.join(", ")
    );
}

/// The workspace's `cargo metadata`, with all features, read once per test run.
fn metadata() -> &'static Value {
    static METADATA: OnceLock<Value> = OnceLock::new();
    METADATA.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--all-features"])
            .current_dir(workspace_root())
            .output()
            .expect("cannot run cargo metadata");
        assert!(
            output.status.success(),
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("cargo metadata printed invalid JSON")
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one level below the workspace root")
        .to_path_buf()
}

fn packages(meta: &Value) -> impl Iterator<Item = &Value> {
    meta["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
        .iter()
}

fn workspace_packages(meta: &Value) -> impl Iterator<Item = &Value> {
    let members = meta["workspace_members"]
        .as_array()
        .expect("cargo metadata lists workspace members");
    packages(meta).filter(move |package| members.contains(&package["id"]))
}

fn package_id<'a>(meta: &'a Value, name: &str) -> &'a str {
    workspace_packages(meta)
        .find(|package| package["name"] == name)
        .and_then(|package| package["id"].as_str())
        .unwrap_or_else(|| panic!("{name} is not a workspace member"))
}

/// For each package that `root` reaches through normal (not dev or build) dependencies, the
/// chain of package names from `root` to it.
fn normal_dependency_paths(meta: &Value, root: &str) -> Vec<Vec<String>> {
    let names: HashMap<&str, &str> = packages(meta)
        .map(|package| {
            (
                package["id"].as_str().unwrap(),
                package["name"].as_str().unwrap(),
            )
        })
        .collect();
    let nodes: HashMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("cargo metadata has a resolve graph")
        .iter()
        .map(|node| (node["id"].as_str().unwrap(), node))
        .collect();

    let mut paths: HashMap<&str, Vec<String>> = HashMap::from([(root, vec![names[root].into()])]);
    let mut queue = VecDeque::from([root]);
    while let Some(id) = queue.pop_front() {
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let is_normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|kind| kind["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if is_normal && !paths.contains_key(dep_id) {
                let mut path = paths[id].clone();
                path.push(names[dep_id].into());
                paths.insert(dep_id, path);
                queue.push_back(dep_id);
            }
        }
    }
    paths.remove(root);
    paths.into_values().collect()
}

/// Workspace members that are published (`publish` not `false`) and have a library target.
fn published_libraries(meta: &Value) -> Vec<&str> {
    workspace_packages(meta)
        .filter(|package| package["publish"] != Value::Array(Vec::new()))
        .filter(|package| lib_target(package).is_some())
        .map(|package| package["name"].as_str().unwrap())
        .collect()
}

fn lib_target(package: &Value) -> Option<&Value> {
    package["targets"].as_array()?.iter().find(|target| {
        target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|kind| kind == "lib" || kind == "rlib"))
    })
}

/// The text of a workspace package's library root.
fn lib_source(meta: &Value, name: &str) -> String {
    let package = workspace_packages(meta)
        .find(|package| package["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not a workspace member"));
    let path = lib_target(package)
        .and_then(|target| target["src_path"].as_str())
        .unwrap_or_else(|| panic!("{name} has no library target"));
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Whether one of the source's lines, trimmed, is one of `wanted` (so comments do not count).
fn has_line(source: &str, wanted: &[&str]) -> bool {
    source.lines().any(|line| wanted.contains(&line.trim()))
}
