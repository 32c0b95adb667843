//! A timer the driver's hot loop can check for free.
//!
//! Polling a tokio `Sleep` every turn of the loop costs a visit to the timer
//! entry and the task budget, thousands of times per millisecond under load.
//! Once a `Sleep` has been polled it stays registered and wakes the task
//! when due, so [`Timer::poll_fired`] polls it only to arm it after a reset,
//! or when tokio has marked it elapsed.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use tokio::time::{Instant, Sleep};

pub(super) struct Timer {
    sleep: Pin<Box<Sleep>>,
    /// Polled since the last reset, so its waker is registered.
    armed: bool,
}

impl Timer {
    pub(super) fn new(at: Instant) -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(at)),
            armed: false,
        }
    }

    pub(super) fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    pub(super) fn reset(&mut self, at: Instant) {
        self.sleep.as_mut().reset(at);
        self.armed = false;
    }

    /// True once the deadline has passed.
    pub(super) fn poll_fired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.armed && !self.sleep.is_elapsed() {
            return false;
        }
        self.armed = true;
        self.sleep.as_mut().poll(cx).is_ready()
    }
}
