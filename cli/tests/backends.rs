//! A URL whose backend was left out of the build names the cargo feature to turn on, with exit
//! code 2, instead of guessing or panicking. Each case runs only in a build that lacks it:
//! `cargo test -p godwit-cli --no-default-features --features sqlite` (or `postgres`, or
//! `mysql`); the default build lacks `mysql`.

#[cfg(any(
    not(feature = "sqlite"),
    not(feature = "postgres"),
    not(feature = "mysql")
))]
fn assert_missing(url: &str, feature: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_godwit"))
        .current_dir(dir.path())
        .args(["--url", url, "status"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("built without the `{feature}` feature"))
            && stderr.contains(&format!("--features {feature}")),
        "{stderr}"
    );
}

#[cfg(not(feature = "sqlite"))]
#[test]
fn sqlite_left_out() {
    assert_missing("sqlite:app.db", "sqlite");
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_left_out() {
    assert_missing("postgres://user:hunter2@localhost/app", "postgres");
}

#[cfg(not(feature = "mysql"))]
#[test]
fn mysql_left_out() {
    assert_missing("mysql://user:hunter2@localhost/app", "mysql");
}
