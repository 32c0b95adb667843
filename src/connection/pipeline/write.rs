//! The pipeline's writing side: the write buffer (and, while a large
//! command is unwritten, that command's own bytes) to the stream, in wire
//! order, and what a write moves: offsets, the FIFO's written boundary,
//! counters.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Buf;
use tokio::io::AsyncWrite;
use tokio::time::Instant;

use super::entry::{flag, Entry};
use super::Pipeline;
use crate::connection::transport::Stream;
use crate::stats::Counters;

/// Most slices in one vectored write (well under every system's IOV_MAX).
const MAX_WRITE_SLICES: usize = 64;

impl Pipeline {
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut Stream,
    ) -> io::Result<bool> {
        let vectored = self.own_buffer_bytes > 0;
        let poll = if vectored {
            self.poll_write_vectored(cx, stream)
        } else {
            Pin::new(stream).poll_write(cx, &self.wbuf)
        };
        match poll {
            Poll::Ready(Ok(0)) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the socket accepted no bytes",
            )),
            Poll::Ready(Ok(n)) => {
                let from_wbuf = if vectored {
                    self.write_buffer_share(n)
                } else {
                    n
                };
                self.wbuf.advance(from_wbuf);
                self.written += n as u64;
                self.advance_written_entries();
                self.last_write = Some(Instant::now());
                Counters::add(&self.shared.stats.flushes, 1);
                Counters::add(&self.shared.stats.bytes_out, n as u64);
                self.replied_since_write = false;
                self.unflushed = true;
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(false),
        }
    }

    /// Pushes out what the transport buffered itself (TLS keeps records
    /// until flushed; a TCP socket has nothing to flush).
    pub(super) fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut Stream,
    ) -> io::Result<()> {
        match Pin::new(stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                Ok(())
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(()),
        }
    }

    /// One vectored write of the unwritten entries, in wire order: runs of
    /// small entries from the write buffer, large ones from their own.
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut Stream,
    ) -> Poll<io::Result<usize>> {
        let mut slices = [IoSlice::new(&[]); MAX_WRITE_SLICES];
        let count = self.write_slices(&mut slices);
        Pin::new(stream).poll_write_vectored(cx, &slices[..count])
    }

    /// Fills `out` with the unwritten bytes in wire order, as many slices
    /// as fit; returns how many. The write buffer holds the small entries'
    /// bytes back to back, so each run of small entries is one slice of it.
    fn write_slices<'a>(&'a self, out: &mut [IoSlice<'a>; MAX_WRITE_SLICES]) -> usize {
        let mut count = 0;
        let (mut run, mut run_start) = (0, 0);
        for entry in self.fifo.range(self.fifo.len() - self.unwritten..) {
            let rest = self.unwritten_part(entry);
            if entry.flags & flag::OWN_BUFFER == 0 {
                run += rest.len();
                continue;
            }
            if run > 0 {
                out[count] = IoSlice::new(&self.wbuf[run_start..run_start + run]);
                count += 1;
                (run_start, run) = (run_start + run, 0);
            }
            out[count] = IoSlice::new(rest);
            count += 1;
            if count + 1 >= MAX_WRITE_SLICES {
                return count;
            }
        }
        if run > 0 {
            out[count] = IoSlice::new(&self.wbuf[run_start..run_start + run]);
            count += 1;
        }
        count
    }

    /// How many of the next `n` bytes of the output stream are in the write
    /// buffer (the rest are large entries' own).
    fn write_buffer_share(&self, n: usize) -> usize {
        let (mut left, mut share) = (n, 0);
        for entry in self.fifo.range(self.fifo.len() - self.unwritten..) {
            if left == 0 {
                break;
            }
            let here = self.unwritten_part(entry).len().min(left);
            if entry.flags & flag::OWN_BUFFER == 0 {
                share += here;
            }
            left -= here;
        }
        share
    }

    /// The bytes of an entry not yet written.
    fn unwritten_part<'a>(&self, entry: &'a Entry) -> &'a [u8] {
        let done = self.written.saturating_sub(entry.start()) as usize;
        &entry.bytes[done.min(entry.bytes.len())..]
    }

    /// Bytes waiting to be written: the write buffer and the large entries
    /// written from their own buffers.
    pub(super) fn buffered(&self) -> usize {
        self.wbuf.len() + self.own_buffer_bytes
    }

    /// After a write: entries whose last byte went out are no longer unwritten.
    fn advance_written_entries(&mut self) {
        while self.unwritten > 0 {
            let index = self.fifo.len() - self.unwritten;
            match self.fifo.get_mut(index) {
                Some(entry) if entry.end <= self.written => {
                    if entry.flags & flag::OWN_BUFFER != 0 {
                        entry.flags &= !flag::OWN_BUFFER;
                        self.own_buffer_bytes -= entry.bytes.len();
                    }
                    self.unwritten -= 1;
                }
                _ => break,
            }
        }
    }
}
