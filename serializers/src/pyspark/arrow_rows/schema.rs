//! Arrow schemas: the `Field` tables of a Schema message as [`Column`]s, and
//! their text as pyarrow prints it (`str(schema)`, `str(field.type)`).

use std::fmt;

use super::flatbuf::{u32_at, Table};

/// The resolution of a time, timestamp or duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    Second,
    /// Milliseconds.
    Milli,
    /// Microseconds.
    Micro,
    /// Nanoseconds.
    Nano,
}

impl TimeUnit {
    fn from_fb(v: i16) -> Option<TimeUnit> {
        Some(match v {
            0 => TimeUnit::Second,
            1 => TimeUnit::Milli,
            2 => TimeUnit::Micro,
            3 => TimeUnit::Nano,
            _ => return None,
        })
    }

    /// Units per second.
    pub fn per_second(self) -> i64 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Milli => 1_000,
            TimeUnit::Micro => 1_000_000,
            TimeUnit::Nano => 1_000_000_000,
        }
    }

    fn abbrev(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Milli => "ms",
            TimeUnit::Micro => "us",
            TimeUnit::Nano => "ns",
        }
    }
}

/// The time zone of a timestamp column, as far as values can be shown
/// without a time-zone database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// No time zone: naive values.
    Naive,
    /// `UTC`.
    Utc,
    /// A fixed offset (`+01:00`), in minutes east of UTC.
    Fixed(i32),
    /// A named zone whose offset never changes (`Etc/UTC`, `GMT`,
    /// `Etc/GMT+5`: pytz's `StaticTzInfo` zones), in minutes east of UTC; the
    /// name is the column's [`Column::timezone`].
    Static(i32),
}

/// A column type this reader decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `Null`.
    Null,
    /// `Bool` (bit-packed).
    Bool,
    /// `Int` of this many bits.
    Int {
        /// 8, 16, 32 or 64.
        bits: u8,
        /// Signed.
        signed: bool,
    },
    /// `FloatingPoint`, single (`false`) or double (`true`) precision.
    Float {
        /// Double precision.
        double: bool,
    },
    /// `Utf8` / `LargeUtf8`.
    Utf8 {
        /// 64-bit offsets.
        large: bool,
    },
    /// `Binary` / `LargeBinary`.
    Binary {
        /// 64-bit offsets.
        large: bool,
    },
    /// `FixedSizeBinary` of this many bytes.
    FixedBinary(i32),
    /// `Struct_`: the column's children are its fields.
    Struct,
    /// `Decimal` (128 or 256 bits).
    Decimal {
        /// 128 or 256.
        bits: u16,
        /// Digits.
        precision: i32,
        /// Digits after the point (may be negative).
        scale: i32,
    },
    /// `Date`: days (`date32`) or milliseconds (`date64`) since the epoch.
    Date {
        /// `date64`.
        millis: bool,
    },
    /// `Time`: time of day, 32 bits for seconds and milliseconds, 64 for finer.
    Time(TimeUnit),
    /// `Timestamp`, since the epoch.
    Timestamp(TimeUnit, Zone),
    /// `Duration`.
    Duration(TimeUnit),
    /// `List` / `LargeList`: one child, the items.
    List {
        /// 64-bit offsets.
        large: bool,
    },
    /// `FixedSizeList` of this many items.
    FixedList(i32),
    /// `Map`: one child, the `entries` struct of key and value.
    Map {
        /// `keysSorted`.
        sorted: bool,
    },
}

/// A dictionary-encoded column's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// The dictionary id the DictionaryBatch messages name.
    pub id: i64,
    /// The index type (an [`ColumnType::Int`]).
    pub index: ColumnType,
    /// `isOrdered`.
    pub ordered: bool,
}

/// A schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type (for a dictionary-encoded column, the values' type).
    pub ty: ColumnType,
    /// Whether it may hold nulls.
    pub nullable: bool,
    /// Struct fields, a list's item, a map's entries.
    pub children: Vec<Column>,
    /// The time zone as written in the schema, for timestamps.
    pub timezone: Option<String>,
    /// Set when the column is dictionary-encoded.
    pub dictionary: Option<Encoding>,
}

/// Nesting deeper than this is refused (the schema is untrusted).
pub(super) const MAX_DEPTH: usize = 16;

/// The `n` Field tables of a vector starting at `first`.
pub(super) fn fields(
    meta: &[u8],
    first: usize,
    n: usize,
    depth: usize,
) -> Result<Vec<Column>, String> {
    if depth > MAX_DEPTH && n > 0 {
        return Err("types nested too deeply".into());
    }
    let bad = || "malformed Schema field".to_string();
    let mut columns = Vec::new();
    for k in 0..n {
        let p = first.checked_add(4 * k).ok_or_else(bad)?;
        let at = p
            .checked_add(u32_at(meta, p).ok_or_else(bad)? as usize)
            .ok_or_else(bad)?;
        let f = Table::at(meta, at).ok_or_else(bad)?;
        let name = f.string(0).ok_or_else(bad)?;
        let nullable = f.u8_or(1, 0).ok_or_else(bad)? != 0;
        let dictionary = match f.table(4).ok_or_else(bad)? {
            None => None,
            Some(d) => {
                let index = match d.table(1).ok_or_else(bad)? {
                    Some(t) => int_type(&name, &t)?,
                    // The format's default index type.
                    None => ColumnType::Int {
                        bits: 32,
                        signed: true,
                    },
                };
                Some(Encoding {
                    id: d.i64_or(0, 0).ok_or_else(bad)?,
                    index,
                    ordered: d.u8_or(2, 0).ok_or_else(bad)? != 0,
                })
            }
        };
        let (c_first, c_n) = f.vector(5).ok_or_else(bad)?;
        let t = f.table(3).ok_or_else(bad)?;
        let tag = f.u8_or(2, 0).ok_or_else(bad)?;
        let mut timezone = None;
        let short = |t: &Option<Table>, i: usize, default: i16| match t {
            Some(t) => t.i16_or(i, default).ok_or_else(bad),
            None => Ok(default),
        };
        let int = |t: &Option<Table>, i: usize, default: i32| match t {
            Some(t) => t.i32_or(i, default).ok_or_else(bad),
            None => Ok(default),
        };
        let unit =
            |v: i16| TimeUnit::from_fb(v).ok_or_else(|| format!("column {name:?}: time unit {v}"));
        let ty = match tag {
            1 => ColumnType::Null,
            2 => int_type(&name, t.as_ref().ok_or_else(bad)?)?,
            3 => match short(&t, 0, 0)? {
                1 => ColumnType::Float { double: false },
                2 => ColumnType::Float { double: true },
                _ => return Err(format!("column {name:?}: half-precision floats")),
            },
            4 => ColumnType::Binary { large: false },
            5 => ColumnType::Utf8 { large: false },
            6 => ColumnType::Bool,
            7 => {
                let bits = int(&t, 2, 128)?;
                if !matches!(bits, 128 | 256) {
                    return Err(format!("column {name:?}: {bits}-bit decimals"));
                }
                ColumnType::Decimal {
                    bits: bits as u16,
                    precision: int(&t, 0, 0)?,
                    scale: int(&t, 1, 0)?,
                }
            }
            8 => ColumnType::Date {
                millis: short(&t, 0, 1)? != 0,
            },
            9 => {
                let u = unit(short(&t, 0, 1)?)?;
                let bits = int(&t, 1, 32)?;
                let want = if matches!(u, TimeUnit::Second | TimeUnit::Milli) {
                    32
                } else {
                    64
                };
                if bits != want {
                    return Err(format!(
                        "column {name:?}: {bits}-bit times in {}",
                        u.abbrev()
                    ));
                }
                ColumnType::Time(u)
            }
            10 => {
                let u = unit(short(&t, 0, 0)?)?;
                timezone = match &t {
                    Some(t) => t.opt_string(1).ok_or_else(bad)?,
                    None => None,
                };
                let zone = match timezone.as_deref() {
                    None => Zone::Naive,
                    Some(z) => zone(z).ok_or_else(|| {
                        format!("column {name:?}: time zone {z:?} needs a time-zone database")
                    })?,
                };
                ColumnType::Timestamp(u, zone)
            }
            12 => ColumnType::List { large: false },
            13 => ColumnType::Struct,
            15 => ColumnType::FixedBinary(int(&t, 0, 0)?.max(0)),
            16 => ColumnType::FixedList(int(&t, 0, 0)?.max(0)),
            17 => ColumnType::Map {
                sorted: t
                    .as_ref()
                    .map_or(Some(0), |t| t.u8_or(0, 0))
                    .ok_or_else(bad)?
                    != 0,
            },
            18 => ColumnType::Duration(unit(short(&t, 0, 1)?)?),
            19 => ColumnType::Binary { large: true },
            20 => ColumnType::Utf8 { large: true },
            21 => ColumnType::List { large: true },
            t => return Err(format!("column {name:?}: Arrow type {t} is not decoded")),
        };
        let children = fields(meta, c_first, c_n, depth + 1)?;
        let want = match ty {
            ColumnType::Struct => None,
            ColumnType::List { .. } | ColumnType::FixedList(_) | ColumnType::Map { .. } => Some(1),
            _ => Some(0),
        };
        if want.is_some_and(|w| w != children.len()) {
            return Err(format!("column {name:?} has {} children", children.len()));
        }
        if matches!(ty, ColumnType::Map { .. })
            && !(children[0].ty == ColumnType::Struct && children[0].children.len() == 2)
        {
            return Err(format!(
                "column {name:?}: map entries are not a key-value struct"
            ));
        }
        columns.push(Column {
            name,
            ty,
            nullable,
            children,
            timezone,
            dictionary,
        });
    }
    Ok(columns)
}

fn int_type(name: &str, t: &Table) -> Result<ColumnType, String> {
    let bad = || "malformed Schema field".to_string();
    let bits = t.i32_or(0, 0).ok_or_else(bad)?;
    if !matches!(bits, 8 | 16 | 32 | 64) {
        return Err(format!("column {name:?}: {bits}-bit integers"));
    }
    Ok(ColumnType::Int {
        bits: bits as u8,
        signed: t.u8_or(1, 0).ok_or_else(bad)? != 0,
    })
}

/// Zone names at UTC that pytz keeps as a `StaticTzInfo` of that name.
const STATIC_UTC: &[&str] = &[
    "Etc/GMT",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "Etc/GMT0",
    "Etc/Greenwich",
    "Etc/UCT",
    "Etc/UTC",
    "Etc/Universal",
    "Etc/Zulu",
    "GMT",
    "GMT+0",
    "GMT-0",
    "GMT0",
    "Greenwich",
    "UCT",
    "Universal",
    "Zulu",
];

/// The zones shown without a database: `UTC`, `±HH:MM` offsets, and the
/// named zones whose offset never changes (the UTC aliases and `Etc/GMT±N`,
/// whose sign is POSIX's: `Etc/GMT+5` is five hours west). Names are taken
/// only as written canonically (pytz would print a differently cased name
/// in its canonical form).
fn zone(z: &str) -> Option<Zone> {
    if z == "UTC" {
        return Some(Zone::Utc);
    }
    if STATIC_UTC.contains(&z) {
        return Some(Zone::Static(0));
    }
    if let Some(n) = z.strip_prefix("Etc/GMT") {
        let (sign, digits) = match n.as_bytes().first() {
            Some(b'+') => (-1, &n[1..]),
            Some(b'-') => (1, &n[1..]),
            _ => return None,
        };
        let ok = !digits.is_empty()
            && digits.len() <= 2
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        let hours: i32 = digits.parse().ok().filter(|_| ok)?;
        let max = if sign < 0 { 12 } else { 14 };
        return (hours <= max).then_some(Zone::Static(sign * hours * 60));
    }
    let b = z.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &[u8]| -> Option<i32> {
        if s.len() == 2 && s.iter().all(u8::is_ascii_digit) {
            Some(i32::from(s[0] - b'0') * 10 + i32::from(s[1] - b'0'))
        } else {
            None
        }
    };
    let (h, m) = match b.len() {
        6 if b[3] == b':' => (digits(&b[1..3])?, digits(&b[4..6])?),
        5 => (digits(&b[1..3])?, digits(&b[3..5])?),
        _ => return None,
    };
    (h < 24 && m < 60).then_some(Zone::Fixed(sign * (h * 60 + m)))
}

/// pyarrow's name of a column's type (`str(field.type)`).
fn type_text(c: &Column) -> String {
    let value = value_type_text(c);
    match &c.dictionary {
        None => value,
        Some(d) => format!(
            "dictionary<values={value}, indices={}, ordered={}>",
            scalar_text(d.index, None),
            u8::from(d.ordered)
        ),
    }
}

fn scalar_text(t: ColumnType, tz: Option<&str>) -> String {
    match t {
        ColumnType::Null => "null".into(),
        ColumnType::Bool => "bool".into(),
        ColumnType::Int { bits, signed } => format!("{}int{bits}", if signed { "" } else { "u" }),
        ColumnType::Float { double } => if double { "double" } else { "float" }.into(),
        ColumnType::Utf8 { large } => if large { "large_string" } else { "string" }.into(),
        ColumnType::Binary { large } => if large { "large_binary" } else { "binary" }.into(),
        ColumnType::FixedBinary(n) => format!("fixed_size_binary[{n}]"),
        ColumnType::Decimal {
            bits,
            precision,
            scale,
        } => format!("decimal{bits}({precision}, {scale})"),
        ColumnType::Date { millis } => if millis { "date64[ms]" } else { "date32[day]" }.into(),
        ColumnType::Time(u) => {
            let bits = if matches!(u, TimeUnit::Second | TimeUnit::Milli) {
                32
            } else {
                64
            };
            format!("time{bits}[{}]", u.abbrev())
        }
        ColumnType::Timestamp(u, _) => match tz {
            None => format!("timestamp[{}]", u.abbrev()),
            Some(z) => format!("timestamp[{}, tz={z}]", u.abbrev()),
        },
        ColumnType::Duration(u) => format!("duration[{}]", u.abbrev()),
        // Nested types are named by value_type_text.
        ColumnType::Struct
        | ColumnType::List { .. }
        | ColumnType::FixedList(_)
        | ColumnType::Map { .. } => String::new(),
    }
}

fn value_type_text(c: &Column) -> String {
    let child = |i: usize| c.children.get(i).map(field_text).unwrap_or_default();
    match c.ty {
        ColumnType::Struct => format!(
            "struct<{}>",
            c.children
                .iter()
                .map(field_text)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ColumnType::List { large } => {
            format!("{}list<{}>", if large { "large_" } else { "" }, child(0))
        }
        ColumnType::FixedList(n) => format!("fixed_size_list<{}>[{n}]", child(0)),
        ColumnType::Map { sorted } => {
            let entries = c.children.first();
            let part = |i: usize| {
                entries
                    .and_then(|e| e.children.get(i))
                    .map(|f| {
                        format!(
                            "{}{}",
                            type_text(f),
                            if f.nullable || i == 0 {
                                ""
                            } else {
                                " not null"
                            }
                        )
                    })
                    .unwrap_or_default()
            };
            format!(
                "map<{}, {}{}>",
                part(0),
                part(1),
                if sorted { ", keys_sorted" } else { "" }
            )
        }
        t => scalar_text(t, c.timezone.as_deref()),
    }
}

/// `name: type`, with ` not null` for a non-nullable field.
fn field_text(c: &Column) -> String {
    format!(
        "{}: {}{}",
        c.name,
        type_text(c),
        if c.nullable { "" } else { " not null" }
    )
}

impl fmt::Display for Column {
    /// The field as pyarrow names it: `name: type` (`t: timestamp[us, tz=UTC]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&field_text(self))
    }
}

/// The schema as pyarrow's `str(schema)` prints it (without metadata): one
/// line per field, nested fields below as `child i, …`.
pub fn schema_text(columns: &[Column]) -> String {
    fn walk(out: &mut Vec<String>, c: &Column, depth: usize) {
        if c.dictionary.is_some() {
            return;
        }
        for (i, child) in c.children.iter().enumerate() {
            let indent = " ".repeat(2 + 4 * depth);
            out.push(format!("{indent}child {i}, {}", field_text(child)));
            walk(out, child, depth + 1);
        }
    }
    let mut out = Vec::new();
    for c in columns {
        out.push(field_text(c));
        walk(&mut out, c, 0);
    }
    out.join("\n")
}
