//! Random multi-core litmus programs: every outcome the machine produces, under any
//! seed, must be one the x86-TSO operational model (per-core FIFO store buffers over a
//! single memory; fences and locked instructions drain the buffer) allows.

use std::collections::{BTreeSet, HashSet, VecDeque};

use proptest::prelude::*;
use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};
use sim_core::mem::Memory;

/// Two locations in different lines and one sharing the first's line.
const ADDRS: [u64; 3] = [0x10_000, 0x10_040, 0x10_004];
/// Registers loads write, in order (eax, ebx, esi, edi, r8d, r9d).
const REGS: [(&str, usize); 6] = [
    ("eax", 0),
    ("ebx", 3),
    ("esi", 6),
    ("edi", 7),
    ("r8d", 8),
    ("r9d", 9),
];

#[derive(Copy, Clone, Debug)]
enum Op {
    Store(usize),
    Load(usize),
    Mfence,
    Xchg(usize),
}

/// The value core `core`'s `i`-th op stores (unique, non-zero).
fn value(core: usize, i: usize) -> u32 {
    (core as u32 + 1) * 16 + i as u32 + 1
}

/// The op's destination register slot, if it writes one.
fn reg_slots(ops: &[Op]) -> Vec<Option<usize>> {
    let mut next = 0;
    ops.iter()
        .map(|op| match op {
            Op::Load(_) | Op::Xchg(_) => {
                next += 1;
                Some(next - 1)
            }
            _ => None,
        })
        .collect()
}

fn source(core: usize, ops: &[Op]) -> String {
    let slots = reg_slots(ops);
    let mut s = String::new();
    for (i, op) in ops.iter().enumerate() {
        let line = match *op {
            Op::Store(a) => format!("mov dword ptr [{:#x}], {}", ADDRS[a], value(core, i)),
            Op::Load(a) => format!(
                "mov {}, dword ptr [{:#x}]",
                REGS[slots[i].unwrap()].0,
                ADDRS[a]
            ),
            Op::Mfence => "mfence".to_string(),
            Op::Xchg(a) => {
                let r = REGS[slots[i].unwrap()].0;
                format!(
                    "mov {r}, {}\nxchg dword ptr [{:#x}], {r}",
                    value(core, i),
                    ADDRS[a]
                )
            }
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

type Outcome = (Vec<Vec<u32>>, [u32; 3]);

#[derive(Clone, PartialEq, Eq, Hash)]
struct State {
    pc: Vec<usize>,
    sb: Vec<VecDeque<(usize, u32)>>,
    mem: [u32; 3],
    regs: Vec<Vec<u32>>,
}

/// Every final outcome x86-TSO allows for `programs`.
fn tso_outcomes(programs: &[Vec<Op>]) -> BTreeSet<Outcome> {
    let slots: Vec<_> = programs.iter().map(|p| reg_slots(p)).collect();
    let start = State {
        pc: vec![0; programs.len()],
        sb: vec![VecDeque::new(); programs.len()],
        mem: [0; 3],
        regs: programs.iter().map(|_| vec![0; REGS.len()]).collect(),
    };
    let mut seen = HashSet::new();
    let mut todo = vec![start];
    let mut outcomes = BTreeSet::new();
    while let Some(st) = todo.pop() {
        if !seen.insert(st.clone()) {
            continue;
        }
        let mut terminal = true;
        for c in 0..programs.len() {
            if let Some(&(a, v)) = st.sb[c].front() {
                terminal = false;
                let mut n = st.clone();
                n.sb[c].pop_front();
                n.mem[a] = v;
                todo.push(n);
            }
            let Some(&op) = programs[c].get(st.pc[c]) else {
                continue;
            };
            terminal = false;
            let i = st.pc[c];
            let mut n = st.clone();
            n.pc[c] += 1;
            match op {
                Op::Store(a) => n.sb[c].push_back((a, value(c, i))),
                Op::Load(a) => {
                    let own = st.sb[c]
                        .iter()
                        .rev()
                        .find(|(x, _)| *x == a)
                        .map(|(_, v)| *v);
                    n.regs[c][slots[c][i].unwrap()] = own.unwrap_or(st.mem[a]);
                }
                Op::Mfence | Op::Xchg(_) if !st.sb[c].is_empty() => continue,
                Op::Mfence => {}
                Op::Xchg(a) => {
                    n.regs[c][slots[c][i].unwrap()] = st.mem[a];
                    n.mem[a] = value(c, i);
                }
            }
            todo.push(n);
        }
        if terminal {
            outcomes.insert((st.regs.clone(), st.mem));
        }
    }
    outcomes
}

fn machine_outcome(programs: &[Vec<Op>], seed: u64) -> Outcome {
    let mut memory = Memory::new();
    let mut cores = Vec::new();
    let mut src = String::new();
    for (c, p) in programs.iter().enumerate() {
        let base = 0x1000 * (c as u64 + 1);
        src.push_str(&format!(
            ".section .core{c}\n.base {base:#x}\n{}hlt\n",
            source(c, p)
        ));
        cores.push(CoreInit {
            rip: base,
            regs: [0; 16],
        });
    }
    let program = isa::asm::assemble(&src).expect("assembles");
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let config = MachineConfig {
        cores: programs.len(),
        seed,
        timing_jitter: 300,
        ..MachineConfig::default()
    };
    let mut m = Machine::new(config, memory, cores);
    assert_eq!(m.run().stop, StopReason::AllHalted);
    let regs = (0..programs.len())
        .map(|c| REGS.iter().map(|&(_, r)| m.regs(c)[r] as u32).collect())
        .collect();
    let mem = ADDRS.map(|a| m.memory().read(a, isa::reg::Width::B4) as u32);
    (regs, mem)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize).prop_map(Op::Store),
        4 => (0..3usize).prop_map(Op::Load),
        1 => Just(Op::Mfence),
        1 => (0..3usize).prop_map(Op::Xchg),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_machine_outcome_is_allowed_by_tso(
        programs in prop::collection::vec(prop::collection::vec(op(), 1..5), 2..4),
    ) {
        let allowed = tso_outcomes(&programs);
        for seed in 0..12 {
            let got = machine_outcome(&programs, seed);
            prop_assert!(allowed.contains(&got), "seed {}: {:?} not allowed by TSO for {:?}", seed, got, programs);
        }
    }
}

#[test]
fn the_checker_rejects_what_tso_forbids() {
    // Message passing: seeing the flag but not the data is not a TSO outcome.
    let programs = vec![
        vec![Op::Store(0), Op::Store(1)],
        vec![Op::Load(1), Op::Load(0)],
    ];
    let allowed = tso_outcomes(&programs);
    let forbidden = (
        vec![vec![0; 6], vec![value(0, 1), 0, 0, 0, 0, 0]],
        [value(0, 0), value(0, 1), 0],
    );
    assert!(!allowed.contains(&forbidden));
    // Store buffering: both loads reading 0 is allowed.
    let programs = vec![
        vec![Op::Store(0), Op::Load(1)],
        vec![Op::Store(1), Op::Load(0)],
    ];
    let both_zero = (vec![vec![0; 6], vec![0; 6]], [value(0, 0), value(1, 0), 0]);
    assert!(tso_outcomes(&programs).contains(&both_zero));
}
