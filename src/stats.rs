//! Counters: filled by each connection's driver, read by `stats()`.
//!
//! A leaf module: the driver (which fills [`Counters`]) and the multiplexer
//! (which sums them into [`Stats`] over every connection it owns) both
//! import it, so no layer reaches upward for it. Only the driver writes the
//! counters, a few times per batch rather than per command, so they cost
//! little on the hot path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of a multiplexer, from [`Multiplexer::stats`](crate::Multiplexer::stats)
/// (totals over every connection it owns) or
/// [`Multiplexer::stats_by_endpoint`](crate::Multiplexer::stats_by_endpoint)
/// (one connection's).
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) {
/// let s = mux.stats();
/// println!("{} commands in {} writes: {:.1} per write", s.commands_written, s.flushes, s.commands_per_flush());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Commands moved into the write buffer (sent, or about to be),
    /// including the SELECTs and keep-alive PINGs the driver adds.
    pub commands_written: u64,
    /// Replies decoded and matched to a command.
    pub replies_received: u64,
    /// Write calls on the socket; `commands_written / flushes` is the batching factor.
    pub flushes: u64,
    /// Bytes written to the socket.
    pub bytes_out: u64,
    /// Bytes read from the socket.
    pub bytes_in: u64,
    /// Commands written and awaiting their reply, as of the driver's last turn.
    pub in_flight: u64,
    /// Commands accepted but not yet written, as of the driver's last turn.
    pub queued: u64,
    /// How many times a connection was lost.
    pub disconnects: u64,
    /// How many times a connection was made again after a loss.
    pub reconnects: u64,
    /// Awaited commands that ended with a timeout.
    pub timeouts: u64,
    /// Commands (awaited or fire-and-forget) written before a connection
    /// loss, whose outcome is unknown: they may or may not have run.
    pub lost_may_have_run: u64,
    /// Commands the server refused without running them (LOADING, BUSY,
    /// MASTERDOWN, TRYAGAIN) and that were sent again.
    pub retried_not_executed: u64,
    /// Fire-and-forget commands whose reply arrived: they ran (the reply may
    /// still have been an error). Counted as of the driver's last turn, like
    /// `commands_written`: an awaited reply can reach its caller before the
    /// turn that delivered it has published this.
    pub fire_and_forget_acknowledged: u64,
    /// Fire-and-forget commands written before a connection loss, without a
    /// reply: they may or may not have run.
    pub fire_and_forget_unknown: u64,
    /// Fire-and-forget commands dropped without being sent (backlog full,
    /// fail-fast policy, or closed): they did not run.
    pub fire_and_forget_dropped: u64,
    /// PINGs sent because the connection was idle for `keepAlive`.
    pub keepalive_pings: u64,
    /// Connections torn down because nothing was read for `stallTimeout`
    /// while commands awaited replies.
    pub stalls: u64,
    /// Whether the connection is up now; for totals, whether every
    /// connection is.
    pub connected: bool,
}

impl Stats {
    /// Average commands per socket write (0 before the first write).
    pub fn commands_per_flush(&self) -> f64 {
        if self.flushes == 0 {
            0.0
        } else {
            self.commands_written as f64 / self.flushes as f64
        }
    }

    /// The sum of two connections' counters (`connected` if both are).
    pub(crate) fn plus(self, o: Stats) -> Stats {
        Stats {
            commands_written: self.commands_written + o.commands_written,
            replies_received: self.replies_received + o.replies_received,
            flushes: self.flushes + o.flushes,
            bytes_out: self.bytes_out + o.bytes_out,
            bytes_in: self.bytes_in + o.bytes_in,
            in_flight: self.in_flight + o.in_flight,
            queued: self.queued + o.queued,
            disconnects: self.disconnects + o.disconnects,
            reconnects: self.reconnects + o.reconnects,
            timeouts: self.timeouts + o.timeouts,
            lost_may_have_run: self.lost_may_have_run + o.lost_may_have_run,
            retried_not_executed: self.retried_not_executed + o.retried_not_executed,
            fire_and_forget_acknowledged: self.fire_and_forget_acknowledged
                + o.fire_and_forget_acknowledged,
            fire_and_forget_unknown: self.fire_and_forget_unknown + o.fire_and_forget_unknown,
            fire_and_forget_dropped: self.fire_and_forget_dropped + o.fire_and_forget_dropped,
            keepalive_pings: self.keepalive_pings + o.keepalive_pings,
            stalls: self.stalls + o.stalls,
            connected: self.connected && o.connected,
        }
    }
}

/// One connection's counters; each is documented on the [`Stats`] field of the same name.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) commands_written: AtomicU64,
    pub(crate) replies_received: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) lost_may_have_run: AtomicU64,
    pub(crate) retried_not_executed: AtomicU64,
    pub(crate) fire_and_forget_acknowledged: AtomicU64,
    pub(crate) fire_and_forget_unknown: AtomicU64,
    pub(crate) fire_and_forget_dropped: AtomicU64,
    pub(crate) keepalive_pings: AtomicU64,
    pub(crate) stalls: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Relaxed);
        }
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }

    pub(crate) fn set_gauges(&self, in_flight: usize, queued: usize) {
        self.in_flight.store(in_flight as u64, Relaxed);
        self.queued.store(queued as u64, Relaxed);
    }

    pub(crate) fn snapshot(&self, connected: bool) -> Stats {
        let get = Counters::get;
        Stats {
            commands_written: get(&self.commands_written),
            replies_received: get(&self.replies_received),
            flushes: get(&self.flushes),
            bytes_out: get(&self.bytes_out),
            bytes_in: get(&self.bytes_in),
            in_flight: get(&self.in_flight),
            queued: get(&self.queued),
            disconnects: get(&self.disconnects),
            reconnects: get(&self.reconnects),
            timeouts: get(&self.timeouts),
            lost_may_have_run: get(&self.lost_may_have_run),
            retried_not_executed: get(&self.retried_not_executed),
            fire_and_forget_acknowledged: get(&self.fire_and_forget_acknowledged),
            fire_and_forget_unknown: get(&self.fire_and_forget_unknown),
            fire_and_forget_dropped: get(&self.fire_and_forget_dropped),
            keepalive_pings: get(&self.keepalive_pings),
            stalls: get(&self.stalls),
            connected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_counters_and_need_every_connection_up() {
        let a = Stats {
            commands_written: 10,
            flushes: 2,
            connected: true,
            ..Stats::default()
        };
        let b = Stats {
            commands_written: 5,
            flushes: 3,
            stalls: 1,
            connected: false,
            ..Stats::default()
        };
        let sum = a.plus(b);
        assert_eq!((sum.commands_written, sum.flushes, sum.stalls), (15, 5, 1));
        assert!(!sum.connected);
        assert!(a.plus(a).connected);
        assert_eq!(sum.commands_per_flush(), 3.0);
    }
}
