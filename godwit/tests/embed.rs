//! `embed_migrations!` through the facade: the list it compiles in is the folder the CLI reads.

use std::path::Path;

use godwit::{EmbeddedMigration, Migrations};

const EMBEDDED: &[EmbeddedMigration] = godwit::embed_migrations!("tests/migrations");

#[test]
fn embedded_migrations_are_the_folder_the_cli_reads() {
    let embedded = Migrations::from_embedded(EMBEDDED).unwrap();
    let folder =
        Migrations::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrations"))
            .unwrap();
    let summary = |migrations: &Migrations| -> Vec<_> {
        migrations
            .iter()
            .map(|m| {
                (
                    m.version,
                    m.name.clone(),
                    m.up.checksum.clone(),
                    m.up.directives.clone(),
                    m.down.as_ref().map(|d| d.checksum.clone()),
                )
            })
            .collect()
    };
    assert_eq!(summary(&embedded), summary(&folder));
    assert_eq!(embedded.len(), 2);
    assert!(
        embedded.iter().next().unwrap().up.directives.no_transaction,
        "the directive of the first file is kept"
    );
}
