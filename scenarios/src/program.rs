//! Loading an assembled program into a machine: its memory image and where each
//! core starts.
//!
//! Convention for multicore programs written as one `.s` file: labels `core0`,
//! `core1`, ... mark each core's entry point. A program without them runs on one core
//! from `_start`, or from the first byte of `.text` when there is no `_start`.

use isa::asm::{Program, SYNC_POINT_PREFIX};
use sim_core::machine::{Contract, CoreInit, Machine, MachineConfig};
use sim_core::mem::Memory;

/// Where the stack of core `i` starts: `STACK_TOP - i * STACK_STRIDE` (grows down).
pub const STACK_TOP: u64 = 0x7fff_0000;
/// Distance between the initial stack pointers of consecutive cores.
pub const STACK_STRIDE: u64 = 0x10_0000;

/// A program ready to run: its memory image and one start state per core.
#[derive(Clone, Debug)]
pub struct LoadedProgram {
    /// Every section's bytes at its load address.
    pub memory: Memory,
    /// Entry of each core, in core order (RSP set to the core's stack, the rest zero).
    pub cores: Vec<CoreInit>,
}

impl LoadedProgram {
    /// A machine running this program: `config` with one core per entry.
    pub fn into_machine(self, config: MachineConfig) -> Machine {
        let config = MachineConfig {
            cores: self.cores.len(),
            ..config
        };
        Machine::new(config, self.memory, self.cores)
    }
}

/// Why a program cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Core labels are not numbered 0, 1, 2, ... without gaps.
    #[error("label `core{missing}` is missing but a higher-numbered core label exists")]
    CoreGap {
        /// The first missing core number.
        missing: usize,
    },
    /// Nothing to run.
    #[error("the program has no code: no `core0`/`_start` label and no `.text` bytes")]
    NoEntry,
}

/// Load `program`: copy its sections into memory and find each core's entry.
pub fn load(program: &Program) -> Result<LoadedProgram, LoadError> {
    let memory = memory_image(program);
    let entries = entry_points(program)?;
    let cores = entries
        .into_iter()
        .enumerate()
        .map(|(i, rip)| {
            let mut regs = [0u64; 16];
            regs[isa::reg::Gpr::Rsp.index()] = STACK_TOP - i as u64 * STACK_STRIDE;
            CoreInit { rip, regs }
        })
        .collect();
    Ok(LoadedProgram { memory, cores })
}

/// Every section's bytes at its load address.
pub fn memory_image(program: &Program) -> Memory {
    let mut memory = Memory::new();
    for section in &program.sections {
        memory.load_bytes(section.base, &section.bytes);
    }
    memory
}

/// Where a program without `coreN` labels starts: `_start`, or else the first byte
/// of a non-empty `.text`.
pub fn single_core_entry(program: &Program) -> Option<u64> {
    program.symbol("_start").or_else(|| {
        program
            .sections
            .iter()
            .find(|s| s.name == ".text" && !s.bytes.is_empty())
            .map(|s| s.base)
    })
}

/// One contract per `.sync_point NAME` of `program`, named `NAME`: a plain
/// program's sync points are promises too, checked like a scenario's contracts.
pub fn sync_point_contracts(program: &Program) -> Vec<Contract> {
    program
        .symbols
        .iter()
        .filter_map(|(symbol, &sync_point)| {
            let name = symbol.strip_prefix(SYNC_POINT_PREFIX)?;
            Some(Contract {
                name: name.to_string(),
                sync_point,
            })
        })
        .collect()
}

fn entry_points(program: &Program) -> Result<Vec<u64>, LoadError> {
    let numbered: Vec<(usize, u64)> = program
        .symbols
        .iter()
        .filter_map(|(name, addr)| Some((name.strip_prefix("core")?.parse().ok()?, *addr)))
        .collect();
    if !numbered.is_empty() {
        let mut by_core = numbered;
        by_core.sort_unstable();
        if let Some(missing) = by_core
            .iter()
            .enumerate()
            .find(|(i, (n, _))| i != n)
            .map(|(i, _)| i)
        {
            return Err(LoadError::CoreGap { missing });
        }
        return Ok(by_core.into_iter().map(|(_, addr)| addr).collect());
    }
    single_core_entry(program)
        .map(|entry| vec![entry])
        .ok_or(LoadError::NoEntry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(src: &str) -> Program {
        isa::asm::assemble(src).expect("test program assembles")
    }

    #[test]
    fn core_labels_give_one_entry_per_core() {
        let p = assemble(".text\ncore1:\n nop\n hlt\ncore0:\n hlt\n");
        let loaded = load(&p).unwrap();
        assert_eq!(loaded.cores.len(), 2);
        assert_eq!(loaded.cores[0].rip, p.symbol("core0").unwrap());
        assert_eq!(loaded.cores[1].rip, p.symbol("core1").unwrap());
        assert_ne!(
            loaded.cores[0].regs[4], loaded.cores[1].regs[4],
            "separate stacks"
        );
        assert_eq!(
            loaded.memory.read_u8(p.symbol("core0").unwrap()),
            0xf4,
            "hlt byte loaded"
        );
    }

    #[test]
    fn every_sync_point_is_a_contract() {
        let p = assemble("core0:\n nop\n.sync_point published\n hlt\n.sync_point done\n nop\n");
        let contracts = sync_point_contracts(&p);
        let names: Vec<&str> = contracts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["done", "published"]);
        assert_eq!(contracts[1].sync_point, p.symbol("core0").unwrap() + 1);
        assert!(sync_point_contracts(&assemble("hlt\n")).is_empty());
    }

    #[test]
    fn gaps_in_core_numbers_are_reported() {
        let p = assemble("core0:\n hlt\ncore2:\n hlt\n");
        assert_eq!(load(&p).unwrap_err(), LoadError::CoreGap { missing: 1 });
    }

    #[test]
    fn single_core_programs_start_at_start_or_text() {
        let p = assemble("nop\n_start:\n hlt\n");
        assert_eq!(load(&p).unwrap().cores[0].rip, p.symbol("_start").unwrap());
        let p = assemble("nop\nhlt\n");
        assert_eq!(load(&p).unwrap().cores[0].rip, isa::asm::TEXT_BASE);
    }
}
