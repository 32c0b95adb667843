//! The flush rule: when the write buffer goes to the socket, and when the
//! driver waits a moment for more commands first. Pure functions of a few
//! counts, so the decisions are tested as tables.
//!
//! The basic rule is the Codis task runner's: drain everything queued into
//! the write buffer, write when nothing more is queued or the buffer passes
//! [`FLUSH_BOUND`]. Two measured refinements keep the commands of many
//! callers in one write (see docs/ARCHITECTURE.md, "The flush rule"):
//! * **hold** ([`should_write`]): while commands are in flight, a small
//!   batch waits for the next reply, which it could not overtake anyway;
//! * **linger** ([`should_linger`]): after delivering N replies, the driver
//!   yields a few turns until about N new commands are queued, because the
//!   callers it just woke run on both workers and queue one by one.

/// Write when the buffer holds this many bytes even if more commands wait:
/// big enough to carry ~1,000 small commands per write, small enough that
/// the first bytes reach the server while the rest are still being copied.
pub(crate) const FLUSH_BOUND: usize = 64 * 1024;

/// Most turns the driver yields, after delivering N replies, waiting for
/// the N woken callers to queue their next commands before it writes.
/// Woken callers run on both workers of a multi-thread runtime, and a
/// caller's send can wake the driver before the others have run; without
/// this the driver writes whatever the first few queued and the batches
/// split. Each turn is a deferred yield, and the wait ends as soon as N
/// commands are waiting, so light load pays nothing.
pub(crate) const MAX_LINGER: u8 = 3;

/// While commands are in flight, a small batch waits for the next reply
/// unless it is at least 1/`HOLD_RATIO` of what is in flight. 4 keeps two
/// to four concurrent callers writing at once (their batch is a large
/// share) while hundreds coalesce.
pub(crate) const HOLD_RATIO: usize = 4;

/// Whether to write the buffer now or hold it for the next reply.
///
/// A command written while others are in flight cannot be answered before
/// them (one connection, replies in order), so there is no hurry: holding a
/// small batch until the next reply arrives lets the commands of many
/// callers, which trickle in one by one, leave in one write. Write at once
/// when nothing is awaiting a reply (light load pays no latency), when
/// replies arrived since the last write, when the buffer is big, or when
/// the batch is a large share of what is in flight.
///
/// `unwritten`: requests in the buffer not yet completely written;
/// `awaiting`: requests written and awaiting replies.
pub(crate) fn should_write(
    buffered: usize,
    replied_since_write: bool,
    unwritten: usize,
    awaiting: usize,
) -> bool {
    if buffered == 0 {
        return false;
    }
    replied_since_write
        || buffered >= FLUSH_BOUND / 4
        || awaiting == 0
        || unwritten * HOLD_RATIO >= awaiting
}

/// Whether to yield once more before writing, so the callers woken by the
/// last replies can queue their commands into the same write.
///
/// `queued`: requests waiting in the channel; `expected`: replies delivered
/// by the turn that started the linger (0: not lingering); `lingers`: turns
/// yielded so far; `buffered`: bytes in the write buffer.
pub(crate) fn should_linger(queued: u64, expected: u64, lingers: u8, buffered: usize) -> bool {
    expected > 0 && queued < expected && lingers < MAX_LINGER && buffered < FLUSH_BOUND
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_rule() {
        // (buffered, replied since write, unwritten, awaiting) -> write now?
        let table = [
            ((0, true, 0, 0), false, "nothing to write"),
            (
                (30, false, 1, 0),
                true,
                "nothing in flight: a lone caller never waits",
            ),
            (
                (30, false, 1, 500),
                false,
                "one command behind 500: wait for the next reply",
            ),
            (
                (30, true, 1, 500),
                true,
                "replies arrived since the last write",
            ),
            (
                (FLUSH_BOUND / 4, false, 400, 5000),
                true,
                "a big buffer goes at once",
            ),
            ((30, false, 1, 4), true, "a quarter of what is in flight"),
            ((30, false, 1, 5), false, "less than a quarter"),
            ((300, false, 125, 500), true, "125 x 4 >= 500"),
        ];
        for ((buffered, replied, unwritten, awaiting), expected, why) in table {
            assert_eq!(
                should_write(buffered, replied, unwritten, awaiting),
                expected,
                "{why}"
            );
        }
    }

    #[test]
    fn linger_rule() {
        // (queued in channel, expected, lingers, buffered) -> yield again?
        let table = [
            ((0, 0, 0, 0), false, "no replies delivered: no linger"),
            ((3, 100, 0, 0), true, "3 of 100 callers queued"),
            ((100, 100, 0, 0), false, "all 100 queued"),
            ((3, 100, MAX_LINGER, 0), false, "lingered enough"),
            ((3, 100, 1, FLUSH_BOUND), false, "the buffer is full anyway"),
        ];
        for ((queued, expected, lingers, buffered), want, why) in table {
            assert_eq!(
                should_linger(queued, expected, lingers, buffered),
                want,
                "{why}"
            );
        }
    }
}
