//! The reference interpreter: one instruction at a time, in program order, straight
//! from the architectural definition in [`isa::semantics`].
//!
//! It is the golden model for single-core user-mode programs: the out-of-order core
//! must end every such program in the same state. It fetches the instruction bytes
//! from memory at RIP on every step (decoded instructions are cached by address but
//! the bytes are re-checked), so self-modifying code behaves exactly as on a CPU
//! that has no stale-fetch window.
//!
//! Conventions shared with the multicore model: `hlt` ends the program; `pause`,
//! `nop`, fences and `clflush` do nothing architecturally; `cpuid` returns fixed
//! values ([`CPUID_VENDOR`]); `rdtsc` returns the retired-instruction count. Anything
//! needing a system model (syscalls, privileged instructions) is a [`Fault`] — unless
//! the interpreter was given one ([`Interpreter::with_system`]): then every system
//! uop goes through [`crate::system::execute_sys`], kernel code runs at CPL 0, `hlt`
//! sleeps until an interrupt (the run ends if none is pending: the TSC, being the
//! retired count, stands still, so no timer can fire), self-IPIs and APIC timer
//! interrupts are taken at instruction boundaries, and serialization, which has
//! nothing to discard in an in-order interpreter, is only recorded in
//! [`Interpreter::sys_log`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use isa::decode::{DecodeError, DecodedInst, MAX_INST_LEN, decode_inst, format_intel};
use isa::flags::Flags;
use isa::reg::Gpr;
use isa::semantics::{complete_load, execute};
use isa::uop::{Loc, MAX_TEMPS, SysOp, UopInputs, UopKind};

use crate::mem::Memory;
use crate::system::{SysContext, SysEffect, SysInst, SystemState, execute_sys};

/// What `cpuid` leaves in EBX, EDX, ECX (any leaf): "GenuineIntel", so programs
/// that print the vendor string see something familiar. EAX is 0.
pub const CPUID_VENDOR: [u32; 3] = [0x756e_6547, 0x4965_6e69, 0x6c65_746e];

/// The result of one successful step.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// An instruction retired and execution continues.
    Retired,
    /// `hlt` retired: the program is finished.
    Halted,
}

/// Why [`Interpreter::run`] stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The program executed `hlt`.
    Halted,
    /// `max_steps` instructions retired without a `hlt`.
    StepLimit,
}

/// An instruction the interpreter cannot carry out. Architectural state is as it was
/// before the faulting instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Address of the faulting instruction.
    pub rip: u64,
    /// What went wrong, for people.
    pub reason: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault at {:#x}: {}", self.rip, self.reason)
    }
}

impl std::error::Error for Fault {}

/// An in-order architectural interpreter of one user-mode core.
#[derive(Clone, Debug)]
pub struct Interpreter {
    /// General registers, indexed by [`Gpr::index`].
    pub regs: [u64; 16],
    /// RFLAGS (bit 1, always 1 on hardware, is not modelled).
    pub flags: Flags,
    /// Address of the next instruction.
    pub rip: u64,
    /// The whole address space: code and data.
    pub mem: Memory,
    /// Instructions retired so far (also what `rdtsc` reads).
    pub retired: u64,
    /// The system model, for programs with kernel code; `None` for user-mode-only
    /// programs, whose system instructions fault.
    pub sys: Option<SystemState>,
    /// With a system model: each system instruction's effect other than
    /// [`SysEffect::Continue`], with its address, in program order.
    pub sys_log: Vec<(u64, SysEffect)>,
    /// Decoded instructions by address, shared (`Arc`) so interpreters stay `Send`.
    cache: HashMap<u64, Arc<DecodedInst>>,
}

/// Register, temporary and flag values while one instruction's uops run.
struct State<'a> {
    regs: &'a mut [u64; 16],
    flags: &'a mut Flags,
    temps: [u64; MAX_TEMPS as usize],
}

impl UopInputs for State<'_> {
    fn reg(&self, gpr: Gpr) -> u64 {
        self.regs[gpr.index()]
    }

    fn temp(&self, t: u8) -> u64 {
        self.temps[usize::from(t)]
    }

    fn flags(&self) -> Flags {
        *self.flags
    }
}

impl State<'_> {
    fn set(&mut self, loc: Loc, v: u64) {
        match loc {
            Loc::Reg(r) => self.regs[r.index()] = v,
            Loc::Temp(t) => self.temps[usize::from(t)] = v,
            Loc::Flags => *self.flags = Flags::from_bits_truncate(v),
        }
    }
}

impl Interpreter {
    /// A core with all registers and flags zero, about to execute at `rip`.
    pub fn new(mem: Memory, rip: u64) -> Self {
        Interpreter {
            regs: [0; 16],
            flags: Flags::empty(),
            rip,
            mem,
            retired: 0,
            sys: None,
            sys_log: Vec::new(),
            cache: HashMap::new(),
        }
    }

    /// The same core with the system model `sys`: kernel code, privilege levels,
    /// system calls and interrupts become executable.
    pub fn with_system(mut self, sys: SystemState) -> Self {
        self.sys = Some(sys);
        self
    }

    /// Value of a general register.
    pub fn reg(&self, gpr: Gpr) -> u64 {
        self.regs[gpr.index()]
    }

    /// Set a general register.
    pub fn set_reg(&mut self, gpr: Gpr, v: u64) {
        self.regs[gpr.index()] = v;
    }

    /// Execute one instruction (with a system model, after taking the interrupt
    /// pending at this boundary, if any). Only system uops fault, and each is alone
    /// in its instruction, so a fault leaves the architectural state untouched.
    pub fn step(&mut self) -> Result<Step, Fault> {
        self.take_interrupt()?;
        let inst = self.fetch()?;
        if let Some(sys) = self.sys.as_mut() {
            sys.end_interrupt_shadow();
        }
        let retired = self.retired;
        let mut next = inst.next_ip();
        let mut halted = false;
        let mut st = State {
            regs: &mut self.regs,
            flags: &mut self.flags,
            temps: [0; MAX_TEMPS as usize],
        };
        let fault = |reason: String| Fault {
            rip: inst.ip,
            reason: format!("{reason} (`{}`)", format_intel(&inst.instr)),
        };
        for uop in &inst.uops {
            if let (Some(sys), Some(sys_inst)) = (self.sys.as_mut(), SysInst::from_uop(uop)) {
                let mut ctx = SysContext {
                    regs: &mut *st.regs,
                    flags: &mut *st.flags,
                    rip: inst.ip,
                    next_rip: next,
                    tsc: retired,
                    sys,
                    mem: &mut self.mem,
                };
                let effect = execute_sys(sys_inst, &mut ctx).map_err(|e| fault(e.to_string()))?;
                next = ctx.next_rip;
                halted |= record(sys, &mut self.sys_log, inst.ip, effect);
                continue;
            }
            match uop.kind {
                UopKind::Sys(op) => match system(op, retired, &mut st) {
                    Ok(h) => halted |= h,
                    Err(reason) => return Err(fault(reason)),
                },
                UopKind::Fence(_) | UopKind::Nop => {}
                _ => {
                    let out = execute(uop, &st);
                    if let Some(access) = out.mem {
                        match access.store_data {
                            Some(data) => self.mem.write(access.addr, access.width, data),
                            None => {
                                let (loc, value) = complete_load(
                                    uop,
                                    &st,
                                    self.mem.read(access.addr, access.width),
                                );
                                st.set(loc, value);
                            }
                        }
                    }
                    if let Some((loc, v)) = out.dst {
                        st.set(loc, v);
                    }
                    if let Some(f) = out.flags {
                        *st.flags = f;
                    }
                    if let Some(target) = out.redirect {
                        next = target;
                    }
                }
            }
        }
        self.rip = next;
        self.retired += 1;
        Ok(if halted { Step::Halted } else { Step::Retired })
    }

    /// Step until `hlt` (with a system model: a `hlt` no pending interrupt can wake)
    /// or until `max_steps` instructions have retired.
    pub fn run(&mut self, max_steps: u64) -> Result<Stop, Fault> {
        for _ in 0..max_steps {
            let wakes = |cpu: &mut Self| {
                cpu.boundary()
                    .is_some_and(|ctx| ctx.pending_interrupt().is_some())
            };
            if self.step()? == Step::Halted && !wakes(self) {
                return Ok(Stop::Halted);
            }
        }
        Ok(Stop::StepLimit)
    }

    /// The system-model view of the core at the boundary before RIP, if it has one.
    fn boundary(&mut self) -> Option<SysContext<'_, Memory>> {
        Some(SysContext {
            regs: &mut self.regs,
            flags: &mut self.flags,
            rip: self.rip,
            next_rip: self.rip,
            tsc: self.retired,
            sys: self.sys.as_mut()?,
            mem: &mut self.mem,
        })
    }

    /// Advance the APIC timer to the retired count (the interpreter's TSC) and
    /// deliver the interrupt pending at this boundary, if any (system model only).
    fn take_interrupt(&mut self) -> Result<(), Fault> {
        let Some(mut ctx) = self.boundary() else {
            return Ok(());
        };
        ctx.sys.tick(ctx.tsc);
        let rip = ctx.rip;
        ctx.take_interrupt().map_err(|e| Fault {
            rip,
            reason: e.to_string(),
        })?;
        self.rip = ctx.next_rip;
        Ok(())
    }

    /// The decoded instruction at RIP, from the cache if its bytes are unchanged.
    fn fetch(&mut self) -> Result<Arc<DecodedInst>, Fault> {
        let rip = self.rip;
        if let Some(d) = self.cache.get(&rip)
            && (0..)
                .zip(d.bytes())
                .all(|(i, &b)| self.mem.read_u8(rip.wrapping_add(i)) == b)
        {
            return Ok(Arc::clone(d));
        }
        let mut bytes = Vec::with_capacity(MAX_INST_LEN);
        self.mem.read_bytes(rip, MAX_INST_LEN, &mut bytes);
        let d = decode_inst(&bytes, rip).map_err(|e| Fault {
            rip,
            reason: match e {
                DecodeError::Unsupported { source, .. } => source.to_string(),
                e => e.to_string(),
            },
        })?;
        let d = Arc::new(d);
        self.cache.insert(rip, Arc::clone(&d));
        Ok(d)
    }
}

/// Bookkeeping for a system instruction's `effect` at `rip`: log it, post a
/// self-IPI (the only IPI a single core can receive); `true` for `hlt`.
fn record(
    sys: &mut SystemState,
    log: &mut Vec<(u64, SysEffect)>,
    rip: u64,
    effect: SysEffect,
) -> bool {
    if let SysEffect::SendIpi(ipi) = effect
        && ipi.dest.includes(sys.apic_id(), sys.apic_id())
    {
        sys.post_interrupt(ipi.vector);
    }
    if effect != SysEffect::Continue {
        log.push((rip, effect));
    }
    effect == SysEffect::Halt
}

/// Carry out a system uop for a user-mode program that has retired `retired`
/// instructions; `Ok(true)` for `hlt`.
fn system(op: SysOp, retired: u64, st: &mut State<'_>) -> Result<bool, String> {
    let set32 = |st: &mut State<'_>, r: Gpr, v: u32| st.set(Loc::Reg(r), u64::from(v));
    match op {
        SysOp::Hlt => return Ok(true),
        SysOp::Pause | SysOp::Clflush => {}
        SysOp::Cpuid => {
            set32(st, Gpr::Rax, 0);
            set32(st, Gpr::Rbx, CPUID_VENDOR[0]);
            set32(st, Gpr::Rdx, CPUID_VENDOR[1]);
            set32(st, Gpr::Rcx, CPUID_VENDOR[2]);
        }
        SysOp::Rdtsc | SysOp::Rdtscp => {
            set32(st, Gpr::Rax, retired as u32);
            set32(st, Gpr::Rdx, (retired >> 32) as u32);
            if op == SysOp::Rdtscp {
                // IA32_TSC_AUX: processor 0.
                set32(st, Gpr::Rcx, 0);
            }
        }
        SysOp::Ud2 => return Err("ud2: invalid opcode (#UD)".into()),
        SysOp::Int(n) => return Err(format!("software interrupt {n} needs a system model")),
        SysOp::Syscall | SysOp::Sysenter => return Err("system call needs a system model".into()),
        _ => return Err("privileged instruction (#GP at CPL 3)".into()),
    }
    Ok(false)
}
