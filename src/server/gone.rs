//! Whether a request's client is still there, asked by the protocol work
//! between frames so that a request nobody waits for stops early.
//!
//! Two signals. hyper drops a request's future when its connection fails
//! while hyper is reading (the [`super::InFlight`] guard then sets the
//! flag). But the server keeps half-closed connections open (a client may
//! shut down its sending side and still wait for the answer, and `hg
//! serve` answers it), so hyper does not read while a request is worked
//! on, and a client that leaves then goes unseen. So the work also peeks at
//! the socket now and then (a duplicate of the connection's descriptor,
//! `recv(MSG_PEEK)` without blocking): an error there (a reset) means the
//! client has gone. An orderly close (FIN) reads as the end of input, which
//! is what a half-closed client that still waits sends too: that one is
//! answered, as `hg serve` does; the answer then finds the socket closed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// How often (at most) the socket is peeked at, in microseconds.
const PEEK_EVERY_US: u64 = 20_000;

/// A connection's socket, to peek at.
#[derive(Debug)]
pub(crate) struct Probe {
    #[cfg(unix)]
    socket: std::net::TcpStream,
    /// Microseconds since `epoch` of the last peek.
    last: AtomicU64,
    epoch: Instant,
}

/// The descriptor of a connection's socket, put in each of its requests'
/// extensions (a number, not a handle: see [`Probe::of`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnFd(#[cfg(unix)] std::os::fd::RawFd);

impl ConnFd {
    pub(crate) fn of(stream: &tokio::net::TcpStream) -> ConnFd {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            ConnFd(stream.as_raw_fd())
        }
        #[cfg(not(unix))]
        {
            let _ = stream;
            ConnFd()
        }
    }
}

impl Probe {
    /// A probe of the connection's socket (a duplicate descriptor, owned
    /// by the request's work however long it runs), or `None` when it
    /// cannot be duplicated (the work then relies on hyper alone).
    ///
    /// Must be called from the request's service future: the duplicate
    /// is made per request that needs it (not per connection, which would
    /// take two descriptors for each open connection against the process's
    /// limit).
    pub(crate) fn of(conn: ConnFd) -> Option<Arc<Probe>> {
        #[cfg(unix)]
        {
            use std::os::fd::BorrowedFd;
            // SAFETY: `conn.0` is the descriptor of the connection whose
            // service future is running this call: hyper owns the socket
            // for as long as it polls that future, so the descriptor is
            // open (and not yet reused) here. It is duplicated at once and
            // only the duplicate is kept.
            let fd = unsafe { BorrowedFd::borrow_raw(conn.0) };
            let fd = fd.try_clone_to_owned().ok()?;
            Some(Arc::new(Probe {
                socket: std::net::TcpStream::from(fd),
                last: AtomicU64::new(0),
                epoch: Instant::now(),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = conn;
            None
        }
    }

    /// Whether the socket reports an error (the client reset the
    /// connection). Peeks at most every [`PEEK_EVERY_US`].
    fn reset(&self) -> bool {
        let now = self.epoch.elapsed().as_micros() as u64;
        let last = self.last.load(Ordering::Relaxed);
        if now.saturating_sub(last) < PEEK_EVERY_US && last != 0 {
            return false;
        }
        self.last.store(now.max(1), Ordering::Relaxed);
        self.peek_reset()
    }

    #[cfg(unix)]
    fn peek_reset(&self) -> bool {
        // The descriptor shares its file description with tokio's, which
        // is non-blocking: `peek` returns at once.
        let mut one = [0u8; 1];
        match self.socket.peek(&mut one) {
            // Data (a pipelined request) or the end of input (FIN: maybe a
            // half-closed client that still waits): not gone.
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        }
    }

    #[cfg(not(unix))]
    fn peek_reset(&self) -> bool {
        false
    }
}

/// Whether a request's client has gone; cheap to clone and to ask.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gone {
    flag: Arc<AtomicBool>,
    conn: Option<ConnFd>,
    probe: Arc<OnceLock<Option<Arc<Probe>>>>,
}

impl Gone {
    /// For a request on the connection `conn` (no descriptor is taken
    /// until [`arm`](Gone::arm)).
    pub(crate) fn new(conn: Option<ConnFd>) -> Gone {
        Gone {
            flag: Arc::default(),
            conn,
            probe: Arc::default(),
        }
    }

    /// Make [`check`](Gone::check) peek at the socket: for work that may
    /// take long (small bodies are answered inline in microseconds, and a
    /// descriptor duplicated per request would cost two system calls each).
    /// Must be called from the request's service future (see
    /// [`Probe::of`]).
    pub(crate) fn arm(&self) {
        if let Some(conn) = self.conn {
            self.probe.get_or_init(|| Probe::of(conn));
        }
    }

    /// Mark the client gone (its connection failed).
    pub(crate) fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether the client has gone (asks the socket now and then).
    pub(crate) fn check(&self) -> bool {
        if self.flag.load(Ordering::Relaxed) {
            return true;
        }
        if self
            .probe
            .get()
            .and_then(Option::as_ref)
            .is_some_and(|p| p.reset())
        {
            self.set();
            return true;
        }
        false
    }

    /// Whether the client was seen gone (does not ask the socket).
    pub(crate) fn seen(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A reset is seen; the end of input (FIN) and pipelined data are not.
    #[test]
    fn a_reset_is_gone_a_half_close_is_not() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            for how in ["data", "fin", "reset"] {
                let client = std::net::TcpStream::connect(addr).unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let gone = Gone::new(Some(ConnFd::of(&server)));
                gone.arm();
                assert!(!gone.check(), "{how}: nothing happened yet");
                match how {
                    "data" => (&client).write_all(b"GET / HTTP/1.1\r\n").unwrap(),
                    "fin" => client.shutdown(std::net::Shutdown::Write).unwrap(),
                    _ => {
                        socket_linger_zero(&client);
                        drop(client);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                // Past the peek interval.
                std::thread::sleep(std::time::Duration::from_micros(PEEK_EVERY_US));
                assert_eq!(gone.check(), how == "reset", "{how}");
                assert_eq!(gone.seen(), how == "reset", "{how}");
            }
        });
    }

    /// `SO_LINGER` 0: closing sends a reset instead of a FIN.
    fn socket_linger_zero(s: &std::net::TcpStream) {
        socket2::SockRef::from(s)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
    }
}
