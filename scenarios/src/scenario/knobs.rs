//! `machine.core` and `machine.mem` entries applied to [`CoreConfig`] and
//! [`MemConfig`] by field name: one table per struct, each field listed once.

use sim_core::machine::{CoreConfig, MemConfig};

/// The largest value any knob takes: sizes beyond it would only exhaust host
/// memory, latencies beyond it would only stall the run.
pub(crate) const KNOB_MAX: u64 = 1 << 20;

/// A settable numeric field of `T`: its name, its least value and how to store a
/// value into it.
pub(crate) struct Knob<T> {
    /// The field name, as written in a scenario.
    pub name: &'static str,
    /// The least allowed value: 1 for sizes (a zero-sized structure cannot work),
    /// 0 for latencies. The largest is [`KNOB_MAX`].
    pub min: u64,
    /// Store a value (in `min..=KNOB_MAX`) into the field.
    pub set: fn(&mut T, u64),
}

impl<T> Knob<T> {
    /// Whether `value` is in range for this knob.
    pub(crate) fn accepts(&self, value: u64) -> bool {
        (self.min..=KNOB_MAX).contains(&value)
    }
}

/// Builds a knob table of `$ty`'s fields, each `usize` or `u64`, grouped by kind.
macro_rules! knobs {
    ($ty:ty; sizes: $($size:ident),*; latencies: $($latency:ident),* $(,)?) => {
        &[
            $(Knob::<$ty> { name: stringify!($size), min: 1, set: |c, v| store(&mut c.$size, v) },)*
            $(Knob::<$ty> { name: stringify!($latency), min: 0, set: |c, v| store(&mut c.$latency, v) },)*
        ]
    };
}

/// Stores `value` into a `usize` or `u64` field (values are at most [`KNOB_MAX`],
/// which fits both).
fn store<F: TryFrom<u64>>(field: &mut F, value: u64) {
    if let Ok(value) = F::try_from(value) {
        *field = value;
    }
}

/// Every field of [`CoreConfig`].
pub(crate) const CORE_KNOBS: &[Knob<CoreConfig>] = knobs!(CoreConfig;
    sizes: prefetch_depth, icache_sets, icache_ways, decode_width, uop_queue, rename_width,
        rob_size, scheduler_size, issue_width, load_ports, store_ports, retire_width,
        load_queue, store_queue, store_buffer, bimodal_entries, btb_entries, ras_entries;
    latencies: icache_latency, decode_latency, sb_drain_interval, alu_latency, mul_latency,
        branch_latency, forward_latency, mispredict_penalty, machine_clear_penalty,
        pause_latency,
);

/// Every numeric field of [`MemConfig`] (`ifetch_coherence` is
/// `machine.ifetch_coherence`).
pub(crate) const MEM_KNOBS: &[Knob<MemConfig>] = knobs!(MemConfig;
    sizes: ;
    latencies: l1_latency, l2_latency, remote_latency, memory_latency, upgrade_latency,
);

/// The knob called `name`, if there is one.
pub(crate) fn find<'k, T>(knobs: &'k [Knob<T>], name: &str) -> Option<&'k Knob<T>> {
    knobs.iter().find(|k| k.name == name)
}

/// Every knob name, for hints.
pub(crate) fn names<T>(knobs: &[Knob<T>]) -> impl Iterator<Item = &'static str> + Clone + '_ {
    knobs.iter().map(|k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field names as `Debug` prints a struct: `Name { a: 1, b: Snoop }`.
    fn debug_field_names(debug: &str) -> Vec<String> {
        debug
            .split(['{', ','])
            .skip(1)
            .filter_map(|part| part.split_once(':'))
            .map(|(name, _)| name.trim().to_string())
            .filter(|name| !name.contains(' ') && !name.is_empty())
            .collect()
    }

    #[test]
    fn tables_cover_every_field_so_new_fields_are_not_forgotten() {
        let sorted = |mut names: Vec<String>| {
            names.sort();
            names
        };
        let table = |knobs: Vec<&str>| sorted(knobs.into_iter().map(String::from).collect());
        let core = sorted(debug_field_names(&format!("{:?}", CoreConfig::default())));
        assert_eq!(core, table(names(CORE_KNOBS).collect()));
        let mut mem = sorted(debug_field_names(&format!("{:?}", MemConfig::default())));
        mem.retain(|n| n != "ifetch_coherence");
        assert_eq!(mem, table(names(MEM_KNOBS).collect()));
    }

    #[test]
    fn knobs_set_their_field_and_only_it() {
        for knob in CORE_KNOBS {
            let mut config = CoreConfig::default();
            (knob.set)(&mut config, 12345);
            let changed = format!("{config:?}");
            assert!(
                changed.contains(&format!("{}: 12345", knob.name)),
                "{changed}"
            );
            assert_ne!(config, CoreConfig::default(), "{}", knob.name);
        }
        let mut mem = MemConfig::default();
        (find(MEM_KNOBS, "remote_latency").unwrap().set)(&mut mem, 80);
        assert_eq!(mem.remote_latency, 80);
        assert_eq!(
            MemConfig {
                remote_latency: 60,
                ..mem
            },
            MemConfig::default()
        );
    }
}
