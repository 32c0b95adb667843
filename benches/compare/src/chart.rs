//! PNG charts of ops/s by task count, and of the open loop's p99 latency by
//! offered rate, drawn with plotters' bitmap backend.
//!
//! Text goes through plotters' pure-Rust `ab_glyph` renderer, which needs a
//! TTF file: the first of `REDMUX_BENCH_FONT`, DejaVu Sans (Debian's
//! fonts-dejavu-core, installed by scripts/bench.sh) or Liberation Sans. No
//! font: no chart, and a warning; the tables are written anyway.

use std::path::Path;

use plotters::coord::combinators::{BindKeyPoints, WithKeyPoints};
use plotters::prelude::*;

use crate::report;
use crate::Results;

const FONT: &str = "sans-serif";

fn register_font() -> Result<(), String> {
    use std::sync::OnceLock;
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let candidates = std::env::var("REDMUX_BENCH_FONT").into_iter().chain(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
            ]
            .map(String::from),
        );
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err("no TTF font found (install fonts-dejavu-core or set REDMUX_BENCH_FONT)".to_owned())
    })
    .clone()
}

const COLORS: [RGBColor; 3] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
];

/// ops/s against tasks (log-log), one line per client, plus dashed
/// horizontal lines for redis-benchmark `-P 1` and `-P 256`.
pub fn ops_chart(
    path: &Path,
    title: &str,
    results: &Results,
    id: &str,
    test: &str,
    size: usize,
) -> Result<(), String> {
    register_font()?;
    let series: Vec<(String, Vec<(f64, f64)>)> = results
        .clients
        .iter()
        .map(|c| {
            let pts = results
                .tasks
                .iter()
                .filter_map(|&t| report::ops(results, id, t, c).map(|v| (t as f64, v)))
                .collect();
            (c.clone(), pts)
        })
        .collect();
    let refs: Vec<(String, f64)> = [1u32, 256]
        .iter()
        .filter_map(|&p| {
            report::reference(results, test, size, p)
                .map(|v| (format!("redis-benchmark -c 1 -P {p}"), v))
        })
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .chain(refs.iter().map(|r| r.1))
        .collect();
    let xs: Vec<f64> = results.tasks.iter().map(|&t| t as f64).collect();
    let axes = Axes {
        x_desc: if results.cluster_primaries > 0 {
            "concurrent tasks on one client, one connection per primary (log scale)"
        } else {
            "concurrent tasks on one connection (log scale)"
        },
        y_desc: "operations per second (log scale)",
        x_label: |x| format!("{}", x.round() as u64),
        x_margin: 1.5,
    };
    log_log(path, title, &axes, &xs, &ys, |chart, (xmin, xmax)| {
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        for (i, (name, value)) in refs.iter().enumerate() {
            let style =
                ShapeStyle::from(&BLACK.mix(if i == 0 { 0.45 } else { 0.8 })).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xmin, *value), (xmax, *value)],
                    8,
                    6,
                    style,
                ))
                .map_err(e)?
                .label(format!("{name}: {}", report::thousands(*value)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let style = ShapeStyle::from(&color).stroke_width(3);
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(e)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))
                .map_err(e)?;
        }
        Ok(())
    })
}

/// The open loop's p99 latency (from the scheduled start) against the
/// offered rate, log-log, one line per client; a hollow marker is a rate
/// the client did not hold.
pub fn p99_chart(path: &Path, title: &str, results: &Results) -> Result<(), String> {
    register_font()?;
    let rates = report::rates_measured(results);
    // Per client: (offered rate, p99 µs, held) at each rate.
    type Points = Vec<(f64, f64, bool)>;
    let series: Vec<(String, Points)> = results
        .clients
        .iter()
        .map(|c| {
            let pts = rates
                .iter()
                .filter_map(|&rate| {
                    let cell = report::open_cell(results, rate, c).filter(|c| !c.ok.is_empty())?;
                    let p99 = cell.med(|r| r.p99_us);
                    (p99 > 0.0).then(|| (rate as f64, p99, report::held(&cell)))
                })
                .collect();
            (c.clone(), pts)
        })
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .collect();
    let xs: Vec<f64> = rates.iter().map(|&r| r as f64).collect();
    let axes = Axes {
        x_desc: "offered rate, requests/s (log scale); hollow marker: rate not held",
        y_desc: "p99 latency from the scheduled start, µs (log scale)",
        x_label: report::thousands,
        x_margin: 1.4,
    };
    log_log(path, title, &axes, &xs, &ys, |chart, _| {
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let style = ShapeStyle::from(&color).stroke_width(3);
            chart
                .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), style))
                .map_err(e)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            chart
                .draw_series(pts.iter().map(|&(x, y, held)| {
                    if held {
                        Circle::new((x, y), 5, color.filled())
                    } else {
                        Circle::new((x, y), 7, WHITE.filled())
                    }
                }))
                .map_err(e)?;
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| !p.2)
                        .map(|&(x, y, _)| Circle::new((x, y), 7, color.stroke_width(3))),
                )
                .map_err(e)?;
        }
        Ok(())
    })
}

/// The x axis of a log-log chart: its description, its labels, and how far
/// (as a factor) it reaches past the outermost points.
struct Axes {
    x_desc: &'static str,
    y_desc: &'static str,
    x_label: fn(f64) -> String,
    x_margin: f64,
}

type LogLog<'a> =
    ChartContext<'a, BitMapBackend<'a>, Cartesian2d<WithKeyPoints<LogCoord<f64>>, LogCoord<f64>>>;

/// The frame both charts share: a 1000×620 canvas, log-log axes with a key
/// point at every x, the mesh, then the caller's series (given the x range),
/// the legend, and the file written.
fn log_log(
    path: &Path,
    title: &str,
    axes: &Axes,
    xs: &[f64],
    ys: &[f64],
    draw: impl FnOnce(&mut LogLog<'_>, (f64, f64)) -> Result<(), String>,
) -> Result<(), String> {
    if ys.is_empty() {
        return Err("no data".to_owned());
    }
    let ymin = ys.iter().copied().fold(f64::MAX, f64::min) / 1.6;
    let ymax = ys.iter().copied().fold(f64::MIN, f64::max) * 2.5;
    let xmin = xs.iter().copied().fold(f64::MAX, f64::min) / axes.x_margin;
    let xmax = xs.iter().copied().fold(f64::MIN, f64::max) * axes.x_margin;

    let root = BitMapBackend::new(path, (1000, 620)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(
            (xmin..xmax).log_scale().with_key_points(xs.to_vec()),
            (ymin..ymax).log_scale(),
        )
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_label_formatter(&|x| (axes.x_label)(*x))
        .y_label_formatter(&|y| report::thousands(*y))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    draw(&mut chart, (xmin, xmax))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
