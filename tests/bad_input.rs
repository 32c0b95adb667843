//! What the client does when the server sends bytes it must not trust.
//!
//! A real redis-server never sends garbage, so these tests use a fake server
//! written here: a loopback listener that answers the handshake on every
//! connection and then follows a script for that connection (reply to the
//! first command with bad bytes, close mid-frame, push unsolicited replies,
//! ...). Connections past the scripted ones get a small well-behaved server
//! (PING, ECHO, GET, SET), so each test can prove the other half of the
//! contract: after the fault, the client drops the connection it can no
//! longer trust, fails the affected calls with a clear error instead of
//! hanging, panicking or handing out someone else's reply, and reconnects
//! cleanly so the next call gets the right answer.
//!
//! Every test is wrapped in [`within`] so a hang fails the test quickly
//! instead of stalling the suite; speed is never asserted with sleeps.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{Database, Error, ErrorKind, Multiplexer, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

// ----- the fake server ---------------------------------------------------

type ScriptFn = Box<dyn FnOnce(Conn) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// What one scripted connection does.
enum Script {
    /// Runs after the fake server has answered the handshake.
    AfterHandshake(ScriptFn),
    /// Runs from the first byte: the script answers the handshake itself.
    Raw(ScriptFn),
}

/// A script that runs after the handshake.
fn script<F, Fut>(f: F) -> Script
where
    F: FnOnce(Conn) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Script::AfterHandshake(Box::new(move |conn| Box::pin(f(conn))))
}

/// A script that answers the handshake itself (see [`Conn::handshake`]).
fn raw_script<F, Fut>(f: F) -> Script
where
    F: FnOnce(Conn) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Script::Raw(Box::new(move |conn| Box::pin(f(conn))))
}

/// State shared by the listener, its connections and the test.
#[derive(Default)]
struct Log {
    /// Connections accepted so far.
    accepted: AtomicUsize,
    /// Scripted connections the client closed while the script held them open.
    closed_by_client: AtomicUsize,
    /// Every command received after the handshake: (connection number from 1, arguments).
    commands: Mutex<Vec<(usize, Vec<Vec<u8>>)>>,
    /// The well-behaved server's keys.
    store: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

/// A loopback listener that answers the handshake on every connection, runs
/// `scripts[k]` on connection k+1, and serves properly after the last one.
struct FakeServer {
    port: u16,
    resp3: bool,
    log: Arc<Log>,
}

impl FakeServer {
    async fn start(scripts: Vec<Script>) -> FakeServer {
        FakeServer::start_with(false, scripts).await
    }

    async fn start_with(resp3: bool, scripts: Vec<Script>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let log = Arc::new(Log::default());
        let accept_log = log.clone();
        tokio::spawn(async move {
            let mut scripts = scripts.into_iter();
            while let Ok((stream, _)) = listener.accept().await {
                let number = accept_log.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                let script = scripts.next();
                let log = accept_log.clone();
                // One task per connection: a script that holds its connection
                // open must not stop the reconnect from being accepted.
                tokio::spawn(async move {
                    let mut conn = Conn {
                        io: BufReader::new(stream),
                        number,
                        log,
                    };
                    match script {
                        Some(Script::Raw(script)) => script(conn).await,
                        Some(Script::AfterHandshake(script)) => {
                            if conn.handshake(resp3, b"").await {
                                script(conn).await;
                            }
                        }
                        None => {
                            if conn.handshake(resp3, b"").await {
                                conn.serve().await;
                            }
                        }
                    }
                });
            }
        });
        FakeServer { port, resp3, log }
    }

    async fn connect(&self) -> Multiplexer {
        let protocol = if self.resp3 { ",protocol=resp3" } else { "" };
        Multiplexer::connect(format!(
            "127.0.0.1:{},setlib=false,connectRetry=1,syncTimeout=2000{protocol}",
            self.port
        ))
        .await
        .expect("connect to the fake server")
    }

    /// Stores a key in the well-behaved server.
    fn seed(&self, key: &str, value: &str) {
        self.log
            .store
            .lock()
            .unwrap()
            .insert(key.into(), value.into());
    }

    fn accepted(&self) -> usize {
        self.log.accepted.load(Ordering::SeqCst)
    }

    /// The commands connection `number` received after its handshake.
    fn commands_on(&self, number: usize) -> Vec<Vec<Vec<u8>>> {
        self.log
            .commands
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, c)| c.clone())
            .collect()
    }
}

/// One accepted connection, seen from the server.
struct Conn {
    io: BufReader<TcpStream>,
    number: usize,
    log: Arc<Log>,
}

impl Conn {
    /// Reads one command (an array of bulk strings, as the client sends
    /// them); `None` at EOF or on anything else.
    async fn read_command(&mut self) -> Option<Vec<Vec<u8>>> {
        let count = self.read_header(b'*').await?;
        let mut args = Vec::with_capacity(count);
        for _ in 0..count {
            let len = self.read_header(b'$').await?;
            let mut arg = vec![0; len + 2];
            self.io.read_exact(&mut arg).await.ok()?;
            if !arg.ends_with(b"\r\n") {
                return None;
            }
            arg.truncate(len);
            args.push(arg);
        }
        Some(args)
    }

    async fn read_header(&mut self, kind: u8) -> Option<usize> {
        let mut line = Vec::new();
        self.io.read_until(b'\n', &mut line).await.ok()?;
        let digits = line.strip_prefix(&[kind])?.strip_suffix(b"\r\n")?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// Reads a command after the handshake and logs it.
    async fn next_command(&mut self) -> Option<Vec<Vec<u8>>> {
        let cmd = self.read_command().await?;
        self.log
            .commands
            .lock()
            .unwrap()
            .push((self.number, cmd.clone()));
        Some(cmd)
    }

    /// Writes raw bytes; the client may already have hung up, which is fine.
    async fn send(&mut self, bytes: &[u8]) {
        let _ = self.io.get_mut().write_all(bytes).await;
    }

    /// Answers the handshake: `HELLO 3` first in RESP3, then `CONFIG GET
    /// databases` (16) and `PING`, with `extra` in the same write right
    /// after `+PONG`. False if the client sent something else.
    async fn handshake(&mut self, resp3: bool, extra: &[u8]) -> bool {
        if resp3 {
            match self.read_command().await {
                Some(cmd) if cmd == [b"HELLO".to_vec(), b"3".to_vec()] => {}
                _ => return false,
            }
        }
        let mut reply = Vec::new();
        if resp3 {
            reply.extend_from_slice(b"%1\r\n+server\r\n+fake\r\n");
        }
        loop {
            match self.read_command().await {
                Some(cmd)
                    if cmd == [b"CONFIG".to_vec(), b"GET".to_vec(), b"databases".to_vec()] =>
                {
                    reply.extend_from_slice(b"*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
                }
                Some(cmd) if cmd == [b"PING".to_vec()] => break,
                _ => return false,
            }
        }
        reply.extend_from_slice(b"+PONG\r\n");
        reply.extend_from_slice(extra);
        self.send(&reply).await;
        // `connect` asks its first connection whether it is a cluster node:
        // answer as a standalone server before the script starts (with
        // `extra` bytes in flight, `serve` answers it instead).
        if self.number == 1 && extra.is_empty() {
            match self.read_command().await {
                Some(cmd)
                    if cmd
                        .first()
                        .is_some_and(|n| n.eq_ignore_ascii_case(b"CLUSTER")) =>
                {
                    self.send(b"-ERR This instance has cluster support disabled\r\n")
                        .await;
                }
                _ => return false,
            }
        }
        true
    }

    /// Reads whatever the client sends, answering nothing, until it closes
    /// the connection; then counts the close.
    async fn hold_open(mut self) {
        let mut sink = [0u8; 64 * 1024];
        loop {
            match self.io.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.log.closed_by_client.fetch_add(1, Ordering::SeqCst);
    }

    /// A well-behaved server for PING, ECHO, GET and SET until EOF.
    async fn serve(mut self) {
        while let Some(cmd) = self.next_command().await {
            let reply = self.answer(&cmd);
            self.send(&reply).await;
        }
    }

    fn answer(&self, cmd: &[Vec<u8>]) -> Vec<u8> {
        let name = cmd
            .first()
            .map(|n| n.to_ascii_uppercase())
            .unwrap_or_default();
        let mut store = self.log.store.lock().unwrap();
        match (name.as_slice(), cmd.get(1..).unwrap_or_default()) {
            (b"PING", []) => b"+PONG\r\n".to_vec(),
            (b"ECHO", [message]) => bulk(message),
            (b"GET", [key]) => store.get(key).map_or(b"$-1\r\n".to_vec(), |v| bulk(v)),
            (b"SET", [key, value]) => {
                store.insert(key.clone(), value.clone());
                b"+OK\r\n".to_vec()
            }
            _ => b"-ERR the fake server does not know this command\r\n".to_vec(),
        }
    }
}

fn bulk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Script: read one command, answer it with `reply`, then hold the
/// connection open (answering nothing) until the client closes it. Holding
/// it open proves the client gives up on its own, not because of an EOF.
fn reply_then_hold(reply: Vec<u8>) -> Script {
    script(move |mut conn: Conn| async move {
        if conn.next_command().await.is_some() {
            conn.send(&reply).await;
            conn.hold_open().await;
        }
    })
}

// ----- helpers for the tests ---------------------------------------------

/// Runs a test body, failing if it takes longer than `limit`: a client that
/// hangs on bad input fails here instead of stalling the suite.
async fn within<F: Future>(limit: Duration, body: F) -> F::Output {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}: the client hung"))
}

const TEST_LIMIT: Duration = Duration::from_secs(15);

/// The call got a connection-lost error for a protocol error whose message
/// contains `what`, says the command may have run, and names the command.
fn assert_protocol_error(err: &Error, command: &str, what: &str) {
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    let text = err.to_string();
    assert!(text.contains("protocol error"), "{text}");
    assert!(text.contains(what), "{what:?} missing from: {text}");
    assert!(text.starts_with(command), "does not name {command}: {text}");
    assert!(err.may_have_run(), "the command was written: {text}");
    assert!(text.contains("may or may not have run"), "{text}");
}

/// After a fault: within about 5 s a new call succeeds with the right reply
/// (the client reconnects with back-off from ~50 ms); the fake server then
/// saw at least two connections, so the fault really tore one down.
async fn assert_recovers(server: &FakeServer, db: &Database) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut attempts = Vec::new();
    loop {
        let token = format!("recovered-{}", attempts.len());
        match db.set("after", token.as_str()).await {
            Ok(true) => {
                assert_eq!(
                    db.get::<Option<String>>("after")
                        .await
                        .expect("GET after reconnect"),
                    Some(token.clone())
                );
                assert_eq!(
                    db.echo::<String>(token.as_str())
                        .await
                        .expect("ECHO after reconnect"),
                    token
                );
                assert_eq!(db.ping().await.expect("PING after reconnect"), "PONG");
                break;
            }
            Ok(false) => panic!("SET after the fault returned false"),
            Err(e) => attempts.push(e.to_string()),
        }
        assert!(
            Instant::now() < deadline,
            "no call succeeded within 5 s of the fault: {attempts:#?}"
        );
        // Pacing only: errors here are calls that raced the teardown.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        server.accepted() >= 2,
        "the client never reconnected ({} connection(s)), so the fault did not tear anything down",
        server.accepted()
    );
    assert!(db.multiplexer().is_connected());
}

/// The client closed the scripted connection rather than leaving it open.
async fn assert_faulty_connection_closed(server: &FakeServer) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.log.closed_by_client.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the client never closed the connection that sent bad bytes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The shared shape of most tests: the first connection answers one GET
/// with `reply` and then stays open; the GET must fail with a protocol error
/// naming `what` (not time out), and the client must recover.
async fn bad_reply_to_get(reply: Vec<u8>, what: &str) {
    within(TEST_LIMIT, async {
        let server = FakeServer::start(vec![reply_then_hold(reply)]).await;
        let mux = server.connect().await;
        let mut events = mux.events();
        let db = mux.database(0);
        let err = db
            .get::<Value>("k")
            .await
            .expect_err("bad bytes became a value");
        assert_protocol_error(&err, "GET", what);
        // Listeners are told too, once, with the same explanation.
        let mut reported = Vec::new();
        while let Some(event) = events.try_recv() {
            if let redmux::ConnectionEvent::ProtocolError { message, .. } = event {
                reported.push(message);
            }
        }
        assert_eq!(reported.len(), 1, "{reported:?}");
        assert!(reported[0].contains(what), "{reported:?}");
        assert_eq!(server.commands_on(1), [[b"GET".to_vec(), b"k".to_vec()]]);
        assert_recovers(&server, &db).await;
        assert_faulty_connection_closed(&server).await;
    })
    .await
}

/// `n` bytes of xorshift64 output from `seed`.
fn xorshift_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(n);
    out
}

const TYPE_BYTES: &[u8] = b"_+-:$*,#(=%~>|!";

// ----- the scenarios -----------------------------------------------------

#[tokio::test]
async fn random_bytes_fail_the_call_as_an_unknown_type_and_reconnect() {
    let mut garbage = xorshift_bytes(0x5eed_0bad_1dea_5eed, 4096);
    // Start on a byte that is not a RESP type, so the expected error is known.
    let start = garbage
        .iter()
        .position(|b| !TYPE_BYTES.contains(b))
        .expect("some byte is not a type byte");
    garbage.drain(..start);
    let first = garbage[0];
    bad_reply_to_get(garbage, &format!("unknown RESP type byte {first:#04x}")).await;
}

#[tokio::test]
async fn array_of_four_billion_elements_is_refused_at_once_by_the_element_limit() {
    // The connection stays open after the header: a decoder that believed it
    // would wait for 4 billion elements and the call would time out instead.
    bad_reply_to_get(
        b"*4294967295\r\n".to_vec(),
        "array of 4294967295 elements exceeds the limit of 16777216 elements (Limits::max_elements)",
    )
    .await;
}

#[tokio::test]
async fn bulk_length_of_i64_max_is_refused_by_the_bulk_limit() {
    bad_reply_to_get(
        b"$9223372036854775807\r\n".to_vec(),
        "bulk string length 9223372036854775807 exceeds the limit of 536870912 bytes (Limits::max_bulk_len)",
    )
    .await;
}

#[tokio::test]
async fn negative_bulk_length_other_than_minus_one_is_invalid() {
    bad_reply_to_get(b"$-5\r\n".to_vec(), "invalid length \"-5\" in '$' header").await;
}

#[tokio::test]
async fn negative_array_length_other_than_minus_one_is_invalid() {
    bad_reply_to_get(b"*-2\r\n".to_vec(), "invalid length \"-2\" in '*' header").await;
}

#[tokio::test]
async fn bulk_length_with_a_non_digit_is_invalid() {
    bad_reply_to_get(b"$12a\r\n".to_vec(), "invalid length \"12a\" in '$' header").await;
}

#[tokio::test]
async fn hundred_thousand_nested_arrays_hit_the_depth_limit_without_overflowing_the_stack() {
    bad_reply_to_get(
        b"*1\r\n".repeat(100_000),
        "nesting deeper than 128 levels (Limits::max_depth)",
    )
    .await;
}

#[tokio::test]
async fn simple_string_of_one_mebibyte_without_crlf_hits_the_line_limit() {
    let mut line = b"+".to_vec();
    line.resize(1 + 1024 * 1024, b'a');
    bad_reply_to_get(
        line,
        "line longer than 65536 bytes without CRLF (Limits::max_line)",
    )
    .await;
}

#[tokio::test]
async fn cr_inside_an_error_line_is_a_protocol_error_not_a_server_error() {
    bad_reply_to_get(
        b"-ERR bad\rthing\r\n".to_vec(),
        "bare CR not followed by LF inside a '-' line",
    )
    .await;
}

#[tokio::test]
async fn extra_reply_nobody_asked_for_tears_the_connection_down() {
    within(TEST_LIMIT, async {
        let server = FakeServer::start(vec![reply_then_hold(b"+OK\r\n+OK\r\n".to_vec())]).await;
        let mux = server.connect().await;
        let db = mux.database(0);
        // The first +OK is the GET's reply; the second is nobody's, and
        // whatever is sent next must not receive it.
        let first = db.get::<Value>("k").await.expect("the GET's own reply");
        assert_eq!(first, Value::SimpleString("OK".into()));
        assert_recovers(&server, &db).await;
        assert_faulty_connection_closed(&server).await;
        assert!(mux.stats().disconnects >= 1, "{:?}", mux.stats());
    })
    .await
}

/// What a GET of "k" may end with when the server sent `+SURPRISE` before
/// the GET was written: an error, or (after a reconnect) the stored value;
/// never the surprise.
fn assert_not_the_surprise(got: &redmux::Result<Value>) {
    match got {
        Ok(value) => assert_eq!(
            value,
            &Value::BulkString("the real value".into()),
            "the unsolicited reply was handed to a caller"
        ),
        Err(e) => assert!(e.is_connection_error(), "{e}"),
    }
}

/// `+SURPRISE` goes out in the same write as the handshake's `+PONG`, so it
/// reaches the client with the handshake's last reply.
#[tokio::test]
async fn unsolicited_reply_right_after_the_handshake_is_never_delivered_to_the_next_call() {
    within(TEST_LIMIT, async {
        let server = FakeServer::start(vec![raw_script(|mut conn: Conn| async move {
            if conn.handshake(false, b"+SURPRISE\r\n").await {
                conn.serve().await;
            }
        })])
        .await;
        server.seed("k", "the real value");
        let mux = server.connect().await;
        let db = mux.database(0);
        let got = db.get::<Value>("k").await;
        assert_not_the_surprise(&got);
        assert_recovers(&server, &db).await;
    })
    .await
}

/// `+SURPRISE` arrives on an idle connection, and a GET is issued right
/// after the server has sent it: bytes that arrived before the GET was
/// written cannot be its reply.
#[tokio::test]
async fn unsolicited_reply_on_an_idle_connection_is_never_delivered_to_the_next_call() {
    within(TEST_LIMIT, async {
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let (sent_tx, sent_rx) = oneshot::channel::<()>();
        let server = FakeServer::start(vec![script(move |mut conn: Conn| async move {
            let _ = go_rx.await;
            conn.send(b"+SURPRISE\r\n").await;
            let _ = sent_tx.send(());
            conn.serve().await;
        })])
        .await;
        server.seed("k", "the real value");
        let mux = server.connect().await;
        let db = mux.database(0);
        let bytes_in = mux.stats().bytes_in;
        go_tx.send(()).expect("script waiting");
        sent_rx.await.expect("surprise sent");
        // "Arrived" means the client read it: the runtime may report the
        // socket readable only after its next I/O poll, and bytes still in
        // the kernel when the GET is written are indistinguishable from
        // its reply. Wait until the driver has read them.
        while mux.stats().bytes_in == bytes_in && mux.stats().disconnects == 0 {
            tokio::task::yield_now().await;
        }
        let got = db.get::<Value>("k").await;
        assert_not_the_surprise(&got);
        assert_recovers(&server, &db).await;
    })
    .await
}

#[tokio::test]
async fn resp3_pushes_between_pipelined_replies_do_not_shift_them() {
    within(TEST_LIMIT, async {
        let server = FakeServer::start_with(
            true,
            vec![script(|mut conn: Conn| async move {
                let mut out = b">2\r\n+message\r\n+first\r\n".to_vec();
                for _ in 0..3 {
                    let Some(cmd) = conn.next_command().await else {
                        return;
                    };
                    let key = cmd.get(1).cloned().unwrap_or_default();
                    out.extend_from_slice(&bulk(&[b"value-of-", key.as_slice()].concat()));
                    out.extend_from_slice(b">2\r\n+message\r\n+x\r\n");
                }
                conn.send(&out).await;
                conn.serve().await;
            })],
        )
        .await;
        let mux = server.connect().await;
        let db = mux.database(0);
        let (a, b, c) = tokio::join!(
            db.get::<String>("a"),
            db.get::<String>("b"),
            db.get::<String>("c")
        );
        assert_eq!(a.expect("GET a"), "value-of-a");
        assert_eq!(b.expect("GET b"), "value-of-b");
        assert_eq!(c.expect("GET c"), "value-of-c");
        assert_eq!(db.ping().await.expect("PING"), "PONG");
        assert_eq!(server.accepted(), 1, "pushes must not cost a reconnect");
        assert_eq!(mux.stats().disconnects, 0);
    })
    .await
}

#[tokio::test]
async fn eof_in_the_middle_of_a_bulk_string_fails_the_call_and_reconnects() {
    within(TEST_LIMIT, async {
        let server = FakeServer::start(vec![script(|mut conn: Conn| async move {
            if conn.next_command().await.is_some() {
                conn.send(b"$10\r\nabc").await;
            }
            // Dropping the connection closes it mid-frame.
        })])
        .await;
        let mux = server.connect().await;
        let db = mux.database(0);
        let err = db
            .get::<Value>("k")
            .await
            .expect_err("a partial bulk became a value");
        assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
        let text = err.to_string();
        assert!(text.starts_with("GET"), "{text}");
        assert!(
            text.contains("closed the connection in the middle of a reply"),
            "{text}"
        );
        assert!(err.may_have_run(), "{text}");
        assert!(text.contains("may or may not have run"), "{text}");
        assert_recovers(&server, &db).await;
    })
    .await
}
