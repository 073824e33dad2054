//! The series a plot draws, taken from a results table: rows filtered by
//! `--where`, grouped by the `--group` columns, each a line of (x, y) points
//! with the y column's 95 % interval (`Y_lo`, `Y_hi`) when the table has one.

use scenarios::sweep::Table;

use crate::diagnostics::CliError;

/// One point of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotPoint {
    /// Position on the x axis (a category's index when x is not numeric).
    pub x: f64,
    /// The value.
    pub y: f64,
    /// Its interval, when the table has one.
    pub interval: Option<(f64, f64)>,
}

/// One line of the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend entry: the group's values (empty without `--group`).
    pub label: String,
    /// Points sorted by x.
    pub points: Vec<PlotPoint>,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotData {
    /// The lines, in the order their groups first appear.
    pub series: Vec<Series>,
    /// The x categories, when x is not numeric (positions are their indices).
    pub categories: Option<Vec<String>>,
}

fn column(table: &Table, name: &str, flag: &str) -> Result<usize, CliError> {
    table.column(name).ok_or_else(|| {
        let known = table.columns.iter().map(String::as_str);
        CliError::bad_input(
            format!("{flag} {name}: no such column"),
            isa::suggest::nearest(name, known.clone()).map_or_else(
                || format!("columns: {}", table.columns.join(", ")),
                |n| format!("did you mean \"{n}\"?"),
            ),
        )
    })
}

/// The series of `y` over `x` in `table`, one per distinct value of the `group`
/// columns, over the rows where every `filters` column (`COL=VALUE`) matches.
pub fn series(
    table: &Table,
    x: &str,
    y: &str,
    group: &[String],
    filters: &[String],
) -> Result<PlotData, CliError> {
    let (xi, yi) = (column(table, x, "--x")?, column(table, y, "--y")?);
    let interval = (
        table.column(&format!("{y}_lo")),
        table.column(&format!("{y}_hi")),
    );
    let groups: Vec<usize> = group
        .iter()
        .map(|g| column(table, g, "--group"))
        .collect::<Result<_, _>>()?;
    let mut wanted = Vec::new();
    for filter in filters {
        let Some((name, value)) = filter.split_once('=') else {
            return Err(CliError::bad_input(
                format!("--where {filter}: not COL=VALUE"),
                "e.g. --where variant=sysret",
            ));
        };
        wanted.push((
            column(table, name.trim(), "--where")?,
            value.trim().to_string(),
        ));
    }
    let rows: Vec<&Vec<String>> = table
        .rows
        .iter()
        .filter(|r| wanted.iter().all(|(c, v)| r[*c] == *v))
        .collect();
    let numeric = rows.iter().all(|r| r[xi].parse::<f64>().is_ok());
    let mut categories: Vec<String> = Vec::new();
    if !numeric {
        for row in &rows {
            if !categories.contains(&row[xi]) {
                categories.push(row[xi].clone());
            }
        }
    }
    let mut series: Vec<Series> = Vec::new();
    for row in rows {
        let Ok(value) = row[yi].parse::<f64>() else {
            continue; // nothing measured at this point
        };
        let x_value = match numeric {
            true => row[xi].parse().unwrap_or_default(),
            false => categories.iter().position(|c| *c == row[xi]).unwrap_or(0) as f64,
        };
        let bound = |i: Option<usize>| i.and_then(|i| row[i].parse::<f64>().ok());
        let label: Vec<String> = groups
            .iter()
            .map(|&g| match groups.len() {
                1 => row[g].clone(),
                _ => format!("{}={}", table.columns[g], row[g]),
            })
            .collect();
        let label = label.join(", ");
        let at = match series.iter().position(|s| s.label == label) {
            Some(at) => at,
            None => {
                series.push(Series {
                    label: label.clone(),
                    points: Vec::new(),
                });
                series.len() - 1
            }
        };
        if series[at].points.iter().any(|p| p.x == x_value) {
            return Err(CliError::bad_input(
                format!("several rows have {x}={} in the same series", row[xi]),
                "choose one with --where COL=VALUE, or split them with --group COL",
            ));
        }
        series[at].points.push(PlotPoint {
            x: x_value,
            y: value,
            interval: bound(interval.0).zip(bound(interval.1)),
        });
    }
    if series.is_empty() {
        return Err(CliError::bad_input(
            format!("no row has a value of {y}"),
            "check --where, or that the sweep measures it",
        ));
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    Ok(PlotData {
        series,
        categories: (!numeric).then_some(categories),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::sweep::Format;

    fn table(text: &str) -> Table {
        Table::parse(text, Format::Csv).unwrap()
    }

    #[test]
    fn rows_become_sorted_series_per_group_with_intervals() {
        let t = table("p,cpus,y,y_lo,y_hi\nA,4,40,38,42\nA,2,20,19,21\nB,2,25,,\n");
        let data = series(&t, "cpus", "y", &["p".into()], &[]).unwrap();
        assert_eq!(data.series.len(), 2);
        assert_eq!(data.series[0].label, "A");
        let xs: Vec<f64> = data.series[0].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, [2.0, 4.0]);
        assert_eq!(data.series[0].points[1].interval, Some((38.0, 42.0)));
        assert_eq!(data.series[1].points[0].interval, None);
        assert_eq!(data.categories, None);
    }

    #[test]
    fn text_x_values_are_categories_and_filters_apply() {
        let t = table("v,what,y\na,cpuid,5\na,lfence,2\nb,cpuid,9\n");
        let data = series(&t, "what", "y", &[], &["v=a".into()]).unwrap();
        assert_eq!(data.categories, Some(vec!["cpuid".into(), "lfence".into()]));
        assert_eq!(data.series[0].points.len(), 2);
        assert!(
            series(&t, "what", "y", &[], &[]).is_err(),
            "two rows at x=cpuid"
        );
        assert!(series(&t, "wat", "y", &[], &[]).is_err());
    }
}
