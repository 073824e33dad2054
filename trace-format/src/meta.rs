//! The typed metadata of a trace: what the header's JSON holds, so that a viewer
//! can name addresses (`kernel:do_membarrier+0x12`), tell which task each CPU
//! runs and which system call a core makes, without knowing the scenario file.
//!
//! Every field has a default and unknown fields are kept in [`TraceMeta::run`],
//! so metadata written before a field existed still parses, and a field added
//! later (by any recorder) is additive: nothing here needs a format version.
//!
//! The machine itself knows nothing of kernels: the trace has generic events
//! (stores entering and leaving store buffers, retired loads, system calls with
//! their registers); [`KernelMeta`] says which addresses are whose `rq->curr`,
//! which task struct is which task, so those events become context switches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The metadata of a `.synctrace` file (the header's JSON object).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceMeta {
    /// What was run and how it went, as the recorder describes it (program or
    /// scenario, variant, flags, cycles, how the run stopped, per-core counters),
    /// plus any field this crate does not know: kept, never interpreted.
    #[serde(flatten)]
    pub run: Map<String, Value>,
    /// The run's contract names by index (a scenario's `contracts`, a program's
    /// `.sync_point` names): `SyncPoint` and `ContractViolation` events carry only
    /// the index.
    pub contracts: Vec<String>,
    /// Every label of the program, sorted by address: the symbol table that
    /// turns addresses into `space:label+offset`.
    pub symbols: Vec<Symbol>,
    /// Where the bundled kernel keeps what the viewer derives task bands and
    /// membarrier decisions from; `None` for bare-metal runs.
    pub kernel: Option<KernelMeta>,
}

/// One label of the program.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Symbol {
    /// Address.
    pub addr: u64,
    /// Kernel or user code and data.
    pub space: Space,
    /// The label as written in the source.
    pub name: String,
}

/// Which side of the privilege boundary a symbol is on, for `kernel:`/`user:`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    /// The bundled kernel's text and data.
    Kernel,
    /// Everything else: the scenario's or program's own code and data.
    User,
}

impl Space {
    /// `kernel` or `user`, the prefix of a symbolised address.
    pub fn name(self) -> &'static str {
        match self {
            Space::Kernel => "kernel",
            Space::User => "user",
        }
    }
}

/// The kernel's data layout, as far as a viewer needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KernelMeta {
    /// Per CPU (index = core number): its runqueue's fields.
    pub cpus: Vec<CpuMeta>,
    /// Every task, idle tasks included, with the address of its task struct.
    pub tasks: Vec<TaskMeta>,
    /// Every address space: id and the address of its mm struct.
    pub mms: Vec<MmMeta>,
    /// Offset of `active_mm` in a task struct: a store there is a kernel
    /// thread borrowing (or dropping) an address space lazily.
    pub active_mm_offset: u64,
    /// System call numbers by name (`membarrier` = 324).
    pub syscalls: BTreeMap<String, u64>,
    /// membarrier commands by name (`PRIVATE_EXPEDITED_SYNC_CORE` = 32).
    pub membarrier_commands: BTreeMap<String, u64>,
}

/// One CPU's runqueue, by address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuMeta {
    /// Address of `rq->curr`: stores there are context switches, loads there
    /// (by other CPUs) are membarrier looking at what this CPU runs.
    pub rq_curr: u64,
    /// The task this CPU runs when the run starts (its task struct's address).
    pub first_task: u64,
}

/// One task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskMeta {
    /// Its name in the scenario (`idle/N` for CPU N's idle task).
    pub name: String,
    /// Address of its task struct (the value `rq->curr` holds while it runs).
    pub addr: u64,
    /// The CPU whose runqueue it is on.
    pub cpu: u16,
    /// Its own address space; `None` for kernel threads.
    pub mm: Option<u64>,
    /// A kernel thread (`PF_KTHREAD`), idle tasks included.
    pub kthread: bool,
    /// Its CPU's idle task.
    pub idle: bool,
}

/// One address space.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmMeta {
    /// The scenario's id (`User(mm: 1)`); 0 is the kernel's `init_mm`.
    pub id: u64,
    /// Address of its mm struct (what `active_mm` holds).
    pub addr: u64,
}

impl TraceMeta {
    /// The metadata of a header. Metadata that is not a JSON object (a recorder
    /// outside synclab may write anything) is kept whole under `run.input`.
    pub fn parse(metadata: &str) -> TraceMeta {
        match serde_json::from_str::<Value>(metadata) {
            Ok(Value::Object(fields)) => serde_json::from_value(Value::Object(fields.clone()))
                .unwrap_or_else(|_| TraceMeta {
                    run: fields,
                    ..TraceMeta::default()
                }),
            Ok(other) => TraceMeta::with_input(other),
            Err(_) if metadata.is_empty() => TraceMeta::default(),
            Err(_) => TraceMeta::with_input(Value::String(metadata.to_string())),
        }
    }

    fn with_input(input: Value) -> TraceMeta {
        TraceMeta {
            run: [("input".to_string(), input)].into_iter().collect(),
            ..TraceMeta::default()
        }
    }

    /// The JSON the header stores.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("metadata is plain data")
    }
}

impl KernelMeta {
    /// The task whose task struct is at `addr`.
    pub fn task_at(&self, addr: u64) -> Option<&TaskMeta> {
        self.tasks.iter().find(|t| t.addr == addr)
    }

    /// The address space whose mm struct is at `addr`.
    pub fn mm_at(&self, addr: u64) -> Option<&MmMeta> {
        self.mms.iter().find(|m| m.addr == addr)
    }

    /// The CPU whose `rq->curr` is at `addr`.
    pub fn cpu_of_rq_curr(&self, addr: u64) -> Option<usize> {
        self.cpus.iter().position(|c| c.rq_curr == addr)
    }

    /// The name of system call `number`, if the kernel has one.
    pub fn syscall_name(&self, number: u64) -> Option<&str> {
        named(&self.syscalls, number)
    }

    /// The name of membarrier command `cmd`, if the kernel has one.
    pub fn membarrier_command(&self, cmd: u64) -> Option<&str> {
        named(&self.membarrier_commands, cmd)
    }
}

fn named(table: &BTreeMap<String, u64>, value: u64) -> Option<&str> {
    table
        .iter()
        .find(|&(_, &v)| v == value)
        .map(|(name, _)| name.as_str())
}

/// The labels of `program` as a sorted symbol table; `kernel_section` says which
/// sections hold kernel code and data. `.set` constants are not labels and
/// local labels (`1:`) are not kept by the assembler.
pub fn symbol_table(
    program: &isa::asm::Program,
    kernel_section: impl Fn(&str) -> bool,
) -> Vec<Symbol> {
    let mut symbols: Vec<Symbol> = program
        .labels
        .iter()
        .filter_map(|(name, section)| {
            let addr = program.symbol(name)?;
            let space = if kernel_section(section) {
                Space::Kernel
            } else {
                Space::User
            };
            Some(Symbol {
                addr,
                space,
                name: name.clone(),
            })
        })
        .collect();
    symbols.sort();
    symbols
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_keeps_unknown_fields() {
        let meta = TraceMeta {
            run: serde_json::json!({"scenario": "s", "cycles": 12})
                .as_object()
                .cloned()
                .unwrap(),
            contracts: vec!["membarrier(SYNC_CORE) returned".into()],
            symbols: vec![Symbol {
                addr: 0x1000,
                space: Space::User,
                name: "main".into(),
            }],
            kernel: Some(KernelMeta {
                cpus: vec![CpuMeta {
                    rq_curr: 0x10,
                    first_task: 0x2000,
                }],
                ..KernelMeta::default()
            }),
        };
        let json = meta.to_json();
        assert_eq!(TraceMeta::parse(&json), meta);
        assert!(json.contains(r#""scenario":"s""#), "{json}");
    }

    #[test]
    fn older_and_foreign_metadata_parse() {
        let old = TraceMeta::parse(r#"{"program":"x.s","seed":3}"#);
        assert_eq!(old.run["program"], "x.s");
        assert!(old.symbols.is_empty() && old.kernel.is_none());
        assert_eq!(TraceMeta::parse("not json").run["input"], "not json");
        assert_eq!(TraceMeta::parse("[1]").run["input"], serde_json::json!([1]));
        assert_eq!(TraceMeta::parse(""), TraceMeta::default());
        // A typed field of the wrong type keeps everything as run fields.
        assert_eq!(TraceMeta::parse(r#"{"symbols":3}"#).run["symbols"], 3);
    }

    #[test]
    fn symbol_table_keeps_labels_not_constants() {
        let program = isa::asm::assemble(
            ".set K, 0x400000\n.section .kernel, \"ax\"\n.base 0x100000\nentry:\n nop\n.text\nmain:\n nop\n1: nop\n",
        )
        .unwrap();
        let table = symbol_table(&program, |s| s.starts_with(".kernel"));
        let names: Vec<(&str, Space, u64)> = table
            .iter()
            .map(|s| (s.name.as_str(), s.space, s.addr))
            .collect();
        assert_eq!(
            names,
            [
                ("entry", Space::Kernel, 0x100000),
                ("main", Space::User, isa::asm::TEXT_BASE)
            ]
        );
    }
}
