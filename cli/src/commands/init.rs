//! `godwit init`: a commented config file and a migrations directory.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::config::ConfigPath;
use crate::error::CliError;
use crate::output::{Format, Output};

const TEMPLATE: &str = r#"# godwit configuration. Every key is optional. The --url flag and the DATABASE_URL
# environment variable take precedence over `url`; --lock-timeout over `lock_timeout`.

# The database to migrate. A relative SQLite path here is relative to this file
# (in --url and DATABASE_URL, to the working directory). Examples:
#   url = "sqlite:godwit.db"                       # a SQLite file
#   url = "sqlite:///var/lib/app/app.db"           # a SQLite file, absolute path
#   url = "sqlite::memory:"                        # a throwaway in-memory database
#   url = "postgres://app@localhost:5432/app"      # PostgreSQL
# Keep passwords out of this file: put a URL with a password in DATABASE_URL instead
# (the environment, or a .env file in the working directory), or name a variable in
# any value: url = "postgres://app:${DB_PASSWORD}@localhost/app", or with a default,
# "${DB_HOST:-localhost}".
url = "sqlite:godwit.db"

# The directory of migration files, relative to this file. Each migration is a
# <version>_<name>.up.sql file and an optional <version>_<name>.down.sql file;
# `godwit new NAME` creates both.
migrations = "migrations"

# The table recording every migration run. godwit also creates <name>_meta, and on
# SQLite <name>_lock.
history_table = "godwit_migrations"

# PostgreSQL only: the schema holding the history table, also put first on the
# search_path so unqualified names in migrations land there. Default: the
# connection's default schema.
# schema = "app"

# How long `migrate`, `rollback` and `repair` wait for another run's migration lock,
# for example "30s", "2m" or "1h", at most "7days".
lock_timeout = "60s"

# PostgreSQL only: the application_name the connection reports in pg_stat_activity.
# application_name = "godwit"

# The desired schema of the declarative commands (push, generate, diff): a .sql
# file, or a folder whose .sql files run in name order; relative to this file.
# --schema PATH overrides it. (Not to be confused with `schema` above, the
# PostgreSQL schema of the history table.)
# schema_file = "schema.sql"

# A database on which godwit may create and drop scratch databases, used by push,
# generate, diff, check and verify to normalise schemas. Default: the target's own
# server (SQLite: in memory). Useful when the target's user may not CREATE DATABASE.
# The GODWIT_DEV_URL environment variable overrides it.
# dev_url = "postgres://dev@localhost:5432/postgres"

# Dialects to load from dynamic libraries (plugins): a path, relative to this file, or
# a name looked up in the folders of GODWIT_PLUGIN_PATH and godwit/plugins in your
# data folder, whose libraries are loaded too. `godwit plugins` lists them.
# plugins = ["plugins/libgodwit_mysql.so"]

# Back the database up before `migrate` runs pending migrations (--backup, --no-backup):
# SQLite through its online backup API to <file>.<UTC time>.backup beside the database,
# PostgreSQL with pg_dump (which must be on PATH) to <database>.<UTC time>.dump in the
# working directory. `godwit restore FILE` puts a SQLite backup back.
# backup = false

# Where backups go instead, relative to this file; created when missing. --backup-dir
# overrides it.
# backup_dir = "backups"

# PostgreSQL: the roles whose privileges push, generate, diff and check change. Their
# GRANTs in the schema are granted, and what they hold beyond it is revoked (a revoke is a
# drop: --skip-drops keeps it). Every other role keeps what it holds, and its GRANTs in the
# schema are named and left alone. PUBLIC stands for every role. Default: none.
# managed_roles = ["app_user", "PUBLIC"]

# PostgreSQL: roles by pattern (a regular expression that matches the whole name), tried
# before managed_roles; the first rule that matches decides. Without `drop = true` the
# matched roles get grants and are never revoked from, not even without --skip-drops.
# The owner a schema sets (ALTER TABLE ... OWNER TO role) is given only to managed roles.
# [manage]
# privilege = [{ target = "app_.*", drop = true }, { target = "analyst_.*" }]

# The lint that checks migrations before `migrate` applies them (and `godwit lint`):
# rules listed here never run. `godwit lint --list` lists the rules.
# [lint]
# disabled = ["rename"]
"#;

#[derive(Serialize)]
struct Created<'a> {
    config: &'a Path,
    migrations: &'a Path,
}

/// Write the config file at `config_path` and create the migrations directory beside it.
pub(super) fn run(config_path: &ConfigPath, output: Output) -> Result<(), CliError> {
    let path = config_path.path();
    let exists = |path: &Path| CliError::ConfigExists {
        path: path.to_path_buf(),
    };
    if path.exists() {
        return Err(exists(path));
    }
    let migrations = config_path.dir().join("migrations");
    let existed = migrations.is_dir();
    fs::create_dir_all(&migrations).map_err(|source| CliError::Create {
        path: migrations.clone(),
        source,
    })?;
    fs::File::create_new(path)
        .and_then(|mut file| file.write_all(TEMPLATE.as_bytes()))
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => exists(path),
            _ => CliError::Create {
                path: path.to_path_buf(),
                source,
            },
        })?;

    match output.format() {
        Format::Human => {
            output.summary(&format!("created {}", path.display()))?;
            if existed {
                output.summary(&format!("using the existing {}", migrations.display()))?;
            } else {
                output.summary(&format!("created {}", migrations.display()))?;
            }
            // The template sets `url` to a SQLite file beside it, so the project works as
            // it is; another database is a change of that line.
            output.summary(&format!(
                "next: run `godwit new NAME` to write the first migration; it applies to \
                 sqlite:godwit.db until you change `url` in {}",
                path.display()
            ))
        }
        Format::Json => output.json(&Created {
            config: path,
            migrations: &migrations,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::TEMPLATE;

    #[test]
    fn the_template_is_valid_toml_with_defaults_spelled_out() {
        let value: toml::Table = toml::from_str(TEMPLATE).unwrap();
        assert_eq!(value["url"].as_str(), Some("sqlite:godwit.db"));
        assert_eq!(value["migrations"].as_str(), Some("migrations"));
        assert_eq!(value["history_table"].as_str(), Some("godwit_migrations"));
        assert_eq!(value["lock_timeout"].as_str(), Some("60s"));
    }
}
