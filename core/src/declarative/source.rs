//! The desired schema's SQL as read from a file or a folder of files.

use std::path::{Path, PathBuf};

use super::{DeclarativeError, merge_renames};
use crate::declarative::hints::rename_hints;
use crate::diff::Renames;

/// The desired schema's SQL: one file, or the `.sql` files of a folder in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaSource {
    /// Each file's path and text, in the order they run.
    pub files: Vec<(PathBuf, String)>,
}

impl SchemaSource {
    /// Read `path`: a file, or a folder whose `.sql` files (not those of its sub-folders) are
    /// read in name order.
    pub fn load(path: &Path) -> Result<Self, DeclarativeError> {
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DeclarativeError::Read { path, source }
        };
        let metadata = std::fs::metadata(path).map_err(read_error(path))?;
        let paths = if metadata.is_dir() {
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(path).map_err(read_error(path))? {
                let entry = entry.map_err(read_error(path))?;
                let file = entry.path();
                let is_sql = file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if is_sql && !hidden && entry.file_type().map_err(read_error(&file))?.is_file() {
                    paths.push(file);
                }
            }
            if paths.is_empty() {
                return Err(DeclarativeError::NoSqlFiles {
                    path: path.to_path_buf(),
                });
            }
            paths.sort();
            paths
        } else {
            vec![path.to_path_buf()]
        };
        let mut files = Vec::with_capacity(paths.len());
        for file in paths {
            let bytes = std::fs::read(&file).map_err(read_error(&file))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| DeclarativeError::NotUtf8 { path: file.clone() })?;
            if let Some(line) = crate::migration::nul_line(&text) {
                return Err(DeclarativeError::NulByte { path: file, line });
            }
            files.push((file, text));
        }
        Ok(SchemaSource { files })
    }

    /// Whether no file holds a statement (only blanks and comments): a desired schema with
    /// nothing in it, which more often means a file that was cut short than a wish to drop
    /// everything.
    pub fn holds_no_statements(&self) -> bool {
        self.files.iter().all(|(_, sql)| {
            crate::declarative::hints::statements(sql).is_some_and(|s| s.is_empty())
        })
    }

    /// The rename hints of every file ([`super::hints`]), together.
    pub fn rename_hints(&self) -> Result<Renames, DeclarativeError> {
        let mut renames = Renames::default();
        for (file, sql) in &self.files {
            let found = rename_hints(sql).map_err(|error| DeclarativeError::Hint {
                file: file.clone(),
                error,
            })?;
            merge_renames(&mut renames, found);
        }
        Ok(renames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_read_in_name_order_without_sub_folders_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("20_posts.sql"),
            "CREATE TABLE posts (id int);",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("10_users.sql"),
            "CREATE TABLE users (id int);",
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "not sql").unwrap();
        std::fs::write(dir.path().join(".10_swap.sql"), "editor backup").unwrap();
        std::fs::create_dir(dir.path().join("old.sql")).unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        std::fs::write(
            dir.path().join("nested/05_x.sql"),
            "CREATE TABLE x (id int);",
        )
        .unwrap();
        let source = SchemaSource::load(dir.path()).unwrap();
        let names: Vec<String> = source
            .files
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["10_users.sql", "20_posts.sql"]);
        assert_eq!(source.files[0].1, "CREATE TABLE users (id int);");
    }

    #[test]
    fn a_single_file_is_read_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema.sql");
        std::fs::write(&file, "CREATE TABLE t (id int);").unwrap();
        assert_eq!(SchemaSource::load(&file).unwrap().files.len(), 1);

        let missing = dir.path().join("nope.sql");
        let error = SchemaSource::load(&missing).unwrap_err().to_string();
        assert!(error.contains("nope.sql"), "{error}");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let error = SchemaSource::load(&empty).unwrap_err();
        assert!(
            matches!(error, DeclarativeError::NoSqlFiles { .. }),
            "{error}"
        );

        std::fs::write(dir.path().join("latin1.sql"), b"-- caf\xe9\n").unwrap();
        let error = SchemaSource::load(&dir.path().join("latin1.sql")).unwrap_err();
        assert!(matches!(error, DeclarativeError::NotUtf8 { .. }), "{error}");

        // In a folder too: the file and the line of the NUL are named.
        let nul = dir.path().join("nul");
        std::fs::create_dir(&nul).unwrap();
        std::fs::write(nul.join("a.sql"), "CREATE TABLE a (x int);\n").unwrap();
        std::fs::write(
            nul.join("b.sql"),
            "CREATE TABLE b (x int);\n\0\nCREATE TABLE c (x int);\n",
        )
        .unwrap();
        let error = SchemaSource::load(&nul).unwrap_err();
        assert!(
            matches!(&error, DeclarativeError::NulByte { path, line: 2 } if path.ends_with("b.sql")),
            "{error}"
        );
    }

    #[test]
    fn hint_errors_name_the_file_and_line() {
        let source = SchemaSource {
            files: vec![
                ("a.sql".into(), "CREATE TABLE a (id int);".into()),
                (
                    "b.sql".into(),
                    "CREATE TABLE b (id int);\n-- godwit:renamed-from x\n".into(),
                ),
            ],
        };
        let error = source.rename_hints().unwrap_err().to_string();
        assert!(error.starts_with("b.sql:2: "), "{error}");
    }
}
