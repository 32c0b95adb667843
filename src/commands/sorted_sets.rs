//! Sorted-set commands: ZADD, ZRANGE and its relatives, ZINTER/ZUNION/ZDIFF,
//! ZPOPMIN/ZPOPMAX, ZMPOP, ZRANK, ZSCORE and the rest of the family.
//!
//! ZSCAN is a stream: see [`Database::zscan`](crate::Database::zscan). The
//! blocking BZPOPMIN, BZPOPMAX and BZMPOP are not wrapped: the shared
//! connection refuses blocking commands.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, How, KeysBack, TYPED};

/// One end of a score range (ZCOUNT, ZRANGE BYSCORE, ZREMRANGEBYSCORE, …).
///
/// ```
/// use redmux::ScoreBound;
/// // 1 < score <= 5
/// let (min, max) = (ScoreBound::Exclusive(1.0), ScoreBound::Inclusive(5.0));
/// # let _ = (min, max, ScoreBound::NegInf, ScoreBound::PosInf);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ScoreBound {
    /// Scores equal to this one are in the range.
    Inclusive(f64),
    /// Scores equal to this one are not in the range (`(score`).
    Exclusive(f64),
    /// No lower limit (`-inf`).
    NegInf,
    /// No upper limit (`+inf`).
    PosInf,
}

impl ScoreBound {
    fn push(&self, cmd: &mut Cmd) {
        match *self {
            ScoreBound::Inclusive(score) => cmd.push_arg(&score),
            ScoreBound::Exclusive(score) => {
                cmd.push_arg(&format!("({}", score_text(score)));
            }
            ScoreBound::NegInf => cmd.push_arg("-inf"),
            ScoreBound::PosInf => cmd.push_arg("+inf"),
        }
    }
}

/// A score as Redis parses it: `inf`, `-inf`, or the shortest round-trip decimal.
fn score_text(score: f64) -> String {
    if score.is_infinite() {
        if score > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        score.to_string()
    }
}

/// One end of a lexicographical range (ZLEXCOUNT, ZRANGE BYLEX,
/// ZREMRANGEBYLEX, …), for members that all have the same score.
///
/// ```
/// use redmux::LexBound;
/// // "a" <= member < "c"
/// let (min, max) = (LexBound::inclusive("a"), LexBound::exclusive("c"));
/// # let _ = (min, max, LexBound::Min, LexBound::Max);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LexBound {
    /// Members equal to this one are in the range (`[member`).
    Inclusive(Vec<u8>),
    /// Members equal to this one are not in the range (`(member`).
    Exclusive(Vec<u8>),
    /// Below every member (`-`).
    Min,
    /// Above every member (`+`).
    Max,
}

impl LexBound {
    /// [`LexBound::Inclusive`] of `member`.
    pub fn inclusive(member: impl AsRef<[u8]>) -> LexBound {
        LexBound::Inclusive(member.as_ref().to_vec())
    }

    /// [`LexBound::Exclusive`] of `member`.
    pub fn exclusive(member: impl AsRef<[u8]>) -> LexBound {
        LexBound::Exclusive(member.as_ref().to_vec())
    }

    fn push(&self, cmd: &mut Cmd) {
        let with_sign = |sign: u8, member: &[u8]| {
            let mut arg = Vec::with_capacity(member.len() + 1);
            arg.push(sign);
            arg.extend_from_slice(member);
            arg
        };
        match self {
            LexBound::Inclusive(member) => cmd.push_arg(&with_sign(b'[', member)),
            LexBound::Exclusive(member) => cmd.push_arg(&with_sign(b'(', member)),
            LexBound::Min => cmd.push_arg("-"),
            LexBound::Max => cmd.push_arg("+"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum RangeBy {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// A range of a sorted set for [ZRANGE](https://redis.io/commands/zrange/)
/// and [ZRANGESTORE](https://redis.io/commands/zrangestore/): by rank, by
/// score (`BYSCORE`) or lexicographically (`BYLEX`), optionally reversed
/// (`REV`) and paged (`LIMIT`, score and lex ranges only).
///
/// Score and lex bounds are always given as `(min, max)`, also with
/// [`rev`](ZRange::rev): they are sent in the order Redis wants.
///
/// ```
/// use redmux::{ScoreBound, ZRange};
/// // The three highest-scored members with a score of at least 10.
/// let top = ZRange::by_score(ScoreBound::Inclusive(10.0), ScoreBound::PosInf).rev().limit(0, 3);
/// // The whole set, by rank.
/// let all = ZRange::by_rank(0, -1);
/// # let _ = (top, all);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ZRange {
    by: RangeBy,
    rev: bool,
    limit: Option<(u64, u64)>,
}

impl ZRange {
    /// Members from rank `start` to rank `stop`, both included; negative
    /// ranks count from the end (-1 is the last).
    pub fn by_rank(start: i64, stop: i64) -> ZRange {
        ZRange::new(RangeBy::Rank(start, stop))
    }

    /// Members with a score between `min` and `max` (`BYSCORE`).
    pub fn by_score(min: ScoreBound, max: ScoreBound) -> ZRange {
        ZRange::new(RangeBy::Score(min, max))
    }

    /// Members between `min` and `max` lexicographically (`BYLEX`; all
    /// members should have the same score).
    pub fn by_lex(min: LexBound, max: LexBound) -> ZRange {
        ZRange::new(RangeBy::Lex(min, max))
    }

    fn new(by: RangeBy) -> ZRange {
        ZRange {
            by,
            rev: false,
            limit: None,
        }
    }

    /// Highest first (`REV`); ranks then count from the highest score.
    pub fn rev(mut self) -> ZRange {
        self.rev = true;
        self
    }

    /// Skips `offset` members and returns at most `count` (`LIMIT`); only
    /// for score and lex ranges (the server rejects it for ranks).
    pub fn limit(mut self, offset: u64, count: u64) -> ZRange {
        self.limit = Some((offset, count));
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        match &self.by {
            RangeBy::Rank(start, stop) => {
                cmd.push_arg(start);
                cmd.push_arg(stop);
            }
            RangeBy::Score(min, max) => {
                let (first, second) = if self.rev { (max, min) } else { (min, max) };
                first.push(cmd);
                second.push(cmd);
                cmd.push_arg("BYSCORE");
            }
            RangeBy::Lex(min, max) => {
                let (first, second) = if self.rev { (max, min) } else { (min, max) };
                first.push(cmd);
                second.push(cmd);
                cmd.push_arg("BYLEX");
            }
        }
        if self.rev {
            cmd.push_arg("REV");
        }
        if let Some((offset, count)) = self.limit {
            cmd.push_arg("LIMIT");
            cmd.push_arg(&offset);
            cmd.push_arg(&count);
        }
    }
}

/// Options for [`zadd_many`](SortedSetCommands::zadd_many) and
/// [`zadd_incr`](SortedSetCommands::zadd_incr): conditions (`NX`/`XX`,
/// `GT`/`LT`) and whether to count changed members too (`CH`).
///
/// ```
/// use redmux::ZAddOptions;
/// // Raise existing scores only; count the members whose score changed.
/// let opts = ZAddOptions::new().only_if_exists().only_if_greater().changed();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZAddOptions {
    existence: Option<&'static str>,
    comparison: Option<&'static str>,
    changed: bool,
}

impl ZAddOptions {
    /// No options: add new members, update the scores of existing ones.
    pub fn new() -> ZAddOptions {
        ZAddOptions::default()
    }

    /// Only add new members, never update existing ones (`NX`).
    pub fn only_if_absent(mut self) -> ZAddOptions {
        self.existence = Some("NX");
        self
    }

    /// Only update existing members, never add new ones (`XX`).
    pub fn only_if_exists(mut self) -> ZAddOptions {
        self.existence = Some("XX");
        self
    }

    /// Update an existing member only if the new score is greater (`GT`).
    pub fn only_if_greater(mut self) -> ZAddOptions {
        self.comparison = Some("GT");
        self
    }

    /// Update an existing member only if the new score is less (`LT`).
    pub fn only_if_less(mut self) -> ZAddOptions {
        self.comparison = Some("LT");
        self
    }

    /// Count changed members as well as added ones (`CH`).
    pub fn changed(mut self) -> ZAddOptions {
        self.changed = true;
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        if let Some(existence) = self.existence {
            cmd.push_arg(existence);
        }
        if let Some(comparison) = self.comparison {
            cmd.push_arg(comparison);
        }
        if self.changed {
            cmd.push_arg("CH");
        }
    }
}

/// How ZINTER/ZUNION (and their STORE forms) combine the scores of a member
/// found in several sets (`AGGREGATE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZAggregate {
    /// The sum of the (weighted) scores; the server's default.
    #[default]
    Sum,
    /// The lowest (weighted) score.
    Min,
    /// The highest (weighted) score.
    Max,
}

/// Options for ZINTER, ZINTERSTORE, ZUNION and ZUNIONSTORE: a weight per
/// input set (`WEIGHTS`) and how scores combine (`AGGREGATE`).
///
/// ```
/// use redmux::{ZAggregate, ZCombineOptions};
/// let opts = ZCombineOptions::new().weights([1.0, 2.0]).aggregate(ZAggregate::Max);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ZCombineOptions {
    weights: Vec<f64>,
    aggregate: Option<ZAggregate>,
}

impl ZCombineOptions {
    /// No options: weights of 1, scores summed.
    pub fn new() -> ZCombineOptions {
        ZCombineOptions::default()
    }

    /// One multiplier per input set, in the order of the keys (`WEIGHTS`).
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> ZCombineOptions {
        self.weights = weights.into_iter().collect();
        self
    }

    /// How scores of the same member combine (`AGGREGATE`).
    pub fn aggregate(mut self, aggregate: ZAggregate) -> ZCombineOptions {
        self.aggregate = Some(aggregate);
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        if !self.weights.is_empty() {
            cmd.push_arg("WEIGHTS");
            for weight in &self.weights {
                cmd.push_arg(weight);
            }
        }
        if let Some(aggregate) = self.aggregate {
            cmd.push_arg("AGGREGATE");
            cmd.push_arg(match aggregate {
                ZAggregate::Sum => "SUM",
                ZAggregate::Min => "MIN",
                ZAggregate::Max => "MAX",
            });
        }
    }
}

/// Which end [ZMPOP](https://redis.io/commands/zmpop/) pops from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZPopSide {
    /// The lowest scores (`MIN`).
    Min,
    /// The highest scores (`MAX`).
    Max,
}

/// A command, `numkeys`, then the keys.
fn with_numkeys<K: ToArg>(mut cmd: Cmd, keys: impl IntoIterator<Item = K>) -> Cmd {
    let keys: Vec<K> = keys.into_iter().collect();
    cmd.push_arg(&keys.len());
    for key in &keys {
        cmd.push_key(key);
    }
    cmd
}

/// Sorted-set commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
///
/// Scores are `f64`, including `f64::INFINITY`/`f64::NEG_INFINITY`, under
/// RESP2 (where they arrive as text) and RESP3 (as doubles) alike.
pub trait SortedSetCommands: Commands {
    /// [ZADD](https://redis.io/commands/zadd/): adds `member` with `score`,
    /// or updates its score; `true` if it was added, `false` if it existed.
    fn zadd(self, key: impl ToArg, score: f64, member: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("ZADD").key(key).arg(score).arg(member), TYPED)
    }

    /// [ZADD](https://redis.io/commands/zadd/) of several `(score, member)`
    /// pairs with options; how many members were added (with
    /// [`changed`](ZAddOptions::changed): added or changed).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ZAddOptions;
    /// let added = db.zadd_many("board", [(10.0, "ada"), (7.5, "bob")], ZAddOptions::new()).await?;
    /// let raised = db
    ///     .zadd_many("board", [(12.0, "ada")], ZAddOptions::new().only_if_greater().changed())
    ///     .await?;
    /// # let _ = (added, raised);
    /// # Ok(()) }
    /// ```
    fn zadd_many<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = (f64, M)>,
        options: ZAddOptions,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZADD").key(key);
        options.push(&mut cmd);
        for (score, member) in members {
            cmd.push_arg(&score);
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [ZADD](https://redis.io/commands/zadd/) `INCR`: adds `increment` to
    /// the score of `member` (as ZINCRBY, but with options); the new score,
    /// or `None` if a condition stopped it.
    fn zadd_incr(
        self,
        key: impl ToArg,
        increment: f64,
        member: impl ToArg,
        options: ZAddOptions,
    ) -> Self::Out<Option<f64>> {
        let mut cmd = Cmd::new("ZADD").key(key);
        options.push(&mut cmd);
        cmd.push_arg("INCR");
        cmd.push_arg(&increment);
        cmd.push_arg(&member);
        self.issue(cmd, TYPED)
    }

    /// [ZCARD](https://redis.io/commands/zcard/): the number of members (0
    /// for a missing key).
    fn zcard(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("ZCARD").key(key), TYPED)
    }

    /// [ZCOUNT](https://redis.io/commands/zcount/): how many members have a
    /// score between `min` and `max`.
    fn zcount(self, key: impl ToArg, min: ScoreBound, max: ScoreBound) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZCOUNT").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZDIFF](https://redis.io/commands/zdiff/): the members of the first
    /// set that are in none of the others, by score; read as `Vec<T>`.
    fn zdiff<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        self.issue(with_numkeys(Cmd::new("ZDIFF"), keys), TYPED)
    }

    /// [ZDIFF](https://redis.io/commands/zdiff/) `WITHSCORES`: as
    /// [`zdiff`](SortedSetCommands::zdiff), with the scores.
    fn zdiff_withscores<T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self::Out<Vec<(T, f64)>> {
        let cmd = with_numkeys(Cmd::new("ZDIFF"), keys).arg("WITHSCORES");
        self.issue(cmd, TYPED)
    }

    /// [ZDIFFSTORE](https://redis.io/commands/zdiffstore/): stores what
    /// ZDIFF would return in `destination`; its number of members.
    fn zdiffstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
    ) -> Self::Out<u64> {
        let cmd = with_numkeys(Cmd::new("ZDIFFSTORE").key(destination), keys);
        self.issue(cmd, TYPED)
    }

    /// [ZINCRBY](https://redis.io/commands/zincrby/): adds `increment` to
    /// the score of `member` (added with score 0 first if missing); the new score.
    fn zincrby(self, key: impl ToArg, increment: f64, member: impl ToArg) -> Self::Out<f64> {
        self.issue(
            Cmd::new("ZINCRBY").key(key).arg(increment).arg(member),
            TYPED,
        )
    }

    /// [ZINTER](https://redis.io/commands/zinter/): the members found in
    /// every set, by combined score; read as `Vec<T>`.
    fn zinter<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        self.issue(with_numkeys(Cmd::new("ZINTER"), keys), TYPED)
    }

    /// [ZINTER](https://redis.io/commands/zinter/) with `WEIGHTS` and `AGGREGATE`.
    fn zinter_with<T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<T> {
        let mut cmd = with_numkeys(Cmd::new("ZINTER"), keys);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZINTER](https://redis.io/commands/zinter/) `WITHSCORES`: the members
    /// found in every set with their combined scores.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{ZAggregate, ZCombineOptions};
    /// let both = db
    ///     .zinter_withscores::<String, _>(["a", "b"], ZCombineOptions::new().aggregate(ZAggregate::Min))
    ///     .await?;
    /// for (member, score) in both {
    ///     println!("{member}: {score}");
    /// }
    /// # Ok(()) }
    /// ```
    fn zinter_withscores<T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<Vec<(T, f64)>> {
        let mut cmd = with_numkeys(Cmd::new("ZINTER"), keys);
        options.push(&mut cmd);
        cmd.push_arg("WITHSCORES");
        self.issue(cmd, TYPED)
    }

    /// [ZINTERSTORE](https://redis.io/commands/zinterstore/): stores what
    /// ZINTER would return in `destination`; its number of members.
    fn zinterstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<u64> {
        let mut cmd = with_numkeys(Cmd::new("ZINTERSTORE").key(destination), keys);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZINTERCARD](https://redis.io/commands/zintercard/): how many members
    /// are in every set.
    fn zintercard<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        self.issue(with_numkeys(Cmd::new("ZINTERCARD"), keys), TYPED)
    }

    /// [ZINTERCARD](https://redis.io/commands/zintercard/) `LIMIT`: as
    /// [`zintercard`](SortedSetCommands::zintercard), but stops counting at
    /// `limit` (0: no limit).
    fn zintercard_limit<K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        limit: u64,
    ) -> Self::Out<u64> {
        let cmd = with_numkeys(Cmd::new("ZINTERCARD"), keys)
            .arg("LIMIT")
            .arg(limit);
        self.issue(cmd, TYPED)
    }

    /// [ZLEXCOUNT](https://redis.io/commands/zlexcount/): how many members
    /// are between `min` and `max` lexicographically.
    fn zlexcount(self, key: impl ToArg, min: LexBound, max: LexBound) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZLEXCOUNT").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZMPOP](https://redis.io/commands/zmpop/): pops up to `count` members
    /// from `side` of the first non-empty set among `keys`; that set's key
    /// (without the database's key prefix) and the popped members with
    /// their scores, or `None` if every set is empty.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ZPopSide;
    /// let popped: Option<(String, Vec<(String, f64)>)> =
    ///     db.zmpop(["urgent", "normal"], ZPopSide::Min, 10).await?;
    /// # Ok(()) }
    /// ```
    // The reply type spelled out reads better in the docs than an alias.
    #[allow(clippy::type_complexity)]
    fn zmpop<K: ToArg, T: FromValue>(
        self,
        keys: impl IntoIterator<Item = K>,
        side: ZPopSide,
        count: u64,
    ) -> Self::Out<Option<(T, Vec<(T, f64)>)>> {
        let cmd = with_numkeys(Cmd::new("ZMPOP"), keys)
            .arg(match side {
                ZPopSide::Min => "MIN",
                ZPopSide::Max => "MAX",
            })
            .arg("COUNT")
            .arg(count);
        self.issue(
            cmd,
            How {
                checked: false,
                keys_back: KeysBack::First,
            },
        )
    }

    /// [ZMSCORE](https://redis.io/commands/zmscore/): the score of each of
    /// `members`, in order; `None` for a member not in the set (all `None`
    /// for a missing key).
    fn zmscore<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<Vec<Option<f64>>> {
        let mut cmd = Cmd::new("ZMSCORE").key(key);
        for member in members {
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [ZPOPMAX](https://redis.io/commands/zpopmax/): removes up to `count`
    /// members with the highest scores; them with their scores, highest
    /// first (empty for a missing key).
    fn zpopmax<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Out<Vec<(T, f64)>> {
        self.issue(Cmd::new("ZPOPMAX").key(key).arg(count), TYPED)
    }

    /// [ZPOPMIN](https://redis.io/commands/zpopmin/): removes up to `count`
    /// members with the lowest scores; them with their scores, lowest first
    /// (empty for a missing key).
    fn zpopmin<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Out<Vec<(T, f64)>> {
        self.issue(Cmd::new("ZPOPMIN").key(key).arg(count), TYPED)
    }

    /// [ZRANDMEMBER](https://redis.io/commands/zrandmember/): a random
    /// member; `None` for a missing key. Read as `Option<T>`.
    fn zrandmember<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("ZRANDMEMBER").key(key), TYPED)
    }

    /// [ZRANDMEMBER](https://redis.io/commands/zrandmember/) with a count:
    /// up to `count` distinct random members, or, for a negative `count`,
    /// exactly `-count` members that may repeat. Read as `Vec<T>` (empty
    /// for a missing key).
    fn zrandmember_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Out<T> {
        self.issue(Cmd::new("ZRANDMEMBER").key(key).arg(count), TYPED)
    }

    /// [ZRANDMEMBER](https://redis.io/commands/zrandmember/) `WITHSCORES`:
    /// as [`zrandmember_count`](SortedSetCommands::zrandmember_count), with
    /// the scores.
    fn zrandmember_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        count: i64,
    ) -> Self::Out<Vec<(T, f64)>> {
        self.issue(
            Cmd::new("ZRANDMEMBER")
                .key(key)
                .arg(count)
                .arg("WITHSCORES"),
            TYPED,
        )
    }

    /// [ZRANGE](https://redis.io/commands/zrange/): the members in `range`
    /// (by rank, score or lex; see [`ZRange`]); read as `Vec<T>` (empty for
    /// a missing key).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{ScoreBound, ZRange};
    /// let first_ten: Vec<String> = db.zrange("board", ZRange::by_rank(0, 9)).await?;
    /// let passing: Vec<String> = db
    ///     .zrange("board", ZRange::by_score(ScoreBound::Inclusive(50.0), ScoreBound::PosInf).rev())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn zrange<T: FromValue>(self, key: impl ToArg, range: ZRange) -> Self::Out<T> {
        let mut cmd = Cmd::new("ZRANGE").key(key);
        range.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZRANGE](https://redis.io/commands/zrange/) `WITHSCORES`: as
    /// [`zrange`](SortedSetCommands::zrange), with the scores.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ZRange;
    /// let top3 = db.zrange_withscores::<String>("board", ZRange::by_rank(0, 2).rev()).await?;
    /// for (member, score) in top3.iter() {
    ///     println!("{member}: {score}");
    /// }
    /// # Ok(()) }
    /// ```
    fn zrange_withscores<T: FromValue>(
        self,
        key: impl ToArg,
        range: ZRange,
    ) -> Self::Out<Vec<(T, f64)>> {
        let mut cmd = Cmd::new("ZRANGE").key(key);
        range.push(&mut cmd);
        cmd.push_arg("WITHSCORES");
        self.issue(cmd, TYPED)
    }

    /// [ZRANGESTORE](https://redis.io/commands/zrangestore/): stores the
    /// members of `source` in `range` (with their scores) in `destination`;
    /// how many were stored.
    fn zrangestore(
        self,
        destination: impl ToArg,
        source: impl ToArg,
        range: ZRange,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZRANGESTORE").key(destination).key(source);
        range.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZRANGEBYLEX](https://redis.io/commands/zrangebylex/) (deprecated:
    /// use [`zrange`](SortedSetCommands::zrange) with [`ZRange::by_lex`]):
    /// the members between `min` and `max`; read as `Vec<T>`.
    fn zrangebylex<T: FromValue>(
        self,
        key: impl ToArg,
        min: LexBound,
        max: LexBound,
    ) -> Self::Out<T> {
        let mut cmd = Cmd::new("ZRANGEBYLEX").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZRANGEBYSCORE](https://redis.io/commands/zrangebyscore/)
    /// (deprecated: use [`zrange`](SortedSetCommands::zrange) with
    /// [`ZRange::by_score`]): the members with a score between `min` and
    /// `max`, lowest first; read as `Vec<T>`.
    fn zrangebyscore<T: FromValue>(
        self,
        key: impl ToArg,
        min: ScoreBound,
        max: ScoreBound,
    ) -> Self::Out<T> {
        let mut cmd = Cmd::new("ZRANGEBYSCORE").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZREVRANGE](https://redis.io/commands/zrevrange/) (deprecated: use
    /// [`zrange`](SortedSetCommands::zrange) with
    /// [`ZRange::by_rank`]`(..).rev()`): the members from rank `start` to
    /// `stop` counted from the highest score; read as `Vec<T>`.
    fn zrevrange<T: FromValue>(self, key: impl ToArg, start: i64, stop: i64) -> Self::Out<T> {
        self.issue(Cmd::new("ZREVRANGE").key(key).arg(start).arg(stop), TYPED)
    }

    /// [ZREVRANGEBYLEX](https://redis.io/commands/zrevrangebylex/)
    /// (deprecated): the members between `max` and `min` (Redis's argument
    /// order), highest first; read as `Vec<T>`.
    fn zrevrangebylex<T: FromValue>(
        self,
        key: impl ToArg,
        max: LexBound,
        min: LexBound,
    ) -> Self::Out<T> {
        let mut cmd = Cmd::new("ZREVRANGEBYLEX").key(key);
        max.push(&mut cmd);
        min.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZREVRANGEBYSCORE](https://redis.io/commands/zrevrangebyscore/)
    /// (deprecated): the members with a score between `max` and `min`
    /// (Redis's argument order), highest first; read as `Vec<T>`.
    fn zrevrangebyscore<T: FromValue>(
        self,
        key: impl ToArg,
        max: ScoreBound,
        min: ScoreBound,
    ) -> Self::Out<T> {
        let mut cmd = Cmd::new("ZREVRANGEBYSCORE").key(key);
        max.push(&mut cmd);
        min.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZRANK](https://redis.io/commands/zrank/): the rank of `member`,
    /// lowest score first (0 is the lowest); `None` if it is not in the set.
    fn zrank(self, key: impl ToArg, member: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("ZRANK").key(key).arg(member), TYPED)
    }

    /// [ZREVRANK](https://redis.io/commands/zrevrank/): the rank of
    /// `member`, highest score first; `None` if it is not in the set.
    fn zrevrank(self, key: impl ToArg, member: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("ZREVRANK").key(key).arg(member), TYPED)
    }

    /// [ZREM](https://redis.io/commands/zrem/): removes `member`; `true` if
    /// it was there.
    fn zrem(self, key: impl ToArg, member: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("ZREM").key(key).arg(member), TYPED)
    }

    /// [ZREM](https://redis.io/commands/zrem/) of several members; how many
    /// were there.
    fn zrem_many<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZREM").key(key);
        for member in members {
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [ZREMRANGEBYLEX](https://redis.io/commands/zremrangebylex/): removes
    /// the members between `min` and `max`; how many were removed.
    fn zremrangebylex(self, key: impl ToArg, min: LexBound, max: LexBound) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZREMRANGEBYLEX").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZREMRANGEBYRANK](https://redis.io/commands/zremrangebyrank/):
    /// removes the members from rank `start` to `stop` (negative ranks
    /// count from the highest); how many were removed.
    fn zremrangebyrank(self, key: impl ToArg, start: i64, stop: i64) -> Self::Out<u64> {
        self.issue(
            Cmd::new("ZREMRANGEBYRANK").key(key).arg(start).arg(stop),
            TYPED,
        )
    }

    /// [ZREMRANGEBYSCORE](https://redis.io/commands/zremrangebyscore/):
    /// removes the members with a score between `min` and `max`; how many
    /// were removed.
    fn zremrangebyscore(self, key: impl ToArg, min: ScoreBound, max: ScoreBound) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ZREMRANGEBYSCORE").key(key);
        min.push(&mut cmd);
        max.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZSCORE](https://redis.io/commands/zscore/): the score of `member`;
    /// `None` if it (or the key) does not exist.
    fn zscore(self, key: impl ToArg, member: impl ToArg) -> Self::Out<Option<f64>> {
        self.issue(Cmd::new("ZSCORE").key(key).arg(member), TYPED)
    }

    /// [ZUNION](https://redis.io/commands/zunion/): the members of any of
    /// the sets, by combined score; read as `Vec<T>`.
    fn zunion<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        self.issue(with_numkeys(Cmd::new("ZUNION"), keys), TYPED)
    }

    /// [ZUNION](https://redis.io/commands/zunion/) with `WEIGHTS` and `AGGREGATE`.
    fn zunion_with<T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<T> {
        let mut cmd = with_numkeys(Cmd::new("ZUNION"), keys);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [ZUNION](https://redis.io/commands/zunion/) `WITHSCORES`: the members
    /// of any of the sets with their combined scores.
    fn zunion_withscores<T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<Vec<(T, f64)>> {
        let mut cmd = with_numkeys(Cmd::new("ZUNION"), keys);
        options.push(&mut cmd);
        cmd.push_arg("WITHSCORES");
        self.issue(cmd, TYPED)
    }

    /// [ZUNIONSTORE](https://redis.io/commands/zunionstore/): stores what
    /// ZUNION would return in `destination`; its number of members.
    fn zunionstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        options: ZCombineOptions,
    ) -> Self::Out<u64> {
        let mut cmd = with_numkeys(Cmd::new("ZUNIONSTORE").key(destination), keys);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> SortedSetCommands for C {}
