//! The connected byte streams a worker connection runs over.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A connected byte stream that can be split between a reading and a writing
/// thread: TCP or a Unix-domain socket.
pub trait Duplex: Read + Write + Send + Sized + 'static {
    /// A second handle on the same connection.
    fn try_clone(&self) -> io::Result<Self>;
    /// Passes end-of-stream on (the other side reads EOF).
    fn shutdown_write(&self);
    /// Closes both directions, waking a thread blocked in `read`.
    fn shutdown_both(&self);
    /// Bounds each blocking read.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Duplex for TcpStream {
    fn try_clone(&self) -> io::Result<Self> {
        TcpStream::try_clone(self)
    }
    fn shutdown_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
    fn shutdown_both(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

impl Duplex for UnixStream {
    fn try_clone(&self) -> io::Result<Self> {
        UnixStream::try_clone(self)
    }
    fn shutdown_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
    fn shutdown_both(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, timeout)
    }
}

/// A worker connection over either kind of socket, so one pool can hold both.
#[derive(Debug)]
pub enum Socket {
    /// Loopback TCP.
    Tcp(TcpStream),
    /// A Unix-domain socket in a private directory (4.1+).
    Unix(UnixStream),
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.flush(),
            Socket::Unix(s) => s.flush(),
        }
    }
}

impl Duplex for Socket {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }
    fn shutdown_write(&self) {
        match self {
            Socket::Tcp(s) => Duplex::shutdown_write(s),
            Socket::Unix(s) => Duplex::shutdown_write(s),
        }
    }
    fn shutdown_both(&self) {
        match self {
            Socket::Tcp(s) => Duplex::shutdown_both(s),
            Socket::Unix(s) => Duplex::shutdown_both(s),
        }
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => TcpStream::set_read_timeout(s, timeout),
            Socket::Unix(s) => UnixStream::set_read_timeout(s, timeout),
        }
    }
}
