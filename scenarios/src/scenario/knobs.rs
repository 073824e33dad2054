//! `machine.core` and `machine.mem` entries applied to [`CoreConfig`] and
//! [`MemConfig`] by field name: one table per struct, each field listed once.

use sim_core::machine::{CoreConfig, MemConfig};

/// A settable numeric field of `T`: its name and how to store a value into it
/// (`Err` with the largest allowed value when it does not fit the field's type).
pub(crate) struct Knob<T> {
    /// The field name, as written in a scenario.
    pub name: &'static str,
    /// Store `value` into the field.
    pub set: fn(&mut T, u64) -> Result<(), u64>,
}

/// Builds a knob table for the listed fields of `$ty` (each `usize` or `u64`).
macro_rules! knobs {
    ($ty:ty: $($field:ident),* $(,)?) => {
        &[$(Knob::<$ty> {
            name: stringify!($field),
            set: |config, value| store(&mut config.$field, value),
        }),*]
    };
}

/// Stores `value` into a `usize` or `u64` field; `Err(usize::MAX)` if it does not fit.
fn store<F: TryFrom<u64>>(field: &mut F, value: u64) -> Result<(), u64> {
    *field = F::try_from(value).map_err(|_| usize::MAX as u64)?;
    Ok(())
}

/// Every field of [`CoreConfig`].
pub(crate) const CORE_KNOBS: &[Knob<CoreConfig>] = knobs!(CoreConfig:
    prefetch_depth, icache_sets, icache_ways, icache_latency, decode_width, decode_latency,
    uop_queue, rename_width, rob_size, scheduler_size, issue_width, load_ports, store_ports,
    retire_width, load_queue, store_queue, store_buffer, sb_drain_interval, alu_latency,
    mul_latency, branch_latency, forward_latency, mispredict_penalty, machine_clear_penalty,
    pause_latency, bimodal_entries, btb_entries, ras_entries,
);

/// Every numeric field of [`MemConfig`] (`ifetch_coherence` is
/// `machine.ifetch_coherence`).
pub(crate) const MEM_KNOBS: &[Knob<MemConfig>] = knobs!(MemConfig:
    l1_latency, l2_latency, remote_latency, memory_latency, upgrade_latency,
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
        let core: Vec<String> = debug_field_names(&format!("{:?}", CoreConfig::default()));
        assert_eq!(core, names(CORE_KNOBS).collect::<Vec<_>>());
        let mut mem = debug_field_names(&format!("{:?}", MemConfig::default()));
        mem.retain(|n| n != "ifetch_coherence");
        assert_eq!(mem, names(MEM_KNOBS).collect::<Vec<_>>());
    }

    #[test]
    fn knobs_set_their_field_and_only_it() {
        for knob in CORE_KNOBS {
            let mut config = CoreConfig::default();
            (knob.set)(&mut config, 12345).unwrap();
            let changed = format!("{config:?}");
            assert!(
                changed.contains(&format!("{}: 12345", knob.name)),
                "{changed}"
            );
            assert_ne!(config, CoreConfig::default(), "{}", knob.name);
        }
        let mut mem = MemConfig::default();
        (find(MEM_KNOBS, "remote_latency").unwrap().set)(&mut mem, 80).unwrap();
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
