//! What the lock needs to know about processes and this machine, to tell a live holder from a
//! dead one: a process's start time, the boot id, the pid namespace (Linux, through `/proc`),
//! and the witness file, which the operating system unlocks when its holder dies.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// What `/proc` says of a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Process {
    /// No process has this pid.
    Absent,
    /// A process has it, started this many clock ticks after the machine booted.
    Started(i64),
    /// This system cannot say.
    Unknown,
}

/// This machine as the lock compares it with a lock row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Machine {
    /// The host name.
    pub(crate) host: String,
    /// The kernel's boot id, new at every boot and shared by every container of the machine.
    pub(crate) boot_id: Option<String>,
    /// The pid namespace this process runs in (`pid:[4026531836]`): pids mean something only
    /// within one.
    pub(crate) pid_namespace: Option<String>,
}

impl Machine {
    /// The machine this process runs on.
    pub(crate) fn current() -> Machine {
        Machine {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            boot_id: boot_id(),
            pid_namespace: pid_namespace(),
        }
    }
}

#[cfg(target_os = "linux")]
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
}

#[cfg(target_os = "linux")]
fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|link| link.to_string_lossy().into_owned())
}

/// When process `pid` started, from field 22 of `/proc/<pid>/stat`.
#[cfg(target_os = "linux")]
pub(crate) fn start_time(pid: i64) -> Process {
    if pid <= 0 {
        return Process::Absent;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_start_time(&stat).map_or(Process::Unknown, Process::Started),
        // Without /proc mounted every pid would look absent: the process table is unknown.
        Err(_) if !Path::new("/proc/self/stat").exists() => Process::Unknown,
        Err(_) => Process::Absent,
    }
}

// Without /proc there is no dependency-free way to ask whether a pid runs, and guessing "dead"
// could hand the lock to a second runner, so the holder's state is left unknown.
#[cfg(not(target_os = "linux"))]
fn boot_id() -> Option<String> {
    None
}

#[cfg(not(target_os = "linux"))]
fn pid_namespace() -> Option<String> {
    None
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn start_time(_pid: i64) -> Process {
    Process::Unknown
}

/// The start time in a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses
/// and may itself hold spaces and parentheses, so fields are counted after the last `)`, where
/// field 3 comes first and field 22 twentieth.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn stat_start_time(stat: &str) -> Option<i64> {
    let fields = &stat[stat.rfind(')')? + 1..];
    fields.split_whitespace().nth(19)?.parse().ok()
}

/// A file a lock holder keeps locked (`flock`) while it holds the migration lock. The kernel
/// unlocks it when the holder's process dies, whatever pid namespace or container it ran in,
/// so a witness found unlocked proves its holder gone where a pid cannot. Its identity (device
/// and inode) goes into the lock row, so that a file found under the same name is trusted only
/// when it is the very file the holder locked.
#[derive(Debug)]
pub(crate) struct Witness {
    file: File,
    path: PathBuf,
    id: String,
}

/// What the witness a lock row names says of its holder.
#[derive(Debug)]
pub(crate) enum Testimony {
    /// Someone keeps it locked: the holder runs.
    Held,
    /// It is unlocked: the holder is gone. The lock on it is now the caller's.
    Free(Witness),
    /// It is gone, or not the file the row names, or cannot be locked: it proves nothing.
    Silent,
}

impl Witness {
    /// Lock the witness at `path` for a new lock holder, creating it if needed. `None` when it
    /// cannot be created or someone else keeps it locked (a holder whose lock row was cleared
    /// by force): the lock then goes without one.
    pub(crate) fn take(path: &Path) -> Option<Witness> {
        // Without a file identity to record (see `metadata_id`), a witness would only leave a
        // file behind.
        if cfg!(not(unix)) {
            return None;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .ok()?;
        file.try_lock().ok()?;
        let id = file_id(&file)?;
        Some(Witness {
            file,
            path: path.to_path_buf(),
            id,
        })
    }

    /// Ask the witness at `path` whether the holder of a row naming witness `id` runs. With
    /// `keep` a free witness comes back locked exclusively, for a caller taking the lock over;
    /// without it the lock taken to ask is shared, so that two callers asking at once both
    /// find a dead holder's witness free.
    pub(crate) fn ask(path: &Path, id: &str, keep: bool) -> Testimony {
        let Ok(file) = File::open(path) else {
            return Testimony::Silent;
        };
        if file_id(&file).as_deref() != Some(id) {
            return Testimony::Silent;
        }
        let locked = if keep {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match locked {
            Ok(()) => Testimony::Free(Witness {
                file,
                path: path.to_path_buf(),
                id: id.to_string(),
            }),
            Err(TryLockError::WouldBlock) => Testimony::Held,
            Err(TryLockError::Error(_)) => Testimony::Silent,
        }
    }

    /// The identity the lock row records.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Remove the file and unlock it, once its lock row is to be deleted. The file is removed
    /// first: a runner that finds the row in between finds no witness and judges the holder by
    /// its pid, which still runs. A file put in its place meanwhile is left alone.
    pub(crate) fn retire(self) {
        let same = std::fs::metadata(&self.path)
            .ok()
            .and_then(|meta| metadata_id(&meta))
            .is_some_and(|id| id == self.id);
        if same && let Err(error) = std::fs::remove_file(&self.path) {
            tracing::debug!(%error, path = %self.path.display(), "could not remove the lock's witness file");
        }
        drop(self.file);
    }
}

fn file_id(file: &File) -> Option<String> {
    metadata_id(&file.metadata().ok()?)
}

#[cfg(unix)]
fn metadata_id(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    Some(format!("{}:{}", meta.dev(), meta.ino()))
}

// Without a stable file identity a witness could be confused with another file of the same
// name, so none is used and holders are judged by their pids alone.
#[cfg(not(unix))]
fn metadata_id(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_is_field_22_whatever_the_command_name() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615";
        assert_eq!(stat_start_time(stat), Some(987_654));
        assert_eq!(stat_start_time("4242 (cut"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_start_time_and_a_machine() {
        let ours = start_time(i64::from(std::process::id()));
        assert!(matches!(ours, Process::Started(t) if t > 0), "{ours:?}");
        assert_eq!(start_time(-4), Process::Absent);
        let machine = Machine::current();
        assert_eq!(machine.boot_id.as_deref().map(str::len), Some(36));
        assert!(
            machine
                .pid_namespace
                .as_deref()
                .is_some_and(|ns| ns.starts_with("pid:[")),
            "{machine:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_witness_testifies_while_locked_and_is_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness");
        let held = Witness::take(&path).expect("a new witness");
        let id = held.id().to_string();
        assert!(matches!(Witness::ask(&path, &id, false), Testimony::Held));
        assert!(Witness::take(&path).is_none(), "locked by another");
        assert!(matches!(
            Witness::ask(&path, "0:0", false),
            Testimony::Silent
        ));
        drop(held);
        let Testimony::Free(again) = Witness::ask(&path, &id, true) else {
            panic!("a dropped witness is free");
        };
        assert!(matches!(Witness::ask(&path, &id, false), Testimony::Held));
        again.retire();
        assert!(!path.exists());
        assert!(matches!(Witness::ask(&path, &id, false), Testimony::Silent));
    }
}
