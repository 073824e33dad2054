//! Export to Chrome trace-event JSON, which Perfetto (<https://ui.perfetto.dev>) and
//! `chrome://tracing` open.
//!
//! Timestamps are simulated cycles written as microseconds (`ts` 120 = cycle 120);
//! `otherData.time_unit` says so, and no `displayTimeUnit` is given (its "ns" would
//! show a cycle as 1000 ns). One process is the machine. Each core has an
//! `core N` thread carrying its instant events and store-buffer counter, followed by
//! `core N pipeline K` threads carrying one `X` slice per retired instruction (name:
//! disassembly; from fetch to retirement; args: address, sequence number, bytes and
//! the cycle of every stage reached).
//!
//! Why several pipeline threads per core: the trace-event format requires the `X`
//! slices of one thread to nest, and the lifetimes of pipelined instructions overlap
//! without nesting (Perfetto drops such slices). Each core's instructions are
//! therefore packed greedily into the fewest threads whose slices never overlap, the
//! lowest free one first: as many as the core had retired instructions in flight at
//! once (tens to about a hundred with the default core).
//!
//! Instant events (`i`, thread scope): IPIs sent, interrupts taken, exceptions,
//! serializations (with the reason), machine clears, mispredictions, stale executions
//! (both disassemblies and the writer core), contract violations, privilege changes,
//! store buffer full, fence stalls, sleeps and sync points; contracts by the name the
//! header's metadata gives, with their index. The counter `core N store buffer` (`C`)
//! is the number of retired instructions whose stores are waiting in that core's
//! store buffer; every core has one, from 0 at cycle 0.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::io::{self, BufWriter, Write};

use serde::Serialize;
use serde_json::{Value, json};
use sim_core::machine::{InstRecord, NEVER_SERIALIZED, Stage, StaleExecution, TraceEvent};

use crate::describe::{Contracts, Disassembler, clear_text, fence_name};
use crate::{FORMAT_VERSION, TraceHeader};

/// Process id of the machine.
const PID: u32 = 0;

/// Stage names in slice args, in pipeline order.
const STAGE_NAMES: [(Stage, &str); Stage::COUNT] = [
    (Stage::Decode, "decode"),
    (Stage::Rename, "rename"),
    (Stage::Issue, "issue"),
    (Stage::Complete, "complete"),
    (Stage::Retire, "retire"),
    (Stage::SbEnter, "sb_enter"),
    (Stage::SbDrain, "sb_drain"),
];

/// One trace event object.
#[derive(Serialize)]
struct Event<'a> {
    name: &'a str,
    ph: &'static str,
    ts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<u64>,
    pid: u32,
    tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    args: Value,
}

/// An instant event before it is placed on its core's thread.
struct Instant {
    core: u16,
    cycle: u64,
    name: &'static str,
    args: Value,
}

/// The threads of one core.
struct CoreTracks<'a> {
    core: u16,
    /// Thread of instants and the counter.
    events_tid: u32,
    /// Its retired instructions in fetch order, each with its pipeline thread.
    slices: Vec<(&'a InstRecord, u32)>,
    pipeline_tids: std::ops::Range<u32>,
}

/// Write `events` as Chrome trace-event JSON.
pub fn write_chrome(w: impl Write, header: &TraceHeader, events: &[TraceEvent]) -> io::Result<()> {
    let mut dis = Disassembler::default();
    let contracts = Contracts::of(header);
    let instants: Vec<Instant> = events
        .iter()
        .filter_map(|e| instant(e, &mut dis, &contracts))
        .collect();
    let mut retired: BTreeMap<u16, Vec<&InstRecord>> = BTreeMap::new();
    for event in events {
        if let TraceEvent::Inst(r) = event
            && !r.squashed
        {
            retired.entry(r.core).or_default().push(r);
        }
    }
    let cores: BTreeSet<u16> = (0..header.cores)
        .chain(retired.keys().copied())
        .chain(instants.iter().map(|i| i.core))
        .collect();
    let mut next_tid = 1;
    let tracks: Vec<CoreTracks> = cores
        .iter()
        .map(|&core| {
            let records = retired.remove(&core).unwrap_or_default();
            tracks_of(core, records, &mut next_tid)
        })
        .collect();

    let mut out = BufWriter::new(w);
    out.write_all(b"{\"traceEvents\":[\n")?;
    let mut list = EventList {
        w: &mut out,
        first: true,
    };
    list.push(&Event {
        name: "process_name",
        ph: "M",
        ts: 0,
        dur: None,
        pid: PID,
        tid: 0,
        s: None,
        args: json!({ "name": "synclab machine" }),
    })?;
    for t in &tracks {
        list.thread_names(t)?;
    }
    let tid_of: BTreeMap<u16, u32> = tracks.iter().map(|t| (t.core, t.events_tid)).collect();
    for i in &instants {
        list.push(&Event {
            name: i.name,
            ph: "i",
            ts: i.cycle,
            dur: None,
            pid: PID,
            tid: tid_of[&i.core],
            s: Some("t"),
            args: i.args.clone(),
        })?;
    }
    for t in &tracks {
        list.slices(t, &mut dis)?;
        list.store_buffer(t)?;
    }
    let other = json!({
        "time_unit": "ts and dur are simulated cycles written as microseconds: 1 us on the time axis is 1 cycle",
        "format": format!("exported from a synctrace file, format version {FORMAT_VERSION}"),
        "cores": header.cores,
        "seed": header.seed,
        "metadata": metadata_value(&header.metadata),
    });
    // No `displayTimeUnit`: its "ns" would show each cycle (1 us) as 1000 ns.
    out.write_all(b"\n],\n\"otherData\":")?;
    serde_json::to_writer(&mut out, &other)?;
    out.write_all(b"}\n")?;
    out.flush()
}

/// The recorder's metadata as JSON, or as a string if it is not JSON.
fn metadata_value(metadata: &str) -> Value {
    if metadata.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(metadata).unwrap_or_else(|_| Value::String(metadata.to_owned()))
}

/// Sort a core's retired instructions by fetch and pack them into pipeline threads
/// whose slices never overlap; allocate thread ids from `next_tid`.
fn tracks_of<'a>(
    core: u16,
    mut records: Vec<&'a InstRecord>,
    next_tid: &mut u32,
) -> CoreTracks<'a> {
    records.sort_by_key(|r| (r.fetch, r.seq));
    let events_tid = *next_tid;
    let first_pipeline = events_tid + 1;
    let mut free: BTreeSet<u32> = BTreeSet::new();
    let mut busy: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut lanes = 0;
    let slices = records
        .into_iter()
        .map(|r| {
            while let Some(&Reverse((end, lane))) = busy.peek() {
                if end > r.fetch {
                    break;
                }
                busy.pop();
                free.insert(lane);
            }
            let lane = free.pop_first().unwrap_or_else(|| {
                lanes += 1;
                lanes - 1
            });
            busy.push(Reverse((retire_cycle(r), lane)));
            (r, first_pipeline + lane)
        })
        .collect();
    *next_tid = first_pipeline + lanes;
    CoreTracks {
        core,
        events_tid,
        slices,
        pipeline_tids: first_pipeline..first_pipeline + lanes,
    }
}

/// When a retired instruction's slice ends.
fn retire_cycle(r: &InstRecord) -> u64 {
    r.at(Stage::Retire).unwrap_or(r.fetch)
}

/// The `traceEvents` array, written one event at a time.
struct EventList<'w, W: Write> {
    w: &'w mut W,
    first: bool,
}

impl<W: Write> EventList<'_, W> {
    fn push(&mut self, event: &Event) -> io::Result<()> {
        if !std::mem::replace(&mut self.first, false) {
            self.w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *self.w, event)?;
        Ok(())
    }

    /// A metadata event on thread `tid`.
    fn meta(&mut self, name: &str, tid: u32, args: Value) -> io::Result<()> {
        self.push(&Event {
            name,
            ph: "M",
            ts: 0,
            dur: None,
            pid: PID,
            tid,
            s: None,
            args,
        })
    }

    /// Names and order of a core's threads.
    fn thread_names(&mut self, t: &CoreTracks) -> io::Result<()> {
        let core = t.core;
        let named = std::iter::once((t.events_tid, format!("core {core}"))).chain(
            t.pipeline_tids
                .clone()
                .enumerate()
                .map(|(k, tid)| (tid, format!("core {core} pipeline {k}"))),
        );
        for (tid, name) in named {
            self.meta("thread_name", tid, json!({ "name": name }))?;
            self.meta("thread_sort_index", tid, json!({ "sort_index": tid }))?;
        }
        Ok(())
    }

    /// One `X` slice per retired instruction.
    fn slices(&mut self, t: &CoreTracks, dis: &mut Disassembler) -> io::Result<()> {
        for &(r, tid) in &t.slices {
            let stages: serde_json::Map<String, Value> = STAGE_NAMES
                .iter()
                .filter_map(|&(stage, name)| Some((name.to_owned(), r.at(stage)?.into())))
                .collect();
            self.push(&Event {
                name: dis.inst(r),
                ph: "X",
                ts: r.fetch,
                dur: Some(retire_cycle(r) - r.fetch),
                pid: PID,
                tid,
                s: None,
                args: json!({
                    "ip": format!("{:#x}", r.ip),
                    "seq": r.seq,
                    "bytes": isa::decode::hex_bytes(r.inst_bytes()),
                    "stages": stages,
                }),
            })?;
        }
        Ok(())
    }

    /// The store-buffer occupancy counter: +1 when a retired instruction's stores
    /// enter the buffer, -1 when its last store drains; one sample per changing cycle,
    /// after a zero at cycle 0 (so a core that never stores has its counter too).
    fn store_buffer(&mut self, t: &CoreTracks) -> io::Result<()> {
        let mut changes: BTreeMap<u64, i64> = BTreeMap::new();
        for &(r, _) in &t.slices {
            if let Some(enter) = r.at(Stage::SbEnter) {
                *changes.entry(enter).or_default() += 1;
                if let Some(drain) = r.at(Stage::SbDrain) {
                    *changes.entry(drain).or_default() -= 1;
                }
            }
        }
        let name = format!("core {} store buffer", t.core);
        let mut level = 0;
        for (cycle, delta) in std::iter::once((0, 0)).chain(changes) {
            level += delta;
            self.push(&Event {
                name: &name,
                ph: "C",
                ts: cycle,
                dur: None,
                pid: PID,
                tid: t.events_tid,
                s: None,
                args: json!({ "stores": level }),
            })?;
        }
        Ok(())
    }
}

/// The args describing a stale execution.
fn stale_args(s: &StaleExecution, dis: &mut Disassembler) -> Value {
    let (executed, memory) = dis.stale_pair(s);
    json!({
        "ip": format!("{:#x}", s.ip),
        "inst_seq": s.inst_seq,
        "executed": executed,
        "executed_bytes": isa::decode::hex_bytes(s.stale_bytes()),
        "memory": memory,
        "memory_bytes": isa::decode::hex_bytes(s.current_bytes()),
        "writer_core": s.writer,
        "visible_at": s.visible_at,
        "serialized_at": (s.serialized_at != NEVER_SERIALIZED).then_some(s.serialized_at),
    })
}

/// The instant event for everything but instruction records.
fn instant(event: &TraceEvent, dis: &mut Disassembler, contracts: &Contracts) -> Option<Instant> {
    let at = |core, cycle, name, args| {
        Some(Instant {
            core,
            cycle,
            name,
            args,
        })
    };
    match *event {
        TraceEvent::Inst(_) => None,
        TraceEvent::MachineClear {
            core,
            cycle,
            inst_seq,
            reason,
        } => at(
            core,
            cycle,
            "machine clear",
            json!({ "first_squashed_seq": inst_seq, "reason": clear_text(reason) }),
        ),
        TraceEvent::Mispredict {
            core,
            cycle,
            inst_seq,
            ip,
        } => at(
            core,
            cycle,
            "mispredict",
            json!({ "inst_seq": inst_seq, "ip": format!("{ip:#x}") }),
        ),
        TraceEvent::SbFull { core, cycle } => at(core, cycle, "store buffer full", json!({})),
        TraceEvent::FenceStall {
            core,
            cycle,
            inst_seq,
            kind,
        } => at(
            core,
            cycle,
            "fence stall",
            json!({ "inst_seq": inst_seq, "fence": fence_name(kind) }),
        ),
        TraceEvent::StaleExecution(ref s) => {
            at(s.core, s.cycle, "stale execution", stale_args(s, dis))
        }
        TraceEvent::Serialize {
            core,
            cycle,
            inst_seq,
            reason,
        } => at(
            core,
            cycle,
            "serialize",
            json!({ "inst_seq": inst_seq, "reason": reason.to_string() }),
        ),
        TraceEvent::IpiSent {
            core,
            cycle,
            to,
            vector,
            arrives,
        } => at(
            core,
            cycle,
            "IPI sent",
            json!({ "to_core": to, "vector": vector, "arrives": arrives }),
        ),
        TraceEvent::InterruptTaken {
            core,
            cycle,
            vector,
            ip,
            woke,
        } => at(
            core,
            cycle,
            "interrupt",
            json!({ "vector": vector, "return_ip": format!("{ip:#x}"), "woke_from_hlt": woke }),
        ),
        TraceEvent::Exception {
            core,
            cycle,
            vector,
            ip,
        } => at(
            core,
            cycle,
            "exception",
            json!({ "vector": vector, "ip": format!("{ip:#x}") }),
        ),
        TraceEvent::PrivilegeChange {
            core,
            cycle,
            cpl,
            ip,
        } => at(
            core,
            cycle,
            "privilege change",
            json!({ "cpl": cpl, "ip": format!("{ip:#x}") }),
        ),
        TraceEvent::Sleep { core, cycle } => at(core, cycle, "sleep", json!({})),
        TraceEvent::SyncPoint {
            core,
            cycle,
            contract,
        } => at(
            core,
            cycle,
            "sync point",
            json!({ "contract": contracts.name(contract), "contract_index": contract }),
        ),
        TraceEvent::ContractViolation {
            contract,
            ref stale,
        } => {
            let mut args = stale_args(stale, dis);
            args["contract"] = contracts.name(contract).into();
            args["contract_index"] = contract.into();
            at(stale.core, stale.cycle, "contract violation", args)
        }
        // One instant per data access would bury every other event; the store
        // buffer's occupancy is the `store buffer` counter.
        TraceEvent::StoreBuffered(_)
        | TraceEvent::StoreVisible { .. }
        | TraceEvent::LoadRetired(_) => None,
        TraceEvent::Syscall {
            core,
            cycle,
            inst_seq,
            ip,
            number,
            args,
        } => at(
            core,
            cycle,
            "syscall",
            json!({ "inst_seq": inst_seq, "ip": format!("{ip:#x}"), "number": number, "args": args }),
        ),
    }
}
