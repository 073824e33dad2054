//! A sweep: a scenario, the configurations (variants) it crosses, the parameters
//! with their values, and the seeds every point runs. Read from a sweep file
//! (`scenarios/sweeps/*.ron`, `docs/sweeps.md`) or built from command-line
//! arguments; both are checked against the scenario at load.
//!
//! The points are the cartesian product of the configurations and the values,
//! numbered with the configuration first and the last parameter fastest. Shard
//! `I/N` holds the points whose number is `I` modulo `N`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::param::{Param, ParamError};
use super::row::Cell;
use crate::scenario::document::Document;
use crate::scenario::error::did_you_mean;
use crate::scenario::parse::{ron_error, ron_options};
use crate::scenario::ron_tree::{Node, Step};
use crate::scenario::{LoadedScenario, Overrides, ScenarioError, SourceFile, load_str, read};

/// A sweep file as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    /// Name in reports (default: the file stem).
    #[serde(default)]
    name: Option<String>,
    /// What the sweep answers.
    #[serde(default)]
    description: String,
    /// The scenario, relative to the sweep file.
    scenario: String,
    /// The variants crossed (default: every configuration).
    #[serde(default)]
    variants: Vec<String>,
    /// `PATH=VALUES` parameters.
    #[serde(default)]
    params: Vec<String>,
    /// Seeds per point (default: the scenario's `explore.seeds`).
    #[serde(default)]
    seeds: Option<u64>,
}

/// A checked sweep, ready to run.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Its name.
    pub name: String,
    /// What it answers (the sweep file's `description`).
    pub description: String,
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// The scenario's text, read once (each point loads it with its overrides).
    pub scenario_text: String,
    /// The configurations crossed: variant names, `None` for the base.
    pub configurations: Vec<Option<String>>,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// Seeds 0 to `seeds - 1` run at every point.
    pub seeds: u64,
    /// A digest of everything that decides the rows (scenario text, configurations,
    /// parameters, seeds): what resume and merge compare.
    pub id: String,
}

/// One point: its number, configuration and the value of each parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// Its number, from 0.
    pub index: u64,
    /// The configuration's variant (`None`: the base).
    pub variant: Option<String>,
    /// The value of each parameter, in [`Sweep::params`] order.
    pub values: Vec<String>,
}

/// A slice of the points: `index` of `count` (`0/1` is every point).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// All points.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parse `I/N` (0 <= I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether point `index` is in this slice.
    pub fn holds(self, index: u64) -> bool {
        index % self.count == self.index
    }
}

impl Sweep {
    /// Whether `text` is a sweep file (it has a top-level `scenario` field)
    /// rather than a scenario.
    pub fn is_sweep_text(text: &str) -> bool {
        Node::parse(text).is_some_and(|tree| tree.find(text, &[Step::Field("scenario")]).is_some())
    }

    /// Load the sweep file at `path`.
    pub fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let text = read(path)?;
        let doc = Document::new(SourceFile::new(path.display().to_string(), text.as_str()));
        let file: SweepFile = ron_options()
            .from_str(&text)
            .map_err(|e| ron_error(&doc, &e))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let scenario_path = dir.join(&file.scenario);
        let scenario = load_scenario(&scenario_path).map_err(|e| match e.line {
            0 => doc.error(&[Step::Field("scenario")], e.message, e.hint),
            _ => e,
        })?;
        let params = file
            .params
            .iter()
            .enumerate()
            .map(|(i, text)| {
                Param::parse(text, &scenario.scenario).map_err(|e: ParamError| {
                    let at = [Step::Field("params"), Step::Index(i)];
                    doc.string_error(&at, e.span, e.message, e.hint)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let configurations = choose(&scenario, &file.variants).map_err(|(i, message, hint)| {
            doc.error(&[Step::Field("variants"), Step::Index(i)], message, hint)
        })?;
        let name = file.name.clone().unwrap_or_else(|| stem(path));
        let mut sweep = Sweep::new(name, &scenario, params, configurations, file.seeds);
        sweep.description = file.description;
        Ok(sweep)
    }

    /// The sweep of `scenario_path` over `params` (each `PATH=VALUES`, errors
    /// located in the argument), crossed with `variants` (empty: every
    /// configuration), `seeds` per point (default: the scenario's).
    pub fn from_args(
        scenario_path: &Path,
        params: &[String],
        variants: &[String],
        seeds: Option<u64>,
    ) -> Result<Sweep, ScenarioError> {
        let scenario = load_scenario(scenario_path)?;
        let params = params
            .iter()
            .map(|text| Param::parse(text, &scenario.scenario).map_err(|e| e.on_command_line(text)))
            .collect::<Result<Vec<_>, _>>()?;
        let configurations = choose(&scenario, variants)
            .map_err(|(_, message, hint)| ScenarioError::unlocated("--variant", message, hint))?;
        Ok(Sweep::new(
            stem(scenario_path),
            &scenario,
            params,
            configurations,
            seeds,
        ))
    }

    fn new(
        name: String,
        scenario: &LoadedScenario,
        params: Vec<Param>,
        configurations: Vec<Option<String>>,
        seeds: Option<u64>,
    ) -> Sweep {
        let scenario_text = scenario_text(scenario);
        let seeds = seeds.unwrap_or(scenario.scenario.explore.seeds).max(1);
        let mut digest = Fnv::default();
        digest.add(&scenario_text);
        for configuration in &configurations {
            digest.add(configuration.as_deref().unwrap_or("\u{0}base"));
        }
        for param in &params {
            digest.add(&param.path);
            param.values.iter().for_each(|v| digest.add(v));
        }
        digest.add(&seeds.to_string());
        Sweep {
            name,
            description: String::new(),
            scenario_path: scenario.path.clone(),
            scenario_text,
            configurations,
            params,
            seeds,
            id: format!("{:016x}", digest.0),
        }
    }

    /// Number of points.
    pub fn points(&self) -> u64 {
        self.configurations.len() as u64 * self.values_per_configuration()
    }

    fn values_per_configuration(&self) -> u64 {
        self.params.iter().map(|p| p.values.len() as u64).product()
    }

    /// Point number `index` (below [`Sweep::points`]).
    pub fn point(&self, index: u64) -> Point {
        let per = self.values_per_configuration();
        let configuration = (index / per) as usize;
        let mut rest = index % per;
        let mut values = vec![String::new(); self.params.len()];
        for (i, param) in self.params.iter().enumerate().rev() {
            let n = param.values.len() as u64;
            values[i] = param.values[(rest % n) as usize].clone();
            rest /= n;
        }
        Point {
            index,
            variant: self.configurations[configuration].clone(),
            values,
        }
    }

    /// The overrides of `point`.
    pub fn overrides(&self, point: &Point) -> Overrides {
        let mut overrides = Overrides::default();
        for (param, value) in self.params.iter().zip(&point.values) {
            param.set(value, &mut overrides);
        }
        overrides
    }

    /// The columns identifying a point, before its metrics.
    pub fn point_columns(&self) -> Vec<String> {
        let mut columns = vec![
            "sweep".to_string(),
            "point".into(),
            "points".into(),
            "variant".into(),
        ];
        columns.extend(self.params.iter().map(|p| p.path.clone()));
        columns
    }

    /// Every column of a row.
    pub fn columns(&self) -> Vec<String> {
        let mut columns = self.point_columns();
        columns.extend(super::measure::metric_columns());
        columns
    }

    /// The cells identifying `point`.
    pub fn point_cells(&self, point: &Point) -> Vec<Cell> {
        let variant = point.variant.as_deref().unwrap_or("base");
        let mut cells = vec![
            Cell::Text(self.id.clone()),
            Cell::Int(point.index),
            Cell::Int(self.points()),
            Cell::Text(variant.to_string()),
        ];
        cells.extend(point.values.iter().map(|v| Cell::Text(v.clone())));
        cells
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or("sweep".to_string(), |s| s.to_string_lossy().into_owned())
}

fn load_scenario(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    load_str(&read(path)?, path)
}

fn scenario_text(scenario: &LoadedScenario) -> String {
    scenario.doc.file.text.to_string()
}

/// The configurations named by `variants` (empty: all), or the index, message
/// and hint of a name the scenario does not have.
fn choose(
    scenario: &LoadedScenario,
    variants: &[String],
) -> Result<Vec<Option<String>>, (usize, String, Option<String>)> {
    let all: Vec<Option<String>> = scenario
        .configurations()
        .iter()
        .map(|c| c.variant.clone())
        .collect();
    if variants.is_empty() {
        return Ok(all);
    }
    let names = || all.iter().filter_map(|v| v.as_deref());
    variants
        .iter()
        .enumerate()
        .map(|(i, name)| match names().find(|n| n == name) {
            Some(n) => Ok(Some(n.to_string())),
            None if all == [None] => Err((
                i,
                "this scenario has no variants".to_string(),
                Some("leave `variants` out".to_string()),
            )),
            None => Err((
                i,
                format!("no variant named \"{name}\""),
                Some(did_you_mean(name, names())),
            )),
        })
        .collect()
}

/// FNV-1a, 64 bits: a digest that is the same on every machine and release.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Add `text` and a separator.
    fn add(&mut self, text: &str) {
        for byte in text.bytes().chain([0xff]) {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(params: &[&str]) -> Sweep {
        let text = r#"(
            kernel: (),
            program: [Asm("t: jmp t")],
            tasks: [(name: "t", kind: Kernel, entry: "t")],
            cpus: [(run: ["t"]), ()],
            variants: [(name: "a", expect: ()), (name: "b", expect: ())],
            explore: (seeds: 3),
        )"#;
        let scenario = load_str(text, "s.ron".as_ref()).unwrap();
        let params = params
            .iter()
            .map(|p| Param::parse(p, &scenario.scenario).unwrap())
            .collect();
        let configurations = choose(&scenario, &[]).unwrap();
        Sweep::new("t".into(), &scenario, params, configurations, None)
    }

    #[test]
    fn points_are_the_product_with_the_last_parameter_fastest() {
        let s = sweep(&["cpus=2,4", "machine.ipi_latency=10..30:10"]);
        assert_eq!((s.points(), s.seeds), (12, 3));
        let p = s.point(0);
        assert_eq!(
            (p.variant.as_deref(), p.values.clone()),
            (Some("a"), vec!["2".into(), "10".into()])
        );
        let p = s.point(4);
        assert_eq!(
            (p.variant.as_deref(), p.values.clone()),
            (Some("a"), vec!["4".into(), "20".into()])
        );
        let p = s.point(11);
        assert_eq!(
            (p.variant.as_deref(), p.values),
            (Some("b"), vec!["4".into(), "30".into()])
        );
        let overrides = s.overrides(&s.point(4));
        assert_eq!(
            (overrides.cpus, overrides.machine.ipi_latency),
            (Some(4), Some(20))
        );
    }

    #[test]
    fn shards_partition_the_points() {
        let s = sweep(&["cpus=2,3,4,5,6"]);
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        for point in 0..s.points() {
            assert_eq!(shards.iter().filter(|sh| sh.holds(point)).count(), 1);
        }
        let first: Vec<u64> = (0..s.points()).filter(|&p| shards[1].holds(p)).collect();
        assert_eq!(first, [1, 4, 7]);
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").is_err() && Shard::parse("1/0").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn the_id_changes_with_what_decides_the_rows() {
        let a = sweep(&["cpus=2,4"]);
        assert_eq!(a.id, sweep(&["cpus=2,4"]).id);
        assert_ne!(a.id, sweep(&["cpus=2,5"]).id);
        assert_ne!(a.id, sweep(&["cpus=2,4", "machine.pti=true"]).id);
        assert_eq!(a.id.len(), 16);
    }
}
