//! Signals by pid. The standard library kills only its own `Child` handles,
//! but a cancelled task must be killed from another thread, and a daemon's
//! forked workers are not our children at all; this is the crate's one use of
//! `unsafe`, kept to two calls of `kill(2)`.
#![allow(unsafe_code)]

/// Sends SIGKILL to `pid`. Callers only name processes that cannot have been
/// reaped yet (our unreaped child, or a daemon worker whose connection is
/// still open), so the pid cannot have been reused. Failure (already gone) is
/// ignored.
pub fn kill(pid: i32) {
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Whether a process `pid` exists (signal 0 checks without sending).
pub fn exists(pid: i32) -> bool {
    // SAFETY: as above; signal 0 sends nothing.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}
