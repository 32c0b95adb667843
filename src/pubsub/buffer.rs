//! One subscription's bounded buffer: the subscriber's task pushes, the
//! consumer's [`Subscription`](crate::Subscription) stream pops.
//!
//! The task never waits on a consumer: a push always returns at once. When
//! the buffer holds `capacity` items the overflow policy decides:
//! `DropOldest` drops the front message and counts it (the consumer reads a
//! [`Gap::Dropped`] with the count before the next item), `Close` ends the
//! subscription (the consumer reads what was buffered, then
//! [`Delivery::Closed`]). So memory per subscription is bounded by
//! `capacity` messages, whatever the consumer does.
//!
//! A `std::sync::Mutex` guards the queue: each side holds it for one push
//! or one pop, never across an await.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::message::{Delivery, Gap};
use crate::config::Overflow;
use crate::error::Error;

pub(crate) struct Buffer {
    state: Mutex<State>,
    capacity: usize,
    overflow: Overflow,
}

struct State {
    items: VecDeque<Delivery>,
    /// Messages dropped since the consumer last read an item.
    dropped: u64,
    /// The consumer's waker, while it waits.
    waker: Option<Waker>,
    /// Set once: the subscription ended; delivered after the buffered items.
    ended: Option<Error>,
    /// The final `Closed` item was handed out: the stream is over.
    finished: bool,
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Buffered.
    Kept,
    /// Buffered, and the oldest message dropped to make room.
    DroppedOldest,
    /// The buffer was full and the policy is `Close`: the subscription has
    /// ended and its channels should be unsubscribed.
    Overflowed,
    /// The subscription had already ended; nothing was kept.
    Ended,
}

impl Buffer {
    pub(crate) fn new(capacity: usize, overflow: Overflow) -> Buffer {
        Buffer {
            state: Mutex::new(State {
                items: VecDeque::new(),
                dropped: 0,
                waker: None,
                ended: None,
                finished: false,
            }),
            capacity: capacity.max(1),
            overflow,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned lock's data is
        // still a valid queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an item, applying the overflow policy when full. Gaps do not
    /// count against the capacity, and cannot pile up: a reconnect gap
    /// right after another merges with it, and drops are counted in one
    /// gap per run of dropped messages.
    pub(crate) fn push(&self, item: Delivery, overflow_error: impl FnOnce() -> Error) -> Pushed {
        let mut s = self.lock();
        if s.ended.is_some() || s.finished {
            return Pushed::Ended;
        }
        if let Delivery::Gap(Gap::Reconnected { outage }) = &item {
            if let Some(Delivery::Gap(Gap::Reconnected { outage: last })) = s.items.back_mut() {
                *last += *outage;
                return Pushed::Kept;
            }
        }
        let mut pushed = Pushed::Kept;
        let messages = s
            .items
            .iter()
            .filter(|d| matches!(d, Delivery::Message(_)))
            .count();
        if matches!(item, Delivery::Message(_)) && messages >= self.capacity {
            match self.overflow {
                Overflow::Close => {
                    s.ended = Some(overflow_error());
                    pushed = Pushed::Overflowed;
                }
                // Non-exhaustive: any later policy drops as well.
                _ => {
                    if let Some(pos) = s
                        .items
                        .iter()
                        .position(|d| matches!(d, Delivery::Message(_)))
                    {
                        s.items.remove(pos);
                        pushed = Pushed::DroppedOldest;
                        // Report the drop where the message was: first if
                        // it was the oldest item, else after the gaps
                        // before it (merged with a drop count there).
                        if pos == 0 {
                            s.dropped += 1;
                        } else if let Some(Delivery::Gap(Gap::Dropped { count })) =
                            s.items.get_mut(pos - 1)
                        {
                            *count += 1;
                        } else {
                            s.items
                                .insert(pos, Delivery::Gap(Gap::Dropped { count: 1 }));
                        }
                    }
                    s.items.push_back(item);
                }
            }
        } else {
            s.items.push_back(item);
        }
        if let Some(w) = s.waker.take() {
            drop(s);
            w.wake();
        }
        pushed
    }

    /// Ends the subscription with `error` after what is buffered (the
    /// subscriber closed, or the server refused a resubscription).
    pub(crate) fn end(&self, error: Error) {
        let mut s = self.lock();
        if s.ended.is_none() {
            s.ended = Some(error);
        }
        if let Some(w) = s.waker.take() {
            drop(s);
            w.wake();
        }
    }

    pub(crate) fn is_ended(&self) -> bool {
        let s = self.lock();
        s.ended.is_some() || s.finished
    }

    /// How many messages it holds before the overflow policy applies.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Drops every buffered item (not the ending); how many.
    pub(crate) fn clear(&self) -> usize {
        let mut s = self.lock();
        s.dropped = 0;
        let n = s.items.len();
        s.items.clear();
        n
    }

    /// Messages waiting to be read.
    pub(crate) fn len(&self) -> usize {
        self.lock()
            .items
            .iter()
            .filter(|d| matches!(d, Delivery::Message(_)))
            .count()
    }

    /// The next item: a drop count first, then the buffered items in order,
    /// then the ending error once, then the end.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let mut s = self.lock();
        if s.dropped > 0 {
            let count = std::mem::take(&mut s.dropped);
            return Poll::Ready(Some(Delivery::Gap(Gap::Dropped { count })));
        }
        if let Some(item) = s.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if s.finished {
            return Poll::Ready(None);
        }
        if let Some(error) = s.ended.take() {
            s.finished = true;
            return Poll::Ready(Some(Delivery::Closed(error)));
        }
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;
    use crate::pubsub::message::Message;

    fn msg(n: u32) -> Delivery {
        Delivery::Message(Message::new("c", n.to_string()))
    }

    fn drain(b: &Buffer) -> Vec<String> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(d)) = b.poll_next(&mut cx) {
            out.push(match d {
                Delivery::Message(m) => m.payload_str().into_owned(),
                Delivery::Gap(Gap::Dropped { count }) => format!("dropped {count}"),
                Delivery::Gap(g) => format!("{g:?}"),
                Delivery::Closed(e) => format!("closed: {:?}", e.kind()),
            });
        }
        out
    }

    #[test]
    fn drop_oldest_keeps_the_newest_and_reports_the_count_first() {
        let b = Buffer::new(3, Overflow::DropOldest);
        for n in 0..5 {
            let expected = if n < 3 {
                Pushed::Kept
            } else {
                Pushed::DroppedOldest
            };
            assert_eq!(b.push(msg(n), || Error::closed("x")), expected);
        }
        assert_eq!(b.len(), 3);
        assert_eq!(drain(&b), ["dropped 2", "2", "3", "4"]);
    }

    #[test]
    fn close_policy_ends_after_the_buffered_items() {
        let b = Buffer::new(2, Overflow::Close);
        assert_eq!(b.push(msg(0), || Error::closed("x")), Pushed::Kept);
        assert_eq!(b.push(msg(1), || Error::closed("x")), Pushed::Kept);
        assert_eq!(b.push(msg(2), || Error::closed("x")), Pushed::Overflowed);
        assert_eq!(b.push(msg(3), || Error::closed("x")), Pushed::Ended);
        assert_eq!(drain(&b), ["0", "1", "closed: Closed"]);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(b.poll_next(&mut cx), Poll::Ready(None)));
        assert!(b.is_ended(), "still ended after the end was read");
        assert_eq!(b.push(msg(4), || Error::closed("x")), Pushed::Ended);
    }

    fn reconnected() -> Delivery {
        Delivery::Gap(Gap::Reconnected {
            outage: std::time::Duration::from_millis(5),
        })
    }

    #[test]
    fn gaps_stay_in_place_and_cannot_pile_up() {
        let b = Buffer::new(2, Overflow::DropOldest);
        for _ in 0..100 {
            b.push(reconnected(), || Error::closed("x"));
        }
        for n in 0..4 {
            b.push(msg(n), || Error::closed("x"));
        }
        // One merged reconnect gap, then the drop of 0 and 1 after it,
        // then the two newest.
        assert_eq!(
            drain(&b),
            ["Reconnected { outage: 500ms }", "dropped 2", "2", "3"]
        );
    }
}
