//! Loading plugins: the refusals, each before any call with a message that says what is wrong,
//! and a plugin that panics, whose panics become errors while the host goes on. The fixtures
//! are workspace crates (`plugin/fixtures/`), built by cargo when the test starts.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use godwit_core::dialect::RenderOptions;
use godwit_core::{Backend, ConnectOptions, Location, StoreError};
use godwit_plugin::abi::ABI_VERSION;
use godwit_plugin::host::{LoadError, PluginBackend, load};

/// The fixture library `name` (`wrong-abi`), built once per test binary into a folder kept
/// for its life (libraries are never unloaded, so their files must stay).
fn fixture(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temp dir").keep());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, path)) = built.iter().find(|(built, _)| built == name) {
        return path.clone();
    }
    let package = format!("godwit-plugin-fixture-{name}");
    let path = godwit_tests::plugins::build(&package, &[], dir);
    built.push((name.to_string(), path.clone()));
    path
}

fn refusal(path: &Path) -> LoadError {
    match load(path) {
        Ok(plugin) => panic!("{} was loaded: {:?}", path.display(), plugin.info()),
        Err(error) => error,
    }
}

#[test]
fn a_plugin_of_another_abi_version_is_refused_naming_both() {
    let path = fixture("wrong-abi");
    let error = refusal(&path);
    assert_eq!(
        error,
        LoadError::AbiMismatch {
            path: path.clone(),
            plugin: ABI_VERSION + 1,
            host: ABI_VERSION,
        }
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("ABI version {}", ABI_VERSION + 1))
            && message.contains(&format!("ABI version {ABI_VERSION}"))
            && message.contains(&path.display().to_string()),
        "{message}"
    );
}

#[test]
fn a_library_without_the_entry_symbol_is_no_plugin() {
    let path = fixture("no-entry");
    let error = refusal(&path);
    assert_eq!(error, LoadError::NoEntry { path: path.clone() });
    assert!(
        error
            .to_string()
            .contains("exports no `godwit_plugin_entry` symbol"),
        "{error}"
    );
}

#[test]
fn a_file_that_is_no_library_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(format!("notes{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&path, "plugins = [\"mysql\"]\n").unwrap();
    let error = refusal(&path);
    assert!(matches!(error, LoadError::NotALibrary { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot load {} as a library (", path.display())),
        "{error}"
    );
}

/// Cut short anywhere, a library is refused before the system loader maps it: the loader
/// would map segments past the end of the file and crash the process when they are read.
#[test]
fn a_truncated_library_is_refused() {
    let whole = std::fs::read(fixture("panics")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for len in [whole.len() - 1, whole.len() / 3, 4096, 100] {
        let path = dir
            .path()
            .join(format!("truncated-{len}{}", std::env::consts::DLL_SUFFIX));
        std::fs::write(&path, &whole[..len]).unwrap();
        let error = refusal(&path);
        if cfg!(target_os = "linux") && len > 64 {
            assert!(
                matches!(&error, LoadError::Truncated { size, .. } if *size == len as u64),
                "{len} bytes: {error:?}"
            );
            assert!(error.to_string().contains("is cut short"), "{error}");
        }
    }
}

#[test]
fn a_missing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libgodwit_nothing.so");
    assert!(matches!(refusal(&path), LoadError::NotALibrary { .. }));
}

fn panics() -> PluginBackend {
    load(&fixture("panics")).expect("the panicking fixture loads")
}

#[test]
fn a_loaded_plugin_says_what_it_is() {
    let plugin = panics();
    let info = plugin.info();
    assert_eq!(
        (
            info.name.as_str(),
            info.dialect.as_str(),
            info.schemes.as_slice()
        ),
        (
            "godwit-plugin-fixture-panics",
            "panics",
            &["panics".to_string()][..]
        )
    );
    assert_eq!(info.abi_version, ABI_VERSION);
    assert_eq!(plugin.name(), "panics");
    assert_eq!(plugin.schemes(), ["panics"]);
    assert_eq!(plugin.dialect().placeholder(3), "?");
    assert_eq!(plugin.locate("panics:").unwrap(), Location::Memory);
}

#[tokio::test]
async fn a_panic_in_a_store_call_is_an_error_and_the_plugin_goes_on() {
    let plugin = panics();
    let mut store = plugin
        .open("panics:", &Location::Memory, &ConnectOptions::default())
        .await
        .unwrap();
    let error = store.execute_script("SELECT 1").await.unwrap_err();
    let StoreError::Other(message) = &error else {
        panic!("not the boundary's error: {error:?}");
    };
    assert!(
        message.contains("the plugin godwit-plugin-fixture-panics")
            && message.contains("panicked: execute_script was given SELECT 1 in execute_script"),
        "{message}"
    );
    // The store, and the plugin, still answer.
    assert_eq!(
        store.query("SELECT 1", &[]).await.unwrap(),
        vec![vec![godwit_core::Value::Int(1)]]
    );
}

#[test]
fn a_panic_in_a_fallible_dialect_call_is_an_error() {
    let plugin = panics();
    let error = plugin
        .dialect()
        .render(&[], &RenderOptions::default())
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("panicked: render always panics in render"),
        "{error}"
    );
    assert_eq!(plugin.dialect().placeholder(1), "?");
}

#[test]
fn a_panic_in_an_infallible_dialect_call_unwinds_in_the_host_with_its_message() {
    let plugin = panics();
    let caught = std::panic::catch_unwind(|| plugin.dialect().quote_identifier("users"))
        .expect_err("a panic of the plugin's quote_identifier reaches the host as a panic");
    let message = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("panicked: quote_identifier was asked to quote users"),
        "{message}"
    );
    // The host is still here, and so is the plugin.
    assert_eq!(plugin.dialect().placeholder(2), "?");
}
