//! The reply slot: where the driver leaves a request's answer and its caller
//! picks it up. One per awaited request, alive while the request is in
//! flight, so it is kept small: one allocation of 64 bytes (the reference
//! counts, a lock word, and one state that is either the caller's waker or
//! the answer), where `tokio::sync::oneshot` takes 96 for the same job
//! because it keeps both sides' wakers and the value side by side.
//!
//! The driver only ever sends; it never waits for the caller, so there is
//! no sender-side waker. The lock is held for a move in or out, never across
//! a wake-up or a drop of the answer; the driver takes it once per answer.
//! (A lock-free slot would need `unsafe`, which this crate forbids; the
//! lock is only ever contended by the one caller polling at that moment.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::request::Answer;
use crate::error::Result;

/// A new slot: the driver's end and the caller's end.
pub(crate) fn channel() -> (ReplySender, ReplyReceiver) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Empty),
    });
    (
        ReplySender {
            slot: Arc::clone(&slot),
        },
        ReplyReceiver { slot },
    )
}

struct Slot {
    state: Mutex<State>,
}

enum State {
    /// Nothing yet, and the caller has not polled.
    Empty,
    /// Nothing yet; wake this when something comes.
    Waiting(Waker),
    /// The answer, not yet taken.
    Done(Result<Answer>),
    /// The answer was taken, or the driver dropped its end without one.
    Closed,
}

impl Slot {
    /// Never poisoned in practice (nothing panics while it is held); if it
    /// were, the state inside is still whole, so it is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `next` in and wakes the caller if it was waiting.
    fn finish(&self, next: State) {
        let before = std::mem::replace(&mut *self.lock(), next);
        if let State::Waiting(waker) = before {
            waker.wake();
        }
    }
}

/// The driver's end: answers the caller once.
pub(crate) struct ReplySender {
    /// One pointer, so that `Option<ReplySender>` is one too (an `Option`
    /// inside to mark "answered" would double it in every FIFO entry).
    slot: Arc<Slot>,
}

impl ReplySender {
    /// Leaves the answer for the caller. If the caller has gone, the answer
    /// is dropped with the slot; the driver has nothing more to do either way.
    pub(crate) fn send(self, answer: Result<Answer>) {
        self.slot.finish(State::Done(answer));
        // `Drop` then sees `Done` and leaves it (a second, uncontended lock).
    }
}

impl Drop for ReplySender {
    /// Dropped unanswered (the driver ended): the caller learns it.
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        if matches!(*state, State::Empty | State::Waiting(_)) {
            let before = std::mem::replace(&mut *state, State::Closed);
            drop(state);
            if let State::Waiting(waker) = before {
                waker.wake();
            }
        }
    }
}

/// The driver dropped the slot without answering.
#[derive(Debug)]
pub(crate) struct Closed;

/// The caller's end: a future of the answer.
pub(crate) struct ReplyReceiver {
    slot: Arc<Slot>,
}

impl Drop for ReplyReceiver {
    /// The caller left: its waker is not kept (nor its task alive) until
    /// the answer comes.
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        if matches!(*state, State::Waiting(_)) {
            let waker = std::mem::replace(&mut *state, State::Empty);
            drop(state);
            drop(waker);
        }
    }
}

impl Future for ReplyReceiver {
    type Output = std::result::Result<Result<Answer>, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        match std::mem::replace(&mut *state, State::Closed) {
            State::Done(answer) => Poll::Ready(Ok(answer)),
            State::Closed => Poll::Ready(Err(Closed)),
            State::Waiting(waker) if waker.will_wake(cx.waker()) => {
                *state = State::Waiting(waker);
                Poll::Pending
            }
            State::Empty | State::Waiting(_) => {
                *state = State::Waiting(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Value;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(rx: &mut ReplyReceiver, waker: &Waker) -> Poll<<ReplyReceiver as Future>::Output> {
        Pin::new(rx).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_slot_is_one_small_allocation() {
        // Arc's two counts plus the slot: tokio's oneshot takes 96.
        assert!(
            std::mem::size_of::<Slot>() + 16 <= 64,
            "{}",
            std::mem::size_of::<Slot>()
        );
        assert_eq!(std::mem::size_of::<Option<ReplySender>>(), 8);
    }

    #[test]
    fn the_answer_wakes_a_waiting_caller_once_and_is_taken_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx, &waker).is_pending());
        assert!(
            poll(&mut rx, &waker).is_pending(),
            "a second poll still waits"
        );
        tx.send(Ok(Answer::One(Value::Int(7))));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        match poll(&mut rx, &waker) {
            Poll::Ready(Ok(Ok(Answer::One(Value::Int(7))))) => {}
            other => panic!("{:?}", other.map(|r| r.map(|a| a.map(|_| ())))),
        }
    }

    #[test]
    fn an_answer_sent_before_the_first_poll_is_ready_at_once() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let (tx, mut rx) = channel();
        tx.send(Ok(Answer::One(Value::Nil)));
        assert!(matches!(poll(&mut rx, &waker), Poll::Ready(Ok(Ok(_)))));
    }

    #[test]
    fn a_sender_dropped_unanswered_closes_the_slot_and_wakes_the_caller() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx, &waker).is_pending());
        drop(tx);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut rx, &waker), Poll::Ready(Err(Closed))));
    }

    #[test]
    fn a_new_waker_replaces_the_old_one() {
        let first = Arc::new(Count(AtomicUsize::new(0)));
        let second = Arc::new(Count(AtomicUsize::new(0)));
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx, &Waker::from(Arc::clone(&first))).is_pending());
        assert!(poll(&mut rx, &Waker::from(Arc::clone(&second))).is_pending());
        tx.send(Ok(Answer::One(Value::Nil)));
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_caller_that_leaves_lets_go_of_its_waker() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx, &Waker::from(Arc::clone(&count))).is_pending());
        assert_eq!(Arc::strong_count(&count), 2, "the slot holds the waker");
        drop(rx);
        assert_eq!(Arc::strong_count(&count), 1, "dropped with the caller");
        tx.send(Ok(Answer::One(Value::Nil)));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "nobody woken");
    }

    #[test]
    fn sending_to_a_caller_that_left_drops_the_answer_quietly() {
        let (tx, rx) = channel();
        let slot = Arc::downgrade(&tx.slot);
        drop(rx);
        tx.send(Ok(Answer::One(Value::Nil)));
        assert!(
            slot.upgrade().is_none(),
            "the slot and its answer are freed"
        );
    }
}
