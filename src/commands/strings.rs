//! String commands: GET, SET, MGET, MSET, INCR…, ranges, LCS, and bitmaps
//! (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// Options for [`StringCommands::set_with`]: expiry and conditions.
///
/// ```
/// use std::time::Duration;
/// use redmux::SetOptions;
/// let opts = SetOptions::new().expire(Duration::from_secs(60)).only_if_absent();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetOptions {
    expire: Option<Duration>,
    keep_ttl: bool,
    condition: Option<&'static str>,
}

impl SetOptions {
    /// No options: a plain SET.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }

    /// Expire after `ttl` (`EX` for whole seconds, `PX` otherwise).
    pub fn expire(mut self, ttl: Duration) -> SetOptions {
        self.expire = Some(ttl);
        self
    }

    /// Keep the key's current time to live (`KEEPTTL`).
    pub fn keep_ttl(mut self) -> SetOptions {
        self.keep_ttl = true;
        self
    }

    /// Set only if the key does not exist (`NX`).
    pub fn only_if_absent(mut self) -> SetOptions {
        self.condition = Some("NX");
        self
    }

    /// Set only if the key exists (`XX`).
    pub fn only_if_exists(mut self) -> SetOptions {
        self.condition = Some("XX");
        self
    }

    fn apply(self, cmd: &mut Cmd) {
        if let Some(ttl) = self.expire {
            push_ttl(cmd, ttl, "EX", "PX");
        }
        if self.keep_ttl {
            cmd.push_arg("KEEPTTL");
        }
        if let Some(condition) = self.condition {
            cmd.push_arg(condition);
        }
    }
}

/// Appends a time to live in whole seconds when exact, else milliseconds
/// (at least 1 ms, since Redis rejects 0).
pub(crate) fn push_ttl(cmd: &mut Cmd, ttl: Duration, seconds_option: &str, millis_option: &str) {
    if ttl.subsec_nanos() == 0 && ttl.as_secs() > 0 {
        cmd.push_arg(seconds_option);
        cmd.push_arg(&ttl.as_secs());
    } else {
        cmd.push_arg(millis_option);
        cmd.push_arg(&ttl.as_millis().max(1));
    }
}

/// Appends an absolute time as Unix seconds when exact, else Unix
/// milliseconds (times before the epoch become 1 ms, which has passed).
pub(crate) fn push_at(cmd: &mut Cmd, at: SystemTime, seconds_option: &str, millis_option: &str) {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    if since.subsec_nanos() == 0 && since.as_secs() > 0 {
        cmd.push_arg(seconds_option);
        cmd.push_arg(&since.as_secs());
    } else {
        cmd.push_arg(millis_option);
        cmd.push_arg(&since.as_millis().max(1));
    }
}

/// What [`StringCommands::getex`] does to the key's expiry.
///
/// ```
/// use std::time::Duration;
/// use redmux::GetExExpiry;
/// let e = GetExExpiry::In(Duration::from_millis(1500)); // PX 1500
/// # let _ = e;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetExExpiry {
    /// Expire after this long (`EX` for whole seconds, `PX` otherwise).
    In(Duration),
    /// Expire at this time (`EXAT` for whole seconds, `PXAT` otherwise).
    At(SystemTime),
    /// Remove the expiry (`PERSIST`).
    Persist,
}

/// Options for [`StringCommands::lcs_idx`]: `MINMATCHLEN` and `WITHMATCHLEN`.
///
/// ```
/// use redmux::LcsOptions;
/// let opts = LcsOptions::new().min_match_len(4).with_match_len();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LcsOptions {
    min_match_len: Option<u64>,
    with_match_len: bool,
}

impl LcsOptions {
    /// No options: every match, without lengths.
    pub fn new() -> LcsOptions {
        LcsOptions::default()
    }

    /// Only matches at least `len` long (`MINMATCHLEN`).
    pub fn min_match_len(mut self, len: u64) -> LcsOptions {
        self.min_match_len = Some(len);
        self
    }

    /// Report each match's length (`WITHMATCHLEN`).
    pub fn with_match_len(mut self) -> LcsOptions {
        self.with_match_len = true;
        self
    }
}

/// One match of [`StringCommands::lcs_idx`]: inclusive byte ranges in each key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LcsMatch {
    /// `(start, end)` in the first key, both inclusive.
    pub first: (u64, u64),
    /// `(start, end)` in the second key, both inclusive.
    pub second: (u64, u64),
    /// The match's length, with [`LcsOptions::with_match_len`].
    pub len: Option<u64>,
}

/// The reply of [`StringCommands::lcs_idx`]: the matches (last first, as
/// the server sends them) and the length of the longest common subsequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LcsMatches {
    /// The matching ranges.
    pub matches: Vec<LcsMatch>,
    /// The length of the whole common subsequence.
    pub len: u64,
}

fn lcs_error(found: &Value, detail: &str) -> Error {
    Error::type_conversion(
        found.type_name(),
        "redmux::LcsMatches",
        Some(detail.to_owned()),
    )
}

fn range_pair(value: Value) -> Result<(u64, u64)> {
    <(u64, u64)>::from_value(value)
}

impl FromValue for LcsMatch {
    fn from_value(value: Value) -> Result<LcsMatch> {
        let items = match value {
            Value::Array(items) if items.len() == 2 || items.len() == 3 => items,
            other => {
                return Err(lcs_error(
                    &other,
                    "a match is [[s, e], [s, e]] or [[s, e], [s, e], len]",
                ))
            }
        };
        let mut it = items.into_iter();
        let first = range_pair(it.next().unwrap_or(Value::Nil))?;
        let second = range_pair(it.next().unwrap_or(Value::Nil))?;
        let len = it.next().map(u64::from_value).transpose()?;
        Ok(LcsMatch { first, second, len })
    }
}

impl FromValue for LcsMatches {
    /// From RESP3's map or RESP2's flat `["matches", [...], "len", n]`.
    fn from_value(value: Value) -> Result<LcsMatches> {
        let pairs: Vec<(Value, Value)> = match value {
            Value::Map(pairs) => pairs,
            Value::Array(items) if items.len() % 2 == 0 => {
                let mut out = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    out.push((k, v));
                }
                out
            }
            other => return Err(lcs_error(&other, "expected a map of matches and len")),
        };
        let mut out = LcsMatches::default();
        for (name, field) in pairs {
            match String::from_value(name)?.as_str() {
                "matches" => out.matches = Vec::<LcsMatch>::from_value(field)?,
                "len" => out.len = u64::from_value(field)?,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The unit of a [`BitRange`]: bytes (the default) or bits (Redis 7.0+).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitUnit {
    /// `BYTE`: the range counts bytes.
    #[default]
    Byte,
    /// `BIT`: the range counts bits.
    Bit,
}

/// A range for [`StringCommands::bitcount_with`] and
/// [`StringCommands::bitpos_with`]: `start` and `end` inclusive, negative
/// values counting from the end.
///
/// ```
/// use redmux::BitRange;
/// let first_two_bytes = BitRange::bytes(0, 1);
/// let first_ten_bits = BitRange::bits(0, 9);
/// # let _ = (first_two_bytes, first_ten_bits);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BitRange {
    start: i64,
    end: i64,
    unit: Option<BitUnit>,
}

impl BitRange {
    /// Bytes `start..=end` (no unit is sent: works on every server version).
    pub fn bytes(start: i64, end: i64) -> BitRange {
        BitRange {
            start,
            end,
            unit: None,
        }
    }

    /// Bits `start..=end` (`BIT`, Redis 7.0+).
    pub fn bits(start: i64, end: i64) -> BitRange {
        BitRange {
            start,
            end,
            unit: Some(BitUnit::Bit),
        }
    }

    /// The same range in `unit`, sent explicitly.
    pub fn unit(mut self, unit: BitUnit) -> BitRange {
        self.unit = Some(unit);
        self
    }

    fn apply(self, cmd: &mut Cmd) {
        cmd.push_arg(&self.start);
        cmd.push_arg(&self.end);
        match self.unit {
            Some(BitUnit::Byte) => cmd.push_arg("BYTE"),
            Some(BitUnit::Bit) => cmd.push_arg("BIT"),
            None => {}
        }
    }
}

/// The operation of [`StringCommands::bitop`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitOp {
    /// `AND` of every source.
    And,
    /// `OR` of every source.
    Or,
    /// `XOR` of every source.
    Xor,
    /// `NOT` of the one source.
    Not,
}

impl BitOp {
    fn as_str(self) -> &'static str {
        match self {
            BitOp::And => "AND",
            BitOp::Or => "OR",
            BitOp::Xor => "XOR",
            BitOp::Not => "NOT",
        }
    }
}

/// An integer encoding for [`BitFieldOps`]: signed (`i1`..`i64`) or
/// unsigned (`u1`..`u63`). The server checks the width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitFieldType {
    /// A signed integer of this many bits (`i8`).
    Signed(u8),
    /// An unsigned integer of this many bits (`u16`).
    Unsigned(u8),
}

impl BitFieldType {
    fn push(self, cmd: &mut Cmd) {
        let (sign, bits) = match self {
            BitFieldType::Signed(bits) => ("i", bits),
            BitFieldType::Unsigned(bits) => ("u", bits),
        };
        let text = format!("{sign}{bits}");
        cmd.push_arg(text.as_str());
    }
}

/// Where a [`BitFieldOps`] field starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitFieldOffset {
    /// At this bit.
    Bit(u64),
    /// At field number `n` of the operation's width (`#n`: bit `n * width`).
    Index(u64),
}

impl From<u64> for BitFieldOffset {
    fn from(bit: u64) -> BitFieldOffset {
        BitFieldOffset::Bit(bit)
    }
}

impl BitFieldOffset {
    fn push(self, cmd: &mut Cmd) {
        match self {
            BitFieldOffset::Bit(bit) => cmd.push_arg(&bit),
            BitFieldOffset::Index(n) => cmd.push_arg(format!("#{n}").as_str()),
        }
    }
}

/// What [`BitFieldOps::overflow`] does when `SET`/`INCRBY` overflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitFieldOverflow {
    /// `WRAP`: wrap around (the default).
    #[default]
    Wrap,
    /// `SAT`: saturate at the minimum or maximum.
    Sat,
    /// `FAIL`: do nothing and reply `None` for the operation.
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BitFieldOp {
    Get(BitFieldType, BitFieldOffset),
    Set(BitFieldType, BitFieldOffset, i64),
    IncrBy(BitFieldType, BitFieldOffset, i64),
    Overflow(BitFieldOverflow),
}

/// The sub-operations of [`StringCommands::bitfield`], run in order; the
/// reply has one entry per `GET`, `SET` (the old value) and `INCRBY` (the
/// new value), `None` where `OVERFLOW FAIL` stopped one.
///
/// ```
/// use redmux::{BitFieldOffset, BitFieldOps, BitFieldOverflow, BitFieldType};
/// let ops = BitFieldOps::new()
///     .set(BitFieldType::Unsigned(8), 0u64, 200)
///     .overflow(BitFieldOverflow::Sat)
///     .incr_by(BitFieldType::Unsigned(8), 0u64, 100)
///     .get(BitFieldType::Signed(4), BitFieldOffset::Index(1));
/// # let _ = ops;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BitFieldOps {
    ops: Vec<BitFieldOp>,
}

impl BitFieldOps {
    /// No operations yet.
    pub fn new() -> BitFieldOps {
        BitFieldOps::default()
    }

    /// `GET type offset`: the field's value.
    pub fn get(mut self, ty: BitFieldType, offset: impl Into<BitFieldOffset>) -> BitFieldOps {
        self.ops.push(BitFieldOp::Get(ty, offset.into()));
        self
    }

    /// `SET type offset value`: sets the field; replies with its old value.
    pub fn set(
        mut self,
        ty: BitFieldType,
        offset: impl Into<BitFieldOffset>,
        value: i64,
    ) -> BitFieldOps {
        self.ops.push(BitFieldOp::Set(ty, offset.into(), value));
        self
    }

    /// `INCRBY type offset increment`: adds to the field; replies with the new value.
    pub fn incr_by(
        mut self,
        ty: BitFieldType,
        offset: impl Into<BitFieldOffset>,
        increment: i64,
    ) -> BitFieldOps {
        self.ops
            .push(BitFieldOp::IncrBy(ty, offset.into(), increment));
        self
    }

    /// `OVERFLOW WRAP|SAT|FAIL`: for the `SET`s and `INCRBY`s after it.
    pub fn overflow(mut self, behaviour: BitFieldOverflow) -> BitFieldOps {
        self.ops.push(BitFieldOp::Overflow(behaviour));
        self
    }

    fn apply(&self, cmd: &mut Cmd) {
        for op in &self.ops {
            match *op {
                BitFieldOp::Get(ty, offset) => {
                    cmd.push_arg("GET");
                    ty.push(cmd);
                    offset.push(cmd);
                }
                BitFieldOp::Set(ty, offset, value) => {
                    cmd.push_arg("SET");
                    ty.push(cmd);
                    offset.push(cmd);
                    cmd.push_arg(&value);
                }
                BitFieldOp::IncrBy(ty, offset, increment) => {
                    cmd.push_arg("INCRBY");
                    ty.push(cmd);
                    offset.push(cmd);
                    cmd.push_arg(&increment);
                }
                BitFieldOp::Overflow(behaviour) => {
                    cmd.push_arg("OVERFLOW");
                    cmd.push_arg(match behaviour {
                        BitFieldOverflow::Wrap => "WRAP",
                        BitFieldOverflow::Sat => "SAT",
                        BitFieldOverflow::Fail => "FAIL",
                    });
                }
            }
        }
    }
}

/// String commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait StringCommands: Commands {
    /// [GET](https://redis.io/commands/get/): the value of `key`; read it as
    /// `Option<T>` to get `None` for a missing key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let v: Option<String> = db.get("k").await?;
    /// # Ok(()) }
    /// ```
    fn get<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::sized("GET", key.len_hint()).key(key), TYPED)
    }

    /// [SET](https://redis.io/commands/set/): sets `key` to `value`; `true` when set.
    fn set(self, key: impl ToArg, value: impl ToArg) -> Self::Out<bool> {
        let room = key.len_hint() + value.len_hint();
        self.issue(Cmd::sized("SET", room).key(key).arg(value), TYPED)
    }

    /// [SET](https://redis.io/commands/set/) with options; `false` when a
    /// condition (`NX`/`XX`) stopped it.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::SetOptions;
    /// let won = db.set_with("lock", "me", SetOptions::new().only_if_absent().expire(Duration::from_secs(10))).await?;
    /// # Ok(()) }
    /// ```
    fn set_with(self, key: impl ToArg, value: impl ToArg, options: SetOptions) -> Self::Out<bool> {
        // Room for the options too: EX/PX, a number, KEEPTTL, NX/XX.
        let room = key.len_hint() + value.len_hint() + 64;
        let mut cmd = Cmd::sized("SET", room).key(key).arg(value);
        options.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [MGET](https://redis.io/commands/mget/): the values of `keys`, in order; read as `Vec<Option<T>>`.
    fn mget<T, K>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
    {
        let mut cmd = Cmd::new("MGET");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [MSET](https://redis.io/commands/mset/): sets every `(key, value)` pair atomically.
    fn mset<K, V>(self, pairs: impl IntoIterator<Item = (K, V)>) -> Self::Out<()>
    where
        K: ToArg,
        V: ToArg,
    {
        let mut cmd = Cmd::new("MSET");
        for (key, value) in pairs {
            cmd.push_key(&key);
            cmd.push_arg(&value);
        }
        self.issue(cmd, TYPED)
    }

    /// [INCR](https://redis.io/commands/incr/): adds 1; returns the new value.
    fn incr(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("INCR").key(key), TYPED)
    }

    /// [INCRBY](https://redis.io/commands/incrby/): adds `delta`; returns the new value.
    fn incr_by(self, key: impl ToArg, delta: i64) -> Self::Out<i64> {
        self.issue(Cmd::new("INCRBY").key(key).arg(delta), TYPED)
    }

    /// [DECR](https://redis.io/commands/decr/): subtracts 1; returns the new value.
    fn decr(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("DECR").key(key), TYPED)
    }

    /// [DECRBY](https://redis.io/commands/decrby/): subtracts `delta`; returns the new value.
    fn decr_by(self, key: impl ToArg, delta: i64) -> Self::Out<i64> {
        self.issue(Cmd::new("DECRBY").key(key).arg(delta), TYPED)
    }

    /// [SET](https://redis.io/commands/set/) with `GET`: sets `key` and
    /// returns its old value (`None` if it did not exist; a `WRONGTYPE`
    /// error if it is not a string).
    fn set_get<T: FromValue>(self, key: impl ToArg, value: impl ToArg) -> Self::Out<T> {
        self.set_get_with(key, value, SetOptions::new())
    }

    /// [SET](https://redis.io/commands/set/) with `GET` and options: the
    /// old value (`None` if there was none), whether or not a condition
    /// (`NX`/`XX`, Redis 7.0+ with `GET`) let the set happen.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::SetOptions;
    /// let old: Option<String> = db
    ///     .set_get_with("k", "new", SetOptions::new().expire(Duration::from_secs(5)))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn set_get_with<T: FromValue>(
        self,
        key: impl ToArg,
        value: impl ToArg,
        options: SetOptions,
    ) -> Self::Out<T> {
        let room = key.len_hint() + value.len_hint() + 64;
        let mut cmd = Cmd::sized("SET", room).key(key).arg(value);
        options.apply(&mut cmd);
        cmd.push_arg("GET");
        self.issue(cmd, TYPED)
    }

    /// [APPEND](https://redis.io/commands/append/): appends `value`; returns
    /// the new length.
    fn append(self, key: impl ToArg, value: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("APPEND").key(key).arg(value), TYPED)
    }

    /// [GETDEL](https://redis.io/commands/getdel/): the value of `key`, then
    /// deletes it; read as `Option<T>` for `None` when missing.
    fn getdel<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("GETDEL").key(key), TYPED)
    }

    /// [GETEX](https://redis.io/commands/getex/): the value of `key`
    /// (`Option<T>` for `None` when missing), changing its expiry.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::GetExExpiry;
    /// let v: Option<String> = db.getex("session", GetExExpiry::In(Duration::from_secs(60))).await?;
    /// # Ok(()) }
    /// ```
    fn getex<T: FromValue>(self, key: impl ToArg, expiry: GetExExpiry) -> Self::Out<T> {
        let mut cmd = Cmd::new("GETEX").key(key);
        match expiry {
            GetExExpiry::In(ttl) => push_ttl(&mut cmd, ttl, "EX", "PX"),
            GetExExpiry::At(at) => push_at(&mut cmd, at, "EXAT", "PXAT"),
            GetExExpiry::Persist => cmd.push_arg("PERSIST"),
        }
        self.issue(cmd, TYPED)
    }

    /// [GETRANGE](https://redis.io/commands/getrange/): bytes `start..=end`
    /// of the value (negative offsets count from the end); empty for a
    /// missing key.
    fn getrange<T: FromValue>(self, key: impl ToArg, start: i64, end: i64) -> Self::Out<T> {
        self.issue(Cmd::new("GETRANGE").key(key).arg(start).arg(end), TYPED)
    }

    /// [SUBSTR](https://redis.io/commands/substr/): the old name of
    /// [`getrange`](StringCommands::getrange), same reply.
    fn substr<T: FromValue>(self, key: impl ToArg, start: i64, end: i64) -> Self::Out<T> {
        self.issue(Cmd::new("SUBSTR").key(key).arg(start).arg(end), TYPED)
    }

    /// [GETSET](https://redis.io/commands/getset/): sets `key` and returns
    /// the old value (`Option<T>`: `None` if it did not exist).
    fn getset<T: FromValue>(self, key: impl ToArg, value: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("GETSET").key(key).arg(value), TYPED)
    }

    /// [INCRBYFLOAT](https://redis.io/commands/incrbyfloat/): adds `delta`;
    /// returns the new value.
    fn incrbyfloat(self, key: impl ToArg, delta: f64) -> Self::Out<f64> {
        self.issue(Cmd::new("INCRBYFLOAT").key(key).arg(delta), TYPED)
    }

    /// [LCS](https://redis.io/commands/lcs/): the longest common subsequence
    /// of the two keys' values (empty if either is missing).
    fn lcs<T: FromValue>(self, key1: impl ToArg, key2: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("LCS").key(key1).key(key2), TYPED)
    }

    /// [LCS](https://redis.io/commands/lcs/) with `LEN`: the length of the
    /// longest common subsequence.
    fn lcs_len(self, key1: impl ToArg, key2: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("LCS").key(key1).key(key2).arg("LEN"), TYPED)
    }

    /// [LCS](https://redis.io/commands/lcs/) with `IDX`: where the common
    /// parts are in each value, and the total length.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::LcsOptions;
    /// let m = db.lcs_idx("a", "b", LcsOptions::new().min_match_len(2).with_match_len()).await?;
    /// for part in &m.matches {
    ///     println!("{:?} ~ {:?} ({:?})", part.first, part.second, part.len);
    /// }
    /// # Ok(()) }
    /// ```
    fn lcs_idx(
        self,
        key1: impl ToArg,
        key2: impl ToArg,
        options: LcsOptions,
    ) -> Self::Out<LcsMatches> {
        let mut cmd = Cmd::new("LCS").key(key1).key(key2).arg("IDX");
        if let Some(len) = options.min_match_len {
            cmd.push_arg("MINMATCHLEN");
            cmd.push_arg(&len);
        }
        if options.with_match_len {
            cmd.push_arg("WITHMATCHLEN");
        }
        self.issue(cmd, TYPED)
    }

    /// [MSETNX](https://redis.io/commands/msetnx/): sets every pair, only if
    /// none of the keys exists; `true` when set.
    fn msetnx<K, V>(self, pairs: impl IntoIterator<Item = (K, V)>) -> Self::Out<bool>
    where
        K: ToArg,
        V: ToArg,
    {
        let mut cmd = Cmd::new("MSETNX");
        for (key, value) in pairs {
            cmd.push_key(&key);
            cmd.push_arg(&value);
        }
        self.issue(cmd, TYPED)
    }

    /// [PSETEX](https://redis.io/commands/psetex/): sets `key` to expire
    /// after `ttl` (in milliseconds, at least 1).
    fn psetex(self, key: impl ToArg, ttl: Duration, value: impl ToArg) -> Self::Out<()> {
        let millis = ttl.as_millis().max(1);
        self.issue(Cmd::new("PSETEX").key(key).arg(millis).arg(value), TYPED)
    }

    /// [SETEX](https://redis.io/commands/setex/): sets `key` to expire after
    /// `ttl`, in whole seconds (rounded down; the server rejects 0).
    fn setex(self, key: impl ToArg, ttl: Duration, value: impl ToArg) -> Self::Out<()> {
        self.issue(
            Cmd::new("SETEX").key(key).arg(ttl.as_secs()).arg(value),
            TYPED,
        )
    }

    /// [SETNX](https://redis.io/commands/setnx/): sets `key` only if it does
    /// not exist; `true` when set.
    fn setnx(self, key: impl ToArg, value: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("SETNX").key(key).arg(value), TYPED)
    }

    /// [SETRANGE](https://redis.io/commands/setrange/): overwrites the value
    /// from byte `offset` (zero-padding as needed); returns the new length.
    fn setrange(self, key: impl ToArg, offset: u64, value: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("SETRANGE").key(key).arg(offset).arg(value), TYPED)
    }

    /// [STRLEN](https://redis.io/commands/strlen/): the value's length in
    /// bytes; 0 for a missing key.
    fn strlen(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("STRLEN").key(key), TYPED)
    }

    /// [SETBIT](https://redis.io/commands/setbit/): sets the bit at `offset`;
    /// returns the bit's old value.
    fn setbit(self, key: impl ToArg, offset: u64, value: bool) -> Self::Out<bool> {
        self.issue(
            Cmd::new("SETBIT").key(key).arg(offset).arg(u8::from(value)),
            TYPED,
        )
    }

    /// [GETBIT](https://redis.io/commands/getbit/): the bit at `offset`
    /// (`false` past the end or for a missing key).
    fn getbit(self, key: impl ToArg, offset: u64) -> Self::Out<bool> {
        self.issue(Cmd::new("GETBIT").key(key).arg(offset), TYPED)
    }

    /// [BITCOUNT](https://redis.io/commands/bitcount/): how many bits are set
    /// in the value (0 for a missing key).
    fn bitcount(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("BITCOUNT").key(key), TYPED)
    }

    /// [BITCOUNT](https://redis.io/commands/bitcount/) over a byte or bit range.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::BitRange;
    /// let n = db.bitcount_with("bits", BitRange::bits(0, 15)).await?;
    /// # Ok(()) }
    /// ```
    fn bitcount_with(self, key: impl ToArg, range: BitRange) -> Self::Out<u64> {
        let mut cmd = Cmd::new("BITCOUNT").key(key);
        range.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [BITPOS](https://redis.io/commands/bitpos/): the position of the first
    /// bit equal to `bit`; -1 when looking for a set bit and there is none
    /// (a missing key included). Looking for a clear bit in a value of all
    /// ones gives the first bit past the end.
    fn bitpos(self, key: impl ToArg, bit: bool) -> Self::Out<i64> {
        self.issue(Cmd::new("BITPOS").key(key).arg(u8::from(bit)), TYPED)
    }

    /// [BITPOS](https://redis.io/commands/bitpos/) within a range; -1 when no
    /// bit in the range matches (also for a clear bit, the range being explicit).
    fn bitpos_with(self, key: impl ToArg, bit: bool, range: BitRange) -> Self::Out<i64> {
        let mut cmd = Cmd::new("BITPOS").key(key).arg(u8::from(bit));
        range.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [BITOP](https://redis.io/commands/bitop/): stores `op` over the
    /// `sources` into `destination` (`NOT` takes exactly one source);
    /// returns the length of the result.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::BitOp;
    /// let len = db.bitop(BitOp::And, "both", ["mon", "tue"]).await?;
    /// # Ok(()) }
    /// ```
    fn bitop<K: ToArg>(
        self,
        op: BitOp,
        destination: impl ToArg,
        sources: impl IntoIterator<Item = K>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("BITOP").arg(op.as_str()).key(destination);
        for key in sources {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [BITFIELD](https://redis.io/commands/bitfield/): runs `ops` in order;
    /// one entry per `GET`/`SET`/`INCRBY`, `None` where `OVERFLOW FAIL`
    /// refused it.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{BitFieldOps, BitFieldType};
    /// let ops = BitFieldOps::new()
    ///     .incr_by(BitFieldType::Unsigned(8), 0u64, 1)
    ///     .get(BitFieldType::Unsigned(8), 0u64);
    /// let replies = db.bitfield("counters", &ops).await?;
    /// # Ok(()) }
    /// ```
    fn bitfield(self, key: impl ToArg, ops: &BitFieldOps) -> Self::Out<Vec<Option<i64>>> {
        let mut cmd = Cmd::new("BITFIELD").key(key);
        ops.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [BITFIELD_RO](https://redis.io/commands/bitfield_ro/): the read-only
    /// form, `GET`s only (so it can run on replicas); one value per field.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{BitFieldOffset, BitFieldType};
    /// let v = db
    ///     .bitfield_ro("counters", [(BitFieldType::Unsigned(8), BitFieldOffset::Index(0))])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn bitfield_ro<O: Into<BitFieldOffset>>(
        self,
        key: impl ToArg,
        gets: impl IntoIterator<Item = (BitFieldType, O)>,
    ) -> Self::Out<Vec<i64>> {
        let mut cmd = Cmd::new("BITFIELD_RO").key(key);
        for (ty, offset) in gets {
            cmd.push_arg("GET");
            ty.push(&mut cmd);
            offset.into().push(&mut cmd);
        }
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> StringCommands for C {}
