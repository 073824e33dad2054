//! Applying a variant: its machine fields over the base machine, its kernel option
//! changes over the base kernel options.

use super::document::Document;
use super::error::{ScenarioError, did_you_mean};
use super::parse::{explain, ron_options};
use super::ron_tree::Step;
use super::schema::{KernelOptions, MachineSpec, Variant};

impl MachineSpec {
    /// This machine with every field `over` writes replaced (table entries merge
    /// name by name).
    pub fn overlay(&self, over: &MachineSpec) -> MachineSpec {
        let mut core = self.core.clone();
        core.extend(over.core.iter().map(|(k, v)| (k.clone(), *v)));
        let mut mem = self.mem.clone();
        mem.extend(over.mem.iter().map(|(k, v)| (k.clone(), *v)));
        MachineSpec {
            cores: over.cores.or(self.cores),
            seed: over.seed.or(self.seed),
            jitter: over.jitter.or(self.jitter),
            ifetch_coherence: over.ifetch_coherence.or(self.ifetch_coherence),
            iret_serializing: over.iret_serializing.or(self.iret_serializing),
            pti: over.pti.or(self.pti),
            ipi_latency: over.ipi_latency.or(self.ipi_latency),
            interrupt_delivery_serializing: over
                .interrupt_delivery_serializing
                .or(self.interrupt_delivery_serializing),
            max_cycles: over.max_cycles.or(self.max_cycles),
            watchdog_cycles: over.watchdog_cycles.or(self.watchdog_cycles),
            core,
            mem,
        }
    }
}

/// The kernel options of variant number `index`: the base options as written in
/// the file with the variant's fields replaced, read as [`KernelOptions`] (so each
/// field is parsed by serde exactly as in the base, enum variants included).
pub(crate) fn kernel_options(
    doc: &Document,
    base: &KernelOptions,
    variant: &Variant,
    index: usize,
) -> Result<KernelOptions, ScenarioError> {
    if variant.kernel.is_empty() {
        return Ok(base.clone());
    }
    let changes = [
        Step::Field("variants"),
        Step::Index(index),
        Step::Field("kernel"),
    ];
    let at = |step| [changes[0], changes[1], changes[2], step];
    // Each change alone first, so an error names the field at fault.
    for (name, value) in &variant.kernel {
        let text = format!("({name}: {}\n)", value.get_ron());
        if let Err(e) = ron_options().from_str::<KernelOptions>(&text) {
            return Err(match e.code {
                ron::Error::NoSuchStructField { expected, .. } => doc.error(
                    &at(Step::Key(name)),
                    format!("unknown kernel option \"{name}\""),
                    Some(did_you_mean(name, expected.iter().copied())),
                ),
                code => {
                    let (message, hint) = explain(&code, Some(name));
                    doc.error(&at(Step::KeyValue(name)), message, hint)
                }
            });
        }
    }
    let mut fields: Vec<(String, String)> = doc
        .struct_fields(&[Step::Field("kernel")])
        .into_iter()
        .filter(|(name, _)| !variant.kernel.contains_key(*name))
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    fields.extend(
        variant
            .kernel
            .iter()
            .map(|(name, value)| (name.clone(), value.get_ron().to_string())),
    );
    let merged: String = fields
        .iter()
        .map(|(name, text)| format!("{name}: {text}\n,"))
        .collect();
    ron_options()
        .from_str::<KernelOptions>(&format!("({merged})"))
        .map_err(|e| {
            let (message, hint) = explain(&e.code, None);
            doc.error(&changes, message, hint)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::error::SourceFile;
    use crate::scenario::parse::parse;
    use crate::scenario::schema::{IpiPolicy, ReturnPath};

    fn options(text: &str, variant: usize) -> Result<KernelOptions, ScenarioError> {
        let (scenario, doc) = parse(SourceFile::new("t.ron", text)).unwrap();
        let base = scenario.kernel.clone().unwrap_or_default();
        kernel_options(&doc, &base, &scenario.variants[variant], variant)
    }

    #[test]
    fn variant_fields_replace_base_fields_and_keep_the_rest() {
        let text = r#"(
            kernel: (membarrier_ipi: All, timer_period: 500),
            variants: [
                (name: "a", expect: ()),
                (name: "b", kernel: (return_to_user: Iret, timer_period: None), expect: ()),
            ],
        )"#;
        let a = options(text, 0).unwrap();
        assert_eq!(
            (a.membarrier_ipi, a.timer_period),
            (IpiPolicy::All, Some(500))
        );
        let b = options(text, 1).unwrap();
        assert_eq!(b.return_to_user, ReturnPath::Iret);
        assert_eq!((b.membarrier_ipi, b.timer_period), (IpiPolicy::All, None));
        assert_eq!(
            b.sync_core_before_usermode,
            KernelOptions::default().sync_core_before_usermode
        );
    }

    #[test]
    fn bad_changes_point_at_their_name_or_value() {
        let text = "(kernel: (),\n variants: [(name: \"v\", expect: (),\n  kernel: (sync_core_before_usrmode: true))])";
        let e = options(text, 0).unwrap_err();
        assert_eq!((e.line, e.col), (3, 12));
        assert_eq!(
            e.message,
            "unknown kernel option \"sync_core_before_usrmode\""
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean \"sync_core_before_usermode\"?")
        );
        let text = "(kernel: (),\n variants: [(name: \"v\", expect: (),\n  kernel: (return_to_user: Sysexit))])";
        let e = options(text, 0).unwrap_err();
        assert_eq!((e.line, e.col), (3, 28));
        assert_eq!(e.hint.as_deref(), Some("did you mean \"Sysret\"?"));
    }

    #[test]
    fn overlay_keeps_unwritten_fields() {
        let base = MachineSpec {
            jitter: Some(10),
            seed: Some(1),
            core: [("rob_size".to_string(), 64)].into(),
            ..MachineSpec::default()
        };
        let over = MachineSpec {
            seed: Some(2),
            core: [("decode_width".to_string(), 2)].into(),
            ..MachineSpec::default()
        };
        let merged = base.overlay(&over);
        assert_eq!((merged.jitter, merged.seed), (Some(10), Some(2)));
        assert_eq!(merged.core.len(), 2);
    }
}
