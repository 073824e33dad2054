//! Litmus tests as synclab programs: Intel-syntax assembly per thread, fixed data
//! addresses, initial state, and how to read the observed locations back.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use isa::asm::assemble;
use isa::reg::{Gpr, RegRef, Width};
use sim_core::mem::Memory;

use super::ast::{Instr, LitmusTest, Location, MemType, Operand, RmwOp};
use super::state::FinalState;

/// Address of the first memory location; location `i` (in name order) is at
/// `DATA_BASE + DATA_STRIDE * i`, one per 64-byte cache line.
pub const DATA_BASE: u64 = 0x1_0000;
/// Distance between memory locations: a cache line, so no two share one.
pub const DATA_STRIDE: u64 = 64;
/// Load address of thread 0's code; thread `i` is at `CODE_BASE + CODE_STRIDE * i`.
pub const CODE_BASE: u64 = 0x40_0000;
/// Distance between the code of consecutive threads.
pub const CODE_STRIDE: u64 = 0x1000;

/// One thread's program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadProgram {
    /// Intel-syntax assembly with a `.base` directive, ending with `hlt`.
    pub asm_text: String,
    /// Where execution starts (the `.base` address).
    pub entry: u64,
    /// Initial value of each general register, indexed by [`Gpr::index`].
    pub init_regs: [u64; 16],
}

/// A location whose final value a run reports, and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observable {
    /// The herd7 key, e.g. `0:EAX` or `[x]`.
    pub key: String,
    /// Where the value lives.
    pub source: ObservableSource,
}

/// Where an observed value lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObservableSource {
    /// A register of one thread; herd7 types registers `int`, so the value reported
    /// is the low 32 bits, sign-extended.
    Reg {
        /// Thread (core) index.
        thread: usize,
        /// The register.
        reg: Gpr,
    },
    /// A memory location, read at its declared type.
    Mem {
        /// Its address.
        addr: u64,
        /// Its type.
        ty: MemType,
    },
}

/// A litmus test ready to load into a machine: one program per thread, shared memory
/// contents, and the locations to read back at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LitmusProgram {
    /// The test's name.
    pub name: String,
    /// One program per thread; thread `i` runs on core `i`.
    pub threads: Vec<ThreadProgram>,
    /// Initial memory: `(address, width, value)` for every location.
    pub memory_init: Vec<(u64, Width, u64)>,
    /// Address of each memory location, by name.
    pub locations: BTreeMap<String, u64>,
    /// What to report, sorted by key.
    pub observed: Vec<Observable>,
    /// The assembled initial image, built on first use: a test is run hundreds of
    /// times and its code only needs assembling once.
    image: OnceLock<Result<Memory, String>>,
}

impl LitmusProgram {
    /// Translate `test`. Every parsed test translates: the parser has already rejected
    /// anything the assembler could not encode.
    pub fn new(test: &LitmusTest) -> LitmusProgram {
        let memory = test.memory();
        let locations: BTreeMap<String, u64> = memory
            .keys()
            .zip((0..).map(|i| DATA_BASE + DATA_STRIDE * i))
            .map(|(n, a)| (n.clone(), a))
            .collect();
        let memory_init = memory
            .iter()
            .map(|(name, m)| {
                (
                    locations[name],
                    m.ty.width,
                    m.value as u64 & m.ty.width.mask(),
                )
            })
            .collect();
        let threads = test
            .threads
            .iter()
            .enumerate()
            .map(|(t, code)| {
                let entry = CODE_BASE + CODE_STRIDE * t as u64;
                let mut init_regs = [0u64; 16];
                for ((_, reg), v) in test.init.regs.range((t, Gpr::Rax)..=(t, Gpr::R15)) {
                    init_regs[reg.index()] = *v as u64;
                }
                ThreadProgram {
                    asm_text: thread_asm(&test.name, t, entry, code, &locations),
                    entry,
                    init_regs,
                }
            })
            .collect();
        let observed = test
            .observed_locations()
            .into_iter()
            .map(|loc| {
                let key = loc.key(test.arch);
                let source = match loc {
                    Location::Reg { thread, reg } => ObservableSource::Reg { thread, reg },
                    Location::Mem(name) => ObservableSource::Mem {
                        addr: locations[&name],
                        ty: memory[&name].ty,
                    },
                };
                Observable { key, source }
            })
            .collect();
        LitmusProgram {
            name: test.name.clone(),
            threads,
            memory_init,
            locations,
            observed,
            image: OnceLock::new(),
        }
    }

    /// The initial memory image: every thread's code, assembled at its `.base`, and
    /// the data locations' initial values. Fails only if the assembler rejects the
    /// generated code.
    pub fn image(&self) -> Result<Memory, String> {
        self.image.get_or_init(|| self.assemble_image()).clone()
    }

    fn assemble_image(&self) -> Result<Memory, String> {
        let mut mem = Memory::new();
        for (t, thread) in self.threads.iter().enumerate() {
            let code =
                assemble(&thread.asm_text).map_err(|e| format!("{} P{t}: {e}", self.name))?;
            for section in &code.sections {
                mem.load_bytes(section.base, &section.bytes);
            }
        }
        for &(addr, width, value) in &self.memory_init {
            mem.write(addr, width, value);
        }
        Ok(mem)
    }

    /// The final state from each thread's final registers and the final memory.
    /// Threads missing from `regs` read as zero registers.
    pub fn final_state(&self, regs: &[[u64; 16]], memory: &Memory) -> FinalState {
        let value = |source: &ObservableSource| match *source {
            ObservableSource::Reg { thread, reg } => {
                MemType::INT.observe(regs.get(thread).map_or(0, |r| r[reg.index()]))
            }
            ObservableSource::Mem { addr, ty } => ty.observe(memory.read(addr, ty.width)),
        };
        FinalState(
            self.observed
                .iter()
                .map(|o| (o.key.clone(), value(&o.source)))
                .collect(),
        )
    }
}

/// The assembly for thread `t` of a test.
fn thread_asm(
    name: &str,
    t: usize,
    entry: u64,
    code: &[Instr],
    locations: &BTreeMap<String, u64>,
) -> String {
    let mut text = format!("# litmus {name} P{t}\n.base {entry:#x}\n");
    for instr in code {
        text.push_str(&intel(instr, locations));
        if let Some(loc) = instr.location() {
            text.push_str("  # ");
            text.push_str(loc);
        }
        text.push('\n');
    }
    text.push_str("hlt\n");
    text
}

/// One instruction in Intel syntax with absolute data addresses.
fn intel(instr: &Instr, locations: &BTreeMap<String, u64>) -> String {
    let op = |o: &Operand, width: Width| match o {
        Operand::Reg(r) => RegRef::new(*r, width).to_string(),
        Operand::Imm(v) => v.to_string(),
        Operand::Mem(name) => mem(name, width, locations),
    };
    let lock = |l: bool| if l { "lock " } else { "" };
    match instr {
        Instr::Mov { width, dst, src } => format!("mov {}, {}", op(dst, *width), op(src, *width)),
        Instr::Mfence => "mfence".to_string(),
        Instr::Xchg { width, loc, reg } => {
            format!(
                "xchg {}, {}",
                mem(loc, *width, locations),
                RegRef::new(*reg, *width)
            )
        }
        Instr::Rmw {
            lock: l,
            op: rmw,
            width,
            loc,
        } => {
            let m = mem(loc, *width, locations);
            match rmw {
                RmwOp::Add(s) => format!("{}add {m}, {}", lock(*l), op(s, *width)),
                RmwOp::Xor(s) => format!("{}xor {m}, {}", lock(*l), op(s, *width)),
                RmwOp::Inc => format!("{}inc {m}", lock(*l)),
                RmwOp::Dec => format!("{}dec {m}", lock(*l)),
            }
        }
        Instr::Cmpxchg {
            lock: l,
            width,
            loc,
            reg,
        } => {
            format!(
                "{}cmpxchg {}, {}",
                lock(*l),
                mem(loc, *width, locations),
                RegRef::new(*reg, *width)
            )
        }
    }
}

fn mem(name: &str, width: Width, locations: &BTreeMap<String, u64>) -> String {
    let size = match width {
        Width::B1 => "byte",
        Width::B2 => "word",
        Width::B4 => "dword",
        Width::B8 => "qword",
    };
    // Every location the code names is in `locations` (see `LitmusTest::memory`).
    format!("{size} ptr [{:#x}]", locations[name])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litmus::parse;

    fn program(text: &str) -> LitmusProgram {
        LitmusProgram::new(&parse("t.litmus", text).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn every_instruction_form_in_intel_syntax() {
        let p = program(
            "X86_64 forms
{ uint64_t w; 0:rbx=0x100000000; }
 P0                     ;
 movl $1,(x)            ;
 movq %rbx,(w)          ;
 movl (y),%eax          ;
 movq $0x100000000,%rcx ;
 mfence                 ;
 xchgl (x),%edx         ;
 lock addl $-2,(y)      ;
 lock xorl %eax,(y)     ;
 lock incl (x)          ;
 decl (x)               ;
 lock cmpxchgl (x),%ecx ;
exists (0:rax=0)",
        );
        let expected = "# litmus forms P0
.base 0x400000
mov dword ptr [0x10040], 1  # x
mov qword ptr [0x10000], rbx  # w
mov eax, dword ptr [0x10080]  # y
mov rcx, 4294967296
mfence
xchg dword ptr [0x10040], edx  # x
lock add dword ptr [0x10080], -2  # y
lock xor dword ptr [0x10080], eax  # y
lock inc dword ptr [0x10040]  # x
dec dword ptr [0x10040]  # x
lock cmpxchg dword ptr [0x10040], ecx  # x
hlt
";
        assert_eq!(p.threads[0].asm_text, expected);
        assert_eq!(p.threads[0].init_regs[Gpr::Rbx.index()], 0x1_0000_0000);
        assert_eq!(
            p.memory_init,
            [
                (0x10000, Width::B8, 0),
                (0x10040, Width::B4, 0),
                (0x10080, Width::B4, 0)
            ]
        );
    }

    #[test]
    fn threads_get_their_own_base_and_registers() {
        let p = program(
            "X86 two
{ x=0xffffffff; 1:EBX=7; }
 P0          | P1           ;
 MOV EAX,[x] | XCHG [x],EBX ;
exists (0:EAX=-1 /\\ [x]=7)",
        );
        assert_eq!(p.threads[1].entry, CODE_BASE + CODE_STRIDE);
        assert!(
            p.threads[1]
                .asm_text
                .contains(".base 0x401000\nxchg dword ptr [0x10000], ebx  # x\nhlt")
        );
        assert_eq!(p.threads[1].init_regs[Gpr::Rbx.index()], 7);
        assert_eq!(p.threads[0].init_regs, [0; 16]);
        // herd prints `int` values signed: 0xffffffff in memory or in EAX is -1.
        let mut regs = [[0u64; 16]; 2];
        regs[0][Gpr::Rax.index()] = 0xffff_ffff;
        regs[1][Gpr::Rbx.index()] = 0x1_0000_0005;
        let state = p.final_state(&regs, &p.image().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(state.to_string(), "0:EAX=-1; 1:EBX=5; [x]=-1;");
    }
}
