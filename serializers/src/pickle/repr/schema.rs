//! The part of a Spark SQL schema (`StructType.json()`) that decides how
//! PySpark turns a row from the JVM into Python values: field names and, per
//! field, whether and how `fromInternal` converts the value.
//!
//! A small JSON reader of its own (the schema is the only JSON a pickle
//! carries), bounded in nesting depth; unknown or unsupported types make the
//! whole schema unknown rather than guessed.

/// How `DataType.fromInternal` treats a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DType {
    /// No conversion (`needConversion()` is false).
    Plain,
    /// Days since 1970-01-01 → `datetime.date`.
    Date,
    /// Microseconds since the epoch, UTC → naive `datetime.datetime`.
    TimestampNtz,
    /// Microseconds → `datetime.timedelta`.
    DayTimeInterval,
    Array(Box<DType>),
    Map(Box<DType>, Box<DType>),
    Struct(Vec<(String, DType)>),
}

impl DType {
    /// `needConversion()`.
    pub(crate) fn needs_conversion(&self) -> bool {
        match self {
            DType::Plain => false,
            DType::Array(e) => e.needs_conversion(),
            DType::Map(k, v) => k.needs_conversion() || v.needs_conversion(),
            _ => true,
        }
    }
}

/// Deepest JSON nesting read.
const MAX_DEPTH: u32 = 64;

#[derive(Debug, PartialEq)]
enum Json {
    Null,
    Bool,
    Number,
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses `StructType.json()` text; `None` if it is not a struct schema whose
/// every type is understood.
pub(crate) fn parse_struct(text: &str) -> Option<DType> {
    let mut p = Parser {
        b: text.as_bytes(),
        at: 0,
    };
    let j = p.value(0)?;
    p.ws();
    if p.at != p.b.len() {
        return None;
    }
    match dtype(&j, 0)? {
        s @ DType::Struct(_) => Some(s),
        _ => None,
    }
}

fn dtype(j: &Json, depth: u32) -> Option<DType> {
    if depth > MAX_DEPTH {
        return None;
    }
    match j {
        Json::Str(name) => simple(name),
        Json::Object(_) => match j.get("type")?.str()? {
            "array" => Some(DType::Array(Box::new(dtype(
                j.get("elementType")?,
                depth + 1,
            )?))),
            "map" => Some(DType::Map(
                Box::new(dtype(j.get("keyType")?, depth + 1)?),
                Box::new(dtype(j.get("valueType")?, depth + 1)?),
            )),
            "struct" => {
                let Json::Array(fields) = j.get("fields")? else {
                    return None;
                };
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    out.push((
                        f.get("name")?.str()?.to_owned(),
                        dtype(f.get("type")?, depth + 1)?,
                    ));
                }
                Some(DType::Struct(out))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A type named by a string in the schema JSON.
fn simple(name: &str) -> Option<DType> {
    const PLAIN: [&str; 10] = [
        "void", "string", "binary", "boolean", "byte", "short", "integer", "long", "float",
        "double",
    ];
    if PLAIN.contains(&name)
        || name.starts_with("decimal(")
        || name.starts_with("char(")
        || name.starts_with("varchar(")
        || name.starts_with("string collate ")
    {
        return Some(DType::Plain);
    }
    match name {
        "date" => Some(DType::Date),
        "timestamp_ntz" => Some(DType::TimestampNtz),
        n if n.starts_with("interval day")
            || n.starts_with("interval hour")
            || n.starts_with("interval minute")
            || n == "interval second" =>
        {
            Some(DType::DayTimeInterval)
        }
        // timestamp (local time zone), time, udt, variant, geo types, …
        _ => None,
    }
}

struct Parser<'a> {
    b: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .b
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.at) == Some(&c)).then(|| self.at += 1)
    }

    fn value(&mut self, depth: u32) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.b.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut kv = Vec::new();
                if self.eat(b'}').is_some() {
                    return Some(Json::Object(kv));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    kv.push((k, self.value(depth + 1)?));
                    if self.eat(b',').is_none() {
                        self.eat(b'}')?;
                        return Some(Json::Object(kv));
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b',').is_none() {
                        self.eat(b']')?;
                        return Some(Json::Array(items));
                    }
                }
            }
            b'"' => Some(Json::Str(self.string()?)),
            b't' => self.word("true", Json::Bool),
            b'f' => self.word("false", Json::Bool),
            b'n' => self.word("null", Json::Null),
            b'-' | b'0'..=b'9' => {
                while self
                    .b
                    .get(self.at)
                    .is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.at += 1;
                }
                Some(Json::Number)
            }
            _ => None,
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Option<Json> {
        let end = self.at.checked_add(w.len())?;
        (self.b.get(self.at..end)? == w.as_bytes()).then(|| {
            self.at = end;
            v
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.at.checked_add(4)?;
        let h = std::str::from_utf8(self.b.get(self.at..end)?).ok()?;
        self.at = end;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        if self.b.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while self
                .b
                .get(self.at)
                .is_some_and(|&c| c != b'"' && c != b'\\')
            {
                self.at += 1;
            }
            out.push_str(std::str::from_utf8(&self.b[start..self.at]).ok()?);
            match *self.b.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                _ => {
                    self.at += 1;
                    let e = *self.b.get(self.at)?;
                    self.at += 1;
                    out.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi)
                                && self.b.get(self.at..self.at + 2) == Some(b"\\u")
                            {
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(cp)?
                        }
                        _ => return None,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_struct_json() {
        let s = r#"{"type":"struct","fields":[{"name":"a\u00e9","type":"long","nullable":true,"metadata":{}},
            {"name":"d","type":{"type":"array","elementType":"date","containsNull":true},"nullable":true,"metadata":{"x":[1,2.5e3,null,false]}}]}"#;
        assert_eq!(
            parse_struct(s),
            Some(DType::Struct(vec![
                ("aé".into(), DType::Plain),
                ("d".into(), DType::Array(Box::new(DType::Date))),
            ]))
        );
        assert_eq!(
            parse_struct(r#"{"type":"struct","fields":[{"name":"t","type":"timestamp"}]}"#),
            None
        );
        assert_eq!(parse_struct(&"[".repeat(100_000)), None);
    }
}
