//! `synclab plot`: sweep results as lines with error bars (the 95 % interval of
//! each point), one line per group, into an SVG or PNG file (`plotters`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use scenarios::sweep::Table;

use crate::diagnostics::CliError;
use crate::plot_data::{PlotData, series};

/// Arguments of `synclab plot`.
#[derive(Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct PlotArgs {
    /// Sweep results (`.csv` or `.jsonl`, from `synclab sweep`).
    pub results: PathBuf,
    /// Column on the x axis (numbers, or text drawn as categories in order).
    #[arg(long, value_name = "COL")]
    pub x: String,
    /// Column on the y axis; `COL_lo` and `COL_hi`, when present, are its error bars.
    #[arg(long, value_name = "COL")]
    pub y: String,
    /// One line per distinct value of this column (repeat for combinations).
    #[arg(long, value_name = "COL")]
    pub group: Vec<String>,
    /// Only rows where column COL is VALUE (repeat to narrow further).
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub filters: Vec<String>,
    /// The picture: `.svg` or `.png`.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Logarithmic x axis.
    #[arg(long)]
    pub log_x: bool,
    /// Logarithmic y axis.
    #[arg(long)]
    pub log_y: bool,
    /// Title (default: Y over X).
    #[arg(long)]
    pub title: Option<String>,
    /// Label of the x axis (default: the column).
    #[arg(long, value_name = "TEXT")]
    pub x_label: Option<String>,
    /// Label of the y axis (default: the column).
    #[arg(long, value_name = "TEXT")]
    pub y_label: Option<String>,
    /// Size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "800x480", value_parser = parse_size)]
    pub size: (u32, u32),
}

const AFTER_HELP: &str = "\
Rows with the same x must differ in a --group column or be narrowed with
--where, otherwise the plot is refused (it would hide a parameter). Points with
nothing measured (an empty cell) are left out. A log axis needs positive values.

Examples:
  synclab plot scaling.csv --x cpus --y membarrier_cycles --group kernel.membarrier_ipi \\
      --where variant=sync-core --log-x -o scaling.svg
  synclab plot cost.csv --x variant --y cycles -o cost.png";

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not WIDTHxHEIGHT, e.g. 800x480");
    let (w, h) = text.split_once('x').ok_or_else(bad)?;
    let (w, h) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    match (w, h) {
        (100..=8000, 100..=8000) => Ok((w, h)),
        _ => Err(format!("{text}: each side from 100 to 8000 pixels")),
    }
}

/// Run `synclab plot`.
pub fn run(args: &PlotArgs) -> Result<ExitCode, CliError> {
    let table = Table::read(&args.results)
        .map_err(|e| CliError::bad_input(e, "give a results file written by `synclab sweep`"))?;
    let data = series(&table, &args.x, &args.y, &args.group, &args.filters)?;
    let values = data.series.iter().flat_map(|s| &s.points);
    if (args.log_x && data.categories.is_none() && values.clone().any(|p| p.x <= 0.0))
        || (args.log_y && values.clone().any(|p| p.y <= 0.0))
    {
        return Err(CliError::bad_input(
            "a log axis needs positive values",
            "leave out --log-x/--log-y, or the rows at 0 with --where",
        ));
    }
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        epaint_default_fonts::UBUNTU_LIGHT,
    )
    .map_err(|_| CliError::Failed(miette::miette!("the built-in font cannot be read")))?;
    let drawn = match args.output.extension().and_then(|e| e.to_str()) {
        Some("svg") => draw(
            SVGBackend::new(&args.output, args.size).into_drawing_area(),
            args,
            &data,
        )
        .map_err(|e| e.to_string()),
        Some("png") => draw(
            BitMapBackend::new(&args.output, args.size).into_drawing_area(),
            args,
            &data,
        )
        .map_err(|e| e.to_string()),
        _ => {
            return Err(CliError::bad_input(
                format!("{}: not .svg or .png", args.output.display()),
                "-o plot.svg or -o plot.png",
            ));
        }
    };
    drawn.map_err(|e| {
        CliError::Failed(miette::miette!(
            "cannot draw {}: {e}",
            args.output.display()
        ))
    })?;
    eprintln!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// The range of `values` with a margin, in log space when `log`.
fn extent(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if log {
        return (lo / 1.5, hi * 1.5);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.05);
    let pad = if pad > 0.0 { pad } else { 0.5 };
    (
        if lo >= 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        },
        hi + pad,
    )
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    args: &PlotArgs,
    data: &PlotData,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let points = || data.series.iter().flat_map(|s| &s.points);
    let xs = extent(
        points().map(|p| p.x),
        args.log_x && data.categories.is_none(),
    );
    let ys = extent(
        points().flat_map(|p| {
            [
                p.y,
                p.interval.map_or(p.y, |i| i.0),
                p.interval.map_or(p.y, |i| i.1),
            ]
        }),
        args.log_y,
    );
    let xs = match &data.categories {
        Some(c) => (-0.5, c.len() as f64 - 0.5),
        None => xs,
    };
    match (args.log_x && data.categories.is_none(), args.log_y) {
        (false, false) => chart(&root, args, data, xs.0..xs.1, ys.0..ys.1),
        (true, false) => chart(&root, args, data, (xs.0..xs.1).log_scale(), ys.0..ys.1),
        (false, true) => chart(&root, args, data, xs.0..xs.1, (ys.0..ys.1).log_scale()),
        (true, true) => chart(
            &root,
            args,
            data,
            (xs.0..xs.1).log_scale(),
            (ys.0..ys.1).log_scale(),
        ),
    }?;
    root.present()
}

fn chart<DB, X, Y>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    args: &PlotArgs,
    data: &PlotData,
    x: X,
    y: Y,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("{} over {}", args.y, args.x));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    let categories = data.categories.clone();
    let x_labels = move |v: &f64| match &categories {
        Some(c) => {
            let i = v.round();
            match (i - v).abs() < 1e-6 && i >= 0.0 {
                true => c.get(i as usize).map(|l| compact(l)).unwrap_or_default(),
                false => String::new(),
            }
        }
        None => short(*v),
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(args.x_label.as_deref().unwrap_or(&args.x))
        .y_desc(args.y_label.as_deref().unwrap_or(&args.y))
        .x_label_formatter(&x_labels)
        .y_label_formatter(&|v| short(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0));
    if let Some(c) = &data.categories {
        mesh.x_labels(c.len() * 2 + 1);
    }
    mesh.draw()?;
    for (i, series) in data.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let line: Vec<(f64, f64)> = series.points.iter().map(|p| (p.x, p.y)).collect();
        let drawn = chart.draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?;
        if !series.label.is_empty() {
            drawn.label(series.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        chart.draw_series(series.points.iter().filter_map(|p| {
            let (lo, hi) = p.interval?;
            Some(ErrorBar::new_vertical(
                p.x,
                lo,
                p.y,
                hi,
                color.stroke_width(1),
                8,
            ))
        }))?;
    }
    if data.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}

/// A category label without RON's field names: `Delayed(cycles: 500)` is
/// drawn `Delayed 500`, so that labels fit side by side.
fn compact(label: &str) -> String {
    let Some((name, inner)) = label.split_once('(') else {
        return label.to_string();
    };
    let values: Vec<&str> = inner
        .trim_end_matches(')')
        .split(',')
        .map(|part| part.rsplit(':').next().unwrap_or(part).trim())
        .collect();
    format!("{name} {}", values.join(" "))
}

/// A tick label: integers plainly, large values with k/M, others with few decimals.
fn short(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e4 => format!("{:.0}k", v / 1e3),
        _ if v.fract().abs() < 1e-9 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}
