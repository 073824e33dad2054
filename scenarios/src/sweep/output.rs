//! Results files: rows appended and flushed one by one (a killed sweep loses at
//! most the row being written), resumed only by the sweep that wrote them, and
//! shards merged into the file a single run would have written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::definition::Sweep;
use super::row::{Cell, Format, Table};

/// Why a results file cannot be written, resumed or merged.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file exists and neither resuming nor overwriting was asked for.
    #[error("{0} exists")]
    Exists(PathBuf),
    /// The file holds rows of another sweep.
    #[error("{path}: {why}")]
    Changed {
        /// The file.
        path: PathBuf,
        /// What differs.
        why: String,
    },
    /// The file cannot be read or parsed.
    #[error("{0}")]
    Unreadable(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A results file open for appending rows.
#[derive(Debug)]
pub struct Output {
    file: File,
    format: Format,
    columns: Vec<String>,
    /// Points the file already held when opened (resume skips them).
    pub done: BTreeSet<u64>,
}

impl Output {
    /// Open `path` for the rows of `sweep` in the format its extension says.
    /// An existing file is continued when `resume` (after checking that every
    /// row in it is one of this sweep's, and dropping a row cut short),
    /// replaced when `overwrite`, and refused otherwise.
    pub fn open(
        path: &Path,
        sweep: &Sweep,
        resume: bool,
        overwrite: bool,
    ) -> Result<Output, OutputError> {
        let format = Format::of(path);
        let columns = sweep.columns();
        let exists = path.exists();
        if exists && !resume && !overwrite {
            return Err(OutputError::Exists(path.to_path_buf()));
        }
        let mut done = BTreeSet::new();
        let mut header_written = false;
        if exists && resume {
            let table = Table::read(path).map_err(OutputError::Unreadable)?;
            done = check_rows(path, sweep, &table)?;
            header_written = !table.columns.is_empty();
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(table.complete_len as u64)?;
        } else {
            File::create(path)?;
        }
        let mut file = OpenOptions::new().append(true).open(path)?;
        if let Some(header) = format.header(&columns).filter(|_| !header_written) {
            writeln!(file, "{header}")?;
        }
        Ok(Output {
            file,
            format,
            columns,
            done,
        })
    }

    /// Append one row and flush it to the file.
    pub fn append(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        let mut line = self.format.line(&self.columns, cells);
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.flush()
    }
}

/// The points of `table` (read from `path`), each checked to be a row of `sweep`.
fn check_rows(path: &Path, sweep: &Sweep, table: &Table) -> Result<BTreeSet<u64>, OutputError> {
    let changed = |why: String| OutputError::Changed {
        path: path.to_path_buf(),
        why: format!(
            "{why}; refusing to mix the results of two sweeps (write to another file, or remove this one)"
        ),
    };
    if !table.columns.is_empty() && table.columns != sweep.columns() {
        return Err(changed(
            "its columns are not this sweep's (other parameters)".into(),
        ));
    }
    let mut done = BTreeSet::new();
    for row in &table.rows {
        if row[0] != sweep.id {
            return Err(changed(format!(
                "it holds sweep {}, this is sweep {}: the scenario, its variants, the parameters or the seeds changed",
                row[0], sweep.id
            )));
        }
        let point: u64 = row[1]
            .parse()
            .map_err(|_| changed(format!("`{}` is not a point", row[1])))?;
        let expected: Vec<String> = if point < sweep.points() {
            sweep
                .point_cells(&sweep.point(point))
                .iter()
                .map(Cell::text)
                .collect()
        } else {
            Vec::new()
        };
        if row[..expected.len().min(row.len())] != expected[..] || expected.is_empty() {
            return Err(changed(format!("point {point} is not this sweep's")));
        }
        done.insert(point);
    }
    Ok(done)
}

/// What merging shards gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// Rows written.
    pub rows: usize,
    /// Points of the sweep.
    pub points: u64,
    /// Points no shard held.
    pub missing: Vec<u64>,
}

/// Join the results files `parts` (shards of one sweep, all in `out`'s format)
/// into `out`, rows in point order. Refuses files of different sweeps and
/// points given differently twice; reports the points none of them holds.
pub fn merge(out: &Path, parts: &[PathBuf]) -> Result<Merged, OutputError> {
    let format = Format::of(out);
    let mut columns: Option<(Vec<String>, &Path)> = None;
    let mut sweep: Option<(String, u64, &Path)> = None;
    let mut lines: BTreeMap<u64, String> = BTreeMap::new();
    for part in parts {
        let changed = |why: String| OutputError::Changed {
            path: part.clone(),
            why,
        };
        if Format::of(part) != format {
            return Err(changed(format!("not in the format of {}", out.display())));
        }
        let table = Table::read(part).map_err(OutputError::Unreadable)?;
        match &columns {
            Some((c, first)) if *c != table.columns && !table.rows.is_empty() => {
                return Err(changed(format!("other columns than {}", first.display())));
            }
            None if !table.rows.is_empty() => columns = Some((table.columns.clone(), part)),
            _ => {}
        }
        let (Some(id), Some(point), Some(points)) = (
            table.column("sweep"),
            table.column("point"),
            table.column("points"),
        ) else {
            if table.rows.is_empty() {
                continue;
            }
            return Err(changed(
                "not a sweep's results (no sweep, point and points columns)".into(),
            ));
        };
        for (row, line) in table.rows.iter().zip(&table.lines) {
            let number = |i: usize| {
                row[i]
                    .parse::<u64>()
                    .map_err(|_| changed(format!("`{}` is not a number", row[i])))
            };
            let (p, n) = (number(point)?, number(points)?);
            match &sweep {
                Some((other, _, first)) if *other != row[id] => {
                    return Err(changed(format!(
                        "shards of different sweeps: this is sweep {}, {} is sweep {other}",
                        row[id],
                        first.display()
                    )));
                }
                Some(_) => {}
                None => sweep = Some((row[id].clone(), n, part)),
            }
            if lines.get(&p).is_some_and(|l| l != line) {
                return Err(changed(format!("point {p} differs from another shard's")));
            }
            lines.insert(p, line.clone());
        }
    }
    let Some((columns, _)) = columns else {
        return Err(OutputError::Unreadable("no rows in any part".into()));
    };
    let points = sweep.map_or(0, |(_, n, _)| n);
    let mut file = File::create(out)?;
    let mut text = format.header(&columns).map_or(String::new(), |h| h + "\n");
    for line in lines.values() {
        text.push_str(line);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    Ok(Merged {
        rows: lines.len(),
        points,
        missing: (0..points).filter(|p| !lines.contains_key(p)).collect(),
    })
}
