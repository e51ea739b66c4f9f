//! The lint reads what the renderer writes, and agrees with it on which `ALTER TABLE`s copy
//! the table: every statement of the declarative golden files (`tests/snapshots/`, written by
//! `declarative.rs` against MariaDB) is linted alone. A statement the renderer marks as
//! copying the table must be a `table-copy` finding; one it gives an online clause
//! (`ALGORITHM=INSTANT`, `ALGORITHM=INPLACE`, `LOCK=NONE`) must not; none is a parse error.

use std::path::Path;

use godwit_core::Dialect as _;
use godwit_core::lint::{LintConfig, LintInput};
use godwit_mysql::MySqlDialect;

/// The statements of a golden file, each with the kind of its hazard, if any.
fn statements(golden: &str) -> Vec<(String, Option<String>)> {
    // The body follows insta's header, which ends with its second `---` line.
    let body = golden.splitn(3, "---\n").nth(2).unwrap_or_default();
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let sql: Vec<&str> = block.lines().filter(|l| !l.starts_with("--")).collect();
            let hazard = block.lines().find_map(|line| {
                let kind = line.strip_prefix("-- hazard ")?;
                Some(kind.split(':').next()?.to_string())
            });
            (sql.join("\n"), hazard)
        })
        .collect()
}

#[test]
fn the_lint_reads_rendered_statements_as_the_renderer_meant_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let (mut copies, mut online) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "snap"))
        .collect();
    files.sort();
    for file in files {
        let golden = std::fs::read_to_string(&file).unwrap();
        for (sql, hazard) in statements(&golden) {
            let findings = MySqlDialect.lint(
                &LintInput {
                    sql: &sql,
                    transactional: false,
                    origin: "rendered.sql",
                    schema: None,
                },
                &LintConfig::default(),
            );
            let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
            let at = file.file_name().unwrap().to_string_lossy();
            assert!(!rules.contains(&"parse-error"), "{at}: {sql}\n{findings:?}");
            let upper = sql.to_ascii_uppercase();
            if hazard.as_deref() == Some("CopyTable") {
                copies += 1;
                assert!(rules.contains(&"table-copy"), "{at}: {sql}\n{rules:?}");
            }
            if ["ALGORITHM=INSTANT", "ALGORITHM=INPLACE", "LOCK=NONE"]
                .iter()
                .any(|clause| upper.contains(clause))
            {
                online += 1;
                assert!(!rules.contains(&"table-copy"), "{at}: {sql}\n{rules:?}");
            }
        }
    }
    assert!(
        copies >= 5 && online >= 15,
        "the golden files hold {copies} copies and {online} online changes"
    );
}
