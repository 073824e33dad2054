//! Export to the Kanata 0004 pipeline log that the Konata viewer opens
//! (<https://github.com/shioyadan/Konata>, `docs/kanata-log-format.md`).
//!
//! Every instruction record (retired or squashed) becomes one Konata instruction, in
//! fetch order, its thread id the core. Lane 0 holds the stages `F` (fetch), `D`
//! (decode), `Rn` (rename), `Is` (issue) and `Cm` (complete), each from the cycle the
//! record gives until the next one's; stages the instruction never reached are left
//! out. An instruction ends (`R`) where it leaves the pipeline in the machine:
//! `R ... 0` at its retire cycle, `R ... 1` at the cycle it was squashed. A store
//! stays after retiring: its `Sb` stage runs from the retire cycle (when it enters
//! the store buffer) until its last store drained, and its `R` comes then.
//!
//! Retire ids number retirements in the order the machine retired them (by cycle,
//! then core), so each core's ids follow its program order and Konata's "hide
//! flushed ops" view lists them as they retired. A squashed instruction takes the id
//! of the next retirement on its core, where it would have retired.
//!
//! The left-pane label is the address and disassembly; stale executions are marked in
//! it. The mouse-over text gives core, sequence number, bytes, the retire (and store
//! drain) cycle, and what the trace says about the instruction: stale code,
//! mispredictions, machine clears, serialization, fence stalls, contract violations
//! (by the name the recorder gave in the header's metadata).
//!
//! Kanata requires commands in nondecreasing cycle order while the machine reports an
//! instruction when it leaves the pipeline, so instructions are walked in fetch order
//! and each one's later stages wait in a min-heap (its size is bounded by the
//! instructions in flight at once).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, BufWriter, Write};

use sim_core::machine::{InstRecord, Stage, TraceEvent};

use crate::TraceHeader;
use crate::describe::{Contracts, Disassembler, access_text, clear_text, fence_name, stale_text};

/// Lane-0 stages after fetch, in pipeline order, with their Kanata names. Retirement
/// is no stage: it is where the instruction ends, or for a store where `Sb` starts.
const STAGES: [(Stage, &str); 5] = [
    (Stage::Decode, "D"),
    (Stage::Rename, "Rn"),
    (Stage::Issue, "Is"),
    (Stage::Complete, "Cm"),
    (Stage::SbEnter, "Sb"),
];

/// Write the instruction records of `events` as a Kanata 0004 log; `header` names
/// the contracts.
pub fn write_kanata(w: impl Write, header: &TraceHeader, events: &[TraceEvent]) -> io::Result<()> {
    let mut dis = Disassembler::default();
    let notes = collect_notes(events, &mut dis, &Contracts::of(header));
    let insts = records_in_log_order(events);
    let retire_ids = retire_ids(&insts);

    let mut log = Log {
        w: BufWriter::new(w),
        cycle: 0,
    };
    // Konata ignores `C=` and starts at cycle 0, so the log starts there explicitly
    // and moves by `C` deltas only: both readings give the machine's cycles.
    writeln!(log.w, "Kanata\t0004\nC=\t0")?;
    // (cycle, id, step) of every instruction's next command.
    let mut pending: BinaryHeap<Reverse<(u64, usize, usize)>> = BinaryHeap::new();
    let mut emit = |log: &mut Log<_>, id: usize, step: usize, pending: &mut BinaryHeap<_>| {
        let r = insts[id];
        let inst = Inst {
            id,
            record: r,
            retire_id: retire_ids[id],
            notes: notes.get(&(r.core, r.seq)),
        };
        if let Some(next) = log.step(&inst, step, &mut dis)? {
            pending.push(Reverse(next));
        }
        io::Result::Ok(())
    };
    for (id, fetch) in insts.iter().map(|r| r.fetch).enumerate() {
        while let Some(&Reverse((cycle, older, step))) = pending.peek() {
            if cycle > fetch {
                break;
            }
            pending.pop();
            emit(&mut log, older, step, &mut pending)?;
        }
        emit(&mut log, id, 0, &mut pending)?;
    }
    while let Some(Reverse((_, id, step))) = pending.pop() {
        emit(&mut log, id, step, &mut pending)?;
    }
    log.w.flush()
}

/// The instruction records of `events` in the order the log lists them (its ids):
/// by fetch cycle, then core, then sequence number.
pub fn records_in_log_order(events: &[TraceEvent]) -> Vec<&InstRecord> {
    let mut records: Vec<&InstRecord> = events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Inst(r) => Some(r),
            _ => None,
        })
        .collect();
    records.sort_by_key(|r| (r.fetch, r.core, r.seq));
    records
}

/// The retire id of each of `insts`: retirements numbered by (retire cycle, core),
/// which keeps each core's program order; a squashed instruction gets the id of the
/// next retirement on its core after it (or one past the last).
fn retire_ids(insts: &[&InstRecord]) -> Vec<u64> {
    let mut retired: Vec<usize> = (0..insts.len()).filter(|&i| !insts[i].squashed).collect();
    retired.sort_by_key(|&i| (insts[i].at(Stage::Retire), insts[i].core, insts[i].seq));
    let mut ids = vec![0; insts.len()];
    // Per core, (seq, retire id) of its retirements in program order.
    let mut by_core: HashMap<u16, Vec<(u64, u64)>> = HashMap::new();
    for (rid, &i) in (0u64..).zip(&retired) {
        ids[i] = rid;
        by_core
            .entry(insts[i].core)
            .or_default()
            .push((insts[i].seq, rid));
    }
    let past_last = retired.len() as u64;
    for (i, r) in insts.iter().enumerate().filter(|(_, r)| r.squashed) {
        let next = by_core.get(&r.core).and_then(|seqs| {
            let at = seqs.partition_point(|&(seq, _)| seq <= r.seq);
            seqs.get(at).map(|&(_, rid)| rid)
        });
        ids[i] = next.unwrap_or(past_last);
    }
    ids
}

/// The lane-0 stages of one instruction in cycle order, and the cycle it ends.
struct Life {
    stages: [(&'static str, u64); 1 + STAGES.len()],
    len: usize,
    end: u64,
}

impl Life {
    fn of(r: &InstRecord) -> Life {
        let mut stages = [("F", r.fetch); 1 + STAGES.len()];
        let mut len = 1;
        for (stage, name) in STAGES {
            if let Some(cycle) = r.at(stage) {
                stages[len] = (name, cycle);
                len += 1;
            }
        }
        stages[..len].sort_by_key(|&(_, cycle)| cycle);
        let last = stages[len - 1].1;
        Life {
            stages,
            len,
            end: leaves_at(r).unwrap_or(last).max(last),
        }
    }

    /// The cycle of step `k`: stage `k`'s start, or the end after the last stage.
    fn cycle(&self, k: usize) -> u64 {
        if k < self.len {
            self.stages[k].1
        } else {
            self.end
        }
    }
}

/// When `r` left the pipeline: squashed or retired, or a store's last drain.
fn leaves_at(r: &InstRecord) -> Option<u64> {
    match r.at(Stage::SbDrain) {
        Some(drain) if !r.squashed => Some(drain),
        _ => r.at(Stage::Retire),
    }
}

/// What the trace says about one instruction besides its record.
#[derive(Default)]
struct Notes {
    /// For a stale execution: the disassembly of what memory held.
    stale: Option<String>,
    /// Lines for the mouse-over text.
    hover: Vec<String>,
}

/// A note about the instruction `(core, seq)`.
enum Note {
    Stale { memory: String, text: String },
    Hover(String),
}

fn collect_notes(
    events: &[TraceEvent],
    dis: &mut Disassembler,
    contracts: &Contracts,
) -> HashMap<(u16, u64), Notes> {
    let mut notes: HashMap<(u16, u64), Notes> = HashMap::new();
    for event in events {
        let Some((key, note)) = note(event, dis, contracts) else {
            continue;
        };
        let entry = notes.entry(key).or_default();
        match note {
            Note::Stale { memory, text } => {
                entry.stale = Some(memory);
                entry.hover.push(text);
            }
            Note::Hover(text) => entry.hover.push(text),
        }
    }
    notes
}

/// The note an event attaches to an instruction, if it names one.
fn note(
    event: &TraceEvent,
    dis: &mut Disassembler,
    contracts: &Contracts,
) -> Option<((u16, u64), Note)> {
    let hover = |core, seq, text: String| Some(((core, seq), Note::Hover(text)));
    match *event {
        TraceEvent::Inst(_) => None,
        TraceEvent::MachineClear {
            core,
            cycle,
            inst_seq,
            reason,
        } => hover(
            core,
            inst_seq,
            format!(
                "cycle {cycle}: machine clear from here on ({})",
                clear_text(reason)
            ),
        ),
        TraceEvent::Mispredict {
            core,
            cycle,
            inst_seq,
            ..
        } => hover(
            core,
            inst_seq,
            format!("cycle {cycle}: mispredicted, younger work squashed"),
        ),
        TraceEvent::SbFull { .. } => None,
        TraceEvent::FenceStall {
            core,
            cycle,
            inst_seq,
            kind,
        } => hover(
            core,
            inst_seq,
            format!("cycle {cycle}: {} holds back later work", fence_name(kind)),
        ),
        TraceEvent::StaleExecution(ref s) => {
            let (executed, memory) = dis.stale_pair(s);
            let text = stale_text(s, &executed, &memory);
            Some(((s.core, s.inst_seq), Note::Stale { memory, text }))
        }
        TraceEvent::Serialize {
            core,
            cycle,
            inst_seq,
            reason,
        } => hover(
            core,
            inst_seq,
            format!("cycle {cycle}: serialized ({reason})"),
        ),
        TraceEvent::IpiSent { .. }
        | TraceEvent::InterruptTaken { .. }
        | TraceEvent::Exception { .. }
        | TraceEvent::PrivilegeChange { .. }
        | TraceEvent::Sleep { .. }
        | TraceEvent::SyncPoint { .. } => None,
        TraceEvent::ContractViolation {
            contract,
            ref stale,
        } => hover(
            stale.core,
            stale.inst_seq,
            format!("violates {}", contracts.label(contract)),
        ),
        TraceEvent::StoreBuffered(m) => hover(
            m.core,
            m.inst_seq,
            format!("cycle {}: buffered {}", m.cycle, access_text(&m)),
        ),
        TraceEvent::StoreVisible { store, .. } => hover(
            store.core,
            store.inst_seq,
            format!("cycle {}: visible {}", store.cycle, access_text(&store)),
        ),
        TraceEvent::LoadRetired(m) => hover(
            m.core,
            m.inst_seq,
            format!("cycle {}: loaded {}", m.cycle, access_text(&m)),
        ),
        TraceEvent::Syscall {
            core,
            cycle,
            inst_seq,
            number,
            args,
            ..
        } => hover(
            core,
            inst_seq,
            format!(
                "cycle {cycle}: system call {number} ({:#x}, {:#x}, {:#x})",
                args[0], args[1], args[2]
            ),
        ),
    }
}

/// One instruction of the log: its id, record, retire id and notes.
struct Inst<'a> {
    id: usize,
    record: &'a InstRecord,
    retire_id: u64,
    notes: Option<&'a Notes>,
}

/// The log being written and its current cycle.
struct Log<W: Write> {
    w: W,
    cycle: u64,
}

impl<W: Write> Log<W> {
    /// Move the log's clock to `cycle` (never backwards).
    fn at(&mut self, cycle: u64) -> io::Result<()> {
        if cycle > self.cycle {
            writeln!(self.w, "C\t{}", cycle - self.cycle)?;
            self.cycle = cycle;
        }
        Ok(())
    }

    /// Write step `k` of `inst` (0: start and labels; then one stage change per step;
    /// last: retire or flush) and return when its next step is due.
    fn step(
        &mut self,
        inst: &Inst,
        k: usize,
        dis: &mut Disassembler,
    ) -> io::Result<Option<(u64, usize, usize)>> {
        let id = inst.id;
        let life = Life::of(inst.record);
        self.at(life.cycle(k))?;
        if k == 0 {
            self.start(inst, dis)?;
        } else {
            writeln!(self.w, "E\t{id}\t0\t{}", life.stages[k - 1].0)?;
        }
        if k < life.len {
            writeln!(self.w, "S\t{id}\t0\t{}", life.stages[k].0)?;
            return Ok(Some((life.cycle(k + 1), id, k + 1)));
        }
        let flushed = u8::from(inst.record.squashed);
        writeln!(self.w, "R\t{id}\t{}\t{flushed}", inst.retire_id)?;
        Ok(None)
    }

    /// `I` and the labels of a new instruction.
    fn start(&mut self, inst: &Inst, dis: &mut Disassembler) -> io::Result<()> {
        let (id, r, notes) = (inst.id, inst.record, inst.notes);
        writeln!(self.w, "I\t{id}\t{}\t{}", r.seq, r.core)?;
        write!(self.w, "L\t{id}\t0\t{:x}: {}", r.ip, dis.inst(r))?;
        if let Some(memory) = notes.and_then(|n| n.stale.as_ref()) {
            write!(self.w, "  [STALE: memory holds `{memory}`]")?;
        }
        writeln!(self.w)?;
        write!(
            self.w,
            "L\t{id}\t1\tcore {}, seq {}, bytes {}",
            r.core,
            r.seq,
            isa::decode::hex_bytes(r.inst_bytes())
        )?;
        match (r.squashed, r.at(Stage::Retire), r.at(Stage::SbDrain)) {
            (true, Some(cycle), _) => write!(self.w, "\\nsquashed at cycle {cycle}")?,
            (false, Some(retire), Some(drain)) => write!(
                self.w,
                "\\nretired at cycle {retire}, store visible at cycle {drain} (Sb: in the store buffer)"
            )?,
            (false, Some(retire), None) => write!(self.w, "\\nretired at cycle {retire}")?,
            (_, None, _) => {}
        }
        // Konata turns a literal `\n` in a label into a line break.
        for line in notes.iter().flat_map(|n| &n.hover) {
            write!(self.w, "\\n{line}")?;
        }
        writeln!(self.w)
    }
}
