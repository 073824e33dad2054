//! Writing `.synctrace` files: records are encoded into one reused buffer that is
//! handed to the writer in large chunks, so writing costs a few copies per event.

use std::io::{self, Write};

use sim_core::machine::{InstRecord, MemEvent, StaleExecution, TraceEvent};

use crate::TraceHeader;
use crate::layout::{FORMAT_VERSION, MAGIC, clear_code, fence_code, serialize_code, tag};

/// Bytes gathered before they are passed to the writer.
const CHUNK: usize = 1 << 16;

/// Write `events` as a `.synctrace` file with `header`. The writer needs no
/// buffering of its own. Fails only if writing fails or the metadata is longer than
/// 4 GiB.
pub fn write_trace(
    mut w: impl Write,
    header: &TraceHeader,
    events: &[TraceEvent],
) -> io::Result<()> {
    let metadata_len = u32::try_from(header.metadata.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "trace metadata longer than 4 GiB",
        )
    })?;
    let mut enc = Encoder {
        buf: Vec::with_capacity(CHUNK + 256),
    };
    enc.bytes(&MAGIC);
    enc.u32(FORMAT_VERSION);
    enc.u16(header.cores);
    enc.u64(header.seed);
    enc.u64(events.len() as u64);
    enc.u32(metadata_len);
    w.write_all(&enc.buf)?;
    w.write_all(header.metadata.as_bytes())?;
    enc.buf.clear();
    for event in events {
        enc.event(event);
        if enc.buf.len() >= CHUNK {
            w.write_all(&enc.buf)?;
            enc.buf.clear();
        }
    }
    w.write_all(&enc.buf)?;
    w.flush()
}

/// Little-endian fields appended to a buffer.
struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// The tag, core and cycle most records start with.
    fn start(&mut self, tag: u8, core: u16, cycle: u64) {
        self.u8(tag);
        self.u16(core);
        self.u64(cycle);
    }

    /// One record: tag byte, then the fields in the order `docs/trace-format.md` lists.
    fn event(&mut self, event: &TraceEvent) {
        match *event {
            TraceEvent::Inst(ref r) => self.inst(r),
            TraceEvent::MachineClear {
                core,
                cycle,
                inst_seq,
                reason,
            } => {
                let (kind, addr, by_core) = clear_code(reason);
                self.start(tag::MACHINE_CLEAR, core, cycle);
                self.u64(inst_seq);
                self.u8(kind);
                self.u64(addr);
                self.u16(by_core);
            }
            TraceEvent::Mispredict {
                core,
                cycle,
                inst_seq,
                ip,
            } => {
                self.start(tag::MISPREDICT, core, cycle);
                self.u64(inst_seq);
                self.u64(ip);
            }
            TraceEvent::SbFull { core, cycle } => self.start(tag::SB_FULL, core, cycle),
            TraceEvent::FenceStall {
                core,
                cycle,
                inst_seq,
                kind,
            } => {
                self.start(tag::FENCE_STALL, core, cycle);
                self.u64(inst_seq);
                self.u8(fence_code(kind));
            }
            TraceEvent::StaleExecution(ref s) => {
                self.u8(tag::STALE_EXECUTION);
                self.stale(s);
            }
            TraceEvent::Serialize {
                core,
                cycle,
                inst_seq,
                reason,
            } => {
                let (kind, arg) = serialize_code(reason);
                self.start(tag::SERIALIZE, core, cycle);
                self.u64(inst_seq);
                self.u8(kind);
                self.u32(arg);
            }
            TraceEvent::IpiSent {
                core,
                cycle,
                to,
                vector,
                arrives,
            } => {
                self.start(tag::IPI_SENT, core, cycle);
                self.u16(to);
                self.u8(vector);
                self.u64(arrives);
            }
            TraceEvent::InterruptTaken {
                core,
                cycle,
                vector,
                ip,
                woke,
            } => {
                self.start(tag::INTERRUPT_TAKEN, core, cycle);
                self.u8(vector);
                self.u64(ip);
                self.u8(u8::from(woke));
            }
            TraceEvent::Exception {
                core,
                cycle,
                vector,
                ip,
            } => {
                self.start(tag::EXCEPTION, core, cycle);
                self.u8(vector);
                self.u64(ip);
            }
            TraceEvent::PrivilegeChange {
                core,
                cycle,
                cpl,
                ip,
            } => {
                self.start(tag::PRIVILEGE_CHANGE, core, cycle);
                self.u8(cpl);
                self.u64(ip);
            }
            TraceEvent::Sleep { core, cycle } => self.start(tag::SLEEP, core, cycle),
            TraceEvent::SyncPoint {
                core,
                cycle,
                contract,
            } => {
                self.start(tag::SYNC_POINT, core, cycle);
                self.u16(contract);
            }
            TraceEvent::ContractViolation {
                contract,
                ref stale,
            } => {
                self.u8(tag::CONTRACT_VIOLATION);
                self.u16(contract);
                self.stale(stale);
            }
            TraceEvent::StoreBuffered(ref m) => self.mem(tag::STORE_BUFFERED, m),
            TraceEvent::StoreVisible {
                ref store,
                buffered,
            } => {
                self.mem(tag::STORE_VISIBLE, store);
                self.u8(u8::from(buffered));
            }
            TraceEvent::LoadRetired(ref m) => self.mem(tag::LOAD_RETIRED, m),
            TraceEvent::Syscall {
                core,
                cycle,
                inst_seq,
                ip,
                number,
                args,
            } => {
                self.start(tag::SYSCALL, core, cycle);
                self.u64(inst_seq);
                self.u64(ip);
                self.u64(number);
                for arg in args {
                    self.u64(arg);
                }
            }
        }
    }

    /// A data access: tag, core, cycle, sequence number, address, width, value.
    fn mem(&mut self, tag: u8, m: &MemEvent) {
        self.start(tag, m.core, m.cycle);
        self.u64(m.inst_seq);
        self.u64(m.addr);
        self.u8(m.width);
        self.u64(m.value);
    }

    fn inst(&mut self, r: &InstRecord) {
        self.u8(tag::INST);
        self.u16(r.core);
        self.u8(r.len);
        self.u8(u8::from(r.squashed));
        self.bytes(&r.bytes);
        self.u64(r.seq);
        self.u64(r.ip);
        self.u64(r.fetch);
        for offset in r.stages {
            self.u32(offset);
        }
    }

    fn stale(&mut self, s: &StaleExecution) {
        self.u16(s.core);
        self.u64(s.cycle);
        self.u64(s.ip);
        self.u64(s.inst_seq);
        self.u8(s.len);
        self.bytes(&s.stale);
        self.bytes(&s.current);
        self.u16(s.writer);
        self.u64(s.visible_at);
        self.u64(s.serialized_at);
    }
}
