//! What every bench shares: timing one process (wall time, CPU time, peak memory), running
//! SQL through `psql`, and the small helpers around them (URLs among them). A leaf the benches
//! build on.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall time, CPU time and peak memory of one finished process.
pub(crate) struct Sample {
    pub wall: Duration,
    /// User and system CPU time, which other work on the machine disturbs less than the wall
    /// time.
    pub cpu: Duration,
    pub max_rss_kib: i64,
}

/// Run `command` to completion and measure it. The peak resident set comes from `wait4`, which
/// reports it per child, so concurrent work elsewhere does not pollute it.
#[allow(unsafe_code)]
pub(crate) fn measure(command: &mut Command, what: &str) -> Result<Sample, String> {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| e.to_string())?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child; `status` and `usage` are valid out-pointers to
    // locals. std never reaps this child, because we do not call `wait` on it.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        return Err(format!(
            "waiting for {what} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{what} failed (wait status {status}): {stderr}"));
    }
    let seconds = |time: libc::timeval| {
        Duration::from_secs(u64::try_from(time.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(time.tv_usec).unwrap_or(0))
    };
    Ok(Sample {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
    })
}

pub(crate) fn timed(command: &mut Command, what: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(elapsed)
}

/// Run one SQL command with psql, which must succeed.
pub(crate) fn psql(url: &str, sql: &str) -> Result<(), String> {
    timed(
        Command::new("psql").args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql, url]),
        "psql",
    )
    .map(|_| ())
}

/// Replace the database of a `postgres://` URL, keeping its query string.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    match query {
        Some(q) => format!("{}/{database}?{q}", &base[..path]),
        None => format!("{}/{database}", &base[..path]),
    }
}

pub(crate) fn remove(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Undo a URL's percent-encoding.
pub(crate) fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("a bad percent escape in {text}"))?;
            decoded.push(hex);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| format!("{text} is not UTF-8 once decoded"))
}
