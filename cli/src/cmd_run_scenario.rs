//! `synclab run SCENARIO.ron`: run one configuration of a scenario (or each) once
//! with one seed, and say what the run settles about its expectations.

use std::path::Path;
use std::process::ExitCode;

use scenarios::scenario::{self, Configuration, LoadedScenario, check_run, run_once_observed};
use serde_json::{Value, json};

use crate::Format;
use crate::cmd_run::{RunArgs, program_only_flag};
use crate::diagnostics::CliError;
use crate::interrupt;
use crate::report_checks::{Replay, any_failed, check_json, print_checks};
use crate::report_run;

/// Run `synclab run` on a scenario.
pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    if let Some(flag) = program_only_flag(args) {
        return Err(CliError::bad_input(
            format!("{flag} applies to assembly programs; a scenario describes its machine itself"),
            format!(
                "set it in the `machine` of {} (or of a variant), see docs/scenario-format.md",
                args.file.display()
            ),
        ));
    }
    let scenario = scenario::load(&args.file)?;
    let configurations = chosen(&scenario, args)?;
    if args.trace.is_some() && configurations.len() > 1 {
        return Err(CliError::bad_input(
            "--trace records one run; --all-variants makes several",
            "choose one with --variant NAME",
        ));
    }
    interrupt::catch_ctrl_c("stopping the run: the report of its state so far follows");
    let mut failed = false;
    let mut reports = Vec::new();
    for configuration in configurations {
        if interrupt::interrupted() {
            break;
        }
        let variant = configuration.variant.as_deref();
        let progress = interrupt::RunProgress::new(configuration.name());
        let observe = |cycle| progress.observe(cycle);
        let report =
            run_once_observed(&scenario, variant, args.seed, args.trace.is_some(), observe)?;
        drop(progress);
        let checks = check_run(configuration, &report);
        failed |= any_failed(&checks);
        let what = json!({
            "scenario": scenario.name,
            "path": args.file.display().to_string(),
            "variant": variant,
        });
        match args.format {
            Format::Text => {
                out!(
                    "{} ({}), seed {}:",
                    scenario.name,
                    configuration.name(),
                    report.seed
                );
                report_run::print_text(&report, false);
                out!("\nexpectations (one run settles only what it shows or contradicts):");
                let replay = Replay {
                    path: &args.file,
                    variant,
                };
                print_checks(&checks, &replay, true, "  ");
                out!("");
            }
            Format::Json => {
                let mut value = report_run::run_json(&report, what.clone());
                value["expectations"] = checks.iter().map(check_json).collect();
                reports.push(value);
            }
        }
        if let Some(path) = &args.trace {
            crate::trace_file::save(path, &report, what)?;
        }
    }
    if args.format == Format::Json {
        let shown = match reports.len() {
            1 if !args.all_variants => reports.pop().unwrap_or_default(),
            _ => Value::Array(reports),
        };
        out!("{shown:#}");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else if interrupt::interrupted() {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

/// The configurations the flags choose: all, the named variant, or the base.
fn chosen<'a>(
    scenario: &'a LoadedScenario,
    args: &RunArgs,
) -> Result<Vec<&'a Configuration>, CliError> {
    if args.all_variants {
        return Ok(scenario.configurations().iter().collect());
    }
    let has_variants = scenario
        .configurations()
        .iter()
        .any(|c| c.variant.is_some());
    if args.variant.is_none() && has_variants {
        // The first variant is the one a scenario's header presents first (the
        // library puts the bug there): run it and say how to get the others.
        let all = scenario.configurations();
        let names: Vec<&str> = all.iter().map(Configuration::name).collect();
        eprintln!(
            "note: running variant `{}` of {}; the others: --variant NAME ({}) or --all-variants",
            names[0],
            args.file.display(),
            names[1..].join(", ")
        );
        return Ok(vec![&all[0]]);
    }
    match &args.variant {
        Some(name) => Ok(vec![named_configuration(scenario, &args.file, name)?]),
        None => Ok(vec![scenario.configuration(None)?]),
    }
}

/// The configuration of variant `name` of the scenario read from `path`.
pub fn named_configuration<'a>(
    scenario: &'a LoadedScenario,
    path: &Path,
    name: &str,
) -> Result<&'a Configuration, CliError> {
    if scenario
        .configurations()
        .iter()
        .all(|c| c.variant.is_none())
    {
        return Err(CliError::bad_input(
            format!("{} has no variants", path.display()),
            "drop --variant: the scenario's one configuration is its base",
        ));
    }
    Ok(scenario.configuration(Some(name))?)
}
