//! `java.io.File`: PySpark asks for `Utils.createTempDir(…).getAbsolutePath()`.
//! Only path arithmetic and read-only queries; nothing here writes or deletes.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::jvm::model::no_ctor;
use crate::jvm::model::{ClassTable, JavaClass};
use crate::jvm::{CallError, Cx, JValue, JvmObject, ObjRef};

/// A `java.io.File`: an abstract path name.
#[derive(Debug, Clone)]
pub struct File {
    path: String,
}

impl File {
    /// `new File(path)`; Java drops a trailing separator.
    pub fn new(path: &str) -> File {
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        File {
            path: if trimmed.is_empty() {
                "/".into()
            } else {
                trimmed.to_owned()
            },
        }
    }

    /// The path as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn absolute(&self) -> String {
        if self.path.starts_with('/') {
            self.path.clone()
        } else {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            cwd.join(&self.path).to_string_lossy().into_owned()
        }
    }
}

impl JvmObject for File {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "canExecute",
            "canRead",
            "canWrite",
            "compareTo",
            "createNewFile",
            "delete",
            "deleteOnExit",
            "equals",
            "exists",
            "getAbsoluteFile",
            "getAbsolutePath",
            "getCanonicalFile",
            "getCanonicalPath",
            "getClass",
            "getFreeSpace",
            "getName",
            "getParent",
            "getParentFile",
            "getPath",
            "getTotalSpace",
            "getUsableSpace",
            "hashCode",
            "isAbsolute",
            "isDirectory",
            "isFile",
            "isHidden",
            "lastModified",
            "length",
            "list",
            "listFiles",
            "mkdir",
            "mkdirs",
            "notify",
            "notifyAll",
            "renameTo",
            "setExecutable",
            "setLastModified",
            "setReadOnly",
            "setReadable",
            "setWritable",
            "toPath",
            "toString",
            "toURI",
            "toURL",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.io.File".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let p = Path::new(&self.path);
        match (method, args) {
            ("getAbsolutePath", []) => Ok(JValue::str(self.absolute())),
            ("getAbsoluteFile", []) => Ok(JValue::Object(Arc::new(File::new(&self.absolute())))),
            ("getPath", []) => Ok(JValue::str(self.path.as_str())),
            ("getName", []) => Ok(JValue::str(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )),
            ("getParent", []) => Ok(match p.parent().map(|q| q.to_string_lossy().into_owned()) {
                Some(q) if !q.is_empty() => JValue::str(q),
                _ => JValue::Null,
            }),
            ("exists", []) => Ok(JValue::Bool(p.exists())),
            ("isDirectory", []) => Ok(JValue::Bool(p.is_dir())),
            ("isFile", []) => Ok(JValue::Bool(p.is_file())),
            ("isAbsolute", []) => Ok(JValue::Bool(self.path.starts_with('/'))),
            ("length", []) => Ok(JValue::Long(
                std::fs::metadata(p).map(|m| m.len() as i64).unwrap_or(0),
            )),
            ("toURI", []) => Ok(JValue::str(format!("file:{}", self.absolute()))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "exists",
            "getAbsoluteFile",
            "getAbsolutePath",
            "getName",
            "getParent",
            "getPath",
            "isAbsolute",
            "isDirectory",
            "isFile",
            "length",
            "toURI",
        ]
    }

    fn to_java_string(&self) -> String {
        self.path.clone()
    }

    fn java_equals(&self, other: &ObjRef) -> bool {
        other
            .as_any()
            .downcast_ref::<File>()
            .is_some_and(|o| o.path == self.path)
    }

    fn hash_code(&self) -> i32 {
        crate::jvm::model::java_string_hash(&self.path) ^ 1234321
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub(super) fn install(classes: &ClassTable) {
    classes.add(
        JavaClass::new("java.io.File")
            .constructor(|args, _| match args {
                [JValue::Str(p)] => Ok(JValue::Object(Arc::new(File::new(p)))),
                [JValue::Str(parent), JValue::Str(child)] => Ok(JValue::Object(Arc::new(
                    File::new(&format!("{parent}/{child}")),
                ))),
                [JValue::Object(o), JValue::Str(child)] if o.as_any().is::<File>() => {
                    let parent = o
                        .as_any()
                        .downcast_ref::<File>()
                        .map(File::path)
                        .unwrap_or("");
                    Ok(JValue::Object(Arc::new(File::new(&format!(
                        "{parent}/{child}"
                    )))))
                }
                _ => Err(no_ctor("java.io.File", args)),
            })
            .static_field("separator", JValue::str("/"))
            .static_field("pathSeparator", JValue::str(":"))
            .instance_methods(&["getAbsolutePath", "getPath", "getName", "exists"]),
    );
}
