//! The driver and its pipeline over in-memory pipes (`tokio::io::duplex`),
//! with no server: the test plays the server, byte for byte, so it can hold
//! replies back, reply too early, or hang up at exactly the wrong moment.
//!
//! Covered here: group atomicity under concurrent callers, the gate and a
//! continuation behind it, pipelined and barrier SELECT, a database past the
//! server's count, a failed pipelined SELECT, hand-back of a redirect and of
//! unsent requests, a reply before its command was written, and requeue on
//! loss. The flush rule's decisions are table-tested in `pipeline::flush`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;

use super::handshake::{Established, Session};
use super::lifecycle::Connect;
use super::request::{Answer, Gate, HandBack, Request, ReturnReason, Returned, Step};
use super::shared::Shared;
use super::ConnectionHandle;
use crate::config::{Config, Endpoint, RetryPolicy};
use crate::error::{ErrorKind, Result};
use crate::events::{ConnectionEvent, EventSink, Events};
use crate::resp::Value;
use crate::Cmd;

/// How long a test waits for something that should happen.
const PATIENCE: Duration = Duration::from_secs(5);
/// How long a test watches for something that must not happen.
const QUIET: Duration = Duration::from_millis(150);

/// The server's end of one connection.
struct Server {
    io: BufReader<DuplexStream>,
}

impl Server {
    /// Reads one command (an array of bulk strings).
    async fn command(&mut self) -> Vec<String> {
        tokio::time::timeout(PATIENCE, self.read_command())
            .await
            .expect("the client sent no command in time")
            .expect("a well-formed command")
    }

    /// A command if one arrives within `QUIET`.
    async fn command_within_quiet(&mut self) -> Option<Vec<String>> {
        tokio::time::timeout(QUIET, self.read_command())
            .await
            .ok()
            .flatten()
    }

    async fn read_command(&mut self) -> Option<Vec<String>> {
        let count = self.header(b'*').await?;
        let mut args = Vec::with_capacity(count);
        for _ in 0..count {
            let len = self.header(b'$').await?;
            let mut arg = vec![0; len + 2];
            self.io.read_exact(&mut arg).await.ok()?;
            arg.truncate(len);
            args.push(String::from_utf8_lossy(&arg).into_owned());
        }
        Some(args)
    }

    async fn header(&mut self, kind: u8) -> Option<usize> {
        let mut line = Vec::new();
        self.io.read_until(b'\n', &mut line).await.ok()?;
        let digits = line.strip_prefix(&[kind])?.strip_suffix(b"\r\n")?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io
            .get_mut()
            .write_all(bytes)
            .await
            .expect("write to the client");
    }

    async fn bulk(&mut self, text: &str) {
        self.send(format!("${}\r\n{text}\r\n", text.len()).as_bytes())
            .await;
    }
}

/// A driver whose every connection is a fresh duplex pipe; the test gets
/// the server's end of each through `servers`.
struct Harness {
    handle: ConnectionHandle,
    servers: mpsc::UnboundedReceiver<Server>,
    events: Events,
}

struct Options {
    /// Bytes the pipe holds before a write waits for the server to read.
    capacity: usize,
    databases: Option<u32>,
    hand_back: Option<HandBack>,
    /// No connection is ever made (attempts fail).
    unreachable: bool,
    max_bytes_in_flight: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            capacity: 1 << 20,
            databases: Some(16),
            hand_back: None,
            unreachable: false,
            max_bytes_in_flight: crate::DEFAULT_MAX_BYTES_IN_FLIGHT,
        }
    }
}

fn harness(options: Options) -> Harness {
    let (tx, servers) = mpsc::unbounded_channel();
    let Options {
        capacity,
        databases,
        hand_back,
        unreachable,
        max_bytes_in_flight,
    } = options;
    let connect: Connect = Arc::new(move || {
        let tx = tx.clone();
        Box::pin(async move {
            if unreachable {
                return Err(crate::Error::connect(
                    &Endpoint::new("fake", 1),
                    "unreachable in this test",
                    None,
                ));
            }
            let (client, server) = tokio::io::duplex(capacity);
            let _ = tx.send(Server {
                io: BufReader::new(server),
            });
            Ok(Established {
                stream: Box::new(client),
                session: Session {
                    leftover: BytesMut::new(),
                    db: 0,
                    databases,
                },
            })
        })
    });
    let config = Config {
        retry_policy: RetryPolicy::Linear {
            step: Duration::from_millis(5),
            max: Duration::from_millis(5),
        },
        max_bytes_in_flight,
        ..Config::default()
    };
    let sink = Arc::new(EventSink::new());
    let events = sink.subscribe();
    let shared = Arc::new(Shared::new(Endpoint::new("fake", 1), sink));
    let handle = ConnectionHandle::spawn(shared, Arc::new(config), connect, None, hand_back);
    Harness {
        handle,
        servers,
        events,
    }
}

impl Harness {
    async fn server(&mut self) -> Server {
        tokio::time::timeout(PATIENCE, self.servers.recv())
            .await
            .expect("the driver connected in time")
            .expect("a server end")
    }
}

type Pending = super::reply::ReplyReceiver;

fn encode(args: &[&str]) -> BytesMut {
    let mut cmd = Cmd::with_name(args[0].to_owned().into());
    for a in &args[1..] {
        cmd.push_arg(a);
    }
    cmd.into_encoded().0
}

/// Sends one command on database `db`; the receiver gets its answer.
fn send(handle: &ConnectionHandle, args: &[&str], db: u32) -> Pending {
    send_request(handle, |reply| {
        Request::single(encode(args), db, Some(reply), PATIENCE)
    })
}

fn send_request(
    handle: &ConnectionHandle,
    build: impl FnOnce(super::request::ReplySender) -> Request,
) -> Pending {
    let (reply, rx) = super::reply::channel();
    handle
        .send(build(reply))
        .expect("the driver accepts requests");
    rx
}

/// Several commands as one group.
fn group(commands: &[&[&str]]) -> (BytesMut, u32) {
    let mut bytes = BytesMut::new();
    for c in commands {
        bytes.extend_from_slice(&encode(c));
    }
    (bytes, commands.len() as u32)
}

async fn answer(rx: Pending) -> Result<Answer> {
    tokio::time::timeout(PATIENCE, rx)
        .await
        .expect("answered in time")
        .expect("the driver answers every request")
}

fn text(value: &Value) -> String {
    match value {
        Value::BulkString(b) | Value::SimpleString(b) | Value::Error(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Value::Int(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

async fn one(rx: Pending) -> String {
    match answer(rx).await.expect("a reply, not an error") {
        Answer::One(v) => text(&v),
        Answer::Group(vs) => panic!("a single command got a group answer {vs:?}"),
    }
}

async fn many(rx: Pending) -> Vec<String> {
    match answer(rx).await.expect("replies, not an error") {
        Answer::Group(vs) => vs.iter().map(text).collect(),
        Answer::One(v) => panic!("a group got a single answer {v:?}"),
    }
}

/// Answers every ECHO with its argument until the client hangs up.
async fn echo_server(mut server: Server) -> Vec<Vec<String>> {
    let mut seen = Vec::new();
    while let Some(cmd) = server.read_command().await {
        match cmd[0].as_str() {
            "ECHO" => server.bulk(&cmd[1]).await,
            _ => server.send(b"+OK\r\n").await,
        }
        seen.push(cmd);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_written_back_to_back_under_concurrent_callers() {
    let mut h = harness(Options::default());
    let server = h.server().await;
    let served = tokio::spawn(echo_server(server));
    let handle = Arc::new(h.handle);
    let mut tasks = Vec::new();
    for t in 0..16 {
        let handle = handle.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let tags: Vec<String> = (0..3).map(|k| format!("g{t}:{i}:{k}")).collect();
                let cmds: Vec<[&str; 2]> = tags.iter().map(|s| ["ECHO", s.as_str()]).collect();
                let refs: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
                let (bytes, count) = group(&refs);
                let lone = format!("s{t}:{i}");
                let g = send_request(&handle, |r| {
                    Request::group(bytes, count, 0, Some(r), PATIENCE)
                });
                let s = send(&handle, &["ECHO", &lone], 0);
                assert_eq!(
                    many(g).await,
                    tags,
                    "task {t} group {i} got someone else's replies"
                );
                assert_eq!(one(s).await, lone);
            }
        }));
    }
    for t in tasks {
        t.await.expect("caller task");
    }
    handle.close(Duration::from_secs(1)).await;
    let seen = served.await.expect("server task");
    assert_eq!(seen.len(), 16 * 40 * 4);
    // Every group's three commands are adjacent on the wire, in order.
    for (i, cmd) in seen.iter().enumerate() {
        let tag = &cmd[1];
        if tag.starts_with('g') && tag.ends_with(":0") {
            let base = &tag[..tag.len() - 1];
            for k in 1..3 {
                assert_eq!(
                    seen[i + k][1],
                    format!("{base}{k}"),
                    "another command inside group {base}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_gate_holds_every_later_command_until_its_replies_arrive() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let (bytes, count) = group(&[&["WATCH", "k"], &["GET", "k"]]);
    let gated = send_request(&h.handle, |r| {
        Request::group(bytes, count, 0, Some(r), PATIENCE).gated(Gate::UntilReplies)
    });
    let later = send(&h.handle, &["ECHO", "later"], 0);
    assert_eq!(server.command().await, ["WATCH", "k"]);
    assert_eq!(server.command().await, ["GET", "k"]);
    assert_eq!(
        server.command_within_quiet().await,
        None,
        "written behind the gate"
    );
    server.send(b"+OK\r\n$1\r\nv\r\n").await;
    assert_eq!(server.command().await, ["ECHO", "later"], "the gate opened");
    server.bulk("later").await;
    assert_eq!(many(gated).await, ["OK", "v"]);
    assert_eq!(one(later).await, "later");
}

#[tokio::test]
async fn a_continuation_writes_its_follow_up_before_anything_queued_meanwhile() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let (bytes, count) = group(&[&["WATCH", "k"], &["GET", "k"]]);
    let then: super::request::Continuation = Box::new(|replies: Vec<Value>| {
        if replies.get(1).map(text).as_deref() == Some("expected") {
            let (commands, count) = group(&[&["MULTI"], &["SET", "k", "new"], &["EXEC"]]);
            Step::Send {
                commands,
                count,
                gate: Gate::Open,
            }
        } else {
            let (commands, count) = group(&[&["UNWATCH"]]);
            Step::Send {
                commands,
                count,
                gate: Gate::Open,
            }
        }
    });
    let txn = send_request(&h.handle, |r| {
        Request::group(bytes, count, 0, Some(r), PATIENCE).gated(Gate::Then(then))
    });
    assert_eq!(server.command().await, ["WATCH", "k"]);
    assert_eq!(server.command().await, ["GET", "k"]);
    // Another caller's command arrives while the checks are in flight.
    let other = send(&h.handle, &["ECHO", "other"], 0);
    assert_eq!(server.command_within_quiet().await, None);
    server.send(b"+OK\r\n$8\r\nexpected\r\n").await;
    assert_eq!(
        server.command().await,
        ["MULTI"],
        "the follow-up comes first"
    );
    assert_eq!(server.command().await, ["SET", "k", "new"]);
    assert_eq!(server.command().await, ["EXEC"]);
    assert_eq!(server.command().await, ["ECHO", "other"]);
    server
        .send(b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$5\r\nother\r\n")
        .await;
    let replies = match answer(txn).await.expect("the transaction's answer") {
        Answer::Group(vs) => vs,
        Answer::One(v) => panic!("{v:?}"),
    };
    assert_eq!(replies.len(), 3);
    assert_eq!(text(&replies[1]), "QUEUED");
    assert_eq!(one(other).await, "other");
}

#[tokio::test]
async fn select_is_pipelined_when_the_database_count_is_known() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let a = send(&h.handle, &["GET", "a"], 0);
    let b = send(&h.handle, &["GET", "b"], 2);
    let c = send(&h.handle, &["GET", "c"], 0);
    // All five commands arrive before any reply is sent.
    assert_eq!(server.command().await, ["GET", "a"]);
    assert_eq!(server.command().await, ["SELECT", "2"]);
    assert_eq!(server.command().await, ["GET", "b"]);
    assert_eq!(server.command().await, ["SELECT", "0"]);
    assert_eq!(server.command().await, ["GET", "c"]);
    server
        .send(b"$2\r\na0\r\n+OK\r\n$2\r\nb2\r\n+OK\r\n$2\r\nc0\r\n")
        .await;
    assert_eq!(
        (one(a).await, one(b).await, one(c).await),
        ("a0".into(), "b2".into(), "c0".into())
    );
}

#[tokio::test]
async fn select_is_a_barrier_when_the_database_count_is_unknown() {
    let mut h = harness(Options {
        databases: None,
        ..Options::default()
    });
    let mut server = h.server().await;
    let b = send(&h.handle, &["GET", "b"], 2);
    assert_eq!(server.command().await, ["SELECT", "2"]);
    assert_eq!(
        server.command_within_quiet().await,
        None,
        "GET waits for SELECT's reply"
    );
    server.send(b"+OK\r\n").await;
    assert_eq!(server.command().await, ["GET", "b"]);
    server.bulk("b2").await;
    assert_eq!(one(b).await, "b2");
}

#[tokio::test]
async fn a_database_past_the_servers_count_is_refused_before_sending() {
    let mut h = harness(Options {
        databases: Some(4),
        ..Options::default()
    });
    let mut server = h.server().await;
    let bad = send(&h.handle, &["GET", "k"], 9);
    let good = send(&h.handle, &["GET", "k"], 3);
    let err = answer(bad).await.expect_err("database 9 of 4");
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(!err.may_have_run());
    let msg = err.to_string();
    assert!(
        msg.contains("database 9") && msg.contains("4 databases"),
        "{msg}"
    );
    assert_eq!(
        server.command().await,
        ["SELECT", "3"],
        "nothing was sent for database 9"
    );
    assert_eq!(server.command().await, ["GET", "k"]);
    server.send(b"+OK\r\n$1\r\nv\r\n").await;
    assert_eq!(one(good).await, "v");
}

#[tokio::test]
async fn a_failed_pipelined_select_says_where_the_commands_behind_it_ran() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let behind = send(&h.handle, &["GET", "k"], 5);
    assert_eq!(server.command().await, ["SELECT", "5"]);
    assert_eq!(server.command().await, ["GET", "k"]);
    server
        .send(b"-NOPERM this user has no permissions to run the 'select' command\r\n$1\r\nv\r\n")
        .await;
    let err = answer(behind).await.expect_err("ran in the wrong database");
    let msg = err.to_string();
    assert!(err.may_have_run(), "{msg}");
    assert_eq!(err.server_code(), Some("NOPERM"), "{msg}");
    assert!(
        msg.contains("SELECT 5 failed") && msg.contains("ran in database 0"),
        "{msg}"
    );
    // From now on a switch waits for SELECT's reply.
    let next = send(&h.handle, &["GET", "k"], 6);
    assert_eq!(server.command().await, ["SELECT", "6"]);
    assert_eq!(server.command_within_quiet().await, None, "a barrier now");
    server.send(b"+OK\r\n").await;
    assert_eq!(server.command().await, ["GET", "k"]);
    server.bulk("six").await;
    assert_eq!(one(next).await, "six");
}

/// Two pipelined SELECTs fail (a cluster node reports 16 databases but
/// refuses SELECT): the commands behind both ran in database 0, and the
/// connection knows it is still there, so the next command for database 1
/// gets its own SELECT instead of being sent as if the switch had happened.
#[tokio::test]
async fn after_two_failed_selects_the_connection_knows_where_it_is() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let to_one = send(&h.handle, &["GET", "k"], 1);
    assert_eq!(server.command().await, ["SELECT", "1"]);
    assert_eq!(server.command().await, ["GET", "k"]);
    let to_two = send(&h.handle, &["GET", "k"], 2);
    assert_eq!(server.command().await, ["SELECT", "2"]);
    assert_eq!(server.command().await, ["GET", "k"]);
    server
        .send(b"-ERR SELECT is not allowed in cluster mode\r\n$1\r\na\r\n-ERR SELECT is not allowed in cluster mode\r\n$1\r\nb\r\n")
        .await;
    for (caller, db) in [(to_one, 1), (to_two, 2)] {
        let msg = answer(caller)
            .await
            .expect_err("wrong database")
            .to_string();
        assert!(
            msg.contains(&format!("SELECT {db} failed")) && msg.contains("ran in database 0"),
            "{msg}"
        );
    }
    let again = send(&h.handle, &["GET", "k"], 1);
    assert_eq!(
        server.command().await,
        ["SELECT", "1"],
        "still in database 0: switch again"
    );
    server.send(b"+OK\r\n").await;
    assert_eq!(server.command().await, ["GET", "k"]);
    server.bulk("one").await;
    assert_eq!(one(again).await, "one");
}

/// A timeout too large to add to the clock is capped, not a panic of the
/// driver (which would close the connection for every caller).
#[tokio::test]
async fn a_huge_timeout_is_capped_not_a_crash() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let patient = send_request(&h.handle, |r| {
        Request::single(encode(&["GET", "k"]), 0, Some(r), Duration::MAX)
    });
    assert_eq!(server.command().await, ["GET", "k"]);
    server.bulk("v").await;
    assert_eq!(one(patient).await, "v");
    let next = send(&h.handle, &["GET", "k"], 0);
    assert_eq!(server.command().await, ["GET", "k"]);
    server.bulk("w").await;
    assert_eq!(one(next).await, "w", "the driver still runs");
}

#[tokio::test]
async fn a_redirect_hands_the_request_back_to_the_layer_above() {
    // The layer above: whatever comes back is sent to a second connection.
    let mut second = harness(Options::default());
    let second_handle = Arc::new(second.handle);
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let sink: HandBack = {
        let (second_handle, reasons) = (second_handle.clone(), reasons.clone());
        Arc::new(move |r: Returned| {
            reasons.lock().unwrap().push(r.reason.clone());
            let _ = second_handle.send(r.request);
        })
    };
    let mut first = harness(Options {
        hand_back: Some(sink),
        ..Options::default()
    });
    let mut server_a = first.server().await;
    let mut server_b = second.servers.recv().await.expect("second server");

    let followed = send_request(&first.handle, |r| {
        Request::single(encode(&["GET", "k"]), 0, Some(r), PATIENCE).handing_back_redirects()
    });
    let delivered = send(&first.handle, &["GET", "k"], 0);
    assert_eq!(server_a.command().await, ["GET", "k"]);
    assert_eq!(server_a.command().await, ["GET", "k"]);
    server_a
        .send(b"-MOVED 12539 127.0.0.1:7001\r\n-MOVED 12539 127.0.0.1:7001\r\n")
        .await;
    assert_eq!(
        server_b.command().await,
        ["GET", "k"],
        "re-sent by the layer above"
    );
    server_b.bulk("from-b").await;
    assert_eq!(one(followed).await, "from-b");
    assert_eq!(
        one(delivered).await,
        "MOVED 12539 127.0.0.1:7001",
        "not flagged: delivered"
    );
    assert!(matches!(
        reasons.lock().unwrap().as_slice(),
        [ReturnReason::Redirect(r)] if r.slot == 12539 && r.address == "127.0.0.1:7001" && !r.ask
    ));
    assert_eq!(first.handle.stats().lost_may_have_run, 0);
}

#[tokio::test]
async fn unsent_requests_are_handed_back_when_the_connection_closes() {
    let returned = Arc::new(Mutex::new(Vec::new()));
    let sink: HandBack = {
        let returned = returned.clone();
        Arc::new(move |r: Returned| {
            let name = r.request.name();
            returned.lock().unwrap().push((name, r.reason));
        })
    };
    let h = harness(Options {
        unreachable: true,
        hand_back: Some(sink),
        ..Options::default()
    });
    let pending: Vec<Pending> = ["GET", "SET", "INCR"]
        .iter()
        .map(|name| send(&h.handle, &[name, "k"], 0))
        .collect();
    h.handle.close(Duration::from_millis(50)).await;
    let got = returned.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            ("GET".to_owned(), ReturnReason::Unsent),
            ("SET".to_owned(), ReturnReason::Unsent),
            ("INCR".to_owned(), ReturnReason::Unsent)
        ]
    );
    drop(pending);
}

#[tokio::test]
async fn a_reply_before_its_command_was_written_poisons_the_connection() {
    let mut h = harness(Options {
        capacity: 16, // the SET below cannot be written at once
        ..Options::default()
    });
    let mut first = h.server().await;
    let value = "x".repeat(1000);
    let set = send(&h.handle, &["SET", "k", &value], 0);
    // Answer before the SET has been read (so before it was written).
    first.send(b"+OK\r\n").await;
    let event = tokio::time::timeout(PATIENCE, async {
        loop {
            match h.events.recv().await {
                Some(ConnectionEvent::ProtocolError { message, .. }) => break message,
                Some(_) => continue,
                None => panic!("events ended"),
            }
        }
    })
    .await
    .expect("a protocol error event");
    assert!(
        event.contains("before SET was completely written"),
        "{event}"
    );
    // The SET never completely reached the first server: it is re-sent, once.
    let mut second = h.server().await;
    let cmd = second.command().await;
    assert_eq!((cmd[0].as_str(), cmd[2].len()), ("SET", 1000));
    second.send(b"+OK\r\n").await;
    assert_eq!(one(set).await, "OK");
    assert_eq!(h.handle.stats().lost_may_have_run, 0);
}

#[tokio::test]
async fn on_loss_written_requests_fail_and_unwritten_ones_are_requeued() {
    let mut h = harness(Options {
        capacity: 4096,
        ..Options::default()
    });
    let mut first = h.server().await;
    let written = send(&h.handle, &["INCR", "n"], 0);
    assert_eq!(first.command().await, ["INCR", "n"]);
    // 100 KB cannot pass a 4 KB pipe nobody reads: it stays part-written.
    let big = "y".repeat(100_000);
    let unwritten = send(&h.handle, &["SET", "big", &big], 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(first); // the server hangs up
    let err = answer(written)
        .await
        .expect_err("lost after it was written");
    assert_eq!(err.kind(), ErrorKind::ConnectionLost);
    assert!(err.may_have_run(), "{err}");
    let mut second = h.server().await;
    let cmd = second.command().await;
    assert_eq!(
        (cmd[0].as_str(), cmd[2].len()),
        ("SET", 100_000),
        "re-sent whole"
    );
    second.send(b"+OK\r\n").await;
    assert_eq!(one(unwritten).await, "OK");
    let stats = h.handle.stats();
    assert_eq!((stats.lost_may_have_run, stats.disconnects), (1, 1));
}

#[tokio::test]
async fn past_the_bytes_in_flight_bound_commands_wait_for_replies() {
    // Each SET below is 34 bytes on the wire; a bound of 70 lets three in
    // (34, 68, then 102 >= 70 stops), the rest wait in the backlog until
    // replies bring the bytes in flight back under it.
    let mut h = harness(Options {
        max_bytes_in_flight: 70,
        ..Options::default()
    });
    let mut server = h.server().await;
    let calls: Vec<_> = (0..6)
        .map(|i| send(&h.handle, &["SET", &format!("k{i}"), "0123456"], 0))
        .collect();
    assert_eq!(encode(&["SET", "k0", "0123456"]).len(), 34);
    for i in 0..3 {
        assert_eq!(server.command().await[1], format!("k{i}"));
    }
    assert_eq!(
        server.command_within_quiet().await,
        None,
        "a fourth command was written past the bound"
    );
    let stats = h.handle.stats();
    assert_eq!((stats.in_flight, stats.queued), (3, 3), "{stats:?}");
    server.send(b"+R0\r\n").await;
    assert_eq!(
        server.command().await[1],
        "k3",
        "a reply lets the next one in"
    );
    server.send(b"+R1\r\n+R2\r\n+R3\r\n").await;
    for i in 4..6 {
        assert_eq!(server.command().await[1], format!("k{i}"));
    }
    server.send(b"+R4\r\n+R5\r\n").await;
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(one(call).await, format!("R{i}"));
    }
}

#[tokio::test]
async fn one_command_larger_than_the_bytes_in_flight_bound_still_goes() {
    let mut h = harness(Options {
        max_bytes_in_flight: 10,
        ..Options::default()
    });
    let mut server = h.server().await;
    let big = "x".repeat(100);
    let first = send(&h.handle, &["SET", "a", &big], 0);
    let second = send(&h.handle, &["SET", "b", &big], 0);
    assert_eq!(server.command().await[1], "a");
    assert_eq!(server.command_within_quiet().await, None);
    server.send(b"+A\r\n").await;
    assert_eq!(server.command().await[1], "b");
    server.send(b"+B\r\n").await;
    assert_eq!(
        (one(first).await, one(second).await),
        ("A".into(), "B".into())
    );
}

#[tokio::test]
async fn large_commands_written_from_their_own_buffers_keep_wire_order() {
    // Commands of 16 KB and more skip the write buffer (a vectored write);
    // mixed with small ones, through a pipe that takes them part by part,
    // every byte still goes out in call order and every reply to its caller.
    let mut h = harness(Options {
        capacity: 4096,
        ..Options::default()
    });
    let mut server = h.server().await;
    let sizes = [10, 40_000, 3, 70_000, 5, 20_000, 1, 16_384, 16_383];
    let calls: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let value = char::from(b'a' + i as u8).to_string().repeat(n);
            send(&h.handle, &["SET", &format!("k{i}"), &value], 0)
        })
        .collect();
    for (i, &n) in sizes.iter().enumerate() {
        let cmd = server.command().await;
        assert_eq!(
            (cmd[1].as_str(), cmd[2].len()),
            (format!("k{i}").as_str(), n)
        );
        assert!(cmd[2].bytes().all(|b| b == b'a' + i as u8), "k{i} intact");
    }
    for i in 0..sizes.len() {
        server.send(format!("+R{i}\r\n").as_bytes()).await;
    }
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(one(call).await, format!("R{i}"));
    }
    let stats = h.handle.stats();
    assert_eq!((stats.queued, stats.in_flight), (0, 0));
    assert!(stats.flushes > 1, "written in parts: {stats:?}");
}

#[tokio::test]
async fn not_executed_replies_retry_a_group_only_when_none_of_it_ran() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let (bytes, count) = group(&[&["INCR", "a"], &["INCR", "b"]]);
    let g = send_request(&h.handle, |r| {
        Request::group(bytes, count, 0, Some(r), PATIENCE)
    });
    assert_eq!(server.command().await, ["INCR", "a"]);
    assert_eq!(server.command().await, ["INCR", "b"]);
    server
        .send(b"-LOADING loading\r\n-LOADING loading\r\n")
        .await;
    assert_eq!(
        server.command().await,
        ["INCR", "a"],
        "retried after the pause"
    );
    assert_eq!(server.command().await, ["INCR", "b"]);
    // Only one of them not executed: the other ran, so no retry.
    server.send(b":1\r\n-LOADING loading\r\n").await;
    let replies = many(g).await;
    assert_eq!(replies, ["1", "LOADING loading"]);
    assert_eq!(h.handle.stats().retried_not_executed, 1);
}

#[tokio::test]
async fn a_continuation_may_answer_without_writing_more_and_the_gate_opens() {
    let mut h = harness(Options::default());
    let mut server = h.server().await;
    let then: super::request::Continuation = Box::new(|mut replies: Vec<Value>| {
        replies.push(Value::SimpleString("checked".into()));
        Step::Answer(replies)
    });
    let checked = send_request(&h.handle, |r| {
        Request::single(encode(&["GET", "k"]), 0, Some(r), PATIENCE).gated(Gate::Then(then))
    });
    let later = send(&h.handle, &["ECHO", "later"], 0);
    assert_eq!(server.command().await, ["GET", "k"]);
    assert_eq!(server.command_within_quiet().await, None);
    server.bulk("v").await;
    assert_eq!(server.command().await, ["ECHO", "later"]);
    server.bulk("later").await;
    assert_eq!(many(checked).await, ["v", "checked"]);
    assert_eq!(one(later).await, "later");
}
