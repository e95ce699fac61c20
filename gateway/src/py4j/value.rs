//! Typed values: the one-line "command parts" both peers write for arguments,
//! callback arguments and return values (a type letter, then the text).
//!
//! Decoding is strict in one direction only: it accepts exactly the spellings
//! that py4j's Python client and its Java server write (and the other spelling of
//! the same value where the two peers differ: `True`/`true`, `inf`/`Infinity`),
//! and keeps the spelling, so every accepted part re-encodes to its own bytes.
//! Texts that only a lenient parser would take (`i007`, `s\t`, `j` with stray
//! characters) are refused with a [`ValueError`] instead of being guessed at.

use bytes::Bytes;
use sparkwire_serializers::pickle::repr::float_repr;

use super::base64::{self, Base64Error};

/// Which peer's spelling a value carries where Python and Java write the same
/// value differently (`bTrue` vs `btrue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spelling {
    /// `str(bool)`: `True` / `False`.
    Python,
    /// `Boolean.toString`: `true` / `false`.
    Java,
}

/// A `d` value: the number and the exact text it came as.
///
/// The text is kept because Python (`repr`) and Java (`Double.toString`) spell
/// the same double differently (`1e+16` vs `1.0E16`), and re-encoding must give
/// back the bytes that were read. Two `Double`s are equal when their texts are.
#[derive(Clone, Debug)]
pub struct Double {
    value: f64,
    text: Box<str>,
}

impl PartialEq for Double {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Double {}

impl Double {
    /// The text py4j's Python client writes for `value` (`encode_float`): the
    /// shortest round-tripping `repr`, with `inf`/`-inf`/`nan` spelled the Java
    /// way (`Infinity`, `-Infinity`, `NaN`).
    pub fn python(value: f64) -> Double {
        Double {
            value,
            text: python_repr(value).into(),
        }
    }

    /// The text py4j's Java server writes for `value`: `Double.toString`.
    ///
    /// The digits are what `Double.toString` gives from JDK 19 on: the shortest
    /// that round-trip, at least two, closest to the exact value. JDK 17 and
    /// older print about 0.3 % of doubles differently (a longer or another
    /// 17-digit spelling of the same double, JDK-4511638); Python reads either
    /// as the same float. `tests/double_vs_java.rs` checks both JDKs. The layout is Java's: plain notation with at
    /// least one fractional digit for magnitudes in [10^-3, 10^7), otherwise
    /// `d.dddE[-]n`; `NaN`, `Infinity`, `-Infinity`, `-0.0`.
    pub fn java(value: f64) -> Double {
        Double {
            value,
            text: java_to_string(value).into(),
        }
    }

    /// Parses a `d` text; see the module docs for what is accepted.
    pub fn parse(text: &str) -> Result<Double, ValueError> {
        let value = match text {
            "Infinity" | "inf" => f64::INFINITY,
            "-Infinity" | "-inf" => f64::NEG_INFINITY,
            "NaN" | "nan" => f64::NAN,
            _ if is_plain_float(text) => text.parse().map_err(|_| ValueError::Double)?,
            _ => return Err(ValueError::Double),
        };
        Ok(Double {
            value,
            text: text.into(),
        })
    }

    /// The number.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The wire text (without the `d`).
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// `-?digits(.digits)?([eE][+-]?digits)?`: the shape of every finite double
/// either peer writes.
fn is_plain_float(text: &str) -> bool {
    let b = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 {
        return false;
    }
    let mut rest = &b[int..];
    if let Some(r) = rest.strip_prefix(b".") {
        let frac = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return false;
        }
        rest = &r[frac..];
    }
    exponent_or_nothing(rest)
}

/// Python's `str(float)`, which py4j sends (`repr` and `str` agree in Python
/// 3), with Java's spellings of the non-finite values that py4j writes
/// instead of `inf`/`nan`. The digits come from the pickle layer's
/// CPython-exact `float_repr`.
fn python_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    float_repr(x)
}

/// `Double.toString(x)` with shortest round-trip digits; see [`Double::java`].
fn java_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d[.ddd]e[-]n`.
    let mut sci = format!("{:e}", x.abs());
    let exp_of = |sci: &str| -> i32 {
        sci.split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0)
    };
    // In scientific layout Java prints at least two significant digits, and
    // when one would do it picks the two-digit decimal closest to the exact
    // value (`4.9E-324` for the smallest subnormal, not `5.0E-324`); `{:.1e}`
    // rounds exactly.
    if !sci.contains('.') && !(-3..7).contains(&exp_of(&sci)) {
        sci = format!("{:.1e}", x.abs());
    }
    let exp = exp_of(&sci);
    let mantissa = sci.split_once('e').map_or(sci.as_str(), |(m, _)| m);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = even_on_tie(x.abs(), digits);
    let mut out = String::with_capacity(digits.len() + 8);
    if x < 0.0 {
        out.push('-');
    }
    if (-3..7).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Where two decimals of the shortest length are equally close to `x` (its
/// exact value ends in a 5 just past them), Java takes the one with an even
/// last digit; Rust's shortest formatting may take the other. `digits` are the
/// shortest significant digits of `x` (scientific, one before the point).
fn even_on_tie(x: f64, digits: String) -> String {
    let n = digits.len();
    // Cheap test first: rounded to one more digit, does it end in 5?
    let one_more = format!("{:.*e}", n, x);
    if !one_more
        .split_once('e')
        .is_some_and(|(m, _)| m.ends_with('5'))
    {
        return digits;
    }
    // 800 places hold the whole exact expansion of any double.
    let exact = format!("{:.800e}", x);
    let (m, e) = exact.split_once('e').unwrap_or((&exact, "0"));
    let all: String = m.chars().filter(|c| *c != '.').collect();
    let all = all.trim_end_matches('0');
    if all.len() != n + 1 || !all.ends_with('5') {
        return digits;
    }
    let truncated = &all[..n];
    let last = truncated.bytes().last().unwrap_or(b'0');
    if !(last - b'0').is_multiple_of(2) || truncated == digits {
        return digits;
    }
    // Prefer the even candidate if it reads back as `x` (same exponent).
    let candidate = format!("{}.{}e{e}", &truncated[..1], &truncated[1..]);
    if candidate.parse::<f64>().ok().map(f64::to_bits) == Some(x.to_bits()) {
        truncated.to_owned()
    } else {
        digits
    }
}

/// A `D` value: the decimal's text, checked against the spellings `str(Decimal)`
/// and `BigDecimal.toPlainString` produce. Kept as text: its precision and
/// exponent are part of the value (`1.50` is not `1.5` to `BigDecimal`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal(Box<str>);

impl Decimal {
    /// Checks `text`: `-?(digits[.digits*] | .digits)([eE][+-]?digits)?`, or
    /// Python's `Infinity`, `NaN<digits>`, `sNaN<digits>` (which Java refuses,
    /// but which Python sends for such decimals).
    pub fn parse(text: &str) -> Result<Decimal, ValueError> {
        let body = text.strip_prefix('-').unwrap_or(text);
        let special = body == "Infinity"
            || body
                .strip_prefix("NaN")
                .or_else(|| body.strip_prefix("sNaN"))
                .is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()));
        if special || is_decimal_number(body.as_bytes()) {
            Ok(Decimal(text.into()))
        } else {
            Err(ValueError::Decimal)
        }
    }

    /// The wire text (without the `D`).
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The text py4j's Java side writes for this value:
    /// `BigDecimal.toPlainString()` of `new BigDecimal(text)` (`1E+5` →
    /// `100000`, `1.2300E+3` → `1230.0`, `1E-7` → `0.0000001`). Python's
    /// `Infinity`/`NaN` spellings, which Java cannot represent, stay as they are.
    pub fn to_plain(&self) -> Decimal {
        match self.to_plain_checked() {
            Some(text) => Decimal(text.into()),
            None => self.clone(),
        }
    }

    /// [`Decimal::to_plain`]'s text, or `None` for a special value or an
    /// exponent beyond what a plain string should be expanded to.
    pub fn to_plain_checked(&self) -> Option<String> {
        let text = &*self.0;
        let (neg, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], body[at + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
            || int.len() + frac.len() == 0
        {
            return None;
        }
        let digits: String = format!("{int}{frac}");
        let scale = i64::try_from(frac.len()).ok()?.checked_sub(exp)?;
        // BigDecimal's scale is an int; a plain string longer than this is not
        // what anyone sends through a gateway.
        if scale.unsigned_abs() > 10_000 {
            return None;
        }
        let digits = digits.trim_start_matches('0');
        let mut out = String::new();
        if scale <= 0 {
            out.push_str(if digits.is_empty() { "0" } else { digits });
            if !digits.is_empty() {
                out.extend(std::iter::repeat_n('0', (-scale) as usize));
            }
        } else {
            let scale = scale as usize;
            let padded = if digits.len() <= scale {
                format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
            } else {
                digits.to_owned()
            };
            let (i, f) = padded.split_at(padded.len() - scale);
            out.push_str(i);
            out.push('.');
            out.push_str(f);
        }
        // BigDecimal has no negative zero.
        let zero = out.bytes().all(|c| c == b'0' || c == b'.');
        if neg && !zero {
            out.insert(0, '-');
        }
        Some(out)
    }
}

fn is_decimal_number(b: &[u8]) -> bool {
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut rest = &b[int..];
    let mut frac = 0;
    if let Some(r) = rest.strip_prefix(b".") {
        frac = r.iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &r[frac..];
    }
    if int == 0 && frac == 0 {
        return false;
    }
    exponent_or_nothing(rest)
}

/// One typed py4j value (a "command part" or return value).
///
/// The letters are py4j's. Which peer writes which variants:
/// * arguments from Python: `n b i L d D s j r f`;
/// * values from Java (returns, callback arguments): `n v b i L d D s j r l a h t g`;
/// * reflection and field replies only: `p c m o`.
///
/// Java's `Protocol.getObject` refuses `l a h t g p c m o` as *arguments*; the
/// codec still decodes them anywhere (the type letter alone identifies them), so
/// that a server can answer with py4j's own error instead of a framing error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `n`: Python `None`, Java `null`.
    Null,
    /// `v`: a void method's result (Python reads it as `None`).
    Void,
    /// `b`: a boolean and its spelling.
    Bool(bool, Spelling),
    /// `i`: a Java `int` (py4j sends Python ints in −2^31..2^31−1 this way).
    Int(i32),
    /// `L`: a Java `long` (Python ints outside the `int` range).
    Long(i64),
    /// `d`: a double, with its spelling.
    Double(Double),
    /// `D`: a decimal, as text.
    Decimal(Decimal),
    /// `s`: a string, unescaped.
    Str(String),
    /// `j`: bytes (base64 on the wire).
    Bytes(Bytes),
    /// `r`: a reference to a JVM object by id (`o12`, `j`, `t`, …).
    Ref(String),
    /// `l`: a returned `java.util.List`, by id.
    List(String),
    /// `a`: a returned `java.util.Map`, by id.
    Map(String),
    /// `h`: a returned `java.util.Set`, by id.
    Set(String),
    /// `t`: a returned Java array, by id.
    Array(String),
    /// `g`: a returned `java.util.Iterator`, by id.
    Iterator(String),
    /// `f`: a Python object implementing Java interfaces: `f<id>;<iface>;…`.
    Proxy {
        /// The Python proxy pool id (`p0`, …).
        id: String,
        /// Fully qualified interface names, at least one.
        interfaces: Vec<String>,
    },
    /// `p`: reflection answer "this name is a package".
    Package,
    /// `c<fqn>`: reflection answer "this name is a class".
    Class(String),
    /// `m`: reflection answer "a static method of that name exists".
    Method,
    /// `o`: field answer "no such member".
    NoMember,
}

/// Why a value's text is not one py4j writes. The position, when given, is a
/// byte index into the part (type letter = 0).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// An empty line where a value was expected.
    #[error("empty value")]
    Empty,
    /// The type letter is not one of py4j's.
    #[error("unknown type letter {0:?}")]
    UnknownType(char),
    /// Not a canonical decimal `int` in the Java `int` range.
    #[error("not a canonical 32-bit integer")]
    Int,
    /// Not a canonical decimal in the Java `long` range (Python sends `L` for
    /// any int beyond 32 bits, even beyond 64; Java then fails to parse it).
    #[error("not a canonical 64-bit integer")]
    Long,
    /// Not a double spelling either peer writes.
    #[error("not a double as Python or Java spells it")]
    Double,
    /// Not a decimal spelling either peer writes.
    #[error("not a decimal as Python or Java spells it")]
    Decimal,
    /// Not `True`, `False`, `true` or `false`.
    #[error("not a boolean spelling")]
    Bool,
    /// A backslash not followed by `\`, `n` or `r`.
    #[error("invalid escape at byte {at}")]
    Escape {
        /// Byte index of the backslash in the part.
        at: usize,
    },
    /// A `j` payload that is not canonical base64.
    #[error("bad base64: {0:?}")]
    Base64(Base64Error),
    /// A reference-like value with an empty id.
    #[error("empty object id")]
    EmptyId,
    /// An `f` value without interfaces or with an empty field.
    #[error("malformed python proxy")]
    Proxy,
}

impl Value {
    /// The value py4j's Python client sends for a Python `int` that fits 64 bits:
    /// `i` inside the Java `int` range, `L` outside.
    pub fn integer(n: i64) -> Value {
        match i32::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Long(n),
        }
    }

    /// The type letter.
    pub fn type_letter(&self) -> u8 {
        match self {
            Value::Null => b'n',
            Value::Void => b'v',
            Value::Bool(..) => b'b',
            Value::Int(_) => b'i',
            Value::Long(_) => b'L',
            Value::Double(_) => b'd',
            Value::Decimal(_) => b'D',
            Value::Str(_) => b's',
            Value::Bytes(_) => b'j',
            Value::Ref(_) => b'r',
            Value::List(_) => b'l',
            Value::Map(_) => b'a',
            Value::Set(_) => b'h',
            Value::Array(_) => b't',
            Value::Iterator(_) => b'g',
            Value::Proxy { .. } => b'f',
            Value::Package => b'p',
            Value::Class(_) => b'c',
            Value::Method => b'm',
            Value::NoMember => b'o',
        }
    }

    /// Parses one part (a line without its `\n`).
    pub fn parse(part: &str) -> Result<Value, ValueError> {
        let mut chars = part.chars();
        let letter = chars.next().ok_or(ValueError::Empty)?;
        let text = chars.as_str();
        let id = |make: fn(String) -> Value| {
            if text.is_empty() {
                Err(ValueError::EmptyId)
            } else {
                Ok(make(text.to_owned()))
            }
        };
        match letter {
            'n' if text.is_empty() => Ok(Value::Null),
            'v' if text.is_empty() => Ok(Value::Void),
            'p' if text.is_empty() => Ok(Value::Package),
            'm' if text.is_empty() => Ok(Value::Method),
            'o' if text.is_empty() => Ok(Value::NoMember),
            'n' | 'v' | 'p' | 'm' | 'o' => Err(ValueError::UnknownType(letter)),
            'b' => match text {
                "True" => Ok(Value::Bool(true, Spelling::Python)),
                "False" => Ok(Value::Bool(false, Spelling::Python)),
                "true" => Ok(Value::Bool(true, Spelling::Java)),
                "false" => Ok(Value::Bool(false, Spelling::Java)),
                _ => Err(ValueError::Bool),
            },
            'i' => canonical_int(text)
                .and_then(|n| i32::try_from(n).ok())
                .map(Value::Int)
                .ok_or(ValueError::Int),
            'L' => canonical_int(text).map(Value::Long).ok_or(ValueError::Long),
            'd' => Double::parse(text).map(Value::Double),
            'D' => Decimal::parse(text).map(Value::Decimal),
            's' => unescape(text)
                .map(Value::Str)
                .map_err(|at| ValueError::Escape { at: at + 1 }),
            'j' => base64::decode(text.as_bytes())
                .map(|b| Value::Bytes(Bytes::from(b)))
                .map_err(ValueError::Base64),
            'r' => id(Value::Ref),
            'l' => id(Value::List),
            'a' => id(Value::Map),
            'h' => id(Value::Set),
            't' => id(Value::Array),
            'g' => id(Value::Iterator),
            'c' => Ok(Value::Class(text.to_owned())),
            'f' => {
                let mut fields = text.split(';');
                let id = fields.next().unwrap_or_default().to_owned();
                let interfaces: Vec<String> = fields.map(str::to_owned).collect();
                if id.is_empty() || interfaces.is_empty() || interfaces.iter().any(String::is_empty)
                {
                    return Err(ValueError::Proxy);
                }
                Ok(Value::Proxy { id, interfaces })
            }
            other => Err(ValueError::UnknownType(other)),
        }
    }

    /// Appends the part's bytes (no trailing `\n`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.type_letter());
        match self {
            Value::Null | Value::Void | Value::Package | Value::Method | Value::NoMember => {}
            Value::Bool(b, Spelling::Python) => {
                out.extend_from_slice(if *b { b"True" } else { b"False" })
            }
            Value::Bool(b, Spelling::Java) => {
                out.extend_from_slice(if *b { b"true" } else { b"false" })
            }
            Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Long(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Double(d) => out.extend_from_slice(d.text().as_bytes()),
            Value::Decimal(d) => out.extend_from_slice(d.text().as_bytes()),
            Value::Str(s) => escape_into(s, out),
            Value::Bytes(b) => base64::encode_into(b, out),
            Value::Ref(id)
            | Value::List(id)
            | Value::Map(id)
            | Value::Set(id)
            | Value::Array(id)
            | Value::Iterator(id)
            | Value::Class(id) => out.extend_from_slice(id.as_bytes()),
            Value::Proxy { id, interfaces } => {
                out.extend_from_slice(id.as_bytes());
                for i in interfaces {
                    out.push(b';');
                    out.extend_from_slice(i.as_bytes());
                }
            }
        }
    }

    /// The part as a string (no trailing `\n`).
    pub fn to_part(&self) -> String {
        let mut out = Vec::new();
        self.encode(&mut out);
        // Every piece written above is UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Canonical decimal only: what `str(int)`, `Integer.toString` and
/// `Long.toString` write (no `+`, no leading zeros, no `-0`).
fn canonical_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|c| c.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// py4j's string escaping (both peers): `\` → `\\`, LF → `\n`, CR → `\r`.
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// [`escape_into`] as a `String`.
pub fn escape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    escape_into(s, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Inverse of [`escape`], accepting only what it produces; the error is the byte
/// index of a backslash that starts no valid escape.
///
/// Python's `unescape_new_line` and Java's `StringUtil.unescape` disagree on
/// other escapes (`\t` stays `\t` in Python, becomes `t` in Java), so such text
/// has no single meaning and is refused.
pub fn unescape(text: &str) -> Result<String, usize> {
    let mut out = String::with_capacity(text.len());
    let mut iter = text.char_indices();
    while let Some((i, c)) = iter.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match iter.next() {
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            _ => return Err(i),
        }
    }
    Ok(out)
}

/// What may follow a number's digits: nothing, or `e`/`E`, an optional sign
/// and at least one digit.
fn exponent_or_nothing(rest: &[u8]) -> bool {
    match rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        Some(r) => {
            let r = r
                .strip_prefix(b"+")
                .or_else(|| r.strip_prefix(b"-"))
                .unwrap_or(r);
            !r.is_empty() && r.iter().all(u8::is_ascii_digit)
        }
        None => rest.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(v: &Value) -> String {
        v.to_part()
    }

    #[test]
    fn exact_parts() {
        assert_eq!(part(&Value::Null), "n");
        assert_eq!(part(&Value::Bool(true, Spelling::Python)), "bTrue");
        assert_eq!(part(&Value::Bool(false, Spelling::Java)), "bfalse");
        assert_eq!(part(&Value::integer(42)), "i42");
        assert_eq!(part(&Value::integer(2_147_483_647)), "i2147483647");
        assert_eq!(part(&Value::integer(2_147_483_648)), "L2147483648");
        assert_eq!(part(&Value::integer(-2_147_483_648)), "i-2147483648");
        assert_eq!(part(&Value::integer(-2_147_483_649)), "L-2147483649");
        assert_eq!(
            part(&Value::Str("a\\b\nc\rd\té".into())),
            "sa\\\\b\\nc\\rd\té"
        );
        assert_eq!(part(&Value::Str(String::new())), "s");
        assert_eq!(
            part(&Value::Bytes(Bytes::from_static(b"\x00\xff"))),
            "jAP8="
        );
        assert_eq!(part(&Value::Ref("o12".into())), "ro12");
        assert_eq!(
            part(&Value::Proxy {
                id: "p0".into(),
                interfaces: vec!["java.lang.Runnable".into(), "a.B".into()]
            }),
            "fp0;java.lang.Runnable;a.B"
        );
    }

    #[test]
    fn python_float_reprs() {
        for (x, s) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
            // Two 17-digit strings read back to this double; Python prints the closer.
            (f64::from_bits(0xc31d_cb64_deb3_6071), "-2096602104518684.2"),
        ] {
            assert_eq!(Double::python(x).text(), s, "{x:?}");
        }
    }

    #[test]
    fn parses_both_peers_spellings() {
        for text in [
            "d1.0E16",
            "d1e+16",
            "dNaN",
            "dnan",
            "d-inf",
            "dInfinity",
            "d4.9E-324",
            "bTrue",
            "btrue",
            "D1E+2",
            "D-0.00",
            "DsNaN",
            "D-Infinity",
            "D.5",
            "D5.",
            "i-5",
            "L9223372036854775807",
            "s",
            "s\\\\n",
            "ca.b.C",
            "c",
            "p",
            "m",
            "o",
            "v",
            "n",
            "lo1",
            "ao2",
            "ho3",
            "to4",
            "go5",
        ] {
            let v = Value::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(v.to_part(), text);
        }
    }

    #[test]
    fn refuses_what_neither_peer_writes() {
        for (text, err) in [
            ("", ValueError::Empty),
            ("x1", ValueError::UnknownType('x')),
            ("nx", ValueError::UnknownType('n')),
            ("i007", ValueError::Int),
            ("i+7", ValueError::Int),
            ("i-0", ValueError::Int),
            ("i2147483648", ValueError::Int),
            ("i", ValueError::Int),
            ("L9223372036854775808", ValueError::Long),
            ("d.5", ValueError::Double),
            ("d1.", ValueError::Double),
            ("d0x1p3", ValueError::Double),
            ("dinfinity", ValueError::Double),
            ("d", ValueError::Double),
            ("D", ValueError::Decimal),
            ("D+1", ValueError::Decimal),
            ("bTRUE", ValueError::Bool),
            ("sa\\tb", ValueError::Escape { at: 2 }),
            ("s\\", ValueError::Escape { at: 1 }),
            ("r", ValueError::EmptyId),
            ("fp0", ValueError::Proxy),
            ("fp0;", ValueError::Proxy),
            (";a", ValueError::UnknownType(';')),
        ] {
            assert_eq!(Value::parse(text), Err(err), "{text:?}");
        }
    }
}
