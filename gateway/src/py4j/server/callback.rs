//! JavaGateway mode's way to Python: a connection to Python's callback server,
//! authenticated with `A⏎<token>⏎e⏎`, reused while it stays healthy.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use bytes::BytesMut;
use sparkwire_framing::Step;

use super::shared::{CallbackConnection, Shared};
use crate::jvm::CallbackError;
use crate::py4j::{escape, Command, Direction, Message, Py4jDecoder, Reply, Value};

/// A callback call over a pooled connection to Python's callback server.
pub(super) struct CallbackClient {
    shared: Arc<Shared>,
}

impl CallbackConnection {
    fn open(shared: &Shared) -> Result<CallbackConnection, CallbackError> {
        let addr = shared.gateway_object.callback_address();
        if !addr.ip().is_loopback() {
            return Err(CallbackError::Unavailable(format!(
                "{addr} is not a loopback address"
            )));
        }
        let stream = TcpStream::connect_timeout(&addr, shared.config.auth_timeout)?;
        stream.set_nodelay(true)?;
        let mut c = CallbackConnection {
            stream,
            buf: BytesMut::new(),
            decoder: Py4jDecoder::with_limits(Direction::ToJava, shared.config.limits),
        };
        // Java escapes the token on this side of the exchange.
        let auth = Command::CallbackAuth {
            token: escape(&shared.config.auth_token),
        };
        c.stream.write_all(&auth.to_bytes())?;
        match c.reply()? {
            Reply::Success(Value::Void) => Ok(c),
            other => Err(CallbackError::Protocol(format!(
                "Python's callback server refused the token: {}",
                String::from_utf8_lossy(&other.to_bytes()).trim_end()
            ))),
        }
    }

    fn reply(&mut self) -> Result<Reply, CallbackError> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Step::Item(Message::Reply(r))) => return Ok(r),
                Ok(Step::Item(Message::Command(c))) => {
                    return Err(CallbackError::Protocol(format!(
                        "Python's callback server sent a command ({})",
                        c.name()
                    )))
                }
                Ok(Step::NeedMore) => {}
                Err(e) => return Err(CallbackError::Protocol(e.to_string())),
            }
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(CallbackError::Protocol(
                    "Python's callback server closed the connection".into(),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

impl CallbackClient {
    pub(super) fn new(shared: Arc<Shared>) -> CallbackClient {
        CallbackClient { shared }
    }

    /// Calls `method` on Python object `proxy`.
    pub(super) fn call(
        &self,
        proxy: &str,
        method: &str,
        args: &[Value],
    ) -> Result<Reply, CallbackError> {
        let pooled = self.shared.take_callback_connection();
        let mut conn = match pooled {
            Some(c) => c,
            None => CallbackConnection::open(&self.shared)?,
        };
        let call = Command::ProxyCall {
            proxy: proxy.to_owned(),
            method: method.to_owned(),
            args: args.to_vec(),
        };
        conn.stream.write_all(&call.to_bytes())?;
        let reply = conn.reply()?;
        self.shared.return_callback_connection(conn);
        Ok(reply)
    }
}
