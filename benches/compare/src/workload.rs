//! The workloads, and one measured run of one client (what a child process
//! does with `--single`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::alloc;
use crate::clients::{BenchClient, Fred, RedisRs, RedisRsCluster, Redmux};
use crate::openloop::{self, OpenLoop};
use crate::server::{Raw, RedisCluster};
use crate::sys;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Get,
    Set,
    /// Head-of-line: 99% GET of 64 B values, 1% GET of 100 KB values.
    Hol,
    /// GET, with one task in [`OTHER_DB_EVERY`] on database [`OTHER_DB`]
    /// (redmux only: the others need a connection per database).
    MixedDb,
    /// GET at fixed offered rates instead of a number of tasks (see
    /// src/openloop.rs).
    OpenLoop,
}

/// The database the mixed-database workload's other tasks use.
pub const OTHER_DB: u32 = 2;
/// One task in this many uses [`OTHER_DB`] (1/4).
pub const OTHER_DB_EVERY: usize = 4;
/// Key #i of [`OTHER_DB`] holds the value of key #(i + this) of database 0,
/// so a reply from the wrong database fails the content check.
pub const OTHER_DB_SHIFT: usize = 500;

pub struct Workload {
    pub id: &'static str,
    pub title: &'static str,
    pub kind: Kind,
    /// Value size in bytes (the small size for `Hol`).
    pub size: usize,
}

pub const HOL_LARGE: usize = 100 * 1024;
/// One large GET in this many (1%).
pub const HOL_EVERY: u64 = 100;

pub const WORKLOADS: &[Workload] = &[
    Workload {
        id: "get16",
        title: "GET 16 B",
        kind: Kind::Get,
        size: 16,
    },
    Workload {
        id: "get1k",
        title: "GET 1 KB",
        kind: Kind::Get,
        size: 1024,
    },
    Workload {
        id: "get100k",
        title: "GET 100 KB",
        kind: Kind::Get,
        size: 100 * 1024,
    },
    Workload {
        id: "set16",
        title: "SET 16 B",
        kind: Kind::Set,
        size: 16,
    },
    Workload {
        id: "set1k",
        title: "SET 1 KB",
        kind: Kind::Set,
        size: 1024,
    },
    Workload {
        id: "set100k",
        title: "SET 100 KB",
        kind: Kind::Set,
        size: 100 * 1024,
    },
    Workload {
        id: "get16db",
        title: "GET 16 B, 1 task in 4 on database 2 (redmux only)",
        kind: Kind::MixedDb,
        size: 16,
    },
    Workload {
        id: "hol",
        title: "Head-of-line: 99% GET 64 B + 1% GET 100 KB",
        kind: Kind::Hol,
        size: 64,
    },
    Workload {
        id: "openloop",
        title: "Open loop: GET 16 B at fixed rates",
        kind: Kind::OpenLoop,
        size: 16,
    },
];

pub fn workload(id: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.id == id)
}

/// How many distinct keys a workload cycles through.
pub fn key_count(size: usize) -> usize {
    if size >= 100 * 1024 {
        100
    } else {
        1000
    }
}

/// How many distinct keys a cluster run cycles through: enough to spread
/// over all 16,384 slots, so every primary gets about its share.
pub const CLUSTER_KEYS: usize = 10_000;

pub fn key_names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}:{i}")).collect()
}

pub(crate) fn prefix(w: &Workload) -> String {
    match w.kind {
        Kind::Get | Kind::MixedDb | Kind::OpenLoop => format!("get:{}", w.size),
        Kind::Set => format!("set:{}", w.size),
        Kind::Hol => "hol:s".to_owned(),
    }
}

const HOL_LARGE_PREFIX: &str = "hol:l";

/// The value stored under key number `index`: a pattern that differs per
/// key, so a reply for the wrong key is caught by the content check.
pub fn value_for(index: usize, size: usize) -> Vec<u8> {
    (0..size)
        .map(|j| b'a' + ((index * 7 + j) % 26) as u8)
        .collect()
}

pub(crate) fn check_value(
    got: Option<&[u8]>,
    index: usize,
    size: usize,
    full: bool,
) -> Result<(), String> {
    let Some(got) = got else {
        return Err(format!("GET of pre-populated key #{index} returned nil"));
    };
    if got.len() != size {
        return Err(format!(
            "GET of key #{index} returned {} bytes, expected {size}",
            got.len()
        ));
    }
    if full && got != value_for(index, size).as_slice() {
        return Err(format!("GET of key #{index} returned the wrong content"));
    }
    Ok(())
}

/// Writes the keys a GET workload reads (done once per workload by the parent).
pub fn populate(raw: &mut Raw, w: &Workload) -> Result<(), String> {
    let mut sets = |prefix: &str, size: usize| -> Result<(), String> {
        let cmds: Vec<Vec<Vec<u8>>> = key_names(prefix, key_count(size))
            .into_iter()
            .enumerate()
            .map(|(i, k)| vec![b"SET".to_vec(), k.into_bytes(), value_for(i, size)])
            .collect();
        raw.pipeline(&cmds)
    };
    match w.kind {
        Kind::Get | Kind::OpenLoop => sets(&prefix(w), w.size),
        Kind::MixedDb => {
            sets(&prefix(w), w.size)?;
            raw.command(&[b"SELECT", OTHER_DB.to_string().as_bytes()])?;
            let cmds: Vec<Vec<Vec<u8>>> = key_names(&prefix(w), key_count(w.size))
                .into_iter()
                .enumerate()
                .map(|(i, k)| {
                    let value = value_for(i + OTHER_DB_SHIFT, w.size);
                    vec![b"SET".to_vec(), k.into_bytes(), value]
                })
                .collect();
            let done = raw.pipeline(&cmds);
            raw.command(&[b"SELECT", b"0"])?;
            done
        }
        Kind::Set => Ok(()),
        Kind::Hol => {
            sets(&prefix(w), w.size)?;
            sets(HOL_LARGE_PREFIX, HOL_LARGE)
        }
    }
}

/// Writes the keys a GET workload reads on a cluster, each on the primary
/// of its slot (done once per workload by the parent). Returns how many
/// keys each primary got.
pub fn populate_cluster(cluster: &mut RedisCluster, w: &Workload) -> Result<Vec<usize>, String> {
    match w.kind {
        Kind::Get => {
            let cmds: Vec<Vec<Vec<u8>>> = key_names(&prefix(w), CLUSTER_KEYS)
                .into_iter()
                .enumerate()
                .map(|(i, k)| vec![b"SET".to_vec(), k.into_bytes(), value_for(i, w.size)])
                .collect();
            cluster.pipeline_by_key(&cmds)
        }
        Kind::Set => Ok(Vec::new()),
        Kind::Hol | Kind::MixedDb | Kind::OpenLoop => Err(format!(
            "the {} workload is not part of the cluster run",
            w.id
        )),
    }
}

/// What one run reports (one line of JSON from the child).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunResult {
    pub client: String,
    pub workload: String,
    pub tasks: usize,
    pub runtime: String,
    pub round: usize,
    pub ops: u64,
    pub secs: f64,
    pub ops_per_sec: f64,
    /// Latency in the calling task, µs (for `hol`: the small GETs only).
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    /// `hol` only: the 100 KB GETs.
    pub large_p50_us: Option<f64>,
    pub large_p99_us: Option<f64>,
    /// redmux only: Δcommands_written / Δflushes.
    pub cmds_per_write: Option<f64>,
    /// Δtotal_commands_processed / Δtotal_reads_processed from INFO stats.
    pub server_cmds_per_read: f64,
    /// Δtotal_commands_processed / ops: ~1.0, a check that the server ran
    /// what the client counted.
    pub server_cmds_per_op: f64,
    pub allocs_per_op: f64,
    pub alloc_bytes_per_op: f64,
    pub cpu_us_per_op: f64,
    /// VmHWM of the child process (runtime + client + tasks), MiB.
    pub peak_rss_mib: f64,
    /// VmRSS after connecting, before the tasks started, MiB.
    pub base_rss_mib: f64,
    /// Connections the client opened (INFO connected_clients minus the
    /// parent's and the child's set-up connections).
    pub connections: u64,
    /// Replies whose whole content was compared.
    pub content_checks: u64,
    /// Cluster runs only: error replies the servers sent (summed over the
    /// primaries; `MOVED` and `ASK` redirects count here) from just before
    /// the tasks started to the end of the measured window. 0 when every
    /// command went straight to the right primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_error_replies: Option<u64>,
    pub error: Option<String>,
    /// The open-loop workload only (`tasks` is then 0). Absent from the
    /// JSON of closed-loop runs and of results saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoop>,
}

pub struct Spec {
    pub client: String,
    pub workload: &'static Workload,
    pub tasks: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// The server's port, or every primary's for a cluster run.
    pub ports: Vec<u16>,
    pub current_thread: bool,
    pub round: usize,
    /// Offered requests/s: the open-loop workload only.
    pub rate: Option<u64>,
}

impl Spec {
    pub fn runtime_name(&self) -> &'static str {
        if self.current_thread {
            "current-thread"
        } else {
            "multi-thread (2 workers)"
        }
    }

    /// The (first) server's port.
    pub fn port(&self) -> u16 {
        self.ports[0]
    }

    /// Whether the run targets a cluster (several primaries).
    pub fn cluster(&self) -> bool {
        self.ports.len() > 1
    }

    /// How many distinct keys the run cycles through.
    pub fn key_count(&self) -> usize {
        if self.cluster() {
            CLUSTER_KEYS
        } else {
            key_count(self.workload.size)
        }
    }
}

/// Runs one measured run in this process and returns its result.
pub fn run_single(spec: &Spec) -> RunResult {
    let rt = if spec.current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    let outcome = rt.block_on(async {
        // The same three clients on a cluster: redmux detects it by
        // itself, fred gets a clustered config, redis-rs needs its cluster
        // connection type (src/clients.rs).
        match (spec.client.as_str(), spec.cluster()) {
            ("redmux", _) => measure_any(Redmux::connect(&spec.ports).await?, spec).await,
            ("redis-rs", false) => measure_any(RedisRs::connect(spec.port()).await?, spec).await,
            ("redis-rs", true) => {
                measure_any(RedisRsCluster::connect(&spec.ports).await?, spec).await
            }
            ("fred", _) => measure_any(Fred::connect(&spec.ports).await?, spec).await,
            (other, _) => Err(format!("unknown client {other}")),
        }
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    outcome.unwrap_or_else(|e| RunResult {
        client: spec.client.clone(),
        workload: spec.workload.id.to_owned(),
        tasks: spec.tasks,
        runtime: spec.runtime_name().to_owned(),
        round: spec.round,
        error: Some(e),
        // So the report can place a failed open-loop run at its rate.
        open_loop: spec.rate.map(|offered| OpenLoop {
            offered,
            ..Default::default()
        }),
        ..Default::default()
    })
}

async fn measure_any<C: BenchClient>(client: C, spec: &Spec) -> Result<RunResult, String> {
    match spec.rate {
        Some(rate) => openloop::measure(client, spec, rate).await,
        None => measure(client, spec).await,
    }
}

/// Keeps per-task counters and histogram shards on their own cache lines.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

pub(crate) const SHARDS: usize = 8;

struct Shared {
    stop: AtomicBool,
    measuring: AtomicBool,
    ops: Vec<Padded<AtomicU64>>,
    small: Vec<Padded<Mutex<Histogram<u64>>>>,
    large: Vec<Padded<Mutex<Histogram<u64>>>>,
    content_checks: AtomicU64,
    error: Mutex<Option<String>>,
}

/// 1 ns .. 60 s, 3 significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram")
}

pub(crate) fn histograms(n: usize) -> Vec<Padded<Mutex<Histogram<u64>>>> {
    (0..n).map(|_| Padded(Mutex::new(histogram()))).collect()
}

/// The shards of a run merged into one histogram.
pub(crate) fn merge(shards: &[Padded<Mutex<Histogram<u64>>>]) -> Histogram<u64> {
    let mut h = histogram();
    for s in shards {
        h.add(&*s.0.lock().unwrap()).expect("same bounds");
    }
    h
}

struct Snap {
    at: Instant,
    ops: u64,
    allocs: (u64, u64),
    cpu_us: u64,
    server_cmds: u64,
    server_reads: u64,
    server_errors: u64,
    writes: Option<(u64, u64)>,
}

pub(crate) fn snap_server(raw: &mut Raw) -> Result<(u64, u64), String> {
    let (cmds, reads, _) = snap_server_errors(raw)?;
    Ok((cmds, reads))
}

/// (total_commands_processed, total_reads_processed, total_error_replies)
/// from INFO stats.
fn snap_server_errors(raw: &mut Raw) -> Result<(u64, u64, u64), String> {
    let info = raw.info("stats")?;
    let get = |k: &str| {
        info.get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("INFO stats lacks {k}"))
    };
    Ok((
        get("total_commands_processed")?,
        get("total_reads_processed")?,
        get("total_error_replies")?,
    ))
}

/// [`snap_server_errors`] summed over every server of the run.
fn snap_servers(raws: &mut [Raw]) -> Result<(u64, u64, u64), String> {
    raws.iter_mut().try_fold((0, 0, 0), |acc, raw| {
        let (c, r, e) = snap_server_errors(raw)?;
        Ok((acc.0 + c, acc.1 + r, acc.2 + e))
    })
}

async fn measure<C: BenchClient>(client: C, spec: &Spec) -> Result<RunResult, String> {
    let w = spec.workload;
    // One INFO connection per server (per primary of a cluster).
    let mut raws = spec
        .ports
        .iter()
        .map(|&p| Raw::connect(p).map_err(|e| format!("INFO connection to port {p}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    // Besides the client's own, each server has this INFO connection and
    // the parent's set-up connection, which stays open for the whole
    // benchmark.
    let mut connected = 0;
    for raw in &mut raws {
        connected += raw.info_u64("clients", "connected_clients")?;
    }
    let connections = connected.saturating_sub(2 * raws.len() as u64);
    let errors_before = snap_servers(&mut raws)?.2;
    let base_rss_kib = sys::proc_status_kib("VmRSS");

    let keys: Arc<Vec<String>> = Arc::new(key_names(&prefix(w), spec.key_count()));
    let large_keys: Arc<Vec<String>> = Arc::new(key_names(HOL_LARGE_PREFIX, key_count(HOL_LARGE)));
    // SET writes the pattern of key #0 everywhere, so any key can be checked after.
    let set_value = Bytes::from(value_for(0, w.size));
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        measuring: AtomicBool::new(false),
        ops: (0..spec.tasks).map(|_| Padded(AtomicU64::new(0))).collect(),
        small: histograms(SHARDS),
        large: histograms(if w.kind == Kind::Hol { SHARDS } else { 0 }),
        content_checks: AtomicU64::new(0),
        error: Mutex::new(None),
    });

    let mut handles = Vec::with_capacity(spec.tasks);
    for t in 0..spec.tasks {
        let other_db = w.kind == Kind::MixedDb && t % OTHER_DB_EVERY == OTHER_DB_EVERY - 1;
        let mut c = if other_db {
            client.on_database(OTHER_DB).ok_or_else(|| {
                format!(
                    "{} cannot share one connection between databases",
                    spec.client
                )
            })?
        } else {
            client.clone()
        };
        let shift = if other_db { OTHER_DB_SHIFT } else { 0 };
        let shared = shared.clone();
        let keys = keys.clone();
        let large_keys = large_keys.clone();
        let set_value = set_value.clone();
        let kind = w.kind;
        let size = w.size;
        handles.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            let mut rng: u64 =
                0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let start_key = t.wrapping_mul(131);
            while !shared.stop.load(Relaxed) {
                let index = (start_key + n as usize) % keys.len();
                // Every 1000th reply of a task gets its whole content compared.
                let full = n.is_multiple_of(1000);
                let began = Instant::now();
                let (outcome, large) = match kind {
                    Kind::Get | Kind::MixedDb | Kind::OpenLoop => {
                        let r = c.get(&keys[index]).await;
                        (
                            r.and_then(|v| {
                                let got = v.as_ref().map(|v| v.as_ref());
                                check_value(got, index + shift, size, full)
                            }),
                            false,
                        )
                    }
                    Kind::Set => (c.set(&keys[index], &set_value).await, false),
                    Kind::Hol => {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        if rng.is_multiple_of(HOL_EVERY) {
                            let li = index % large_keys.len();
                            let r = c.get(&large_keys[li]).await;
                            (
                                r.and_then(|v| {
                                    check_value(v.as_ref().map(|v| v.as_ref()), li, HOL_LARGE, full)
                                }),
                                true,
                            )
                        } else {
                            let r = c.get(&keys[index]).await;
                            (
                                r.and_then(|v| {
                                    check_value(v.as_ref().map(|v| v.as_ref()), index, size, full)
                                }),
                                false,
                            )
                        }
                    }
                };
                let elapsed = began.elapsed().as_nanos() as u64;
                if let Err(e) = outcome {
                    shared.error.lock().unwrap().get_or_insert(e);
                    shared.stop.store(true, Relaxed);
                    break;
                }
                if full && kind != Kind::Set {
                    shared.content_checks.fetch_add(1, Relaxed);
                }
                if shared.measuring.load(Relaxed) {
                    let shard = if large {
                        &shared.large[t % SHARDS]
                    } else {
                        &shared.small[t % SHARDS]
                    };
                    let _ = shard.0.lock().unwrap().record(elapsed.max(1));
                }
                n += 1;
                shared.ops[t].0.store(n, Relaxed);
            }
            c
        }));
    }

    let total_ops = |s: &Shared| s.ops.iter().map(|o| o.0.load(Relaxed)).sum::<u64>();
    let snap = |raws: &mut [Raw], before: bool| -> Result<Snap, String> {
        // The INFO round trips stay outside the window on both ends.
        let server = if before {
            Some(snap_servers(raws)?)
        } else {
            None
        };
        let s = Snap {
            at: Instant::now(),
            ops: total_ops(&shared),
            allocs: alloc::snapshot(),
            cpu_us: sys::cpu_time_us(),
            server_cmds: 0,
            server_reads: 0,
            server_errors: 0,
            writes: client.write_stats(),
        };
        let (server_cmds, server_reads, server_errors) = match server {
            Some(v) => v,
            None => snap_servers(raws)?,
        };
        Ok(Snap {
            server_cmds,
            server_reads,
            server_errors,
            ..s
        })
    };

    tokio::time::sleep(spec.warmup).await;
    let start = snap(&mut raws, true)?;
    shared.measuring.store(true, Relaxed);
    tokio::time::sleep(spec.duration).await;
    shared.measuring.store(false, Relaxed);
    let end = snap(&mut raws, false)?;
    shared.stop.store(true, Relaxed);

    let mut clients = Vec::with_capacity(handles.len());
    let joined = tokio::time::timeout(Duration::from_secs(120), async {
        for h in handles {
            clients.push(h.await.map_err(|e| format!("task panicked: {e}"))?);
        }
        Ok::<(), String>(())
    })
    .await;
    match joined {
        Err(_) => return Err("tasks did not stop within 120 s of the end of the run".to_owned()),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => {}
    }
    if let Some(e) = shared.error.lock().unwrap().take() {
        return Err(e);
    }

    // After a SET run, read a few keys back through the client under test.
    let mut c = clients.pop().unwrap_or(client);
    if w.kind == Kind::Set {
        for i in [0, keys.len() / 2, keys.len() - 1] {
            let got = c.get(&keys[i]).await?;
            check_value(got.as_ref().map(|v| v.as_ref()), 0, w.size, true)
                .map_err(|e| format!("reading back after SET: {e}"))?;
        }
    }
    drop(clients);

    let ops = end.ops - start.ops;
    if ops == 0 {
        return Err("no operation completed in the measured window".to_owned());
    }
    let secs = (end.at - start.at).as_secs_f64();
    let nodes = raws.len() as u64;
    let server_cmds = end
        .server_cmds
        .saturating_sub(start.server_cmds)
        .saturating_sub(nodes); // our INFOs
    let server_reads = end
        .server_reads
        .saturating_sub(start.server_reads)
        .saturating_sub(nodes);
    let server_cmds_per_op = server_cmds as f64 / ops as f64;
    // Up to `tasks` commands are in flight at each end of the window, so
    // the two counts may differ by that much; past it the client counted
    // operations the server never ran.
    if (server_cmds + spec.tasks as u64) * 100 < ops * 98 {
        return Err(format!(
            "the client counted {ops} operations but the server processed only {server_cmds} commands"
        ));
    }
    let small = merge(&shared.small);
    let large = merge(&shared.large);
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let result = RunResult {
        client: spec.client.clone(),
        workload: w.id.to_owned(),
        tasks: spec.tasks,
        runtime: spec.runtime_name().to_owned(),
        round: spec.round,
        ops,
        secs,
        ops_per_sec: ops as f64 / secs,
        p50_us: us(&small, 0.50),
        p99_us: us(&small, 0.99),
        p999_us: us(&small, 0.999),
        large_p50_us: (w.kind == Kind::Hol).then(|| us(&large, 0.50)),
        large_p99_us: (w.kind == Kind::Hol).then(|| us(&large, 0.99)),
        cmds_per_write: match (start.writes, end.writes) {
            (Some((c0, f0)), Some((c1, f1))) if f1 > f0 => {
                Some((c1 - c0) as f64 / (f1 - f0) as f64)
            }
            _ => None,
        },
        server_cmds_per_read: server_cmds as f64 / server_reads.max(1) as f64,
        server_cmds_per_op,
        allocs_per_op: (end.allocs.0 - start.allocs.0) as f64 / ops as f64,
        alloc_bytes_per_op: (end.allocs.1 - start.allocs.1) as f64 / ops as f64,
        cpu_us_per_op: (end.cpu_us - start.cpu_us) as f64 / ops as f64,
        peak_rss_mib: sys::proc_status_kib("VmHWM") as f64 / 1024.0,
        base_rss_mib: base_rss_kib as f64 / 1024.0,
        connections,
        content_checks: shared.content_checks.load(Relaxed),
        server_error_replies: spec
            .cluster()
            .then(|| end.server_errors.saturating_sub(errors_before)),
        error: None,
        open_loop: None,
    };
    c.close().await;
    Ok(result)
}
