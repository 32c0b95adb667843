//! The heartbeat: a periodic tick (`heartbeat_interval`, default 1 s) for
//! the checks that need no precision, plus exact wake-ups for the ends of
//! pauses and of the close grace period.
//!
//! It keeps its own state (when bytes last moved, since when replies have
//! been awaited) and answers questions; the driver acts on the answers:
//! * **stall** ([`Heartbeat::stalled`]): commands have awaited replies and
//!   not one byte was read for `stallTimeout` → the server or the path to it
//!   is dead; the driver tears the connection down (in-flight commands fail,
//!   "may have run") and reconnects.
//! * **keep-alive** ([`Heartbeat::keep_alive_due`]): nothing sent or
//!   received for `keepAlive` and nothing waiting → the driver sends a PING,
//!   so idle connections are kept open through NATs and load balancers and a
//!   dead one is found (by the stall check) before a caller needs it.
//! * **wake-ups** ([`Heartbeat::wake_at`]): the end of a "not executed"
//!   pause (LOADING, BUSY) and of the close grace period.

use std::task::Context;
use std::time::Duration;

use tokio::time::Instant;

use super::timer::{after, Timer};

/// Shortest tick accepted, so a zero interval cannot spin the driver.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

pub(super) struct Heartbeat {
    timer: Timer,
    interval: Duration,
    next_tick: Instant,
    /// Since when commands have awaited replies with no byte read.
    waiting_since: Option<Instant>,
    /// Last time bytes moved either way, or the connection came up or went down.
    last_activity: Instant,
}

/// What a firing of the heartbeat's timer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wake {
    /// The regular tick: run the stall and keep-alive checks.
    Tick,
    /// An exact wake-up (end of a pause or of the grace period) only.
    Exact,
}

impl Heartbeat {
    pub(super) fn new(interval: Duration) -> Heartbeat {
        let interval = interval.max(MIN_INTERVAL);
        let now = Instant::now();
        Heartbeat {
            timer: Timer::new(after(now, interval)),
            interval,
            next_tick: after(now, interval),
            waiting_since: None,
            last_activity: now,
        }
    }

    /// Bytes were written at `now`: replies are awaited from then on.
    pub(super) fn on_write(&mut self, now: Instant) {
        self.waiting_since.get_or_insert(now);
        self.last_activity = now;
    }

    /// Bytes were read at `now`; `still_awaiting` if replies are still due.
    pub(super) fn on_read(&mut self, now: Instant, still_awaiting: bool) {
        self.waiting_since = still_awaiting.then_some(now);
        self.last_activity = now;
    }

    /// The connection went down: nothing is awaited on it any more.
    pub(super) fn on_disconnect(&mut self, now: Instant) {
        self.waiting_since = None;
        self.last_activity = now;
    }

    /// Wakes the driver at `at` as well as on the regular tick.
    pub(super) fn wake_at(&mut self, at: Instant) {
        if at < self.timer.deadline() {
            self.timer.reset(at);
        }
    }

    /// `Some` when the timer fired; a `Tick` moves the next tick on by the
    /// interval. Call [`rearm`](Heartbeat::rearm) after acting on it.
    pub(super) fn poll_wake(&mut self, cx: &mut Context<'_>) -> Option<Wake> {
        if !self.timer.poll_fired(cx) {
            return None;
        }
        let now = Instant::now();
        if now >= self.next_tick {
            self.next_tick = after(now, self.interval);
            return Some(Wake::Tick);
        }
        Some(Wake::Exact)
    }

    /// Sets the timer to the next tick or the earliest of `exact` wake-ups still ahead.
    pub(super) fn rearm(&mut self, now: Instant, exact: impl IntoIterator<Item = Instant>) {
        let wake = exact
            .into_iter()
            .filter(|&at| at > now)
            .fold(self.next_tick, Instant::min);
        self.timer.reset(wake);
    }

    /// How long nothing was read while replies were awaited, if that is at
    /// least `limit` (zero turns the check off).
    pub(super) fn stalled(&self, now: Instant, limit: Duration) -> Option<Duration> {
        let silent = now.saturating_duration_since(self.waiting_since?);
        (!limit.is_zero() && silent >= limit).then_some(silent)
    }

    /// Whether nothing moved for `limit` (zero turns keep-alive off); the
    /// caller checks that nothing is waiting either.
    pub(super) fn keep_alive_due(&self, now: Instant, limit: Duration) -> bool {
        !limit.is_zero() && now.saturating_duration_since(self.last_activity) >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn a_stall_needs_awaited_replies_and_silence_for_the_whole_limit() {
        let mut hb = Heartbeat::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(
            hb.stalled(t0 + 1000 * MS, 300 * MS),
            None,
            "nothing awaited"
        );
        hb.on_write(t0);
        assert_eq!(hb.stalled(t0 + 299 * MS, 300 * MS), None);
        assert_eq!(hb.stalled(t0 + 300 * MS, 300 * MS), Some(300 * MS));
        assert_eq!(hb.stalled(t0 + 300 * MS, Duration::ZERO), None, "off");
        hb.on_read(t0 + 200 * MS, true);
        assert_eq!(
            hb.stalled(t0 + 400 * MS, 300 * MS),
            None,
            "a read restarts it"
        );
        hb.on_read(t0 + 250 * MS, false);
        assert_eq!(hb.stalled(t0 + 5000 * MS, 300 * MS), None, "all answered");
        hb.on_write(t0 + 300 * MS);
        hb.on_disconnect(t0 + 310 * MS);
        assert_eq!(hb.stalled(t0 + 5000 * MS, 300 * MS), None, "disconnected");
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_is_due_after_idle_limit() {
        let mut hb = Heartbeat::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(!hb.keep_alive_due(t0 + 59 * 1000 * MS, Duration::from_secs(60)));
        assert!(hb.keep_alive_due(t0 + 60 * 1000 * MS, Duration::from_secs(60)));
        assert!(
            !hb.keep_alive_due(t0 + 600 * 1000 * MS, Duration::ZERO),
            "off"
        );
        hb.on_read(t0 + 30 * 1000 * MS, false);
        assert!(!hb.keep_alive_due(t0 + 60 * 1000 * MS, Duration::from_secs(60)));
    }

    #[tokio::test(start_paused = true)]
    async fn exact_wake_ups_come_before_the_tick_and_are_told_apart() {
        let waker = std::task::Waker::noop().clone();
        let mut cx = Context::from_waker(&waker);
        let mut hb = Heartbeat::new(Duration::from_secs(1));
        let t0 = Instant::now();
        hb.wake_at(t0 + 100 * MS);
        assert_eq!(hb.poll_wake(&mut cx), None);
        tokio::time::advance(100 * MS).await;
        assert_eq!(hb.poll_wake(&mut cx), Some(Wake::Exact));
        hb.rearm(Instant::now(), [t0 + 50 * MS]); // already passed: ignored
        tokio::time::advance(900 * MS).await;
        assert_eq!(hb.poll_wake(&mut cx), Some(Wake::Tick));
    }
}
