//! Reading `.synctrace` files: the whole file in one buffer, decoded in place into a
//! vector of `Copy` events sized once from the header. No allocation per event.

use std::io::Read;

use sim_core::machine::{InstRecord, MemEvent, Stage, StaleExecution, TraceEvent};

use crate::error::{Part, TraceFormatError};
use crate::layout::{
    FORMAT_VERSION, MAGIC, MIN_RECORD_LEN, clear_from, fence_from, serialize_from, tag,
};
use crate::{TraceFile, TraceHeader};

/// The longest instruction, the size of the byte arrays in records.
const MAX_INST_LEN: u8 = 15;

/// Read a whole `.synctrace` file from `r` (which needs no buffering of its own).
pub fn read_trace(mut r: impl Read) -> Result<TraceFile, TraceFormatError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    decode_trace(&bytes)
}

/// Decode the bytes of a `.synctrace` file.
pub fn decode_trace(bytes: &[u8]) -> Result<TraceFile, TraceFormatError> {
    check_magic(bytes)?;
    let mut rd = Reader {
        bytes,
        pos: MAGIC.len(),
        part: Part::Header,
    };
    let version = rd.u32()?;
    if version != FORMAT_VERSION {
        return Err(TraceFormatError::WrongVersion { found: version });
    }
    let cores = rd.u16()?;
    let seed = rd.u64()?;
    let count = rd.u64()?;
    let metadata_len = rd.u32()?;
    let start = rd.pos;
    rd.part = Part::Metadata { start };
    let metadata = std::str::from_utf8(rd.take(metadata_len as usize)?)
        .map_err(|_| TraceFormatError::BadMetadata { offset: start })?
        .to_owned();
    let room = (bytes.len() - rd.pos) / MIN_RECORD_LEN;
    let mut events = Vec::with_capacity(usize::try_from(count).unwrap_or(usize::MAX).min(room));
    for index in 0..count {
        rd.part = Part::Event {
            index,
            count,
            start: rd.pos,
        };
        events.push(rd.event()?);
    }
    if rd.pos != bytes.len() {
        return Err(TraceFormatError::TrailingData {
            extra: bytes.len() - rd.pos,
            count,
            offset: rd.pos,
        });
    }
    Ok(TraceFile {
        header: TraceHeader {
            cores,
            seed,
            metadata,
        },
        events,
    })
}

/// A file shorter than the magic is truncated if what there is matches it.
fn check_magic(bytes: &[u8]) -> Result<(), TraceFormatError> {
    let head = &bytes[..bytes.len().min(MAGIC.len())];
    if head != &MAGIC[..head.len()] {
        return Err(TraceFormatError::NotATrace {
            found: String::from_utf8_lossy(head).into_owned(),
        });
    }
    if head.len() < MAGIC.len() {
        return Err(TraceFormatError::Truncated {
            offset: bytes.len(),
            part: Part::Header,
        });
    }
    Ok(())
}

/// A cursor over the file's bytes that knows which part it is reading, for errors.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    part: Part,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], TraceFormatError> {
        match self.bytes.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(self.truncated()),
        }
    }

    /// Kept out of line: the decoding loop stays small.
    #[cold]
    fn truncated(&self) -> TraceFormatError {
        TraceFormatError::Truncated {
            offset: self.bytes.len(),
            part: self.part,
        }
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TraceFormatError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, TraceFormatError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, TraceFormatError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, TraceFormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, TraceFormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn invalid(&self, field: &'static str, value: u64, offset: usize) -> TraceFormatError {
        TraceFormatError::InvalidField {
            field,
            value,
            offset,
            part: self.part,
        }
    }

    /// A byte that must be 0 or 1.
    fn flag(&mut self, field: &'static str) -> Result<bool, TraceFormatError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.invalid(field, v.into(), at)),
        }
    }

    /// An instruction length: at most the 15 bytes records hold.
    fn inst_len(&mut self) -> Result<u8, TraceFormatError> {
        let at = self.pos;
        let len = self.u8()?;
        if len > MAX_INST_LEN {
            return Err(self.invalid("instruction length", len.into(), at));
        }
        Ok(len)
    }

    /// A one-byte code that `decode` maps to a value, or rejects.
    fn code<T>(
        &mut self,
        field: &'static str,
        decode: impl FnOnce(u8) -> Option<T>,
    ) -> Result<T, TraceFormatError> {
        let at = self.pos;
        let code = self.u8()?;
        decode(code).ok_or_else(|| self.invalid(field, code.into(), at))
    }

    /// Core and cycle, the fields after the tag of most records.
    fn start(&mut self) -> Result<(u16, u64), TraceFormatError> {
        Ok((self.u16()?, self.u64()?))
    }

    /// One record, tag first. Struct fields below are read in the order written,
    /// which is the byte order of `docs/trace-format.md`.
    fn event(&mut self) -> Result<TraceEvent, TraceFormatError> {
        let tag_at = self.pos;
        let t = self.u8()?;
        Ok(match t {
            tag::INST => TraceEvent::Inst(self.inst()?),
            tag::MACHINE_CLEAR => {
                let (core, cycle) = self.start()?;
                let inst_seq = self.u64()?;
                let at = self.pos;
                let (kind, addr, by_core) = (self.u8()?, self.u64()?, self.u16()?);
                let reason = clear_from(kind, addr, by_core)
                    .ok_or_else(|| self.invalid("machine-clear reason", kind.into(), at))?;
                TraceEvent::MachineClear {
                    core,
                    cycle,
                    inst_seq,
                    reason,
                }
            }
            tag::MISPREDICT => {
                let (core, cycle) = self.start()?;
                TraceEvent::Mispredict {
                    core,
                    cycle,
                    inst_seq: self.u64()?,
                    ip: self.u64()?,
                }
            }
            tag::SB_FULL => {
                let (core, cycle) = self.start()?;
                TraceEvent::SbFull { core, cycle }
            }
            tag::FENCE_STALL => {
                let (core, cycle) = self.start()?;
                TraceEvent::FenceStall {
                    core,
                    cycle,
                    inst_seq: self.u64()?,
                    kind: self.code("fence kind", fence_from)?,
                }
            }
            tag::STALE_EXECUTION => TraceEvent::StaleExecution(self.stale()?),
            tag::SERIALIZE => {
                let (core, cycle) = self.start()?;
                let inst_seq = self.u64()?;
                let at = self.pos;
                let (kind, arg) = (self.u8()?, self.u32()?);
                let reason = serialize_from(kind, arg)
                    .ok_or_else(|| self.invalid("serialize reason", kind.into(), at))?;
                TraceEvent::Serialize {
                    core,
                    cycle,
                    inst_seq,
                    reason,
                }
            }
            tag::IPI_SENT => {
                let (core, cycle) = self.start()?;
                TraceEvent::IpiSent {
                    core,
                    cycle,
                    to: self.u16()?,
                    vector: self.u8()?,
                    arrives: self.u64()?,
                }
            }
            tag::INTERRUPT_TAKEN => {
                let (core, cycle) = self.start()?;
                TraceEvent::InterruptTaken {
                    core,
                    cycle,
                    vector: self.u8()?,
                    ip: self.u64()?,
                    woke: self.flag("woke flag")?,
                }
            }
            tag::EXCEPTION => {
                let (core, cycle) = self.start()?;
                TraceEvent::Exception {
                    core,
                    cycle,
                    vector: self.u8()?,
                    ip: self.u64()?,
                }
            }
            tag::PRIVILEGE_CHANGE => {
                let (core, cycle) = self.start()?;
                TraceEvent::PrivilegeChange {
                    core,
                    cycle,
                    cpl: self.u8()?,
                    ip: self.u64()?,
                }
            }
            tag::SLEEP => {
                let (core, cycle) = self.start()?;
                TraceEvent::Sleep { core, cycle }
            }
            tag::SYNC_POINT => {
                let (core, cycle) = self.start()?;
                TraceEvent::SyncPoint {
                    core,
                    cycle,
                    contract: self.u16()?,
                }
            }
            tag::CONTRACT_VIOLATION => TraceEvent::ContractViolation {
                contract: self.u16()?,
                stale: self.stale()?,
            },
            tag::STORE_BUFFERED => TraceEvent::StoreBuffered(self.mem()?),
            tag::STORE_VISIBLE => TraceEvent::StoreVisible {
                store: self.mem()?,
                buffered: self.flag("buffered flag")?,
            },
            tag::LOAD_RETIRED => TraceEvent::LoadRetired(self.mem()?),
            tag::SYSCALL => {
                let (core, cycle) = self.start()?;
                TraceEvent::Syscall {
                    core,
                    cycle,
                    inst_seq: self.u64()?,
                    ip: self.u64()?,
                    number: self.u64()?,
                    args: [self.u64()?, self.u64()?, self.u64()?],
                }
            }
            _ => {
                return Err(TraceFormatError::UnknownTag {
                    tag: t,
                    offset: tag_at,
                    part: self.part,
                });
            }
        })
    }

    fn inst(&mut self) -> Result<InstRecord, TraceFormatError> {
        let core = self.u16()?;
        let len = self.inst_len()?;
        let squashed = self.flag("squashed flag")?;
        let bytes = self.array()?;
        let seq = self.u64()?;
        let ip = self.u64()?;
        let fetch_at = self.pos;
        let fetch = self.u64()?;
        // Stage cycles are `fetch + offset`: keep that sum representable.
        if fetch > u64::MAX - u64::from(u32::MAX) {
            return Err(self.invalid("fetch cycle", fetch, fetch_at));
        }
        let mut stages = [0; Stage::COUNT];
        for offset in &mut stages {
            *offset = self.u32()?;
        }
        Ok(InstRecord {
            core,
            len,
            squashed,
            bytes,
            seq,
            ip,
            fetch,
            stages,
        })
    }

    /// A data access after its tag; the width must be 1, 2, 4 or 8.
    fn mem(&mut self) -> Result<MemEvent, TraceFormatError> {
        let (core, cycle) = self.start()?;
        let inst_seq = self.u64()?;
        let addr = self.u64()?;
        let at = self.pos;
        let width = self.u8()?;
        if !matches!(width, 1 | 2 | 4 | 8) {
            return Err(self.invalid("access width", width.into(), at));
        }
        Ok(MemEvent {
            core,
            cycle,
            inst_seq,
            addr,
            width,
            value: self.u64()?,
        })
    }

    fn stale(&mut self) -> Result<StaleExecution, TraceFormatError> {
        Ok(StaleExecution {
            core: self.u16()?,
            cycle: self.u64()?,
            ip: self.u64()?,
            inst_seq: self.u64()?,
            len: self.inst_len()?,
            stale: self.array()?,
            current: self.array()?,
            writer: self.u16()?,
            visible_at: self.u64()?,
            serialized_at: self.u64()?,
        })
    }
}
