//! Real redis-server processes for integration tests.
//!
//! Each [`RedisServer`] runs in its own temporary directory on a free
//! loopback port, with persistence off, and is killed when dropped. The
//! binary is `$REDMUX_REDIS_SERVER` or `redis-server` from `PATH`. Tests
//! never touch a server on 6379.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
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
            dir,
            extra: Vec::new(),
        };
        server.spawn();
        assert_eq!(server.port, port, "port {port} was taken");
        server
    }

    /// Starts a server with extra `--option value` arguments.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
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
                .args(&self.extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server (install it, or set REDMUX_REDIS_SERVER)");
            self.child = Some(child);
            if self.wait_ready(Duration::from_secs(10)) {
                return;
            }
            // The port may have been taken between choosing and binding; pick another.
            self.kill();
            self.port = free_port();
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

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
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
        let port = self.port;
        self.spawn();
        assert_eq!(self.port, port, "restart must keep the port");
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
