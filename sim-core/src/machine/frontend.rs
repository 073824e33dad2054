//! The in-order front end: fetch 16-byte blocks through the I-cache into the prefetch
//! buffer, decode them into the decoded-uop queue, predict branches.
//!
//! The front end works on its *own copies* of the bytes (I-cache lines, prefetch
//! blocks, the bytes recorded with each decoded instruction): once fetched, bytes are
//! not re-read from memory unless something invalidates them.

use std::collections::VecDeque;

use isa::class::InstClass;
use isa::reg::Width;
use isa::uop::{Operand, Uop, UopKind};

use super::config::CoreConfig;
use super::decode_cache::{DecodeCache, DecodeFailure, InstId};
use super::icache::ICache;
use super::memsys::{LINE, MemSys, line_of};
use super::predictor::{Predictor, RasCheckpoint};
use super::store_buffer::StoreBuffer;
use crate::mem::Memory;

/// Bytes per fetch block.
pub const BLOCK: u64 = 16;
/// Longest x86 instruction.
const MAX_INST: usize = 15;

/// Stand-in uop for instructions that crack to nothing (and undecodable ones).
const NOP: Uop = Uop {
    kind: UopKind::Nop,
    width: Width::B8,
    dst: Operand::None,
    srcs: [Operand::None; 2],
    mem: None,
    flags_written: isa::flags::Flags::empty(),
    locked: false,
};

/// Where an instruction is and where the front end went after it.
#[derive(Copy, Clone, Debug)]
struct InstAt {
    class: InstClass,
    ip: u64,
    next_ip: u64,
    predicted_next: u64,
    fetched: u64,
}

/// What the decoder finds at its position in the prefetch buffer.
enum Window {
    /// Nothing fetched there yet.
    Wait,
    /// The first block is not the one decode is at (fetch took a path decode did not).
    Mismatch,
    /// `n` bytes from contiguous blocks; `cut` when the next block is not contiguous
    /// (fetch jumped away), so no more bytes will arrive.
    Bytes {
        /// Bytes copied.
        n: usize,
        /// Fetch cycle of the first block.
        fetched: u64,
        /// The bytes end at a jump of fetch.
        cut: bool,
    },
}

/// One 16-byte block in the prefetch buffer.
#[derive(Clone, Debug)]
struct FetchBlock {
    addr: u64,
    bytes: [u8; BLOCK as usize],
    ready: u64,
    fetched: u64,
}

/// One uop in the decoded-uop queue, with what rename and retirement need to know
/// about its instruction.
#[derive(Clone, Debug)]
pub struct QueuedUop {
    /// The uop.
    pub uop: Uop,
    /// Its instruction, or `None` for an undecodable one (faults if it retires).
    pub inst: Option<InstId>,
    /// The instruction's class (serializing, locked, branch...).
    pub class: InstClass,
    /// First uop of its instruction.
    pub first: bool,
    /// Last uop of its instruction.
    pub last: bool,
    /// Instruction sequence number (per core, never reused).
    pub inst_seq: u64,
    /// Instruction address.
    pub ip: u64,
    /// Address of the next instruction in memory order (fall-through).
    pub next_ip: u64,
    /// Where the front end went after this instruction.
    pub predicted_next: u64,
    /// Cycle the first byte was fetched.
    pub fetched: u64,
    /// Cycle decode finished (the uop may be renamed from then on).
    pub decoded: u64,
    /// Return-stack position after this instruction, restored if younger work is squashed.
    pub ras: RasCheckpoint,
}

/// Fetch, I-cache, prefetch buffer, decoder and branch predictor of one core.
#[derive(Debug)]
pub struct Frontend {
    /// The instruction cache (copies of code lines).
    pub icache: ICache,
    /// Branch predictors.
    pub predictor: Predictor,
    /// Decoded-uop queue (between decode and rename).
    pub queue: VecDeque<QueuedUop>,
    /// Message of the decode failure that stopped the front end, if any.
    pub fault: Option<String>,
    blocks: VecDeque<FetchBlock>,
    fetch_ip: u64,
    decode_ip: u64,
    resume_at: u64,
    fill: Option<(u64, u64)>,
    stopped: bool,
    next_inst_seq: u64,
    config: CoreConfig,
}

/// What the front end is doing, for the watchdog.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrontendState {
    /// Stopped after `hlt`, a serializing instruction or an undecodable one.
    Stopped,
    /// Waiting for an I-cache fill of this line.
    Filling(u64),
    /// Fetching at this address.
    Fetching(u64),
}

impl Frontend {
    /// A front end that starts fetching at `rip` at cycle `start`.
    pub fn new(config: &CoreConfig, rip: u64, start: u64) -> Frontend {
        Frontend {
            icache: ICache::new(config.icache_sets, config.icache_ways),
            predictor: Predictor::new(config),
            queue: VecDeque::with_capacity(config.uop_queue),
            fault: None,
            blocks: VecDeque::with_capacity(config.prefetch_depth),
            fetch_ip: rip,
            decode_ip: rip,
            resume_at: start,
            fill: None,
            stopped: false,
            next_inst_seq: 0,
            config: config.clone(),
        }
    }

    /// Throw away everything fetched and decoded, and restart at `ip` at cycle `resume_at`.
    pub fn redirect(&mut self, ip: u64, resume_at: u64, ras: Option<RasCheckpoint>) {
        self.blocks.clear();
        self.queue.clear();
        self.fill = None;
        self.stopped = false;
        self.fault = None;
        self.fetch_ip = ip;
        self.decode_ip = ip;
        self.resume_at = resume_at;
        if let Some(ras) = ras {
            self.predictor.restore(ras);
        }
    }

    /// Stop fetching for good (the core halted).
    pub fn halt(&mut self) {
        self.redirect(self.decode_ip, u64::MAX, None);
        self.stopped = true;
    }

    /// Whether fetch stopped after an instruction whose successor it cannot know
    /// (`hlt`, a serializing instruction, an undecodable one).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether any fetched-but-not-renamed bytes lie in `[addr, addr+len)`.
    pub fn holds_bytes(&self, addr: u64, len: u64) -> bool {
        self.blocks
            .iter()
            .any(|b| b.addr < addr + len && addr < b.addr + BLOCK)
    }

    /// What the front end is waiting for.
    pub fn state(&self) -> FrontendState {
        match (self.stopped, self.fill) {
            (true, _) => FrontendState::Stopped,
            (false, Some((line, _))) => FrontendState::Filling(line),
            (false, None) => FrontendState::Fetching(self.fetch_ip),
        }
    }

    /// Fetch at most one block into the prefetch buffer.
    pub fn fetch(&mut self, now: u64, memsys: &mut MemSys, memory: &Memory, sb: &StoreBuffer) {
        if self.stopped || now < self.resume_at || self.blocks.len() >= self.config.prefetch_depth {
            return;
        }
        let line = line_of(self.fetch_ip);
        if !self.icache.contains(line) {
            match self.fill {
                None => {
                    self.fill = Some((line, now + memsys.code_fill_latency(line)));
                    return;
                }
                // Own stores not yet visible to this line: the fill would read old bytes.
                Some((_, ready)) if now < ready || sb.touches(line, LINE) => return,
                Some(_) => {
                    let mut bytes = [0u8; LINE as usize];
                    for (i, b) in bytes.iter_mut().enumerate() {
                        *b = memory.read_u8(line + i as u64);
                    }
                    self.icache.fill(line, &bytes);
                    self.fill = None;
                }
            }
        }
        let block = self.fetch_ip & !(BLOCK - 1);
        let Some(copy) = self.icache.lookup(line) else {
            return;
        };
        let at = (block - line) as usize;
        let mut bytes = [0u8; BLOCK as usize];
        bytes.copy_from_slice(&copy[at..at + BLOCK as usize]);
        self.blocks.push_back(FetchBlock {
            addr: block,
            bytes,
            ready: now + self.config.icache_latency,
            fetched: now,
        });
        // Fetch ahead along the predicted path: leave the block at a known taken branch.
        let entered_at = self.fetch_ip - block;
        self.fetch_ip = self
            .predictor
            .block_exit(block, entered_at)
            .unwrap_or(block + BLOCK);
    }

    /// Drop the prefetched blocks from `keep` on and fetch again at `ip`.
    fn refetch(&mut self, keep: usize, ip: u64) {
        self.blocks.truncate(keep);
        self.fill = None;
        self.fetch_ip = ip;
    }

    /// The ready bytes at the decode position (at most 15), from contiguous blocks.
    fn window(&self, now: u64, out: &mut [u8; MAX_INST]) -> Window {
        let Some(first) = self.blocks.front().filter(|b| b.ready <= now) else {
            return Window::Wait;
        };
        if !(first.addr..first.addr + BLOCK).contains(&self.decode_ip) {
            return Window::Mismatch;
        }
        let mut n = 0;
        let mut at = self.decode_ip;
        let mut cut = false;
        let ready = self.blocks.iter().take_while(|b| b.ready <= now);
        for (i, block) in ready.enumerate() {
            if i > 0 && block.addr != at {
                cut = true;
                break;
            }
            while n < MAX_INST && at < block.addr + BLOCK {
                out[n] = block.bytes[(at - block.addr) as usize];
                n += 1;
                at += 1;
            }
            if n == MAX_INST {
                break;
            }
        }
        Window::Bytes {
            n,
            fetched: first.fetched,
            cut,
        }
    }

    /// Decode up to `decode_width` instructions into the uop queue.
    pub fn decode(&mut self, now: u64, cache: &mut DecodeCache) {
        for _ in 0..self.config.decode_width {
            if self.stopped {
                return;
            }
            let mut window = [0u8; MAX_INST];
            let (n, fetched, cut) = match self.window(now, &mut window) {
                Window::Wait => return,
                Window::Bytes { n, fetched, cut } => (n, fetched, cut),
                Window::Mismatch => {
                    // Fetch followed a taken branch that decode does not predict.
                    let previous = self.decode_ip.wrapping_sub(1);
                    self.predictor.forget_exit(previous & !(BLOCK - 1));
                    self.refetch(0, self.decode_ip);
                    return;
                }
            };
            let ip = self.decode_ip;
            let id = match cache.lookup(ip, &window[..n], n == MAX_INST) {
                Ok(id) => id,
                Err(DecodeFailure::NeedBytes) => {
                    if cut {
                        // The instruction continues where fetch jumped away: refetch.
                        let block = self.blocks[0].addr;
                        self.predictor.forget_exit(block);
                        self.refetch(1, block + BLOCK);
                    }
                    return;
                }
                Err(DecodeFailure::Invalid(message)) => {
                    if self.queue.len() >= self.config.uop_queue {
                        return;
                    }
                    self.fault = Some(message);
                    let at = InstAt {
                        class: InstClass::empty(),
                        ip,
                        next_ip: ip,
                        predicted_next: ip,
                        fetched,
                    };
                    self.push_inst(None, &[NOP], at, now);
                    self.stopped = true;
                    return;
                }
            };
            let inst = cache.get(id);
            let n_uops = inst.uops.len().max(1);
            if self.queue.len() + n_uops > self.config.uop_queue {
                return;
            }
            let next_ip = ip + inst.len as u64;
            let (predicted, taken) = self.predict(inst.class, &inst.uops, ip, next_ip);
            let class = inst.class;
            let uops: &[Uop] = if inst.uops.is_empty() {
                &[NOP]
            } else {
                &inst.uops
            };
            let at = InstAt {
                class,
                ip,
                next_ip,
                predicted_next: predicted,
                fetched,
            };
            self.push_inst(Some(id), uops, at, now);
            self.decode_ip = predicted;
            if class.intersects(InstClass::HALT | InstClass::SERIALIZING) {
                self.stopped = true;
                return;
            }
            // Drop the blocks holding this instruction's bytes, except the one sequential
            // decoding continues in.
            let first_end = self.blocks[0].addr + BLOCK;
            let mut used = 1 + usize::from(next_ip > first_end);
            if !taken && !next_ip.is_multiple_of(BLOCK) {
                used -= 1;
            }
            self.blocks.drain(..used.min(self.blocks.len()));
            if taken {
                let last_byte = next_ip - 1;
                self.predictor.learn_exit(last_byte, predicted);
                if !self
                    .blocks
                    .front()
                    .is_some_and(|b| (b.addr..b.addr + BLOCK).contains(&predicted))
                {
                    self.refetch(0, predicted);
                }
                return;
            }
        }
    }

    /// Predicted next address and whether it is a taken branch.
    fn predict(&mut self, class: InstClass, uops: &[Uop], ip: u64, next_ip: u64) -> (u64, bool) {
        if !class.contains(InstClass::BRANCH) {
            return (next_ip, false);
        }
        if class.contains(InstClass::CALL) {
            self.predictor.push_return(next_ip);
        }
        let direct = uops.iter().find_map(|u| match (u.kind, u.srcs[0]) {
            (UopKind::Branch { .. }, Operand::Imm(target)) => Some(target),
            _ => None,
        });
        let target = if class.contains(InstClass::RET) {
            self.predictor
                .pop_return()
                .or_else(|| self.predictor.target(ip))
        } else if class.contains(InstClass::INDIRECT) {
            self.predictor.target(ip)
        } else {
            direct
        };
        let taken = !class.contains(InstClass::COND_BRANCH) || self.predictor.taken(ip);
        match target {
            Some(t) if taken => (t, true),
            _ => (next_ip, false),
        }
    }

    fn push_inst(&mut self, inst: Option<InstId>, uops: &[Uop], at: InstAt, now: u64) {
        let inst_seq = self.next_inst_seq;
        self.next_inst_seq += 1;
        let ras = self.predictor.checkpoint();
        for (i, uop) in uops.iter().enumerate() {
            self.queue.push_back(QueuedUop {
                uop: *uop,
                inst,
                class: at.class,
                first: i == 0,
                last: i + 1 == uops.len(),
                inst_seq,
                ip: at.ip,
                next_ip: at.next_ip,
                predicted_next: at.predicted_next,
                fetched: at.fetched,
                decoded: now + self.config.decode_latency,
                ras,
            });
        }
    }
}
