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

/// `unsafe` code stays where it is needed: the plugin boundary (the host's loader, the guest's
/// `extern "C"` functions, the export macro's entry symbol), SQLite's statement splitter, and
/// xtask's measure of a child's peak memory; every `unsafe` block says why it is sound.
#[test]
fn unsafe_code_is_confined_to_the_plugin_boundary() {
    const ALLOWED: &[&str] = &[
        "plugin/src/host/load.rs",
        "plugin/src/guest/raw.rs",
        "plugin/src/guest.rs",
        // `mod split`, SQLite's own test of a complete statement.
        "dialect-sqlite/src/lib.rs",
        "xtask/src/measure.rs",
    ];
    let root = workspace_root();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&root).expect("a readable workspace") {
        let dir = entry.expect("a readable entry").path();
        if dir.is_dir()
            && dir
                .file_name()
                .is_some_and(|name| name != "target" && name != ".git")
        {
            rust_files(&dir, &mut files);
        }
    }
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let source = std::fs::read_to_string(file).expect("a readable source file");
        let allows = source.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("#[allow(unsafe_code") || line.starts_with("#![allow(unsafe_code")
        });
        if allows && !ALLOWED.contains(&relative.as_str()) {
            wrong.push(format!("{relative}: allows unsafe code"));
        }
        let lines: Vec<&str> = source.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            // A block, not this test's own text naming one.
            if !code.contains("unsafe {") || code.contains("\"unsafe {") {
                continue;
            }
            // The comment is the statement's: above it, past the lines of the statement's
            // start (`let x =`), within a few lines.
            let explained = lines[index.saturating_sub(8)..=index]
                .iter()
                .any(|line| line.trim_start().starts_with("// SAFETY:"));
            if !explained {
                wrong.push(format!(
                    "{relative}:{}: an unsafe block without `// SAFETY:`",
                    index + 1
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "unsafe code outside the plugin boundary, or unexplained:\n  {}\nkeep unsafe code in \
         the plugin host's loader or the guest's raw module, each block under a `// SAFETY:` \
         comment saying why it is sound",
        wrong.join("\n  ")
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

/// Names core's code never says: what a dialect knows lives in its crate, reached through the
/// `Dialect` trait, so that a new dialect edits no core file.
const DIALECT_NAMES: &[&str] = &["sqlite", "postgres"];

/// Identifiers of other crates that hold a dialect's name, and why core may use them.
const ALLOWED_IDENTIFIERS: &[(&str, &str)] = &[(
    "SqliteOnConflict",
    "sqlparser's name for the `OR IGNORE` / `OR REPLACE` of an INSERT; the shared detection \
     of table rebuilds reads it whatever the dialect, as such a copy may leave rows behind",
)];

/// Lines of core (a file and a part of the line) that name an engine in prose a user reads,
/// and why that is no dialect knowledge.
const ALLOWED_LINES: &[(&str, &str, &str)] = &[
    (
        "core/src/migration.rs",
        "(SQLite would stop reading the script there and skip the rest)",
        "a message saying why a NUL byte is refused: an engine that stops there is the harm",
    ),
    (
        "core/src/declarative/error.rs",
        "(SQLite would stop reading the schema there and leave the rest out)",
        "a message saying why a NUL byte is refused: an engine that stops there is the harm",
    ),
];

#[test]
fn core_names_no_dialect() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("core/src"), &mut files);
    files.sort();
    assert!(files.len() > 20, "core's sources are found");
    let mut found = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&root)
            .expect("under the workspace")
            .display()
            .to_string();
        let source = std::fs::read_to_string(&path).expect("a readable source file");
        for (line, code) in code_lines(&source) {
            let allowed = ALLOWED_LINES.iter().any(|&(file, part, _)| {
                file == relative
                    && source
                        .lines()
                        .nth(line - 1)
                        .is_some_and(|l| l.contains(part))
            });
            let mut code = code;
            for (identifier, _) in ALLOWED_IDENTIFIERS {
                code = code.replace(identifier, "");
            }
            let lower = code.to_ascii_lowercase();
            if !allowed && DIALECT_NAMES.iter().any(|name| lower.contains(name)) {
                found.push(format!("{relative}:{line}: {}", code.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "godwit-core names a dialect outside comments and tests:\n  {}\nThis breaks the policy \
         that core holds no dialect's knowledge: move what the code needs to know into the \
         dialect crates behind a `Dialect` (or `lint::LintRules`) method, or, for prose a user \
         reads, list the line in ALLOWED_LINES with the reason",
        found.join("\n  ")
    );
}

#[test]
fn code_lines_leave_out_comments_tests_and_rule_text() {
    let source = "fn a(name: &str) -> bool { name == \"postgres\" } // sqlite\n\
                  /// SQLite\n\
                  const R: Rule = Rule {\n\
                  \x20   summary: \"on SQLite\",\n\
                  \x20   explanation: \"\\\n\
                  PostgreSQL \\\"quoted\\\"\n\
                  \",\n\
                  \x20   id: \"sqlite-only\",\n\
                  };\n\
                  #[cfg(test)]\n\
                  mod tests {\n\
                  \x20   const X: &str = \"sqlite\";\n\
                  }\n\
                  const C: char = '\"'; const D: &str = \"postgres\";\n";
    let named: Vec<usize> = code_lines(source)
        .into_iter()
        .filter(|(_, code)| {
            let lower = code.to_ascii_lowercase();
            DIALECT_NAMES.iter().any(|name| lower.contains(name))
        })
        .map(|(line, _)| line)
        .collect();
    assert_eq!(named, [1, 8, 14]);
}

/// The `.rs` files under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The code of each line of `source` (1-based), as far as a dialect's name in it matters:
/// without comments, without `#[cfg(test)]` modules, and without the text of the `summary`
/// and `explanation` of a lint rule, which are documentation printed for users. Reads
/// rustfmt-formatted source: a test module ends at the `}` indented as its `mod` line.
fn code_lines(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    // Inside a string literal; whether it is documentation.
    let mut string: Option<bool> = None;
    let mut test_module_end: Option<String> = None;
    let mut after_cfg_test = false;
    for (index, line) in source.lines().enumerate() {
        if let Some(end) = &test_module_end {
            if line == end {
                test_module_end = None;
            }
            continue;
        }
        let trimmed = line.trim();
        if string.is_none() && trimmed == "#[cfg(test)]" {
            after_cfg_test = true;
            continue;
        }
        if std::mem::take(&mut after_cfg_test)
            && trimmed.ends_with('{')
            && (trimmed.starts_with("mod ") || trimmed.contains(" mod "))
        {
            let indent = &line[..line.len() - line.trim_start().len()];
            test_module_end = Some(format!("{indent}}}"));
            continue;
        }
        let mut code = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match string {
                Some(documentation) => {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => string = None,
                        _ if documentation => continue,
                        _ => {}
                    }
                    code.push(c);
                }
                None => match c {
                    '/' if chars.peek() == Some(&'/') => break,
                    // A character literal: `'"'` opens no string.
                    '\'' if chars.peek() == Some(&'"') => {
                        code.push(c);
                        code.push(chars.next().unwrap_or_default());
                    }
                    '"' => {
                        let before = code.trim_end();
                        string =
                            Some(before.ends_with("summary:") || before.ends_with("explanation:"));
                        code.push(c);
                    }
                    _ => code.push(c),
                },
            }
        }
        out.push((index + 1, code));
    }
    out
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
