//! py4j's own Java objects a client may call: `py4j.reflection.TypeUtil`
//! (`JavaIterator` asks it `isInstanceOf`) and the gateway server object
//! (`GATEWAY_SERVER`), whose callback client address a client may reset.

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use crate::jvm::invoke::void_result;
use crate::jvm::model::{ClassTable, JavaClass};
use crate::jvm::{CallError, Cx, JValue, JvmObject, ObjRef};

/// py4j's default callback server port (`DEFAULT_PYTHON_PROXY_PORT`).
pub const DEFAULT_CALLBACK_PORT: u16 = 25334;

/// The `GATEWAY_SERVER` object: where Java-initiated calls to Python go in
/// JavaGateway mode (Python's callback server).
#[derive(Debug)]
pub struct GatewayServerObject {
    callback: Mutex<SocketAddr>,
}

impl Default for GatewayServerObject {
    fn default() -> Self {
        GatewayServerObject {
            callback: Mutex::new(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                DEFAULT_CALLBACK_PORT,
            )),
        }
    }
}

impl GatewayServerObject {
    /// The callback server address now in effect.
    pub fn callback_address(&self) -> SocketAddr {
        *self.callback.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Points callbacks elsewhere (the server's configuration, or
    /// `resetCallbackClient`). Only loopback addresses are accepted: the
    /// gateway never connects off the machine.
    pub fn set_callback_address(&self, addr: SocketAddr) -> Result<(), CallError> {
        if !addr.ip().is_loopback() {
            return Err(CallError::Py4j(format!(
                "callback address {addr} is not a loopback address; the gateway only connects to this machine"
            )));
        }
        *self.callback.lock().unwrap_or_else(|p| p.into_inner()) = addr;
        Ok(())
    }
}

impl JvmObject for GatewayServerObject {
    fn class_name(&self) -> String {
        "py4j.GatewayServer".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getCallbackClient", []) => Ok(JValue::Object(Arc::new(CallbackClientObject(
                self.callback_address(),
            )))),
            ("getPythonPort", []) => Ok(JValue::Int(self.callback_address().port().into())),
            ("getPythonAddress", []) => Ok(JValue::Object(Arc::new(InetAddress(
                self.callback_address().ip(),
            )))),
            ("resetCallbackClient", [JValue::Object(a), JValue::Int(port)]) => {
                let ip = a
                    .as_any()
                    .downcast_ref::<InetAddress>()
                    .map(|a| a.0)
                    .ok_or_else(|| CallError::no_such_method(method, args))?;
                let port = u16::try_from(*port).map_err(|_| {
                    CallError::throw(
                        "java.lang.IllegalArgumentException",
                        format!("port out of range:{port}"),
                        "java.net.InetSocketAddress.checkPort",
                    )
                })?;
                self.set_callback_address(SocketAddr::new(ip, port))?;
                Ok(void_result())
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "getCallbackClient",
            "getPythonAddress",
            "getPythonPort",
            "resetCallbackClient",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `py4j.CallbackClient`: only its address and port are asked for.
#[derive(Debug)]
pub struct CallbackClientObject(SocketAddr);

impl JvmObject for CallbackClientObject {
    fn class_name(&self) -> String {
        "py4j.CallbackClient".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getAddress", []) => Ok(JValue::Object(Arc::new(InetAddress(self.0.ip())))),
            ("getPort", []) => Ok(JValue::Int(self.0.port().into())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `java.net.InetAddress`.
#[derive(Debug)]
pub struct InetAddress(pub IpAddr);

impl JvmObject for InetAddress {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "equals",
            "getAddress",
            "getCanonicalHostName",
            "getClass",
            "getHostAddress",
            "getHostName",
            "hashCode",
            "isAnyLocalAddress",
            "isLinkLocalAddress",
            "isLoopbackAddress",
            "isMCGlobal",
            "isMCLinkLocal",
            "isMCNodeLocal",
            "isMCOrgLocal",
            "isMCSiteLocal",
            "isMulticastAddress",
            "isReachable",
            "isSiteLocalAddress",
            "notify",
            "notifyAll",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        match self.0 {
            IpAddr::V4(_) => "java.net.Inet4Address",
            IpAddr::V6(_) => "java.net.Inet6Address",
        }
        .into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getHostAddress", []) => Ok(JValue::str(self.0.to_string())),
            ("isLoopbackAddress", []) => Ok(JValue::Bool(self.0.is_loopback())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn to_java_string(&self) -> String {
        format!("/{}", self.0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub(super) fn install(classes: &ClassTable) {
    classes.add(JavaClass::new("py4j.reflection.TypeUtil").static_method(
        "isInstanceOf",
        |args, cx| match args {
            [JValue::Str(fqn), v] => Ok(JValue::Bool(match v {
                JValue::Null => false,
                JValue::Object(o) => o.instance_of(fqn),
                other => {
                    other.class_name().as_deref() == Some(fqn.as_ref())
                        || &**fqn == "java.lang.Object"
                }
            })),
            [JValue::Object(c), v] if c.class_name() == "java.lang.Class" => {
                let name = crate::jvm::invoke::invoke(c, "getName", &[], cx)?.java_string();
                Ok(JValue::Bool(
                    v.as_object().is_some_and(|o| o.instance_of(&name)),
                ))
            }
            _ => Err(CallError::no_such_method("isInstanceOf", args)),
        },
    ));
    classes.add(
        JavaClass::new("java.net.InetAddress").static_method("getByName", |args, _| match args {
            [JValue::Str(host)] => match host.parse::<IpAddr>() {
                Ok(ip) => Ok(JValue::Object(Arc::new(InetAddress(ip)))),
                Err(_) if &**host == "localhost" => Ok(JValue::Object(Arc::new(InetAddress(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                )))),
                // No name resolution: the gateway never looks names up.
                Err(_) => Err(CallError::throw(
                    "java.net.UnknownHostException",
                    format!("{host}: Name or service not known"),
                    "java.net.InetAddress.getAllByName0",
                )),
            },
            _ => Err(CallError::no_such_method("getByName", args)),
        }),
    );
}
