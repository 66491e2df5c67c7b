//! Running a suite's own script, contained. A pulled suite never runs code unless the user asks
//! by name (`validate`), and then the code is a stranger's: it runs under bubblewrap (`bwrap`,
//! Debian's `bubblewrap`), the unprivileged sandbox Flatpak uses, with
//!
//! - no network (a network namespace of its own, loopback down);
//! - a file system of the system's read-only folders (`/usr`, `/etc`, the interpreter's
//!   prefixes), the suite read-only at [`SUITE_DIR`], a private writable `/tmp`, and one
//!   writable folder for its answer at [`OUT_DIR`]; no home folder, so no credentials
//!   (`~/.docker/config.json`, `$DOCKER_CONFIG`, the shared cache are not there);
//! - an unprivileged user (uid and gid 65534 in a user namespace of its own, every capability
//!   dropped): files only root may read stay unreadable even when zoo-oci runs as root;
//! - its own process namespace: when the time limit kills the sandbox, its first process dies,
//!   and the kernel kills every process left in it, a `setsid` grandchild that ignores SIGTERM
//!   included;
//! - a memory limit (`RLIMIT_AS`, inherited by every process it starts) and a clean
//!   environment (only what the contract names).
//!
//! `bwrap` is run as a command, not re-implemented: namespaces, mounts and the ordering of
//! `pivot_root` and capability drops are what it exists to get right (a well-kept tool does
//! it; no crate offers the same on stable Rust without a helper binary).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::error::{Error, Result};

/// Where the suite is, inside the sandbox.
pub const SUITE_DIR: &str = "/zoo/suite";
/// The sandbox's writable folder for what it reports.
pub const OUT_DIR: &str = "/zoo/out";
/// The Debian package that provides `bwrap`.
pub const PACKAGE: &str = "bubblewrap";
/// How much of a script's output a report keeps (its end).
const OUTPUT_TAIL: usize = 16 * 1024;

/// What to run, and within which limits.
#[derive(Debug, Clone)]
pub struct Job {
    /// The suite folder (read-only inside, at [`SUITE_DIR`]; the working directory).
    pub suite: PathBuf,
    /// A writable folder outside, bound at [`OUT_DIR`] inside.
    pub out: PathBuf,
    /// The interpreter, as given (`python3`, a virtualenv's `bin/python`).
    pub program: PathBuf,
    /// Its arguments (paths inside the sandbox).
    pub args: Vec<String>,
    /// Folders the program needs to run (an interpreter's prefixes), bound read-only at the same
    /// path: they may be under a home folder the sandbox hides.
    pub read_only: Vec<PathBuf>,
    /// The environment, all of it (the rest is cleared).
    pub env: Vec<(String, String)>,
    /// Killed, with everything it started, after this long.
    pub time_limit: Duration,
    /// Address-space limit in bytes (`RLIMIT_AS`).
    pub memory_limit: u64,
    /// Run without the sandbox (`--unsandboxed`): the limits still hold, the isolation does not.
    pub unsandboxed: bool,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "ended")]
pub enum Ending {
    /// It exited with this status.
    Exited {
        /// The exit status.
        code: i32,
    },
    /// A signal ended it (the memory limit often ends as SIGSEGV or SIGABRT).
    Signalled {
        /// The signal's number.
        signal: i32,
    },
    /// The time limit: it was killed, with everything it started.
    TimedOut,
}

/// What a job did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ran {
    /// How it ended.
    pub ending: Ending,
    /// The end of what it wrote to stdout and stderr, interleaved by stream.
    pub stdout: String,
    /// The end of its stderr.
    pub stderr: String,
    /// How long it ran.
    pub seconds: f64,
}

/// `bwrap` on `PATH`, or the error that names the package and the way out.
pub fn bwrap() -> Result<PathBuf> {
    which("bwrap").ok_or_else(|| {
        Error::usage("bubblewrap (bwrap) is not installed: zoo-oci runs a suite's scripts only in its sandbox")
            .with_hint(format!(
                "install it (Debian/Ubuntu: sudo apt-get install {PACKAGE}; Fedora: sudo dnf install {PACKAGE}), \
                 or pass --unsandboxed to run the script with your own rights, unisolated"
            ))
    })
}

/// A program on `PATH` (or the path itself, when it has a `/`).
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file())
}

/// The arguments of `bwrap` that build the sandbox for `job`, up to the program.
fn sandbox_args(job: &Job) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| args.extend(items.iter().map(|s| s.to_string()));
    push(&["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]);
    push(&["--die-with-parent", "--new-session", "--clearenv"]);
    // The system, read-only; the rest of the host is not there at all.
    push(&["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc", "/etc"]);
    for link_or_dir in ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] {
        match std::fs::read_link(link_or_dir) {
            Ok(target) => push(&["--symlink", &target.to_string_lossy(), link_or_dir]),
            Err(_) => push(&["--ro-bind-try", link_or_dir, link_or_dir]),
        }
    }
    push(&["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]);
    for dir in &job.read_only {
        let dir = dir.to_string_lossy();
        push(&["--ro-bind-try", &dir, &dir]);
    }
    let (suite, out) = (job.suite.to_string_lossy(), job.out.to_string_lossy());
    push(&["--ro-bind", &suite, SUITE_DIR, "--bind", &out, OUT_DIR, "--chdir", SUITE_DIR]);
    for (key, value) in &job.env {
        push(&["--setenv", key, value]);
    }
    args.push("--".into());
    args
}

/// Runs `job`, sandboxed unless it says otherwise; waits at most its time limit, then kills it
/// and everything it started. Errors are zoo-oci's (no `bwrap`, a process that cannot start);
/// the job's own failure is its [`Ending`].
pub async fn run(job: &Job) -> Result<Ran> {
    let mut command = if job.unsandboxed {
        let mut command = tokio::process::Command::new(&job.program);
        command.args(&job.args).current_dir(&job.suite).env_clear().envs(job.env.iter().map(|(k, v)| (k, v)));
        command
    } else {
        let mut command = tokio::process::Command::new(bwrap()?);
        command.args(sandbox_args(job)).arg(&job.program).args(&job.args).env_clear();
        command
    };
    let memory = job.memory_limit;
    // SAFETY: between fork and exec only one system call, setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let limit = rustix::process::Rlimit { current: Some(memory), maximum: Some(memory) };
            rustix::process::setrlimit(rustix::process::Resource::As, limit).map_err(std::io::Error::from)
        });
    }
    // A process group of its own: the time limit kills the group.
    command.process_group(0);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| Error::failed(format!("could not start {}", job.program.display())).with_cause(e))?;
    let pid = child.id();
    let (mut stdout, mut stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let read_out = async move {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf).await;
        buf
    };
    let read_err = async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    };
    let waited = async {
        let (status, out, err) = tokio::join!(child.wait(), read_out, read_err);
        (status, out, err)
    };
    let finished = tokio::time::timeout(job.time_limit, waited).await;
    let (ending, out, err) = match finished {
        Ok((status, out, err)) => {
            let status = status.map_err(|e| Error::failed("could not wait for the script").with_cause(e))?;
            use std::os::unix::process::ExitStatusExt;
            let ending = match (status.code(), status.signal()) {
                (Some(code), _) => Ending::Exited { code },
                (None, Some(signal)) => Ending::Signalled { signal },
                (None, None) => Ending::Exited { code: -1 },
            };
            (ending, out, err)
        }
        Err(_) => {
            // The whole group: bwrap, and with it (it dies with its parent) the sandbox's first
            // process, whose death ends every process of its namespace. Unsandboxed, the group
            // is all there is to kill; a process that left it (setsid) survives: the README says so.
            if let Some(group) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.wait().await;
            (Ending::TimedOut, Vec::new(), Vec::new())
        }
    };
    Ok(Ran { ending, stdout: tail(&out), stderr: tail(&err), seconds: started.elapsed().as_secs_f64() })
}

fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(OUTPUT_TAIL);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}
