//! What a pickled global names once `pickle.loads` has looked it up: the
//! Python 2 → 3 renames of `fix_imports` and the repr of the well-known
//! objects (classes, builtin functions, constants) it finds.

use std::borrow::Cow;

use super::tables::{EXCEPTIONS, GLOBAL_REPRS, IMPORT_2TO3, NAME_2TO3, OS_ERRORS};

/// A global as `find_class` resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name<'a> {
    pub(crate) module: Cow<'a, str>,
    pub(crate) name: Cow<'a, str>,
}

impl Name<'_> {
    /// Whether this is `module.name`.
    pub(crate) fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }
}

/// The unpickler's `fix_imports` (protocols 0–2): `NAME_MAPPING` first, then
/// `IMPORT_MAPPING` for the module alone. With `fix` false, the name as written.
pub(crate) fn resolve<'a>(module: &'a str, name: &'a str, fix: bool) -> Name<'a> {
    if fix {
        if let Ok(i) = NAME_2TO3.binary_search_by(|((m, n), _)| (*m, *n).cmp(&(module, name))) {
            let (m, n) = NAME_2TO3[i].1;
            return Name {
                module: Cow::Borrowed(m),
                name: Cow::Borrowed(n),
            };
        }
        if let Ok(i) = IMPORT_2TO3.binary_search_by(|(m, _)| (*m).cmp(module)) {
            return Name {
                module: Cow::Borrowed(IMPORT_2TO3[i].1),
                name: Cow::Borrowed(name),
            };
        }
    }
    Name {
        module: Cow::Borrowed(module),
        name: Cow::Borrowed(name),
    }
}

/// `repr()` of the object a global names, for the well-known ones.
pub(crate) fn global_repr(n: &Name<'_>) -> Option<&'static str> {
    let key = (&*n.module, &*n.name);
    GLOBAL_REPRS
        .binary_search_by(|((m, x), _)| (*m, *x).cmp(&key))
        .ok()
        .map(|i| GLOBAL_REPRS[i].1)
}

/// The builtin exception classes printed by `BaseException.__repr__`.
pub(crate) fn exception(n: &Name<'_>) -> Option<&'static str> {
    if n.module != "builtins" {
        return None;
    }
    EXCEPTIONS
        .binary_search(&&*n.name)
        .ok()
        .map(|i| EXCEPTIONS[i])
}

/// Members of the `OSError` family (see [`OS_ERRORS`]).
pub(crate) fn is_os_error(name: &str) -> bool {
    OS_ERRORS.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_imports_like_compat_pickle() {
        assert!(resolve("__builtin__", "xrange", true).is("builtins", "range"));
        assert!(resolve("__builtin__", "reduce", true).is("functools", "reduce"));
        assert!(resolve("copy_reg", "_reconstructor", true).is("copyreg", "_reconstructor"));
        assert!(
            resolve("exceptions", "UnicodeEncodeError", true).is("builtins", "UnicodeEncodeError")
        );
        assert!(resolve("exceptions", "StandardError", true).is("builtins", "Exception"));
        assert!(resolve("Cookie", "SimpleCookie", true).is("http.cookies", "SimpleCookie"));
        assert!(resolve("__builtin__", "xrange", false).is("__builtin__", "xrange"));
        assert_eq!(
            global_repr(&resolve("__builtin__", "reduce", true)),
            Some("<built-in function reduce>")
        );
        assert_eq!(
            global_repr(&resolve("builtins", "int", true)),
            Some("<class 'int'>")
        );
    }
}
