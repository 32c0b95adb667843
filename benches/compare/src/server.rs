//! The throwaway redis-server (or a throwaway 3-primary Redis Cluster), a
//! tiny blocking RESP connection for set-up and `INFO`, and the
//! redis-benchmark reference runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// PIDs of the servers (one, or a cluster's primaries), for the
/// SIGINT/SIGTERM handler (which cannot run Drop); 0 is a free slot.
static SERVER_PIDS: [AtomicI32; 8] = [const { AtomicI32::new(0) }; 8];

/// Kills the servers we know of and exits; installed for SIGINT and
/// SIGTERM. Only async-signal-safe calls (kill, _exit).
extern "C" fn on_signal(sig: libc::c_int) {
    for slot in &SERVER_PIDS {
        let pid = slot.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    // SAFETY: _exit(2) is async-signal-safe.
    unsafe { libc::_exit(128 + sig) };
}

/// Records a server's PID for the signal handler (and installs it).
fn register_pid(pid: i32) -> Result<(), String> {
    SERVER_PIDS
        .iter()
        .find(|slot| {
            slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        })
        .ok_or_else(|| format!("more than {} servers at once", SERVER_PIDS.len()))?;
    // SAFETY: installing a handler that only calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    Ok(())
}

fn unregister_pid(pid: i32) {
    for slot in &SERVER_PIDS {
        let _ = slot.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// `n` distinct free loopback ports (all bound at once, then released).
pub fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| format!("no free port: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| format!("no free port: {e}"))
}

/// Makes the kernel kill a spawned process when we die (even by SIGKILL,
/// when no Drop runs).
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// A redis-server on a free loopback port in a temporary directory; killed
/// and its directory removed on drop (normal exit or panic), and by the
/// signal handler on Ctrl-C.
pub struct RedisServer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl RedisServer {
    pub fn start() -> Result<RedisServer, String> {
        let port = free_ports(1)?[0];
        RedisServer::spawn(port, &[])
    }

    /// A redis-server on `port` with `extra` arguments after the common
    /// ones (`{dir}` in them stands for its temporary directory); returns
    /// once it answers PING.
    fn spawn(port: u16, extra: &[String]) -> Result<RedisServer, String> {
        let dir =
            std::env::temp_dir().join(format!("redmux-compare-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let dir_text = dir.to_string_lossy().into_owned();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--daemonize", "no", "--loglevel", "warning"])
        .arg("--dir")
        .arg(&dir)
        .args(extra.iter().map(|a| a.replace("{dir}", &dir_text)))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
        die_with_parent(&mut cmd);
        let child = cmd.spawn().map_err(|e| {
            format!("starting redis-server (is it on PATH? scripts/bench.sh installs it): {e}")
        })?;
        let pid = child.id() as i32;
        let mut server = RedisServer { port, child, dir };
        register_pid(pid)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Raw::connect(port) {
                if c.command(&[b"PING"]).map(|r| r == "PONG").unwrap_or(false) {
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "redis-server on port {port} exited at start with {status} (arguments: {extra:?})"
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server did not answer on port {port} within 10 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        unregister_pid(self.child.id() as i32);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The number of hash slots of a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// The slot of a key, as the server computes it: CRC16 (XMODEM) of the key,
/// or of its `{hash tag}` when it has a non-empty one, modulo 16,384.
/// Written out here rather than taken from a client under test; checked
/// against `CLUSTER KEYSLOT` when the cluster starts.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    let mut crc: u16 = 0;
    for &b in hashed {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % SLOTS
}

/// A Redis Cluster of `n` primaries (no replicas) on free loopback ports,
/// each in its own temporary directory: slots split evenly with
/// `CLUSTER ADDSLOTSRANGE`, joined with `CLUSTER MEET`, returned once every
/// node reports `cluster_state:ok`. The servers are killed on drop.
pub struct RedisCluster {
    /// Client ports of the primaries, in slot order.
    pub ports: Vec<u16>,
    /// First slot of each primary's range (the last range ends at 16,383).
    starts: Vec<u16>,
    /// One set-up connection per primary.
    raws: Vec<Raw>,
    _servers: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start(n: usize) -> Result<RedisCluster, String> {
        // Client ports and cluster-bus ports: the bus defaults to port +
        // 10,000, which a free port high in the ephemeral range may not
        // have, so each node gets a free one by `--cluster-port` (Redis 7).
        let ports = free_ports(2 * n)?;
        let (client_ports, bus_ports) = ports.split_at(n);
        let mut servers = Vec::with_capacity(n);
        for (&port, &bus) in client_ports.iter().zip(bus_ports) {
            let extra: Vec<String> = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &format!("{{dir}}/nodes-{port}.conf"),
                "--cluster-port",
                &bus.to_string(),
                "--cluster-node-timeout",
                "2000",
            ]
            .iter()
            .map(|a| a.to_string())
            .collect();
            servers.push(
                RedisServer::spawn(port, &extra)
                    .map_err(|e| format!("cluster node {}/{n}: {e}", servers.len() + 1))?,
            );
        }
        let mut raws = client_ports
            .iter()
            .map(|&p| Raw::connect(p).map_err(|e| format!("connecting to node {p}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let starts: Vec<u16> = (0..n).map(|i| (SLOTS as usize * i / n) as u16).collect();
        for (i, raw) in raws.iter_mut().enumerate() {
            let first = starts[i].to_string();
            let last = starts.get(i + 1).map_or(SLOTS - 1, |&s| s - 1).to_string();
            raw.command(&[
                b"CLUSTER",
                b"ADDSLOTSRANGE",
                first.as_bytes(),
                last.as_bytes(),
            ])
            .map_err(|e| format!("CLUSTER ADDSLOTSRANGE {first} {last} on node {i}: {e}"))?;
        }
        let (port0, bus0) = (client_ports[0].to_string(), bus_ports[0].to_string());
        for (i, raw) in raws.iter_mut().enumerate().skip(1) {
            raw.command(&[
                b"CLUSTER",
                b"MEET",
                b"127.0.0.1",
                port0.as_bytes(),
                bus0.as_bytes(),
            ])
            .map_err(|e| format!("CLUSTER MEET from node {i}: {e}"))?;
        }
        let mut cluster = RedisCluster {
            ports: client_ports.to_vec(),
            starts,
            raws,
            _servers: servers,
        };
        cluster.wait_ok(n, Duration::from_secs(30))?;
        cluster.check_key_slot()?;
        Ok(cluster)
    }

    /// Polls `CLUSTER INFO` on every node until each says
    /// `cluster_state:ok` and knows all `n` nodes.
    fn wait_ok(&mut self, n: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut waiting = Vec::new();
            for (raw, port) in self.raws.iter_mut().zip(&self.ports) {
                let info = raw.command(&[b"CLUSTER", b"INFO"])?;
                let field = |k: &str| {
                    info.lines()
                        .find_map(|l| l.strip_prefix(k)?.strip_prefix(':'))
                        .unwrap_or("?")
                        .trim()
                        .to_owned()
                };
                let (state, known) = (field("cluster_state"), field("cluster_known_nodes"));
                if state != "ok" || known != n.to_string() {
                    waiting.push(format!(
                        "127.0.0.1:{port}: cluster_state:{state}, cluster_known_nodes:{known}"
                    ));
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the cluster did not reach cluster_state:ok within {} s: {}",
                    timeout.as_secs(),
                    waiting.join("; ")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Checks [`key_slot`] against the server on a few keys.
    fn check_key_slot(&mut self) -> Result<(), String> {
        for key in ["get:16:0", "set:16:9999", "{user:1}:name", "a{}b", "x"] {
            let server = self.raws[0].command(&[b"CLUSTER", b"KEYSLOT", key.as_bytes()])?;
            let ours = key_slot(key.as_bytes());
            if server != ours.to_string() {
                return Err(format!(
                    "CLUSTER KEYSLOT {key} is {server}, the benchmark computes {ours}"
                ));
            }
        }
        Ok(())
    }

    /// Index of the primary that owns `slot`.
    pub fn node_of(&self, slot: u16) -> usize {
        self.starts.partition_point(|&s| s <= slot) - 1
    }

    /// Sends commands whose first argument after the name is a key, each to
    /// the primary of its key's slot (pipelined per node), and checks every
    /// reply (a `MOVED` would be an error). Returns how many went to each node.
    pub fn pipeline_by_key(&mut self, commands: &[Vec<Vec<u8>>]) -> Result<Vec<usize>, String> {
        let mut per_node: Vec<Vec<Vec<Vec<u8>>>> = vec![Vec::new(); self.raws.len()];
        for c in commands {
            let key = c.get(1).ok_or("a command without a key")?;
            per_node[self.node_of(key_slot(key))].push(c.clone());
        }
        for (i, (raw, cmds)) in self.raws.iter_mut().zip(&per_node).enumerate() {
            raw.pipeline(cmds)
                .map_err(|e| format!("node {i} (127.0.0.1:{}): {e}", self.ports[i]))?;
        }
        Ok(per_node.iter().map(|c| c.len()).collect())
    }
}

/// A minimal blocking RESP2 connection: set-up writes, `INFO`, checks.
/// Never used for measured traffic.
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> std::io::Result<Raw> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Raw {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Reads one reply, flattened to a string (bulk/simple/integer; arrays
    /// joined with newlines); an error reply becomes `Err`.
    fn read_reply(&mut self) -> Result<String, String> {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let line = line.trim_end_matches(['\r', '\n']);
        let (kind, rest) = line.split_at(1.min(line.len()));
        match kind {
            "+" | ":" => Ok(rest.to_owned()),
            "-" => Err(rest.to_owned()),
            "$" => {
                let n: i64 = rest
                    .parse()
                    .map_err(|_| format!("bad bulk header {line:?}"))?;
                if n < 0 {
                    return Ok(String::new());
                }
                let mut buf = vec![0; n as usize + 2];
                self.reader
                    .read_exact(&mut buf)
                    .map_err(|e| e.to_string())?;
                buf.truncate(n as usize);
                Ok(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" => {
                let n: i64 = rest
                    .parse()
                    .map_err(|_| format!("bad array header {line:?}"))?;
                let mut parts = Vec::new();
                for _ in 0..n.max(0) {
                    parts.push(self.read_reply()?);
                }
                Ok(parts.join("\n"))
            }
            _ => Err(format!("unexpected reply line {line:?}")),
        }
    }

    pub fn command(&mut self, args: &[&[u8]]) -> Result<String, String> {
        let mut out = Vec::new();
        Self::encode(&mut out, args);
        self.writer.write_all(&out).map_err(|e| e.to_string())?;
        self.read_reply()
    }

    /// Sends many commands in one pipeline and checks every reply.
    pub fn pipeline(&mut self, commands: &[Vec<Vec<u8>>]) -> Result<(), String> {
        for chunk in commands.chunks(256) {
            let mut out = Vec::new();
            for c in chunk {
                let args: Vec<&[u8]> = c.iter().map(|a| a.as_slice()).collect();
                Self::encode(&mut out, &args);
            }
            self.writer.write_all(&out).map_err(|e| e.to_string())?;
            for _ in chunk {
                self.read_reply()?;
            }
        }
        Ok(())
    }

    /// `INFO section` as `field -> value`.
    pub fn info(
        &mut self,
        section: &str,
    ) -> Result<std::collections::HashMap<String, String>, String> {
        let text = self.command(&[b"INFO", section.as_bytes()])?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect())
    }

    pub fn info_u64(&mut self, section: &str, field: &str) -> Result<u64, String> {
        self.info(section)?
            .get(field)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("INFO {section} has no numeric {field}"))
    }
}

/// Runs `redis-benchmark -c 1 -P pipeline -t test -d size` for about
/// `seconds` (the request count is calibrated by a short first run) and
/// returns requests per second.
pub fn redis_benchmark(
    port: u16,
    test: &str,
    size: usize,
    pipeline: u32,
    seconds: f64,
) -> Result<f64, String> {
    let once = |n: u64| -> Result<f64, String> {
        let out = Command::new("redis-benchmark")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-c",
                "1",
                "-P",
                &pipeline.to_string(),
            ])
            .args([
                "-t",
                test,
                "-n",
                &n.to_string(),
                "-d",
                &size.to_string(),
                "-q",
                "--csv",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!("running redis-benchmark (scripts/bench.sh installs redis-tools): {e}")
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        // --csv prints a header line, then "\"GET\",\"123456.79\",..."
        text.lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split(',').map(|c| c.trim_matches('"')).collect();
                (cols.len() >= 2 && cols[0].eq_ignore_ascii_case(test))
                    .then(|| cols[1].parse::<f64>().ok())?
            })
            .next()
            .ok_or_else(|| {
                format!(
                    "could not parse redis-benchmark output: {text:?} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    };
    let probe = once(if pipeline > 1 { 200_000 } else { 20_000 })?;
    let n = ((probe * seconds) as u64).max(10_000);
    once(n)
}
