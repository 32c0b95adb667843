//! `CommandFlags`: per-command options, with StackExchange.Redis's values,
//! and [`ReplicaPreference`], the two-bit field inside them that routing reads.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Options for one command, combinable with `|`.
///
/// The numeric values match StackExchange.Redis's `CommandFlags`, so people
/// moving from it recognise them. Routing flags (`DEMAND_MASTER`,
/// `PREFER_REPLICA`, `DEMAND_REPLICA`, `NO_REDIRECT`) are read by the routing
/// layer; with a single endpoint every command goes to it.
///
/// The replica preference is not a set of independent bits: `DEMAND_REPLICA`
/// (12) shares its bits with `DEMAND_MASTER` (4) and `PREFER_REPLICA` (8).
/// So the preference is read with [`replica_preference`](CommandFlags::replica_preference),
/// `contains` compares it as a whole, and `|` keeps the right-hand side's
/// preference when both sides carry one (the later choice wins) rather than
/// merging bits into a third preference.
///
/// ```
/// use redmux::{CommandFlags, ReplicaPreference};
/// let f = CommandFlags::FIRE_AND_FORGET | CommandFlags::DEMAND_MASTER;
/// assert!(f.contains(CommandFlags::FIRE_AND_FORGET));
/// assert!(!f.contains(CommandFlags::NO_REDIRECT));
/// assert_eq!(f.replica_preference(), ReplicaPreference::DemandMaster);
/// // 12 is not "DEMAND_MASTER and PREFER_REPLICA":
/// assert!(!CommandFlags::DEMAND_REPLICA.contains(CommandFlags::DEMAND_MASTER));
/// assert_eq!(
///     (CommandFlags::DEMAND_MASTER | CommandFlags::PREFER_REPLICA).replica_preference(),
///     ReplicaPreference::PreferReplica,
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommandFlags(u32);

impl CommandFlags {
    /// No options: await the reply, prefer the primary.
    pub const NONE: CommandFlags = CommandFlags(0);
    /// The default replica preference (0, the same as `NONE`): the primary
    /// when it is available, a replica otherwise.
    pub const PREFER_MASTER: CommandFlags = CommandFlags(0);
    /// Return at once; the reply is read and dropped.
    pub const FIRE_AND_FORGET: CommandFlags = CommandFlags(2);
    /// Only a primary may serve this command.
    pub const DEMAND_MASTER: CommandFlags = CommandFlags(4);
    /// Prefer a replica, fall back to the primary.
    pub const PREFER_REPLICA: CommandFlags = CommandFlags(8);
    /// Only a replica may serve this command (SE.Redis's value 12).
    pub const DEMAND_REPLICA: CommandFlags = CommandFlags(12);
    /// In a cluster, return `MOVED`/`ASK` to the caller instead of following it.
    pub const NO_REDIRECT: CommandFlags = CommandFlags(64);
    /// Send scripts with `EVAL` rather than `EVALSHA`.
    pub const NO_SCRIPT_CACHE: CommandFlags = CommandFlags(512);

    /// True if every option of `other` is set in `self`. A replica
    /// preference in `other` must equal `self`'s (12 does not contain 4);
    /// `PREFER_MASTER` is the absence of a preference, so ask
    /// [`replica_preference`](CommandFlags::replica_preference) for it.
    pub fn contains(self, other: CommandFlags) -> bool {
        let others = other.0 & !PREFERENCE_MASK;
        let wanted = other.0 & PREFERENCE_MASK;
        self.0 & others == others && (wanted == 0 || self.0 & PREFERENCE_MASK == wanted)
    }

    /// Which servers may serve the command: the two-bit field of `self`.
    pub fn replica_preference(self) -> ReplicaPreference {
        match self.0 & PREFERENCE_MASK {
            0 => ReplicaPreference::PreferMaster,
            4 => ReplicaPreference::DemandMaster,
            8 => ReplicaPreference::PreferReplica,
            _ => ReplicaPreference::DemandReplica,
        }
    }

    /// `self` with its replica preference replaced by `preference`.
    ///
    /// ```
    /// use redmux::{CommandFlags, ReplicaPreference};
    /// let f = CommandFlags::DEMAND_REPLICA.with_replica_preference(ReplicaPreference::PreferMaster);
    /// assert_eq!(f, CommandFlags::NONE);
    /// ```
    pub fn with_replica_preference(self, preference: ReplicaPreference) -> CommandFlags {
        CommandFlags((self.0 & !PREFERENCE_MASK) | preference.bits())
    }

    /// The raw value, as in StackExchange.Redis.
    pub fn bits(self) -> u32 {
        self.0
    }
}

/// The bits of the replica preference field.
const PREFERENCE_MASK: u32 = 12;

/// Which servers may serve a command, from [`CommandFlags::replica_preference`].
///
/// With one endpoint (no replicas configured) every command goes to it.
///
/// ```
/// use redmux::{CommandFlags, ReplicaPreference};
/// assert_eq!(CommandFlags::NONE.replica_preference(), ReplicaPreference::PreferMaster);
/// assert_eq!(CommandFlags::DEMAND_REPLICA.replica_preference(), ReplicaPreference::DemandReplica);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReplicaPreference {
    /// The primary if it is available, else a replica (the default; value 0).
    #[default]
    PreferMaster,
    /// Only the primary (value 4).
    DemandMaster,
    /// A replica if one is available, else the primary (value 8).
    PreferReplica,
    /// Only a replica (value 12).
    DemandReplica,
}

impl ReplicaPreference {
    /// The StackExchange.Redis value of this preference.
    pub fn bits(self) -> u32 {
        match self {
            ReplicaPreference::PreferMaster => 0,
            ReplicaPreference::DemandMaster => 4,
            ReplicaPreference::PreferReplica => 8,
            ReplicaPreference::DemandReplica => 12,
        }
    }
}

impl BitOr for CommandFlags {
    type Output = CommandFlags;
    /// The options of both; when both carry a replica preference, the
    /// right-hand side's (the later choice wins).
    fn bitor(self, rhs: CommandFlags) -> CommandFlags {
        let preference = if rhs.0 & PREFERENCE_MASK != 0 {
            rhs.0 & PREFERENCE_MASK
        } else {
            self.0 & PREFERENCE_MASK
        };
        CommandFlags(((self.0 | rhs.0) & !PREFERENCE_MASK) | preference)
    }
}

impl BitOrAssign for CommandFlags {
    fn bitor_assign(&mut self, rhs: CommandFlags) {
        *self = *self | rhs
    }
}

impl fmt::Debug for CommandFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // DEMAND_REPLICA (12) is DEMAND_MASTER | PREFER_REPLICA as bits, so it is matched first.
        const NAMES: [(CommandFlags, &str); 6] = [
            (CommandFlags::FIRE_AND_FORGET, "FIRE_AND_FORGET"),
            (CommandFlags::DEMAND_REPLICA, "DEMAND_REPLICA"),
            (CommandFlags::DEMAND_MASTER, "DEMAND_MASTER"),
            (CommandFlags::PREFER_REPLICA, "PREFER_REPLICA"),
            (CommandFlags::NO_REDIRECT, "NO_REDIRECT"),
            (CommandFlags::NO_SCRIPT_CACHE, "NO_SCRIPT_CACHE"),
        ];
        let mut rest = self.0;
        let mut parts = Vec::new();
        for (flag, name) in NAMES {
            if rest & flag.0 == flag.0 {
                parts.push(name.to_owned());
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            parts.push(format!("{rest:#x}"));
        }
        if parts.is_empty() {
            return f.write_str("NONE");
        }
        f.write_str(&parts.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_stackexchange_redis() {
        assert_eq!(CommandFlags::FIRE_AND_FORGET.bits(), 2);
        assert_eq!(CommandFlags::DEMAND_MASTER.bits(), 4);
        assert_eq!(CommandFlags::PREFER_REPLICA.bits(), 8);
        assert_eq!(CommandFlags::DEMAND_REPLICA.bits(), 12);
        assert_eq!(CommandFlags::NO_REDIRECT.bits(), 64);
    }

    const PREFERENCES: [(CommandFlags, ReplicaPreference); 4] = [
        (CommandFlags::PREFER_MASTER, ReplicaPreference::PreferMaster),
        (CommandFlags::DEMAND_MASTER, ReplicaPreference::DemandMaster),
        (
            CommandFlags::PREFER_REPLICA,
            ReplicaPreference::PreferReplica,
        ),
        (
            CommandFlags::DEMAND_REPLICA,
            ReplicaPreference::DemandReplica,
        ),
    ];
    const OTHERS: [CommandFlags; 4] = [
        CommandFlags::NONE,
        CommandFlags::FIRE_AND_FORGET,
        CommandFlags::NO_REDIRECT,
        CommandFlags::NO_SCRIPT_CACHE,
    ];

    #[test]
    fn every_preference_is_read_back_whatever_else_is_set() {
        for (flag, preference) in PREFERENCES {
            assert_eq!(flag.bits(), preference.bits());
            for other in OTHERS {
                assert_eq!(
                    (flag | other).replica_preference(),
                    preference,
                    "{flag:?} {other:?}"
                );
                assert_eq!(
                    (other | flag).replica_preference(),
                    preference,
                    "{other:?} {flag:?}"
                );
                assert!((flag | other).contains(other), "{flag:?} {other:?}");
            }
        }
    }

    #[test]
    fn contains_compares_preferences_as_a_whole() {
        for (a, pa) in PREFERENCES {
            for (b, pb) in PREFERENCES {
                for other in OTHERS {
                    let expected = pb == ReplicaPreference::PreferMaster || pa == pb;
                    assert_eq!(
                        (a | other).contains(b),
                        expected,
                        "{a:?}|{other:?} contains {b:?}"
                    );
                }
            }
        }
        assert!(!CommandFlags::DEMAND_REPLICA.contains(CommandFlags::DEMAND_MASTER));
        assert!(!CommandFlags::DEMAND_REPLICA.contains(CommandFlags::PREFER_REPLICA));
        assert!(!CommandFlags::DEMAND_MASTER.contains(CommandFlags::FIRE_AND_FORGET));
    }

    #[test]
    fn the_later_preference_wins_when_combining() {
        for (a, pa) in PREFERENCES {
            for (b, pb) in PREFERENCES {
                let expected = if pb == ReplicaPreference::PreferMaster {
                    pa
                } else {
                    pb
                };
                let mut combined = a | CommandFlags::FIRE_AND_FORGET;
                combined |= b;
                assert_eq!(combined.replica_preference(), expected, "{a:?} then {b:?}");
                assert!(combined.contains(CommandFlags::FIRE_AND_FORGET));
                assert_eq!(
                    a.with_replica_preference(pb).replica_preference(),
                    pb,
                    "{a:?} with {pb:?}"
                );
            }
        }
    }

    #[test]
    fn debug_names_the_flags() {
        assert_eq!(format!("{:?}", CommandFlags::NONE), "NONE");
        assert_eq!(
            format!("{:?}", CommandFlags::DEMAND_REPLICA),
            "DEMAND_REPLICA"
        );
        assert_eq!(
            format!(
                "{:?}",
                CommandFlags::FIRE_AND_FORGET | CommandFlags::NO_REDIRECT
            ),
            "FIRE_AND_FORGET|NO_REDIRECT"
        );
    }
}
