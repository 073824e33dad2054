//! The out-of-order machine against the reference interpreter on kernel code: a
//! CPL 0 boot that sets up SYSCALL with `wrmsr` and drops to user mode, random
//! user code that makes system calls, and a random kernel handler that returns
//! with `sysretq` or `iretq` (optionally after a `mov cr3`). Both models execute
//! every system instruction through `sim_core::system`, but the machine does it at
//! retirement, out of order around it and through its store buffer: the final
//! registers, RFLAGS, privilege level and memory must match exactly, for every
//! timing seed.

use proptest::prelude::*;

use isa::flags::Flags;
use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Stop};
use sim_core::system::{SystemConfig, SystemState};

/// Scratch memory the user and the kernel read and write.
const SCRATCH: u64 = 0x60_0000;
/// Registers random code may use (RCX and R11 belong to SYSCALL, RAX to the
/// system-call number, RSP to the stacks).
const REGS: [&str; 9] = ["rbx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r12", "r13"];

/// One random instruction (or the `syscall` idiom).
#[derive(Clone, Debug)]
enum Item {
    MovImm(usize, u32),
    Alu(&'static str, usize, usize),
    Store(usize, u8),
    Load(usize, u8),
    Syscall(u8),
}

impl Item {
    fn text(&self) -> String {
        match *self {
            Item::MovImm(r, v) => format!("mov {}, {v}", REGS[r]),
            Item::Alu(op, d, s) => format!("{op} {}, {}", REGS[d], REGS[s]),
            Item::Store(r, slot) => format!("mov qword ptr [{}], {}", slot_addr(slot), REGS[r]),
            Item::Load(r, slot) => format!("mov {}, qword ptr [{}]", REGS[r], slot_addr(slot)),
            Item::Syscall(n) => format!("mov eax, {n}\nsyscall"),
        }
    }
}

fn slot_addr(slot: u8) -> u64 {
    SCRATCH + 8 * u64::from(slot % 16)
}

fn item() -> impl Strategy<Value = Item> {
    let reg = 0..REGS.len();
    let op = prop::sample::select(vec!["add", "sub", "xor", "and", "or", "imul"]);
    prop_oneof![
        (reg.clone(), any::<u32>()).prop_map(|(r, v)| Item::MovImm(r, v)),
        (op, reg.clone(), reg.clone()).prop_map(|(o, d, s)| Item::Alu(o, d, s)),
        (reg.clone(), any::<u8>()).prop_map(|(r, s)| Item::Store(r, s)),
        (reg, any::<u8>()).prop_map(|(r, s)| Item::Load(r, s)),
        (0u8..50).prop_map(Item::Syscall),
    ]
}

/// How the kernel returns to user mode.
#[derive(Clone, Copy, Debug)]
enum Return {
    Sysret,
    Iret,
    Cr3ThenSysret,
}

fn program(user: &[Item], kernel: &[Item], ret: Return) -> String {
    let body = |items: &[Item]| {
        items
            .iter()
            .filter(|i| !matches!(i, Item::Syscall(_)))
            .map(Item::text)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let user: Vec<String> = user.iter().map(Item::text).collect();
    let ret = match ret {
        Return::Sysret => "sysretq".to_string(),
        Return::Iret => "push 0x2b\npush 0x7000\npush r11\npush 0x33\npush rcx\niretq".into(),
        Return::Cr3ThenSysret => "mov r14, 0x5000\nmov cr3, r14\nsysretq".into(),
    };
    format!(
        "
    core0:
        mov ecx, 0xC0000081
        xor eax, eax
        mov edx, 0x00230010
        wrmsr
        mov ecx, 0xC0000082
        mov eax, offset entry
        xor edx, edx
        wrmsr
        lea rcx, [rip + user]
        mov r11d, 2
        sysretq
    user:
        {}
        mov eax, 99
        syscall
    entry:
        cmp eax, 99
        je done
        add qword ptr [{SCRATCH} + 0x100], rax
        {}
        {ret}
    done:
        hlt
    ",
        user.join("\n"),
        body(kernel)
    )
}

fn image(src: &str) -> (Memory, u64) {
    let program = isa::asm::assemble(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    (memory, program.symbol("core0").expect("core0"))
}

/// Final registers, RFLAGS (arithmetic bits and IF), CPL and scratch memory.
type Final = ([u64; 16], u64, u8, Vec<u64>);

fn scratch(mem: &Memory) -> Vec<u64> {
    (0..33)
        .map(|i| mem.read(SCRATCH + 8 * i, isa::reg::Width::B8))
        .collect()
}

const FLAG_MASK: u64 = Flags::CF.bits()
    | Flags::PF.bits()
    | Flags::ZF.bits()
    | Flags::SF.bits()
    | Flags::OF.bits()
    | Flags::IF.bits();

fn reference(src: &str) -> Final {
    let (memory, rip) = image(src);
    let sys = SystemState::new(SystemConfig::default(), 0);
    let mut cpu = Interpreter::new(memory, rip).with_system(sys);
    cpu.set_reg(isa::reg::Gpr::Rsp, 0x9_0000);
    assert_eq!(cpu.run(100_000), Ok(Stop::Halted));
    let cpl = cpu.sys.as_ref().expect("system").cpl();
    (
        cpu.regs,
        cpu.flags.bits() & FLAG_MASK,
        cpl,
        scratch(&cpu.mem),
    )
}

fn machine(src: &str, seed: u64) -> Final {
    let (memory, rip) = image(src);
    let mut regs = [0; 16];
    regs[4] = 0x9_0000;
    let config = MachineConfig {
        seed,
        timing_jitter: 40,
        ..MachineConfig::default()
    };
    let mut m = Machine::new(config, memory, vec![CoreInit { rip, regs }]);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    let flags = m.flags(0).bits() & FLAG_MASK;
    (m.regs(0), flags, m.system(0).cpl(), scratch(m.memory()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn kernel_code_with_system_calls_matches_the_reference(
        user in prop::collection::vec(item(), 1..24),
        kernel in prop::collection::vec(item(), 0..8),
        ret in prop::sample::select(vec![Return::Sysret, Return::Iret, Return::Cr3ThenSysret]),
        seed in 0u64..1000,
    ) {
        let src = program(&user, &kernel, ret);
        let expected = reference(&src);
        prop_assert_eq!(expected.2, 0, "the exit system call halts in the kernel");
        prop_assert_eq!(machine(&src, seed), expected, "{}", src);
    }
}
