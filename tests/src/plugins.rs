//! Plugin libraries for tests: built by cargo from the workspace when a test asks, so a test
//! of a plugin never runs against a stale library and never finds one missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Build the `cdylib` of workspace package `package` with `features` (as cargo's debug
/// profile, into the target folder of the running test), copy it into `into`, and return the
/// copy's path. The copy keeps the library the test loads apart from the next build of the
/// same package with other features, which rewrites the file in the target folder.
///
/// Panics, with cargo's output, when the build fails.
pub fn build(package: &str, features: &[&str], into: &Path) -> PathBuf {
    // One build at a time in a test binary; cargo's own lock serialises test binaries.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _building = BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--message-format=json-render-diagnostics",
        "-p",
        package,
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    if let Some(target) = target_dir() {
        command.arg("--target-dir").arg(target);
    }
    let output = command.output().expect("run cargo to build a plugin");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "building the plugin {package} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A library target is named after its package, with `_` for `-`.
    let built = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "cdylib"))
                && message["target"]["name"] == package.replace('-', "_").as_str()
        })
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .find(|name| {
            name.to_str()
                .is_some_and(|name| name.ends_with(std::env::consts::DLL_SUFFIX))
        })
        .unwrap_or_else(|| panic!("cargo built no dynamic library of {package}:\n{stdout}"));
    let copy = into.join(built.file_name().expect("a library has a file name"));
    std::fs::copy(&built, &copy).expect("copy the plugin library");
    copy
}

/// The target folder of the running test binary (`target/debug/deps/<test>` is three
/// levels below it), so the plugin reuses what the test's own build compiled.
fn target_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(Path::to_path_buf))?
}
