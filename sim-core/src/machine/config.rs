//! Every size and latency of the machine, in one place, so experiments change numbers
//! rather than code. Defaults approximate a recent Intel big core (Golden Cove class).

/// How a core's instruction side learns that another core rewrote code bytes it holds.
///
/// A core's own stores to code it holds always clear the pipeline (self-modifying code,
/// SDM Vol. 3A §11.6); this policy only governs *other* cores' stores (cross-modifying
/// code), whose effect on bytes already fetched is exactly what synclab wants to show.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IfetchCoherence {
    /// (Default.) The I-cache is never snooped: stale lines stay until evicted or until the core
    /// executes a serializing instruction (which then drops the whole I-cache).
    Lazy,
    /// A store becoming visible invalidates the line in every other core's I-cache at
    /// once. Bytes already in a prefetch buffer, decoded queue or ROB stay stale.
    Snoop,
    /// Like `Snoop`, but the invalidation reaches other cores this many cycles later
    /// (a serializing instruction applies pending invalidations immediately).
    Delayed {
        /// Cycles between visibility and invalidation.
        cycles: u64,
    },
}

/// Sizes, widths and latencies of one out-of-order core.
///
/// Sizes too small to make progress are raised when a machine is built: every width
/// and queue to 1, the prefetch buffer to 2 blocks (an instruction may cross a block
/// boundary), the ROB and the decoded-uop queue to 16 uops (one instruction's uops
/// must fit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreConfig {
    /// Entries of the prefetch buffer, in 16-byte fetch blocks (how far fetch runs ahead).
    pub prefetch_depth: usize,
    /// L1 I-cache sets.
    pub icache_sets: usize,
    /// L1 I-cache ways.
    pub icache_ways: usize,
    /// Cycles from an I-cache hit to the block being decodable.
    pub icache_latency: u64,
    /// Instructions decoded per cycle.
    pub decode_width: usize,
    /// Cycles an instruction spends in decode before its uops can be renamed.
    pub decode_latency: u64,
    /// Capacity of the decoded-uop queue between decode and rename.
    pub uop_queue: usize,
    /// Uops renamed (allocated into the ROB) per cycle.
    pub rename_width: usize,
    /// Reorder-buffer entries (uops).
    pub rob_size: usize,
    /// Scheduler (reservation station) entries: renamed uops not yet issued.
    pub scheduler_size: usize,
    /// Uops issued to execution per cycle.
    pub issue_width: usize,
    /// Loads issued per cycle (load ports).
    pub load_ports: usize,
    /// Stores issued per cycle (store-address/data ports).
    pub store_ports: usize,
    /// Uops retired per cycle (whole instructions retire together; the last one may exceed it).
    pub retire_width: usize,
    /// Load-queue entries.
    pub load_queue: usize,
    /// Store-queue entries (stores renamed but not retired).
    pub store_queue: usize,
    /// Post-retirement store-buffer entries.
    pub store_buffer: usize,
    /// Minimum cycles between two drains from the store buffer.
    pub sb_drain_interval: u64,
    /// Latency of simple integer ALU uops.
    pub alu_latency: u64,
    /// Latency of integer multiplies.
    pub mul_latency: u64,
    /// Latency of branch resolution.
    pub branch_latency: u64,
    /// Latency of a load forwarded from the store queue or store buffer.
    pub forward_latency: u64,
    /// Extra cycles after a mispredicted branch resolves before fetch restarts.
    pub mispredict_penalty: u64,
    /// Extra cycles after a machine clear before fetch restarts.
    pub machine_clear_penalty: u64,
    /// Latency of `pause`.
    pub pause_latency: u64,
    /// Bimodal predictor entries (2-bit counters), a power of two.
    pub bimodal_entries: usize,
    /// Branch-target-buffer entries (direct-mapped), a power of two.
    pub btb_entries: usize,
    /// Return-stack entries.
    pub ras_entries: usize,
}

impl Default for CoreConfig {
    fn default() -> CoreConfig {
        CoreConfig {
            prefetch_depth: 4,
            icache_sets: 64,
            icache_ways: 8,
            icache_latency: 3,
            decode_width: 6,
            decode_latency: 2,
            uop_queue: 144,
            rename_width: 6,
            rob_size: 512,
            scheduler_size: 97,
            issue_width: 6,
            load_ports: 3,
            store_ports: 2,
            retire_width: 8,
            load_queue: 192,
            store_queue: 114,
            store_buffer: 56,
            sb_drain_interval: 1,
            alu_latency: 1,
            mul_latency: 3,
            branch_latency: 1,
            forward_latency: 5,
            mispredict_penalty: 3,
            machine_clear_penalty: 10,
            pause_latency: 40,
            bimodal_entries: 4096,
            btb_entries: 4096,
            ras_entries: 16,
        }
    }
}

impl CoreConfig {
    /// This configuration with every size raised to the least that makes progress.
    pub(super) fn workable(&self) -> CoreConfig {
        let at_least_one = |n: usize| n.max(1);
        CoreConfig {
            prefetch_depth: self.prefetch_depth.max(2),
            decode_width: at_least_one(self.decode_width),
            uop_queue: self.uop_queue.max(16),
            rename_width: at_least_one(self.rename_width),
            rob_size: self.rob_size.max(16),
            scheduler_size: at_least_one(self.scheduler_size),
            issue_width: at_least_one(self.issue_width),
            load_ports: at_least_one(self.load_ports),
            store_ports: at_least_one(self.store_ports),
            retire_width: at_least_one(self.retire_width),
            load_queue: at_least_one(self.load_queue),
            store_queue: at_least_one(self.store_queue),
            store_buffer: at_least_one(self.store_buffer),
            ..self.clone()
        }
    }
}

/// Latencies of the coherent memory system (cycles).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemConfig {
    /// Data L1 hit (line held by this core).
    pub l1_latency: u64,
    /// Line present on chip (in the shared L2/LLC) but not in this core's L1.
    pub l2_latency: u64,
    /// Line held modified/exclusive by another core (snoop and transfer).
    pub remote_latency: u64,
    /// Line never touched before (from DRAM).
    pub memory_latency: u64,
    /// Cost of acquiring ownership when the line is only shared (invalidate sharers).
    pub upgrade_latency: u64,
    /// Instruction-side coherence policy for other cores' stores.
    pub ifetch_coherence: IfetchCoherence,
}

impl Default for MemConfig {
    fn default() -> MemConfig {
        MemConfig {
            l1_latency: 5,
            l2_latency: 15,
            remote_latency: 60,
            memory_latency: 200,
            upgrade_latency: 30,
            ifetch_coherence: IfetchCoherence::Lazy,
        }
    }
}

/// Everything needed to build a [`super::Machine`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineConfig {
    /// Number of cores.
    pub cores: usize,
    /// Configuration shared by every core.
    pub core: CoreConfig,
    /// Memory-system latencies and policies.
    pub mem: MemConfig,
    /// Seed of the timing-jitter random generator.
    pub seed: u64,
    /// Timing perturbation, 0 = none. With `j > 0`, every memory latency and store-buffer
    /// drain is stretched by a random 0..=j percent (at least 0..=1 cycle), the drain of
    /// each store is delayed by up to `j/4` extra cycles (a store entering an empty
    /// buffer may stay up to `4j` cycles), and each core starts after a random 0..=j
    /// cycles. Different seeds then visit different interleavings.
    pub timing_jitter: u32,
    /// Stop with a report when no core retires for this many cycles.
    pub watchdog_cycles: u64,
    /// Stop after this many cycles.
    pub max_cycles: u64,
    /// Record [`super::TraceEvent`]s.
    pub trace: bool,
    /// Architectural choices of every core's system model: whether IRET
    /// serializes, page-table isolation.
    pub system: crate::system::SystemConfig,
    /// Cycles from the retirement of an ICR write to the IPI reaching the
    /// destination's APIC (an external interrupt scheduled for a cycle arrives then).
    pub ipi_latency: u64,
    /// Whether taking an interrupt serializes the core (drops prefetched and cached
    /// instruction bytes). The SDM does not list event delivery as serializing, so
    /// the default is `false`; in-flight younger work is squashed either way.
    pub interrupt_delivery_serializing: bool,
}

impl Default for MachineConfig {
    fn default() -> MachineConfig {
        MachineConfig {
            cores: 1,
            core: CoreConfig::default(),
            mem: MemConfig::default(),
            seed: 0,
            timing_jitter: 0,
            watchdog_cycles: 100_000,
            max_cycles: 1_000_000_000,
            trace: false,
            system: crate::system::SystemConfig::default(),
            ipi_latency: 40,
            interrupt_delivery_serializing: false,
        }
    }
}
