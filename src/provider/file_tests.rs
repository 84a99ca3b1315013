//! The file provider against real files: in-place writes, rename-over, broken files, new
//! subdirectories, a directory created later, and forced reloads. The deadline only guards
//! against hanging; the design delivers in about half a second.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::config::static_config::FileProvider;

const DEADLINE: Duration = Duration::from_secs(5);

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let base =
            std::env::temp_dir().join(format!("tollgate-provider-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).expect("create temp dir");
        TempDir(base)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn router_file(rule: &str) -> String {
    format!("http:\n  routers:\n    r:\n      rule: \"{rule}\"\n      service: s\n")
}

async fn next(rx: &mut mpsc::Receiver<ProviderUpdate>) -> ProviderUpdate {
    match tokio::time::timeout(DEADLINE, rx.recv()).await {
        Ok(Some(update)) => update,
        Ok(None) => panic!("provider stopped"),
        Err(_) => panic!("no update within {DEADLINE:?}"),
    }
}

async fn next_ok(rx: &mut mpsc::Receiver<ProviderUpdate>) -> Loaded {
    let update = next(rx).await;
    assert_eq!(update.provider, "file");
    match update.result {
        Ok(loaded) => loaded,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn rule_of(loaded: &Loaded, name: &str) -> String {
    loaded.config.http.routers.get(name).map(|r| r.rule.clone()).unwrap_or_default()
}

fn provider(filename: Option<&Path>, directory: Option<&Path>, watch: bool) -> FileProvider {
    FileProvider {
        filename: filename.map(|p| p.display().to_string()),
        directory: directory.map(|p| p.display().to_string()),
        watch,
    }
}

#[tokio::test]
async fn file_changes_are_sent_whole_and_broken_files_as_errors() {
    let dir = TempDir::new("file");
    let file = dir.0.join("dynamic.yml");
    fs::write(&file, router_file("Host(`a`)")).expect("write");
    let (tx, mut rx) = mpsc::channel(4);
    let _handle = spawn_file_provider(&provider(Some(&file), None, true), tx);
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`a`)");

    // An in-place write.
    fs::write(&file, router_file("Host(`b`)")).expect("write");
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`b`)");

    // An editor's save: write a temporary file, rename it over the original.
    let temp = dir.0.join(".dynamic.yml.tmp");
    fs::write(&temp, router_file("Host(`c`)")).expect("write");
    fs::rename(&temp, &file).expect("rename");
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`c`)");

    // A broken file: an error with its position, and no configuration.
    fs::write(&file, "http:\n  routers:\n    r: [\n").expect("write");
    let update = next(&mut rx).await;
    let errors = update.result.expect_err("broken file must not load");
    assert!(errors.to_string().starts_with(&format!("{}:4:1: ", file.display())), "{errors}");

    // Fixed again.
    fs::write(&file, router_file("Host(`d`)")).expect("write");
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`d`)");
}

#[tokio::test]
async fn directory_changes_include_new_subdirectories() {
    let dir = TempDir::new("dir");
    let conf = dir.0.join("conf.d");
    fs::create_dir_all(&conf).expect("mkdir");
    fs::write(conf.join("a.yml"), router_file("Host(`a`)")).expect("write");
    let (tx, mut rx) = mpsc::channel(4);
    let _handle = spawn_file_provider(&provider(None, Some(&conf), true), tx);
    let loaded = next_ok(&mut rx).await;
    assert_eq!(loaded.config.http.routers.len(), 1);

    // A new subdirectory alone changes nothing, so nothing is sent for it (updates equal to the
    // previous one are not repeated); the file written in it is seen.
    fs::create_dir_all(conf.join("sub")).expect("mkdir");
    fs::write(conf.join("sub/b.toml"), "[http.routers.b]\nrule = \"Host(`b`)\"\n").expect("write");
    let loaded = next_ok(&mut rx).await;
    assert_eq!(rule_of(&loaded, "b"), "Host(`b`)");
    assert!(loaded.origins.router("b").is_some());

    fs::remove_file(conf.join("a.yml")).expect("rm");
    let loaded = next_ok(&mut rx).await;
    assert_eq!(loaded.config.http.routers.keys().collect::<Vec<_>>(), ["b"]);
}

#[tokio::test]
async fn a_directory_created_later_is_picked_up() {
    let dir = TempDir::new("later");
    let conf = dir.0.join("dynamic");
    let (tx, mut rx) = mpsc::channel(4);
    let _handle = spawn_file_provider(&provider(None, Some(&conf), true), tx);
    let loaded = next_ok(&mut rx).await;
    assert!(loaded.config.http.routers.is_empty());
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);

    // Made elsewhere and moved in whole, as a deployment would.
    let staging = dir.0.join("staging");
    fs::create_dir_all(&staging).expect("mkdir");
    fs::write(staging.join("a.yml"), router_file("Host(`a`)")).expect("write");
    fs::rename(&staging, &conf).expect("rename");
    let loaded = next_ok(&mut rx).await;
    assert_eq!(rule_of(&loaded, "r"), "Host(`a`)");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[tokio::test]
async fn forced_reload_sends_even_without_watching() {
    let dir = TempDir::new("reload");
    let file = dir.0.join("dynamic.toml");
    fs::write(&file, "[http.routers.r]\nrule = \"Host(`a`)\"\n").expect("write");
    let (tx, mut rx) = mpsc::channel(4);
    let handle = spawn_file_provider(&provider(Some(&file), None, false), tx);
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`a`)");

    fs::write(&file, "[http.routers.r]\nrule = \"Host(`b`)\"\n").expect("write");
    handle.reload();
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`b`)");
    // Unchanged files are still sent on a forced reload (SIGHUP).
    handle.reload();
    assert_eq!(rule_of(&next_ok(&mut rx).await, "r"), "Host(`b`)");
}

#[tokio::test]
async fn neither_file_nor_directory_is_an_error_update() {
    let (tx, mut rx) = mpsc::channel(1);
    let _handle = spawn_file_provider(&provider(None, None, true), tx);
    let update = next(&mut rx).await;
    assert_eq!(
        update.result.expect_err("nothing to load").to_string(),
        "providers.file: either `filename` or `directory` is required"
    );
}
