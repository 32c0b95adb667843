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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{BacklogPolicy, Config};
use crate::connection::request::Request;
use crate::error::{ConnectionState, Error, Result};

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
    /// A task is re-reading the topology and expiring deadlines.
    watched: AtomicBool,
    /// Requests that ever waited here (`ClusterStats::waited_for_owner`).
    total: AtomicU64,
}

impl Parked {
    /// Holds `req` for `slot`; refused (and given back to the caller's
    /// error) with `backlogPolicy=failFast` or once `backlogLimit` wait.
    pub(super) fn hold(&self, slot: u16, mut req: Request, config: &Config) -> Result<()> {
        let name = req.name();
        if config.backlog_policy == BacklogPolicy::FailFast {
            return Err(Error::connection_lost(
                &name,
                &no_owner(slot),
                "no node is known to serve the slot and backlogPolicy is failFast",
                false,
            ));
        }
        let mut waiting = lock(&self.waiting);
        if waiting.len() >= config.backlog_limit {
            return Err(Error::backlog_full(
                &name,
                &no_owner(slot),
                config.backlog_limit,
            ));
        }
        let deadline = req.start_clock(Instant::now());
        waiting.push(Waiting {
            slot,
            deadline,
            request: req,
        });
        self.total.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Whether the caller should start the watch task (none runs yet).
    pub(super) fn start_watch(&self) -> bool {
        !self.watched.swap(true, Relaxed)
    }

    /// Ends the watch if nothing waits; `false` (keep watching) otherwise.
    pub(super) fn stop_watch_if_empty(&self) -> bool {
        let waiting = lock(&self.waiting);
        if waiting.is_empty() {
            self.watched.store(false, Relaxed);
            return true;
        }
        false
    }

    /// Takes out, in arrival order, the requests whose slot `owned` says
    /// has an owner now.
    pub(super) fn take_owned(&self, owned: impl Fn(u16) -> bool) -> Vec<(u16, Request)> {
        let mut waiting = lock(&self.waiting);
        if waiting.is_empty() {
            return Vec::new();
        }
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut *waiting)
            .into_iter()
            .partition(|w| owned(w.slot));
        *waiting = still;
        ready.into_iter().map(|w| (w.slot, w.request)).collect()
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
        parked.hold(7, a, &config).unwrap();
        parked.hold(9, b, &config).unwrap();
        assert_eq!(parked.total(), 2);
        let ready = parked.take_owned(|slot| slot == 7);
        assert_eq!(ready.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![7]);
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
        parked
            .hold(1, request(Duration::from_secs(1)).0, &config)
            .unwrap();
        let full = parked
            .hold(1, request(Duration::from_secs(1)).0, &config)
            .unwrap_err();
        assert!(full.to_string().contains("cluster slot 1"), "{full}");
        config.backlog_policy = BacklogPolicy::FailFast;
        let fast = Parked::default()
            .hold(2, request(Duration::from_secs(1)).0, &config)
            .unwrap_err();
        assert!(fast.to_string().contains("failFast"), "{fast}");
    }
}
