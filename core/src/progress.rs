//! Progress of long work as plain data: where a piece of work is, never how it is shown. The
//! migrator reports the statements of a script with it ([`crate::Event::Statement`]), and any
//! other work done in steps (a backfill's batches) reports through the same type, so that one
//! renderer shows them all.

use serde::{Deserialize, Serialize};

/// How many characters of a statement a [`Step`]'s label keeps.
pub const LABEL_CHARS: usize = 80;

/// One step of a piece of work, as it starts: a statement of a script, a batch of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// 1-based position of the step in its work.
    pub index: usize,
    /// How many steps the work has, when that is known before they run.
    pub total: Option<usize>,
    /// 1-based line of the script where the step's statement starts, when it is one.
    pub line: Option<usize>,
    /// What the step does, in a few words on one line (a statement's start), when known.
    pub label: Option<String>,
}

impl Step {
    /// The statement `sql`, the `index`th of a script of `total` (when known), starting on
    /// `line`. Its `;` is left out, as stores cut statements with or without it.
    pub fn statement(index: usize, total: Option<usize>, line: usize, sql: &str) -> Step {
        Step {
            index,
            total,
            line: Some(line),
            label: Some(label(sql.trim_end().trim_end_matches(';'))),
        }
    }
}

/// The start of `sql` on one line, at most [`LABEL_CHARS`] characters and `...` when cut. Only
/// the start is read, so a statement of megabytes costs what a short one does.
pub fn label(sql: &str) -> String {
    let sql = sql.trim_start();
    // Whitespace folds to one space, so a few times the label's length is always enough.
    let head = &sql[..sql.floor_char_boundary(LABEL_CHARS * 4)];
    let mut flat = String::with_capacity(LABEL_CHARS + 3);
    let mut chars = 0;
    let mut cut = head.len() < sql.len();
    for word in head.split_whitespace() {
        let separator = usize::from(chars > 0);
        let length = word.chars().count();
        if chars + separator + length > LABEL_CHARS {
            let room = LABEL_CHARS.saturating_sub(chars + separator);
            if room > 0 {
                flat.push_str(&" "[..separator]);
                flat.extend(word.chars().take(room));
            }
            cut = true;
            break;
        }
        flat.push_str(&" "[..separator]);
        flat.push_str(word);
        chars += separator + length;
    }
    if cut {
        let kept = flat.trim_end().len();
        flat.truncate(kept);
        flat.push_str("...");
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_line_and_cut() {
        assert_eq!(
            label("  CREATE TABLE t (\n  id INTEGER\n)"),
            "CREATE TABLE t ( id INTEGER )"
        );
        let long = format!("INSERT INTO t VALUES {}", "(1), ".repeat(100_000));
        let shown = label(&long);
        assert!(
            shown.starts_with("INSERT INTO t VALUES (1), (1),"),
            "{shown}"
        );
        assert!(shown.ends_with("..."), "{shown}");
        assert_eq!(shown.chars().count(), LABEL_CHARS + 3);
    }

    #[test]
    fn a_statement_step_leaves_out_the_semicolon() {
        let step = Step::statement(2, None, 3, "DROP TABLE t;\n");
        assert_eq!(step.label.as_deref(), Some("DROP TABLE t"));
    }

    #[test]
    fn a_statement_cut_in_its_whitespace_says_so() {
        let sql = format!("SELECT 1{}, 2", " ".repeat(LABEL_CHARS * 5));
        assert_eq!(label(&sql), "SELECT 1...");
    }
}
