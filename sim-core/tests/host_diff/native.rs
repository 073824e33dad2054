//! Running machine code on the host CPU with a chosen register and flag state.
//!
//! A snippet is wrapped between a fixed prologue, which saves the callee-saved
//! registers and loads every GPR but RSP and the status flags from a [`State`]
//! block, and an epilogue that stores them back. The wrapper is fixed machine code
//! (the listing is next to the bytes), so the host side needs nothing but the
//! snippet's bytes.

use std::ptr::{self, NonNull};

use super::generator::{SCRATCH, SCRATCH_LEN};

/// Registers (RAX..R15, RSP unused) and RFLAGS, as the wrapper reads and writes them.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// GPRs in encoding order.
    pub regs: [u64; 16],
    /// RFLAGS.
    pub flags: u64,
}

/// `push rbx; push rbp; push r12; push r13; push r14; push r15; push rdi;
/// push qword ptr [rdi+128]; popfq; mov rax, [rdi]; mov rcx, [rdi+8]; ... mov r15,
/// [rdi+120] (all but rsp and rdi); mov rdi, [rdi+56]` (SysV: RDI = the state).
const PROLOGUE: &str = "5355415441554156415757ffb7800000009d488b07488b4f08488b5710488b5f18488b6f28\
                        488b77304c8b47404c8b4f484c8b57504c8b5f584c8b67604c8b6f684c8b77704c8b7f78488b7f38";
/// `push rdi; mov rdi, [rsp+8]; mov [rdi], rax; ... mov [rdi+120], r15 (all but rsp
/// and rdi); pushfq; pop qword ptr [rdi+128]; pop qword ptr [rdi+56]; pop rdi;
/// pop r15; pop r14; pop r13; pop r12; pop rbp; pop rbx; ret`.
const EPILOGUE: &str = "57488b7c240848890748894f084889571048895f1848896f28488977304c8947404c894f48\
                        4c8957504c895f584c8967604c896f684c8977704c897f789c8f87800000008f47385f415f415e415d415c5d5bc3";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// An anonymous private mapping, unmapped on drop.
struct Mapping {
    addr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// Map `len` bytes read-write, at exactly `fixed` if given (never replacing an
    /// existing mapping).
    fn new(len: usize, fixed: Option<u64>) -> Mapping {
        let (hint, extra) = match fixed {
            Some(a) => (a as *mut libc::c_void, libc::MAP_FIXED_NOREPLACE),
            None => (ptr::null_mut(), 0),
        };
        // SAFETY: an anonymous mapping with MAP_FIXED_NOREPLACE (or no address) cannot
        // alias any existing Rust object; failure is checked below.
        let p = unsafe {
            libc::mmap(
                hint,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra,
                -1,
                0,
            )
        };
        assert!(
            p != libc::MAP_FAILED,
            "mmap failed: {}",
            std::io::Error::last_os_error()
        );
        if let Some(a) = fixed {
            assert_eq!(p as u64, a, "kernel placed the fixed mapping elsewhere");
        }
        Mapping {
            addr: NonNull::new(p.cast()).expect("mmap never returns null on success"),
            len,
        }
    }

    fn protect(&self, prot: libc::c_int) {
        // SAFETY: changes protection of our own mapping only.
        let r = unsafe { libc::mprotect(self.addr.as_ptr().cast(), self.len, prot) };
        assert_eq!(r, 0, "mprotect: {}", std::io::Error::last_os_error());
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` readable and writable bytes owned by `self`
        // (callers only use this while it is PROT_READ|PROT_WRITE).
        unsafe { std::slice::from_raw_parts_mut(self.addr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `new`, which nothing borrows now.
        unsafe { libc::munmap(self.addr.as_ptr().cast(), self.len) };
    }
}

/// The host CPU with a code page and the scratch buffer at [`SCRATCH`].
pub struct Host {
    code: Mapping,
    scratch: Mapping,
}

impl Host {
    /// Map the code page and the scratch buffer. Only one `Host` may exist at a time
    /// (the scratch address is fixed).
    pub fn new() -> Host {
        Host {
            code: Mapping::new(0x4000, None),
            scratch: Mapping::new(SCRATCH_LEN, Some(SCRATCH)),
        }
    }

    /// Run `snippet` with `state` and `scratch` as the initial registers, flags and
    /// scratch contents; returns the final registers and flags and leaves the final
    /// scratch contents in `scratch`.
    ///
    /// The snippet must be straight-line code that leaves RSP alone and touches no
    /// memory but the scratch buffer (the generator guarantees both).
    pub fn run(&mut self, snippet: &[u8], state: State, scratch: &mut [u8]) -> State {
        let code: Vec<u8> = [hex(PROLOGUE), snippet.to_vec(), hex(EPILOGUE)].concat();
        self.code.protect(libc::PROT_READ | libc::PROT_WRITE);
        self.code.bytes_mut()[..code.len()].copy_from_slice(&code);
        self.code.protect(libc::PROT_READ | libc::PROT_EXEC);
        self.scratch.bytes_mut().copy_from_slice(scratch);
        let mut st = state;
        // SAFETY: the code page holds prologue + snippet + epilogue, a complete SysV
        // function `extern "sysv64" fn(*mut State)`: the prologue saves every
        // callee-saved register it (or the snippet) clobbers and the epilogue restores
        // them and returns with RSP balanced; DF is never set, so it is clear on return
        // as the ABI requires. The snippet only reads and writes registers and the
        // scratch mapping, which no Rust reference aliases during the call (`bytes_mut`
        // borrows end before it), and `st` is a valid, exclusive `State`.
        unsafe {
            let f: extern "sysv64" fn(*mut State) = std::mem::transmute(self.code.addr.as_ptr());
            f(&mut st);
        }
        scratch.copy_from_slice(self.scratch.bytes_mut());
        st
    }
}
