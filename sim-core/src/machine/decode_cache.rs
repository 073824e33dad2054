//! Decoded instructions, shared by all cores and kept for the whole run, so each
//! `(address, bytes)` pair is decoded and cracked once.
//!
//! Lookups are keyed by address and confirmed against the bytes actually fetched: a
//! core that fetched old bytes keeps executing the old instruction, and new bytes at
//! the same address get a new entry (stale-code detection relies on this).

use super::addr_map::AddrMap;

use isa::decode::{DecodedInst, decode_inst};

/// Index of an instruction in the [`DecodeCache`]; valid for the whole run.
pub type InstId = u32;

/// Arena of decoded instructions plus an address index to the latest decode.
#[derive(Debug, Default)]
pub struct DecodeCache {
    insts: Vec<DecodedInst>,
    by_ip: AddrMap<InstId>,
}

/// Why a window of bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeFailure {
    /// The window may be too short: fetch more bytes and try again.
    NeedBytes,
    /// The bytes are not an instruction synclab understands.
    Invalid(String),
}

impl DecodeCache {
    /// An empty cache.
    pub fn new() -> DecodeCache {
        DecodeCache::default()
    }

    /// The instruction at `ip` whose bytes start `window`. `complete` says the window
    /// holds the 15 bytes an instruction can span (otherwise a failed decode may only
    /// mean more bytes are needed).
    pub fn lookup(
        &mut self,
        ip: u64,
        window: &[u8],
        complete: bool,
    ) -> Result<InstId, DecodeFailure> {
        if let Some(&id) = self.by_ip.get(&ip) {
            let inst = &self.insts[id as usize];
            let len = usize::from(inst.len);
            let known = len.min(window.len());
            if inst.bytes[..known] == window[..known] {
                // The cached instruction, or the start of it (wait for the rest).
                return if known == len {
                    Ok(id)
                } else {
                    Err(DecodeFailure::NeedBytes)
                };
            }
        }
        match decode_inst(window, ip) {
            Ok(inst) => {
                let id = InstId::try_from(self.insts.len())
                    .expect("fewer than 2^32 distinct instructions");
                self.insts.push(inst);
                self.by_ip.insert(ip, id);
                Ok(id)
            }
            Err(_) if !complete => Err(DecodeFailure::NeedBytes),
            Err(e) => Err(DecodeFailure::Invalid(e.to_string())),
        }
    }

    /// The decoded instruction `id`.
    pub fn get(&self, id: InstId) -> &DecodedInst {
        &self.insts[id as usize]
    }
}
