//! Sweep parameters: `PATH=V1,V2,...` or `PATH=FROM..TO:STEP`, with `PATH` named
//! as the scenario schema names it (`machine.ipi_latency`, `machine.core.rob_size`,
//! `kernel.return_to_user`, `defines.REPS`, `cpus`) and every value checked
//! against the field's type when the sweep is loaded.

use std::ops::Range;

use crate::kernel::MAX_CPUS;
use crate::scenario::error::did_you_mean;
use crate::scenario::knobs::{self, CORE_KNOBS, Knob, MEM_KNOBS};
use crate::scenario::parse::{explain, ron_options};
use crate::scenario::schema::{KernelOptions, MachineSpec, Scenario};
use crate::scenario::{Overrides, ScenarioError, SourceFile};

/// Most values one parameter may take (a range that large is a typo).
pub const MAX_VALUES: usize = 100_000;

/// What a parameter sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A `machine` field other than the `core` and `mem` tables.
    Machine(String),
    /// A `machine.core` entry.
    Core(String),
    /// A `machine.mem` entry.
    Mem(String),
    /// A kernel option.
    Kernel(String),
    /// A symbol some variant defines.
    Define(String),
    /// The number of CPUs of a kernel scenario.
    Cpus,
}

/// One swept parameter: its path and the values it takes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The path as written (`machine.ipi_latency`): a column of the results.
    pub path: String,
    /// What it sets.
    pub target: Target,
    /// Each value as RON text (`50`, `Iret`, `Delayed(cycles: 8)`).
    pub values: Vec<String>,
}

/// A problem in the text of one parameter: the bytes at fault, what is wrong and
/// a hint. Whoever holds the text turns it into a located [`ScenarioError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// Bytes of the parameter's text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl ParamError {
    fn new(span: Range<usize>, message: impl Into<String>, hint: Option<String>) -> ParamError {
        ParamError {
            span,
            message: message.into(),
            hint,
        }
    }

    /// This error in a parameter given on the command line, `--param TEXT`.
    pub fn on_command_line(&self, text: &str) -> ScenarioError {
        let file = SourceFile::new("--param", text);
        file.error(self.span.clone(), self.message.clone(), self.hint.clone())
    }
}

const SYNTAX: &str =
    "write PATH=V1,V2,... or PATH=FROM..TO:STEP, e.g. machine.ipi_latency=50..800:50";

impl Param {
    /// Parse `PATH=VALUES` and check it against `scenario`.
    pub fn parse(text: &str, scenario: &Scenario) -> Result<Param, ParamError> {
        let Some(eq) = text.find('=') else {
            let message = "a parameter needs `=` and its values";
            return Err(ParamError::new(0..text.len(), message, Some(SYNTAX.into())));
        };
        let path = text[..eq].trim();
        let target = target(path, scenario).map_err(|(message, hint)| {
            let start = text.find(path).unwrap_or(0);
            ParamError::new(start..start + path.len(), message, hint)
        })?;
        let values = values(text, eq + 1)?;
        let mut seen: Vec<&str> = Vec::new();
        for (value, span) in &values {
            check_value(&target, value).map_err(|(m, h)| ParamError::new(span.clone(), m, h))?;
            if seen.contains(&value.as_str()) {
                let hint = Some("each value once: the points would repeat".to_string());
                return Err(ParamError::new(
                    span.clone(),
                    format!("`{value}` is given twice"),
                    hint,
                ));
            }
            seen.push(value);
        }
        Ok(Param {
            path: path.to_string(),
            target,
            values: values.into_iter().map(|(v, _)| v).collect(),
        })
    }

    /// Set this parameter to `value` (one of [`Param::values`]) in `overrides`.
    pub fn set(&self, value: &str, overrides: &mut Overrides) {
        match &self.target {
            Target::Machine(field) => {
                if let Ok(spec) = machine_field(field, value) {
                    overrides.machine = overrides.machine.overlay(&spec);
                }
            }
            Target::Core(name) => {
                overrides.machine.core.insert(name.clone(), number(value));
            }
            Target::Mem(name) => {
                overrides.machine.mem.insert(name.clone(), number(value));
            }
            Target::Kernel(name) => {
                overrides.kernel.insert(name.clone(), value.to_string());
            }
            Target::Define(name) => {
                let value = parse_signed(value).unwrap_or_default();
                overrides.defines.insert(name.clone(), value);
            }
            Target::Cpus => overrides.cpus = Some(number(value) as usize),
        }
    }
}

/// A checked integer value (checked values always parse).
fn number(value: &str) -> u64 {
    parse_int(value).unwrap_or_default()
}

/// An integer as RON writes it: decimal, `0x` hex, `_` separators.
fn parse_int(text: &str) -> Option<u64> {
    let text = text.replace('_', "");
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A signed integer as RON writes it.
fn parse_signed(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(magnitude) => i64::try_from(parse_int(magnitude)?).ok().map(|v| -v),
        None => i64::try_from(parse_int(text)?).ok(),
    }
}

type Problem = (String, Option<String>);

/// The field names serde knows for `T`, from the error naming an unknown field.
fn field_names<T: for<'de> serde::Deserialize<'de>>() -> &'static [&'static str] {
    match ron_options().from_str::<T>("(no_such_field_at_all: 0)") {
        Err(e) => match e.code {
            ron::Error::NoSuchStructField { expected, .. } => expected,
            _ => &[],
        },
        Ok(_) => &[],
    }
}

const ROOTS: [&str; 4] = ["machine", "kernel", "defines", "cpus"];

/// What `path` sets in `scenario`, or why it cannot be swept.
fn target(path: &str, scenario: &Scenario) -> Result<Target, Problem> {
    let parts: Vec<&str> = path.split('.').collect();
    let unknown = |what: &str, name: &str, known: &[&str]| {
        let hint = did_you_mean(name, known.iter().copied());
        Err((format!("unknown {what} \"{name}\""), Some(hint)))
    };
    match parts.as_slice() {
        ["cpus"] if scenario.kernel.is_none() => Err((
            "`cpus` is the number of CPUs of a kernel scenario".into(),
            Some("for a bare-metal scenario sweep `machine.cores`".into()),
        )),
        ["cpus"] => Ok(Target::Cpus),
        ["machine", "core", name] => knob(CORE_KNOBS, name, "core").map(Target::Core),
        ["machine", "mem", name] => knob(MEM_KNOBS, name, "mem").map(Target::Mem),
        ["machine", "seed"] => Err((
            "the seed is not a parameter: every point runs the sweep's seeds".into(),
            Some("set the number of seeds with `seeds` (`--seeds N`)".into()),
        )),
        ["machine", "cores"] if scenario.kernel.is_some() => Err((
            "a kernel scenario has one core per CPU".into(),
            Some("sweep `cpus` instead".into()),
        )),
        ["machine", name] => {
            let fields: Vec<&str> = field_names::<MachineSpec>()
                .iter()
                .copied()
                .filter(|f| !["core", "mem", "seed"].contains(f))
                .collect();
            match fields.contains(name) {
                true => Ok(Target::Machine(name.to_string())),
                false => unknown("machine field", name, &fields),
            }
        }
        ["kernel", _] if scenario.kernel.is_none() => Err((
            "this scenario does not run the kernel".into(),
            Some("kernel options apply to scenarios with `kernel: (...)`".into()),
        )),
        ["kernel", name] => {
            let fields = field_names::<KernelOptions>();
            match fields.contains(name) {
                true => Ok(Target::Kernel(name.to_string())),
                false => unknown("kernel option", name, fields),
            }
        }
        ["defines", name] => {
            let mut defined: Vec<&str> = scenario
                .variants
                .iter()
                .flat_map(|v| v.defines.keys().map(String::as_str))
                .collect();
            defined.sort_unstable();
            defined.dedup();
            match (defined.contains(name), defined.is_empty()) {
                (true, _) => Ok(Target::Define(name.to_string())),
                (false, true) => Err((
                    format!("no variant of this scenario defines \"{name}\""),
                    Some("a define is swept over a symbol some variant's `defines` sets".into()),
                )),
                (false, false) => unknown("define", name, &defined),
            }
        }
        [root, ..] if !ROOTS.contains(root) => unknown("parameter", root, &ROOTS),
        _ => Err((
            format!("\"{path}\" is not a parameter"),
            Some(
                "parameters: cpus, machine.FIELD, machine.core.NAME, machine.mem.NAME, kernel.OPTION, defines.NAME"
                    .into(),
            ),
        )),
    }
}

fn knob<T>(knobs: &[Knob<T>], name: &str, table: &str) -> Result<String, Problem> {
    match knobs::find(knobs, name) {
        Some(k) => Ok(k.name.to_string()),
        None => Err((
            format!("unknown `machine.{table}` name \"{name}\""),
            Some(did_you_mean(name, knobs::names(knobs))),
        )),
    }
}

/// The values of `text[start..]`, each with its span in `text`.
fn values(text: &str, start: usize) -> Result<Vec<(String, Range<usize>)>, ParamError> {
    let items = split_top_level(text, start);
    if let [(item, span)] = items.as_slice()
        && item.contains("..")
    {
        return range(item, span.clone());
    }
    for (item, span) in &items {
        if item.is_empty() {
            let hint = Some(SYNTAX.to_string());
            return Err(ParamError::new(span.clone(), "a value is missing", hint));
        }
    }
    Ok(items)
}

/// The comma-separated items of `text[start..]` (commas inside brackets or
/// strings do not separate), trimmed, each with its span.
fn split_top_level(text: &str, start: usize) -> Vec<(String, Range<usize>)> {
    let mut items = Vec::new();
    let (mut depth, mut quoted, mut from) = (0i32, false, start);
    let mut push = |from: usize, to: usize| {
        let raw = &text[from..to];
        let lead = raw.len() - raw.trim_start().len();
        let item = raw.trim();
        let at = from + lead;
        items.push((
            item.to_string(),
            at..at + item.len().max(1).min(text.len() - at),
        ));
    };
    for (i, c) in text[start..].char_indices() {
        let i = start + i;
        match c {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                push(from, i);
                from = i + 1;
            }
            _ => {}
        }
    }
    push(from, text.len());
    items
}

/// `FROM..TO` or `FROM..TO:STEP`: the integers from FROM up to TO inclusive.
fn range(item: &str, span: Range<usize>) -> Result<Vec<(String, Range<usize>)>, ParamError> {
    let bad = |message: &str| {
        let hint = "FROM..TO:STEP gives FROM, FROM+STEP, ... up to TO (integers, STEP > 0)";
        ParamError::new(span.clone(), message, Some(hint.into()))
    };
    let (bounds, step) = match item.split_once(':') {
        Some((bounds, step)) => (bounds, parse_int(step.trim())),
        None => (item, Some(1)),
    };
    let (from, to) = bounds.split_once("..").ok_or_else(|| bad("not a range"))?;
    let (Some(from), Some(to), Some(step)) = (parse_int(from.trim()), parse_int(to.trim()), step)
    else {
        return Err(bad("a range takes non-negative integers"));
    };
    if step == 0 || from > to {
        return Err(bad("empty range"));
    }
    if (to - from) / step >= MAX_VALUES as u64 {
        return Err(bad(&format!("more than {MAX_VALUES} values")));
    }
    let values = (from..=to).step_by(step as usize);
    Ok(values.map(|v| (v.to_string(), span.clone())).collect())
}

/// A `MachineSpec` with only `field` set to `value`.
fn machine_field(field: &str, value: &str) -> Result<MachineSpec, Problem> {
    ron_options()
        .from_str::<MachineSpec>(&format!("({field}: {value})"))
        .map_err(|e| explain(&e.code, Some(field)))
}

/// Whether `value` is a value of `target`.
fn check_value(target: &Target, value: &str) -> Result<(), Problem> {
    let integer = |min: u64, max: u64| match parse_int(value) {
        Some(v) if (min..=max).contains(&v) => Ok(()),
        _ => Err((
            format!("`{value}` is not an integer from {min} to {max}"),
            None,
        )),
    };
    match target {
        Target::Machine(field) if field == "cores" => integer(1, 64),
        Target::Machine(field) => machine_field(field, value).map(|_| ()),
        Target::Core(name) => integer(knob_min(CORE_KNOBS, name), knobs::KNOB_MAX),
        Target::Mem(name) => integer(knob_min(MEM_KNOBS, name), knobs::KNOB_MAX),
        Target::Kernel(name) => ron_options()
            .from_str::<KernelOptions>(&format!("({name}: {value})"))
            .map(|_| ())
            .map_err(|e| explain(&e.code, Some(name))),
        Target::Define(_) => match parse_signed(value) {
            Some(_) => Ok(()),
            None => Err((format!("`{value}` is not an integer"), None)),
        },
        Target::Cpus => integer(1, MAX_CPUS as u64),
    }
}

fn knob_min<T>(knobs: &[Knob<T>], name: &str) -> u64 {
    knobs::find(knobs, name).map_or(0, |k| k.min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel_scenario() -> Scenario {
        let mut scenario = Scenario {
            kernel: Some(KernelOptions::default()),
            ..Scenario::default()
        };
        scenario.variants.push(crate::scenario::schema::Variant {
            name: "v".into(),
            machine: MachineSpec::default(),
            kernel: Default::default(),
            defines: [("REPS".to_string(), 1)].into(),
            expect: Default::default(),
        });
        scenario
    }

    fn parse(text: &str) -> Result<Param, ParamError> {
        Param::parse(text, &kernel_scenario())
    }

    #[test]
    fn lists_and_ranges_give_values_in_order() {
        let p = parse("machine.ipi_latency=50..200:50").unwrap();
        assert_eq!(p.values, ["50", "100", "150", "200"]);
        assert_eq!(p.target, Target::Machine("ipi_latency".into()));
        let p = parse("kernel.return_to_user = Sysret, Iret").unwrap();
        assert_eq!(p.values, ["Sysret", "Iret"]);
        let p = parse("machine.ifetch_coherence=Lazy,Delayed(cycles: 8),Snoop").unwrap();
        assert_eq!(p.values, ["Lazy", "Delayed(cycles: 8)", "Snoop"]);
        assert_eq!(parse("cpus=2..4").unwrap().values, ["2", "3", "4"]);
        assert_eq!(parse("defines.REPS=0,0x10").unwrap().values, ["0", "0x10"]);
        let p = parse("machine.core.rob_size=32,64").unwrap();
        assert_eq!(p.target, Target::Core("rob_size".into()));
    }

    #[test]
    fn unknown_paths_point_at_the_path_with_the_nearest_name() {
        let e = parse("machine.ipi_latncy=5").unwrap_err();
        assert_eq!(e.span, 0..18);
        assert_eq!(e.hint.as_deref(), Some("did you mean \"ipi_latency\"?"));
        let e = parse("kernel.return_to_usr=Iret").unwrap_err();
        assert_eq!(e.message, "unknown kernel option \"return_to_usr\"");
        assert_eq!(e.hint.as_deref(), Some("did you mean \"return_to_user\"?"));
        let e = parse("machine.core.rob_sise=5").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean \"rob_size\"?"));
        let e = parse("defines.REP=1").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean \"REPS\"?"));
        let e = parse("machin.pti=true").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean \"machine\"?"));
        assert!(parse("machine.cores=2").is_err());
        assert!(Param::parse("cpus=2", &Scenario::default()).is_err());
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let text = "kernel.return_to_user=Sysret,Sysexit";
        let e = parse(text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "Sysexit");
        assert_eq!(e.hint.as_deref(), Some("did you mean \"Sysret\"?"));
        let text = "cpus=2,65";
        assert_eq!(&text[parse(text).unwrap_err().span], "65");
        let text = "machine.core.rob_size=0";
        assert_eq!(&text[parse(text).unwrap_err().span], "0");
        let text = "machine.ipi_latency=10..5";
        assert_eq!(parse(text).unwrap_err().message, "empty range");
        let text = "machine.pti=true,,false";
        assert_eq!(parse(text).unwrap_err().message, "a value is missing");
        let text = "machine.pti=true,true";
        assert_eq!(parse(text).unwrap_err().message, "`true` is given twice");
        assert!(parse("machine.pti").is_err());
    }

    #[test]
    fn values_set_their_override() {
        let mut overrides = Overrides::default();
        parse("machine.ipi_latency=7")
            .unwrap()
            .set("7", &mut overrides);
        parse("machine.mem.remote_latency=9")
            .unwrap()
            .set("9", &mut overrides);
        parse("kernel.return_to_user=Iret")
            .unwrap()
            .set("Iret", &mut overrides);
        parse("cpus=8").unwrap().set("8", &mut overrides);
        parse("defines.REPS=3").unwrap().set("3", &mut overrides);
        assert_eq!(overrides.machine.ipi_latency, Some(7));
        assert_eq!(overrides.machine.mem["remote_latency"], 9);
        assert_eq!(overrides.kernel["return_to_user"], "Iret");
        assert_eq!((overrides.cpus, overrides.defines["REPS"]), (Some(8), 3));
    }
}
