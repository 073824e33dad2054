//! The operating-system side of native runs (x86-64 Linux only): anonymous
//! mappings with W^X code pages, a forked child process per run so a fault cannot
//! take synclab down, and CPU pinning.

use std::io;
use std::panic::AssertUnwindSafe;
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

use crate::NativeError;

/// Bytes at the start of a child's shared buffer reserved for its status and message.
const HEADER: usize = 4096;
/// Status word values in the header.
const STATUS_OK: u64 = 1;
const STATUS_ERROR: u64 = 2;

/// The page size the mappings are rounded to.
pub(crate) const PAGE: usize = 4096;

fn os_error(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// An anonymous mapping, unmapped on drop.
pub(crate) struct Mapping {
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Mapping` owns its pages exclusively (no Rust reference into them outlives
// a method call), so moving it to or sharing it with another thread is as sound as
// doing so with a `Vec<u8>`.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`; the methods taking `&self` only read or change protections.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map `len` bytes (rounded up to pages) read-write and zeroed: at exactly `fixed`
    /// if given (never replacing an existing mapping), shared with child processes
    /// if `shared`.
    pub(crate) fn new(len: usize, fixed: Option<u64>, shared: bool) -> Result<Mapping, String> {
        let len = len.div_ceil(PAGE).max(1) * PAGE;
        let (hint, fixed_flag) = match fixed {
            Some(a) => (a as *mut libc::c_void, libc::MAP_FIXED_NOREPLACE),
            None => (ptr::null_mut(), 0),
        };
        let sharing = if shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
        // SAFETY: an anonymous mapping placed by the kernel, or at `fixed` with
        // MAP_FIXED_NOREPLACE (which fails rather than replace anything), cannot alias
        // any existing Rust object; failure is checked below.
        let p = unsafe {
            libc::mmap(
                hint,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_ANONYMOUS | sharing | fixed_flag,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os_error(&format!("mmap of {len} bytes at {fixed:x?}")));
        }
        let mapping = Mapping {
            addr: NonNull::new(p.cast()).ok_or("mmap returned null")?,
            len,
        };
        match fixed {
            Some(a) if p as u64 != a => Err(format!(
                "the kernel placed the mapping for {a:#x} at {p:p} (kernel too old for MAP_FIXED_NOREPLACE)"
            )),
            _ => Ok(mapping),
        }
    }

    /// Length in bytes (whole pages).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Copy `bytes` to `offset`. The mapping must be writable (not yet [`Mapping::seal_exec`]ed).
    pub(crate) fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), String> {
        if offset
            .checked_add(bytes.len())
            .is_none_or(|end| end > self.len)
        {
            return Err(format!(
                "{} bytes at offset {offset} do not fit a {}-byte mapping",
                bytes.len(),
                self.len
            ));
        }
        // SAFETY: the range was checked to lie inside the mapping, which `&mut self`
        // owns exclusively and which is still PROT_READ|PROT_WRITE (callers seal code
        // only after writing it); `bytes` cannot overlap it (no Rust slice of the
        // mapping exists outside this call).
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), self.addr.as_ptr().add(offset), bytes.len())
        };
        Ok(())
    }

    /// Read the `index`th `u64` (volatile: other threads or generated code may have
    /// written it).
    pub(crate) fn read_u64(&self, index: usize) -> u64 {
        assert!((index + 1) * 8 <= self.len, "read past the mapping");
        // SAFETY: in bounds (checked above), 8-byte aligned (page-aligned base), and
        // the mapping is readable in every state it can be in (RW or RX).
        unsafe { ptr::read_volatile(self.addr.as_ptr().cast::<u64>().add(index)) }
    }

    /// Write the `index`th `u64` (volatile: generated code running on other threads
    /// polls it).
    pub(crate) fn write_u64(&self, index: usize, value: u64) {
        assert!((index + 1) * 8 <= self.len, "write past the mapping");
        // SAFETY: in bounds and aligned as in `read_u64`; only used on data mappings,
        // which stay PROT_READ|PROT_WRITE. An aligned 8-byte store is atomic on
        // x86-64, and the generated code that shares the word only does aligned
        // 8-byte accesses to it, so no access is torn; no Rust reference to the word
        // exists.
        unsafe { ptr::write_volatile(self.addr.as_ptr().cast::<u64>().add(index), value) }
    }

    /// W^X: make the (fully written) mapping read+execute, never writable again.
    pub(crate) fn seal_exec(&mut self) -> Result<(), String> {
        // SAFETY: changes the protection of this mapping only; no Rust reference into
        // it exists, so none can observe it becoming read-only.
        let r = unsafe {
            libc::mprotect(
                self.addr.as_ptr().cast(),
                self.len,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(os_error("mprotect to read+exec"))
        }
    }

    /// The mapping's first byte as a function `extern "sysv64" fn(u64, u64)`.
    ///
    /// # Safety
    /// The caller must have written, and sealed with [`Mapping::seal_exec`], a
    /// complete function at the start that follows the System V calling convention
    /// (callee-saved registers and RSP restored, DF clear) and touches only memory no
    /// Rust reference aliases during the call; and the mapping must outlive every call.
    pub(crate) unsafe fn as_function(&self) -> extern "sysv64" fn(u64, u64) {
        // SAFETY: a non-null code address transmuted to a function pointer of the
        // same size; calling it is what the caller's contract makes sound.
        unsafe { std::mem::transmute::<*mut u8, extern "sysv64" fn(u64, u64)>(self.addr.as_ptr()) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `new`; every thread that could
        // run or touch it has been joined before its owner drops it (the callers
        // scope their threads), and no Rust reference into it exists.
        unsafe { libc::munmap(self.addr.as_ptr().cast(), self.len) };
    }
}

/// Run `work` in a forked child process with a zeroed buffer of `payload_len` bytes
/// shared with this process, and return the buffer's final contents. A fault (any
/// signal that kills the child) becomes [`NativeError::Fault`], a child still running
/// after `timeout` is killed ([`NativeError::Timeout`]), and an `Err` or panic in
/// `work` becomes [`NativeError::Setup`]. Nothing the child does can touch this
/// process's memory except the shared buffer.
pub(crate) fn run_isolated(
    payload_len: usize,
    timeout: Duration,
    work: impl FnOnce(&mut Mapping, usize) -> Result<(), String>,
) -> Result<Vec<u8>, NativeError> {
    let mut shared = Mapping::new(HEADER + payload_len, None, true).map_err(NativeError::Setup)?;
    // SAFETY: fork duplicates this process; the child only runs `work` (which maps,
    // writes and runs its own pages, spawns and joins its own threads, and uses the
    // shared buffer) and then leaves with `_exit`, never returning into the caller's
    // stack frames or running atexit handlers or destructors it does not own. glibc's
    // malloc is usable after fork (it resets its locks in the child).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(NativeError::Setup(os_error("fork")));
    }
    if pid == 0 {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&mut shared, HEADER)))
            .unwrap_or_else(|_| Err("the native run panicked".to_string()));
        let (status, message) = match result {
            Ok(()) => (STATUS_OK, String::new()),
            Err(m) => (STATUS_ERROR, m),
        };
        let message = &message.as_bytes()[..message.len().min(HEADER - 16)];
        shared.write_u64(1, message.len() as u64);
        let _ = shared.write(16, message);
        shared.write_u64(0, status);
        // SAFETY: `_exit` ends the child immediately; nothing after it runs.
        unsafe { libc::_exit(0) };
    }
    let status = wait_child(pid, timeout)?;
    if libc::WIFSIGNALED(status) {
        return Err(NativeError::Fault {
            signal: libc::WTERMSIG(status),
        });
    }
    let bytes: Vec<u8> = (0..shared.len() / 8)
        .flat_map(|i| shared.read_u64(i).to_le_bytes())
        .collect();
    match shared.read_u64(0) {
        STATUS_OK => Ok(bytes[HEADER..HEADER + payload_len].to_vec()),
        STATUS_ERROR => {
            let len = shared.read_u64(1) as usize;
            Err(NativeError::Setup(
                String::from_utf8_lossy(&bytes[16..16 + len]).into_owned(),
            ))
        }
        _ => Err(NativeError::Setup(format!(
            "the child process exited with status {status:#x} without a result"
        ))),
    }
}

/// Wait for child `pid`, killing it after `timeout`; its wait status.
fn wait_child(pid: libc::pid_t, timeout: Duration) -> Result<libc::c_int, NativeError> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Ok(status);
        }
        if r < 0 {
            return Err(NativeError::Setup(os_error("waitpid")));
        }
        if start.elapsed() > timeout {
            // SAFETY: kill and reap our own child, which has not been reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(NativeError::Timeout);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The time-stamp counter.
pub(crate) fn rdtsc() -> u64 {
    // SAFETY: RDTSC exists on every x86-64 CPU and has no memory effects.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}
