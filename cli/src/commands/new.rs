//! `godwit new NAME`: the files of a new migration.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use godwit_core::migration::{next_version, slugify};
use godwit_core::operation::Operations;
use godwit_core::{Migrations, Version};
use serde::Serialize;

use crate::args::NewArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};

#[derive(Serialize)]
struct Created {
    version: godwit_core::Version,
    up: PathBuf,
    down: Option<PathBuf>,
}

/// Create `<version>_<slug>.up.sql` (and `.down.sql` unless `--no-down`), or with `--ops`
/// `<version>_<slug>.toml`, an operations file.
pub(super) fn run(config: &Config, args: &NewArgs, output: Output) -> Result<(), CliError> {
    let slug = slugify(&args.name);
    if slug.is_empty() {
        return Err(CliError::BadMigrationName {
            name: args.name.clone(),
        });
    }
    let dir = &config.migrations;
    // Reading the existing files keeps versions increasing and reports a broken directory
    // now rather than at the next `migrate`.
    let latest = if dir.exists() {
        Migrations::from_dir(dir)?.latest()
    } else {
        None
    };
    let version =
        next_version(SystemTime::now(), latest).ok_or_else(|| CliError::NoVersionLeft {
            latest: latest.map_or(i64::MAX, Version::get),
        })?;
    fs::create_dir_all(dir).map_err(|source| CliError::Create {
        path: dir.clone(),
        source,
    })?;

    let stem = format!("{version}_{slug}");
    if args.ops {
        let up = dir.join(format!("{stem}.toml"));
        create(
            &up,
            &format!(
                "# Migration {version} {slug}: {name}\n#\n{template}",
                name = args.name.trim(),
                template = Operations::TEMPLATE
            ),
        )?;
        return report(version, up, None, output);
    }
    let up = dir.join(format!("{stem}.up.sql"));
    create(
        &up,
        &format!(
            "-- Migration {version} {slug}: {name}\n\
             --\n\
             -- Write the SQL that makes this change. `godwit migrate` runs it once, in a\n\
             -- transaction. For statements that cannot run in one (CREATE INDEX\n\
             -- CONCURRENTLY, VACUUM), start the file with the line `-- godwit:no-transaction`.\n\
             -- Once it is applied, leave this file alone and write a new migration instead.\n\n",
            name = args.name.trim()
        ),
    )?;
    let down = if args.no_down {
        None
    } else {
        let down = dir.join(format!("{stem}.down.sql"));
        create(
            &down,
            &format!(
                "-- Revert migration {version} {slug}.\n\
                 --\n\
                 -- Write the SQL that undoes the .up.sql file. `godwit rollback` runs it.\n\
                 -- godwit records this script when the migration is applied, so a rollback\n\
                 -- does not depend on the file still being here.\n\n"
            ),
        )?;
        Some(down)
    };

    report(version, up, down, output)
}

/// Say which files were created.
fn report(
    version: Version,
    up: PathBuf,
    down: Option<PathBuf>,
    output: Output,
) -> Result<(), CliError> {
    match output.format() {
        Format::Human => {
            let mut text = format!("created {}\n", up.display());
            if let Some(down) = &down {
                text.push_str(&format!("created {}\n", down.display()));
            }
            output.data(&text)
        }
        Format::Json => output.json(&Created { version, up, down }),
    }
}

/// Write a new file; never overwrite one.
pub(super) fn create(path: &Path, contents: &str) -> Result<(), CliError> {
    fs::File::create_new(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|source| CliError::Create {
            path: path.to_path_buf(),
            source,
        })
}
