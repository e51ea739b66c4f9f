//! The examples run as tests, so what they show keeps working.

// The example's `main` is its own; here only `run` is called.
#[allow(dead_code)]
#[path = "../examples/operations.rs"]
mod operations;

#[tokio::test]
async fn the_operations_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    operations::run(&dir.path().join("app.db")).await.unwrap();
}
