//! Command deadlines, kept by the driver rather than by each caller.
//!
//! One timer is set to the earliest deadline of any waiting command. When it
//! fires, the driver asks the pipeline to expire what is due
//! (`Pipeline::expire`): expired backlog entries are removed (they were never
//! sent), expired FIFO entries lose their reply slot but stay in place so
//! the late reply is still matched and dropped. With the usual uniform
//! timeout the earliest deadline belongs to the oldest command, so the timer
//! is rarely reset and a scan happens about once per timeout period, instead
//! of a timer per call. The driver knows the connection's state at the moment
//! of expiry, which goes into the error.

use std::task::Context;

use tokio::time::Instant;

use super::timer::Timer;

/// The timer and the deadline it is set to.
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

    /// True once the earliest watched deadline has passed; the caller then
    /// expires what is due and watches the earliest deadline left.
    pub(super) fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        if self.next.is_some() && self.timer.poll_fired(cx) {
            self.next = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn fires_at_the_earliest_watched_deadline_only() {
        let waker = std::task::Waker::noop().clone();
        let mut cx = Context::from_waker(&waker);
        let mut d = Deadlines::new();
        assert!(!d.poll_due(&mut cx), "nothing watched");
        let now = Instant::now();
        d.watch(now + Duration::from_millis(50));
        d.watch(now + Duration::from_millis(20));
        d.watch(now + Duration::from_millis(90));
        assert!(!d.poll_due(&mut cx));
        tokio::time::advance(Duration::from_millis(21)).await;
        assert!(d.poll_due(&mut cx), "the earliest (20 ms) is due");
        assert!(!d.poll_due(&mut cx), "due once, until watched again");
    }
}
