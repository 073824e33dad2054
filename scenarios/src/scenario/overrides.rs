//! Changes made to a scenario before it is loaded: what one point of a parameter
//! sweep sets (machine fields, kernel options, defines, the number of CPUs).
//!
//! They apply to every configuration, over what a variant itself changes, and go
//! through the same checks and assembly as the file's own text.

use std::collections::BTreeMap;

use super::schema::{CpuSpec, MachineSpec, Scenario, TaskSpec, Variant};

/// Changes to a scenario, applied to the base and to every variant (over the
/// variant's own changes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Machine fields to set (only those written apply), as in a variant's `machine`.
    pub machine: MachineSpec,
    /// Kernel options to set, by name, each value as RON text (`Iret`, `true`).
    pub kernel: BTreeMap<String, String>,
    /// Symbols to define, over the variants' own `defines`.
    pub defines: BTreeMap<String, i64>,
    /// The number of CPUs of a kernel scenario: the written `cpus` are cut to it,
    /// or the CPUs after the first are repeated to reach it (see [`resize_cpus`]).
    pub cpus: Option<usize>,
}

/// Name of the variant that carries overrides of a scenario without variants
/// (its expectations are the base's).
pub const BASE_VARIANT: &str = "base";

impl Overrides {
    /// Whether nothing is changed.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// Apply the changes to `scenario`. A scenario without variants gets one,
    /// [`BASE_VARIANT`], holding the base's expectations, so that kernel options
    /// and defines have a variant to live in. Kernel values that are not RON are
    /// left for loading to report.
    pub(crate) fn apply(&self, scenario: &mut Scenario) {
        if self.is_empty() {
            return;
        }
        if let Some(cpus) = self.cpus {
            resize_cpus(scenario, cpus);
        }
        if scenario.variants.is_empty() {
            scenario.variants.push(Variant {
                name: BASE_VARIANT.to_string(),
                machine: MachineSpec::default(),
                kernel: BTreeMap::new(),
                defines: BTreeMap::new(),
                expect: std::mem::take(&mut scenario.expect),
            });
        }
        scenario.machine = scenario.machine.overlay(&self.machine);
        for variant in &mut scenario.variants {
            variant.machine = variant.machine.overlay(&self.machine);
            if self.cpus.is_some() && variant.machine.cores.is_some() {
                variant.machine.cores = self.cpus;
            }
            for (name, text) in &self.kernel {
                if let Ok(value) = ron::value::RawValue::from_boxed_ron(text.clone().into()) {
                    variant.kernel.insert(name.clone(), value);
                }
            }
            variant.defines.extend(self.defines.clone());
        }
    }
}

/// Make a kernel scenario's `cpus` list `n` long: cut it, or repeat the CPUs
/// after the first (the first alone when it is the only one) in order, each
/// repeated task copied as `NAME_cpuI` for CPU `I`. A written `machine.cores`
/// becomes `n`.
pub fn resize_cpus(scenario: &mut Scenario, n: usize) {
    let written = scenario.cpus.len();
    if n <= written {
        scenario.cpus.truncate(n);
        let kept: Vec<&String> = scenario.cpus.iter().flat_map(|c| &c.run).collect();
        let kept: Vec<String> = kept.into_iter().cloned().collect();
        scenario.tasks.retain(|t| kept.contains(&t.name));
    } else if written > 0 {
        let templates = if written > 1 { 1..written } else { 0..1 };
        for cpu in written..n {
            let template = templates.start + (cpu - written) % templates.len();
            let mut run = Vec::new();
            for name in scenario.cpus[template].run.clone() {
                let copy = format!("{name}_cpu{cpu}");
                if let Some(task) = scenario.tasks.iter().find(|t| t.name == name) {
                    scenario.tasks.push(TaskSpec {
                        name: copy.clone(),
                        ..task.clone()
                    });
                }
                run.push(copy);
            }
            scenario.cpus.push(CpuSpec { run });
        }
    }
    if scenario.machine.cores.is_some() {
        scenario.machine.cores = Some(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::TaskKind;

    fn task(name: &str) -> TaskSpec {
        TaskSpec {
            name: name.to_string(),
            kind: TaskKind::User { mm: 1 },
            entry: "e".to_string(),
        }
    }

    fn runqueues(scenario: &Scenario) -> Vec<Vec<&str>> {
        let names = |c| -> Vec<&str> { CpuSpec::run_names(c) };
        scenario.cpus.iter().map(names).collect()
    }

    impl CpuSpec {
        fn run_names(&self) -> Vec<&str> {
            self.run.iter().map(String::as_str).collect()
        }
    }

    fn three_cpus() -> Scenario {
        Scenario {
            tasks: vec![task("a"), task("b"), task("c")],
            cpus: vec![
                CpuSpec {
                    run: vec!["a".into()],
                },
                CpuSpec {
                    run: vec!["b".into()],
                },
                CpuSpec {
                    run: vec!["c".into()],
                },
            ],
            ..Scenario::default()
        }
    }

    #[test]
    fn cpus_after_the_first_repeat_in_order_with_renamed_tasks() {
        let mut scenario = three_cpus();
        resize_cpus(&mut scenario, 6);
        assert_eq!(
            runqueues(&scenario),
            [
                vec!["a"],
                vec!["b"],
                vec!["c"],
                vec!["b_cpu3"],
                vec!["c_cpu4"],
                vec!["b_cpu5"]
            ]
        );
        assert_eq!(scenario.tasks.len(), 6);
        assert_eq!(scenario.tasks[5].name, "b_cpu5");
    }

    #[test]
    fn cutting_cpus_drops_their_tasks() {
        let mut scenario = three_cpus();
        scenario.machine.cores = Some(3);
        resize_cpus(&mut scenario, 2);
        assert_eq!(runqueues(&scenario), [vec!["a"], vec!["b"]]);
        let names: Vec<&str> = scenario.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(scenario.machine.cores, Some(2));
    }

    #[test]
    fn overrides_of_a_scenario_without_variants_live_in_a_base_variant() {
        let mut scenario = Scenario::default();
        scenario.expect.max_cycles = Some(5);
        let overrides = Overrides {
            defines: [("N".to_string(), 3)].into(),
            ..Overrides::default()
        };
        overrides.apply(&mut scenario);
        assert_eq!(scenario.variants.len(), 1);
        assert_eq!(scenario.variants[0].name, BASE_VARIANT);
        assert_eq!(scenario.variants[0].expect.max_cycles, Some(5));
        assert_eq!(scenario.variants[0].defines["N"], 3);
        assert_eq!(scenario.expect.max_cycles, None);
    }
}
