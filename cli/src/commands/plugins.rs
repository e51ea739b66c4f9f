//! `godwit plugins`: the plugins this run found, loaded or refused, and where it looked.

use serde::Serialize;

use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};
use crate::plugins::{self, Loaded, Refused, Searched};

/// The JSON document.
#[derive(Serialize)]
struct Document<'a> {
    plugins: &'a [Loaded],
    refused: &'a [Refused],
    searched: &'a Searched,
}

/// List the plugins. The configuration was read, which loaded them.
pub(super) fn run(_config: &Config, output: Output) -> Result<(), CliError> {
    let found = plugins::found();
    match output.format() {
        Format::Json => output.json(&Document {
            plugins: &found.loaded,
            refused: &found.refused,
            searched: &found.searched,
        }),
        Format::Human => {
            let mut text = String::new();
            for plugin in &found.loaded {
                let info = &plugin.info;
                text.push_str(&format!(
                    "{} {}: dialect {}, ABI {}, schemes {}, {} (from {})\n",
                    info.name,
                    info.version,
                    info.dialect,
                    info.abi_version,
                    info.schemes.join(", "),
                    info.path.display(),
                    plugin.source
                ));
            }
            for refused in &found.refused {
                text.push_str(&format!(
                    "refused {} (from {}): {}\n",
                    refused.path.display(),
                    refused.source,
                    refused.reason
                ));
            }
            if found.loaded.is_empty() && found.refused.is_empty() {
                text.push_str("no plugin found\n");
            }
            text.push_str(&plugins::searched_sentence());
            text.push('\n');
            output.data(&text)
        }
    }
}
