//! Questions asked on the terminal. Only asked when both stdin and stderr are terminals (the
//! question goes to stderr, so stdout stays data); otherwise a command decides from its flags.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::error::CliError;

/// Whether someone can answer a question.
pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

fn ask(question: &str) -> Result<String, CliError> {
    let mut stderr = io::stderr().lock();
    write!(stderr, "{question} ")
        .and_then(|()| stderr.flush())
        .map_err(CliError::Prompt)?;
    let mut answer = String::new();
    io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(CliError::Prompt)?;
    Ok(answer.trim().to_ascii_lowercase())
}

/// Ask a yes/no question whose default is no.
pub fn confirm(question: &str) -> Result<bool, CliError> {
    Ok(matches!(
        ask(&format!("{question} [y/N]"))?.as_str(),
        "y" | "yes"
    ))
}

/// Ask for consent that must be typed out in full: `yes`.
pub fn confirm_typed(question: &str) -> Result<bool, CliError> {
    Ok(ask(&format!("{question} Type yes to go on:"))? == "yes")
}
