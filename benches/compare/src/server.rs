//! The throwaway redis-server, a tiny blocking RESP connection for set-up
//! and `INFO`, and the redis-benchmark reference runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// PID of the server, for the SIGINT/SIGTERM handler (which cannot run Drop).
static SERVER_PID: AtomicI32 = AtomicI32::new(0);

/// Kills the child process group members we know of and exits; installed
/// for SIGINT and SIGTERM. Only async-signal-safe calls (kill, _exit).
extern "C" fn on_signal(sig: libc::c_int) {
    let pid = SERVER_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) and _exit(2) are async-signal-safe.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    unsafe { libc::_exit(128 + sig) };
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
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("redmux-compare-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
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
        .stdin(Stdio::null())
        .stdout(Stdio::null());
        die_with_parent(&mut cmd);
        let child = cmd.spawn().map_err(|e| {
            format!("starting redis-server (is it on PATH? scripts/bench.sh installs it): {e}")
        })?;
        SERVER_PID.store(child.id() as i32, Ordering::SeqCst);
        // SAFETY: installing a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        let server = RedisServer { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Raw::connect(port) {
                if c.command(&[b"PING"]).map(|r| r == "PONG").unwrap_or(false) {
                    return Ok(server);
                }
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
        SERVER_PID.store(0, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
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
