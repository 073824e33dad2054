//! Differential test: random single-core programs must leave the same registers,
//! flags and memory on the out-of-order machine as on the in-order reference
//! interpreter, whatever the machine's sizes, widths and timing jitter.

use proptest::prelude::*;
use sim_core::machine::{CoreConfig, CoreInit, Machine, MachineConfig, StopReason};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Stop};

const DATA: u64 = 0x60_0000;
const STACK: u64 = 0x70_0000;
/// Registers the generated code may clobber (rbp = data base, rsp = stack, r15 = loop counter).
const POOL: [usize; 12] = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13];
const NAMES64: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

fn reg(r: usize, width: u8) -> String {
    let legacy = ["a", "c", "d", "b", "sp", "bp", "si", "di"];
    match (width, r) {
        (8, _) => NAMES64[r].to_string(),
        (4, 0..=3) => format!("e{}x", legacy[r]),
        (4, 4..=7) => format!("e{}", legacy[r]),
        (2, 0..=3) => format!("{}x", legacy[r]),
        (2, 4..=7) => legacy[r].to_string(),
        (1, 0..=3) => format!("{}l", legacy[r]),
        (1, 4..=7) => format!("{}l", legacy[r]),
        (4, _) => format!("r{r}d"),
        (2, _) => format!("r{r}w"),
        _ => format!("r{r}b"),
    }
}

fn size(width: u8) -> &'static str {
    match width {
        1 => "byte",
        2 => "word",
        4 => "dword",
        _ => "qword",
    }
}

/// One straight-line instruction.
#[derive(Clone, Debug)]
enum Simple {
    Alu {
        op: usize,
        width: u8,
        dst: usize,
        src: usize,
    },
    AluImm {
        op: usize,
        width: u8,
        dst: usize,
        imm: i32,
    },
    Shift {
        op: usize,
        width: u8,
        dst: usize,
        count: u8,
        by_cl: bool,
    },
    Unary {
        op: usize,
        width: u8,
        dst: usize,
    },
    Imul {
        width: u8,
        dst: usize,
        src: usize,
    },
    Extend {
        sign: bool,
        from: u8,
        dst: usize,
        src: usize,
    },
    Lea {
        dst: usize,
        a: usize,
        b: usize,
        scale: u8,
        disp: i16,
    },
    Setcc {
        cc: usize,
        dst: usize,
    },
    Cmov {
        cc: usize,
        dst: usize,
        src: usize,
    },
    Load {
        width: u8,
        dst: usize,
        disp: u8,
    },
    Store {
        width: u8,
        src: usize,
        disp: u8,
    },
    StoreImm {
        width: u8,
        imm: i16,
        disp: u8,
    },
    Rmw {
        op: usize,
        width: u8,
        src: usize,
        disp: u8,
        lock: bool,
    },
    Xchg {
        width: u8,
        reg: usize,
        disp: u8,
    },
    Xadd {
        width: u8,
        reg: usize,
        disp: u8,
    },
    Cmpxchg {
        width: u8,
        reg: usize,
        disp: u8,
    },
    PushPop {
        push: usize,
        pop: usize,
    },
    Fence(usize),
    Cpuid,
}

const ALU: [&str; 9] = [
    "add", "sub", "and", "or", "xor", "adc", "sbb", "cmp", "test",
];
const SHIFT: [&str; 3] = ["shl", "shr", "sar"];
const UNARY: [&str; 4] = ["inc", "dec", "neg", "not"];
const CC: [&str; 16] = [
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];
const FENCES: [&str; 3] = ["mfence", "lfence", "sfence"];

fn mem(width: u8, disp: u8) -> String {
    format!("{} ptr [rbp + {}]", size(width), disp)
}

impl Simple {
    fn render(&self) -> String {
        match *self {
            Simple::Alu {
                op,
                width,
                dst,
                src,
            } => format!("{} {}, {}", ALU[op], reg(dst, width), reg(src, width)),
            Simple::AluImm {
                op,
                width,
                dst,
                imm,
            } => {
                let imm = if width == 1 {
                    imm as i8 as i32
                } else if width == 2 {
                    imm as i16 as i32
                } else {
                    imm
                };
                format!("{} {}, {}", ALU[op], reg(dst, width), imm)
            }
            Simple::Shift {
                op,
                width,
                dst,
                count,
                by_cl,
            } => {
                let count = if by_cl {
                    "cl".to_string()
                } else {
                    count.to_string()
                };
                format!("{} {}, {}", SHIFT[op], reg(dst, width), count)
            }
            Simple::Unary { op, width, dst } => format!("{} {}", UNARY[op], reg(dst, width)),
            Simple::Imul { width, dst, src } => {
                format!("imul {}, {}", reg(dst, width), reg(src, width))
            }
            Simple::Extend {
                sign,
                from,
                dst,
                src,
            } => {
                let m = if sign { "movsx" } else { "movzx" };
                format!("{m} {}, {}", reg(dst, 8), reg(src, from))
            }
            Simple::Lea {
                dst,
                a,
                b,
                scale,
                disp,
            } => {
                format!(
                    "lea {}, [{} + {}*{} + {}]",
                    reg(dst, 8),
                    reg(a, 8),
                    reg(b, 8),
                    scale,
                    disp
                )
            }
            Simple::Setcc { cc, dst } => format!("set{} {}", CC[cc], reg(dst, 1)),
            Simple::Cmov { cc, dst, src } => {
                format!("cmov{} {}, {}", CC[cc], reg(dst, 4), reg(src, 4))
            }
            Simple::Load { width, dst, disp } => {
                format!("mov {}, {}", reg(dst, width), mem(width, disp))
            }
            Simple::Store { width, src, disp } => {
                format!("mov {}, {}", mem(width, disp), reg(src, width))
            }
            Simple::StoreImm { width, imm, disp } => {
                let imm = if width == 1 { imm as i8 as i16 } else { imm };
                format!("mov {}, {}", mem(width, disp), imm)
            }
            Simple::Rmw {
                op,
                width,
                src,
                disp,
                lock,
            } => {
                let op = ALU[op % 7];
                format!(
                    "{}{op} {}, {}",
                    if lock { "lock " } else { "" },
                    mem(width, disp),
                    reg(src, width)
                )
            }
            Simple::Xchg {
                width,
                reg: r,
                disp,
            } => format!("xchg {}, {}", mem(width, disp), reg(r, width)),
            Simple::Xadd {
                width,
                reg: r,
                disp,
            } => format!("lock xadd {}, {}", mem(width, disp), reg(r, width)),
            Simple::Cmpxchg {
                width,
                reg: r,
                disp,
            } => format!("lock cmpxchg {}, {}", mem(width, disp), reg(r, width)),
            Simple::PushPop { push, pop } => format!("push {}\npop {}", reg(push, 8), reg(pop, 8)),
            Simple::Fence(k) => FENCES[k].to_string(),
            Simple::Cpuid => "cpuid".to_string(),
        }
    }
}

/// A program element: straight-line code or control flow around it.
#[derive(Clone, Debug)]
enum Item {
    Op(Simple),
    /// Conditional forward branch over the next `skip` items.
    SkipIf {
        cc: usize,
        skip: usize,
    },
    /// `count` iterations of `body` (counter in r15).
    Loop {
        count: u8,
        body: Vec<Simple>,
    },
    /// Call function number `n`.
    Call(usize),
}

fn width() -> impl Strategy<Value = u8> {
    prop_oneof![Just(1u8), Just(2), Just(4), Just(8)]
}

fn pool() -> impl Strategy<Value = usize> {
    (0..POOL.len()).prop_map(|i| POOL[i])
}

fn disp(width: u8) -> impl Strategy<Value = u8> {
    // Mostly aligned, sometimes not, inside a 64-byte window so accesses collide.
    prop_oneof![3 => (0u8..8).prop_map(move |i| i * width), 1 => 0u8..56]
}

fn simple() -> impl Strategy<Value = Simple> {
    let w = || width();
    prop_oneof![
        4 => (0..9usize, w(), pool(), pool()).prop_map(|(op, width, dst, src)| Simple::Alu { op, width, dst, src }),
        3 => (0..9usize, w(), pool(), any::<i32>()).prop_map(|(op, width, dst, imm)| Simple::AluImm { op, width, dst, imm }),
        2 => (0..3usize, w(), pool(), 0u8..70, any::<bool>())
            .prop_map(|(op, width, dst, count, by_cl)| Simple::Shift { op, width, dst, count: count % 64, by_cl }),
        2 => (0..4usize, w(), pool()).prop_map(|(op, width, dst)| Simple::Unary { op, width, dst }),
        1 => (prop_oneof![Just(2u8), Just(4), Just(8)], pool(), pool()).prop_map(|(width, dst, src)| Simple::Imul { width, dst, src }),
        1 => (any::<bool>(), prop_oneof![Just(1u8), Just(2)], pool(), pool())
            .prop_map(|(sign, from, dst, src)| Simple::Extend { sign, from, dst, src }),
        1 => (pool(), pool(), pool(), prop_oneof![Just(1u8), Just(2), Just(4), Just(8)], any::<i16>())
            .prop_map(|(dst, a, b, scale, disp)| Simple::Lea { dst, a, b, scale, disp }),
        1 => (0..16usize, pool()).prop_map(|(cc, dst)| Simple::Setcc { cc, dst }),
        1 => (0..16usize, pool(), pool()).prop_map(|(cc, dst, src)| Simple::Cmov { cc, dst, src }),
        4 => w().prop_flat_map(|width| (Just(width), pool(), disp(width)))
            .prop_map(|(width, dst, disp)| Simple::Load { width, dst, disp }),
        4 => w().prop_flat_map(|width| (Just(width), pool(), disp(width)))
            .prop_map(|(width, src, disp)| Simple::Store { width, src, disp }),
        1 => w().prop_flat_map(|width| (Just(width), any::<i16>(), disp(width)))
            .prop_map(|(width, imm, disp)| Simple::StoreImm { width, imm, disp }),
        2 => w().prop_flat_map(|width| (0..7usize, Just(width), pool(), disp(width), any::<bool>()))
            .prop_map(|(op, width, src, disp, lock)| Simple::Rmw { op, width, src, disp, lock }),
        1 => w().prop_flat_map(|width| (Just(width), pool(), disp(width)))
            .prop_map(|(width, reg, disp)| Simple::Xchg { width, reg, disp }),
        1 => w().prop_flat_map(|width| (Just(width), pool(), disp(width)))
            .prop_map(|(width, reg, disp)| Simple::Xadd { width, reg, disp }),
        1 => w().prop_flat_map(|width| (Just(width), pool(), disp(width)))
            .prop_map(|(width, reg, disp)| Simple::Cmpxchg { width, reg, disp }),
        1 => (pool(), pool()).prop_map(|(push, pop)| Simple::PushPop { push, pop }),
        1 => (0..3usize).prop_map(Simple::Fence),
        1 => Just(Simple::Cpuid),
    ]
}

fn item(functions: usize) -> impl Strategy<Value = Item> {
    prop_oneof![
        12 => simple().prop_map(Item::Op),
        2 => (0..16usize, 1..4usize).prop_map(|(cc, skip)| Item::SkipIf { cc, skip }),
        1 => (1u8..6, prop::collection::vec(simple(), 1..6)).prop_map(|(count, body)| Item::Loop { count, body }),
        1 => (0..functions).prop_map(Item::Call),
    ]
}

/// A whole program: main items, then functions.
#[derive(Clone, Debug)]
struct Program {
    items: Vec<Item>,
    functions: Vec<Vec<Simple>>,
}

fn program() -> impl Strategy<Value = Program> {
    (1..3usize).prop_flat_map(|n| {
        (
            prop::collection::vec(item(n), 1..40),
            prop::collection::vec(prop::collection::vec(simple(), 0..5), n),
        )
            .prop_map(|(items, functions)| Program { items, functions })
    })
}

impl Program {
    fn source(&self) -> String {
        let mut s = String::from(".text\n");
        let mut pending: Vec<(usize, String)> = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            pending.retain(|(at, label)| {
                if *at == i {
                    s.push_str(&format!("{label}:\n"));
                }
                *at != i
            });
            match item {
                Item::Op(op) => s.push_str(&format!("{}\n", op.render())),
                Item::SkipIf { cc, skip } => {
                    s.push_str(&format!("j{} skip{i}\n", CC[*cc]));
                    pending.push((i + 1 + skip, format!("skip{i}")));
                }
                Item::Loop { count, body } => {
                    s.push_str(&format!("mov r15d, {count}\nloop{i}:\n"));
                    for op in body {
                        s.push_str(&format!("{}\n", op.render()));
                    }
                    s.push_str(&format!("dec r15d\njnz loop{i}\n"));
                }
                Item::Call(n) => s.push_str(&format!("call fn{n}\n")),
            }
        }
        for (_, label) in pending {
            s.push_str(&format!("{label}:\n"));
        }
        s.push_str("hlt\n");
        for (n, body) in self.functions.iter().enumerate() {
            s.push_str(&format!("fn{n}:\n"));
            for op in body {
                s.push_str(&format!("{}\n", op.render()));
            }
            s.push_str("ret\n");
        }
        s
    }
}

fn config() -> impl Strategy<Value = MachineConfig> {
    (
        prop_oneof![Just(16usize), Just(32), Just(512)],
        1..7usize,
        prop_oneof![Just(1usize), Just(2), Just(56)],
        1..5usize,
        prop_oneof![Just(0u32), Just(40)],
        any::<u64>(),
    )
        .prop_map(|(rob, width, sb, prefetch, jitter, seed)| MachineConfig {
            core: CoreConfig {
                rob_size: rob,
                scheduler_size: rob.min(97),
                issue_width: width,
                rename_width: width,
                decode_width: width,
                retire_width: width,
                load_ports: width.div_ceil(2),
                store_ports: width.div_ceil(3),
                store_buffer: sb,
                prefetch_depth: prefetch,
                ..CoreConfig::default()
            },
            seed,
            timing_jitter: jitter,
            watchdog_cycles: 20_000,
            max_cycles: 5_000_000,
            ..MachineConfig::default()
        })
}

fn initial_regs(seed: &[u64; 16]) -> [u64; 16] {
    let mut regs = *seed;
    regs[4] = STACK;
    regs[5] = DATA;
    regs
}

/// Run `source` on both models and compare everything architectural.
fn compare(source: &str, regs: [u64; 16], config: MachineConfig) -> Result<(), TestCaseError> {
    let program =
        isa::asm::assemble(source).map_err(|e| TestCaseError::fail(format!("{e:?}\n{source}")))?;
    let mut memory = Memory::new();
    for section in &program.sections {
        memory.load_bytes(section.base, &section.bytes);
    }
    for i in 0..64 {
        memory.write_u8(DATA + i, (i as u8).wrapping_mul(37));
    }
    let entry = program.sections[0].base;
    let mut reference = Interpreter::new(memory.clone(), entry);
    reference.regs = regs;
    let stop = reference
        .run(100_000)
        .map_err(|f| TestCaseError::fail(format!("reference: {f}")))?;
    prop_assert_eq!(stop, Stop::Halted);
    let mut machine = Machine::new(config, memory, vec![CoreInit { rip: entry, regs }]);
    let out = machine.run();
    prop_assert_eq!(&out.stop, &StopReason::AllHalted, "{}", source);
    prop_assert_eq!(machine.regs(0), reference.regs, "registers\n{}", source);
    prop_assert_eq!(machine.flags(0), reference.flags, "flags\n{}", source);
    let mem = |m: &Memory| m.nonzero_bytes().collect::<Vec<_>>();
    prop_assert_eq!(
        mem(machine.memory()),
        mem(&reference.mem),
        "memory\n{}",
        source
    );
    prop_assert_eq!(
        out.per_core[0].retired,
        reference.retired,
        "retired count\n{}",
        source
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn ooo_matches_reference(p in program(), seed in any::<[u64; 16]>(), config in config()) {
        compare(&p.source(), initial_regs(&seed), config)?;
    }
}

#[test]
fn forwarding_partial_overlap_and_loops_match_reference() {
    let source = "
        mov qword ptr [rbp], rax
        mov ecx, dword ptr [rbp + 2]
        mov byte ptr [rbp + 9], 7
        mov rdx, qword ptr [rbp + 8]
        mov r15d, 50
    again:
        add qword ptr [rbp + 16], r15
        mov rbx, qword ptr [rbp + 16]
        dec r15d
        jnz again
        call f
        hlt
    f:
        lock xadd qword ptr [rbp + 24], rbx
        ret
    ";
    let regs = initial_regs(&[0x1122_3344_5566_7788; 16]);
    for (rob, sb) in [(16, 1), (512, 56)] {
        let core = CoreConfig {
            rob_size: rob,
            store_buffer: sb,
            ..CoreConfig::default()
        };
        compare(
            source,
            regs,
            MachineConfig {
                core,
                ..MachineConfig::default()
            },
        )
        .unwrap();
    }
}
