//! Questions asked on the terminal. Only asked when both stdin and stderr are terminals (the
//! question goes to stderr, so stdout stays data); otherwise a command decides from its flags.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::error::CliError;

/// Whether someone can answer a question.
pub(crate) fn interactive() -> bool {
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
pub(crate) fn confirm(question: &str) -> Result<bool, CliError> {
    Ok(matches!(
        ask(&format!("{question} [y/N]"))?.as_str(),
        "y" | "yes"
    ))
}

/// Ask for consent that must be typed out in full: `yes`.
pub(crate) fn confirm_typed(question: &str) -> Result<bool, CliError> {
    Ok(ask(&format!("{question} Type yes to go on:"))? == "yes")
}

/// Offer `options` as a numbered list and return the one picked; an empty answer picks none.
/// Asked again after an answer that is not a number of the list.
pub(crate) fn choose<T: Copy>(
    question: &str,
    options: &[T],
    describe: impl Fn(&T) -> &str,
) -> Result<Option<T>, CliError> {
    let mut menu = String::new();
    for (index, option) in options.iter().enumerate() {
        menu.push_str(&format!("  {}) {}\n", index + 1, describe(option)));
    }
    loop {
        let answer = ask(&format!(
            "{menu}{question} [1-{}, or Enter for nothing]",
            options.len()
        ))?;
        if answer.is_empty() {
            return Ok(None);
        }
        if let Some(option) = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| options.get(i))
        {
            return Ok(Some(*option));
        }
    }
}
