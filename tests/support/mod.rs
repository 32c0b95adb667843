//! Real redis-server processes for integration tests.
//!
//! Each [`RedisServer`] runs in its own temporary directory on a free
//! loopback port, with persistence off, and is killed when dropped. The
//! binary is `$REDMUX_REDIS_SERVER` or `redis-server` from `PATH`. Tests
//! never touch a server on 6379. A server may also listen on a TLS port
//! ([`RedisServer::start_tls`], certificates from [`TestCertificates`]) or a
//! Unix socket ([`RedisServer::start_unix`]); the plain port stays open for
//! readiness checks and side commands.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    /// The TLS port, for servers from [`RedisServer::start_tls`].
    pub tls_port: Option<u16>,
    /// `--tls-*` arguments other than the port.
    tls_args: Vec<String>,
    /// The Unix socket, for servers from [`RedisServer::start_unix`].
    pub unix_socket: Option<PathBuf>,
    dir: tempfile::TempDir,
    extra: Vec<String>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

fn binary() -> String {
    std::env::var("REDMUX_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts a server on a given port (a test that needs the port before the server).
    pub fn start_on(port: u16) -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer {
            child: None,
            port,
            tls_port: None,
            tls_args: Vec::new(),
            unix_socket: None,
            dir,
            extra: Vec::new(),
        };
        server.spawn();
        assert_eq!(server.port, port, "port {port} was taken");
        server
    }

    /// Starts a server with extra `--option value` arguments.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let mut server = RedisServer::unstarted(extra);
        server.spawn();
        server
    }

    fn unstarted(extra: &[&str]) -> RedisServer {
        RedisServer {
            child: None,
            port: free_port(),
            tls_port: None,
            tls_args: Vec::new(),
            unix_socket: None,
            dir: tempfile::tempdir().expect("temp dir"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Starts a server that also listens with TLS on `tls_port`, with the
    /// server certificate of `certs`; with `require_client_cert` it asks
    /// clients for a certificate signed by the test CA
    /// (`--tls-auth-clients yes`).
    pub fn start_tls(
        certs: &TestCertificates,
        require_client_cert: bool,
        extra: &[&str],
    ) -> RedisServer {
        let mut server = RedisServer::unstarted(extra);
        server.tls_port = Some(free_port());
        let path = |p: &Path| p.to_string_lossy().into_owned();
        server.tls_args = vec![
            "--tls-cert-file".into(),
            path(&certs.server_cert),
            "--tls-key-file".into(),
            path(&certs.server_key),
            "--tls-ca-cert-file".into(),
            path(&certs.ca_cert),
            "--tls-auth-clients".into(),
            if require_client_cert { "yes" } else { "no" }.into(),
        ];
        server.spawn();
        // `redis-server --version` does not say whether TLS was built in;
        // a listening TLS port does.
        let tls_port = server.tls_port.expect("TLS port");
        assert!(
            TcpStream::connect(("127.0.0.1", tls_port)).is_ok(),
            "redis-server is not listening on its TLS port {tls_port}: it needs to be built \
             with TLS support (Debian's redis-server package is)"
        );
        server
    }

    /// Starts a server that also listens on a Unix socket in its directory.
    pub fn start_unix(extra: &[&str]) -> RedisServer {
        let mut server = RedisServer::unstarted(extra);
        server.unix_socket = Some(server.dir.path().join("redis.sock"));
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        for _ in 0..5 {
            let child = Command::new(binary())
                .args([
                    "--port",
                    &self.port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--dir", &self.dir.path().to_string_lossy()])
                .args(self.listener_args())
                .args(&self.extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server (install it, or set REDMUX_REDIS_SERVER)");
            self.child = Some(child);
            if self.wait_ready(Duration::from_secs(10)) {
                return;
            }
            // A port may have been taken between choosing and binding; pick others.
            self.kill();
            self.port = free_port();
            if self.tls_port.is_some() {
                self.tls_port = Some(free_port());
            }
        }
        if self.tls_port.is_some() {
            panic!(
                "redis-server did not start with --tls-port; it needs to be built with TLS \
                 support (Debian's redis-server package is)"
            );
        }
        panic!("redis-server did not start");
    }

    fn wait_ready(&mut self, within: Duration) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(child) = &mut self.child {
                if let Ok(Some(_)) = child.try_wait() {
                    return false;
                }
            }
            if let Ok(reply) = self.try_command(&["PING"]) {
                if reply.starts_with("+PONG") || reply.starts_with("-NOAUTH") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The TLS and Unix-socket arguments, if any.
    fn listener_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(tls_port) = self.tls_port {
            args.extend(["--tls-port".to_owned(), tls_port.to_string()]);
            args.extend(self.tls_args.iter().cloned());
        }
        if let Some(socket) = &self.unix_socket {
            args.extend([
                "--unixsocket".to_owned(),
                socket.to_string_lossy().into_owned(),
                "--unixsocketperm".to_owned(),
                "700".to_owned(),
            ]);
        }
        args
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A multiplexer on this server's plain port; `options` are appended to
    /// the address as they are (e.g. `",protocol=resp3"`, or `""`).
    pub async fn connect(&self, options: &str) -> redmux::Multiplexer {
        let config = format!("{}{options}", self.addr());
        match redmux::Multiplexer::connect(config.as_str()).await {
            Ok(mux) => mux,
            Err(e) => panic!("connect with {config:?} failed: {e}"),
        }
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpListener::bind(("127.0.0.1", self.port)).is_ok() || Instant::now() > until {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let (port, tls_port) = (self.port, self.tls_port);
        self.spawn();
        assert_eq!(self.port, port, "restart must keep the port");
        assert_eq!(self.tls_port, tls_port, "restart must keep the TLS port");
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// One command over a fresh side connection (not through redmux); the raw reply text.
    pub fn try_command(&self, args: &[&str]) -> std::io::Result<String> {
        command_at(self.port, args)
    }

    /// `command` on a side connection, panicking on I/O failure.
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args).expect("side connection command")
    }

    /// One field of `INFO <section>`, as a number (0 if absent).
    pub fn info_field(&self, section: &str, field: &str) -> u64 {
        let info = self.command(&["INFO", section]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// How many times `command` ran, from `INFO commandstats` (0 if never).
    /// How many error replies with `code` the server sent (INFO errorstats).
    pub fn command_errors(&self, code: &str) -> u64 {
        let info = self.command(&["INFO", "errorstats"]);
        let prefix = format!("errorstat_{code}:count=");
        info.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn command_calls(&self, command: &str) -> u64 {
        let info = self.command(&["INFO", "commandstats"]);
        let prefix = format!("cmdstat_{}:calls=", command.to_ascii_lowercase());
        info.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One command to the server on `port` over a fresh raw connection (usable
/// from any thread); the reply's first line, or a bulk string's body.
pub fn command_at(port: u16, args: &[&str]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    stream.write_all(out.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if let Some(len) = line.strip_prefix('$') {
        let len: i64 = len.trim().parse().unwrap_or(-1);
        if len >= 0 {
            let mut body = vec![0u8; len as usize + 2];
            reader.read_exact(&mut body)?;
            return Ok(String::from_utf8_lossy(&body[..len as usize]).into_owned());
        }
    }
    Ok(line)
}

/// A test certificate authority, a server certificate it signed for
/// `localhost` and 127.0.0.1, a client certificate it signed, and a second,
/// unrelated CA; all PEM files in a temporary directory. Made with rcgen at
/// test time, so nothing is checked in and nothing expires.
pub struct TestCertificates {
    _dir: tempfile::TempDir,
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA that signed nothing here: trusting only it must fail.
    pub other_ca_cert: PathBuf,
}

impl TestCertificates {
    pub fn generate() -> TestCertificates {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.distinguished_name.push(DnType::CommonName, name);
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
                .expect("self-signed CA")
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write PEM file");
            path
        };
        let issuer = ca("redmux test CA");
        let leaf = |names: Vec<String>, purpose: ExtendedKeyUsagePurpose| {
            let mut params = CertificateParams::new(names).expect("leaf params");
            params
                .distinguished_name
                .push(DnType::CommonName, "redmux test");
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![purpose];
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, &issuer).expect("sign leaf");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            vec!["client.test".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        TestCertificates {
            ca_cert: write("ca.pem", issuer.pem()),
            server_cert: write("server.pem", server_cert),
            server_key: write("server.key", server_key),
            client_cert: write("client.pem", client_cert),
            client_key: write("client.key", client_key),
            other_ca_cert: write("other-ca.pem", ca("unrelated CA").pem()),
            _dir: dir,
        }
    }
}

/// A Redis Cluster of real servers on loopback ports: `primaries`
/// primaries splitting the 16,384 slots evenly, each with `replicas`
/// replicas, built with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE (no
/// redis-cli needed), ready once every node reports `cluster_state:ok` and
/// every replica's link is up. Killed on drop.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
    pub primaries: usize,
}

impl RedisCluster {
    pub fn start(primaries: usize, replicas: usize) -> RedisCluster {
        let count = primaries * (1 + replicas);
        let nodes: Vec<RedisServer> = (0..count)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "2000",
                    "--repl-diskless-sync-delay",
                    "0",
                ])
            })
            .collect();
        let per = 16_384 / primaries;
        for (i, node) in nodes.iter().take(primaries).enumerate() {
            let start = i * per;
            let end = if i + 1 == primaries {
                16_383
            } else {
                start + per - 1
            };
            let ok = node.command(&[
                "CLUSTER",
                "ADDSLOTSRANGE",
                &start.to_string(),
                &end.to_string(),
            ]);
            assert!(ok.starts_with("+OK"), "ADDSLOTSRANGE: {ok}");
        }
        // Distinct config epochs, as redis-cli --cluster create sets them:
        // without them, elections after a primary fails can stall.
        for (i, node) in nodes.iter().enumerate() {
            node.command(&["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()]);
        }
        for node in &nodes[1..] {
            nodes[0].command(&["CLUSTER", "MEET", "127.0.0.1", &node.port.to_string()]);
        }
        let cluster = RedisCluster { nodes, primaries };
        cluster.wait("every node knows every other", |c| {
            c.nodes
                .iter()
                .all(|n| n.command(&["CLUSTER", "NODES"]).lines().count() == count)
        });
        for (i, replica) in cluster.nodes.iter().enumerate().skip(primaries) {
            let primary = &cluster.nodes[(i - primaries) % primaries];
            let id = primary.command(&["CLUSTER", "MYID"]);
            // A replica must see its primary as a master first; retry briefly.
            cluster.wait("REPLICATE accepted", |_| {
                replica
                    .command(&["CLUSTER", "REPLICATE", id.trim()])
                    .starts_with("+OK")
            });
        }
        cluster.wait("cluster_state:ok on every node, replicas linked", |c| {
            c.nodes
                .iter()
                .all(|n| n.command(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
                && c.nodes[c.primaries..].iter().all(|n| {
                    n.command(&["INFO", "replication"])
                        .contains("master_link_status:up")
                })
        });
        cluster
    }

    fn wait(&self, what: &str, ready: impl Fn(&RedisCluster) -> bool) {
        let until = Instant::now() + Duration::from_secs(30);
        while !ready(self) {
            assert!(Instant::now() < until, "cluster not ready: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first primary's address, as a seed.
    pub fn seed(&self) -> String {
        self.nodes[0].addr()
    }

    /// The slot of `key`, asked of the server.
    pub fn slot_of(&self, key: &str) -> u16 {
        let reply = self.nodes[0].command(&["CLUSTER", "KEYSLOT", key]);
        reply
            .trim()
            .trim_start_matches(':')
            .parse()
            .expect("a slot number")
    }

    /// The primary serving `slot` now (by CLUSTER NODES on the first node).
    pub fn owner_of(&self, slot: u16) -> &RedisServer {
        let nodes = self.nodes[0].command(&["CLUSTER", "NODES"]);
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            if fields.len() < 9 || !fields[2].contains("master") {
                continue;
            }
            let port: u16 = fields[1]
                .split('@')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            for range in &fields[8..] {
                let (a, b) = match range.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap_or(u16::MAX), b.parse().unwrap_or(0)),
                    None => {
                        let s = range.parse().unwrap_or(u16::MAX);
                        (s, s)
                    }
                };
                if (a..=b).contains(&slot) {
                    if let Some(node) = self.nodes.iter().find(|n| n.port == port) {
                        return node;
                    }
                }
            }
        }
        panic!("no primary serves slot {slot}:\n{nodes}");
    }

    /// Another primary than `node`.
    pub fn other_primary(&self, node: &RedisServer) -> &RedisServer {
        self.nodes[..self.primaries]
            .iter()
            .find(|n| n.port != node.port && self.is_primary(n))
            .expect("another primary")
    }

    fn is_primary(&self, node: &RedisServer) -> bool {
        node.command(&["INFO", "replication"])
            .contains("role:master")
    }

    /// Marks `slot` as migrating from `from` to `to` (ASK redirects start).
    pub fn start_migration(&self, slot: u16, from: &RedisServer, to: &RedisServer) {
        let slot = slot.to_string();
        let to_id = to.command(&["CLUSTER", "MYID"]);
        let from_id = from.command(&["CLUSTER", "MYID"]);
        assert!(to
            .command(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", from_id.trim()])
            .starts_with("+OK"));
        assert!(from
            .command(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", to_id.trim()])
            .starts_with("+OK"));
    }

    /// Moves `keys` of a migrating slot from `from` to `to` (MIGRATE … KEYS).
    pub fn migrate_keys(&self, from: &RedisServer, to: &RedisServer, keys: &[&str]) {
        let port = to.port.to_string();
        let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
        args.extend_from_slice(keys);
        let reply = from.command(&args);
        assert!(
            reply.starts_with("+OK") || reply.starts_with("+NOKEY"),
            "MIGRATE: {reply}"
        );
    }

    /// Ends a migration: `slot` belongs to `to` on every node (MOVED from now on).
    pub fn finish_migration(&self, slot: u16, to: &RedisServer) {
        let slot = slot.to_string();
        let to_id = to.command(&["CLUSTER", "MYID"]);
        for node in &self.nodes {
            let _ = node.command(&["CLUSTER", "SETSLOT", &slot, "NODE", to_id.trim()]);
        }
    }
}

/// A primary, one replica and three sentinels watching them as service
/// `svc` (quorum 2, down after 1 s). The sentinels run as
/// `redis-server <conf> --sentinel`, each with its own writable config
/// file (sentinels rewrite it); ready once every sentinel knows the
/// replica and the other two sentinels. Killed on drop.
pub struct RedisSentinels {
    pub primary: RedisServer,
    pub replica: RedisServer,
    pub sentinels: Vec<Sentinel>,
}

/// One sentinel process.
pub struct Sentinel {
    child: Option<Child>,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Sentinel {
    fn start(primary_port: u16) -> Sentinel {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                 sentinel monitor svc 127.0.0.1 {primary_port} 2\n\
                 sentinel down-after-milliseconds svc 1000\n\
                 sentinel failover-timeout svc 10000\n\
                 sentinel parallel-syncs svc 1\n",
                dir = dir.path().display()
            ),
        )
        .expect("write sentinel.conf");
        let child = Command::new(binary())
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server --sentinel");
        let sentinel = Sentinel {
            child: Some(child),
            port,
            _dir: dir,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while !command_at(port, &["PING"]).is_ok_and(|r| r.starts_with("+PONG")) {
            assert!(Instant::now() < until, "sentinel on {port} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        sentinel
    }

    pub fn command(&self, args: &[&str]) -> String {
        command_at(self.port, args).expect("sentinel side command")
    }
}

impl RedisSentinels {
    pub fn start() -> RedisSentinels {
        let primary = RedisServer::start_with(&["--repl-diskless-sync-delay", "0"]);
        let port = primary.port.to_string();
        let replica = RedisServer::start_with(&[
            "--replicaof",
            "127.0.0.1",
            &port,
            "--repl-diskless-sync-delay",
            "0",
        ]);
        let sentinels: Vec<Sentinel> = (0..3).map(|_| Sentinel::start(primary.port)).collect();
        let set = RedisSentinels {
            primary,
            replica,
            sentinels,
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let linked = set
                .replica
                .command(&["INFO", "replication"])
                .contains("master_link_status:up");
            let known = set.sentinels.iter().all(|s| {
                let master = raw_at(s.port, &["SENTINEL", "MASTER", "svc"]);
                field(&master, "num-slaves") == Some(1)
                    && field(&master, "num-other-sentinels") == Some(2)
            });
            if linked && known {
                return set;
            }
            assert!(
                Instant::now() < until,
                "sentinels not ready (replica linked: {linked})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The sentinels' addresses as a configuration string's endpoints.
    pub fn endpoints(&self) -> String {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The port the first sentinel says the primary is on now.
    pub fn primary_port(&self) -> u16 {
        let reply = raw_at(
            self.sentinels[0].port,
            &["SENTINEL", "get-master-addr-by-name", "svc"],
        );
        reply
            .lines()
            .filter(|l| !l.starts_with(['*', '$']))
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// A flat `SENTINEL MASTER` reply's numeric field.
fn field(raw: &str, name: &str) -> Option<u64> {
    let items: Vec<&str> = raw.lines().filter(|l| !l.starts_with(['*', '$'])).collect();
    items
        .iter()
        .position(|l| *l == name)
        .and_then(|i| items.get(i + 1))
        .and_then(|v| v.trim().parse().ok())
}

/// One command over a fresh raw RESP2 connection; the whole reply as text
/// (read until the server has nothing more for 100 ms).
pub fn raw_at(port: u16, args: &[&str]) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    if stream.write_all(out.as_bytes()).is_err() {
        return String::new();
    }
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(_) if !all.is_empty() || Instant::now() > until => break,
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// Replica reads land on `replica`, writes never do (INFO commandstats of
/// both): 20 `DEMAND_REPLICA` GETs of `key` (holding "v") all run on the
/// replica and none on the primary, a `PREFER_REPLICA` GET too; a SET with
/// `DEMAND_REPLICA` is refused, with `PREFER_REPLICA` it goes to the
/// primary (which then holds "w").
pub async fn assert_replica_reads(
    db: &redmux::Database,
    key: &str,
    primary: &RedisServer,
    replica: &RedisServer,
) {
    use redmux::prelude::*;
    use redmux::CommandFlags;
    let (primary_gets, replica_gets) = (primary.command_calls("get"), replica.command_calls("get"));
    for _ in 0..20 {
        let v: String = db
            .get(key)
            .flags(CommandFlags::DEMAND_REPLICA)
            .await
            .unwrap();
        assert_eq!(v, "v");
    }
    assert_eq!(
        replica.command_calls("get") - replica_gets,
        20,
        "every read ran on the replica"
    );
    assert_eq!(
        primary.command_calls("get"),
        primary_gets,
        "none on the primary"
    );
    // PREFER_REPLICA reads use the replica too now that it is connected.
    let v: String = db
        .get(key)
        .flags(CommandFlags::PREFER_REPLICA)
        .await
        .unwrap();
    assert_eq!(v, "v");
    assert_eq!(replica.command_calls("get") - replica_gets, 21);
    let e = db
        .set(key, "w")
        .flags(CommandFlags::DEMAND_REPLICA)
        .await
        .unwrap_err();
    assert!(
        e.is_refused() && e.to_string().contains("replicas refuse writes"),
        "{e}"
    );
    db.set(key, "w")
        .flags(CommandFlags::PREFER_REPLICA)
        .await
        .unwrap();
    assert_eq!(primary.command(&["GET", key]), "w");
}
