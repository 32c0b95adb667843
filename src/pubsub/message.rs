//! What a subscription delivers: [`Message`]s, [`Gap`]s where messages were
//! lost, and parsed keyspace notifications ([`KeyspaceEvent`]).
//!
//! Built by the subscriber's task from the server's `message`, `pmessage`
//! and `smessage` frames; read on the consumer's task.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;

/// One published message.
///
/// The channel name has the configured `channelPrefix` taken off (so it
/// reads as the name the subscription asked for); the payload is the
/// published bytes, unchanged and uncopied.
///
/// ```
/// # use redmux::Message;
/// # fn show(msg: &Message) {
/// println!("{} says {}", msg.channel_str(), msg.payload_str());
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub(crate) channel: Bytes,
    pub(crate) pattern: Option<Bytes>,
    pub(crate) payload: Bytes,
}

impl Message {
    /// The channel it was published on (without `channelPrefix`).
    pub fn channel(&self) -> &Bytes {
        &self.channel
    }

    /// The channel as text (invalid UTF-8 replaced).
    pub fn channel_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.channel)
    }

    /// The pattern that matched, for a pattern subscription (`PSUBSCRIBE`).
    pub fn pattern(&self) -> Option<&Bytes> {
        self.pattern.as_ref()
    }

    /// The published payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The payload as text (invalid UTF-8 replaced).
    pub fn payload_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.payload)
    }

    /// The payload, consuming the message.
    pub fn into_payload(self) -> Bytes {
        self.payload
    }

    /// The keyspace notification this message carries, if it is one (a
    /// message on `__keyspace@<db>__:<key>` or `__keyevent@<db>__:<event>`).
    ///
    /// ```
    /// use redmux::{KeyspaceEvent, Message};
    /// let msg = Message::new("__keyspace@0__:user:1", "expired");
    /// assert_eq!(
    ///     msg.keyspace_event(),
    ///     Some(KeyspaceEvent { db: 0, key: "user:1".into(), event: "expired".into() })
    /// );
    /// let msg = Message::new("__keyevent@3__:del", "cart:9");
    /// assert_eq!(msg.keyspace_event().map(|e| (e.db, e.event)), Some((3, "del".to_string())));
    /// ```
    pub fn keyspace_event(&self) -> Option<KeyspaceEvent> {
        KeyspaceEvent::parse(&self.channel, &self.payload)
    }

    /// A message built by hand (for tests and handlers' unit tests).
    pub fn new(channel: impl Into<Bytes>, payload: impl Into<Bytes>) -> Message {
        Message {
            channel: channel.into(),
            pattern: None,
            payload: payload.into(),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Message");
        d.field("channel", &self.channel_str());
        if let Some(p) = &self.pattern {
            d.field("pattern", &String::from_utf8_lossy(p));
        }
        d.field("payload_len", &self.payload.len()).finish()
    }
}

/// Messages that a subscription did not receive, in the place they would
/// have been.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gap {
    /// The subscriber's connection was lost and made again, and every
    /// channel subscribed again; messages published in between (for about
    /// `outage`) are lost: Redis keeps none for absent subscribers.
    Reconnected {
        /// From the loss to the new connection's resubscription.
        outage: Duration,
    },
    /// The subscription's buffer was full (`subscriptionBuffer`) and the
    /// consumer had not read: this many of the oldest messages were dropped
    /// (`subscriptionOverflow=dropOldest`).
    Dropped {
        /// Messages dropped since the last item read.
        count: u64,
    },
    /// A shard channel's cluster slot moved to another primary (a
    /// resharding or a failover), and the channel was subscribed there;
    /// messages published between the move and the new subscription are
    /// lost.
    Resubscribed {
        /// The shard channel (without `channelPrefix`).
        channel: String,
        /// The node it was subscribed on.
        from: String,
        /// The node it is subscribed on now.
        to: String,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::Reconnected { outage } => write!(
                f,
                "the subscriber reconnected after {} ms; messages published meanwhile are lost",
                outage.as_millis()
            ),
            Gap::Dropped { count } => write!(
                f,
                "{count} messages dropped: the consumer fell behind and the subscription buffer \
                 was full (raise subscriptionBuffer or read faster)"
            ),
            Gap::Resubscribed { channel, from, to } => write!(
                f,
                "shard channel {channel} moved with its slot from {from} to {to} and was \
                 subscribed there; messages published during the move are lost"
            ),
        }
    }
}

/// One item of a [`Subscription`](crate::Subscription) stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum Delivery {
    /// A message, in publication order per channel.
    Message(Message),
    /// Messages were lost here (a reconnect, or a full buffer).
    Gap(Gap),
    /// The subscription ended: the subscriber was closed, or the consumer
    /// fell behind with `subscriptionOverflow=close`. Always the last item.
    Closed(Error),
}

/// A parsed keyspace notification (see
/// [Redis keyspace notifications](https://redis.io/docs/latest/develop/use/keyspace-notifications/)).
///
/// The server sends them only when `notify-keyspace-events` enables them,
/// e.g. `CONFIG SET notify-keyspace-events KEA`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyspaceEvent {
    /// The database the key lives in.
    pub db: u32,
    /// The key.
    pub key: Bytes,
    /// The event: `set`, `del`, `expired`, `evicted`, `lpush`, ….
    pub event: String,
}

impl KeyspaceEvent {
    /// Reads `__keyspace@<db>__:<key>` (payload: the event) or
    /// `__keyevent@<db>__:<event>` (payload: the key).
    fn parse(channel: &[u8], payload: &Bytes) -> Option<KeyspaceEvent> {
        let (rest, keyspace) = if let Some(rest) = channel.strip_prefix(b"__keyspace@") {
            (rest, true)
        } else {
            (channel.strip_prefix(b"__keyevent@")?, false)
        };
        let split = rest.windows(3).position(|w| w == b"__:")?;
        let db = std::str::from_utf8(&rest[..split]).ok()?.parse().ok()?;
        let name = &rest[split + 3..];
        Some(if keyspace {
            KeyspaceEvent {
                db,
                key: Bytes::copy_from_slice(name),
                event: String::from_utf8_lossy(payload).into_owned(),
            }
        } else {
            KeyspaceEvent {
                db,
                key: payload.clone(),
                event: String::from_utf8_lossy(name).into_owned(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_and_keyevent_channels_parse_and_others_do_not() {
        let e = Message::new("__keyspace@12__:a:b:c", "set")
            .keyspace_event()
            .unwrap();
        assert_eq!(
            (e.db, &e.key[..], e.event.as_str()),
            (12, &b"a:b:c"[..], "set")
        );
        let e = Message::new("__keyevent@0__:expired", "k")
            .keyspace_event()
            .unwrap();
        assert_eq!(
            (e.db, &e.key[..], e.event.as_str()),
            (0, &b"k"[..], "expired")
        );
        for channel in ["news", "__keyspace@x__:k", "__keyspace@0_k", "__keyevent@"] {
            assert_eq!(
                Message::new(channel, "p").keyspace_event(),
                None,
                "{channel}"
            );
        }
    }

    #[test]
    fn debug_shows_channel_and_size_not_payload() {
        let text = format!("{:?}", Message::new("news", "secret-token"));
        assert!(text.contains("news") && text.contains("12"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
