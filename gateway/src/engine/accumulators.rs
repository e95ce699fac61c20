//! Accumulator updates pushed to the driver's accumulator server, as
//! `PythonAccumulatorV2.merge` does after each task: the secret once, then per
//! task `int32 count`, each update `int32 len + pickle`, and a one-byte ack.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;

use super::error::JobError;

/// A `PythonAccumulatorV2`: where the driver's accumulator server listens.
#[derive(Debug)]
pub struct AccumulatorTarget {
    addr: SocketAddr,
    secret: String,
    conn: Mutex<Option<TcpStream>>,
}

impl AccumulatorTarget {
    /// The server at `addr`, authenticated with `secret`.
    pub fn new(addr: SocketAddr, secret: String) -> AccumulatorTarget {
        AccumulatorTarget {
            addr,
            secret,
            conn: Mutex::new(None),
        }
    }

    /// Sends one task's updates and waits for the ack.
    ///
    /// A task without updates sends nothing: Spark sends `int32 0` and waits
    /// for its ack, which changes nothing on the driver, but the connection
    /// it opens keeps PySpark's update handler polling, and `sc.stop()` then
    /// waits up to a second for it.
    pub fn send(&self, updates: &[Bytes]) -> Result<(), JobError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let io = |e: std::io::Error| JobError::Accumulators(format!("{}: {e}", self.addr));
        if guard.is_none() {
            if !self.addr.ip().is_loopback() {
                return Err(JobError::Accumulators(format!(
                    "{} is not a loopback address",
                    self.addr
                )));
            }
            let mut s =
                TcpStream::connect_timeout(&self.addr, Duration::from_secs(15)).map_err(io)?;
            s.set_nodelay(true).map_err(io)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))
                .map_err(io)?;
            s.write_all(self.secret.as_bytes()).map_err(io)?;
            *guard = Some(s);
        }
        let Some(s) = guard.as_mut() else {
            return Ok(());
        };
        let mut msg = Vec::with_capacity(4 + updates.iter().map(|u| 4 + u.len()).sum::<usize>());
        msg.extend_from_slice(&(updates.len() as i32).to_be_bytes());
        for u in updates {
            msg.extend_from_slice(&(u.len() as i32).to_be_bytes());
            msg.extend_from_slice(u);
        }
        let result = s.write_all(&msg).and_then(|()| {
            let mut ack = [0u8; 1];
            s.read_exact(&mut ack)
        });
        if let Err(e) = result {
            *guard = None;
            return Err(io(e));
        }
        Ok(())
    }
}
