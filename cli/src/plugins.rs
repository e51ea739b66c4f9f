//! Plugins: the dialects this run loads as libraries, beside those compiled in. They are found
//! once, when the configuration is read (`plugins = [...]` in the config file, the folders of
//! `GODWIT_PLUGIN_PATH`, and the default folder), and every lookup of a backend by URL or by
//! name goes through [`registry`], so a plugin serves every command a compiled-in dialect does.
//! With the `plugins` feature off, nothing is searched and the registry is the compiled one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use godwit::ConnectError;
use godwit_core::url::UrlError;
use godwit_core::{Backend, Location, Registry};
use serde::Serialize;

/// What this run found.
#[derive(Debug, Default)]
pub(crate) struct Plugins {
    /// The plugins loaded.
    pub loaded: Vec<Loaded>,
    /// The files and names refused, and why.
    pub refused: Vec<Refused>,
    /// Where plugins were looked for.
    pub searched: Searched,
    #[cfg(feature = "plugins")]
    backends: Vec<godwit_plugin::host::PluginBackend>,
}

/// A plugin loaded.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Loaded {
    /// What it says of itself.
    #[serde(flatten)]
    pub info: PluginInfo,
    /// Where it was found: `config`, `env` or `default`.
    pub source: &'static str,
}

/// What `godwit plugins` shows of a loaded plugin.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PluginInfo {
    pub name: String,
    pub version: String,
    pub abi_version: u32,
    pub dialect: String,
    pub schemes: Vec<String>,
    pub path: PathBuf,
}

/// A plugin refused.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Refused {
    /// The file, or the name that was not found.
    pub path: PathBuf,
    /// Where it was found.
    pub source: &'static str,
    /// Why it was refused.
    pub reason: String,
}

/// Where plugins were looked for.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Searched {
    /// The config file's `plugins` entries.
    pub config: Vec<String>,
    /// The folders of `GODWIT_PLUGIN_PATH`.
    pub env: Vec<PathBuf>,
    /// The default folder.
    pub default: Option<PathBuf>,
    /// Whether this godwit can load plugins at all (its `plugins` feature).
    pub supported: bool,
}

static PLUGINS: OnceLock<Plugins> = OnceLock::new();

/// Find and load the plugins: the config file's `entries` (relative to `base`, its folder)
/// and those in the folders of `env_path` (`GODWIT_PLUGIN_PATH`) and the default folder.
/// Once per run; a refused plugin is a warning, and names itself in `godwit plugins` and in
/// the error of a URL nobody serves.
#[cfg_attr(
    not(feature = "plugins"),
    allow(unused_variables, reason = "nothing is loaded without the feature")
)]
pub(crate) fn load(entries: &[String], base: &Path, env_path: Option<&str>) {
    PLUGINS.get_or_init(|| {
        #[cfg(feature = "plugins")]
        {
            use godwit_plugin::host::search::{SearchPath, Source};
            let search = SearchPath::new(entries, base, env_path.map(std::ffi::OsStr::new));
            let mut plugins = Plugins {
                searched: Searched {
                    config: entries.to_vec(),
                    env: search.env_dirs.clone(),
                    default: search.default_dir.clone(),
                    supported: true,
                },
                ..Plugins::default()
            };
            for found in search.load() {
                let source = match found.source {
                    Source::Config => "config",
                    Source::Env => "env",
                    _ => "default",
                };
                match found.result {
                    Ok(backend) => {
                        let info = backend.info();
                        tracing::debug!(plugin = %info.name, path = %info.path.display(), "loaded a plugin");
                        plugins.loaded.push(Loaded {
                            info: PluginInfo {
                                name: info.name.clone(),
                                version: info.version.clone(),
                                abi_version: info.abi_version,
                                dialect: info.dialect.clone(),
                                schemes: info.schemes.clone(),
                                path: info.path.clone(),
                            },
                            source,
                        });
                        plugins.backends.push(backend);
                    }
                    Err(error) => {
                        tracing::warn!("{error}");
                        plugins.refused.push(Refused {
                            path: found.path,
                            source,
                            reason: error.to_string(),
                        });
                    }
                }
            }
            plugins
        }
        #[cfg(not(feature = "plugins"))]
        Plugins::default()
    });
}

/// What this run found (nothing, before the configuration is read).
pub(crate) fn found() -> &'static Plugins {
    PLUGINS.get_or_init(Plugins::default)
}

/// The backends of this run: those compiled in, then the plugins loaded. A plugin serving a
/// scheme a compiled-in dialect serves is shadowed by it.
pub(crate) fn registry() -> Registry {
    #[cfg_attr(
        not(feature = "plugins"),
        allow(unused_mut, reason = "nothing is added without the feature")
    )]
    let mut registry = godwit::registry();
    #[cfg(feature = "plugins")]
    for backend in &found().backends {
        registry.add(Arc::new(*backend));
    }
    registry
}

/// The backend serving `url`'s scheme, compiled in or a plugin, and what the URL points at.
/// A scheme nobody serves is a backend left out of this build when the facade knows it, else a
/// URL godwit does not know, listing the forms of every backend this run has.
pub(crate) fn locate(url: &str) -> Result<(Arc<dyn Backend>, Location), ConnectError> {
    match registry().locate(url) {
        Ok(found) => Ok(found),
        Err(unknown @ UrlError::UnknownScheme { .. }) => match godwit::locate(url) {
            Err(missing @ ConnectError::BackendMissing { .. }) => Err(missing),
            _ => Err(ConnectError::Url(unknown)),
        },
        Err(error) => Err(ConnectError::Url(error)),
    }
}

/// Which plugins were searched, for the message about a URL nobody serves.
pub(crate) fn searched_sentence() -> String {
    let plugins = found();
    if !plugins.searched.supported {
        return "this godwit was built without the `plugins` feature, so it loads no plugin"
            .to_string();
    }
    let mut places = Vec::new();
    if !plugins.searched.config.is_empty() {
        places.push(format!(
            "`plugins` in the config file ({})",
            plugins.searched.config.join(", ")
        ));
    }
    let env: Vec<String> = plugins
        .searched
        .env
        .iter()
        .map(|dir| dir.display().to_string())
        .collect();
    places.push(if env.is_empty() {
        "GODWIT_PLUGIN_PATH (unset)".to_string()
    } else {
        format!("GODWIT_PLUGIN_PATH ({})", env.join(", "))
    });
    if let Some(dir) = &plugins.searched.default {
        places.push(dir.display().to_string());
    }
    let mut sentence = format!("plugins searched: {}", places.join(", "));
    if plugins.loaded.is_empty() {
        sentence.push_str("; none was loaded");
    } else {
        let loaded: Vec<String> = plugins
            .loaded
            .iter()
            .map(|plugin| {
                format!(
                    "{} {} (serves {})",
                    plugin.info.name,
                    plugin.info.version,
                    plugin.info.schemes.join(", ")
                )
            })
            .collect();
        sentence.push_str(&format!("; loaded {}", loaded.join(", ")));
    }
    for refused in &plugins.refused {
        sentence.push_str(&format!(
            "; refused {}: {}",
            refused.path.display(),
            refused.reason
        ));
    }
    sentence
}
