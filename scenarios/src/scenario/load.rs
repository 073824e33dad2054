//! Loading a scenario file: parse, check, assemble and resolve every configuration
//! (the base, or each variant), so that every error surfaces at load, located.

use std::path::{Path, PathBuf};

use isa::asm::Program;
use sim_core::machine::{Contract, MachineConfig};

use super::assembly;
use super::build::machine_config;
use super::condition::FinalStateCondition;
use super::document::Document;
use super::error::{ScenarioError, SourceFile, did_you_mean};
use super::overrides::Overrides;
use super::parse::parse;
use super::resolve::{BareMetal, Event, resolve};
use super::ron_tree::Step;
use super::schema::{Expectations, KernelOptions, Scenario, Verdict};
use super::{validate, variant};
use crate::kernel::KernelImage;

/// A scenario read, checked and assembled: ready to build machines from.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The scenario's `name`, or the file stem.
    pub name: String,
    /// The file it was read from (includes are relative to its directory).
    pub path: PathBuf,
    /// The file's contents.
    pub scenario: Scenario,
    pub(crate) doc: Document,
    configurations: Vec<Configuration>,
}

/// One runnable configuration: the base scenario (when it has no variants) or
/// one variant applied to it, with everything resolved.
#[derive(Clone, Debug)]
pub struct Configuration {
    /// The variant's name; `None` for the base scenario.
    pub variant: Option<String>,
    /// The assembled program (after the variant's defines; for kernel
    /// scenarios inside the kernel's prologue and epilogue).
    pub program: Program,
    /// The machine, with the scenario's default seed.
    pub config: MachineConfig,
    /// The kernel's options (kernel scenarios only).
    pub kernel: Option<KernelOptions>,
    /// Core starts and system set-up (scenarios without `kernel`).
    pub bare_metal: Option<BareMetal>,
    /// Each CPU's boot state: what the kernel's boot code leaves behind and the
    /// first task's start (scenarios with `kernel`).
    pub kernel_cpus: Option<Vec<crate::kernel::CoreSetup>>,
    /// Interrupts raised during the run.
    pub events: Vec<Event>,
    /// Contracts checked during the run.
    pub contracts: Vec<Contract>,
    /// What the runs must show.
    pub expect: Expectations,
    /// `expect.final_state`, parsed: each condition with its verdict.
    pub final_state: Vec<(FinalStateCondition, Verdict)>,
}

impl Configuration {
    /// `"base"` or the variant's name, for reports.
    pub fn name(&self) -> &str {
        self.variant.as_deref().unwrap_or("base")
    }
}

/// Read and load the scenario at `path`.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    load_str(&read(path)?, path)
}

/// The text of the scenario file at `path`.
pub fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::unlocated(
            path.display().to_string(),
            format!("cannot read scenario: {e}"),
            Some("check the path".to_string()),
        )
    })
}

/// Load scenario `text` as if read from `path` (which names it in errors and is
/// where `Include`s are resolved from; it need not exist).
pub fn load_str(text: &str, path: &Path) -> Result<LoadedScenario, ScenarioError> {
    load_str_with(text, path, &Overrides::default())
}

/// [`load_str`] with `overrides` applied to the scenario before it is checked
/// and assembled (a sweep point). Errors in what the file says are located in
/// it; values the overrides bring are best checked by whoever wrote them.
pub fn load_str_with(
    text: &str,
    path: &Path,
    overrides: &Overrides,
) -> Result<LoadedScenario, ScenarioError> {
    let file = SourceFile::new(path.display().to_string(), text);
    let (mut scenario, doc) = parse(file)?;
    overrides.apply(&mut scenario);
    validate::check(&doc, &scenario)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let pieces = assembly::read_pieces(&doc, &scenario.program, dir)?;
    let variants: Vec<Option<usize>> = if scenario.variants.is_empty() {
        vec![None]
    } else {
        (0..scenario.variants.len()).map(Some).collect()
    };
    let mut base_program = None;
    let mut configurations = Vec::with_capacity(variants.len());
    for variant in variants {
        let name = variant.map(|i| scenario.variants[i].name.as_str());
        let kernel = kernel_options(&doc, &scenario, variant)?;
        let image = kernel
            .as_ref()
            .map(|options| {
                crate::kernel::build(options, &scenario.tasks, &scenario.cpus)
                    .map_err(|e| validate::kernel_error(&doc, &scenario, variant, &e))
            })
            .transpose()?;
        let defines = variant
            .map(|i| (i, &scenario.variants[i].defines))
            .filter(|(_, d)| !d.is_empty());
        let input = assembly::Input {
            pieces: &pieces,
            defines,
            kernel: image.as_ref().map(|image| assembly::KernelText {
                image,
                tasks: &scenario.tasks,
            }),
            variant: name,
        };
        // Configurations that change neither defines nor kernel options share
        // the base program.
        let is_base =
            defines.is_none() && variant.is_none_or(|i| scenario.variants[i].kernel.is_empty());
        let program = match &base_program {
            Some(program) if is_base => Clone::clone(program),
            _ => {
                let program = assembly::assemble(&doc, &input)?;
                if is_base {
                    base_program = Some(program.clone());
                }
                program
            }
        };
        configurations.push(configuration(
            &doc,
            &scenario,
            variant,
            program,
            kernel,
            image.as_ref(),
        )?);
    }
    let name = scenario.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned())
    });
    Ok(LoadedScenario {
        name,
        path: path.to_path_buf(),
        scenario,
        doc,
        configurations,
    })
}

/// The kernel options of the base (`variant: None`) or of variant number
/// `variant`; `None` for bare-metal scenarios.
fn kernel_options(
    doc: &Document,
    scenario: &Scenario,
    variant: Option<usize>,
) -> Result<Option<KernelOptions>, ScenarioError> {
    Ok(match (&scenario.kernel, variant) {
        (Some(base), Some(i)) => Some(variant::kernel_options(
            doc,
            base,
            &scenario.variants[i],
            i,
        )?),
        (base, _) => base.clone(),
    })
}

/// Resolve the base (`variant: None`) or variant number `variant` against its
/// assembled `program` (with `kernel` options and `image` for kernel scenarios).
fn configuration(
    doc: &Document,
    scenario: &Scenario,
    variant: Option<usize>,
    program: Program,
    kernel: Option<KernelOptions>,
    image: Option<&KernelImage>,
) -> Result<Configuration, ScenarioError> {
    let spec = match variant {
        Some(i) => scenario.machine.overlay(&scenario.variants[i].machine),
        None => scenario.machine.clone(),
    };
    let name = variant.map(|i| scenario.variants[i].name.clone());
    let resolved = resolve(doc, scenario, &spec, &program, image, name.as_deref())?;
    let config = machine_config(&spec, resolved.cores);
    let (expect, prefix) = match variant {
        Some(i) => (
            &scenario.variants[i].expect,
            vec![
                Step::Field("variants"),
                Step::Index(i),
                Step::Field("expect"),
            ],
        ),
        None => (&scenario.expect, vec![Step::Field("expect")]),
    };
    let final_state = expect
        .final_state
        .iter()
        .enumerate()
        .map(|(j, check)| {
            FinalStateCondition::parse(&check.condition, resolved.cores, &program)
                .map(|condition| (condition, check.verdict))
                .map_err(|e| {
                    let mut path = prefix.clone();
                    path.extend([
                        Step::Field("final_state"),
                        Step::Index(j),
                        Step::Field("condition"),
                    ]);
                    doc.string_error(&path, e.span, e.message, Some(e.hint))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Configuration {
        variant: name,
        program,
        config,
        kernel,
        bare_metal: resolved.bare_metal,
        kernel_cpus: resolved.kernel_cpus,
        events: resolved.events,
        contracts: resolved.contracts,
        expect: expect.clone(),
        final_state,
    })
}

impl LoadedScenario {
    /// Every runnable configuration: the base alone, or each variant.
    pub fn configurations(&self) -> &[Configuration] {
        &self.configurations
    }

    /// The configuration of `variant` (`None`: the base, for scenarios without
    /// variants). An unknown name is an error with the nearest name as hint.
    pub fn configuration(&self, variant: Option<&str>) -> Result<&Configuration, ScenarioError> {
        let names = self
            .configurations
            .iter()
            .filter_map(|c| c.variant.as_deref());
        let found = self
            .configurations
            .iter()
            .find(|c| c.variant.as_deref() == variant);
        found.ok_or_else(|| match variant {
            None => ScenarioError::unlocated(
                &self.doc.file.name,
                "this scenario has variants: choose one",
                Some(format!(
                    "variants: {}",
                    names.collect::<Vec<_>>().join(", ")
                )),
            ),
            Some(name) => ScenarioError::unlocated(
                &self.doc.file.name,
                format!("no variant named \"{name}\""),
                Some(did_you_mean(name, names)),
            ),
        })
    }
}
