//! The architectural semantics against the real CPU running the tests.
//!
//! Random straight-line snippets (ALU ops at every width with adc/sbb chains,
//! inc/dec/neg/not, shifts by immediate/1/CL, imul, extensions, lea, setcc, cmovcc,
//! xchg/xadd/cmpxchg with and without lock, loads and stores through
//! base+index*scale+disp) are assembled from Intel-syntax text by `isa::asm`, run natively from a
//! random register/flag/memory state, run in the reference interpreter from the same
//! state, and compared: all GPRs, the status flags the SDM defines at the end of the
//! snippet, and the scratch buffer.
//!
//! This is the independent check of `isa::semantics`: the CPU is the reference.

// Running generated machine code natively needs `mmap`, `mprotect` and a call
// through a function pointer; each `unsafe` block states why it is sound.
#![allow(unsafe_code)]
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

#[path = "host_diff/gen.rs"]
mod generator;
#[path = "host_diff/native.rs"]
mod native;

use isa::crack::crack;
use isa::decode::{decode, disassemble};
use isa::flags::Flags;
use isa::reg::{Gpr, Width};
use isa::semantics::undefined_flags;
use isa::uop::{AluOp, Operand, UopKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Stop};

use generator::{SCRATCH, SCRATCH_LEN, Snippet, snippet};
use native::{Host, State};

/// Where the snippet sits in the interpreter's memory (the host code page is
/// elsewhere; snippets are position-independent).
const CODE: u64 = 0x1000;
/// Fixed seed: every run checks the same cases.
const SEED: [u8; 32] = *b"synclab host-diff semantics seed";
/// Number of random snippets.
const CASES: u32 = 3000;

/// Assemble Intel-syntax `text` with synclab's assembler into position-independent
/// bytes (the snippets have no labels).
fn assemble(text: &str) -> Vec<u8> {
    let program = isa::asm::assemble(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    program
        .sections
        .into_iter()
        .map(|s| s.bytes)
        .next()
        .unwrap_or_default()
}

/// Status flags undefined after running `code`, from `isa::semantics::undefined_flags`
/// and the uops' written flags (a shift whose count may be zero writes nothing).
fn undefined_after(code: &[u8]) -> Flags {
    let mut undefined = Flags::empty();
    let mut pos = 0;
    while pos < code.len() {
        let instr = decode(&code[pos..], CODE + pos as u64).expect("snippet decodes");
        let uops = crack(&instr).expect("snippet is supported");
        let mut written = Flags::empty();
        for u in &uops {
            let count_may_be_zero = match (u.kind, u.srcs[1]) {
                (UopKind::Alu(AluOp::Shl | AluOp::Shr | AluOp::Sar), Operand::Imm(c)) => {
                    c & if u.width == Width::B8 { 63 } else { 31 } == 0
                }
                (UopKind::Alu(AluOp::Shl | AluOp::Shr | AluOp::Sar), _) => true,
                _ => false,
            };
            if !count_may_be_zero {
                written |= u.flags_written;
            }
        }
        undefined = (undefined - written) | undefined_flags(&instr);
        pos += instr.len();
    }
    undefined
}

/// Fill the scratch buffer deterministically from `seed`.
fn scratch_from(seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..SCRATCH_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn listing(code: &[u8]) -> String {
    disassemble(code, CODE)
        .iter()
        .map(|l| format!("  {:#x}: {}\n", l.addr, l.text))
        .collect()
}

/// Run one case natively and in the interpreter and compare.
fn check(
    host: &mut Host,
    snip: &Snippet,
    regs: [u64; 16],
    flags: u64,
    scratch_seed: u64,
) -> Result<(), TestCaseError> {
    let text = snip.lines.join("\n");
    let code = assemble(&text);
    let undefined = undefined_after(&code);
    prop_assert_eq!(
        undefined,
        snip.undefined,
        "isa's undefined flags disagree with the generator's SDM account:\n{}",
        text
    );

    let mut regs = regs;
    regs[Gpr::Rsp.index()] = 0;
    let flags = Flags::from_bits_truncate(flags) & Flags::ARITH;
    let init_scratch = scratch_from(scratch_seed);

    let mut native_scratch = init_scratch.clone();
    let native = host.run(
        &code,
        State {
            regs,
            flags: flags.bits() | 2,
        },
        &mut native_scratch,
    );

    let mut mem = Memory::new();
    mem.load_bytes(CODE, &code);
    mem.load_bytes(CODE + code.len() as u64, &[0xf4]); // hlt
    mem.load_bytes(SCRATCH, &init_scratch);
    let mut cpu = Interpreter::new(mem, CODE);
    cpu.regs = regs;
    cpu.flags = flags;
    let stop = cpu
        .run(10_000)
        .map_err(|f| TestCaseError::fail(format!("{f}\n{}", listing(&code))))?;
    prop_assert_eq!(stop, Stop::Halted);

    let context = || format!("{}initial regs {regs:x?}, flags {flags:?}", listing(&code));
    for r in Gpr::ALL.into_iter().filter(|&r| r != Gpr::Rsp) {
        prop_assert_eq!(
            cpu.reg(r),
            native.regs[r.index()],
            "{} differs\n{}",
            r,
            context()
        );
    }
    let mask = Flags::ARITH - undefined;
    let native_flags = Flags::from_bits_truncate(native.flags) & mask;
    prop_assert_eq!(
        cpu.flags & mask,
        native_flags,
        "flags differ (undefined: {:?})\n{}",
        undefined,
        context()
    );
    let mut ours = Vec::new();
    cpu.mem.read_bytes(SCRATCH, SCRATCH_LEN, &mut ours);
    if let Some(i) = (0..SCRATCH_LEN).find(|&i| ours[i] != native_scratch[i]) {
        return Err(TestCaseError::fail(format!(
            "memory differs at {:#x}\n{}",
            SCRATCH + i as u64,
            context()
        )));
    }
    Ok(())
}

/// Register values biased towards the boundaries where flags change.
fn reg_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => prop::sample::select(vec![
            0u64, 1, 2, u64::MAX, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000,
            0xffff_ffff, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0x0f, 0x10,
        ]),
        1 => 0u64..64,
    ]
}

#[test]
fn semantics_match_the_host_cpu() {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let host = std::cell::RefCell::new(Host::new());
    let strategy = (
        prop::collection::vec(any::<u64>(), 1..10),
        prop::array::uniform16(reg_value()),
        any::<u64>(),
        any::<u64>(),
    );
    let result = runner.run(&strategy, |(seeds, regs, flags, scratch_seed)| {
        check(
            &mut host.borrow_mut(),
            &snippet(&seeds),
            regs,
            flags,
            scratch_seed,
        )
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
