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
//!   buffer passes [`FLUSH_BOUND`]. Under load one write carries many
//!   commands; with one caller a command is written as soon as it arrives.
//! * **Reads and writes advance together**: each turn of the loop tries a
//!   write *and* a read, and a full socket send buffer never stops reading,
//!   so large values in both directions cannot deadlock.
//! * **Order**: TCP keeps order, so the FIFO's front always owns the next
//!   reply. An entry stays in the FIFO until its reply arrives, even if its
//!   caller timed out or dropped the future; the reply is then read and
//!   dropped, and nobody else's reply shifts.
//! * **Deadlines** live here, not in the callers: one timer is set to the
//!   earliest deadline; when it fires, expired entries get a timeout error
//!   that carries the connection's state at that moment.
//! * **Losing the connection**: entries fully written fail with
//!   "connection lost, may have run"; entries not yet written go back to the
//!   backlog and are sent after the reconnect's handshake (at-most-once).
//!
//! Link states:
//!
//! | state        | leaves when                | to                       |
//! |--------------|----------------------------|--------------------------|
//! | `Up`         | write/read error, EOF, protocol error | `Waiting` (or finish if closing) |
//! | `Connecting` | handshake done / failed    | `Up` / `Waiting`         |
//! | `Waiting`    | back-off delay elapsed     | `Connecting`             |

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, Sleep};

use super::handshake::{self, Established};
use super::shared::Shared;
use crate::cmd::Cmd;
use crate::config::Config;
use crate::error::{ConnectionState, Error, Result};
use crate::resp::{Decoder, Limits, Value};

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

/// Most extra turns the driver yields, after delivering N replies, waiting
/// for the N woken callers to queue their next commands before it writes.
/// Woken callers run on both workers of a multi-thread runtime; without
/// this the driver writes whatever the first half queued and the batches
/// split. Each turn costs about a microsecond, and the wait ends as soon as
/// N commands have arrived, so light load pays nothing.
const MAX_LINGER: u8 = 3;

/// While commands are in flight, a small batch waits for the next reply
/// unless it is at least 1/`HOLD_RATIO` of what is in flight (see
/// `should_write`). 4 keeps two to four concurrent callers writing at once
/// (their batch is a large share) while hundreds coalesce.
const HOLD_RATIO: usize = 4;

/// Most commands held while no connection is up; past this, new commands
/// fail at once with kind `BacklogFull` rather than growing memory without
/// bound during a long outage.
const MAX_BACKLOG: usize = 100_000;

/// Slot through which a caller receives its reply.
pub(crate) type ReplySender = oneshot::Sender<Result<Value>>;

/// One command on its way to the driver.
pub(crate) struct Request {
    /// The encoded command.
    pub(crate) bytes: Bytes,
    /// The database it must run in.
    pub(crate) db: u32,
    /// Where the reply goes; `None` for fire-and-forget.
    pub(crate) reply: Option<ReplySender>,
    /// How long the caller waits (ignored for fire-and-forget).
    pub(crate) timeout: Duration,
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
    /// A caller's command (awaited or fire-and-forget).
    User,
    /// A SELECT the driver inserted to switch to this database.
    Select(u32),
}

/// A command the driver has accepted: in the backlog, then in the FIFO.
struct Entry {
    bytes: Bytes,
    reply: Option<ReplySender>,
    /// When the caller stops waiting; `None` once answered, timed out, or for fire-and-forget.
    deadline: Option<Instant>,
    timeout: Duration,
    db: u32,
    /// Offset in this connection's output stream just past the command's last byte.
    end: u64,
    kind: Kind,
}

impl Entry {
    fn name(&self) -> String {
        command_name(&self.bytes)
    }
}

enum Link {
    Up(TcpStream),
    Connecting(Pin<Box<dyn Future<Output = Result<Established>> + Send>>),
    Waiting(Pin<Box<Sleep>>),
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
    limits: Limits,
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
    current_db: u32,
    /// A SELECT is awaiting its reply; nothing else is written until it arrives,
    /// so no command can run in the wrong database if it fails.
    select_pending: bool,
    timer: Pin<Box<Sleep>>,
    next_deadline: Option<Instant>,
    last_read: Option<Instant>,
    last_write: Option<Instant>,
    attempts: u32,
    /// Replies delivered by the last read: about how many commands the woken callers will queue.
    expected: u64,
    /// Commands that arrived since then.
    arrived: u64,
    /// Turns yielded while waiting for them.
    lingers: u8,
    /// Replies arrived since the last write: the server has moved on, write now.
    replied_since_write: bool,
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
        limits: Limits,
        established: Option<Established>,
    ) -> Driver {
        let mut driver = Driver {
            rx,
            link: Link::Waiting(Box::pin(tokio::time::sleep(Duration::ZERO))),
            backlog: VecDeque::new(),
            fifo: VecDeque::new(),
            wbuf: BytesMut::with_capacity(FLUSH_BOUND),
            rbuf: BytesMut::new(),
            decoder: Decoder::new(limits),
            appended: 0,
            written: 0,
            current_db: config.default_database,
            select_pending: false,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            next_deadline: None,
            last_read: None,
            last_write: None,
            attempts: 0,
            expected: 0,
            arrived: 0,
            lingers: 0,
            replied_since_write: false,
            closing: None,
            channel_closed: false,
            last_error: String::new(),
            shared,
            config,
            limits,
        };
        match established {
            Some(est) => driver.on_connected(est),
            None => driver.link = Link::Connecting(driver.connect_future()),
        }
        driver
    }

    fn connect_future(&self) -> Pin<Box<dyn Future<Output = Result<Established>> + Send>> {
        Box::pin(handshake::connect(
            self.shared.endpoint.clone(),
            self.config.clone(),
            self.limits,
        ))
    }

    fn on_connected(&mut self, est: Established) {
        self.link = Link::Up(est.stream);
        self.rbuf = est.leftover;
        self.current_db = est.db;
        self.appended = 0;
        self.written = 0;
        self.attempts = 0;
        self.shared.set_connected(true);
    }

    // ----- accepting requests -------------------------------------------

    /// Moves waiting messages from the channel into the backlog. Returns true if any arrived.
    fn drain_channel(&mut self, cx: &mut Context<'_>) -> bool {
        let taken = self.drain_some(cx);
        self.arrived += taken as u64;
        taken > 0
    }

    fn drain_some(&mut self, cx: &mut Context<'_>) -> usize {
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
        taken
    }

    /// Whether to yield once more before writing, so the callers woken by
    /// the last replies can queue their commands into the same write.
    fn should_linger(&mut self) -> bool {
        if self.expected == 0 || self.closing.is_some() || !matches!(self.link, Link::Up(_)) {
            return false;
        }
        if self.arrived < self.expected
            && self.lingers < MAX_LINGER
            && self.wbuf.len() < FLUSH_BOUND
        {
            self.lingers += 1;
            return true;
        }
        self.expected = 0;
        false
    }

    fn accept(&mut self, req: Request, now: Instant) {
        if !matches!(self.link, Link::Up(_)) && self.backlog.len() >= MAX_BACKLOG {
            if let Some(slot) = req.reply {
                let endpoint = self.shared.endpoint.to_string();
                let _ = slot.send(Err(Error::backlog_full(
                    &command_name(&req.bytes),
                    &endpoint,
                    MAX_BACKLOG,
                )));
            }
            return;
        }
        let deadline = req.reply.as_ref().map(|_| now + req.timeout);
        if let Some(deadline) = deadline {
            if self.next_deadline.is_none_or(|next| deadline < next) {
                self.next_deadline = Some(deadline);
                self.timer.as_mut().reset(deadline);
            }
        }
        self.backlog.push_back(Entry {
            bytes: req.bytes,
            reply: req.reply,
            deadline,
            timeout: req.timeout,
            db: req.db,
            end: 0,
            kind: Kind::User,
        });
    }

    /// Moves commands from the backlog into the write buffer while the link
    /// is up, no SELECT is pending, and the buffer is under its bound.
    fn fill_write_buffer(&mut self) {
        if !matches!(self.link, Link::Up(_)) {
            return;
        }
        let mut moved = 0u64;
        while !self.select_pending && self.wbuf.len() < FLUSH_BOUND {
            let Some(front) = self.backlog.front() else {
                break;
            };
            if front.db != self.current_db {
                let db = front.db;
                let select = Cmd::new("SELECT").arg(db).into_bytes();
                self.push_to_wire(Entry {
                    bytes: select,
                    reply: None,
                    deadline: None,
                    timeout: Duration::ZERO,
                    db,
                    end: 0,
                    kind: Kind::Select(db),
                });
                self.select_pending = true;
                break;
            }
            if let Some(entry) = self.backlog.pop_front() {
                self.push_to_wire(entry);
                moved += 1;
            }
        }
        if moved > 0 {
            self.shared.stats.add_commands_written(moved);
        }
    }

    fn push_to_wire(&mut self, mut entry: Entry) {
        self.wbuf.extend_from_slice(&entry.bytes);
        self.appended += entry.bytes.len() as u64;
        entry.end = self.appended;
        self.fifo.push_back(entry);
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
        let unwritten = self
            .fifo
            .iter()
            .rev()
            .take_while(|e| e.end > self.written)
            .count();
        let awaiting = self.fifo.len() - unwritten;
        awaiting == 0 || unwritten * HOLD_RATIO >= awaiting
    }

    /// One write and one read attempt: whether anything moved, and how many
    /// replies were delivered.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> io::Result<(bool, u64)> {
        if !matches!(self.link, Link::Up(_)) {
            return Ok((false, 0));
        }
        let mut progress = false;

        if !self.wbuf.is_empty() && self.should_write() {
            let Link::Up(stream) = &mut self.link else {
                return Ok((false, 0));
            };
            match Pin::new(&mut *stream).poll_write(cx, &self.wbuf) {
                Poll::Ready(Ok(0)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "socket accepted no bytes",
                    ))
                }
                Poll::Ready(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.written += n as u64;
                    self.last_write = Some(Instant::now());
                    self.shared.stats.add_flush(n as u64);
                    self.replied_since_write = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => {}
            }
        }

        let Link::Up(stream) = &mut self.link else {
            return Ok((false, 0));
        };
        loop {
            if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK / 4 {
                let hint = self
                    .decoder
                    .bytes_needed_hint(&self.rbuf)
                    .min(MAX_HINT_RESERVE);
                self.rbuf.reserve(hint.max(READ_CHUNK));
            }
            match stream.try_read_buf(&mut self.rbuf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ))
                }
                Ok(n) => {
                    self.last_read = Some(Instant::now());
                    self.shared.stats.add_bytes_in(n as u64);
                    progress = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match stream.poll_read_ready(cx)
                {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Pending => break,
                },
                Err(e) => return Err(e),
            }
        }
        let delivered = if progress { self.decode_replies()? } else { 0 };
        Ok((progress, delivered))
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
        self.shared.stats.add_replies(delivered);
        if delivered > 0 {
            self.replied_since_write = true;
        }
        result
    }

    fn deliver(&mut self, value: Value) -> std::result::Result<(), String> {
        let Some(entry) = self.fifo.pop_front() else {
            return Err(
                "protocol error: the server sent a reply no command was waiting for".to_owned(),
            );
        };
        if entry.end > self.written {
            return Err(format!(
                "protocol error: reply arrived before {} was completely written",
                entry.name()
            ));
        }
        match entry.kind {
            Kind::User => {
                if let Some(slot) = entry.reply {
                    let _ = slot.send(Ok(value)); // the caller may have gone; its reply is dropped
                }
            }
            Kind::Select(db) => {
                self.select_pending = false;
                if let Value::Error(text) = &value {
                    self.fail_backlog_for_db(db, &text.clone());
                } else {
                    self.current_db = db;
                }
            }
        }
        Ok(())
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
        for entry in failed {
            if let Some(slot) = entry.reply {
                let _ = slot.send(Ok(Value::Error(reason.clone())));
            }
        }
    }

    // ----- losing and regaining the connection -----------------------------

    fn connection_lost(&mut self, reason: String) {
        self.shared.set_connected(false);
        self.shared.stats.add_disconnect();
        let endpoint = self.shared.endpoint.to_string();
        let written = self.written;
        let mut unsent = Vec::new();
        for entry in self.fifo.drain(..) {
            if entry.kind != Kind::User {
                continue;
            }
            if entry.end <= written {
                if let Some(slot) = entry.reply {
                    let name = command_name(&entry.bytes);
                    let _ = slot.send(Err(Error::connection_lost(&name, &endpoint, &reason, true)));
                }
            } else {
                unsent.push(entry);
            }
        }
        for entry in unsent.into_iter().rev() {
            self.backlog.push_front(entry);
        }
        self.wbuf.clear();
        self.rbuf = BytesMut::new();
        self.decoder = Decoder::new(self.limits);
        self.select_pending = false;
        self.last_error = reason;
        self.schedule_reconnect();
    }

    fn schedule_reconnect(&mut self) {
        let delay = backoff(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        self.link = Link::Waiting(Box::pin(tokio::time::sleep(delay)));
    }

    /// Drives `Connecting` and `Waiting`. True if the link changed.
    fn poll_link(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.link {
            Link::Up(_) => false,
            Link::Waiting(sleep) => {
                if sleep.as_mut().poll(cx).is_ready() && self.closing.is_none() {
                    self.link = Link::Connecting(self.connect_future());
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
                    self.schedule_reconnect();
                    true
                }
                Poll::Pending => false,
            },
        }
    }

    // ----- deadlines --------------------------------------------------------

    /// Fails the entries whose deadline passed, then re-arms the timer.
    fn poll_deadlines(&mut self, cx: &mut Context<'_>) {
        while self.next_deadline.is_some() && self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            let mut expired = Vec::new();
            let mut next: Option<Instant> = None;
            let mut i = 0;
            while i < self.backlog.len() {
                match self.backlog[i].deadline {
                    Some(d) if d <= now => {
                        if let Some(entry) = self.backlog.remove(i) {
                            expired.push((entry, false));
                        }
                    }
                    Some(d) => {
                        next = Some(next.map_or(d, |n| n.min(d)));
                        i += 1;
                    }
                    None => i += 1,
                }
            }
            let state = |d: &Driver| d.connection_state(now);
            let mut fifo_expired = Vec::new();
            for entry in self.fifo.iter_mut() {
                match entry.deadline {
                    Some(d) if d <= now => {
                        entry.deadline = None;
                        if let Some(slot) = entry.reply.take() {
                            fifo_expired.push((
                                slot,
                                command_name(&entry.bytes),
                                d,
                                entry.timeout,
                                entry.end <= self.written,
                            ));
                        }
                    }
                    Some(d) => next = Some(next.map_or(d, |n| n.min(d))),
                    None => {}
                }
            }
            if !expired.is_empty() || !fifo_expired.is_empty() {
                let snapshot = state(self);
                for (entry, written) in expired {
                    if let (Some(slot), Some(d)) = (entry.reply, entry.deadline) {
                        let elapsed = now.saturating_duration_since(d) + entry.timeout;
                        let _ = slot.send(Err(Error::timeout(
                            &command_name(&entry.bytes),
                            elapsed,
                            entry.timeout,
                            written,
                            snapshot.clone(),
                        )));
                    }
                }
                for (slot, name, d, timeout, written) in fifo_expired {
                    let elapsed = now.saturating_duration_since(d) + timeout;
                    let _ = slot.send(Err(Error::timeout(
                        &name,
                        elapsed,
                        timeout,
                        written,
                        snapshot.clone(),
                    )));
                }
            }
            self.next_deadline = next;
            if let Some(n) = next {
                self.timer.as_mut().reset(n);
            }
        }
    }

    /// The figures a timeout error reports.
    fn connection_state(&self, now: Instant) -> ConnectionState {
        let unwritten_in_fifo = self.fifo.iter().filter(|e| e.end > self.written).count();
        ConnectionState {
            endpoint: self.shared.endpoint.to_string(),
            client_name: self.config.client_name.clone(),
            connected: matches!(self.link, Link::Up(_)),
            queued: self.backlog.len() + unwritten_in_fifo,
            in_flight: self.fifo.len() - unwritten_in_fifo,
            write_buffer: self.wbuf.len(),
            read_buffer: self.rbuf.len(),
            since_last_read: self.last_read.map(|t| now.saturating_duration_since(t)),
            since_last_write: self.last_write.map(|t| now.saturating_duration_since(t)),
            bytes_out: self.shared.stats.bytes_out(),
            bytes_in: self.shared.stats.bytes_in(),
        }
    }

    // ----- closing -----------------------------------------------------------

    fn begin_close(&mut self, grace: Duration, waiter: Option<oneshot::Sender<()>>) {
        let closing = self.closing.get_or_insert_with(|| Closing {
            deadline: Instant::now() + grace,
            waiters: Vec::new(),
        });
        closing.waiters.extend(waiter);
    }

    /// True when closing and either everything is answered or the grace period is over.
    fn should_finish(&self) -> bool {
        let Some(closing) = &self.closing else {
            return false;
        };
        let idle = self.backlog.is_empty() && self.fifo.is_empty() && self.wbuf.is_empty();
        idle || !matches!(self.link, Link::Up(_)) || Instant::now() >= closing.deadline
    }

    fn finish(&mut self) {
        self.rx.close();
        // Requests that raced with close() are still in the channel: they get an answer too.
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Message::Request(req) => {
                    if let Some(slot) = req.reply {
                        let _ = slot.send(Err(Error::closed(&command_name(&req.bytes))));
                    }
                }
                Message::Close { done, .. } => {
                    if let Some(closing) = &mut self.closing {
                        closing.waiters.push(done);
                    }
                }
            }
        }
        let endpoint = self.shared.endpoint.to_string();
        for entry in self.fifo.drain(..) {
            if let Some(slot) = entry.reply {
                let name = command_name(&entry.bytes);
                let may_have_run = entry.end <= self.written;
                let _ = slot.send(Err(Error::connection_lost(
                    &name,
                    &endpoint,
                    "the multiplexer was closed before the reply arrived",
                    may_have_run,
                )));
            }
        }
        for entry in self.backlog.drain(..) {
            if let Some(slot) = entry.reply {
                let _ = slot.send(Err(Error::closed(&command_name(&entry.bytes))));
            }
        }
        self.shared.set_connected(false);
        if let Some(closing) = self.closing.take() {
            for waiter in closing.waiters {
                let _ = waiter.send(());
            }
        }
    }

    fn publish_gauges(&self) {
        let unwritten_in_fifo = self
            .fifo
            .iter()
            .rev()
            .take_while(|e| e.end > self.written)
            .count();
        self.shared.stats.set_gauges(
            self.fifo.len() - unwritten_in_fifo,
            self.backlog.len() + unwritten_in_fifo,
        );
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let mut progress = this.drain_channel(cx);
            this.poll_deadlines(cx);
            progress |= this.poll_link(cx);
            if this.should_linger() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.fill_write_buffer();
            let mut delivered = 0;
            match this.poll_io(cx) {
                Ok((moved, replies)) => {
                    progress |= moved;
                    delivered = replies;
                }
                Err(e) => {
                    this.connection_lost(e.to_string());
                    progress = true;
                }
            }
            if this.should_finish() {
                this.finish();
                this.publish_gauges();
                return Poll::Ready(());
            }
            if this.closing.is_some() {
                // Wake at the end of the grace period even if nothing else happens.
                if let Some(closing) = &this.closing {
                    if this.next_deadline.is_none_or(|d| closing.deadline < d) {
                        this.next_deadline = Some(closing.deadline);
                        this.timer.as_mut().reset(closing.deadline);
                        let _ = this.timer.as_mut().poll(cx);
                    }
                }
            }
            if !progress {
                this.publish_gauges();
                return Poll::Pending;
            }
            if delivered > 0 {
                // The callers just woken will each queue their next command
                // within microseconds. Yield so they can run first; the next
                // turns then drain them into one write (see MAX_LINGER).
                this.expected = delivered;
                this.arrived = 0;
                this.lingers = 0;
                this.publish_gauges();
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
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

/// Delay before reconnect attempt `attempt` (0-based): exponential from
/// 50 ms doubling to a 5 s ceiling, with ±25% jitter so many clients
/// restarting together do not reconnect in lock-step.
fn backoff(attempt: u32) -> Duration {
    let base_ms = 50u64.saturating_mul(1u64 << attempt.min(16)).min(5_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0) as u64;
    let jitter = base_ms / 2 * (nanos % 1000) / 1000; // 0 .. base/2
    Duration::from_millis(base_ms - base_ms / 4 + jitter)
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
    fn backoff_grows_and_is_capped() {
        let first = backoff(0);
        assert!(
            first >= Duration::from_millis(37) && first <= Duration::from_millis(63),
            "{first:?}"
        );
        let late = backoff(30);
        assert!(
            late >= Duration::from_millis(3750) && late <= Duration::from_millis(6250),
            "{late:?}"
        );
    }
}
