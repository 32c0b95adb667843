//! The driver's timers.
//!
//! A thin wrapper over a tokio `Sleep`. It is polled on every turn of the
//! loop: skipping polls while "armed" is unsafe, because `Sleep::poll`
//! spends the task's coop budget first and, when the budget is exhausted,
//! returns `Pending` without registering the timer at all; a timer believed
//! armed would then never fire.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// As far ahead as any deadline goes (about 30 years, as tokio's own "far
/// future"): durations come from callers and from `Config`s built in code,
/// and `Instant + Duration::MAX` would panic the driver.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `d`, at most [`FAR_FUTURE`]: safe to add to any instant.
pub(super) fn capped(d: Duration) -> Duration {
    d.min(FAR_FUTURE)
}

/// `now + d`, capped at [`FAR_FUTURE`] so it cannot overflow.
pub(super) fn after(now: Instant, d: Duration) -> Instant {
    now + capped(d)
}

pub(super) struct Timer {
    sleep: Pin<Box<Sleep>>,
}

impl Timer {
    pub(super) fn new(at: Instant) -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(at)),
        }
    }

    pub(super) fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    pub(super) fn reset(&mut self, at: Instant) {
        self.sleep.as_mut().reset(at);
    }

    /// True once the deadline has passed.
    pub(super) fn poll_fired(&mut self, cx: &mut Context<'_>) -> bool {
        self.sleep.as_mut().poll(cx).is_ready()
    }
}
