//! # godwit-macros
//!
//! Compile-time support for programs that carry their migrations inside the binary. Use it
//! through the `godwit` crate, which re-exports [`embed_migrations!`].

use std::path::{Path, PathBuf};

use godwit_core::{Migration, Migrations};
use proc_macro::TokenStream;
use quote::quote;
use syn::{LitStr, parse_macro_input};

/// Embed a folder of migrations in the program.
///
/// `embed_migrations!("migrations")` reads `<crate root>/migrations` (SQL files and `.toml`
/// operations files) at compile time with the
/// loader `godwit migrate` uses, so a file the CLI would refuse (a bad name, a duplicate
/// version, a down script without its up, an unknown directive, text that is not UTF-8) fails
/// the build with the CLI's message naming the file. It expands to a
/// `&'static [godwit::EmbeddedMigration]`, in version order, whose scripts are the files'
/// contents through `include_str!`; [`godwit::Migrations::from_embedded`] turns it into the
/// migrations the migrator runs, with the same checksums the CLI records for those files.
///
/// Editing an embedded file rebuilds the program. Adding or removing a file is not seen by the
/// compiler until something else changes; a build script with
/// `println!("cargo:rerun-if-changed=migrations");` makes it so.
///
/// [`godwit::Migrations::from_embedded`]: https://docs.rs/godwit-core/latest/godwit_core/migration/struct.Migrations.html#method.from_embedded
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let literal = parse_macro_input!(input as LitStr);
    match expand(&literal.value()) {
        Ok(tokens) => tokens.into(),
        Err(message) => syn::Error::new(literal.span(), message)
            .to_compile_error()
            .into(),
    }
}

fn expand(folder: &str) -> Result<proc_macro2::TokenStream, String> {
    // Cargo sets this for every crate it compiles; relative paths are relative to the crate
    // root, as `include_str!` paths in a crate's own files are not.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or("CARGO_MANIFEST_DIR is not set: embed_migrations! must be compiled by cargo")?;
    let dir = root.join(folder);
    let migrations = Migrations::from_dir(&dir).map_err(|error| {
        format!(
            "cannot embed the migrations in `{}`: {error}",
            dir.display()
        )
    })?;
    let entries = migrations
        .iter()
        .map(entry)
        .collect::<Result<Vec<_>, String>>()?;
    Ok(quote! {
        {
            const MIGRATIONS: &[::godwit::EmbeddedMigration] = &[#(#entries),*];
            MIGRATIONS
        }
    })
}

fn entry(migration: &Migration) -> Result<proc_macro2::TokenStream, String> {
    let version = migration.version.get();
    let name = &migration.name;
    let up = include(migration.up.path.as_deref())?;
    let operations = migration.operations.is_some();
    let down = match &migration.down {
        Some(script) => {
            let text = include(script.path.as_deref())?;
            quote!(::core::option::Option::Some(#text))
        }
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        ::godwit::EmbeddedMigration {
            version: #version,
            name: #name,
            up: #up,
            down: #down,
            operations: #operations,
        }
    })
}

/// `include_str!` of a script's file, by absolute path: the compiler then rebuilds the
/// program when the file changes, and the text embedded is the file's, byte for byte.
fn include(path: Option<&Path>) -> Result<proc_macro2::TokenStream, String> {
    let path = path.ok_or("a migration loaded from a folder has no file; this is a bug")?;
    let text = path
        .to_str()
        .ok_or_else(|| format!("`{}` is not a UTF-8 path", path.display()))?;
    Ok(quote!(::core::include_str!(#text)))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::expand;

    /// A folder in a temporary directory, named by absolute path (which `join` keeps as is).
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, sql) in files {
            fs::write(dir.path().join(name), sql).unwrap();
        }
        dir
    }

    fn expand_folder(dir: &tempfile::TempDir) -> Result<String, String> {
        expand(dir.path().to_str().unwrap()).map(|tokens| tokens.to_string())
    }

    #[test]
    fn a_folder_becomes_includes_in_version_order() {
        let dir = folder(&[
            ("20240215093000_touch.up.sql", "SELECT 2;"),
            (
                "20240101120000_create.up.sql",
                "CREATE TABLE t (id INTEGER);",
            ),
            ("20240101120000_create.down.sql", "DROP TABLE t;"),
        ]);
        let tokens = expand_folder(&dir).unwrap();
        let first = tokens.find("20240101120000i64").expect("first version");
        let second = tokens.find("20240215093000i64").expect("second version");
        assert!(first < second, "{tokens}");
        let down = dir.path().join("20240101120000_create.down.sql");
        assert!(
            tokens.contains(&format!("{:?}", down.to_str().unwrap())),
            "{tokens}"
        );
        assert!(
            tokens.contains("None"),
            "the second migration has no down script: {tokens}"
        );
    }

    #[test]
    fn an_operations_file_is_embedded_as_one() {
        let dir = folder(&[(
            "3_avatar.toml",
            "[[op]]\nkind = \"add_column\"\ntable = \"users\"\ncolumn = { name = \"a\", type = \"text\" }\n",
        )]);
        let tokens = expand_folder(&dir).unwrap();
        assert!(tokens.contains("operations : true"), "{tokens}");
        assert!(tokens.contains("3_avatar.toml"), "{tokens}");
        // An operations file the loader refuses fails the build too.
        let dir = folder(&[("3_avatar.toml", "[[op]]\nkind = \"paint_it_blue\"\n")]);
        let error = expand_folder(&dir).unwrap_err();
        assert!(error.contains("3_avatar.toml"), "{error}");
    }

    #[test]
    fn a_file_the_cli_refuses_fails_the_build_naming_it() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("create_users.up.sql", "SELECT 1;")],
                "create_users.up.sql",
            ),
            (
                &[("20240101120000_a.down.sql", "SELECT 1;")],
                "20240101120000_a.down.sql",
            ),
            (
                &[(
                    "20240101120000_a.up.sql",
                    "-- godwit:no-transation\nSELECT 1;",
                )],
                "no-transation",
            ),
        ];
        for (files, named) in cases {
            let dir = folder(files);
            let error = expand_folder(&dir).expect_err("the folder is refused");
            assert!(error.contains(named), "{error} should name {named}");
        }
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("migrations");
        let error = expand(missing.to_str().unwrap()).unwrap_err();
        assert!(error.contains(missing.to_str().unwrap()), "{error}");
    }
}
