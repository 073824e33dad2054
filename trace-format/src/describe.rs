//! Text the exporters share: disassembly (cached: a loop disassembles the same few
//! instructions a million times) and names of the small enums inside events.

use std::collections::HashMap;

use isa::uop::FenceKind;
use sim_core::machine::{ClearReason, InstRecord, MemEvent, StaleExecution};

use crate::TraceHeader;
use crate::meta::TraceMeta;

/// Intel-syntax disassembly of instruction bytes at an address, each distinct
/// instruction decoded once.
#[derive(Default)]
pub(crate) struct Disassembler {
    cache: HashMap<(u64, [u8; 15], u8), String>,
}

impl Disassembler {
    /// The text of `bytes` (at most 15) decoded at `ip`; `(bad)` if they do not decode.
    pub(crate) fn text(&mut self, ip: u64, bytes: &[u8]) -> &str {
        let mut key = [0; 15];
        let len = bytes.len().min(15);
        key[..len].copy_from_slice(&bytes[..len]);
        self.cache.entry((ip, key, len as u8)).or_insert_with(|| {
            match isa::decode::decode(&bytes[..len], ip) {
                Ok(instr) => isa::decode::format_intel(&instr),
                Err(_) => "(bad)".to_string(),
            }
        })
    }

    /// The instruction a record executed.
    pub(crate) fn inst(&mut self, r: &InstRecord) -> &str {
        self.text(r.ip, r.inst_bytes())
    }

    /// What a stale execution ran and what memory held instead.
    pub(crate) fn stale_pair(&mut self, s: &StaleExecution) -> (String, String) {
        (
            self.text(s.ip, s.stale_bytes()).to_owned(),
            self.text(s.ip, s.current_bytes()).to_owned(),
        )
    }
}

/// The mnemonic of a fence kind (`Mfence` also stands for locked instructions).
pub(crate) fn fence_name(kind: FenceKind) -> &'static str {
    match kind {
        FenceKind::Mfence => "mfence",
        FenceKind::Lfence => "lfence",
        FenceKind::Sfence => "sfence",
    }
}

/// Why a machine clear happened, in words.
pub(crate) fn clear_text(reason: ClearReason) -> String {
    match reason {
        ClearReason::MemoryOrdering { line, by_core } => {
            format!("memory ordering: core {by_core} wrote line {line:#x}")
        }
        ClearReason::SelfModifyingCode { addr } => {
            format!("self-modifying code: store to {addr:#x}")
        }
    }
}

/// A data access in words: `8 bytes at 0x1000010 = 0x1001000`.
pub(crate) fn access_text(m: &MemEvent) -> String {
    format!("{} bytes at {:#x} = {:#x}", m.width, m.addr, m.value)
}

/// One line about a stale execution: what ran, what memory held, who wrote it when.
pub(crate) fn stale_text(s: &StaleExecution, executed: &str, memory: &str) -> String {
    format!(
        "stale code: executed `{executed}` but memory held `{memory}` (written by core {}, visible at cycle {}, {} cycles before)",
        s.writer,
        s.visible_at,
        s.cycle.saturating_sub(s.visible_at)
    )
}

/// Contract names by index, as the recorder listed them in the header's metadata:
/// events carry only the index.
pub(crate) struct Contracts {
    names: Vec<String>,
}

impl Contracts {
    /// The names `header`'s metadata lists (none if it has no `contracts`).
    pub(crate) fn of(header: &TraceHeader) -> Contracts {
        Contracts {
            names: TraceMeta::parse(&header.metadata).contracts,
        }
    }

    /// The contract's name, or `contract N` when the recorder gave none.
    pub(crate) fn name(&self, index: u16) -> String {
        self.names
            .get(usize::from(index))
            .cloned()
            .unwrap_or_else(|| format!("contract {index}"))
    }

    /// `contract "NAME"` for prose, or `contract N` when the recorder gave no name.
    pub(crate) fn label(&self, index: u16) -> String {
        match self.names.get(usize::from(index)) {
            Some(name) => format!("contract \"{name}\""),
            None => format!("contract {index}"),
        }
    }
}
