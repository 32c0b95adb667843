//! Hash commands: HSET, HGET, HGETALL, HDEL, HINCRBY, HRANDFIELD, ….
//!
//! HSCAN is a stream: see [`Database::hscan`](crate::Database::hscan).

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{push_args, Commands, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// `(field, value)` pairs of a hash, in the order the server sent them.
///
/// What [`HashCommands::hrandfield_with_values`] returns, and one way to
/// read [`HashCommands::hgetall`] while keeping the server's order. Reads
/// all three reply shapes: a RESP3 map, a RESP2 flat array
/// `[f1, v1, f2, v2, …]` and a RESP3 array of pairs `[[f1, v1], …]`.
///
/// ```
/// use redmux::{FromValue, HashPairs, Value};
/// let flat = Value::Array(vec![
///     Value::BulkString("f".into()),
///     Value::BulkString("1".into()),
/// ]);
/// let pairs = HashPairs::<String, i64>::from_value(flat).unwrap();
/// assert_eq!(pairs.into_vec(), vec![("f".to_owned(), 1)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashPairs<F, V>(pub Vec<(F, V)>);

impl<F, V> HashPairs<F, V> {
    /// The pairs as a vector.
    pub fn into_vec(self) -> Vec<(F, V)> {
        self.0
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, borrowed.
    pub fn iter(&self) -> std::slice::Iter<'_, (F, V)> {
        self.0.iter()
    }
}

impl<F, V> From<HashPairs<F, V>> for Vec<(F, V)> {
    fn from(pairs: HashPairs<F, V>) -> Vec<(F, V)> {
        pairs.0
    }
}

impl<F, V> IntoIterator for HashPairs<F, V> {
    type Item = (F, V);
    type IntoIter = std::vec::IntoIter<(F, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, F, V> IntoIterator for &'a HashPairs<F, V> {
    type Item = &'a (F, V);
    type IntoIter = std::slice::Iter<'a, (F, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

fn pair_mismatch<F, V>(found: &Value, detail: Option<String>) -> Error {
    Error::type_conversion(
        found.type_name(),
        std::any::type_name::<HashPairs<F, V>>(),
        detail,
    )
}

impl<F: FromValue, V: FromValue> FromValue for HashPairs<F, V> {
    fn from_value(value: Value) -> Result<HashPairs<F, V>> {
        let items = match value {
            Value::Nil => return Ok(HashPairs(Vec::new())),
            Value::Map(pairs) => {
                return pairs
                    .into_iter()
                    .map(|(f, v)| Ok((F::from_value(f)?, V::from_value(v)?)))
                    .collect::<Result<Vec<_>>>()
                    .map(HashPairs);
            }
            Value::Array(items) | Value::Set(items) => items,
            other => return Err(pair_mismatch::<F, V>(&other, None)),
        };
        let nested = matches!(items.first(), Some(Value::Array(_)));
        if nested {
            // RESP3: [[f1, v1], [f2, v2], …].
            items
                .into_iter()
                .map(|item| match item {
                    Value::Array(pair) if pair.len() == 2 => {
                        let mut it = pair.into_iter();
                        match (it.next(), it.next()) {
                            (Some(f), Some(v)) => Ok((F::from_value(f)?, V::from_value(v)?)),
                            _ => Err(Error::type_conversion(
                                "array",
                                std::any::type_name::<HashPairs<F, V>>(),
                                None,
                            )),
                        }
                    }
                    other => Err(pair_mismatch::<F, V>(
                        &other,
                        Some("expected a [field, value] pair".to_owned()),
                    )),
                })
                .collect::<Result<Vec<_>>>()
                .map(HashPairs)
        } else {
            // RESP2: [f1, v1, f2, v2, …].
            if items.len() % 2 != 0 {
                return Err(Error::type_conversion(
                    "array",
                    std::any::type_name::<HashPairs<F, V>>(),
                    Some(format!(
                        "expected an even number of elements, got {}",
                        items.len()
                    )),
                ));
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                out.push((F::from_value(f)?, V::from_value(v)?));
            }
            Ok(HashPairs(out))
        }
    }
}

/// Hash commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
/// HSCAN is a stream: see [`Database::hscan`](crate::Database::hscan).
pub trait HashCommands: Commands {
    /// [HDEL](https://redis.io/commands/hdel/): removes `field` from the hash
    /// at `key`; `true` if it existed.
    fn hdel(self, key: impl ToArg, field: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("HDEL").key(key).arg(field), TYPED)
    }

    /// [HDEL](https://redis.io/commands/hdel/) of several fields; how many
    /// existed and were removed.
    fn hdel_many<F: ToArg>(
        self,
        key: impl ToArg,
        fields: impl IntoIterator<Item = F>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("HDEL").key(key);
        push_args(&mut cmd, fields);
        self.issue(cmd, TYPED)
    }

    /// [HEXISTS](https://redis.io/commands/hexists/): whether the hash at
    /// `key` has `field` (`false` for a missing key).
    fn hexists(self, key: impl ToArg, field: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("HEXISTS").key(key).arg(field), TYPED)
    }

    /// [HGET](https://redis.io/commands/hget/): the value of `field`; read it
    /// as `Option<T>` to get `None` for a missing field or key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let name: Option<String> = db.hget("user:1", "name").await?;
    /// # Ok(()) }
    /// ```
    fn hget<T: FromValue>(self, key: impl ToArg, field: impl ToArg) -> Self::Out<T> {
        let room = key.len_hint() + field.len_hint();
        self.issue(Cmd::sized("HGET", room).key(key).arg(field), TYPED)
    }

    /// [HGETALL](https://redis.io/commands/hgetall/): every field and value
    /// of the hash (empty for a missing key). Read it as a
    /// `HashMap<F, V>`, a `BTreeMap<F, V>` or a [`HashPairs<F, V>`] (server
    /// order).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::collections::HashMap;
    /// let user: HashMap<String, String> = db.hgetall("user:1").await?;
    /// # Ok(()) }
    /// ```
    fn hgetall<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("HGETALL").key(key), TYPED)
    }

    /// [HINCRBY](https://redis.io/commands/hincrby/): adds `delta` to the
    /// integer in `field` (missing counts as 0); returns the new value.
    fn hincrby(self, key: impl ToArg, field: impl ToArg, delta: i64) -> Self::Out<i64> {
        self.issue(Cmd::new("HINCRBY").key(key).arg(field).arg(delta), TYPED)
    }

    /// [HINCRBYFLOAT](https://redis.io/commands/hincrbyfloat/): adds `delta`
    /// to the number in `field` (missing counts as 0); returns the new value.
    fn hincrbyfloat(self, key: impl ToArg, field: impl ToArg, delta: f64) -> Self::Out<f64> {
        self.issue(
            Cmd::new("HINCRBYFLOAT").key(key).arg(field).arg(delta),
            TYPED,
        )
    }

    /// [HKEYS](https://redis.io/commands/hkeys/): the field names of the
    /// hash (empty for a missing key); read as `Vec<F>` or `HashSet<F>`.
    fn hkeys<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("HKEYS").key(key), TYPED)
    }

    /// [HLEN](https://redis.io/commands/hlen/): how many fields the hash has
    /// (0 for a missing key).
    fn hlen(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("HLEN").key(key), TYPED)
    }

    /// [HMGET](https://redis.io/commands/hmget/): the values of `fields`, in
    /// order; `None` for each missing field (all `None` for a missing key).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let values: Vec<Option<String>> = db.hmget("user:1", ["name", "email"]).await?;
    /// # Ok(()) }
    /// ```
    fn hmget<T: FromValue, F: ToArg>(
        self,
        key: impl ToArg,
        fields: impl IntoIterator<Item = F>,
    ) -> Self::Out<Vec<Option<T>>> {
        let mut cmd = Cmd::new("HMGET").key(key);
        push_args(&mut cmd, fields);
        self.issue(cmd, TYPED)
    }

    /// [HMSET](https://redis.io/commands/hmset/) (deprecated by the server in
    /// favour of HSET, which [`hset_many`](HashCommands::hset_many) sends):
    /// sets every `(field, value)` pair.
    fn hmset<F: ToArg, V: ToArg>(
        self,
        key: impl ToArg,
        pairs: impl IntoIterator<Item = (F, V)>,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("HMSET").key(key);
        for (field, value) in pairs {
            cmd.push_arg(&field);
            cmd.push_arg(&value);
        }
        self.issue(cmd, TYPED)
    }

    /// [HRANDFIELD](https://redis.io/commands/hrandfield/): one random field
    /// name; `None` for a missing key.
    fn hrandfield<T: FromValue>(self, key: impl ToArg) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("HRANDFIELD").key(key), TYPED)
    }

    /// [HRANDFIELD](https://redis.io/commands/hrandfield/) with a count: up
    /// to `count` distinct field names, or, for a negative `count`,
    /// exactly `-count` names that may repeat (empty for a missing key).
    fn hrandfield_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("HRANDFIELD").key(key).arg(count), TYPED)
    }

    /// [HRANDFIELD](https://redis.io/commands/hrandfield/) `WITHVALUES`:
    /// random fields with their values, `count` as in
    /// [`hrandfield_count`](HashCommands::hrandfield_count).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let sample = db.hrandfield_with_values::<String, i64>("scores", 3).await?;
    /// for (field, value) in sample {
    ///     println!("{field} = {value}");
    /// }
    /// # Ok(()) }
    /// ```
    fn hrandfield_with_values<F: FromValue, V: FromValue>(
        self,
        key: impl ToArg,
        count: i64,
    ) -> Self::Out<HashPairs<F, V>> {
        self.issue(
            Cmd::new("HRANDFIELD").key(key).arg(count).arg("WITHVALUES"),
            TYPED,
        )
    }

    /// [HSET](https://redis.io/commands/hset/): sets `field` to `value`;
    /// `true` if the field is new, `false` if it was updated.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// db.hset("user:1", "name", "ada").await?;
    /// db.hset_many("user:1", [("email", "ada@example.com"), ("lang", "en")]).await?;
    /// # Ok(()) }
    /// ```
    fn hset(self, key: impl ToArg, field: impl ToArg, value: impl ToArg) -> Self::Out<bool> {
        let room = key.len_hint() + field.len_hint() + value.len_hint();
        self.issue(
            Cmd::sized("HSET", room).key(key).arg(field).arg(value),
            TYPED,
        )
    }

    /// [HSET](https://redis.io/commands/hset/) of several `(field, value)`
    /// pairs; how many fields were added (updated ones do not count).
    fn hset_many<F: ToArg, V: ToArg>(
        self,
        key: impl ToArg,
        pairs: impl IntoIterator<Item = (F, V)>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("HSET").key(key);
        for (field, value) in pairs {
            cmd.push_arg(&field);
            cmd.push_arg(&value);
        }
        self.issue(cmd, TYPED)
    }

    /// [HSETNX](https://redis.io/commands/hsetnx/): sets `field` only if it
    /// does not exist; `true` if it was set.
    fn hsetnx(self, key: impl ToArg, field: impl ToArg, value: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("HSETNX").key(key).arg(field).arg(value), TYPED)
    }

    /// [HSTRLEN](https://redis.io/commands/hstrlen/): the length in bytes of
    /// the value of `field` (0 for a missing field or key).
    fn hstrlen(self, key: impl ToArg, field: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("HSTRLEN").key(key).arg(field), TYPED)
    }

    /// [HVALS](https://redis.io/commands/hvals/): the values of the hash
    /// (empty for a missing key).
    fn hvals<T: FromValue>(self, key: impl ToArg) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("HVALS").key(key), TYPED)
    }
}

impl<C: Commands> HashCommands for C {}
