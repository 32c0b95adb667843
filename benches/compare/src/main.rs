//! `compare`: redmux vs redis-rs vs fred, each on ONE shared connection,
//! against a throwaway redis-server, with redis-benchmark as floor and
//! ceiling references.
//!
//! ```text
//! compare [--quick] [--cluster] [--current-thread] [--rounds N] [--duration SECS]
//!         [--workloads get16,set1k,...] [--tasks 1,64,...] [--rates 10k,50k,...]
//!         [--clients redmux,fred] [--write-docs | --no-write-docs] [--from-json FILE]
//! ```
//!
//! Every measured run is a child process of this binary (`--single ...`)
//! holding one client: peak RSS (VmHWM), heap allocations and CPU time then
//! belong to that client alone, and no run inherits another's warmed-up
//! allocator or runtime. Runs are interleaved: for each workload and task
//! count, round after round, the three clients take turns, the order rotated
//! each round, so a slow period of the shared machine hits all of them; the
//! report gives the median over rounds of every metric. The open-loop
//! workload (src/openloop.rs) runs the same way, with offered rates
//! (`--rates`) in place of task counts.
//!
//! `--cluster` runs the same clients against a throwaway 3-primary Redis
//! Cluster instead (src/server.rs starts it), each as ONE client shared by
//! all tasks, on GET 16 B and SET 16 B over keys spread across all slots;
//! its report goes to its own section of docs/BENCHMARKS.md.
//!
//! See docs/BENCHMARKS.md for the results and how to read them, and
//! scripts/bench.sh for the one command that runs everything.

mod alloc;
mod chart;
mod clients;
mod openloop;
mod report;
mod server;
mod sys;
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use clients::CLIENTS;
use server::{Raw, RedisCluster, RedisServer};
use workload::{Kind, RunResult, Spec, Workload, WORKLOADS};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

pub const TASKS_FULL: [usize; 6] = [1, 8, 16, 64, 512, 4096];

/// Primaries of the cluster run's cluster.
pub const CLUSTER_PRIMARIES: usize = 3;
/// The cluster run's workloads (GET and SET only) and task counts.
pub const CLUSTER_WORKLOADS: [&str; 2] = ["get16", "set16"];
pub const CLUSTER_TASKS: [usize; 3] = [1, 64, 1024];

/// A redis-benchmark reference's (test, size, pipeline).
type RefKey = (&'static str, usize, u32);

/// A redis-benchmark reference: `-c 1 -P pipeline -t test -d size`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    pub test: String,
    pub size: usize,
    pub pipeline: u32,
    pub rps: f64,
    pub samples: Vec<f64>,
}

/// Everything a run of the binary produced; saved as JSON so the report can
/// be regenerated (`--from-json`) without measuring again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub command: String,
    pub quick: bool,
    pub current_thread: bool,
    pub rounds: usize,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub machine: sys::Machine,
    pub workloads: Vec<String>,
    pub tasks: Vec<usize>,
    /// Offered rates of the open-loop workload, requests/s (absent from
    /// results saved before it existed).
    #[serde(default)]
    pub rates: Vec<u64>,
    pub clients: Vec<String>,
    /// Primaries of the cluster the run used; 0 for a standalone server
    /// (and in results saved before the cluster run existed).
    #[serde(default)]
    pub cluster_primaries: usize,
    pub references: Vec<Reference>,
    pub runs: Vec<RunResult>,
    pub wall_secs: f64,
}

struct Options {
    quick: bool,
    cluster: bool,
    current_thread: bool,
    rounds: usize,
    duration: Duration,
    warmup: Duration,
    workloads: Vec<&'static Workload>,
    tasks: Vec<usize>,
    rates: Vec<u64>,
    clients: Vec<String>,
    write_docs: bool,
    from_json: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: compare [--quick] [--cluster] [--current-thread] [--rounds N] [--duration SECS]\n\
         \x20              [--workloads ID,..] [--tasks N,..] [--rates N,..] [--clients NAME,..]\n\
         \x20              [--write-docs|--no-write-docs] [--from-json FILE]\n\
         rates: requests/s of the openloop workload, e.g. 10000 or 10k\n\
         --cluster: against a 3-primary Redis Cluster (workloads: {})\n\
         workloads: {}\nclients: {}",
        CLUSTER_WORKLOADS.join(", "),
        WORKLOADS
            .iter()
            .map(|w| w.id)
            .collect::<Vec<_>>()
            .join(", "),
        CLIENTS.join(", ")
    );
    std::process::exit(2)
}

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.trim().parse().unwrap_or_else(|_| usage()))
        .collect()
}

/// Offered rates: `10000` or `10k`.
fn rates(s: &str) -> Vec<u64> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let p = p.trim();
            let rate = match p.strip_suffix(['k', 'K']) {
                Some(k) => k.parse::<f64>().map(|k| (k * 1000.0).round() as u64),
                None => p.parse::<f64>().map(|r| r.round() as u64),
            };
            rate.ok().filter(|&r| r > 0).unwrap_or_else(|| usage())
        })
        .collect()
}

fn parse_options(args: &[String]) -> Options {
    let quick = args.iter().any(|a| a == "--quick");
    let cluster = args.iter().any(|a| a == "--cluster");
    let mut o = Options {
        quick,
        cluster,
        current_thread: false,
        // The cluster run is short by default: 1 round of 2 s per cell
        // (18 runs, about a minute), tables printed, no docs written; the
        // run for the docs adds `--rounds 3 --duration 3 --write-docs`.
        rounds: if quick || cluster { 1 } else { 5 },
        duration: Duration::from_secs(match (cluster, quick) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 3,
        }),
        warmup: Duration::ZERO,
        workloads: if cluster {
            CLUSTER_WORKLOADS
                .iter()
                .filter_map(|id| workload::workload(id))
                .collect()
        } else if quick {
            ["get16", "get16db", "set1k", "hol", "openloop"]
                .iter()
                .filter_map(|id| workload::workload(id))
                .collect()
        } else {
            WORKLOADS.iter().collect()
        },
        tasks: if cluster {
            CLUSTER_TASKS.to_vec()
        } else if quick {
            vec![1, 64, 4096]
        } else {
            TASKS_FULL.to_vec()
        },
        rates: if quick {
            openloop::RATES_QUICK.to_vec()
        } else {
            openloop::RATES_FULL.to_vec()
        },
        clients: CLIENTS.iter().map(|c| c.to_string()).collect(),
        write_docs: !quick && !cluster,
        from_json: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--quick" | "--cluster" => {}
            "--current-thread" => o.current_thread = true,
            "--rounds" => o.rounds = value().parse().unwrap_or_else(|_| usage()),
            "--duration" => {
                o.duration = Duration::from_secs_f64(value().parse().unwrap_or_else(|_| usage()))
            }
            "--workloads" => {
                o.workloads = list::<String>(&value())
                    .iter()
                    .map(|id| workload::workload(id).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--tasks" => o.tasks = list(&value()),
            "--rates" => o.rates = rates(&value()),
            "--clients" => {
                o.clients = list(&value());
                if o.clients.iter().any(|c| !CLIENTS.contains(&c.as_str())) {
                    usage()
                }
            }
            "--write-docs" => o.write_docs = true,
            "--no-write-docs" => o.write_docs = false,
            "--from-json" => o.from_json = Some(PathBuf::from(value())),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if o.cluster {
        if let Some(w) = o
            .workloads
            .iter()
            .find(|w| !matches!(w.kind, Kind::Get | Kind::Set))
        {
            eprintln!(
                "error: --cluster runs GET and SET workloads only ({}), not {}",
                CLUSTER_WORKLOADS.join(", "),
                w.id
            );
            std::process::exit(2)
        }
    }
    // Warm-up before each measured window: connect, spawn, let the
    // runtime and the server's buffers settle.
    o.warmup = Duration::from_secs_f64((o.duration.as_secs_f64() / 4.0).clamp(0.3, 0.5));
    o
}

/// The repository root (benches/compare is two levels down).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(|a| a == "--single").unwrap_or(false) {
        child_main(&args[1..]);
        return;
    }
    let options = parse_options(&args);
    let results = match &options.from_json {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            serde_json::from_str::<Results>(&text)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
        }
        None => {
            let results = if options.cluster {
                measure_cluster(&options, &args)
            } else {
                measure_all(&options, &args)
            };
            // A run that does not write the docs does not replace the raw
            // numbers the docs were made from either (a quick run has its
            // own file already).
            let path = if options.write_docs || options.quick {
                results_path(&results)
            } else {
                results_path(&results).with_extension("partial.json")
            };
            std::fs::create_dir_all(path.parent().unwrap()).ok();
            std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap())
                .expect("writing results JSON");
            eprintln!("raw results: {}", path.display());
            results
        }
    };
    let markdown = report::render(&results);
    println!("{markdown}");
    if options.write_docs {
        let root = repo_root();
        report::write_docs(&root, &results, &markdown).expect("writing docs/BENCHMARKS.md");
        for (file, title, id, test, size) in charts(&results) {
            let path = root.join("docs/img").join(file);
            match chart::ops_chart(&path, &title, &results, id, test, size) {
                Ok(()) => eprintln!("chart: {}", path.display()),
                Err(e) => eprintln!("warning: chart {} not drawn: {e}", path.display()),
            }
        }
        if let Some((file, title)) = openloop_chart(&results) {
            let path = root.join("docs/img").join(file);
            match chart::p99_chart(&path, &title, &results) {
                Ok(()) => eprintln!("chart: {}", path.display()),
                Err(e) => eprintln!("warning: chart {} not drawn: {e}", path.display()),
            }
        }
        eprintln!("wrote {}", root.join("docs/BENCHMARKS.md").display());
    }
}

/// The file-name suffix and title words of this runtime's charts.
fn chart_runtime(results: &Results) -> (&'static str, &'static str) {
    if results.current_thread {
        ("_current_thread", "current-thread runtime")
    } else {
        ("", "multi-thread runtime, 2 workers")
    }
}

/// (file, title, workload, redis-benchmark test, size) of each chart.
pub fn charts(results: &Results) -> Vec<(String, String, &'static str, &'static str, usize)> {
    let (suffix, rt) = chart_runtime(results);
    let cluster = results.cluster_primaries;
    let list = if cluster > 0 {
        [
            ("get16", "get", 16, "GET 16 B"),
            ("set16", "set", 16, "SET 16 B"),
        ]
    } else {
        [
            ("get16", "get", 16, "GET 16 B"),
            ("set1k", "set", 1024, "SET 1 KB"),
        ]
    };
    list.into_iter()
        .filter(|(id, ..)| results.workloads.iter().any(|w| w == id))
        .map(|(id, test, size, title)| {
            if cluster > 0 {
                (
                    format!("cluster_{id}_ops{suffix}.png"),
                    format!(
                        "Redis Cluster, {cluster} primaries, {title}: ops/s on one client ({rt})"
                    ),
                    id,
                    test,
                    size,
                )
            } else {
                (
                    format!("{}_ops{suffix}.png", id),
                    format!("{title}: ops/s on one connection ({rt})"),
                    id,
                    test,
                    size,
                )
            }
        })
        .collect()
}

/// (file, title) of the open loop's p99-by-rate chart, if it was run.
pub fn openloop_chart(results: &Results) -> Option<(String, String)> {
    let (suffix, rt) = chart_runtime(results);
    results.workloads.iter().any(|w| w == "openloop").then(|| {
        (
            format!("openloop_p99{suffix}.png"),
            format!("Open loop, GET 16 B: p99 latency at fixed offered rates ({rt})"),
        )
    })
}

/// The mixed-database workload is reported as a ratio to redmux's GET 16 B,
/// so its runs are interleaved with that workload's, round by round at each
/// task count, rather than run minutes later: a slow minute of the shared
/// machine then hits both sides of the ratio.
fn pair_mixed_with_base<'a>(
    mut plan: Vec<(&'a Workload, usize, usize, usize)>,
    workloads: &[&Workload],
) -> Vec<(&'a Workload, usize, usize, usize)> {
    let position = |id: &str| workloads.iter().position(|w| w.id == id);
    let Some(base) = position("get16") else {
        return plan;
    };
    let group = |w: &Workload| match w.kind {
        Kind::MixedDb => base,
        _ => position(w.id).unwrap_or(usize::MAX),
    };
    // Stable: within a (task count, round) the base workload's runs come first.
    plan.sort_by_key(|&(w, tasks, round, _)| (group(w), tasks, round));
    plan
}

pub fn results_path(results: &Results) -> PathBuf {
    let name = format!(
        "{}{}{}.json",
        if results.cluster_primaries > 0 {
            "cluster-"
        } else {
            ""
        },
        if results.current_thread {
            "current-thread"
        } else {
            "multi-thread"
        },
        if results.quick { "-quick" } else { "" }
    );
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("results")
        .join(name)
}

/// Task counts run for a workload: the head-of-line case needs company, so
/// it skips 1 task.
fn tasks_for(w: &Workload, tasks: &[usize]) -> Vec<usize> {
    tasks
        .iter()
        .copied()
        .filter(|&t| !(w.kind == Kind::Hol && t < 2))
        .collect()
}

/// What a workload's runs vary: task counts, or offered rates (requests/s)
/// for the open loop.
fn levels_for(w: &Workload, o: &Options) -> Vec<usize> {
    match w.kind {
        Kind::OpenLoop => o.rates.iter().map(|&r| r as usize).collect(),
        _ => tasks_for(w, &o.tasks),
    }
}

fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn measure_all(o: &Options, args: &[String]) -> Results {
    let began = Instant::now();
    let machine = sys::describe();
    let server = RedisServer::start().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let port = server.port;
    eprintln!(
        "redis-server {} on 127.0.0.1:{port}; {} workloads x {:?} tasks{} x {} clients x {} rounds of {:.1} s (+{:.2} s warm-up), {} runtime",
        machine.redis_server,
        o.workloads.len(),
        o.tasks,
        if o.workloads.iter().any(|w| w.kind == Kind::OpenLoop) {
            format!(" (open loop: {:?} requests/s)", o.rates)
        } else {
            String::new()
        },
        o.clients.len(),
        o.rounds,
        o.duration.as_secs_f64(),
        o.warmup.as_secs_f64(),
        if o.current_thread { "current-thread" } else { "multi-thread (2 workers)" },
    );
    let mut raw = Raw::connect(port).expect("connecting to redis-server");

    // redis-benchmark references: one sample of each per round, taken in
    // the round loop of the workload they belong to (just before the
    // clients' runs at its first task count), so a noisy minute of the
    // shared machine does not decide them; the median is reported.
    let ref_secs = o.duration.as_secs_f64().min(2.0);
    let mut ref_samples: Vec<(RefKey, Vec<f64>)> = Vec::new();

    let plan: Vec<(&Workload, usize, usize, usize)> = o
        .workloads
        .iter()
        .flat_map(|w| {
            levels_for(w, o).into_iter().flat_map(move |t| {
                (0..o.rounds).flat_map(move |r| {
                    (0..o.clients.len())
                        .filter(move |&c| w.kind != Kind::MixedDb || c == 0)
                        .map(move |c| (*w, t, r, c))
                })
            })
        })
        .collect();
    let plan = pair_mixed_with_base(plan, &o.workloads);
    let total = plan.len();
    let per_run = o.duration.as_secs_f64() + o.warmup.as_secs_f64() + 0.2;
    eprintln!(
        "{total} runs, about {} in all",
        fmt_duration(total as f64 * per_run)
    );

    let exe = std::env::current_exe().expect("current_exe");
    let mut runs = Vec::with_capacity(total);
    let runs_began = Instant::now();
    let mut populated = String::new();
    let redmux = "redmux".to_owned();
    for (i, &(w, level, round, slot)) in plan.iter().enumerate() {
        let open = w.kind == Kind::OpenLoop;
        if populated != w.id {
            workload::populate(&mut raw, w).unwrap_or_else(|e| panic!("populating {}: {e}", w.id));
            populated = w.id.to_owned();
        }
        let reference_test = match w.kind {
            Kind::Get => Some("get"),
            Kind::Set => Some("set"),
            Kind::Hol | Kind::MixedDb | Kind::OpenLoop => None,
        };
        if let Some(test) =
            reference_test.filter(|_| slot == 0 && level == tasks_for(w, &o.tasks)[0])
        {
            for pipeline in [1u32, 256] {
                if test == "get" {
                    // Without -r, redis-benchmark's key is literally "key:__rand_int__".
                    raw.command(&[b"SET", b"key:__rand_int__", &vec![b'x'; w.size]])
                        .expect("SET");
                }
                match server::redis_benchmark(port, test, w.size, pipeline, ref_secs) {
                    Ok(rps) => {
                        eprintln!(
                            "      redis-benchmark -c 1 -P {pipeline:<3} -t {test} -d {:<6} round {}/{}: {:>12} req/s",
                            w.size,
                            round + 1,
                            o.rounds,
                            report::thousands(rps)
                        );
                        let key = (test, w.size, pipeline);
                        match ref_samples.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, v)) => v.push(rps),
                            None => ref_samples.push((key, vec![rps])),
                        }
                    }
                    Err(e) => eprintln!(
                        "warning: redis-benchmark {test} -d {} -P {pipeline}: {e}",
                        w.size
                    ),
                }
            }
        }
        // Rotate the order of the clients each round.
        // The mixed-database workload runs redmux alone (one slot per round).
        let client = if w.kind == Kind::MixedDb {
            &redmux
        } else {
            &o.clients[(slot + round) % o.clients.len()]
        };
        let spec = Spec {
            client: client.clone(),
            workload: w,
            tasks: if open { 0 } else { level },
            duration: o.duration,
            warmup: o.warmup,
            ports: vec![port],
            current_thread: o.current_thread,
            round,
            rate: open.then_some(level as u64),
        };
        let result = run_child(&exe, &spec);
        let done = i + 1;
        let elapsed = runs_began.elapsed().as_secs_f64();
        let eta = elapsed / done as f64 * (total - done) as f64;
        let line = result_line(&result);
        eprintln!(
            "[{done:>3}/{total}] {:<8} {:<11} round {}/{} {:<9} {line}   elapsed {}, ETA {}",
            w.id,
            if open {
                format!("rate={}k", level as f64 / 1000.0)
            } else {
                format!("tasks={level}")
            },
            round + 1,
            o.rounds,
            client,
            fmt_duration(elapsed),
            fmt_duration(eta)
        );
        runs.push(result);
    }
    drop(server);
    let references = ref_samples
        .into_iter()
        .map(|((test, size, pipeline), samples)| Reference {
            test: test.to_owned(),
            size,
            pipeline,
            rps: report::median(&samples),
            samples,
        })
        .collect();
    Results {
        command: reproduce_command(args),
        quick: o.quick,
        current_thread: o.current_thread,
        rounds: o.rounds,
        duration_secs: o.duration.as_secs_f64(),
        warmup_secs: o.warmup.as_secs_f64(),
        machine,
        workloads: o.workloads.iter().map(|w| w.id.to_owned()).collect(),
        tasks: o.tasks.clone(),
        rates: if o.workloads.iter().any(|w| w.kind == Kind::OpenLoop) {
            o.rates.clone()
        } else {
            Vec::new()
        },
        clients: o.clients.clone(),
        cluster_primaries: 0,
        references,
        runs,
        wall_secs: began.elapsed().as_secs_f64(),
    }
}

/// A run's outcome, for its progress line.
fn result_line(result: &RunResult) -> String {
    match (&result.error, &result.open_loop) {
        (None, Some(ol)) => format!(
            "{:>12} ops/s  p50 {:>8.1} µs  p99 {:>9.1} µs  spawn lag p99 {:.1} µs{}",
            report::thousands(ol.achieved),
            result.p50_us,
            result.p99_us,
            ol.issue_lag_p99_us,
            if ol.held { "" } else { "  NOT HELD" }
        ),
        (None, None) => format!(
            "{:>12} ops/s  p50 {:>8.1} µs  p99 {:>9.1} µs{}",
            report::thousands(result.ops_per_sec),
            result.p50_us,
            result.p99_us,
            match result.server_error_replies {
                Some(n) if n > 0 => format!("  {n} error replies (MOVED/ASK…)"),
                _ => String::new(),
            }
        ),
        (Some(e), _) => format!("FAILED: {e}"),
    }
}

/// The cluster run: the same clients against a throwaway Redis Cluster of
/// [`CLUSTER_PRIMARIES`] primaries, interleaved and rotated as in
/// [`measure_all`]; no redis-benchmark references.
fn measure_cluster(o: &Options, args: &[String]) -> Results {
    let began = Instant::now();
    let machine = sys::describe();
    let starting = Instant::now();
    let mut cluster = RedisCluster::start(CLUSTER_PRIMARIES).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let ports = cluster.ports.clone();
    eprintln!(
        "redis-server {} cluster of {} primaries on 127.0.0.1:{} (cluster_state:ok after {:.1} s); {} workloads x {:?} tasks x {} clients x {} rounds of {:.1} s (+{:.2} s warm-up), {} runtime",
        machine.redis_server,
        ports.len(),
        ports
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(","),
        starting.elapsed().as_secs_f64(),
        o.workloads.len(),
        o.tasks,
        o.clients.len(),
        o.rounds,
        o.duration.as_secs_f64(),
        o.warmup.as_secs_f64(),
        if o.current_thread { "current-thread" } else { "multi-thread (2 workers)" },
    );

    let plan: Vec<(&Workload, usize, usize, usize)> = o
        .workloads
        .iter()
        .flat_map(|w| {
            o.tasks.iter().flat_map(move |&t| {
                (0..o.rounds).flat_map(move |r| (0..o.clients.len()).map(move |c| (*w, t, r, c)))
            })
        })
        .collect();
    let total = plan.len();
    let per_run = o.duration.as_secs_f64() + o.warmup.as_secs_f64() + 0.3;
    eprintln!(
        "{total} runs, about {} in all",
        fmt_duration(total as f64 * per_run)
    );

    let exe = std::env::current_exe().expect("current_exe");
    let mut runs = Vec::with_capacity(total);
    let runs_began = Instant::now();
    let mut populated = String::new();
    for (i, &(w, tasks, round, slot)) in plan.iter().enumerate() {
        if populated != w.id {
            let per_node = workload::populate_cluster(&mut cluster, w).unwrap_or_else(|e| {
                eprintln!("error: populating {}: {e}", w.id);
                std::process::exit(1)
            });
            if !per_node.is_empty() {
                eprintln!(
                    "      {}: {} keys written, {} on the primaries",
                    w.id,
                    report::thousands(per_node.iter().sum::<usize>() as f64),
                    per_node
                        .iter()
                        .map(|&n| report::thousands(n as f64))
                        .collect::<Vec<_>>()
                        .join(" / ")
                );
            }
            populated = w.id.to_owned();
        }
        let client = &o.clients[(slot + round) % o.clients.len()];
        let spec = Spec {
            client: client.clone(),
            workload: w,
            tasks,
            duration: o.duration,
            warmup: o.warmup,
            ports: ports.clone(),
            current_thread: o.current_thread,
            round,
            rate: None,
        };
        let result = run_child(&exe, &spec);
        let done = i + 1;
        let elapsed = runs_began.elapsed().as_secs_f64();
        let eta = elapsed / done as f64 * (total - done) as f64;
        eprintln!(
            "[{done:>3}/{total}] {:<8} {:<11} round {}/{} {:<9} {}   elapsed {}, ETA {}",
            w.id,
            format!("tasks={tasks}"),
            round + 1,
            o.rounds,
            client,
            result_line(&result),
            fmt_duration(elapsed),
            fmt_duration(eta)
        );
        runs.push(result);
    }
    drop(cluster);
    Results {
        command: reproduce_command(args),
        quick: o.quick,
        current_thread: o.current_thread,
        rounds: o.rounds,
        duration_secs: o.duration.as_secs_f64(),
        warmup_secs: o.warmup.as_secs_f64(),
        machine,
        workloads: o.workloads.iter().map(|w| w.id.to_owned()).collect(),
        tasks: o.tasks.clone(),
        rates: Vec::new(),
        clients: o.clients.clone(),
        cluster_primaries: ports.len(),
        references: Vec::new(),
        runs,
        wall_secs: began.elapsed().as_secs_f64(),
    }
}

fn reproduce_command(args: &[String]) -> String {
    let passed: Vec<&str> = args
        .iter()
        .map(|a| a.as_str())
        .filter(|a| !matches!(*a, "--write-docs" | "--no-write-docs"))
        .collect();
    if passed.is_empty() {
        "scripts/bench.sh".to_owned()
    } else {
        format!("scripts/bench.sh {}", passed.join(" "))
    }
}

fn run_child(exe: &Path, spec: &Spec) -> RunResult {
    let mut cmd = Command::new(exe);
    cmd.arg("--single")
        .args(["--client", &spec.client, "--workload", spec.workload.id])
        .args([
            "--tasks",
            &spec.tasks.to_string(),
            "--port",
            &spec
                .ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ])
        .args(["--duration", &spec.duration.as_secs_f64().to_string()])
        .args(["--warmup", &spec.warmup.as_secs_f64().to_string()])
        .args(["--round", &spec.round.to_string()])
        .args(
            spec.rate
                .iter()
                .flat_map(|r| ["--rate".to_owned(), r.to_string()]),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if spec.current_thread {
        cmd.arg("--current-thread");
    }
    server::die_with_parent(&mut cmd);
    let failed = |e: String| RunResult {
        client: spec.client.clone(),
        workload: spec.workload.id.to_owned(),
        tasks: spec.tasks,
        runtime: spec.runtime_name().to_owned(),
        round: spec.round,
        error: Some(e),
        open_loop: spec.rate.map(|offered| openloop::OpenLoop {
            offered,
            ..Default::default()
        }),
        ..Default::default()
    };
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => return failed(format!("could not start the child process: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<RunResult>(l).ok())
    {
        Some(r) => r,
        None => failed(format!("child exited with {} and no result", out.status)),
    }
}

fn child_main(args: &[String]) {
    let mut client = None;
    let mut workload = None;
    let mut tasks = 1;
    let mut ports = vec![0];
    let mut duration = 1.0;
    let mut warmup = 0.3;
    let mut round = 0;
    let mut current_thread = false;
    let mut rate = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--client" => client = Some(value()),
            "--workload" => workload = workload::workload(&value()),
            "--tasks" => tasks = value().parse().unwrap_or_else(|_| usage()),
            // One port, or every primary's, comma-separated.
            "--port" => ports = list(&value()),
            "--duration" => duration = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => warmup = value().parse().unwrap_or_else(|_| usage()),
            "--round" => round = value().parse().unwrap_or_else(|_| usage()),
            "--current-thread" => current_thread = true,
            "--rate" => rate = Some(value().parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if ports.is_empty() {
        usage()
    }
    let spec = Spec {
        client: client.unwrap_or_else(|| usage()),
        workload: workload.unwrap_or_else(|| usage()),
        tasks,
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        ports,
        current_thread,
        round,
        rate,
    };
    let result = workload::run_single(&spec);
    println!("{}", serde_json::to_string(&result).unwrap());
}
