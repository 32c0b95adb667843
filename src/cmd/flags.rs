//! `CommandFlags`: per-command options, with StackExchange.Redis's values.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Options for one command, combinable with `|`.
///
/// The numeric values match StackExchange.Redis's `CommandFlags`, so people
/// moving from it recognise them. Routing flags (`DEMAND_MASTER`,
/// `PREFER_REPLICA`, `DEMAND_REPLICA`, `NO_REDIRECT`) are carried by every
/// request now and take effect once replica and cluster routing exist; with a
/// single endpoint every command goes to it.
///
/// ```
/// use redmux::CommandFlags;
/// let f = CommandFlags::FIRE_AND_FORGET | CommandFlags::DEMAND_MASTER;
/// assert!(f.contains(CommandFlags::FIRE_AND_FORGET));
/// assert!(!f.contains(CommandFlags::NO_REDIRECT));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommandFlags(u32);

impl CommandFlags {
    /// No options: await the reply, prefer the primary.
    pub const NONE: CommandFlags = CommandFlags(0);
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

    /// True if every bit of `other` is set in `self`.
    pub fn contains(self, other: CommandFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw value, as in StackExchange.Redis.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl BitOr for CommandFlags {
    type Output = CommandFlags;
    fn bitor(self, rhs: CommandFlags) -> CommandFlags {
        CommandFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for CommandFlags {
    fn bitor_assign(&mut self, rhs: CommandFlags) {
        self.0 |= rhs.0
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
