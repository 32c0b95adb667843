//! Requests for slots that no node is known to serve, held until a
//! topology read names an owner.
//!
//! A slot has no owner while the cluster is being set up or repaired
//! (`CLUSTER ADDSLOTS` not run yet, a shard lost with no replica to
//! promote). Sending its commands to some node would only earn `MOVED`
//! loops or `CLUSTERDOWN`; they wait here instead, under the same policy as
//! a connection's backlog: `backlogPolicy=failFast` refuses them at once,
//! `backlogLimit` bounds how many wait, and each keeps its own timeout.
//! The router reads the topology again while any wait and sends each one
//! on as soon as its slot has an owner (a slot whose owner is known but
//! unreachable waits in that node's connection backlog instead).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::{BacklogPolicy, Config};
use crate::connection::request::Request;
use crate::error::{ConnectionState, Error};

/// How often the topology is read again while requests wait for an owner.
pub(super) const OWNER_RECHECK: Duration = Duration::from_millis(250);

struct Waiting {
    slot: u16,
    deadline: Instant,
    request: Request,
}

/// The requests waiting for their slot's owner.
#[derive(Default)]
pub(super) struct Parked {
    waiting: Mutex<Vec<Waiting>>,
    /// `waiting.len()`, read without the lock on every routed command.
    count: AtomicUsize,
    /// A task is re-reading the topology and expiring deadlines.
    watched: AtomicBool,
    /// Wakes that task when a request arrives whose deadline comes before
    /// the task's next wake-up (`wake`).
    pub(super) arrived: Notify,
    wake: Mutex<Option<Instant>>,
    /// Requests that ever waited here (`ClusterStats::waited_for_owner`).
    total: AtomicU64,
}

impl Parked {
    /// Whether nothing waits (one atomic load: the common case).
    pub(super) fn is_empty(&self) -> bool {
        self.count.load(SeqCst) == 0
    }

    /// Holds `req` for `slot` when no node is known to serve it
    /// (`owner_known` false), or when requests for the slot already wait
    /// (they go first); gives it back to be sent otherwise. A request
    /// refused (`backlogPolicy=failFast`, `backlogLimit` reached) is
    /// answered here with an error naming the slot.
    pub(super) fn hold(
        &self,
        slot: u16,
        mut req: Request,
        owner_known: bool,
        config: &Config,
    ) -> Option<Request> {
        let mut waiting = lock(&self.waiting);
        if owner_known && !waiting.iter().any(|w| w.slot == slot) {
            return Some(req);
        }
        let name = req.name();
        if config.backlog_policy == BacklogPolicy::FailFast {
            req.fail(Error::connection_lost(
                &name,
                &no_owner(slot),
                "no node is known to serve the slot and backlogPolicy is failFast",
                false,
            ));
            return None;
        }
        if waiting.len() >= config.backlog_limit {
            req.fail(Error::backlog_full(
                &name,
                &no_owner(slot),
                config.backlog_limit,
            ));
            return None;
        }
        let deadline = req.start_clock(Instant::now());
        waiting.push(Waiting {
            slot,
            deadline,
            request: req,
        });
        self.count.store(waiting.len(), SeqCst);
        self.total.fetch_add(1, Relaxed);
        drop(waiting);
        if lock(&self.wake).is_some_and(|wake| deadline < wake) {
            self.arrived.notify_one();
        }
        None
    }

    /// When the watch task wakes next (to expire deadlines, read the
    /// topology).
    pub(super) fn wake_at(&self, at: Instant) {
        *lock(&self.wake) = Some(at);
    }

    /// Whether the caller should start the watch task (none runs yet).
    pub(super) fn start_watch(&self) -> bool {
        !self.watched.swap(true, Relaxed)
    }

    /// Ends the watch if nothing waits; `false` (keep watching) otherwise.
    pub(super) fn stop_watch_if_empty(&self) -> bool {
        let waiting = lock(&self.waiting);
        if waiting.is_empty() {
            *lock(&self.wake) = None;
            self.watched.store(false, Relaxed);
            return true;
        }
        false
    }

    /// Hands `send`, in arrival order, the requests whose slot has an
    /// owner now (`owner`), while holding the lock: a request for the same
    /// slot routed meanwhile waits behind them, so none overtakes another.
    pub(super) fn release<N>(&self, owner: impl Fn(u16) -> Option<N>, send: impl Fn(N, Request)) {
        let mut waiting = lock(&self.waiting);
        if waiting.is_empty() {
            return;
        }
        for w in std::mem::take(&mut *waiting) {
            match owner(w.slot) {
                Some(node) => send(node, w.request),
                None => waiting.push(w),
            }
        }
        self.count.store(waiting.len(), SeqCst);
    }

    /// Fails the requests whose deadline has passed with a timeout naming
    /// their slot; the earliest deadline left.
    pub(super) fn expire(&self, now: Instant, client_name: Option<&str>) -> Option<Instant> {
        let expired: Vec<Waiting> = {
            let mut waiting = lock(&self.waiting);
            let (expired, still): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut *waiting)
                .into_iter()
                .partition(|w| w.deadline <= now);
            *waiting = still;
            self.count.store(waiting.len(), SeqCst);
            expired
        };
        for w in expired {
            let name = w.request.name();
            let timeout = w.request.timeout;
            let elapsed = timeout + now.saturating_duration_since(w.deadline);
            let state = ConnectionState::of_single(
                no_owner(w.slot),
                client_name.map(str::to_owned),
                false,
                0,
            );
            w.request
                .fail(Error::timeout(&name, elapsed, timeout, false, state));
        }
        lock(&self.waiting).iter().map(|w| w.deadline).min()
    }

    /// Fails everything waiting (the multiplexer closed).
    pub(super) fn fail_all(&self) {
        let all = std::mem::take(&mut *lock(&self.waiting));
        self.count.store(0, SeqCst);
        for w in all {
            let name = w.request.name();
            w.request.fail(Error::closed(&name));
        }
    }

    pub(super) fn total(&self) -> u64 {
        self.total.load(Relaxed)
    }
}

/// What stands in for an endpoint in messages about a slot without one.
fn no_owner(slot: u16) -> String {
    format!(
        "(none: no node is known to serve cluster slot {slot}; the topology is read again \
         every {} ms while commands wait for it; check CLUSTER SHARDS)",
        OWNER_RECHECK.as_millis()
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::reply;

    fn request(timeout: Duration) -> (Request, reply::ReplyReceiver) {
        let (tx, rx) = reply::channel();
        let bytes = bytes::BytesMut::from(&crate::Cmd::new("GET").key("k").into_bytes()[..]);
        (Request::single(bytes, 0, Some(tx), timeout), rx)
    }

    #[tokio::test]
    async fn held_requests_leave_when_their_slot_has_an_owner_or_time_out_naming_it() {
        let parked = Parked::default();
        let config = Config::default();
        let (a, _rx_a) = request(Duration::from_secs(60));
        let (b, rx_b) = request(Duration::from_millis(1));
        let (c, _rx_c) = request(Duration::from_secs(60));
        assert!(parked.hold(7, a, false, &config).is_none());
        assert!(parked.hold(9, b, false, &config).is_none());
        // The owner of 7 is known now, but a request for it waits: this
        // one waits behind it rather than overtake it.
        assert!(parked.hold(7, c, true, &config).is_none());
        let (d, _rx_d) = request(Duration::from_secs(60));
        assert!(
            parked.hold(8, d, true, &config).is_some(),
            "nothing waits for 8"
        );
        assert_eq!(parked.total(), 3);
        let sent = std::cell::RefCell::new(Vec::new());
        parked.release(
            |slot| (slot == 7).then_some(slot),
            |slot, _req| sent.borrow_mut().push(slot),
        );
        assert_eq!(sent.into_inner(), vec![7, 7]);
        assert!(!parked.is_empty());
        let later = Instant::now() + Duration::from_millis(5);
        assert_eq!(parked.expire(later, None), None, "nothing left to wait");
        let err = match rx_b.await {
            Ok(Err(e)) => e,
            _ => panic!("the expired request was not answered with an error"),
        };
        assert!(err.is_timeout(), "{err}");
        assert!(err.to_string().contains("cluster slot 9"), "{err}");
        assert!(parked.stop_watch_if_empty());
    }

    #[test]
    fn fail_fast_and_the_backlog_limit_refuse_at_once() {
        let mut config = Config {
            backlog_limit: 1,
            ..Config::default()
        };
        let parked = Parked::default();
        let refused = |slot: u16, parked: &Parked, config: &Config| {
            let (req, rx) = request(Duration::from_secs(1));
            assert!(parked.hold(slot, req, false, config).is_none());
            match futures_util::FutureExt::now_or_never(rx) {
                Some(Ok(Err(e))) => Some(e),
                _ => None,
            }
        };
        assert!(refused(1, &parked, &config).is_none(), "held");
        let full = refused(1, &parked, &config).expect("refused: the backlog is full");
        assert!(full.to_string().contains("cluster slot 1"), "{full}");
        config.backlog_policy = BacklogPolicy::FailFast;
        let fast = refused(2, &Parked::default(), &config).expect("refused: failFast");
        assert!(fast.to_string().contains("failFast"), "{fast}");
    }
}
