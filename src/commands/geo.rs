//! Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
//! GEOSEARCHSTORE, and the deprecated GEORADIUS family.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// A distance unit for the geo commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GeoUnit {
    /// Meters (`m`), the server's default.
    #[default]
    Meters,
    /// Kilometers (`km`).
    Kilometers,
    /// Miles (`mi`).
    Miles,
    /// Feet (`ft`).
    Feet,
}

impl GeoUnit {
    fn as_arg(self) -> &'static str {
        match self {
            GeoUnit::Meters => "m",
            GeoUnit::Kilometers => "km",
            GeoUnit::Miles => "mi",
            GeoUnit::Feet => "ft",
        }
    }
}

/// Options for [`geoadd_with`](GeoCommands::geoadd_with): conditions
/// (`NX`/`XX`) and whether to count changed members too (`CH`).
///
/// ```
/// use redmux::GeoAddOptions;
/// let opts = GeoAddOptions::new().only_if_exists().changed();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GeoAddOptions {
    existence: Option<&'static str>,
    changed: bool,
}

impl GeoAddOptions {
    /// No options: add new members, move existing ones.
    pub fn new() -> GeoAddOptions {
        GeoAddOptions::default()
    }

    /// Only add new members, never move existing ones (`NX`).
    pub fn only_if_absent(mut self) -> GeoAddOptions {
        self.existence = Some("NX");
        self
    }

    /// Only move existing members, never add new ones (`XX`).
    pub fn only_if_exists(mut self) -> GeoAddOptions {
        self.existence = Some("XX");
        self
    }

    /// Count moved members as well as added ones (`CH`).
    pub fn changed(mut self) -> GeoAddOptions {
        self.changed = true;
        self
    }
}

/// The centre of a [GEOSEARCH](https://redis.io/commands/geosearch/): a
/// member of the set (`FROMMEMBER`) or a position (`FROMLONLAT`).
///
/// ```
/// use redmux::GeoFrom;
/// let here = GeoFrom::LonLat(13.361389, 38.115556);
/// let there = GeoFrom::member("Palermo");
/// # let _ = (here, there);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum GeoFrom {
    /// The position of a member of the set (`FROMMEMBER`).
    Member(Vec<u8>),
    /// A longitude and a latitude (`FROMLONLAT`).
    LonLat(f64, f64),
}

impl GeoFrom {
    /// [`GeoFrom::Member`] of `member`.
    pub fn member(member: impl AsRef<[u8]>) -> GeoFrom {
        GeoFrom::Member(member.as_ref().to_vec())
    }

    fn push(&self, cmd: &mut Cmd) {
        match self {
            GeoFrom::Member(member) => {
                cmd.push_arg("FROMMEMBER");
                cmd.push_arg(member);
            }
            GeoFrom::LonLat(longitude, latitude) => {
                cmd.push_arg("FROMLONLAT");
                cmd.push_arg(longitude);
                cmd.push_arg(latitude);
            }
        }
    }
}

/// The area of a [GEOSEARCH](https://redis.io/commands/geosearch/): a
/// circle (`BYRADIUS`) or a box (`BYBOX`) around the centre.
///
/// ```
/// use redmux::{GeoShape, GeoUnit};
/// let near = GeoShape::Radius(200.0, GeoUnit::Kilometers);
/// let area = GeoShape::Box { width: 400.0, height: 100.0, unit: GeoUnit::Kilometers };
/// # let _ = (near, area);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum GeoShape {
    /// Within this distance of the centre (`BYRADIUS`).
    Radius(f64, GeoUnit),
    /// Within an axis-aligned box centred on the centre (`BYBOX`).
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
        /// The unit of both.
        unit: GeoUnit,
    },
}

impl GeoShape {
    fn push(&self, cmd: &mut Cmd) {
        match *self {
            GeoShape::Radius(radius, unit) => {
                cmd.push_arg("BYRADIUS");
                cmd.push_arg(&radius);
                cmd.push_arg(unit.as_arg());
            }
            GeoShape::Box {
                width,
                height,
                unit,
            } => {
                cmd.push_arg("BYBOX");
                cmd.push_arg(&width);
                cmd.push_arg(&height);
                cmd.push_arg(unit.as_arg());
            }
        }
    }
}

/// Options for [`geosearch`](GeoCommands::geosearch) and
/// [`geosearchstore`](GeoCommands::geosearchstore): order, count, and the
/// extra fields of each [`GeoMatch`].
///
/// The `with_*` fields are for GEOSEARCH, [`store_dist`](GeoSearchOptions::store_dist)
/// for GEOSEARCHSTORE; the server rejects the others with a syntax error.
///
/// ```
/// use redmux::GeoSearchOptions;
/// // The five nearest, with their distances and positions.
/// let opts = GeoSearchOptions::new().ascending().count(5).with_dist().with_coord();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GeoSearchOptions {
    order: Option<&'static str>,
    count: Option<(u64, bool)>,
    with_coord: bool,
    with_dist: bool,
    with_hash: bool,
    store_dist: bool,
}

impl GeoSearchOptions {
    /// No options: every match, unsorted, members only.
    pub fn new() -> GeoSearchOptions {
        GeoSearchOptions::default()
    }

    /// Nearest first (`ASC`).
    pub fn ascending(mut self) -> GeoSearchOptions {
        self.order = Some("ASC");
        self
    }

    /// Farthest first (`DESC`).
    pub fn descending(mut self) -> GeoSearchOptions {
        self.order = Some("DESC");
        self
    }

    /// At most `count` matches, the nearest ones (`COUNT`).
    pub fn count(mut self, count: u64) -> GeoSearchOptions {
        self.count = Some((count, false));
        self
    }

    /// At most `count` matches, the first found rather than the nearest
    /// (`COUNT … ANY`): faster on large sets.
    pub fn count_any(mut self, count: u64) -> GeoSearchOptions {
        self.count = Some((count, true));
        self
    }

    /// Each match's position (`WITHCOORD`, GEOSEARCH only).
    pub fn with_coord(mut self) -> GeoSearchOptions {
        self.with_coord = true;
        self
    }

    /// Each match's distance from the centre, in the shape's unit
    /// (`WITHDIST`, GEOSEARCH only).
    pub fn with_dist(mut self) -> GeoSearchOptions {
        self.with_dist = true;
        self
    }

    /// Each match's raw 52-bit geohash (`WITHHASH`, GEOSEARCH only).
    pub fn with_hash(mut self) -> GeoSearchOptions {
        self.with_hash = true;
        self
    }

    /// Store distances from the centre as the scores instead of geohashes
    /// (`STOREDIST`, GEOSEARCHSTORE only).
    pub fn store_dist(mut self) -> GeoSearchOptions {
        self.store_dist = true;
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        if let Some(order) = self.order {
            cmd.push_arg(order);
        }
        if let Some((count, any)) = self.count {
            cmd.push_arg("COUNT");
            cmd.push_arg(&count);
            if any {
                cmd.push_arg("ANY");
            }
        }
        if self.with_coord {
            cmd.push_arg("WITHCOORD");
        }
        if self.with_dist {
            cmd.push_arg("WITHDIST");
        }
        if self.with_hash {
            cmd.push_arg("WITHHASH");
        }
        if self.store_dist {
            cmd.push_arg("STOREDIST");
        }
    }
}

/// One match of [`geosearch`](GeoCommands::geosearch): the member, and the
/// fields asked for with [`GeoSearchOptions`] (`None` when not asked).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GeoMatch<T> {
    /// The member.
    pub member: T,
    /// Its distance from the centre, in the search's unit (`WITHDIST`).
    pub dist: Option<f64>,
    /// Its raw 52-bit geohash, the member's score (`WITHHASH`).
    pub hash: Option<u64>,
    /// Its `(longitude, latitude)` (`WITHCOORD`).
    pub coords: Option<(f64, f64)>,
}

impl<T: FromValue> FromValue for GeoMatch<T> {
    /// A bare member, or `[member, dist?, hash?, [lon, lat]?]`: the server
    /// sends the fields in that order, each only when asked for, and each of
    /// a different type (a string or double, an integer, an array), so they
    /// are told apart without knowing the options.
    fn from_value(value: Value) -> Result<GeoMatch<T>> {
        let items = match value {
            Value::Array(items) => items,
            member => {
                return Ok(GeoMatch {
                    member: T::from_value(member)?,
                    dist: None,
                    hash: None,
                    coords: None,
                })
            }
        };
        let mut items = items.into_iter();
        let member = match items.next() {
            Some(member) => T::from_value(member)?,
            None => {
                return Err(Error::type_conversion(
                    "array",
                    std::any::type_name::<GeoMatch<T>>(),
                    Some("an empty array".to_owned()),
                ))
            }
        };
        let mut found = GeoMatch {
            member,
            dist: None,
            hash: None,
            coords: None,
        };
        for field in items {
            match field {
                Value::Int(_) => found.hash = Some(u64::from_value(field)?),
                Value::Array(_) => found.coords = Some(<(f64, f64)>::from_value(field)?),
                other => found.dist = Some(f64::from_value(other)?),
            }
        }
        Ok(found)
    }
}

/// Geo commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
///
/// Positions are `(longitude, latitude)` in degrees, in that order, as
/// Redis takes them.
pub trait GeoCommands: Commands {
    /// [GEOADD](https://redis.io/commands/geoadd/): adds (or moves) each
    /// `(longitude, latitude, member)`; how many members were added.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let added = db
    ///     .geoadd("Sicily", [(13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania")])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn geoadd<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = (f64, f64, M)>,
    ) -> Self::Out<u64> {
        self.geoadd_with(key, members, GeoAddOptions::new())
    }

    /// [GEOADD](https://redis.io/commands/geoadd/) with options; how many
    /// members were added (with [`changed`](GeoAddOptions::changed): added
    /// or moved).
    fn geoadd_with<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = (f64, f64, M)>,
        options: GeoAddOptions,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("GEOADD").key(key);
        if let Some(existence) = options.existence {
            cmd.push_arg(existence);
        }
        if options.changed {
            cmd.push_arg("CH");
        }
        for (longitude, latitude, member) in members {
            cmd.push_arg(&longitude);
            cmd.push_arg(&latitude);
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [GEODIST](https://redis.io/commands/geodist/): the distance between
    /// two members in `unit`; `None` if either (or the key) is missing.
    fn geodist(
        self,
        key: impl ToArg,
        member1: impl ToArg,
        member2: impl ToArg,
        unit: GeoUnit,
    ) -> Self::Out<Option<f64>> {
        self.issue(
            Cmd::new("GEODIST")
                .key(key)
                .arg(member1)
                .arg(member2)
                .arg(unit.as_arg()),
            TYPED,
        )
    }

    /// [GEOHASH](https://redis.io/commands/geohash/): the 11-character
    /// geohash of each of `members`, in order; `None` for a missing member.
    fn geohash<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<Vec<Option<String>>> {
        let mut cmd = Cmd::new("GEOHASH").key(key);
        for member in members {
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [GEOPOS](https://redis.io/commands/geopos/): the `(longitude,
    /// latitude)` of each of `members`, in order; `None` for a missing member.
    fn geopos<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<Vec<Option<(f64, f64)>>> {
        let mut cmd = Cmd::new("GEOPOS").key(key);
        for member in members {
            cmd.push_arg(&member);
        }
        self.issue(cmd, TYPED)
    }

    /// [GEOSEARCH](https://redis.io/commands/geosearch/): the members within
    /// `shape` around `from`, each with the fields asked for in `options`
    /// (empty for a missing key).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{GeoFrom, GeoMatch, GeoSearchOptions, GeoShape, GeoUnit};
    /// let near: Vec<GeoMatch<String>> = db
    ///     .geosearch(
    ///         "Sicily",
    ///         GeoFrom::LonLat(15.0, 37.0),
    ///         GeoShape::Radius(200.0, GeoUnit::Kilometers),
    ///         GeoSearchOptions::new().ascending().count(3).with_dist(),
    ///     )
    ///     .await?;
    /// for m in near {
    ///     println!("{} at {:?} km", m.member, m.dist);
    /// }
    /// # Ok(()) }
    /// ```
    fn geosearch<T: FromValue>(
        self,
        key: impl ToArg,
        from: GeoFrom,
        shape: GeoShape,
        options: GeoSearchOptions,
    ) -> Self::Out<Vec<GeoMatch<T>>> {
        let mut cmd = Cmd::new("GEOSEARCH").key(key);
        from.push(&mut cmd);
        shape.push(&mut cmd);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [GEOSEARCHSTORE](https://redis.io/commands/geosearchstore/): stores
    /// the members of `source` that GEOSEARCH would find in `destination`
    /// (as a geo set, or with distances as scores with
    /// [`store_dist`](GeoSearchOptions::store_dist)); how many were stored.
    fn geosearchstore(
        self,
        destination: impl ToArg,
        source: impl ToArg,
        from: GeoFrom,
        shape: GeoShape,
        options: GeoSearchOptions,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("GEOSEARCHSTORE").key(destination).key(source);
        from.push(&mut cmd);
        shape.push(&mut cmd);
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [GEORADIUS](https://redis.io/commands/georadius/) (deprecated: use
    /// [`geosearch`](GeoCommands::geosearch)): the members within `radius`
    /// of a position; read as `Vec<T>`.
    fn georadius<T: FromValue>(
        self,
        key: impl ToArg,
        longitude: f64,
        latitude: f64,
        radius: f64,
        unit: GeoUnit,
    ) -> Self::Out<T> {
        self.issue(
            Cmd::new("GEORADIUS")
                .key(key)
                .arg(longitude)
                .arg(latitude)
                .arg(radius)
                .arg(unit.as_arg()),
            TYPED,
        )
    }

    /// [GEORADIUS_RO](https://redis.io/commands/georadius_ro/) (deprecated:
    /// use [`geosearch`](GeoCommands::geosearch)): the read-only
    /// [`georadius`](GeoCommands::georadius); read as `Vec<T>`.
    fn georadiusro<T: FromValue>(
        self,
        key: impl ToArg,
        longitude: f64,
        latitude: f64,
        radius: f64,
        unit: GeoUnit,
    ) -> Self::Out<T> {
        self.issue(
            Cmd::new("GEORADIUS_RO")
                .key(key)
                .arg(longitude)
                .arg(latitude)
                .arg(radius)
                .arg(unit.as_arg()),
            TYPED,
        )
    }

    /// [GEORADIUSBYMEMBER](https://redis.io/commands/georadiusbymember/)
    /// (deprecated: use [`geosearch`](GeoCommands::geosearch)): the members
    /// within `radius` of `member` (itself included); read as `Vec<T>`.
    fn georadiusbymember<T: FromValue>(
        self,
        key: impl ToArg,
        member: impl ToArg,
        radius: f64,
        unit: GeoUnit,
    ) -> Self::Out<T> {
        self.issue(
            Cmd::new("GEORADIUSBYMEMBER")
                .key(key)
                .arg(member)
                .arg(radius)
                .arg(unit.as_arg()),
            TYPED,
        )
    }

    /// [GEORADIUSBYMEMBER_RO](https://redis.io/commands/georadiusbymember_ro/)
    /// (deprecated: use [`geosearch`](GeoCommands::geosearch)): the
    /// read-only [`georadiusbymember`](GeoCommands::georadiusbymember); read
    /// as `Vec<T>`.
    fn georadiusbymemberro<T: FromValue>(
        self,
        key: impl ToArg,
        member: impl ToArg,
        radius: f64,
        unit: GeoUnit,
    ) -> Self::Out<T> {
        self.issue(
            Cmd::new("GEORADIUSBYMEMBER_RO")
                .key(key)
                .arg(member)
                .arg(radius)
                .arg(unit.as_arg()),
            TYPED,
        )
    }
}

impl<C: Commands> GeoCommands for C {}
