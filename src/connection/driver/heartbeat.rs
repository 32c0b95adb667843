//! The heartbeat: a periodic tick (`heartbeat_interval`, default 1 s) for
//! the checks that need no precision, plus exact wake-ups for the ends of
//! pauses and of the close grace period.
//!
//! On each tick, while connected:
//! * **stall**: commands have awaited replies and not one byte was read for
//!   `stallTimeout` → the server or the path to it is dead; tear the
//!   connection down (in-flight commands fail, "may have run") and reconnect.
//! * **keep-alive**: nothing sent or received for `keepAlive` and nothing
//!   waiting → send a PING, so idle connections are kept open through NATs
//!   and load balancers and a dead one is found (by the stall check) before
//!   a caller needs it.
//! * **pause**: the pause after a "not executed" reply (LOADING, BUSY) ends.

use std::task::Context;
use std::time::Duration;

use tokio::time::Instant;

use super::timer::Timer;
use super::{Counters, Driver, Entry, Kind};
use crate::cmd::Cmd;

/// Shortest tick accepted, so a zero interval cannot spin the driver.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

pub(super) struct Heartbeat {
    timer: Timer,
    interval: Duration,
    next_tick: Instant,
    /// Since when commands have awaited replies with no byte read.
    waiting_since: Option<Instant>,
    /// Last time bytes moved either way, or the connection came up.
    last_activity: Instant,
}

impl Heartbeat {
    pub(super) fn new(interval: Duration) -> Heartbeat {
        let interval = interval.max(MIN_INTERVAL);
        let next_tick = Instant::now() + interval;
        Heartbeat {
            timer: Timer::new(next_tick),
            interval,
            next_tick,
            waiting_since: None,
            last_activity: Instant::now(),
        }
    }

    pub(super) fn on_write(&mut self, now: Instant) {
        self.waiting_since.get_or_insert(now);
        self.last_activity = now;
    }

    pub(super) fn on_read(&mut self, now: Instant, still_awaiting: bool) {
        self.waiting_since = still_awaiting.then_some(now);
        self.last_activity = now;
    }

    pub(super) fn on_disconnect(&mut self) {
        self.waiting_since = None;
        self.last_activity = Instant::now();
    }

    /// Wakes the driver at `at` as well as on the regular tick.
    pub(super) fn wake_at(&mut self, at: Instant) {
        if at < self.timer.deadline() {
            self.timer.reset(at);
        }
    }
}

impl Driver {
    /// Runs the heartbeat's checks when its timer fires. True if anything changed.
    pub(super) fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> bool {
        let mut changed = false;
        while self.heartbeat.timer.poll_fired(cx) {
            let now = Instant::now();
            changed |= self.end_pause(now);
            if now >= self.heartbeat.next_tick {
                self.heartbeat.next_tick = now + self.heartbeat.interval;
                changed |= self.check_stall(now) || self.keep_alive(now);
            }
            let mut wake = self.heartbeat.next_tick;
            for at in [self.paused_until, self.closing.as_ref().map(|c| c.deadline)]
                .into_iter()
                .flatten()
            {
                if at > now {
                    wake = wake.min(at);
                }
            }
            self.heartbeat.timer.reset(wake);
        }
        changed
    }

    fn end_pause(&mut self, now: Instant) -> bool {
        match self.paused_until {
            Some(until) if until <= now => {
                self.paused_until = None;
                true
            }
            _ => false,
        }
    }

    fn check_stall(&mut self, now: Instant) -> bool {
        let limit = self.config.stall_timeout;
        let Some(since) = self.heartbeat.waiting_since else {
            return false;
        };
        if !self.is_up() || limit.is_zero() || now.saturating_duration_since(since) < limit {
            return false;
        }
        Counters::add(&self.shared.stats.stalls, 1);
        let awaiting = self.fifo.len() - self.unwritten_in_fifo();
        self.connection_lost(format!(
            "no reply for {} ms while {awaiting} commands awaited replies (stallTimeout); the server or the network stalled",
            now.saturating_duration_since(since).as_millis()
        ));
        true
    }

    fn keep_alive(&mut self, now: Instant) -> bool {
        let idle_limit = self.config.keep_alive;
        let idle = now.saturating_duration_since(self.heartbeat.last_activity);
        if !self.is_up()
            || idle_limit.is_zero()
            || idle < idle_limit
            || !self.fifo.is_empty()
            || !self.backlog.is_empty()
        {
            return false;
        }
        Counters::add(&self.shared.stats.keepalive_pings, 1);
        self.push_to_wire(Entry::internal(
            Cmd::new("PING").into_encoded().0,
            self.current_db,
            Kind::Ping,
        ));
        true
    }
}
