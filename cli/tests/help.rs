//! `--help` of `godwit` and of every command, snapshot-tested so that a change to what users
//! are told shows up in review.

use assert_cmd::Command;

fn help(name: &str) -> String {
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
    String::from_utf8(output.stdout).unwrap()
}

/// The commands the top-level help lists, read from it so a new command cannot be left out.
fn commands(top: &str) -> Vec<String> {
    top.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn help_snapshots() {
    let top = help("");
    let commands = commands(&top);
    assert!(commands.len() > 10, "no command list in:\n{top}");
    insta::assert_snapshot!("godwit", top);
    for name in commands {
        insta::assert_snapshot!(format!("godwit-{name}"), help(&name));
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
