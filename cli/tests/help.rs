//! `--help` of `godwit` and of every command, snapshot-tested so that a change to what users
//! are told shows up in review.

use assert_cmd::Command;

/// Every command, and the top level as "".
const COMMANDS: &[&str] = &[
    "", "init", "new", "migrate", "rollback", "status", "repair", "unlock", "restore", "push",
    "generate", "diff", "inspect", "check", "verify",
];

#[test]
fn help_snapshots() {
    for &name in COMMANDS {
        let mut command = Command::cargo_bin("godwit").unwrap();
        if !name.is_empty() {
            command.arg(name);
        }
        // A fixed width keeps the wrapping the same on every terminal and in CI.
        let output = command
            .arg("--help")
            .env("COLUMNS", "100")
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "godwit {name} --help failed");
        assert!(
            output.stderr.is_empty(),
            "godwit {name} --help wrote to stderr"
        );
        let snapshot = if name.is_empty() {
            "godwit".to_string()
        } else {
            format!("godwit-{name}")
        };
        insta::assert_snapshot!(snapshot, String::from_utf8(output.stdout).unwrap());
    }
}

#[test]
fn aliases_reach_their_commands() {
    for (alias, command) in [("up", "migrate"), ("down", "rollback")] {
        let help = |name: &str| {
            Command::cargo_bin("godwit")
                .unwrap()
                .args([name, "--help"])
                .env("COLUMNS", "100")
                .output()
                .unwrap()
                .stdout
        };
        assert_eq!(help(alias), help(command), "`{alias}` is not `{command}`");
    }
}
