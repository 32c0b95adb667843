//! The work queue: what replaces a blocking pop on a shared connection.
//!
//! ```text
//!  producer ── LPUSH {q} item (fire-and-forget) ── PUBLISH {q}:nudge "" ──▶ every consumer
//!                                                                             │ woken
//!  consumer ◀── LMOVE {q} → {q}:processing:<id> (RIGHT → LEFT) until nil ◀────┘
//!      │ work
//!      └── ack: LREM {q}:processing:<id> 1 item
//! ```
//!
//! - **Nothing blocks**: consumers never BLPOP; they subscribe to the
//!   queue's nudge channel and pop with LMOVE until the list is empty, then
//!   wait for the next nudge (or `poll_interval`, in case a nudge fell in a
//!   reconnect's gap). Every command goes over the shared multiplexer.
//! - **Backlog first**: a consumer subscribes *before* its first pop, so an
//!   item pushed while it starts is either popped by the drain or announced
//!   by a nudge it will read.
//! - **Each item to exactly one consumer**: LMOVE is atomic; the item leaves
//!   the queue and lands in that consumer's processing list in one step.
//! - **Nothing lost when a consumer dies**: what it took and did not ack
//!   stays in its processing list. A consumer started again with the same
//!   id puts those items back first; [`WorkQueue::recover_stale`] does it
//!   for consumers whose heartbeat (a field of `{q}:consumers`, written
//!   with the server's clock as they pop) is older than a bound, checked
//!   and moved in one script.
//! - **At least once, or exactly once.** An item whose consumer died after
//!   doing the work but before the ack is done again by another. When the
//!   work is itself a Redis write, put it and the ack in one transaction
//!   (`LREM` on [`Consumer::processing_key`]): a consumer killed at any
//!   moment did both or neither, and restarting it with its id makes each
//!   item done exactly once (tests/work_queue.rs, with 100,000 items and
//!   consumers killed every 50 ms). `recover_stale` on a consumer that was
//!   only slow breaks that: its item goes back and is done twice; the
//!   slow consumer's [`ack`](Consumer::ack) then returns `false`.
//!
//! All keys share the hash tag `{q}`, so they live in one cluster slot.

use std::time::Duration;

use bytes::Bytes;

use crate::commands::{HashCommands, ListCommands, ListEnd, PubSubCommands};
use crate::config::Overflow;
use crate::database::Database;
use crate::error::Result;
use crate::multiplexer::Multiplexer;
use crate::pubsub::{Delivery, Subscription};
use crate::script::Script;
use crate::ToArg;

/// Writes a consumer's heartbeat with the server's clock (ms), so that
/// consumers and recoverers on machines whose clocks differ agree.
/// KEYS: consumers hash; ARGV: consumer id.
const BEAT: &str = "local t = redis.call('TIME') \
    redis.call('HSET', KEYS[1], ARGV[1], t[1] * 1000 + math.floor(t[2] / 1000)) \
    return 1";

/// Recovers a consumer only if its heartbeat is still older than the
/// bound when the script runs: a beat between reading the heartbeats and
/// recovering cannot be missed. KEYS: consumers hash, processing list,
/// queue; ARGV: consumer id, silence in ms. Returns the items moved, or -1.
const RECOVER_IF_STALE: &str = "local t = redis.call('TIME') \
    local now = t[1] * 1000 + math.floor(t[2] / 1000) \
    local beat = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') \
    if now - beat < tonumber(ARGV[2]) then return -1 end \
    local n = 0 \
    while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do n = n + 1 end \
    redis.call('HDEL', KEYS[1], ARGV[1]) \
    return n";

/// How long a consumer with nothing to do waits for a nudge before looking
/// at the list again anyway: nudges published during a subscriber
/// reconnect are lost, and this bounds the delay that can cause.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A named queue of work items on one Redis list. Cheap to clone.
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
/// use redmux::queue::WorkQueue;
///
/// let emails = WorkQueue::new(&mux, "emails");
/// emails.push("to=ann@example.com")?;                 // fire-and-forget
///
/// let mut worker = emails.consumer("worker-1").await?;
/// let job = worker.next().await?;                       // drains the backlog, then waits for nudges
/// println!("sending {}", job.payload_str());
/// assert!(worker.ack(&job).await?);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct WorkQueue {
    mux: Multiplexer,
    db: Database,
    name: String,
    poll_interval: Duration,
}

impl WorkQueue {
    /// The queue `name` in the multiplexer's default database.
    pub fn new(mux: &Multiplexer, name: &str) -> WorkQueue {
        WorkQueue {
            mux: mux.clone(),
            db: mux.default_database(),
            name: name.to_owned(),
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// The same queue, with consumers that look at the list at least every
    /// `interval` when no nudge comes (default [`DEFAULT_POLL_INTERVAL`]).
    pub fn with_poll_interval(mut self, interval: Duration) -> WorkQueue {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The list holding the waiting items: `{name}`.
    pub fn key(&self) -> String {
        format!("{{{}}}", self.name)
    }

    /// The channel consumers are nudged on: `{name}:nudge` (with
    /// `channelPrefix` in front, if configured).
    pub fn channel(&self) -> String {
        format!("{{{}}}:nudge", self.name)
    }

    fn processing_key(&self, consumer: &str) -> String {
        format!("{{{}}}:processing:{consumer}", self.name)
    }

    fn consumers_key(&self) -> String {
        format!("{{{}}}:consumers", self.name)
    }

    /// Adds an item and nudges the consumers, fire-and-forget: returns at
    /// once; both commands leave in order on the shared connection.
    ///
    /// # Errors
    /// Only if the multiplexer is closed or its backlog is full.
    pub fn push(&self, item: impl ToArg) -> Result<()> {
        self.db.lpush(self.key(), item).fire_and_forget()?;
        self.db.publish(self.channel(), "").fire_and_forget()
    }

    /// Adds an item and nudges the consumers, waiting for the server to
    /// confirm the push; the queue's length after it.
    ///
    /// # Errors
    /// As any awaited command (timeout, connection lost, …).
    pub async fn push_confirmed(&self, item: impl ToArg) -> Result<u64> {
        let len = self.db.lpush(self.key(), item).await?;
        self.db.publish(self.channel(), "").fire_and_forget()?;
        Ok(len)
    }

    /// Items waiting (not taken by any consumer).
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn len(&self) -> Result<u64> {
        self.db.llen(self.key()).await
    }

    /// Starts consumer `id`: subscribes to the nudges, registers its
    /// heartbeat, and puts back what a previous consumer with this id took
    /// and never acknowledged.
    ///
    /// # Errors
    /// As [`Subscriber::subscribe`](crate::Subscriber::subscribe) and any
    /// awaited command.
    pub async fn consumer(&self, id: &str) -> Result<Consumer> {
        // Subscribe first: an item pushed from here on is either seen by
        // the first drain or announced by a nudge this subscription holds.
        // One buffered nudge is all a consumer needs ("look again"), and
        // dropping the rest keeps it working whatever the configured
        // overflow policy.
        let nudges = self
            .mux
            .subscriber()
            .with_buffer(1, Overflow::DropOldest)
            .subscribe([self.channel()])
            .await?;
        let recovered = self.recover(id).await?;
        let beat = Script::new(BEAT);
        beat.run::<i64, _, _>(&self.db, [self.consumers_key()], [id])
            .await?;
        Ok(Consumer {
            queue: self.clone(),
            id: id.to_owned(),
            processing: self.processing_key(id),
            nudges,
            beat,
            last_beat: std::time::Instant::now(),
            recovered,
        })
    }

    /// Puts every item in consumer `id`'s processing list back at the
    /// consuming end of the queue (it died, or is being restarted); how
    /// many. Nudges the consumers if any.
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn recover(&self, id: &str) -> Result<u64> {
        let processing = self.processing_key(id);
        let mut moved = 0;
        while self
            .db
            .lmove::<Bytes>(&processing, self.key(), ListEnd::Left, ListEnd::Right)
            .await?
            .is_some()
        {
            moved += 1;
        }
        if moved > 0 {
            self.db.publish(self.channel(), "").fire_and_forget()?;
        }
        Ok(moved)
    }

    /// Recovers every consumer whose heartbeat is older than `silence`
    /// (consumers beat when they pop, at least every `poll_interval` while
    /// they wait) and forgets it; how many items went back. Pick `silence`
    /// well above the longest time one item takes to process: a live
    /// consumer recovered by mistake gets its items processed twice.
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn recover_stale(&self, silence: Duration) -> Result<u64> {
        let ids: Vec<String> = self.db.hkeys(self.consumers_key()).await?;
        let script = Script::new(RECOVER_IF_STALE);
        let silence_ms = u64::try_from(silence.as_millis()).unwrap_or(u64::MAX);
        let mut moved = 0;
        for id in ids {
            let keys = [self.consumers_key(), self.processing_key(&id), self.key()];
            let n: i64 = script
                .run(&self.db, keys, [id.clone(), silence_ms.to_string()])
                .await?;
            moved += u64::try_from(n).unwrap_or(0);
        }
        if moved > 0 {
            self.db.publish(self.channel(), "").fire_and_forget()?;
        }
        Ok(moved)
    }
}

/// One consumer of a [`WorkQueue`] (see [`WorkQueue::consumer`]).
#[derive(Debug)]
pub struct Consumer {
    queue: WorkQueue,
    id: String,
    processing: String,
    nudges: Subscription,
    beat: Script,
    last_beat: std::time::Instant,
    recovered: u64,
}

/// An item taken from the queue; it stays in the consumer's processing
/// list until [`Consumer::ack`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    payload: Bytes,
}

impl Job {
    /// The item as pushed.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The item as text (invalid UTF-8 replaced).
    pub fn payload_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.payload)
    }
}

impl Consumer {
    /// The consumer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Items a previous consumer with this id had taken and not
    /// acknowledged, put back when this one started.
    pub fn recovered_at_start(&self) -> u64 {
        self.recovered
    }

    /// The list this consumer's taken, unacknowledged items wait in
    /// (`{name}:processing:<id>`): acknowledge inside your own transaction
    /// with `LREM <key> 1 <item>` to make the work and the ack atomic.
    pub fn processing_key(&self) -> &str {
        &self.processing
    }

    /// The next item: pops at once if the queue has one, else waits for a
    /// nudge (or `poll_interval`) and pops again, for as long as it takes.
    ///
    /// # Errors
    /// As any awaited command; the subscription's end (multiplexer closed)
    /// is kind `Closed`.
    ///
    /// # Cancel safety
    /// Not cancel safe: a pop already sent when the future is dropped moves
    /// its item to the processing list, where it waits for
    /// [`WorkQueue::recover`] (or this consumer's restart).
    pub async fn next(&mut self) -> Result<Job> {
        loop {
            if let Some(job) = self.try_next().await? {
                return Ok(job);
            }
            self.wait_for_nudge().await?;
        }
    }

    /// Pops one item if the queue has one, without waiting.
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn try_next(&mut self) -> Result<Option<Job>> {
        self.heartbeat()?;
        let db = &self.queue.db;
        let item: Option<Bytes> = db
            .lmove(
                self.queue.key(),
                &self.processing,
                ListEnd::Right,
                ListEnd::Left,
            )
            .await?;
        Ok(item.map(|payload| Job { payload }))
    }

    /// Acknowledges a finished item: removes it from the processing list.
    /// `false` if it was no longer there: `recover_stale` gave it back to
    /// the queue meanwhile, so another consumer may do it again.
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn ack(&self, job: &Job) -> Result<bool> {
        let removed = self
            .queue
            .db
            .lrem(&self.processing, 1, &job.payload)
            .await?;
        Ok(removed > 0)
    }

    /// Waits for a nudge or the poll interval; drops the nudges already
    /// buffered (the drain that follows covers them).
    async fn wait_for_nudge(&mut self) -> Result<()> {
        let interval = self.queue.poll_interval;
        match tokio::time::timeout(interval, self.nudges.recv()).await {
            Err(_) => {}
            Ok(Some(Delivery::Closed(e))) => return Err(e),
            Ok(None) => return Err(crate::Error::closed("SUBSCRIBE")),
            Ok(Some(_)) => {}
        }
        self.nudges.discard_buffered();
        Ok(())
    }

    /// Refreshes the heartbeat (fire-and-forget, EVAL of a two-line
    /// script) at most every half poll interval.
    fn heartbeat(&mut self) -> Result<()> {
        if self.last_beat.elapsed() >= self.queue.poll_interval / 2 {
            self.last_beat = std::time::Instant::now();
            let cmd = self
                .beat
                .eval_cmd([self.queue.consumers_key()], [self.id.as_str()]);
            self.queue.db.send::<()>(cmd).fire_and_forget()?;
        }
        Ok(())
    }
}
