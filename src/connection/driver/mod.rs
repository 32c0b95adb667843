//! The driver: the one task that owns a connection's socket and its FIFO of
//! awaited replies.
//!
//! Callers never touch the socket. They send a [`Request`] (encoded bytes, a
//! reply slot, a timeout) over an unbounded channel; the driver does all the
//! rest in one `poll` loop:
//!
//! ```text
//!   channel ──drain──▶ backlog ──fill──▶ write buffer ──write──▶ socket
//!                         │                  │ (entry moves to FIFO)
//!   reply slot ◀──────── FIFO front ◀── decoder ◀──read── socket
//! ```
//!
//! * **Flush rule** (the Codis task runner's): drain everything the channel
//!   holds into the write buffer, and write when the channel is empty or the
//!   buffer passes [`FLUSH_BOUND`]; refined by *linger* and *hold* (see
//!   [`MAX_LINGER`] and `should_write`) so commands of many callers share a write.
//! * **Reads and writes advance together**: each turn of the loop tries a
//!   write *and* a read, and a full socket send buffer never stops reading,
//!   so large values in both directions cannot deadlock.
//! * **Order**: TCP keeps order, so the FIFO's front always owns the next
//!   reply. An entry stays in the FIFO until its reply arrives, even if its
//!   caller timed out or dropped the future; the reply is then read and
//!   dropped, and nobody else's reply shifts.
//! * **Deadlines** ([`deadlines`]) live here, not in the callers: one timer
//!   set to the earliest deadline; an expired entry gets a timeout error that
//!   carries the connection's state at that moment.
//! * **Heartbeat** ([`heartbeat`]): keep-alive PINGs, stall detection, and
//!   the end of a hold after a "not executed" reply.
//! * **Losing the connection** poisons it: nothing more is matched on it.
//!   Entries fully written fail with "connection lost, may have run"; entries
//!   not yet written go back to the backlog and are sent after the
//!   reconnect's handshake (at-most-once).
//!
//! Link states:
//!
//! | state        | leaves when                              | to                  |
//! |--------------|------------------------------------------|---------------------|
//! | `Up`         | write/read error, EOF, protocol error, stall | `Waiting` (or finish if closing) |
//! | `Connecting` | handshake done / failed                  | `Up` / `Waiting`    |
//! | `Waiting`    | back-off delay elapsed                   | `Connecting`        |

mod deadlines;
mod heartbeat;
mod timer;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, Sleep};

use super::handshake::{self, Established};
use super::shared::{Counters, Shared};
use super::transport::Stream;
use crate::cmd::{Cmd, CommandFlags};
use crate::config::{BacklogPolicy, Config};
use crate::error::{Error, Result};
use crate::events::ConnectionEvent;
use crate::resp::{Decoder, Value};

/// Write when the buffer holds this many bytes even if more commands wait:
/// big enough to carry ~1,000 small commands per write, small enough that
/// the first bytes reach the server while the rest are still being copied.
pub(crate) const FLUSH_BOUND: usize = 64 * 1024;

/// Most messages taken from the channel per turn of the loop before writing,
/// so a flood of fire-and-forget commands cannot delay the first write.
const DRAIN_BATCH: usize = 4096;

/// Read-buffer growth step: one `read` can take a whole burst of small
/// replies, and a large bulk string grows the buffer in these steps or by
/// the decoder's hint, whichever is larger.
const READ_CHUNK: usize = 64 * 1024;

/// Largest read-buffer reservation made from a length the server announced;
/// past this the buffer grows as data actually arrives.
const MAX_HINT_RESERVE: usize = 4 * 1024 * 1024;

/// Most turns the driver yields, after delivering N replies, waiting for
/// the N woken callers to queue their next commands before it writes.
/// Woken callers run on both workers of a multi-thread runtime, and a
/// caller's send can wake the driver before the others have run; without
/// this the driver writes whatever the first few queued and the batches
/// split. Each turn is a deferred yield (see `yield_to_callers`), and the
/// wait ends as soon as N commands are waiting, so light load pays nothing.
const MAX_LINGER: u8 = 3;

/// While commands are in flight, a small batch waits for the next reply
/// unless it is at least 1/`HOLD_RATIO` of what is in flight (see
/// `should_write`). 4 keeps two to four concurrent callers writing at once
/// (their batch is a large share) while hundreds coalesce.
const HOLD_RATIO: usize = 4;

/// How long writing pauses after the server answered "not executed"
/// (LOADING, BUSY, ...): long enough not to hammer a loading server, short
/// next to the default 5 s command timeout.
const NOT_EXECUTED_PAUSE: Duration = Duration::from_millis(100);

/// Error codes meaning the server did not run the command, so sending it
/// again cannot run it twice: loading the dataset, busy with a script, the
/// replica's primary is down, or a cluster slot is migrating.
const NOT_EXECUTED: [&[u8]; 4] = [b"LOADING ", b"BUSY ", b"MASTERDOWN ", b"TRYAGAIN "];

/// Slot through which a caller receives its reply.
pub(crate) type ReplySender = oneshot::Sender<Result<Value>>;

/// One command on its way to the driver.
pub(crate) struct Request {
    /// The encoded command. Kept as the `BytesMut` it was built in:
    /// freezing it into `Bytes` would allocate a shared header per command.
    pub(crate) bytes: BytesMut,
    /// The database it must run in.
    pub(crate) db: u32,
    /// Where the reply goes; `None` for fire-and-forget.
    pub(crate) reply: Option<ReplySender>,
    /// How long the caller waits; for fire-and-forget, how long the driver
    /// keeps trying to send it before dropping it.
    pub(crate) timeout: Duration,
    /// Options from the caller. Replica routing, above the connection, will
    /// read them; the driver does not.
    #[allow(dead_code)]
    pub(crate) flags: CommandFlags,
    /// Byte range of the first key within `bytes`, for cluster slot routing
    /// above the connection; the driver does not read it.
    #[allow(dead_code)]
    pub(crate) first_key: Option<(u32, u32)>,
}

/// What callers send to the driver.
pub(crate) enum Message {
    Request(Request),
    /// Stop accepting, finish in-flight work within `grace`, then end.
    Close {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
}

/// Why an entry is in the FIFO.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A caller's awaited command.
    Awaited,
    /// A caller's fire-and-forget command.
    FireAndForget,
    /// A SELECT the driver inserted to switch to the entry's `db`.
    Select,
    /// A keep-alive PING.
    Ping,
}

/// A command the driver has accepted: in the backlog, then in the FIFO.
struct Entry {
    bytes: BytesMut,
    reply: Option<ReplySender>,
    /// When the caller stops waiting (for fire-and-forget: when the driver
    /// stops trying to send it). `None` once it expired: nobody wants it any
    /// more, so it is never sent again.
    deadline: Option<Instant>,
    /// The caller's timeout in milliseconds, for the timeout message (4
    /// bytes rather than a 16-byte `Duration`: entries are per request).
    timeout_ms: u32,
    db: u32,
    /// Offset in this connection's output stream just past the command's last byte.
    end: u64,
    kind: Kind,
}

impl Entry {
    fn internal(bytes: BytesMut, db: u32, kind: Kind) -> Entry {
        Entry {
            bytes,
            reply: None,
            deadline: None,
            timeout_ms: 0,
            db,
            end: 0,
            kind,
        }
    }

    fn name(&self) -> String {
        command_name(&self.bytes)
    }

    fn is_callers(&self) -> bool {
        matches!(self.kind, Kind::Awaited | Kind::FireAndForget)
    }

    /// Whether sending it (again) still serves someone: its deadline has not passed.
    fn still_wanted(&self) -> bool {
        self.deadline.is_some()
    }

    /// Answers the caller (if still waiting) and drops the entry.
    fn fail(self, err: Error) {
        if let Some(slot) = self.reply {
            let _ = slot.send(Err(err));
        }
    }
}

enum Link {
    Up(Stream),
    Connecting(Pin<Box<dyn Future<Output = Result<Established>> + Send>>),
    Waiting(Pin<Box<Sleep>>),
}

/// Counts kept by the driver between publications (see `publish_gauges`).
#[derive(Default)]
struct Tally {
    commands_written: u64,
    fire_and_forget_acknowledged: u64,
}

struct Closing {
    deadline: Instant,
    waiters: Vec<oneshot::Sender<()>>,
}

/// The task that owns one connection.
pub(crate) struct Driver {
    rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
    config: Arc<Config>,
    link: Link,
    /// Accepted, not yet in the write buffer.
    backlog: VecDeque<Entry>,
    /// In the write buffer or written, awaiting replies, in wire order.
    fifo: VecDeque<Entry>,
    wbuf: BytesMut,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Bytes appended to / accepted by the socket on this connection.
    appended: u64,
    written: u64,
    /// How many entries at the FIFO's back are not yet completely written.
    /// Kept as a count (updated on push and write) because it is read
    /// several times per turn.
    unwritten: usize,
    current_db: u32,
    /// A SELECT is awaiting its reply; nothing else is written until it arrives,
    /// so no command can run in the wrong database if it fails.
    select_pending: bool,
    /// Writing pauses until then after a "not executed" reply.
    paused_until: Option<Instant>,
    /// How many entries at the backlog's front are such retries, kept in order.
    retries_at_front: usize,
    deadlines: deadlines::Deadlines,
    heartbeat: heartbeat::Heartbeat,
    last_read: Option<Instant>,
    last_write: Option<Instant>,
    /// Connect attempts in the current outage.
    attempts: u32,
    /// When the current outage began; `None` while connected.
    outage_since: Option<Instant>,
    ever_connected: bool,
    /// Replies delivered by the last read: about how many commands the woken callers will queue.
    expected: u64,
    /// Turns yielded while waiting for them.
    lingers: u8,
    /// Replies arrived since the last write: the server has moved on, write now.
    replied_since_write: bool,
    /// The read buffer holds bytes the handshake read past its last reply,
    /// not yet decoded: the next `poll_io` decodes them before any write.
    undecoded: bool,
    /// Bytes were written since the transport was last flushed.
    unflushed: bool,
    /// Per-command counts not yet added to the shared counters.
    tally: Tally,
    closing: Option<Closing>,
    channel_closed: bool,
    last_error: String,
}

impl Driver {
    /// A driver for an established connection, or one that starts by connecting.
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<Message>,
        shared: Arc<Shared>,
        config: Arc<Config>,
        established: Option<Established>,
    ) -> Driver {
        let mut driver = Driver {
            rx,
            link: Link::Waiting(Box::pin(tokio::time::sleep(Duration::ZERO))),
            backlog: VecDeque::new(),
            fifo: VecDeque::new(),
            wbuf: BytesMut::with_capacity(FLUSH_BOUND),
            rbuf: BytesMut::new(),
            decoder: Decoder::new(config.resp_limits),
            appended: 0,
            written: 0,
            unwritten: 0,
            current_db: config.default_database,
            select_pending: false,
            paused_until: None,
            retries_at_front: 0,
            deadlines: deadlines::Deadlines::new(),
            heartbeat: heartbeat::Heartbeat::new(config.heartbeat_interval),
            last_read: None,
            last_write: None,
            attempts: 0,
            outage_since: None,
            ever_connected: false,
            expected: 0,
            lingers: 0,
            replied_since_write: false,
            undecoded: false,
            unflushed: false,
            tally: Tally::default(),
            closing: None,
            channel_closed: false,
            last_error: String::new(),
            shared,
            config,
        };
        match established {
            Some(est) => driver.on_connected(est),
            None => driver.start_connecting(),
        }
        driver
    }

    fn endpoint(&self) -> String {
        self.shared.endpoint.to_string()
    }

    fn is_up(&self) -> bool {
        matches!(self.link, Link::Up(_))
    }

    // ----- accepting requests -------------------------------------------

    /// Moves waiting messages from the channel into the backlog. Returns true if any arrived.
    fn drain_channel(&mut self, cx: &mut Context<'_>) -> bool {
        let mut now = None;
        let mut taken = 0;
        while taken < DRAIN_BATCH && !self.channel_closed {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Message::Request(req))) => {
                    let now = *now.get_or_insert_with(Instant::now);
                    self.accept(req, now);
                }
                Poll::Ready(Some(Message::Close { grace, done })) => {
                    self.begin_close(grace, Some(done))
                }
                Poll::Ready(None) => {
                    self.channel_closed = true;
                    self.begin_close(self.config.command_timeout(), None);
                }
                Poll::Pending => break,
            }
            taken += 1;
        }
        taken > 0
    }

    fn accept(&mut self, req: Request, now: Instant) {
        let kind = if req.reply.is_some() {
            Kind::Awaited
        } else {
            Kind::FireAndForget
        };
        let entry = Entry {
            deadline: Some(now + req.timeout),
            bytes: req.bytes,
            reply: req.reply,
            timeout_ms: u32::try_from(req.timeout.as_millis()).unwrap_or(u32::MAX),
            db: req.db,
            end: 0,
            kind,
        };
        if !self.is_up() {
            if self.config.backlog_policy == BacklogPolicy::FailFast {
                return self.drop_unsent(
                    entry,
                    "there is no connection and backlogPolicy is failFast",
                );
            }
            if self.backlog.len() >= self.config.backlog_limit {
                let err =
                    Error::backlog_full(&entry.name(), &self.endpoint(), self.config.backlog_limit);
                self.count_dropped(&entry);
                return entry.fail(err);
            }
        }
        if let Some(deadline) = entry.deadline {
            self.deadlines.watch(deadline);
        }
        if self.backlog.is_empty() && self.can_write(entry.db) {
            // The common case: straight into the write buffer, no queue hop.
            self.push_to_wire(entry);
            self.tally.commands_written += 1;
        } else {
            self.backlog.push_back(entry);
        }
    }

    /// Whether a command for database `db` may go into the write buffer now.
    fn can_write(&self, db: u32) -> bool {
        self.is_up()
            && !self.select_pending
            && self.paused_until.is_none()
            && db == self.current_db
            && self.wbuf.len() < FLUSH_BOUND
    }

    /// Fails an entry that was never sent.
    fn drop_unsent(&mut self, entry: Entry, why: &str) {
        self.count_dropped(&entry);
        let reason = if self.last_error.is_empty() {
            why.to_owned()
        } else {
            format!("{why} (last error: {})", self.last_error)
        };
        let err = Error::connection_lost(&entry.name(), &self.endpoint(), &reason, false);
        entry.fail(err);
    }

    fn count_dropped(&self, entry: &Entry) {
        if entry.kind == Kind::FireAndForget {
            Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
        }
    }

    /// Whether to yield once more before writing, so the callers woken by
    /// the last replies can queue their commands into the same write.
    ///
    /// It reads the channel's length (one atomic load) instead of draining
    /// it: draining would register the driver's waker on the channel, and
    /// the first caller's send would then wake the driver straight back into
    /// the worker's LIFO slot, ahead of the other callers it is waiting for.
    fn should_linger(&mut self) -> bool {
        if self.expected == 0 || self.closing.is_some() || !self.is_up() {
            return false;
        }
        if (self.rx.len() as u64) < self.expected
            && self.lingers < MAX_LINGER
            && self.wbuf.len() < FLUSH_BOUND
        {
            self.lingers += 1;
            return true;
        }
        self.expected = 0;
        false
    }

    /// Moves commands from the backlog into the write buffer while the link
    /// is up, no SELECT is pending, writing is not paused, and the buffer is
    /// under its bound.
    fn fill_write_buffer(&mut self) {
        if !self.is_up() || self.paused_until.is_some() {
            return;
        }
        let mut moved = 0u64;
        while !self.select_pending && self.wbuf.len() < FLUSH_BOUND {
            let Some(front) = self.backlog.front() else {
                break;
            };
            if front.db != self.current_db {
                let db = front.db;
                self.push_to_wire(Entry::internal(
                    Cmd::new("SELECT").arg(db).into_encoded().0,
                    db,
                    Kind::Select,
                ));
                self.select_pending = true;
                break;
            }
            if let Some(entry) = self.backlog.pop_front() {
                self.retries_at_front = self.retries_at_front.saturating_sub(1);
                self.push_to_wire(entry);
                moved += 1;
            }
        }
        self.tally.commands_written += moved;
    }

    fn push_to_wire(&mut self, mut entry: Entry) {
        self.wbuf.extend_from_slice(&entry.bytes);
        self.appended += entry.bytes.len() as u64;
        entry.end = self.appended;
        self.fifo.push_back(entry);
        self.unwritten += 1;
    }

    // ----- socket I/O -----------------------------------------------------

    /// Whether to write the buffer now or hold it for the next reply.
    ///
    /// A command written while others are in flight cannot be answered
    /// before them (one connection, replies in order), so there is no hurry:
    /// holding a small batch until the next reply arrives lets the commands
    /// of many callers, which trickle in one by one, leave in one write.
    /// Write at once when nothing is awaiting a reply (light load pays no
    /// latency), when replies arrived since the last write, when the buffer
    /// is big, or when the batch is a large share of what is in flight.
    fn should_write(&self) -> bool {
        if self.replied_since_write || self.wbuf.len() >= FLUSH_BOUND / 4 {
            return true;
        }
        let unwritten = self.unwritten_in_fifo();
        let awaiting = self.fifo.len() - unwritten;
        awaiting == 0 || unwritten * HOLD_RATIO >= awaiting
    }

    /// FIFO entries not yet completely written (they sit at its back).
    fn unwritten_in_fifo(&self) -> usize {
        self.unwritten
    }

    /// After a write: entries whose last byte went out are no longer unwritten.
    fn advance_written_entries(&mut self) {
        while self.unwritten > 0 {
            let index = self.fifo.len() - self.unwritten;
            match self.fifo.get(index) {
                Some(entry) if entry.end <= self.written => self.unwritten -= 1,
                _ => break,
            }
        }
    }

    /// One read and one write attempt: whether anything moved, and how many
    /// replies were delivered.
    ///
    /// The read comes first: bytes already received cannot be the reply to a
    /// command this turn is about to write. Decoding them before the write
    /// lets `deliver` see that the FIFO's front is still unwritten (or the
    /// FIFO empty) and reject them as a protocol error, instead of handing a
    /// reply nobody asked for to the command just sent. Whether to write is
    /// decided before the read, and "replied since the last write" is set
    /// after the write, so batching is as if the write had come first.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> io::Result<(bool, u64)> {
        if !self.is_up() {
            return Ok((false, 0));
        }
        let write_now = !self.wbuf.is_empty() && self.should_write();
        let read = self.poll_read(cx)?;
        let decode = read || std::mem::take(&mut self.undecoded);
        let delivered = if decode { self.decode_replies()? } else { 0 };
        if read {
            // Bytes arriving is progress even if no reply is complete yet (a
            // large value read slowly is not a stall).
            let awaiting = self.fifo.len() > self.unwritten_in_fifo();
            let now = self.last_read.unwrap_or_else(Instant::now);
            self.heartbeat.on_read(now, awaiting);
        }
        let wrote = write_now && self.poll_write(cx)?;
        if self.unflushed {
            self.poll_flush(cx)?;
        }
        if delivered > 0 {
            self.replied_since_write = true;
        }
        Ok((read || wrote, delivered))
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let Link::Up(stream) = &mut self.link else {
            return Ok(false);
        };
        match Pin::new(stream).poll_write(cx, &self.wbuf) {
            Poll::Ready(Ok(0)) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the socket accepted no bytes",
            )),
            Poll::Ready(Ok(n)) => {
                self.wbuf.advance(n);
                self.written += n as u64;
                self.advance_written_entries();
                let now = Instant::now();
                self.last_write = Some(now);
                self.heartbeat.on_write(now);
                Counters::add(&self.shared.stats.flushes, 1);
                Counters::add(&self.shared.stats.bytes_out, n as u64);
                self.replied_since_write = false;
                self.unflushed = true;
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(false),
        }
    }

    /// Pushes out what the transport buffered itself (TLS keeps records
    /// until flushed; a TCP socket has nothing to flush).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Link::Up(stream) = &mut self.link else {
            return Ok(());
        };
        match Pin::new(stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                Ok(())
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(()),
        }
    }

    /// Reads what the socket has (one successful read). True if bytes arrived.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let Link::Up(stream) = &mut self.link else {
            return Ok(false);
        };
        if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK / 4 {
            let hint = self
                .decoder
                .bytes_needed_hint(&self.rbuf)
                .min(MAX_HINT_RESERVE);
            self.rbuf.reserve(hint.max(READ_CHUNK));
        }
        match tokio_util::io::poll_read_buf(Pin::new(stream), cx, &mut self.rbuf) {
            Poll::Ready(Ok(0)) => {
                let mid_reply = self.decoder.is_mid_frame() || !self.rbuf.is_empty();
                let what = if mid_reply {
                    "the server closed the connection in the middle of a reply"
                } else {
                    "the server closed the connection"
                };
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, what))
            }
            Poll::Ready(Ok(n)) => {
                self.last_read = Some(Instant::now());
                Counters::add(&self.shared.stats.bytes_in, n as u64);
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(false),
        }
    }

    /// Hands every complete reply in the read buffer to the FIFO's front;
    /// returns how many were delivered.
    fn decode_replies(&mut self) -> io::Result<u64> {
        let mut delivered = 0u64;
        let result = loop {
            match self.decoder.decode(&mut self.rbuf) {
                Ok(Some(Value::Push(_))) => {} // out-of-band (RESP3); never a reply to a command
                Ok(Some(value)) => {
                    if let Err(reason) = self.deliver(value) {
                        break Err(io::Error::new(io::ErrorKind::InvalidData, reason));
                    }
                    delivered += 1;
                }
                Ok(None) => break Ok(delivered),
                Err(e) => {
                    break Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("protocol error: {e}"),
                    ))
                }
            }
        };
        Counters::add(&self.shared.stats.replies_received, delivered);
        result
    }

    fn deliver(&mut self, value: Value) -> std::result::Result<(), String> {
        let Some(front) = self.fifo.front() else {
            return Err(
                "protocol error: the server sent a reply no command was waiting for".to_owned(),
            );
        };
        // Checked before popping: the entry stays in the FIFO, so
        // `connection_lost` re-queues it (not completely written, so it
        // cannot have run) instead of dropping its reply slot.
        if front.end > self.written {
            return Err(format!(
                "protocol error: a reply arrived before {} was completely written",
                front.name()
            ));
        }
        let Some(entry) = self.fifo.pop_front() else {
            return Ok(());
        };
        match entry.kind {
            Kind::Awaited | Kind::FireAndForget => {
                let not_executed = matches!(&value, Value::Error(text)
                    if NOT_EXECUTED.iter().any(|code| text.starts_with(code)));
                if not_executed && entry.still_wanted() {
                    self.retry_not_executed(entry);
                    return Ok(());
                }
                if entry.kind == Kind::FireAndForget {
                    if not_executed {
                        Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
                    } else {
                        self.tally.fire_and_forget_acknowledged += 1;
                    }
                }
                if let Some(slot) = entry.reply {
                    let _ = slot.send(Ok(value)); // the caller may have gone; its reply is dropped
                }
            }
            Kind::Select => {
                let db = entry.db;
                self.select_pending = false;
                match &value {
                    Value::Error(text) => self.fail_backlog_for_db(db, text),
                    _ => self.current_db = db,
                }
            }
            Kind::Ping => {}
        }
        Ok(())
    }

    /// The server did not run the command: send it again after a short pause,
    /// ahead of everything queued after it.
    fn retry_not_executed(&mut self, mut entry: Entry) {
        Counters::add(&self.shared.stats.retried_not_executed, 1);
        entry.end = 0;
        let at = self.retries_at_front.min(self.backlog.len());
        self.backlog.insert(at, entry);
        self.retries_at_front += 1;
        let until = Instant::now() + NOT_EXECUTED_PAUSE;
        self.paused_until = Some(until);
        self.heartbeat.wake_at(until);
    }

    /// SELECT failed: the commands waiting for that database get its error.
    fn fail_backlog_for_db(&mut self, db: u32, text: &Bytes) {
        let reason = Bytes::from(format!(
            "{} (from SELECT {db}, sent to switch to database {db} for this command; the command was not sent)",
            String::from_utf8_lossy(text)
        ));
        let (failed, kept): (VecDeque<Entry>, VecDeque<Entry>) =
            self.backlog.drain(..).partition(|e| e.db == db);
        self.backlog = kept;
        self.retries_at_front = 0;
        for entry in failed {
            self.count_dropped(&entry);
            let err = Error::server_not_executed(&entry.name(), &reason);
            entry.fail(err);
        }
    }

    // ----- losing and regaining the connection -----------------------------

    /// Tears the connection down: nothing more is read or matched on it.
    fn connection_lost(&mut self, reason: String) {
        self.shared.set_connected(false);
        Counters::add(&self.shared.stats.disconnects, 1);
        let endpoint = self.endpoint();
        let mut unsent = Vec::new();
        let (mut lost, mut lost_ff) = (0, 0);
        self.unwritten = 0;
        for entry in std::mem::take(&mut self.fifo) {
            if !entry.is_callers() {
                continue;
            }
            if entry.end > self.written {
                // Never sent. Send it after the reconnect, unless its deadline
                // passed: its caller was already told it timed out.
                if entry.still_wanted() {
                    unsent.push(entry);
                } else {
                    self.count_dropped(&entry);
                }
                continue;
            }
            lost += 1;
            if entry.kind == Kind::FireAndForget {
                lost_ff += 1;
            }
            let err = Error::connection_lost(&entry.name(), &endpoint, &reason, true);
            entry.fail(err);
        }
        Counters::add(&self.shared.stats.lost_may_have_run, lost);
        Counters::add(&self.shared.stats.fire_and_forget_unknown, lost_ff);
        for entry in unsent.into_iter().rev() {
            self.backlog.push_front(entry);
        }
        self.retries_at_front = 0;
        self.paused_until = None;
        self.wbuf.clear();
        self.rbuf = BytesMut::new();
        self.decoder = Decoder::new(self.config.resp_limits);
        self.select_pending = false;
        self.heartbeat.on_disconnect();
        self.last_error = reason.clone();
        if self.outage_since.is_none() {
            self.outage_since = Some(Instant::now());
            self.shared.emit(ConnectionEvent::Failed {
                endpoint,
                reason: reason.clone(),
            });
        }
        if self.config.backlog_policy == BacklogPolicy::FailFast {
            let why = format!("the connection was lost ({reason}) and backlogPolicy is failFast");
            for entry in std::mem::take(&mut self.backlog) {
                self.drop_unsent(entry, &why);
            }
        }
        self.schedule_reconnect();
    }

    fn start_connecting(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
        self.shared.emit(ConnectionEvent::Connecting {
            endpoint: self.endpoint(),
            attempt: self.attempts,
        });
        let connect = handshake::connect(self.shared.endpoint.clone(), self.config.clone());
        self.link = Link::Connecting(Box::pin(connect));
    }

    fn schedule_reconnect(&mut self) {
        let delay = self
            .config
            .retry_policy
            .delay(self.attempts.saturating_sub(1), jitter());
        self.link = Link::Waiting(Box::pin(tokio::time::sleep(delay)));
    }

    fn on_connected(&mut self, est: Established) {
        self.link = Link::Up(est.stream);
        self.rbuf = est.leftover;
        // Anything here is a reply no command asked for (or a RESP3 push):
        // decode it before the first write so it cannot be taken as that
        // command's reply.
        self.undecoded = !self.rbuf.is_empty();
        self.unflushed = false;
        self.current_db = est.db;
        self.appended = 0;
        self.written = 0;
        self.unwritten = 0;
        self.attempts = 0;
        self.shared.set_connected(true);
        let endpoint = self.endpoint();
        match self.outage_since.take() {
            Some(since) => {
                Counters::add(&self.shared.stats.reconnects, 1);
                self.shared.emit(ConnectionEvent::Restored {
                    endpoint,
                    outage: since.elapsed(),
                });
            }
            None if !self.ever_connected => {
                self.shared.emit(ConnectionEvent::Connected { endpoint })
            }
            None => {}
        }
        self.ever_connected = true;
    }

    /// Drives `Connecting` and `Waiting`. True if the link changed.
    fn poll_link(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.link {
            Link::Up(_) => false,
            Link::Waiting(sleep) => {
                if sleep.as_mut().poll(cx).is_ready() && self.closing.is_none() {
                    self.start_connecting();
                    true
                } else {
                    false
                }
            }
            Link::Connecting(fut) => match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(est)) => {
                    self.on_connected(est);
                    true
                }
                Poll::Ready(Err(e)) => {
                    self.last_error = e.to_string();
                    if self.outage_since.is_none() {
                        self.outage_since = Some(Instant::now());
                        self.shared.emit(ConnectionEvent::Failed {
                            endpoint: self.endpoint(),
                            reason: self.last_error.clone(),
                        });
                    }
                    if self.config.backlog_policy == BacklogPolicy::FailFast {
                        let why = "no connection could be made and backlogPolicy is failFast";
                        for entry in std::mem::take(&mut self.backlog) {
                            self.drop_unsent(entry, why);
                        }
                    }
                    self.schedule_reconnect();
                    true
                }
                Poll::Pending => false,
            },
        }
    }

    // ----- closing -----------------------------------------------------------

    fn begin_close(&mut self, grace: Duration, waiter: Option<oneshot::Sender<()>>) {
        let closing = self.closing.get_or_insert_with(|| Closing {
            deadline: Instant::now() + grace,
            waiters: Vec::new(),
        });
        closing.waiters.extend(waiter);
        let deadline = closing.deadline;
        self.heartbeat.wake_at(deadline);
    }

    /// True when closing and either everything is answered or the grace period is over.
    fn should_finish(&self) -> bool {
        let Some(closing) = &self.closing else {
            return false;
        };
        let idle = self.backlog.is_empty()
            && self.fifo.iter().all(|e| !e.is_callers())
            && self.wbuf.is_empty();
        idle || !self.is_up() || Instant::now() >= closing.deadline
    }

    fn finish(&mut self) {
        self.rx.close();
        // Requests that raced with close() are still in the channel: they get an answer too.
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Message::Request(req) => {
                    if let Some(slot) = req.reply {
                        let _ = slot.send(Err(Error::closed(&command_name(&req.bytes))));
                    } else {
                        Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
                    }
                }
                Message::Close { done, .. } => {
                    if let Some(closing) = &mut self.closing {
                        closing.waiters.push(done);
                    }
                }
            }
        }
        let endpoint = self.endpoint();
        self.unwritten = 0;
        for entry in std::mem::take(&mut self.fifo) {
            let may_have_run = entry.end <= self.written;
            let why = "the multiplexer was closed before the reply arrived";
            let err = Error::connection_lost(&entry.name(), &endpoint, why, may_have_run);
            entry.fail(err);
        }
        for entry in std::mem::take(&mut self.backlog) {
            self.count_dropped(&entry);
            let err = Error::closed(&entry.name());
            entry.fail(err);
        }
        self.shared.set_connected(false);
        if let Some(closing) = self.closing.take() {
            for waiter in closing.waiters {
                let _ = waiter.send(());
            }
        }
    }

    /// Publishes the gauges and the per-command tallies, once per turn of
    /// the loop rather than one atomic add per command.
    fn publish_gauges(&mut self) {
        let tally = std::mem::take(&mut self.tally);
        Counters::add(&self.shared.stats.commands_written, tally.commands_written);
        Counters::add(
            &self.shared.stats.fire_and_forget_acknowledged,
            tally.fire_and_forget_acknowledged,
        );
        let unwritten = self.unwritten_in_fifo();
        self.shared
            .stats
            .set_gauges(self.fifo.len() - unwritten, self.backlog.len() + unwritten);
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.should_linger() {
                yield_to_callers(cx);
                return Poll::Pending;
            }
            let mut progress = this.drain_channel(cx);
            this.poll_deadlines(cx);
            progress |= this.poll_heartbeat(cx);
            progress |= this.poll_link(cx);
            this.fill_write_buffer();
            let mut delivered = 0;
            match this.poll_io(cx) {
                Ok((moved, replies)) => {
                    progress |= moved;
                    delivered = replies;
                }
                Err(e) => {
                    if e.kind() == io::ErrorKind::InvalidData {
                        this.shared.emit(ConnectionEvent::ProtocolError {
                            endpoint: this.endpoint(),
                            message: e.to_string(),
                        });
                    }
                    this.connection_lost(e.to_string());
                    progress = true;
                }
            }
            if this.should_finish() {
                this.finish();
                this.publish_gauges();
                return Poll::Ready(());
            }
            if !progress {
                this.publish_gauges();
                return Poll::Pending;
            }
            if delivered > 1 {
                // The callers just woken will each queue their next command
                // within microseconds. Yield so they can run first; the next
                // turns then drain them into one write (see MAX_LINGER).
                // With a single reply there is nothing to gather: the one
                // caller's send wakes the driver anyway, and a yield would
                // cost an extra I/O poll and often a wake-up of the other
                // worker per command.
                this.expected = delivered;
                this.lingers = 0;
                this.publish_gauges();
                yield_to_callers(cx);
                return Poll::Pending;
            }
        }
    }
}

/// Returns control to the runtime so the callers woken by the last replies
/// run first, and arranges to be polled again after them.
///
/// `cx.waker().wake_by_ref()` would not do: a task that wakes itself is put
/// in the worker's LIFO slot, ahead of the callers it just woke, so the
/// driver would run again before any of them could queue a command. Tokio's
/// `yield_now` hands the waker to the scheduler instead, which wakes it only
/// after running the worker's other ready tasks and polling for I/O.
fn yield_to_callers(cx: &mut Context<'_>) {
    let mut yielded = std::pin::pin!(tokio::task::yield_now());
    // The first poll registers the deferred wake-up and returns Pending;
    // dropping the future afterwards does not cancel it.
    let _ = yielded.as_mut().poll(cx);
}

/// The command name at the start of an encoded command (`*N\r\n$L\r\nNAME\r\n...`),
/// for error messages; `"?"` if the bytes are not a command.
pub(crate) fn command_name(bytes: &[u8]) -> String {
    let mut lines = bytes.split(|&b| b == b'\n');
    let _count = lines.next();
    let _len = lines.next();
    match lines.next() {
        Some(name) => {
            String::from_utf8_lossy(name.strip_suffix(b"\r").unwrap_or(name)).to_ascii_uppercase()
        }
        None => "?".to_owned(),
    }
}

/// A number in `[0, 1)` for back-off jitter, from the clock's nanoseconds:
/// clients that lost the same server at the same moment still differ here.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_name_reads_the_first_bulk() {
        assert_eq!(command_name(&Cmd::new("get").key("k").into_bytes()), "GET");
        assert_eq!(command_name(b""), "?");
    }

    #[test]
    fn jitter_is_a_fraction() {
        let j = jitter();
        assert!((0.0..1.0).contains(&j), "{j}");
    }
}
