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
//!   for consumers whose heartbeat (a field of `{q}:consumers`, refreshed as
//!   they pop) is older than a bound. Delivery is therefore at least once
//!   for an item whose consumer died after finishing it but before its ack;
//!   make the work and the ack one transaction (see
//!   [`Consumer::processing_key`]) to make it exactly once.
//!
//! All keys share the hash tag `{q}`, so they live in one cluster slot.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::commands::{HashCommands, ListCommands, ListEnd, PubSubCommands};
use crate::database::Database;
use crate::error::Result;
use crate::multiplexer::Multiplexer;
use crate::pubsub::{Delivery, Subscription};
use crate::ToArg;

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
/// worker.ack(&job).await?;
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
        let nudges = self.mux.subscriber().subscribe([self.channel()]).await?;
        self.recover(id).await?;
        self.db.hset(self.consumers_key(), id, now_ms()).await?;
        Ok(Consumer {
            queue: self.clone(),
            id: id.to_owned(),
            processing: self.processing_key(id),
            nudges,
            beat: std::time::Instant::now(),
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
        let beats: Vec<(String, u64)> = self
            .db
            .hgetall::<crate::HashPairs<String, u64>>(self.consumers_key())
            .await?
            .0;
        let cutoff = now_ms().saturating_sub(silence.as_millis() as u64);
        let mut moved = 0;
        for (id, beat) in beats {
            if beat < cutoff {
                moved += self.recover(&id).await?;
                self.db.hdel(self.consumers_key(), &id).await?;
            }
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
    beat: std::time::Instant,
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
    ///
    /// # Errors
    /// As any awaited command.
    pub async fn ack(&self, job: &Job) -> Result<()> {
        self.queue
            .db
            .lrem(&self.processing, 1, &job.payload)
            .await
            .map(|_| ())
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

    /// Refreshes the heartbeat (fire-and-forget) at most every half poll interval.
    fn heartbeat(&mut self) -> Result<()> {
        if self.beat.elapsed() >= self.queue.poll_interval / 2 {
            self.beat = std::time::Instant::now();
            self.queue
                .db
                .hset(self.queue.consumers_key(), &self.id, now_ms())
                .fire_and_forget()?;
        }
        Ok(())
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
