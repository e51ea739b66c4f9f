//! Where a setting came from (a flag, the environment, `.env`, the config file), so a message
//! about a bad value can say where to fix it. A leaf: configuration records origins, errors
//! name them, and neither has to import the other for it.

use std::fmt;
use std::path::PathBuf;

/// Where a database URL came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlOrigin {
    /// `--url`.
    Flag,
    /// The `DATABASE_URL` variable.
    Env(VarSource),
    /// `url` in the config file.
    File(PathBuf),
    /// The `GODWIT_DEV_URL` variable.
    DevEnv(VarSource),
    /// `dev_url` in the config file.
    DevFile(PathBuf),
    /// A `--from` or `--to` source of `godwit diff`.
    DiffSource,
}

impl fmt::Display for UrlOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlOrigin::Flag => f.write_str("from --url"),
            UrlOrigin::Env(source) => write!(f, "from DATABASE_URL{source}"),
            UrlOrigin::File(path) => write!(f, "from `url` in {}", path.display()),
            UrlOrigin::DevEnv(source) => write!(f, "from GODWIT_DEV_URL{source}"),
            UrlOrigin::DevFile(path) => write!(f, "from `dev_url` in {}", path.display()),
            UrlOrigin::DiffSource => f.write_str("from --from/--to"),
        }
    }
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarSource {
    /// The process's environment.
    Process,
    /// A `.env` file.
    DotEnv(PathBuf),
}

impl fmt::Display for VarSource {
    /// Nothing for the environment, ` in .env` for the file, to follow a variable's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarSource::Process => Ok(()),
            VarSource::DotEnv(path) => write!(f, " in {}", path.display()),
        }
    }
}
