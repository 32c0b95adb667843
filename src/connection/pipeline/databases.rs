//! Database switches on a shared connection: the pipeline puts a SELECT
//! ahead of an entry for another database (pipelined when the server's
//! database count is known, a barrier otherwise), reads its reply, and
//! after a failed SELECT reports where the commands behind it really ran.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::entry::{flag, Entry, Kind};
use super::Pipeline;
use crate::error::Error;
use crate::resp::Value;

/// A pipelined SELECT that failed: what ran where.
pub(super) struct SelectFailure {
    db: u32,
    ran_in: u32,
    text: Bytes,
}

impl Pipeline {
    /// Puts a SELECT for `db` into the write buffer ahead of the backlog's
    /// front entry. True if that entry may follow at once (SELECT
    /// pipelined); false if it must wait (a barrier SELECT, or the entry
    /// was refused because the database does not exist).
    pub(super) fn switch_database(&mut self, db: u32) -> bool {
        match self.databases {
            Some(count) if db >= count => {
                if let Some(entry) = self.backlog.pop_front() {
                    self.retries_at_front = self.retries_at_front.saturating_sub(1);
                    self.count_dropped(&entry);
                    let err =
                        Error::database_out_of_range(&entry.name(), db, count, &self.endpoint());
                    entry.fail(err);
                }
                false
            }
            Some(_) => {
                self.pipeline_select(db);
                true
            }
            None => {
                // Nothing else is written until its reply: if it fails, no
                // command can run in the wrong database.
                let mut entry = self.select(db);
                entry.flags |= flag::GATED;
                self.push_to_wire(entry);
                false
            }
        }
    }

    /// Whether an entry for `db` may go into the write buffer without a
    /// barrier: it is for the database the connection will be in, or a
    /// SELECT to it can be pipelined (the server's count is known).
    pub(super) fn can_pipeline_to(&self, db: u32) -> bool {
        db == self.wire_db || self.databases.is_some_and(|count| db < count)
    }

    /// Puts a pipelined SELECT of `db` into the write buffer.
    pub(super) fn pipeline_select(&mut self, db: u32) {
        let entry = self.select(db);
        self.push_to_wire(entry);
        self.wire_db = db;
    }

    /// A SELECT of `db`, encoded into the shared buffer.
    pub(super) fn select(&mut self, db: u32) -> Entry {
        if self.selects.capacity() - self.selects.len() < MAX_SELECT_LEN {
            self.selects.reserve(SELECT_ARENA);
        }
        encode_select(&mut self.selects, db);
        Entry::select(self.selects.split(), db)
    }

    pub(super) fn on_select_reply(&mut self, select: Entry, value: Value) {
        let Value::Error(text) = value else {
            self.server_db = select.db;
            if select.is_gated() {
                self.wire_db = select.db;
            }
            return;
        };
        if !select.is_gated() {
            // Pipelined: the commands written behind it for that database ran
            // in the database the connection stayed in. Their replies are
            // replaced by an error that says so, and from now on switches wait
            // for SELECT's reply.
            for entry in self.fifo.iter_mut() {
                if entry.kind == Kind::Select {
                    break;
                }
                if entry.is_callers() && entry.db == select.db {
                    entry.flags |= flag::WRONG_DB;
                }
            }
            if !self.fifo.iter().any(|e| e.kind == Kind::Select) {
                self.wire_db = self.server_db;
            }
            self.select_failures.retain(|f| f.db != select.db);
            self.select_failures.push(SelectFailure {
                db: select.db,
                ran_in: self.server_db,
                text: text.clone(),
            });
            self.databases = None;
            tracing::warn!(
                target: "redmux",
                endpoint = %self.shared.endpoint(),
                db = select.db,
                error = %String::from_utf8_lossy(&text),
                "a pipelined SELECT failed; database switches now wait for SELECT's reply"
            );
        }
        self.fail_backlog_for_db(select.db, &text);
    }

    /// SELECT failed: the commands waiting for that database get its error.
    pub(super) fn fail_backlog_for_db(&mut self, db: u32, text: &Bytes) {
        let reason = Bytes::from(format!(
            "{} (from SELECT {db}, sent to switch to database {db} for this command; the command was not sent)",
            String::from_utf8_lossy(text)
        ));
        // Retries of "not executed" replies stay first, in their order:
        // only the failed ones leave the count.
        let front = self.retries_at_front;
        let mut failed = Vec::new();
        let mut kept = VecDeque::with_capacity(self.backlog.len());
        self.retries_at_front = 0;
        for (i, entry) in self.backlog.drain(..).enumerate() {
            if entry.db == db {
                failed.push(entry);
            } else {
                self.retries_at_front += usize::from(i < front);
                kept.push_back(entry);
            }
        }
        self.backlog = kept;
        for entry in failed {
            self.count_dropped(&entry);
            let err = Error::server_not_executed(&entry.name(), &reason);
            entry.fail(err);
        }
    }

    pub(super) fn wrong_database_error(&self, entry: &Entry) -> Error {
        let failure = self.select_failures.iter().rev().find(|f| f.db == entry.db);
        let (ran_in, text) = match failure {
            Some(f) => (f.ran_in, String::from_utf8_lossy(&f.text).into_owned()),
            None => (self.wire_db, "ERR SELECT failed".to_owned()),
        };
        Error::wrong_database(&entry.name(), entry.db, ran_in, &text)
    }
}

/// At least the longest encoded SELECT (33 bytes: `u32::MAX` has 10 digits).
const MAX_SELECT_LEN: usize = 40;
/// Bytes reserved at a time for encoded SELECTs (about 45 of them).
const SELECT_ARENA: usize = 1024;

/// Appends `SELECT db`, encoded: with a quarter of the callers on another
/// database about one command in three needs one, so it skips the general
/// command builder.
fn encode_select(out: &mut BytesMut, db: u32) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(db).as_bytes();
    let mut len = itoa::Buffer::new();
    let len = len.format(digits.len()).as_bytes();
    out.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$");
    out.extend_from_slice(len);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(digits);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Cmd;

    #[test]
    fn select_is_encoded_as_the_command_builder_would() {
        let mut arena = BytesMut::new();
        for db in [0, 2, 9, 10, 15, 99, 100, 12345, u32::MAX] {
            let built = Cmd::new("SELECT").arg(db).into_encoded().0;
            encode_select(&mut arena, db);
            assert!(arena.len() <= MAX_SELECT_LEN);
            assert_eq!(arena.split(), built, "SELECT {db}");
        }
    }
}
