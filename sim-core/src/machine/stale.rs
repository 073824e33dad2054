//! The stale-code detector: at the retirement of every instruction, compare the bytes
//! it was decoded from with what coherent memory holds at that cycle.
//!
//! A difference means the core executed instruction bytes that another store had
//! already replaced and made globally visible: the hazard of cross-modifying code
//! without a serializing instruction (SDM Vol. 3A §9.1.3). Only lines that some store
//! has ever written are compared, so code that nobody modifies costs one map lookup.

use std::fmt;

use super::addr_map::AddrMap;
use super::memsys::line_of;
use crate::mem::Memory;

/// The last visible store to a line: which core, which of its instructions, when.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct LineWrite {
    core: u16,
    inst_seq: u64,
    cycle: u64,
}

/// Who last made a store to each line globally visible, and when.
#[derive(Debug, Default)]
pub struct LineWrites {
    last: AddrMap<LineWrite>,
}

impl LineWrites {
    /// Note that `core`'s store (instruction `inst_seq`) to `[addr, addr+len)`
    /// became visible at `cycle`.
    pub fn record(&mut self, core: usize, inst_seq: u64, addr: u64, len: u64, cycle: u64) {
        let first = line_of(addr);
        let last = line_of(addr.wrapping_add(len.max(1) - 1));
        let write = LineWrite {
            core: core as u16,
            inst_seq,
            cycle,
        };
        for line in [first, last] {
            self.last.insert(line, write);
        }
    }

    /// The most recent visible write to any line of `[addr, addr+len)`.
    fn latest(&self, addr: u64, len: u64) -> Option<LineWrite> {
        let first = self.last.get(&line_of(addr));
        let last = self.last.get(&line_of(addr.wrapping_add(len.max(1) - 1)));
        first
            .into_iter()
            .chain(last)
            .copied()
            .max_by_key(|w| w.cycle)
    }
}

/// One execution of instruction bytes that memory no longer held.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StaleExecution {
    /// The core that executed them.
    pub core: u16,
    /// Instruction address.
    pub ip: u64,
    /// Retirement cycle.
    pub cycle: u64,
    /// The core's instruction sequence number.
    pub inst_seq: u64,
    /// Instruction length (bytes of `stale` and `current` that matter).
    pub len: u8,
    /// The bytes the core fetched and executed.
    pub stale: [u8; 15],
    /// What memory held at `ip` when the instruction retired.
    pub current: [u8; 15],
    /// The core whose store last changed these bytes' lines.
    pub writer: u16,
    /// Cycle that store became globally visible.
    pub visible_at: u64,
    /// Cycle the executing core last serialized (dropped its fetched bytes), or
    /// [`NEVER_SERIALIZED`]: the explanation of the stale execution, since a
    /// serialization after `visible_at` would have refetched the new bytes.
    pub serialized_at: u64,
}

/// [`StaleExecution::serialized_at`] of a core that never serialized.
pub const NEVER_SERIALIZED: u64 = u64::MAX;

impl StaleExecution {
    /// The executed bytes.
    pub fn stale_bytes(&self) -> &[u8] {
        &self.stale[..usize::from(self.len)]
    }

    /// The bytes memory held at retirement (same length as the executed instruction).
    pub fn current_bytes(&self) -> &[u8] {
        &self.current[..usize::from(self.len)]
    }

    /// The executed instruction in Intel syntax.
    pub fn stale_disassembly(&self) -> String {
        disassemble_at(&self.stale, self.ip)
    }

    /// What memory's bytes at `ip` decode to now.
    pub fn current_disassembly(&self) -> String {
        disassemble_at(&self.current, self.ip)
    }
}

fn disassemble_at(bytes: &[u8], ip: u64) -> String {
    isa::decode::decode(bytes, ip)
        .map(|i| isa::decode::format_intel(&i))
        .unwrap_or_else(|_| "(undecodable)".to_string())
}

impl fmt::Display for StaleExecution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "core {} executed stale code at {:#x}, cycle {}:",
            self.core, self.ip, self.cycle
        )?;
        writeln!(
            f,
            "  executed  `{}`  ({})",
            self.stale_disassembly(),
            isa::decode::hex_bytes(self.stale_bytes())
        )?;
        writeln!(
            f,
            "  memory    `{}`  ({})",
            self.current_disassembly(),
            isa::decode::hex_bytes(self.current_bytes())
        )?;
        writeln!(
            f,
            "  written by core {}, globally visible at cycle {} ({} cycles before)",
            self.writer,
            self.visible_at,
            self.cycle.saturating_sub(self.visible_at)
        )?;
        match self.serialized_at {
            NEVER_SERIALIZED => write!(
                f,
                "  core {} has not executed a serializing instruction in this run",
                self.core
            ),
            at => {
                let when = if at < self.visible_at {
                    "before"
                } else {
                    "after"
                };
                write!(
                    f,
                    "  core {} last serialized at cycle {at}, {when} the new bytes became visible",
                    self.core
                )
            }
        }
    }
}

/// The instruction a core is retiring, as the detector needs it.
pub struct Retiring<'a> {
    /// The core.
    pub core: usize,
    /// Its sequence number.
    pub inst_seq: u64,
    /// Its address.
    pub ip: u64,
    /// The bytes it was decoded from.
    pub bytes: &'a [u8],
    /// When the core last serialized ([`NEVER_SERIALIZED`] if it has not).
    pub serialized_at: u64,
}

/// Compare a retiring instruction with memory; `Some` if it executed stale bytes,
/// with the sequence number of the writing core's store instruction.
pub fn check(
    inst: &Retiring,
    writes: &LineWrites,
    memory: &Memory,
    now: u64,
) -> Option<(StaleExecution, u64)> {
    let len = inst.bytes.len() as u64;
    let write = writes.latest(inst.ip, len)?;
    let mut current = [0u8; 15];
    for (i, b) in current.iter_mut().enumerate() {
        *b = memory.read_u8(inst.ip.wrapping_add(i as u64));
    }
    if current[..inst.bytes.len()] == *inst.bytes {
        return None;
    }
    let mut stale = [0u8; 15];
    stale[..inst.bytes.len()].copy_from_slice(inst.bytes);
    let execution = StaleExecution {
        core: inst.core as u16,
        ip: inst.ip,
        cycle: now,
        inst_seq: inst.inst_seq,
        len: inst.bytes.len() as u8,
        stale,
        current,
        writer: write.core,
        visible_at: write.cycle,
        serialized_at: inst.serialized_at,
    };
    Some((execution, write.inst_seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_or_never_written_code_is_not_stale() {
        let mut memory = Memory::new();
        memory.load_bytes(0x1000, &[0xb8, 1, 0, 0, 0]);
        let mut writes = LineWrites::default();
        let inst = Retiring {
            core: 1,
            inst_seq: 7,
            ip: 0x1000,
            bytes: &[0xb8, 1, 0, 0, 0],
            serialized_at: 12,
        };
        assert_eq!(check(&inst, &writes, &memory, 50), None, "never written");
        writes.record(0, 3, 0x1001, 4, 40);
        assert_eq!(
            check(&inst, &writes, &memory, 50),
            None,
            "rewritten with the same bytes"
        );
        memory.write_u8(0x1001, 2);
        let (stale, writer_seq) = check(&inst, &writes, &memory, 50).expect("bytes differ");
        assert_eq!((stale.writer, stale.visible_at, writer_seq), (0, 40, 3));
        assert_eq!(stale.stale_disassembly(), "mov eax, 0x1");
        assert_eq!(stale.current_disassembly(), "mov eax, 0x2");
        assert!(stale.to_string().contains("10 cycles before"), "{stale}");
        assert!(
            stale
                .to_string()
                .contains("last serialized at cycle 12, before"),
            "{stale}"
        );
    }
}
