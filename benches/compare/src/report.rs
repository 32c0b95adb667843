//! The Markdown report: medians over rounds, tables per workload, and the
//! splice into docs/BENCHMARKS.md between marker comments.

use std::fmt::Write as _;
use std::path::Path;

use crate::workload::{self, Kind, RunResult};
use crate::Results;

pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let s = format!("{:.0}", x);
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &s));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// A number with a precision that suits its size.
fn num(x: f64) -> String {
    if !x.is_finite() {
        "–".to_owned()
    } else if x >= 1000.0 {
        thousands(x)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The successful runs of one cell (failed ones are listed at the end of the report).
pub struct Cell<'a> {
    pub ok: Vec<&'a RunResult>,
}

impl Cell<'_> {
    pub fn med(&self, f: impl Fn(&RunResult) -> f64) -> f64 {
        median(&self.ok.iter().map(|r| f(r)).collect::<Vec<_>>())
    }

    pub fn med_opt(&self, f: impl Fn(&RunResult) -> Option<f64>) -> Option<f64> {
        let v: Vec<f64> = self.ok.iter().filter_map(|r| f(r)).collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// Half the range over rounds, as a percentage of the median.
    pub fn spread(&self, f: impl Fn(&RunResult) -> f64) -> f64 {
        let v: Vec<f64> = self.ok.iter().map(|r| f(r)).collect();
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        if v.len() < 2 {
            return f64::NAN;
        }
        (hi - lo) / 2.0 / median(&v) * 100.0
    }
}

pub fn cell<'a>(
    results: &'a Results,
    workload: &str,
    tasks: usize,
    client: &str,
) -> Option<Cell<'a>> {
    cell_of(
        results
            .runs
            .iter()
            .filter(|r| r.workload == workload && r.tasks == tasks && r.client == client),
    )
}

/// The open-loop runs of `client` at `rate` requests/s.
pub fn open_cell<'a>(results: &'a Results, rate: u64, client: &str) -> Option<Cell<'a>> {
    cell_of(
        results.runs.iter().filter(|r| {
            r.client == client && r.open_loop.as_ref().is_some_and(|o| o.offered == rate)
        }),
    )
}

fn cell_of<'a>(runs: impl Iterator<Item = &'a RunResult>) -> Option<Cell<'a>> {
    let runs: Vec<&RunResult> = runs.collect();
    if runs.is_empty() {
        return None;
    }
    Some(Cell {
        ok: runs.iter().copied().filter(|r| r.error.is_none()).collect(),
    })
}

/// Whether an open-loop cell held its rate: in more than half of its
/// successful rounds (so one slow minute of the machine does not decide).
pub fn held(c: &Cell) -> bool {
    let held =
        c.ok.iter()
            .filter(|r| r.open_loop.as_ref().is_some_and(|o| o.held))
            .count();
    held * 2 > c.ok.len()
}

/// ` ✗` after an open-loop cell that did not hold its rate, with the
/// rounds that did when some did, and `stopped` when the backlog cap ended
/// a round early.
fn not_held_mark(c: &Cell) -> String {
    let count = |f: fn(&crate::openloop::OpenLoop) -> bool| {
        c.ok.iter()
            .filter(|r| r.open_loop.as_ref().is_some_and(f))
            .count()
    };
    if held(c) {
        return String::new();
    }
    let mut mark = match count(|o| o.held) {
        0 => " ✗".to_owned(),
        n => format!(" ✗ held {n}/{}", c.ok.len()),
    };
    if count(|o| o.gave_up) > 0 {
        mark.push_str(", stopped");
    }
    mark
}

/// Offered rates at which the open loop was measured, in the matrix's order.
pub fn rates_measured(results: &Results) -> Vec<u64> {
    results
        .rates
        .iter()
        .copied()
        .filter(|&rate| {
            results
                .runs
                .iter()
                .any(|r| r.open_loop.as_ref().is_some_and(|o| o.offered == rate))
        })
        .collect()
}

/// Median ops/s of a cell, if any run succeeded.
pub fn ops(results: &Results, workload: &str, tasks: usize, client: &str) -> Option<f64> {
    cell(results, workload, tasks, client)
        .filter(|c| !c.ok.is_empty())
        .map(|c| c.med(|r| r.ops_per_sec))
}

pub fn reference(results: &Results, test: &str, size: usize, pipeline: u32) -> Option<f64> {
    results
        .references
        .iter()
        .find(|r| r.test == test && r.size == size && r.pipeline == pipeline)
        .map(|r| r.rps)
}

/// Versions of the peer clients, read from this crate's Cargo.lock.
fn locked_versions() -> String {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .unwrap_or_default();
    let version = |name: &str| {
        let needle = format!("name = \"{name}\"\nversion = \"");
        lock.find(&needle)
            .map(|i| {
                lock[i + needle.len()..]
                    .split('"')
                    .next()
                    .unwrap_or("?")
                    .to_owned()
            })
            .unwrap_or_else(|| "?".to_owned())
    };
    format!(
        "redmux {} (this checkout), redis-rs {}, fred {}, tokio {}",
        version("redmux"),
        version("redis"),
        version("fred"),
        version("tokio")
    )
}

fn cell_text<'a>(c: &Option<Cell<'a>>, f: impl Fn(&Cell<'a>) -> String) -> String {
    match c {
        None => "".to_owned(),
        Some(c) if c.ok.is_empty() => "error".to_owned(),
        Some(c) => f(c),
    }
}

/// Whether any run measured `workload` at `tasks`.
fn was_measured(results: &Results, workload: &str, tasks: usize) -> bool {
    results
        .runs
        .iter()
        .any(|r| r.workload == workload && r.tasks == tasks)
}

/// The task counts at which `workload` was measured, in the matrix's order.
fn tasks_measured(results: &Results, workload: &str) -> Vec<usize> {
    results
        .tasks
        .iter()
        .copied()
        .filter(|&t| was_measured(results, workload, t))
        .collect()
}

/// One row per task count: (task count, one cell per client).
fn task_rows<'a>(
    results: &'a Results,
    workload: &str,
    tasks: &[usize],
) -> Vec<(String, Vec<Option<Cell<'a>>>)> {
    tasks
        .iter()
        .map(|&t| {
            let cells = results
                .clients
                .iter()
                .map(|c| cell(results, workload, t, c))
                .collect();
            (t.to_string(), cells)
        })
        .collect()
}

/// A table with one row per task count and one column per client, each
/// cell formatted by `f` (followed by a blank line).
fn per_client_table(
    out: &mut String,
    results: &Results,
    workload: &str,
    tasks: &[usize],
    f: impl for<'a> Fn(&Cell<'a>) -> String,
) {
    client_table(
        out,
        results,
        "tasks",
        &task_rows(results, workload, tasks),
        f,
    );
}

/// A table with one column per client: `rows` are (first column, one cell
/// per client), each cell formatted by `f` (followed by a blank line).
fn client_table(
    out: &mut String,
    results: &Results,
    first: &str,
    rows: &[(String, Vec<Option<Cell>>)],
    f: impl for<'a> Fn(&Cell<'a>) -> String,
) {
    let _ = write!(out, "| {first} |");
    for c in &results.clients {
        let _ = write!(out, " {c} |");
    }
    let _ = writeln!(out, "\n|---:|{}", "---:|".repeat(results.clients.len()));
    for (label, cells) in rows {
        let _ = write!(out, "| {label} |");
        for c in cells {
            let _ = write!(out, " {} |", cell_text(c, &f));
        }
        out.push('\n');
    }
    out.push('\n');
}

pub fn render(results: &Results) -> String {
    if results.cluster_primaries > 0 {
        return render_cluster(results);
    }
    let mut out = String::new();
    let m = &results.machine;
    let rt = if results.current_thread {
        "tokio current-thread runtime"
    } else {
        "tokio multi-thread runtime with 2 worker threads"
    };
    let _ = writeln!(
        out,
        "_Generated by the `compare` binary (benches/compare); do not edit between the markers._\n"
    );
    let _ = writeln!(
        out,
        "Reproduce: `{}`{}\n",
        results.command,
        if results.quick {
            " (quick mode: one short round, a reduced matrix; not for quoting)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "- **Machine**: {} CPUs ({}), {} RAM, {}; shared with other work, so expect a few percent of noise.",
        m.cpus, m.cpu_model, m.memory, m.kernel
    );
    let _ = writeln!(
        out,
        "- **Software**: redis-server {}, {}; {}.",
        m.redis_server,
        m.rustc,
        locked_versions()
    );
    let _ = writeln!(
        out,
        "- **Method**: {rt}; every client on ONE connection shared by all tasks; server on the same machine (loopback). \
         {} round(s) of {:.1} s measured after {:.2} s of warm-up per cell, each run in its own child process, clients' order rotated each round; \
         every number is the median over rounds (± is half the min–max range); the redis-benchmark references are medians of one sample per round, taken between the clients' runs. Run on {}, {} in all.",
        results.rounds,
        results.duration_secs,
        results.warmup_secs,
        m.date,
        crate::fmt_duration(results.wall_secs)
    );
    let failed: Vec<&RunResult> = results.runs.iter().filter(|r| r.error.is_some()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "- **Failed runs**: {} (listed at the end; a cell with no successful round shows `error`).", failed.len());
    }
    out.push('\n');

    headline(&mut out, results);

    for id in &results.workloads {
        let Some(w) = workload::workload(id) else {
            continue;
        };
        if w.kind == Kind::OpenLoop {
            open_loop(&mut out, results, w);
            continue;
        }
        let tasks = tasks_measured(results, id);
        let _ = writeln!(out, "### {}\n", w.title);
        let refs = match w.kind {
            Kind::Get => Some("get"),
            Kind::Set => Some("set"),
            Kind::Hol | Kind::MixedDb | Kind::OpenLoop => None,
        };
        if w.kind == Kind::MixedDb {
            mixed_databases(&mut out, results, &tasks);
        }
        if let Some(test) = refs {
            let p1 = reference(results, test, w.size, 1);
            let p256 = reference(results, test, w.size, 256);
            if p1.is_some() || p256.is_some() {
                let _ = writeln!(
                    out,
                    "redis-benchmark on one connection (`-c 1 -t {test} -d {}`): **{}** req/s with `-P 1` (no pipelining), **{}** req/s with `-P 256`.\n",
                    w.size,
                    p1.map(thousands).unwrap_or_default(),
                    p256.map(thousands).unwrap_or_default()
                );
            }
        }
        if let Some((file, ..)) = crate::charts(results).into_iter().find(|c| c.2 == *id) {
            let _ = writeln!(out, "![{} ops/s by tasks](img/{file})\n", w.title);
        }
        throughput_table(&mut out, results, id, &tasks);

        // Latency.
        let what = if w.kind == Kind::Hol {
            " (of the 64 B GETs only)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "Latency in the calling task{what}, µs, p50 / p99 / p99.9:\n"
        );
        per_client_table(&mut out, results, id, &tasks, |cl| {
            format!(
                "{} / {} / {}",
                num(cl.med(|r| r.p50_us)),
                num(cl.med(|r| r.p99_us)),
                num(cl.med(|r| r.p999_us))
            )
        });
        if w.kind == Kind::Hol {
            let _ = writeln!(out, "The 100 KB GETs themselves, µs, p50 / p99:\n");
            per_client_table(&mut out, results, id, &tasks, |cl| {
                format!(
                    "{} / {}",
                    cl.med_opt(|r| r.large_p50_us).map(num).unwrap_or_default(),
                    cl.med_opt(|r| r.large_p99_us).map(num).unwrap_or_default()
                )
            });
        }

        // Batching and costs.
        let names = results.clients.join(" / ");
        let _ = writeln!(
            out,
            "Batching and cost per command (three numbers: {names}):\n"
        );
        cost_table(&mut out, results, "tasks", &task_rows(results, id, &tasks));
    }

    failed_runs(&mut out, &failed);
    out
}

/// The list of failed runs, if any.
fn failed_runs(out: &mut String, failed: &[&RunResult]) {
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Failed runs\n");
    for r in failed {
        let _ = writeln!(
            out,
            "- {} {} {} round {}: {}",
            r.client,
            r.workload,
            match &r.open_loop {
                Some(o) => format!("rate={}", o.offered),
                None => format!("tasks={}", r.tasks),
            },
            r.round + 1,
            r.error.as_deref().unwrap_or("").replace('\n', " ")
        );
    }
    out.push('\n');
}

/// The cluster run's report: a summary table of ops/s and ratios over
/// every workload and task count, then per workload the throughput,
/// latency and cost tables.
fn render_cluster(results: &Results) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let rt = if results.current_thread {
        "tokio current-thread runtime"
    } else {
        "tokio multi-thread runtime with 2 worker threads"
    };
    let n = results.cluster_primaries;
    let _ = writeln!(
        out,
        "_Generated by the `compare` binary (benches/compare) with `--cluster`; do not edit between the markers._\n"
    );
    let _ = writeln!(
        out,
        "Reproduce: `{}`{}\n",
        results.command,
        if results.quick {
            " (quick mode: one short round; not for quoting)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "- **Machine**: {} CPUs ({}), {} RAM, {}; the {n} redis-server processes, the client under test and the harness all share these CPUs, \
         so the servers compete with the client for CPU and the figures are lower than on a real cluster.",
        m.cpus, m.cpu_model, m.memory, m.kernel
    );
    let _ = writeln!(
        out,
        "- **Software**: redis-server {}, {}; {}.",
        m.redis_server,
        m.rustc,
        locked_versions()
    );
    let _ = writeln!(
        out,
        "- **Cluster**: {n} primaries, no replicas, on loopback; the slots split evenly by `CLUSTER ADDSLOTSRANGE` and the nodes joined by `CLUSTER MEET`. \
         GET reads {} keys (`get:16:0` … `get:16:{}`) spread over all slots, about a third on each primary; SET writes the same number of keys.",
        thousands(workload::CLUSTER_KEYS as f64),
        workload::CLUSTER_KEYS - 1
    );
    let _ = writeln!(
        out,
        "- **Method**: {rt}; each client is ONE client object shared by all tasks, holding one connection per primary \
         (redmux `Multiplexer` given the three nodes, redis-rs `cluster_async::ClusterConnection`, fred `Client` with `ServerConfig::Clustered`). \
         {} round(s) of {:.1} s measured after {:.2} s of warm-up per cell, each run in its own child process, clients' order rotated each round; \
         every number is the median over rounds (± is half the min–max range). Run on {}, {} in all.",
        results.rounds,
        results.duration_secs,
        results.warmup_secs,
        m.date,
        crate::fmt_duration(results.wall_secs)
    );
    let failed: Vec<&RunResult> = results.runs.iter().filter(|r| r.error.is_some()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "- **Failed runs**: {} (listed at the end; a cell with no successful round shows `error`).", failed.len());
    }
    out.push('\n');

    // Summary: every workload and task count in one table.
    let others: Vec<&String> = results
        .clients
        .iter()
        .filter(|c| c.as_str() != "redmux")
        .collect();
    let has_redmux = results.clients.len() > others.len();
    let _ = writeln!(out, "### Summary: ops/s\n");
    let _ = write!(out, "| workload | tasks |");
    for c in &results.clients {
        let _ = write!(out, " {c} |");
    }
    if has_redmux {
        for c in &others {
            let _ = write!(out, " redmux/{c} |");
        }
    }
    let cols = results.clients.len() + if has_redmux { others.len() } else { 0 };
    let _ = writeln!(out, "\n|---|---:|{}", "---:|".repeat(cols));
    for id in &results.workloads {
        let title = workload::workload(id).map_or(id.as_str(), |w| w.title);
        for t in tasks_measured(results, id) {
            let _ = write!(out, "| {title} | {t} |");
            for c in &results.clients {
                let cl = cell(results, id, t, c);
                let _ = write!(
                    out,
                    " {} |",
                    cell_text(&cl, |cl| thousands(cl.med(|r| r.ops_per_sec)))
                );
            }
            if has_redmux {
                let mine = ops(results, id, t, "redmux");
                for c in &others {
                    let text = match (mine, ops(results, id, t, c)) {
                        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                        _ => "".to_owned(),
                    };
                    let _ = write!(out, " {text} |");
                }
            }
            out.push('\n');
        }
    }
    out.push('\n');

    for id in &results.workloads {
        let Some(w) = workload::workload(id) else {
            continue;
        };
        let tasks = tasks_measured(results, id);
        let _ = writeln!(out, "### Cluster: {}\n", w.title);
        if let Some((file, ..)) = crate::charts(results).into_iter().find(|c| c.2 == *id) {
            let _ = writeln!(out, "![{} ops/s by tasks, cluster](img/{file})\n", w.title);
        }
        throughput_table(&mut out, results, id, &tasks);
        let _ = writeln!(out, "Latency in the calling task, µs, p50 / p99 / p99.9:\n");
        per_client_table(&mut out, results, id, &tasks, |cl| {
            format!(
                "{} / {} / {}",
                num(cl.med(|r| r.p50_us)),
                num(cl.med(|r| r.p99_us)),
                num(cl.med(|r| r.p999_us))
            )
        });
        let names = results.clients.join(" / ");
        let _ = writeln!(
            out,
            "Connections, redirects and cost per command (three numbers: {names}). \
             Connections: what the client opened to the {n} primaries together; \
             error replies: what the servers answered with an error (`MOVED`/`ASK` included) from the start of the tasks to the end of the window, the maximum over rounds:\n"
        );
        cluster_cost_table(&mut out, results, &task_rows(results, id, &tasks));
    }
    failed_runs(&mut out, &failed);
    out
}

/// One figure per client, "a / b / c" ("–" where a client has none).
fn three(cells: &[Option<Cell>], f: &dyn Fn(&Cell) -> String) -> String {
    cells
        .iter()
        .map(|c| {
            let s = cell_text(c, |c| f(c));
            if s.is_empty() {
                "–".to_owned()
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// redmux's median commands per write in a row, or "" without one.
fn redmux_cmds_per_write(results: &Results, cells: &[Option<Cell>]) -> String {
    results
        .clients
        .iter()
        .position(|c| c == "redmux")
        .and_then(|i| cells[i].as_ref())
        .and_then(|c| c.med_opt(|r| r.cmds_per_write))
        .map(num)
        .unwrap_or_default()
}

/// The cluster run's batching and cost table, with the connections each
/// client opened and the error replies (redirects) the servers sent.
fn cluster_cost_table(out: &mut String, results: &Results, rows: &[(String, Vec<Option<Cell>>)]) {
    let _ = writeln!(
        out,
        "| tasks | connections | error replies | redmux cmds/write | server cmds/read | allocs/op | CPU µs/op | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (label, cells) in rows {
        let redmux_cpw = redmux_cmds_per_write(results, cells);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {redmux_cpw} | {} | {} | {} | {} |",
            three(cells, &|c| format!(
                "{:.0}",
                c.med(|r| r.connections as f64)
            )),
            three(cells, &|c| {
                c.ok.iter()
                    .filter_map(|r| r.server_error_replies)
                    .max()
                    .map_or("–".to_owned(), |e| e.to_string())
            }),
            three(cells, &|c| num(c.med(|r| r.server_cmds_per_read))),
            three(cells, &|c| num(c.med(|r| r.allocs_per_op))),
            three(cells, &|c| num(c.med(|r| r.cpu_us_per_op))),
            three(cells, &|c| format!("{:.0}", c.med(|r| r.peak_rss_mib))),
        );
    }
    out.push('\n');
}

/// Throughput of one workload: one row per task count, one column per
/// client, then redmux's ratio to each other client (followed by a blank
/// line).
fn throughput_table(out: &mut String, results: &Results, id: &str, tasks: &[usize]) {
    let _ = writeln!(out, "Throughput, ops/s (± = half the range over rounds):\n");
    let _ = write!(out, "| tasks |");
    for c in &results.clients {
        let _ = write!(out, " {c} |");
    }
    let ratios: Vec<&String> = results
        .clients
        .iter()
        .filter(|c| c.as_str() != "redmux")
        .collect();
    let has_redmux = results.clients.iter().any(|c| c == "redmux");
    if has_redmux {
        for c in &ratios {
            let _ = write!(out, " redmux/{c} |");
        }
    }
    out.push('\n');
    let cols = results.clients.len() + if has_redmux { ratios.len() } else { 0 };
    let _ = writeln!(out, "|---:|{}", "---:|".repeat(cols));
    for &t in tasks {
        let _ = write!(out, "| {t} |");
        for c in &results.clients {
            let cl = cell(results, id, t, c);
            let _ = write!(
                out,
                " {} |",
                cell_text(&cl, |cl| {
                    let s = cl.spread(|r| r.ops_per_sec);
                    if s.is_finite() {
                        format!("{} ±{:.0}%", thousands(cl.med(|r| r.ops_per_sec)), s)
                    } else {
                        thousands(cl.med(|r| r.ops_per_sec))
                    }
                })
            );
        }
        if has_redmux {
            let mine = ops(results, id, t, "redmux");
            for c in &ratios {
                let text = match (mine, ops(results, id, t, c)) {
                    (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                    _ => "".to_owned(),
                };
                let _ = write!(out, " {text} |");
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

/// The batching and cost table: `rows` are (first column, one cell per
/// client), each column but the first two holding one number per client.
fn cost_table(
    out: &mut String,
    results: &Results,
    first: &str,
    rows: &[(String, Vec<Option<Cell>>)],
) {
    let _ = writeln!(
        out,
        "| {first} | redmux cmds/write | server cmds/read | allocs/op | CPU µs/op | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|"
    );
    for (label, cells) in rows {
        let redmux_cpw = redmux_cmds_per_write(results, cells);
        let _ = writeln!(
            out,
            "| {label} | {redmux_cpw} | {} | {} | {} | {} |",
            three(cells, &|c| num(c.med(|r| r.server_cmds_per_read))),
            three(cells, &|c| num(c.med(|r| r.allocs_per_op))),
            three(cells, &|c| num(c.med(|r| r.cpu_us_per_op))),
            three(cells, &|c| format!("{:.0}", c.med(|r| r.peak_rss_mib))),
        );
    }
    out.push('\n');
}

/// The open-loop section: achieved rate, latency from the scheduled start
/// and costs, one row per offered rate.
fn open_loop(out: &mut String, results: &Results, w: &workload::Workload) {
    let rates = rates_measured(results);
    let _ = writeln!(out, "### {}\n", w.title);
    let _ = writeln!(
        out,
        "Request *i* is due at t0 + *i*/rate and is then spawned as its own task on the shared connection, whatever the replies before it did \
         (a clock thread wakes a dispatcher task, which spawns what is due); its latency runs from that **scheduled** start to the reply, so time spent queued behind a client that fell behind counts \
         (no coordinated omission). Keys as for GET 16 B. A rate is **held** when at least {:.0}% of it completed in the measured window; \
         ✗ marks one that was not: the backlog grew, and with it the latencies, which then depend on the length of the run; \
         `stopped`: more than {} s of requests were outstanding and the harness stopped issuing, so even those numbers are flattering.\n",
        crate::openloop::HELD_SHARE * 100.0,
        crate::openloop::BACKLOG_CAP_SECS
    );
    if let Some((file, _)) = crate::openloop_chart(results) {
        let _ = writeln!(out, "![p99 latency by offered rate](img/{file})\n");
    }
    let row_cells = |rate: u64| -> Vec<Option<Cell>> {
        results
            .clients
            .iter()
            .map(|c| open_cell(results, rate, c))
            .collect()
    };
    let rows: Vec<(String, Vec<Option<Cell>>)> = rates
        .iter()
        .map(|&rate| (thousands(rate as f64), row_cells(rate)))
        .collect();

    // Achieved rate, with how late the harness spawned requests at the end
    // of each row.
    let _ = writeln!(
        out,
        "Achieved rate, ops/s (✗: rate not held), and how late requests were spawned after they were due, µs \
         (part of the latencies below; median p50 / worst p99 over the row's runs that held the rate):\n"
    );
    let _ = write!(out, "| offered ops/s |");
    for c in &results.clients {
        let _ = write!(out, " {c} |");
    }
    let _ = writeln!(
        out,
        " spawn lag µs |\n|---:|{}---:|",
        "---:|".repeat(results.clients.len())
    );
    for (label, cells) in &rows {
        let _ = write!(out, "| {label} |");
        for c in cells {
            let text = cell_text(c, |c| {
                format!(
                    "{}{}",
                    thousands(c.med(|r| r.ops_per_sec)),
                    not_held_mark(c)
                )
            });
            let _ = write!(out, " {text} |");
        }
        // Only runs that held: past that point the dispatcher waits behind
        // an overloaded client's work, and its lag is the client's.
        let lags: Vec<&crate::openloop::OpenLoop> = cells
            .iter()
            .flatten()
            .flat_map(|c| c.ok.iter().filter_map(|r| r.open_loop.as_ref()))
            .filter(|o| o.held)
            .collect();
        let lag = if lags.is_empty() {
            "–".to_owned()
        } else {
            let p50 = median(&lags.iter().map(|o| o.issue_lag_p50_us).collect::<Vec<_>>());
            let p99 = lags.iter().map(|o| o.issue_lag_p99_us).fold(0.0, f64::max);
            format!("{} / {}", num(p50), num(p99))
        };
        let _ = writeln!(out, " {lag} |");
    }
    out.push('\n');

    let _ = writeln!(
        out,
        "Latency from the scheduled start, µs, p50 / p99 / p99.9 (✗: rate not held):\n"
    );
    client_table(out, results, "offered ops/s", &rows, |c| {
        format!(
            "{} / {} / {}{}",
            num(c.med(|r| r.p50_us)),
            num(c.med(|r| r.p99_us)),
            num(c.med(|r| r.p999_us)),
            not_held_mark(c)
        )
    });

    let names = results.clients.join(" / ");
    let _ = writeln!(
        out,
        "Batching and cost per request over the window (three numbers: {names}). \
         Allocations and CPU include the harness's spawn of each request (one allocation); CPU leaves out the clock thread \
         (its wake-ups: {} µs per request):\n",
        clock_cpu_range(results)
    );
    cost_table(out, results, "offered ops/s", &rows);
}

/// The range over the open-loop runs of the clock thread's CPU per request.
fn clock_cpu_range(results: &Results) -> String {
    let clock: Vec<f64> = results
        .runs
        .iter()
        .filter_map(|r| r.open_loop.as_ref())
        .map(|o| o.clock_cpu_us_per_op)
        .filter(|&x| x > 0.0)
        .collect();
    if clock.is_empty() {
        return "–".to_owned();
    }
    let (lo, hi) = clock
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    format!("{}–{}", num(lo), num(hi))
}

/// The mixed-database workload against redmux's single-database GET 16 B
/// of the same run: the cost of switching databases on a shared connection.
fn mixed_databases(out: &mut String, results: &Results, tasks: &[usize]) {
    let _ = writeln!(
        out,
        "One task in {} reads database {} (its SELECTs pipelined with the commands around them); \
         compared with redmux's GET 16 B on one database in the same run:\n",
        workload::OTHER_DB_EVERY,
        workload::OTHER_DB
    );
    let _ = writeln!(
        out,
        "| tasks | one database, ops/s | 1/4 on database 2, ops/s | ratio |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    for &t in tasks {
        let one = ops(results, "get16", t, "redmux");
        let mixed = ops(results, "get16db", t, "redmux");
        let ratio = match (one, mixed) {
            (Some(a), Some(b)) if a > 0.0 => format!("{:.2}×", b / a),
            _ => "–".to_owned(),
        };
        let show = |x: Option<f64>| x.map_or("–".to_owned(), thousands);
        let _ = writeln!(out, "| {t} | {} | {} | {ratio} |", show(one), show(mixed));
    }
    out.push('\n');
}

/// A headline row: title, redis-benchmark -P 1 and -P 256, ops/s per client.
type HeadlineRow = (String, Option<f64>, Option<f64>, Vec<Option<f64>>);

fn headline(out: &mut String, results: &Results) {
    let mut rows: Vec<HeadlineRow> = Vec::new();
    let max_tasks = results.tasks.iter().copied().max().unwrap_or(1);
    let mid_tasks = results
        .tasks
        .iter()
        .copied()
        .filter(|&t| t > 1 && t < max_tasks)
        .max();
    let mut add = |id: &str, t: usize, test: &str, size: usize| {
        if !was_measured(results, id, t) {
            return;
        }
        let title = workload::workload(id).map(|w| w.title).unwrap_or(id);
        let v = results
            .clients
            .iter()
            .map(|c| ops(results, id, t, c))
            .collect();
        rows.push((
            format!("{title}, {t} task{}", if t == 1 { "" } else { "s" }),
            reference(results, test, size, 1),
            reference(results, test, size, 256),
            v,
        ));
    };
    add("get16", 1, "get", 16);
    for id_test in [
        ("get16", "get", 16),
        ("set1k", "set", 1024),
        ("get100k", "get", 102400),
        ("set100k", "set", 102400),
    ] {
        if let Some(mid) = mid_tasks {
            add(id_test.0, mid, id_test.1, id_test.2);
        }
        add(id_test.0, max_tasks, id_test.1, id_test.2);
    }
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Headline: ops/s\n");
    let _ = write!(out, "| workload |");
    for c in &results.clients {
        let _ = write!(out, " {c} |");
    }
    let _ = writeln!(
        out,
        " redis-benchmark -P 1 | redis-benchmark -P 256 |\n|---|{}---:|---:|",
        "---:|".repeat(results.clients.len())
    );
    for (title, p1, p256, v) in rows {
        let _ = write!(out, "| {title} |");
        for x in v {
            let _ = write!(out, " {} |", x.map(thousands).unwrap_or_default());
        }
        let _ = writeln!(
            out,
            " {} | {} |",
            p1.map(thousands).unwrap_or_default(),
            p256.map(thousands).unwrap_or_default()
        );
    }
    out.push('\n');
    // Head-of-line p99.
    let hol_tasks = tasks_measured(results, "hol");
    if !hol_tasks.is_empty() {
        let _ = writeln!(
            out,
            "Head-of-line case (99% GET 64 B + 1% GET 100 KB): p99 of the 64 B GETs, µs:\n"
        );
        let _ = write!(out, "| tasks |");
        for c in &results.clients {
            let _ = write!(out, " {c} |");
        }
        let _ = writeln!(out, "\n|---:|{}", "---:|".repeat(results.clients.len()));
        for t in hol_tasks {
            let _ = write!(out, "| {t} |");
            for c in &results.clients {
                let cl = cell(results, "hol", t, c);
                let _ = write!(out, " {} |", cell_text(&cl, |cl| num(cl.med(|r| r.p99_us))));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

const SKELETON: &str = "# Benchmarks\n\n\
redmux, redis-rs and fred side by side, each on one shared connection. \
Run `scripts/bench.sh` to reproduce.\n\n\
## Results\n\n<!-- results:begin -->\n<!-- results:end -->\n";

/// Replaces the text between this mode's markers in docs/BENCHMARKS.md
/// (creating the file, or appending the markers, when missing), so the
/// hand-written sections around them survive reruns.
pub fn write_docs(root: &Path, results: &Results, markdown: &str) -> std::io::Result<()> {
    let path = root.join("docs/BENCHMARKS.md");
    let tag = match (results.cluster_primaries > 0, results.current_thread) {
        (true, false) => "results-cluster",
        (true, true) => "results-cluster-current-thread",
        (false, true) => "results-current-thread",
        (false, false) => "results",
    };
    let begin = format!("<!-- {tag}:begin -->");
    let end = format!("<!-- {tag}:end -->");
    let mut doc = std::fs::read_to_string(&path).unwrap_or_else(|_| SKELETON.to_owned());
    if !doc.contains(&begin) || !doc.contains(&end) {
        let title = match (results.cluster_primaries, results.current_thread) {
            (0, true) => "## Results: current-thread runtime".to_owned(),
            (0, false) => "## Results".to_owned(),
            (n, true) => format!("## Redis Cluster ({n} primaries): current-thread runtime"),
            (n, false) => format!("## Redis Cluster ({n} primaries)"),
        };
        doc.push_str(&format!("\n{title}\n\n{begin}\n{end}\n"));
    }
    let b = doc.find(&begin).unwrap() + begin.len();
    let e = doc[b..].find(&end).map(|i| b + i).unwrap();
    let new = format!("{}\n{}\n{}", &doc[..b], markdown.trim_end(), &doc[e..]);
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, new)
}
