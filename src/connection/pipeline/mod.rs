//! The pipeline: one connection's backlog, FIFO, write and read buffers,
//! flush rule and delivery. It owns no socket and no timer: the driver lends
//! it the stream while the link is up and tells it what happened to the link.
//!
//! ```text
//!   accept ──▶ backlog ──fill──▶ write buffer ──poll_io: write──▶ stream
//!                                  │ (entry moves to the FIFO)
//!   reply slot ◀── complete ◀── FIFO front ◀── decoder ◀──poll_io: read── stream
//! ```
//!
//! * **Large commands** (16 KB and more) are not copied into the write
//!   buffer: a write is then vectored, runs of small commands from the
//!   write buffer and each large one from its own bytes, in wire order.
//! * **Requests** ([`Request`](super::request::Request)) become entries; a
//!   group's bytes go into the write buffer as one piece, and its entry
//!   gathers its N replies before the caller is answered once.
//! * **Order**: TCP keeps order, so the FIFO's front always owns the next
//!   reply. An entry stays in the FIFO until its replies arrive, even if its
//!   caller timed out or dropped the future; the replies are then read and
//!   dropped, and nobody else's reply shifts. A reply when the FIFO is empty,
//!   or before its command was completely written, is a protocol error.
//! * **Gate**: after a gated entry is written nothing else is, until its
//!   replies arrive (and its continuation, if any, has written what follows).
//! * **Databases**: an entry for another database than the connection's is
//!   preceded by `SELECT`, pipelined with it when the handshake learned how
//!   many databases the server has (a database past that count is refused
//!   before anything is sent), and gated (a barrier) when it did not.
//! * **Replies** that say the server did not run a request (LOADING, BUSY,
//!   MASTERDOWN, TRYAGAIN) send it again after a pause; `MOVED`/`ASK` hand a
//!   request flagged for it back to the layer above.
//! * **Loss** ([`Pipeline::on_lost`]): requests of which a command was
//!   completely written fail ("may have run"); the others go back to the
//!   backlog and are written on the next connection (at-most-once).

mod databases;
mod entry;
pub(super) mod flush;
mod write;

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::time::Instant;

use self::databases::SelectFailure;
pub(super) use self::entry::Now;
use self::entry::{flag, Entry, Kind};
use self::flush::{should_write, FLUSH_BOUND};
use super::handshake::Session;
use super::request::{command_end, Answer, Redirect, Request, ReturnReason, Returned, Step};
use super::shared::Shared;
use super::transport::Stream;
use crate::cmd::Cmd;
use crate::error::Error;
use crate::resp::{Decoder, Limits, Value};
use crate::stats::Counters;

/// Read-buffer growth step: one `read` can take a whole burst of small
/// replies, and a large bulk string grows the buffer in these steps or by
/// the decoder's hint, whichever is larger.
const READ_CHUNK: usize = 64 * 1024;

/// Commands at least this large are written from their own buffer (a
/// vectored write) instead of being copied into the write buffer: above it
/// the copy costs more than the extra slice.
const OWN_BUFFER_MIN: usize = 16 * 1024;

/// Largest read-buffer reservation made from a length the server announced;
/// past this the buffer grows as data actually arrives.
const MAX_HINT_RESERVE: usize = 4 * 1024 * 1024;

/// Backlog slots kept once a burst has drained: a burst past this (a full
/// write buffer, a gate, a reconnect) grows the backlog, and the room it
/// took is given back when the backlog empties, so memory follows the load
/// instead of its peak. Small enough to be cheap to keep, large enough that
/// ordinary traffic never reallocates.
const BACKLOG_KEPT: usize = 256;

/// How long writing pauses after the server answered "not executed"
/// (LOADING, BUSY, ...): long enough not to hammer a loading server, short
/// next to the default 5 s command timeout.
pub(super) const NOT_EXECUTED_PAUSE: Duration = Duration::from_millis(100);

/// Error codes meaning the server did not run the command, so sending it
/// again cannot run it twice: loading the dataset, busy with a script, the
/// replica's primary is down, or a cluster slot is migrating.
const NOT_EXECUTED: [&[u8]; 4] = [b"LOADING ", b"BUSY ", b"MASTERDOWN ", b"TRYAGAIN "];

/// What one call of [`Pipeline::poll_io`] did.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Progress {
    /// Bytes arrived.
    pub(super) read: bool,
    /// Bytes left.
    pub(super) wrote: bool,
    /// Requests answered (or otherwise completed) by the replies decoded.
    pub(super) delivered: u64,
}

/// A deadline that passed: who to tell, and what.
pub(super) struct Expired {
    pub(super) reply: super::request::ReplySender,
    pub(super) command: String,
    pub(super) deadline: Instant,
    pub(super) timeout: Duration,
    /// In the write buffer or on the wire: it will reach the server, so it may run.
    pub(super) written: bool,
}

/// Counts kept between publications (see [`Pipeline::publish`]).
#[derive(Default)]
struct Tally {
    commands_written: u64,
    fire_and_forget_acknowledged: u64,
}

pub(super) struct Pipeline {
    shared: Arc<Shared>,
    limits: Limits,
    /// Accepted, not yet in the write buffer.
    backlog: VecDeque<Entry>,
    /// In the write buffer or written, awaiting replies, in wire order.
    fifo: VecDeque<Entry>,
    /// The FIFO's entries' bytes, and the most `fill` lets it reach
    /// (`maxBytesInFlight`).
    fifo_bytes: usize,
    max_fifo_bytes: usize,
    wbuf: BytesMut,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Bytes appended to / accepted by the stream on this connection.
    appended: u64,
    written: u64,
    /// Total size of the unwritten entries written from their own buffer
    /// (see [`OWN_BUFFER_MIN`]; 0: none, every write is a plain one),
    /// counted until each is completely written (so a large command keeps
    /// the flush rule writing until its last byte is out): the write buffer
    /// holds only the other entries' bytes.
    own_buffer_bytes: usize,
    /// How many entries at the FIFO's back are not yet completely written.
    /// Kept as a count (updated on push and write) because it is read
    /// several times per turn.
    unwritten: usize,
    /// A connection is up (the driver lends its stream to `poll_io`).
    up: bool,
    /// The database the connection is in once everything in the write
    /// buffer has run.
    wire_db: u32,
    /// The database the server is in after the replies read so far: where
    /// commands behind a failed SELECT really ran (the database before that
    /// SELECT may have been the target of another failed one).
    server_db: u32,
    /// How many databases the server has, if the handshake learned it:
    /// then SELECT is pipelined; otherwise it is a barrier.
    databases: Option<u32>,
    /// A gated entry is in the FIFO: nothing more goes into the write buffer.
    gate_closed: bool,
    /// Writing pauses until then after a "not executed" reply.
    paused_until: Option<Instant>,
    /// How many entries at the backlog's front are such retries, kept in order.
    retries_at_front: usize,
    /// Replies arrived since the last write: the server has moved on, write now.
    replied_since_write: bool,
    /// The read buffer holds bytes the handshake read past its last reply,
    /// not yet decoded: the next `poll_io` decodes them before any write.
    undecoded: bool,
    /// Bytes were written since the stream was last flushed.
    unflushed: bool,
    last_read: Option<Instant>,
    last_write: Option<Instant>,
    select_failures: Vec<SelectFailure>,
    /// Encoded SELECTs are cut from this buffer: one allocation shared by
    /// many of them instead of one each.
    selects: BytesMut,
    /// Requests to give back to the layer above (see `take_returned`).
    returned: Vec<Returned>,
    tally: Tally,
}

impl Pipeline {
    pub(super) fn new(
        shared: Arc<Shared>,
        limits: Limits,
        default_db: u32,
        max_fifo_bytes: usize,
    ) -> Pipeline {
        entry::Deadline::epoch();
        Pipeline {
            shared,
            limits,
            backlog: VecDeque::new(),
            fifo: VecDeque::new(),
            fifo_bytes: 0,
            // 0 turns the bound off, as 0 does for keepAlive and stallTimeout.
            max_fifo_bytes: if max_fifo_bytes == 0 {
                usize::MAX
            } else {
                max_fifo_bytes
            },
            wbuf: BytesMut::with_capacity(FLUSH_BOUND),
            rbuf: BytesMut::new(),
            decoder: Decoder::new(limits),
            appended: 0,
            written: 0,
            unwritten: 0,
            own_buffer_bytes: 0,
            up: false,
            wire_db: default_db,
            server_db: default_db,
            databases: None,
            gate_closed: false,
            paused_until: None,
            retries_at_front: 0,
            replied_since_write: false,
            undecoded: false,
            unflushed: false,
            last_read: None,
            last_write: None,
            select_failures: Vec::new(),
            selects: BytesMut::new(),
            returned: Vec::new(),
            tally: Tally::default(),
        }
    }

    fn endpoint(&self) -> String {
        self.shared.endpoint().to_string()
    }

    // ----- figures ----------------------------------------------------------

    /// Requests accepted and not completely written.
    pub(super) fn queued(&self) -> usize {
        self.backlog.len() + self.unwritten
    }

    /// Requests written and awaiting replies.
    pub(super) fn awaiting(&self) -> usize {
        self.fifo.len() - self.unwritten
    }

    pub(super) fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Bytes waiting to be written (large commands wait in their own buffers).
    pub(super) fn write_buffer_len(&self) -> usize {
        self.buffered()
    }

    pub(super) fn read_buffer_len(&self) -> usize {
        self.rbuf.len()
    }

    pub(super) fn last_read(&self) -> Option<Instant> {
        self.last_read
    }

    pub(super) fn last_write(&self) -> Option<Instant> {
        self.last_write
    }

    pub(super) fn paused_until(&self) -> Option<Instant> {
        self.paused_until
    }

    /// Nothing of a caller's is waiting: no backlog, no awaited reply, nothing to write.
    pub(super) fn is_idle(&self) -> bool {
        self.backlog.is_empty() && self.buffered() == 0 && self.fifo.iter().all(|e| !e.is_callers())
    }

    /// Nothing at all is queued or in flight (keep-alive may ping).
    pub(super) fn is_empty(&self) -> bool {
        self.backlog.is_empty() && self.fifo.is_empty()
    }

    /// Requests to give back to the layer above, if any.
    pub(super) fn take_returned(&mut self) -> Option<Vec<Returned>> {
        (!self.returned.is_empty()).then(|| std::mem::take(&mut self.returned))
    }

    /// Publishes the gauges and the per-request tallies, once per turn of
    /// the driver rather than one atomic add per request.
    pub(super) fn publish(&mut self) {
        let tally = std::mem::take(&mut self.tally);
        let stats = &self.shared.stats;
        Counters::add(&stats.commands_written, tally.commands_written);
        Counters::add(
            &stats.fire_and_forget_acknowledged,
            tally.fire_and_forget_acknowledged,
        );
        stats.set_gauges(self.awaiting(), self.queued());
    }

    // ----- accepting ----------------------------------------------------------

    /// Takes a caller's request; returns its deadline, for the driver's timer.
    #[inline]
    pub(super) fn accept(&mut self, req: Request, now: Now) -> Instant {
        let (entry, deadline) = Entry::from_request(req, now);
        if self.backlog.is_empty() && self.can_fill() && self.can_pipeline_to(entry.db) {
            // The common case: straight into the write buffer, no queue hop
            // (behind a pipelined SELECT if it is for another database).
            if entry.db != self.wire_db {
                self.pipeline_select(entry.db);
            }
            self.push_to_wire(entry);
        } else {
            self.backlog.push_back(entry);
            self.fill();
        }
        deadline
    }

    /// Whether entries may go into the write buffer now: not past the flush
    /// bound, nor past the bytes-in-flight bound (an empty FIFO always
    /// takes one entry, however large).
    fn can_fill(&self) -> bool {
        self.up
            && !self.gate_closed
            && self.paused_until.is_none()
            && self.buffered() < FLUSH_BOUND
            && self.fifo_bytes < self.max_fifo_bytes
    }

    /// Moves entries from the backlog into the write buffer while it may.
    pub(super) fn fill(&mut self) {
        while self.can_fill() {
            let Some(front) = self.backlog.front() else {
                break;
            };
            let db = front.db;
            if db != self.wire_db && !self.switch_database(db) {
                continue;
            }
            if let Some(entry) = self.backlog.pop_front() {
                self.retries_at_front = self.retries_at_front.saturating_sub(1);
                self.push_to_wire(entry);
            }
        }
        if self.backlog.is_empty() && self.backlog.capacity() > BACKLOG_KEPT {
            self.backlog.shrink_to(BACKLOG_KEPT);
        }
    }

    #[inline]
    fn push_to_wire(&mut self, mut entry: Entry) {
        if entry.flags & flag::ASKING != 0 {
            // Just before it, so nothing lands between the two: ASKING
            // allows only the next command into an importing slot.
            let asking =
                Entry::internal(Cmd::new("ASKING").into_encoded().0, entry.db, Kind::Asking);
            self.push_to_wire(asking);
        }
        if entry.bytes.len() >= OWN_BUFFER_MIN {
            // Written from its own buffer: no copy of a large value.
            entry.flags |= flag::OWN_BUFFER;
            self.own_buffer_bytes += entry.bytes.len();
        } else {
            entry.flags &= !flag::OWN_BUFFER;
            self.wbuf.extend_from_slice(&entry.bytes);
        }
        self.appended += entry.bytes.len() as u64;
        entry.end = self.appended;
        if entry.is_gated() {
            self.gate_closed = true;
        }
        self.tally.commands_written += u64::from(entry.count());
        self.fifo_bytes += entry.bytes.len();
        self.fifo.push_back(entry);
        self.unwritten += 1;
    }

    /// Queues a keep-alive PING (the driver checks that nothing is waiting).
    pub(super) fn push_ping(&mut self) {
        Counters::add(&self.shared.stats.keepalive_pings, 1);
        let ping = Entry::internal(Cmd::new("PING").into_encoded().0, self.wire_db, Kind::Ping);
        self.push_to_wire(ping);
    }

    // ----- the stream -----------------------------------------------------

    /// One read and one write attempt.
    ///
    /// The read comes first: bytes already received cannot be the reply to a
    /// command this turn is about to write. Decoding them before the write
    /// lets `deliver` see that the FIFO's front is still unwritten (or the
    /// FIFO empty) and reject them as a protocol error, instead of handing a
    /// reply nobody asked for to the command just sent. Whether to write is
    /// decided before the read, and "replied since the last write" is set
    /// after the write, so batching is as if the write had come first.
    pub(super) fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut Stream,
    ) -> io::Result<Progress> {
        let write_now = should_write(
            self.buffered(),
            self.replied_since_write,
            self.unwritten,
            self.awaiting(),
        );
        let read = self.poll_read(cx, stream)?;
        let decode = read || std::mem::take(&mut self.undecoded);
        let delivered = if decode { self.decode_replies()? } else { 0 };
        let wrote = write_now && self.poll_write(cx, stream)?;
        if self.unflushed {
            self.poll_flush(cx, stream)?;
        }
        if delivered > 0 {
            self.replied_since_write = true;
        }
        Ok(Progress {
            read,
            wrote,
            delivered,
        })
    }

    /// Reads what the stream has (one successful read). True if bytes arrived.
    fn poll_read(&mut self, cx: &mut Context<'_>, stream: &mut Stream) -> io::Result<bool> {
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
    /// returns how many requests were completed.
    fn decode_replies(&mut self) -> io::Result<u64> {
        let mut replies = 0u64;
        let mut completed = 0u64;
        let result = loop {
            match self.decoder.decode(&mut self.rbuf) {
                Ok(Some(Value::Push(_))) => {} // out-of-band (RESP3); never a reply to a command
                Ok(Some(value)) => match self.deliver(value) {
                    Ok(done) => {
                        replies += 1;
                        completed += u64::from(done);
                    }
                    Err(reason) => break Err(io::Error::new(io::ErrorKind::InvalidData, reason)),
                },
                Ok(None) => break Ok(completed),
                Err(e) => {
                    break Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("protocol error: {e}"),
                    ))
                }
            }
        };
        Counters::add(&self.shared.stats.replies_received, replies);
        result
    }

    // ----- delivery -----------------------------------------------------------

    /// Gives one reply to the FIFO's front; true if that completed its request.
    fn deliver(&mut self, value: Value) -> Result<bool, String> {
        let written = self.written;
        let Some(front) = self.fifo.front_mut() else {
            return Err(
                "protocol error: the server sent a reply no command was waiting for".to_owned(),
            );
        };
        // Checked before popping: the entry stays in the FIFO, so `on_lost`
        // re-queues it (its command was not completely written, so it cannot
        // have run) instead of dropping its reply slot.
        if !reply_may_arrive(front, written) {
            return Err(format!(
                "protocol error: a reply arrived before {} was completely written",
                front.name()
            ));
        }
        if let Some(group) = &mut front.group {
            if (group.replies.len() as u32) + 1 < group.count {
                group.replies.push(value);
                return Ok(false);
            }
        }
        let Some(entry) = self.fifo.pop_front() else {
            return Ok(false);
        };
        debug_assert!(
            self.fifo_bytes >= entry.bytes.len(),
            "FIFO bytes miscounted"
        );
        self.fifo_bytes = self.fifo_bytes.saturating_sub(entry.bytes.len());
        if entry.is_gated() {
            self.gate_closed = false;
        }
        match entry.kind {
            Kind::Awaited | Kind::FireAndForget => self.complete(entry, value),
            Kind::Select => self.on_select_reply(entry, value),
            Kind::Ping | Kind::Asking => {}
        }
        Ok(true)
    }

    /// All replies of a caller's request are in: answer, retry, hand back,
    /// or run its continuation.
    fn complete(&mut self, mut entry: Entry, last: Value) {
        // The usual case, kept short: one command, no group, nothing to hand back.
        if entry.group.is_none() && entry.flags & (flag::WRONG_DB | flag::HAND_BACK) == 0 {
            let not_executed = is_not_executed(&last);
            if not_executed && entry.still_wanted() {
                return self.retry_not_executed(entry);
            }
            return self.answer(entry, Answer::One(last), not_executed);
        }
        // A single command's reply stays out of a Vec: no allocation.
        let (single, replies) = match entry.group.as_mut() {
            Some(group) => {
                let mut replies = std::mem::take(&mut group.replies);
                replies.push(last);
                (None, replies)
            }
            None => (Some(last), Vec::new()),
        };
        let all = match &single {
            Some(value) => std::slice::from_ref(value),
            None => replies.as_slice(),
        };

        if entry.flags & flag::WRONG_DB != 0 {
            let err = self.wrong_database_error(&entry);
            return entry.fail(err);
        }
        let not_executed = all.iter().all(is_not_executed);
        if not_executed && entry.still_wanted() && entry.flags & flag::NO_RESEND == 0 {
            return self.retry_not_executed(entry);
        }
        // A request whose caller gave up is not handed back to be sent again.
        if entry.flags & flag::HAND_BACK != 0 && entry.still_wanted() {
            if let Some(redirect) = common_redirect(all) {
                entry.reset();
                self.returned.push(Returned {
                    request: entry.into_request(),
                    reason: ReturnReason::Redirect(redirect),
                });
                return;
            }
        }
        if let Some(then) = entry.group.as_mut().and_then(|g| g.then.take()) {
            return match then(replies) {
                Step::Answer(values) => self.answer(entry, Answer::Group(values), false),
                Step::Send {
                    commands,
                    count,
                    gate,
                } => self.follow_up(entry, commands, count, gate),
            };
        }
        let answer = match single {
            Some(value) => Answer::One(value),
            None => Answer::Group(replies),
        };
        self.answer(entry, answer, not_executed);
    }

    #[inline]
    fn answer(&mut self, entry: Entry, answer: Answer, not_executed: bool) {
        if entry.kind == Kind::FireAndForget {
            if not_executed {
                Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
            } else {
                self.tally.fire_and_forget_acknowledged += 1;
            }
        }
        if let Some(slot) = entry.reply {
            slot.send(Ok(answer)); // the caller may have gone; its answer is dropped
        }
    }

    /// A continuation chose to write `commands` next: they go into the write
    /// buffer now, before anything else, under their own gate if they have one.
    fn follow_up(
        &mut self,
        entry: Entry,
        commands: BytesMut,
        count: u32,
        gate: super::request::Gate,
    ) {
        let now = Now::read();
        // The follow-up still runs (it may restore the connection's state,
        // e.g. UNWATCH), but a caller who gave up stays given up: no fresh
        // deadline, so it is never re-sent.
        let expired = !entry.still_wanted();
        let mut req = entry.into_request();
        req.commands = commands;
        if let Some(shape) = &mut req.shape {
            shape.count = count.max(1);
            shape.gate = gate;
        }
        let (mut next, _) = Entry::from_request(req, now);
        if expired {
            next.expire();
        }
        next.flags |= flag::NO_RESEND;
        self.push_to_wire(next);
    }

    /// The server did not run the request: send it again after a short
    /// pause, ahead of everything queued after it.
    fn retry_not_executed(&mut self, mut entry: Entry) {
        Counters::add(&self.shared.stats.retried_not_executed, 1);
        entry.reset();
        let at = self.retries_at_front.min(self.backlog.len());
        self.backlog.insert(at, entry);
        self.retries_at_front += 1;
        self.paused_until = Some(Instant::now() + NOT_EXECUTED_PAUSE);
    }

    /// Ends a "not executed" pause once it is over. True if it ended.
    pub(super) fn end_pause(&mut self, now: Instant) -> bool {
        match self.paused_until {
            Some(until) if until <= now => {
                self.paused_until = None;
                true
            }
            _ => false,
        }
    }

    fn count_dropped(&self, entry: &Entry) {
        if entry.kind == Kind::FireAndForget {
            Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
        }
    }

    // ----- deadlines ---------------------------------------------------------

    /// Takes the reply slots of requests whose deadline is `now` or earlier,
    /// and the earliest deadline still ahead. Expired backlog entries are
    /// removed (never sent, never will be); expired FIFO entries stay, so
    /// their late replies are still matched and dropped.
    pub(super) fn expire(&mut self, now: Instant) -> (Vec<Expired>, Option<Instant>) {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        let mut later = |d: Instant| next = Some(next.map_or(d, |n: Instant| n.min(d)));

        let mut i = 0;
        while i < self.backlog.len() {
            match self.backlog[i].deadline() {
                Some(d) if d <= now => {
                    if i < self.retries_at_front {
                        self.retries_at_front -= 1;
                    }
                    if let Some(entry) = self.backlog.remove(i) {
                        self.count_dropped(&entry);
                        let timeout = entry.timeout();
                        if let Some(reply) = entry.reply {
                            expired.push(Expired {
                                command: super::request::command_name(&entry.bytes),
                                reply,
                                deadline: d,
                                timeout,
                                written: false,
                            });
                        }
                    }
                }
                Some(d) => {
                    later(d);
                    i += 1;
                }
                None => i += 1,
            }
        }
        for entry in self.fifo.iter_mut() {
            match entry.deadline() {
                Some(d) if d <= now => {
                    entry.expire();
                    let timeout = entry.timeout();
                    if let Some(reply) = entry.reply.take() {
                        expired.push(Expired {
                            command: super::request::command_name(&entry.bytes),
                            reply,
                            deadline: d,
                            timeout,
                            written: true,
                        });
                    }
                }
                Some(d) => later(d),
                None => {}
            }
        }
        Counters::add(&self.shared.stats.timeouts, expired.len() as u64);
        (expired, next)
    }

    // ----- the link -------------------------------------------------------------

    /// A new connection passed its handshake.
    pub(super) fn on_connected(&mut self, session: Session) {
        self.rbuf = session.leftover;
        // Anything here is a reply no command asked for (or a RESP3 push):
        // decode it before the first write so it cannot be taken as that
        // command's reply.
        self.undecoded = !self.rbuf.is_empty();
        self.unflushed = false;
        self.wire_db = session.db;
        self.server_db = session.db;
        self.databases = session.databases;
        self.appended = 0;
        self.written = 0;
        self.unwritten = 0;
        self.own_buffer_bytes = 0;
        self.up = true;
    }

    /// The connection broke: nothing more is read or matched on it.
    /// Requests of which a command was completely written fail ("may have
    /// run"); the rest go back to the backlog's front, in order, unless their
    /// deadline passed.
    pub(super) fn on_lost(&mut self, reason: &str) {
        let endpoint = self.endpoint();
        let mut unsent = Vec::new();
        let (mut lost, mut lost_ff) = (0, 0);
        self.fifo_bytes = 0;
        for mut entry in std::mem::take(&mut self.fifo) {
            if !entry.is_callers() {
                continue;
            }
            if !may_have_run(&entry, self.written) {
                if entry.flags & flag::NO_RESEND != 0 {
                    let err = Error::connection_lost(&entry.name(), &endpoint, reason, false);
                    entry.fail(err);
                } else if entry.still_wanted() {
                    entry.reset();
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
            let err = Error::connection_lost(&entry.name(), &endpoint, reason, true);
            entry.fail(err);
        }
        Counters::add(&self.shared.stats.lost_may_have_run, lost);
        Counters::add(&self.shared.stats.fire_and_forget_unknown, lost_ff);
        for entry in unsent.into_iter().rev() {
            self.backlog.push_front(entry);
        }
        self.up = false;
        self.unwritten = 0;
        self.retries_at_front = 0;
        self.paused_until = None;
        self.gate_closed = false;
        self.replied_since_write = false;
        self.unflushed = false;
        self.undecoded = false;
        self.select_failures.clear();
        self.wbuf.clear();
        self.own_buffer_bytes = 0;
        self.rbuf = BytesMut::new();
        self.decoder = Decoder::new(self.limits);
    }

    /// Fails every request waiting in the backlog: it was never sent.
    pub(super) fn fail_unsent(&mut self, why: &str) {
        let endpoint = self.endpoint();
        for entry in std::mem::take(&mut self.backlog) {
            self.count_dropped(&entry);
            let err = Error::connection_lost(&entry.name(), &endpoint, why, false);
            entry.fail(err);
        }
        self.retries_at_front = 0;
    }

    /// The connection closes for good: requests in flight fail, unsent ones
    /// fail with `Closed`, or, when `hand_back` is set, go back to the layer
    /// above (they did not run, so they can be sent elsewhere).
    pub(super) fn finish(&mut self, hand_back: bool) {
        let endpoint = self.endpoint();
        let why = "the multiplexer was closed before the reply arrived";
        self.fifo_bytes = 0;
        for entry in std::mem::take(&mut self.fifo) {
            if !entry.is_callers() {
                continue;
            }
            let ran = may_have_run(&entry, self.written);
            if !ran && hand_back && entry.still_wanted() && entry.flags & flag::NO_RESEND == 0 {
                self.hand_back_unsent(entry);
                continue;
            }
            let err = Error::connection_lost(&entry.name(), &endpoint, why, ran);
            entry.fail(err);
        }
        for entry in std::mem::take(&mut self.backlog) {
            if hand_back {
                self.hand_back_unsent(entry);
                continue;
            }
            self.count_dropped(&entry);
            let err = Error::closed(&entry.name());
            entry.fail(err);
        }
        self.unwritten = 0;
        self.own_buffer_bytes = 0;
        self.up = false;
    }

    fn hand_back_unsent(&mut self, mut entry: Entry) {
        entry.reset();
        self.returned.push(Returned {
            request: entry.into_request(),
            reason: ReturnReason::Unsent,
        });
    }
}

/// Whether a reply may arrive for the entry's next command: that command
/// was completely written.
fn reply_may_arrive(entry: &Entry, written: u64) -> bool {
    if entry.end <= written {
        return true;
    }
    if entry.count() == 1 {
        return false;
    }
    // A group written in part: its first commands may already be answered.
    command_end(&entry.bytes, entry.replies_so_far())
        .is_some_and(|end| entry.start() + end as u64 <= written)
}

/// Whether the server may have run (part of) the entry: at least one of its
/// commands was completely written.
fn may_have_run(entry: &Entry, written: u64) -> bool {
    if entry.end <= written {
        return true;
    }
    if entry.end == 0 || written <= entry.start() {
        return false;
    }
    match command_end(&entry.bytes, 0) {
        Some(first) => entry.start() + first as u64 <= written,
        None => true, // cannot tell: assume the worst
    }
}

fn is_not_executed(value: &Value) -> bool {
    matches!(value, Value::Error(text) if NOT_EXECUTED.iter().any(|code| text.starts_with(code)))
}

/// The redirect every reply is, if they all are the same one.
fn common_redirect(replies: &[Value]) -> Option<Redirect> {
    let mut found: Option<Redirect> = None;
    for reply in replies {
        let Value::Error(text) = reply else {
            return None;
        };
        let redirect = Redirect::parse(text)?;
        match &found {
            Some(first) if *first != redirect => return None,
            Some(_) => {}
            None => found = Some(redirect),
        }
    }
    found
}
