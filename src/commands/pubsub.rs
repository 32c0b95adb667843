//! Pub/sub publishing and introspection: PUBLISH, SPUBLISH and the PUBSUB
//! subcommands.
//!
//! Subscribing (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE
//! forms) is not here: it turns a connection into a subscriber, which the
//! shared connection cannot become.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// Channels with their subscriber counts, in the order asked: the reply of
/// [`PubSubCommands::pubsub_numsub`] and
/// [`PubSubCommands::pubsub_shardnumsub`].
///
/// A `Vec<(String, u64)>` in a wrapper (the server sends a flat array under
/// RESP2 and a map under RESP3; this type reads both): it derefs to a slice
/// of pairs, iterates as pairs, and [`into_vec`](Self::into_vec) gives the
/// `Vec`.
///
/// ```
/// use redmux::{ChannelCounts, FromValue, Value};
/// let resp2 = Value::Array(vec![Value::BulkString("news".into()), Value::Int(2)]);
/// let counts = ChannelCounts::from_value(resp2).unwrap();
/// assert_eq!(counts.get("news"), Some(2));
/// assert_eq!(counts.into_vec(), vec![("news".to_string(), 2)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelCounts(Vec<(String, u64)>);

impl ChannelCounts {
    /// The `(channel, subscribers)` pairs.
    pub fn into_vec(self) -> Vec<(String, u64)> {
        self.0
    }

    /// The count of `channel`, if it was asked about.
    pub fn get(&self, channel: &str) -> Option<u64> {
        self.0.iter().find(|(c, _)| c == channel).map(|(_, n)| *n)
    }
}

impl std::ops::Deref for ChannelCounts {
    type Target = [(String, u64)];

    fn deref(&self) -> &[(String, u64)] {
        &self.0
    }
}

impl IntoIterator for ChannelCounts {
    type Item = (String, u64);
    type IntoIter = std::vec::IntoIter<(String, u64)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ChannelCounts {
    type Item = &'a (String, u64);
    type IntoIter = std::slice::Iter<'a, (String, u64)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<ChannelCounts> for Vec<(String, u64)> {
    fn from(counts: ChannelCounts) -> Vec<(String, u64)> {
        counts.0
    }
}

impl FromValue for ChannelCounts {
    fn from_value(value: Value) -> Result<Self> {
        let pairs = match value {
            Value::Map(pairs) => pairs,
            Value::Array(items) if items.len() % 2 == 0 => {
                let mut pairs = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                pairs
            }
            Value::Nil => Vec::new(),
            other => {
                return Err(Error::type_conversion(
                    other.type_name(),
                    "ChannelCounts",
                    Some("expected a map or a flat array of channel, count".to_string()),
                ))
            }
        };
        pairs
            .into_iter()
            .map(|(k, v)| Ok((String::from_value(k)?, u64::from_value(v)?)))
            .collect::<Result<_>>()
            .map(ChannelCounts)
    }
}

/// Pub/sub publishing and introspection.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait PubSubCommands: Commands {
    /// [PUBLISH](https://redis.io/commands/publish/): sends `message` to
    /// `channel`; how many clients received it (in a cluster, only those
    /// connected to the node that got it).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let receivers = db.publish("news", "hello").await?;
    /// # Ok(()) }
    /// ```
    fn publish(self, channel: impl ToArg, message: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("PUBLISH").arg(channel).arg(message), TYPED)
    }

    /// [SPUBLISH](https://redis.io/commands/spublish/): sends `message` to
    /// the shard channel `channel` (Redis 7.0+); how many clients received
    /// it. The channel decides the routing, like a key, but never gets a key
    /// prefix.
    fn spublish(self, channel: impl ToArg, message: impl ToArg) -> Self::Out<u64> {
        // `.key` only marks the routing argument; prefixing follows the
        // server's key specs, which flag shard channels as not keys.
        self.issue(Cmd::new("SPUBLISH").key(channel).arg(message), TYPED)
    }

    /// [PUBSUB CHANNELS](https://redis.io/commands/pubsub-channels/): the
    /// channels with at least one subscriber (pattern subscribers not
    /// counted), only those matching the glob `pattern` if given; in no
    /// particular order.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let news: Vec<String> = db.pubsub_channels(Some("news.*")).await?;
    /// # Ok(()) }
    /// ```
    fn pubsub_channels<P: ToArg>(self, pattern: Option<P>) -> Self::Out<Vec<String>> {
        let mut cmd = Cmd::new("PUBSUB").arg("CHANNELS");
        if let Some(pattern) = pattern {
            cmd.push_arg(&pattern);
        }
        self.issue(cmd, TYPED)
    }

    /// [PUBSUB NUMPAT](https://redis.io/commands/pubsub-numpat/): how many
    /// pattern subscriptions exist (across all clients).
    fn pubsub_numpat(self) -> Self::Out<u64> {
        self.issue(Cmd::new("PUBSUB").arg("NUMPAT"), TYPED)
    }

    /// [PUBSUB NUMSUB](https://redis.io/commands/pubsub-numsub/): each of
    /// `channels` with its number of subscribers (pattern subscribers not
    /// counted), in the order given; 0 for channels nobody listens to.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// for (channel, n) in db.pubsub_numsub(["news", "alerts"]).await? {
    ///     println!("{channel}: {n}");
    /// }
    /// # Ok(()) }
    /// ```
    fn pubsub_numsub<N: ToArg>(
        self,
        channels: impl IntoIterator<Item = N>,
    ) -> Self::Out<ChannelCounts> {
        let mut cmd = Cmd::new("PUBSUB").arg("NUMSUB");
        for channel in channels {
            cmd.push_arg(&channel);
        }
        self.issue(cmd, TYPED)
    }

    /// [PUBSUB SHARDCHANNELS](https://redis.io/commands/pubsub-shardchannels/):
    /// the shard channels with at least one subscriber (Redis 7.0+), only
    /// those matching the glob `pattern` if given.
    fn pubsub_shardchannels<P: ToArg>(self, pattern: Option<P>) -> Self::Out<Vec<String>> {
        let mut cmd = Cmd::new("PUBSUB").arg("SHARDCHANNELS");
        if let Some(pattern) = pattern {
            cmd.push_arg(&pattern);
        }
        self.issue(cmd, TYPED)
    }

    /// [PUBSUB SHARDNUMSUB](https://redis.io/commands/pubsub-shardnumsub/):
    /// each of the shard `channels` with its number of subscribers
    /// (Redis 7.0+), in the order given.
    fn pubsub_shardnumsub<N: ToArg>(
        self,
        channels: impl IntoIterator<Item = N>,
    ) -> Self::Out<ChannelCounts> {
        let mut cmd = Cmd::new("PUBSUB").arg("SHARDNUMSUB");
        for channel in channels {
            cmd.push_arg(&channel);
        }
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> PubSubCommands for C {}
