//! The driver: the one task that owns a connection. It ties together the
//! parts, each of which keeps its own state:
//!
//! * the channel from callers (drained here, a batch per turn);
//! * the [`Pipeline`] (backlog, FIFO, buffers, flush rule, delivery);
//! * the [`Lifecycle`] (the link: connect, handshake, back-off);
//! * the [`Deadlines`] timer and the [`Heartbeat`] (stalls, keep-alive, pauses).
//!
//! One turn of the loop:
//!
//! ```text
//! linger? (yield) → drain channel → deadlines → heartbeat → link
//!   → fill write buffer → read, decode, deliver, write → hand back
//!   → replies delivered? yield once, then linger
//! ```
//!
//! Reads and writes advance together: each turn tries a write *and* a read,
//! and a full send buffer never stops reading, so large values in both
//! directions cannot deadlock.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::deadlines::Deadlines;
use super::handshake::Established;
use super::heartbeat::{Heartbeat, Wake};
use super::lifecycle::{Connect, Lifecycle, Transition};
use super::pipeline::flush::should_linger;
use super::pipeline::{Now, Pipeline};
use super::request::{HandBack, Request, ReturnReason, Returned};
use super::shared::Shared;
use super::timer::after;
use crate::config::{BacklogPolicy, Config};
use crate::error::{ConnectionState, Error};
use crate::events::ConnectionEvent;
use crate::stats::Counters;

/// Most messages taken from the channel per turn of the loop before writing,
/// so a flood of fire-and-forget commands cannot delay the first write.
const DRAIN_BATCH: usize = 4096;

/// What callers send to the driver.
pub(crate) enum Message {
    Request(Request),
    /// Stop accepting, finish in-flight work within `grace`, then end.
    Close {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
    /// Drop the connection and connect again (see `ConnectionHandle::reconnect`).
    Reconnect {
        reason: String,
    },
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
    pipeline: Pipeline,
    link: Lifecycle,
    deadlines: Deadlines,
    heartbeat: Heartbeat,
    /// Where requests the pipeline gives back go; without it, none are given back.
    hand_back: Option<HandBack>,
    /// Replies delivered by the last read: about how many commands the woken callers will queue.
    expected: u64,
    /// Turns yielded while waiting for them.
    lingers: u8,
    closing: Option<Closing>,
    channel_closed: bool,
}

impl Driver {
    /// A driver for a connection already established, or one that starts by connecting.
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<Message>,
        shared: Arc<Shared>,
        config: Arc<Config>,
        connect: Connect,
        established: Option<Established>,
        hand_back: Option<HandBack>,
    ) -> Driver {
        let mut driver = Driver {
            rx,
            pipeline: Pipeline::new(
                shared.clone(),
                config.resp_limits,
                config.default_database,
                config.max_bytes_in_flight,
            ),
            link: Lifecycle::new(connect, config.retry_policy, shared.clone()),
            deadlines: Deadlines::new(),
            heartbeat: Heartbeat::new(config.heartbeat_interval),
            hand_back,
            expected: 0,
            lingers: 0,
            closing: None,
            channel_closed: false,
            shared,
            config,
        };
        match established {
            Some(Established { stream, session }) => {
                driver.link.adopt(stream);
                driver.pipeline.on_connected(session);
            }
            None => driver.link.start_connecting(),
        }
        driver
    }

    fn endpoint(&self) -> String {
        self.shared.endpoint().to_string()
    }

    // ----- accepting requests -------------------------------------------

    /// Moves waiting messages from the channel into the pipeline. True if any arrived.
    fn drain_channel(&mut self, cx: &mut Context<'_>) -> bool {
        let mut now = None;
        let mut taken = 0;
        while taken < DRAIN_BATCH && !self.channel_closed {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Message::Request(req))) => {
                    let now = *now.get_or_insert_with(Now::read);
                    self.accept(req, now);
                }
                Poll::Ready(Some(Message::Close { grace, done })) => {
                    self.begin_close(grace, Some(done))
                }
                Poll::Ready(Some(Message::Reconnect { reason })) => {
                    if self.link.is_up() && self.closing.is_none() {
                        self.connection_lost(reason);
                    }
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

    /// Applies the backlog policy while there is no connection, then hands
    /// the request to the pipeline.
    #[inline]
    fn accept(&mut self, req: Request, now: Now) {
        if !self.link.is_up() {
            if self.config.backlog_policy == BacklogPolicy::FailFast {
                return self
                    .drop_unsent(req, "there is no connection and backlogPolicy is failFast");
            }
            if self.pipeline.backlog_len() >= self.config.backlog_limit {
                let err =
                    Error::backlog_full(&req.name(), &self.endpoint(), self.config.backlog_limit);
                return self.drop_request(req, err);
            }
        }
        let deadline = self.pipeline.accept(req, now);
        self.deadlines.watch(deadline);
    }

    /// Fails a request that was never sent, with the last connection error.
    fn drop_unsent(&mut self, req: Request, why: &str) {
        let reason = self.with_last_error(why);
        let err = Error::connection_lost(&req.name(), &self.endpoint(), &reason, false);
        self.drop_request(req, err);
    }

    fn drop_request(&self, req: Request, err: Error) {
        if req.reply.is_none() {
            Counters::add(&self.shared.stats.fire_and_forget_dropped, 1);
        }
        req.fail(err);
    }

    fn with_last_error(&self, why: &str) -> String {
        match self.link.last_error() {
            "" => why.to_owned(),
            last => format!("{why} (last error: {last})"),
        }
    }

    /// Gives requests back to the layer above (or, without a sink, fails them).
    fn hand_back(&mut self, returned: Vec<Returned>) {
        for r in returned {
            match &self.hand_back {
                Some(sink) => sink(r),
                None => {
                    let why = match r.reason {
                        ReturnReason::Redirect(_) => "a redirect arrived and nobody follows it",
                        ReturnReason::Unsent => "the connection closed before it was sent",
                    };
                    let err =
                        Error::connection_lost(&r.request.name(), &self.endpoint(), why, false);
                    self.drop_request(r.request, err);
                }
            }
        }
    }

    // ----- timers ---------------------------------------------------------------

    fn poll_deadlines(&mut self, cx: &mut Context<'_>) {
        while self.deadlines.poll_due(cx) {
            let now = Instant::now();
            let (expired, next) = self.pipeline.expire(now);
            if !expired.is_empty() {
                let state = self.connection_state(now);
                for e in expired {
                    let elapsed = e.timeout + now.saturating_duration_since(e.deadline);
                    let err =
                        Error::timeout(&e.command, elapsed, e.timeout, e.written, state.clone());
                    e.reply.send(Err(err));
                }
            }
            if let Some(next) = next {
                self.deadlines.watch(next);
            }
        }
    }

    /// The figures a timeout error reports.
    fn connection_state(&self, now: Instant) -> ConnectionState {
        ConnectionState {
            endpoint: self.endpoint(),
            client_name: self.config.client_name.clone(),
            connected: self.link.is_up(),
            queued: self.pipeline.queued(),
            in_flight: self.pipeline.awaiting(),
            write_buffer: self.pipeline.write_buffer_len(),
            read_buffer: self.pipeline.read_buffer_len(),
            since_last_read: self
                .pipeline
                .last_read()
                .map(|t| now.saturating_duration_since(t)),
            since_last_write: self
                .pipeline
                .last_write()
                .map(|t| now.saturating_duration_since(t)),
            bytes_out: Counters::get(&self.shared.stats.bytes_out),
            bytes_in: Counters::get(&self.shared.stats.bytes_in),
        }
    }

    /// Runs the heartbeat's checks when its timer fires. True if anything changed.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> bool {
        let mut changed = false;
        // The clock is read only when the timer fired: this runs every turn.
        while let Some(wake) = self.heartbeat.poll_wake(cx) {
            let now = Instant::now();
            changed |= self.pipeline.end_pause(now);
            if wake == Wake::Tick && self.link.is_up() {
                changed |= self.check_stall(now) || self.keep_alive(now);
            }
            let closing = self.closing.as_ref().map(|c| c.deadline);
            self.heartbeat
                .rearm(now, self.pipeline.paused_until().into_iter().chain(closing));
        }
        changed
    }

    fn check_stall(&mut self, now: Instant) -> bool {
        let Some(silent_for) = self.heartbeat.stalled(now, self.config.stall_timeout) else {
            return false;
        };
        Counters::add(&self.shared.stats.stalls, 1);
        let awaiting = self.pipeline.awaiting();
        self.shared.emit(ConnectionEvent::Stalled {
            endpoint: self.endpoint(),
            silent_for,
            awaiting,
        });
        self.connection_lost(format!(
            "no reply for {} ms while {awaiting} commands awaited replies (stallTimeout); the server or the network stalled",
            silent_for.as_millis()
        ));
        true
    }

    fn keep_alive(&mut self, now: Instant) -> bool {
        if !self.pipeline.is_empty() || !self.heartbeat.keep_alive_due(now, self.config.keep_alive)
        {
            return false;
        }
        self.pipeline.push_ping();
        true
    }

    // ----- the link ---------------------------------------------------------------

    /// Drives the lifecycle. True if the link changed.
    fn poll_link(&mut self, cx: &mut Context<'_>) -> bool {
        match self.link.poll(cx, self.closing.is_some()) {
            None => false,
            Some(Transition::Up(session)) => {
                self.pipeline.on_connected(session);
                true
            }
            Some(Transition::AttemptFailed) => {
                if self.config.backlog_policy == BacklogPolicy::FailFast {
                    let why = self.with_last_error(
                        "no connection could be made and backlogPolicy is failFast",
                    );
                    self.pipeline.fail_unsent(&why);
                }
                true
            }
        }
    }

    /// Tears the connection down: nothing more is read or matched on it.
    fn connection_lost(&mut self, reason: String) {
        self.pipeline.on_lost(&reason);
        self.heartbeat.on_disconnect(Instant::now());
        if self.config.backlog_policy == BacklogPolicy::FailFast {
            let why = format!("the connection was lost ({reason}) and backlogPolicy is failFast");
            self.pipeline.fail_unsent(&why);
        }
        self.link.lost(reason);
    }

    /// One read and one write on the link, if it is up: whether anything
    /// moved, and how many requests were completed.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> (bool, u64) {
        let Some(stream) = self.link.stream() else {
            return (false, 0);
        };
        match self.pipeline.poll_io(cx, stream) {
            Ok(progress) => {
                if progress.read {
                    let at = self.pipeline.last_read().unwrap_or_else(Instant::now);
                    self.heartbeat.on_read(at, self.pipeline.awaiting() > 0);
                }
                if progress.wrote {
                    let at = self.pipeline.last_write().unwrap_or_else(Instant::now);
                    self.heartbeat.on_write(at);
                }
                (progress.read || progress.wrote, progress.delivered)
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::InvalidData {
                    self.shared.emit(ConnectionEvent::ProtocolError {
                        endpoint: self.endpoint(),
                        message: e.to_string(),
                    });
                }
                self.connection_lost(e.to_string());
                (true, 0)
            }
        }
    }

    // ----- closing -----------------------------------------------------------

    fn begin_close(&mut self, grace: Duration, waiter: Option<oneshot::Sender<()>>) {
        let closing = self.closing.get_or_insert_with(|| Closing {
            deadline: after(Instant::now(), grace),
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
        self.pipeline.is_idle() || !self.link.is_up() || Instant::now() >= closing.deadline
    }

    fn finish(&mut self) {
        self.rx.close();
        let hand_back = self.hand_back.is_some();
        // Requests that raced with close() are still in the channel: they get an answer too.
        let mut raced = Vec::new();
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Message::Request(req) if hand_back => raced.push(Returned {
                    request: req,
                    reason: ReturnReason::Unsent,
                }),
                Message::Request(req) => {
                    let err = Error::closed(&req.name());
                    self.drop_request(req, err);
                }
                Message::Close { done, .. } => {
                    if let Some(closing) = &mut self.closing {
                        closing.waiters.push(done);
                    }
                }
                Message::Reconnect { .. } => {}
            }
        }
        self.pipeline.finish(hand_back);
        if let Some(returned) = self.pipeline.take_returned() {
            self.hand_back(returned);
        }
        self.hand_back(raced);
        self.shared.set_connected(false);
        if let Some(closing) = self.closing.take() {
            for waiter in closing.waiters {
                let _ = waiter.send(());
            }
        }
    }

    fn should_linger(&mut self) -> bool {
        if self.expected == 0 {
            return false;
        }
        if self.closing.is_some() || !self.link.is_up() {
            self.expected = 0;
            return false;
        }
        // The channel's length is one atomic load. Draining instead would
        // register the driver's waker on the channel, and the first caller's
        // send would then wake the driver straight back into the worker's
        // LIFO slot, ahead of the other callers it is waiting for.
        let queued = self.rx.len() as u64;
        if should_linger(
            queued,
            self.expected,
            self.lingers,
            self.pipeline.write_buffer_len(),
        ) {
            self.lingers += 1;
            return true;
        }
        self.expected = 0;
        false
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
            this.pipeline.fill();
            let (moved, delivered) = this.poll_io(cx);
            progress |= moved;
            if let Some(returned) = this.pipeline.take_returned() {
                this.hand_back(returned);
            }
            if let Some(at) = this.pipeline.paused_until() {
                this.heartbeat.wake_at(at);
            }
            if this.should_finish() {
                this.finish();
                this.pipeline.publish();
                return Poll::Ready(());
            }
            if !progress {
                this.pipeline.publish();
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
                this.pipeline.publish();
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
