//! The file provider at run time: loads `providers.file` (a file, or a directory tree), watches it
//! with inotify, and sends the whole configuration again after every change, debounced.
//!
//! What is watched, and why:
//! - for `filename`: the directory holding the file (editors write a temp file and rename it over
//!   the original, which a watch on the file alone would miss), filtered by the file's name, and
//!   the file itself (a symbolic link's target changing in place);
//! - for `directory`: the directory and every subdirectory (Traefik reads them recursively but
//!   watches only the top one; tollgate watches what it reads), and its parent, so a directory
//!   created or replaced later is picked up. Watches are renewed after each reload.
//!
//! Debounce: after a change, wait until the files have been quiet for [`QUIET`] (at most
//! [`MAX_WAIT`] after the first event), so an editor's burst of writes gives one reload, well
//! within a second. Updates caused by the watcher that equal the previous one are not sent again;
//! a forced reload ([`FileProviderHandle::reload`], for SIGHUP) always sends.
//!
//! Life cycle: one tokio task per provider, ended when the handle is dropped or the receiver goes.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use inotify::{Inotify, WatchDescriptor, WatchMask};
use tokio::io::unix::AsyncFd;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use super::ProviderUpdate;
use crate::config::static_config::FileProvider;
use crate::config::{
    ConfigError, ConfigErrorKind, ConfigErrors, Loaded, load_dynamic_dir, load_dynamic_file,
};

/// The provider name in `name@file`.
pub const PROVIDER_NAME: &str = "file";

/// Quiet time after the last file event before reloading.
const QUIET: Duration = Duration::from_millis(100);

/// Longest wait from the first event of a burst to the reload.
const MAX_WAIT: Duration = Duration::from_millis(500);

/// Directories watched at most under `providers.file.directory` (inotify watches are a limited
/// kernel resource).
const MAX_WATCHED_DIRS: usize = 256;

/// Controls a running file provider. Dropping it stops the provider.
#[derive(Debug)]
pub struct FileProviderHandle {
    reload: Arc<Notify>,
    task: JoinHandle<()>,
}

impl FileProviderHandle {
    /// Re-reads the files now and sends the result, changed or not (SIGHUP).
    pub fn reload(&self) {
        self.reload.notify_one();
    }
}

impl Drop for FileProviderHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the file provider on the current tokio runtime. The first update (the initial load)
/// is sent at once; later ones after changes (when `watch` is on) and on [`reload`].
///
/// [`reload`]: FileProviderHandle::reload
pub fn spawn_file_provider(
    config: &FileProvider,
    tx: mpsc::Sender<ProviderUpdate>,
) -> FileProviderHandle {
    let reload = Arc::new(Notify::new());
    let target = Target::of(config);
    let watch = config.watch;
    let task = tokio::spawn(run(target, watch, tx, Arc::clone(&reload)));
    FileProviderHandle { reload, task }
}

/// What the provider reads.
#[derive(Debug, Clone)]
enum Target {
    Dir(PathBuf),
    File(PathBuf),
    /// Neither `filename` nor `directory`: every load is this error.
    Nothing,
}

impl Target {
    /// Traefik looks at `directory` first.
    fn of(config: &FileProvider) -> Target {
        match (config.directory.as_deref(), config.filename.as_deref()) {
            (Some(dir), _) if !dir.is_empty() => Target::Dir(PathBuf::from(dir)),
            (_, Some(file)) if !file.is_empty() => Target::File(PathBuf::from(file)),
            _ => Target::Nothing,
        }
    }

    fn load(&self) -> Result<Loaded, ConfigErrors> {
        match self {
            Target::Dir(dir) => load_dynamic_dir(dir),
            Target::File(file) => load_dynamic_file(file),
            Target::Nothing => Err(ConfigError {
                origin: None,
                path: "providers.file".into(),
                kind: ConfigErrorKind::Invalid(
                    "either `filename` or `directory` is required".into(),
                ),
            }
            .into()),
        }
    }
}

async fn run(target: Target, watch: bool, tx: mpsc::Sender<ProviderUpdate>, reload: Arc<Notify>) {
    let mut watcher = if watch {
        match Watcher::new(&target) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::warn!(provider = PROVIDER_NAME, %error, "cannot watch files; changes need a reload (SIGHUP)");
                None
            }
        }
    } else {
        None
    };
    let mut last: Option<Result<Loaded, ConfigErrors>> = None;
    let mut forced = true;
    loop {
        let result = load(&target).await;
        if forced || last.as_ref() != Some(&result) {
            last = Some(result.clone());
            let update = ProviderUpdate { provider: PROVIDER_NAME, result };
            if tx.send(update).await.is_err() {
                return; // nobody listens any more
            }
        }
        forced = tokio::select! {
            () = reload.notified() => true,
            changed = next_burst(&mut watcher) => {
                if !changed {
                    watcher = None; // the watch failed; already logged
                }
                false
            }
        };
        if let Some(w) = watcher.as_mut() {
            w.renew(&target);
        }
    }
}

/// Loads off the async threads: reading and parsing files is blocking work.
async fn load(target: &Target) -> Result<Loaded, ConfigErrors> {
    let target = target.clone();
    match tokio::task::spawn_blocking(move || target.load()).await {
        Ok(result) => result,
        Err(join) => {
            let msg = format!("loading the files failed: {join}");
            Err(ConfigError {
                origin: None,
                path: "".into(),
                kind: ConfigErrorKind::Invalid(msg.into()),
            }
            .into())
        }
    }
}

/// Waits for a relevant change and the quiet time after it. `false` if the watch broke. Without
/// a watcher, never returns.
async fn next_burst(watcher: &mut Option<Watcher>) -> bool {
    let Some(w) = watcher.as_mut() else {
        return std::future::pending().await;
    };
    if let Err(error) = w.next_change().await {
        tracing::warn!(provider = PROVIDER_NAME, %error, "file watch failed; changes need a reload (SIGHUP)");
        return false;
    }
    let deadline = Instant::now() + MAX_WAIT;
    loop {
        tokio::select! {
            () = sleep(QUIET) => return true,
            () = sleep_until(deadline) => return true,
            more = w.next_change() => {
                if more.is_err() {
                    return true; // reload what we have; the next wait reports the error
                }
            }
        }
    }
}

/// Why a directory is watched.
#[derive(Debug, Clone)]
enum Role {
    /// Only events about this name count (the file, or the provider's directory in its parent).
    Parent(OsString),
    /// Every event counts (a directory the provider reads, or the file itself).
    Tree,
}

struct Watcher {
    fd: AsyncFd<Inotify>,
    roles: HashMap<WatchDescriptor, Role>,
    buf: Vec<u8>,
}

const DIR_EVENTS: WatchMask = WatchMask::CREATE
    .union(WatchMask::MODIFY)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::DELETE)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF);

const FILE_EVENTS: WatchMask = WatchMask::MODIFY
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF);

impl Watcher {
    fn new(target: &Target) -> io::Result<Watcher> {
        let inotify = Inotify::init()?;
        // tokio deprecates `AsyncFd::new` because an arbitrary `T` might close or swap its fd
        // while registered; its replacement, `register`, is `unsafe` (denied in this crate).
        // `Inotify` owns its fd for its whole life and never replaces it, and it lives inside
        // the `AsyncFd` until both drop: the invariant `register` asks for holds.
        #[allow(deprecated)]
        let fd = AsyncFd::new(inotify)?;
        let mut watcher = Watcher { fd, roles: HashMap::new(), buf: vec![0; 8192] };
        watcher.renew(target);
        if watcher.roles.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "nothing to watch: neither the path nor its parent exists",
            ));
        }
        Ok(watcher)
    }

    /// (Re)adds the watches for `target`: cheap and idempotent (the kernel returns the same
    /// descriptor for a path already watched), so new subdirectories and replaced files are
    /// covered after each reload.
    fn renew(&mut self, target: &Target) {
        match target {
            Target::File(file) => {
                let name = file.file_name().map(OsString::from).unwrap_or_default();
                self.add(parent_of(file), DIR_EVENTS, Role::Parent(name));
                self.add(file, FILE_EVENTS, Role::Tree);
            }
            Target::Dir(dir) => {
                let name = dir.file_name().map(OsString::from).unwrap_or_default();
                self.add(parent_of(dir), DIR_EVENTS, Role::Parent(name));
                let mut dirs = vec![dir.clone()];
                let mut watched = 0;
                while let Some(next) = dirs.pop() {
                    if watched >= MAX_WATCHED_DIRS {
                        break;
                    }
                    watched += 1;
                    self.add(&next, DIR_EVENTS, Role::Tree);
                    if let Ok(entries) = std::fs::read_dir(&next) {
                        for entry in entries.flatten() {
                            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                                dirs.push(entry.path());
                            }
                        }
                    }
                }
            }
            Target::Nothing => {}
        }
    }

    fn add(&mut self, path: &Path, mask: WatchMask, role: Role) {
        // A path that does not exist (yet) is fine: its parent's watch sees it appear.
        if let Ok(wd) = self.fd.get_mut().watches().add(path, mask) {
            self.roles.insert(wd, role);
        }
    }

    /// Waits for the next batch of events that matter.
    async fn next_change(&mut self) -> io::Result<()> {
        let Watcher { fd, roles, buf } = self;
        loop {
            let mut guard = fd.readable_mut().await?;
            let read = guard.try_io(|inner| {
                let events = inner.get_mut().read_events(buf)?;
                let mut relevant = false;
                for event in events {
                    if event.mask.contains(inotify::EventMask::IGNORED) {
                        roles.remove(&event.wd);
                        continue;
                    }
                    relevant |= match roles.get(&event.wd) {
                        Some(Role::Tree) => true,
                        Some(Role::Parent(name)) => event.name == Some(name.as_os_str()),
                        None => false,
                    };
                }
                Ok(relevant)
            });
            match read {
                Ok(Ok(true)) => return Ok(()),
                Ok(Ok(false)) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
