//! Valid scenarios load, build and run on the out-of-order machine, and their runs
//! show what each configuration's expectations say over the scenario's seeds.

use std::path::{Path, PathBuf};

use scenarios::scenario::schema::Verdict;
use scenarios::scenario::{Configuration, LoadedScenario, load};
use sim_core::machine::StopReason;

fn valid(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenario_data/valid")
        .join(name)
}

fn load_valid(name: &str) -> LoadedScenario {
    load(&valid(name)).unwrap_or_else(|e| panic!("{:?}", e.to_report()))
}

/// How many of `runs` runs showed something.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    runs: usize,
    times: usize,
}

impl Seen {
    fn agrees_with(&self, verdict: Verdict) -> bool {
        match verdict {
            Verdict::Possible => self.times > 0,
            Verdict::Impossible => self.times == 0,
            Verdict::Always => self.times == self.runs,
        }
    }
}

/// What the runs of one configuration showed: per final-state condition, stale
/// executions, contract violations.
#[derive(Debug)]
struct Observed {
    conditions: Vec<Seen>,
    stale: Seen,
    violations: Seen,
}

fn explore(scenario: &LoadedScenario, configuration: &Configuration) -> Observed {
    let runs = scenario.scenario.explore.seeds as usize;
    let seen = |times| Seen { runs, times };
    let mut conditions = vec![0; configuration.final_state.len()];
    let (mut stale, mut violations) = (0, 0);
    for seed in 0..runs as u64 {
        let mut machine = scenario
            .build(configuration.variant.as_deref(), Some(seed))
            .unwrap();
        let outcome = machine.run();
        assert_eq!(
            outcome.stop,
            StopReason::AllHalted,
            "{} seed {seed}",
            configuration.name()
        );
        for (count, (condition, _)) in conditions.iter_mut().zip(&configuration.final_state) {
            *count += usize::from(condition.holds(&machine));
        }
        stale += usize::from(!machine.stale_executions().is_empty());
        violations += usize::from(!machine.contract_violations().is_empty());
    }
    Observed {
        conditions: conditions.into_iter().map(seen).collect(),
        stale: seen(stale),
        violations: seen(violations),
    }
}

/// Every expectation of every configuration holds over the scenario's seeds.
fn check_expectations(name: &str) {
    let scenario = load_valid(name);
    for configuration in scenario.configurations() {
        let observed = explore(&scenario, configuration);
        let context = format!("{name} / {}: {observed:?}", configuration.name());
        eprintln!("{context}");
        for ((condition, verdict), seen) in
            configuration.final_state.iter().zip(&observed.conditions)
        {
            assert!(
                seen.agrees_with(*verdict),
                "{context}: `{}` expected {verdict:?}",
                condition.text
            );
        }
        let expect = &configuration.expect;
        for (verdict, seen) in [
            (expect.stale_execution, &observed.stale),
            (expect.contract_violation, &observed.violations),
        ] {
            if let Some(verdict) = verdict {
                assert!(seen.agrees_with(verdict), "{context}: expected {verdict:?}");
            }
        }
    }
}

#[test]
fn store_buffering_is_possible_relaxed_and_impossible_fenced() {
    check_expectations("sb.ron");
}

#[test]
fn cross_modifying_code_runs_stale_bytes_unless_serialized() {
    check_expectations("xmc.ron");
}

#[test]
fn bare_metal_system_set_up_reaches_syscall_entry_idt_and_kernel_stack() {
    check_expectations("syscall.ron");
    let scenario = load_valid("syscall.ron");
    let machine = scenario.build(None, None).unwrap();
    let kstack = scenario.configurations()[0]
        .program
        .symbol("kstack_top")
        .unwrap();
    assert_eq!(machine.system(0).kernel_stack(), kstack);
    assert_eq!(machine.system(1).kernel_stack(), kstack - 0x1000);
    assert_eq!(machine.system(0).cpl(), 3);
    assert_eq!(machine.system(1).cpl(), 0);
}

#[test]
fn kernel_scenarios_boot_the_kernel_and_run_its_tasks() {
    check_expectations("kernel_yield.ron");
    let scenario = load_valid("kernel_yield.ron");
    let configuration = &scenario.configurations()[0];
    let machine = scenario.build(None, None).unwrap();
    // CPU 0 starts in user task a, CPU 1 in the kernel thread.
    let a = configuration.program.symbol("a").unwrap();
    let cpus = configuration.kernel_cpus.as_ref().unwrap();
    assert_eq!(cpus[0].rip, a);
    assert_eq!(machine.system(0).cpl(), 3);
    assert_eq!(machine.system(1).cpl(), 0);
    assert_eq!(machine.system(0).cr3(), 1);
}

#[test]
fn wake_and_block_events_reach_the_tasks_cpus() {
    check_expectations("kernel_wake.ron");
    let scenario = load_valid("kernel_wake.ron");
    let configuration = &scenario.configurations()[0];
    let wake = |slot: u8| scenarios::kernel::TASK_WAKE_VECTOR + slot;
    let block = |slot: u8| wake(scenarios::kernel::MAX_RQ_TASKS as u8 + slot);
    // sleeper: CPU 0, slot 0; spinner: CPU 1, slot 0.
    let targets: Vec<(usize, u8)> = configuration
        .events
        .iter()
        .map(|e| (e.cpu, e.vector))
        .collect();
    assert_eq!(targets, [(0, wake(0)), (1, block(0)), (1, wake(0))]);
    let mut machine = scenario.build(None, None).unwrap();
    machine.run();
    let woke_at = configuration.program.symbol("sleeper_woke_at").unwrap();
    let woke_at = machine.memory().read(woke_at, isa::reg::Width::B8);
    assert!(
        woke_at > 20_000,
        "the sleeper ran at cycle {woke_at}, before its Wake"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let scenario = load_valid("sb.ron");
    let run = |seed| {
        let mut machine = scenario.build(Some("relaxed"), Some(seed)).unwrap();
        let outcome = machine.run();
        (outcome.cycles, machine.regs(0), machine.regs(1))
    };
    assert_eq!(run(3), run(3));
}

#[test]
fn seeds_come_from_the_caller_or_the_scenario() {
    let scenario = load_valid("sb.ron");
    let config = scenario.machine_config(Some("fenced"), None).unwrap();
    assert_eq!(
        (config.seed, config.timing_jitter, config.cores),
        (0, 400, 2)
    );
    let config = scenario.machine_config(Some("fenced"), Some(9)).unwrap();
    assert_eq!(config.seed, 9);
    let e = scenario.machine_config(Some("fence"), None).unwrap_err();
    assert_eq!(e.message, "no variant named \"fence\"");
    assert_eq!(e.hint.as_deref(), Some("did you mean \"fenced\"?"));
    let e = scenario.machine_config(None, None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("variants: relaxed, fenced"));
}
