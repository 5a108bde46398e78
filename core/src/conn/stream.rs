//! The byte stream under a connection: a plain TCP socket or TLS over one. Everything a
//! connection does with its socket — blocking reads and writes under a timeout, reading what
//! already arrived without waiting, the idle probe — is here, once for both.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::tls::TlsStream;

/// At most this many TLS records are taken in by one idle probe (session tickets a
/// TLS 1.3 server sends after the handshake are one or two).
const MAX_PROBED_RECORDS: usize = 16;

/// A connection's transport.
pub(crate) enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (boxed: rustls' state is large and most connections are plain).
    Tls(Box<TlsStream>),
}

impl Stream {
    /// The TCP socket.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => &t.sock,
        }
    }

    /// Is this a TLS connection?
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    pub(crate) fn set_read_timeout(&self, t: Duration) -> io::Result<()> {
        self.tcp().set_read_timeout(Some(t))
    }

    pub(crate) fn set_write_timeout(&self, t: Duration) -> io::Result<()> {
        self.tcp().set_write_timeout(Some(t))
    }

    /// Write all of `bytes` (under the socket's write timeout).
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(bytes),
            Stream::Tls(t) => {
                t.write_all(bytes)?;
                // rustls' write buffers the last records: push them out now.
                t.flush()
            }
        }
    }

    /// Read (under the socket's read timeout).
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }

    /// Read what already arrived, without waiting: `Ok(0)` when nothing is there.
    pub(crate) fn read_waiting_none(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => {
                // SAFETY: recv(2) into `buf`, of its exact length, on our own socket;
                // MSG_DONTWAIT never blocks.
                let n = unsafe {
                    libc::recv(
                        s.as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    let err = io::Error::last_os_error();
                    return if err.kind() == io::ErrorKind::WouldBlock {
                        Ok(0)
                    } else {
                        Err(err)
                    };
                }
                Ok(n as usize)
            }
            Stream::Tls(t) => {
                t.sock.set_nonblocking(true)?;
                let read = t.read(buf);
                t.sock.set_nonblocking(false)?;
                match read {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                    other => other,
                }
            }
        }
    }

    /// Is this idle connection still usable? A non-blocking look at the socket: EOF, an
    /// error or bytes nobody asked for mean it is not. On TLS, records that carry no data
    /// (session tickets sent after the handshake) are taken in and do not count.
    pub(crate) fn is_idle_clean(&mut self) -> bool {
        let mut byte = [0u8; 1];
        // SAFETY: recv(2) into a 1-byte stack buffer on our own socket; MSG_DONTWAIT never
        // blocks and MSG_PEEK consumes nothing.
        let n = unsafe {
            libc::recv(
                self.tcp().as_raw_fd(),
                byte.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
        }
        match self {
            // 0: the peer closed; > 0: bytes nobody asked for.
            Stream::Plain(_) => false,
            Stream::Tls(t) => n > 0 && tls_idle_clean(t),
        }
    }
}

/// Take in the TLS records waiting on an idle connection: clean if none carried data and
/// the peer neither closed nor failed.
fn tls_idle_clean(t: &mut TlsStream) -> bool {
    if t.sock.set_nonblocking(true).is_err() {
        return false;
    }
    let mut clean = true;
    for _ in 0..MAX_PROBED_RECORDS {
        match t.conn.read_tls(&mut t.sock) {
            Ok(0) => {
                clean = false;
                break;
            }
            Ok(_) => match t.conn.process_new_packets() {
                Ok(state) if state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed() => {}
                _ => {
                    clean = false;
                    break;
                }
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => {
                clean = false;
                break;
            }
        }
    }
    t.sock.set_nonblocking(false).is_ok() && clean
}
