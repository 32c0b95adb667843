//! Command deadlines, kept by the driver rather than by each caller.
//!
//! One timer is set to the earliest deadline of any waiting command. When it
//! fires, the backlog and the FIFO are scanned once: expired backlog entries
//! are removed (they were never sent), expired FIFO entries lose their reply
//! slot but stay in place so the late reply is still matched and dropped.
//! With the usual uniform timeout the earliest deadline belongs to the
//! oldest command, so the timer is rarely reset and a scan happens about once
//! per timeout period, instead of a timer per call. The driver knows the
//! connection's state at the moment of expiry, which goes into the error.

use std::task::Context;
use std::time::Duration;

use tokio::time::Instant;

use super::timer::Timer;
use super::{Counters, Driver};
use crate::error::{ConnectionState, Error};

pub(super) struct Deadlines {
    timer: Timer,
    next: Option<Instant>,
}

impl Deadlines {
    pub(super) fn new() -> Deadlines {
        Deadlines {
            timer: Timer::new(Instant::now()),
            next: None,
        }
    }

    /// Makes sure the timer fires no later than `deadline`.
    pub(super) fn watch(&mut self, deadline: Instant) {
        if self.next.is_none_or(|next| deadline < next) {
            self.next = Some(deadline);
            self.timer.reset(deadline);
        }
    }
}

impl Driver {
    /// Fails the entries whose deadline passed, then re-arms the timer.
    pub(super) fn poll_deadlines(&mut self, cx: &mut Context<'_>) {
        while self.deadlines.next.is_some() && self.deadlines.timer.poll_fired(cx) {
            self.deadlines.next = None;
            self.expire(Instant::now());
        }
    }

    fn expire(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        let mut later = |d: Instant| next = Some(next.map_or(d, |n: Instant| n.min(d)));

        let mut i = 0;
        while i < self.backlog.len() {
            match self.backlog[i].deadline {
                Some(d) if d <= now => {
                    if i < self.retries_at_front {
                        self.retries_at_front -= 1;
                    }
                    if let Some(entry) = self.backlog.remove(i) {
                        // Never sent: a fire-and-forget command is dropped, an awaited one fails.
                        self.count_dropped(&entry);
                        expired.push((entry.reply, entry.bytes, d, entry.timeout_ms, false));
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
            match entry.deadline {
                Some(d) if d <= now => {
                    entry.deadline = None;
                    // In the FIFO means in the write buffer or on the wire: it
                    // will reach the server, so it may run.
                    if let Some(slot) = entry.reply.take() {
                        expired.push((Some(slot), entry.bytes.clone(), d, entry.timeout_ms, true));
                    }
                }
                Some(d) => later(d),
                None => {}
            }
        }
        expired.retain(|(slot, ..)| slot.is_some());
        if !expired.is_empty() {
            Counters::add(&self.shared.stats.timeouts, expired.len() as u64);
            let state = self.connection_state(now);
            for (slot, bytes, deadline, timeout_ms, written) in expired {
                let timeout = Duration::from_millis(u64::from(timeout_ms));
                if let Some(slot) = slot {
                    let elapsed = timeout + now.saturating_duration_since(deadline);
                    let err = Error::timeout(
                        &super::command_name(&bytes),
                        elapsed,
                        timeout,
                        written,
                        state.clone(),
                    );
                    let _ = slot.send(Err(err));
                }
            }
        }
        if let Some(n) = next {
            self.deadlines.watch(n);
        }
    }

    /// The figures a timeout error reports.
    pub(super) fn connection_state(&self, now: Instant) -> ConnectionState {
        let unwritten = self.unwritten_in_fifo();
        ConnectionState {
            endpoint: self.endpoint(),
            client_name: self.config.client_name.clone(),
            connected: self.is_up(),
            queued: self.backlog.len() + unwritten,
            in_flight: self.fifo.len() - unwritten,
            write_buffer: self.wbuf.len(),
            read_buffer: self.rbuf.len(),
            since_last_read: self.last_read.map(|t| now.saturating_duration_since(t)),
            since_last_write: self.last_write.map(|t| now.saturating_duration_since(t)),
            bytes_out: self
                .shared
                .stats
                .bytes_out
                .load(std::sync::atomic::Ordering::Relaxed),
            bytes_in: self
                .shared
                .stats
                .bytes_in
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}
