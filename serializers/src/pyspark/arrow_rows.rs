//! The values inside Arrow IPC record batches, as Python reprs of row tuples:
//! what `pyarrow`'s `RecordBatch.to_pylist()` holds, one `(v1, v2, …)` per row.
//!
//! Enough of the format for the columns PySpark's Arrow and pandas UDFs move
//! most: null, bool, 8–64-bit integers, 32/64-bit floats, UTF-8 and binary
//! (regular and large offsets), and structs of these (a struct value is shown
//! as a tuple of its fields, as a Row). Anything else (lists, maps,
//! dictionary-encoded columns, compressed bodies, other types) is refused with
//! a reason, so a caller can fall back to listing messages. Every offset and
//! length read from the metadata or the body is checked against the bytes
//! present; nothing is allocated from a declared size.

use super::super::pickle::repr::{bytes_repr, float_repr, str_repr};
use super::super::pickle::PyStr;

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
    /// `Struct_`: the column's children are its fields.
    Struct,
}

/// A schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// A struct's fields.
    pub children: Vec<Column>,
}

/// Struct nesting deeper than this is refused (the schema is untrusted).
const MAX_DEPTH: usize = 16;

/// A little-endian flatbuffer table, read with every offset checked.
#[derive(Clone, Copy)]
struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vt_len: usize,
}

fn u16_at(b: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(p..p.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], p: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(p..p.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn i64_at(b: &[u8], p: usize) -> Option<i64> {
    Some(i64::from_le_bytes(
        b.get(p..p.checked_add(8)?)?.try_into().ok()?,
    ))
}

impl<'a> Table<'a> {
    fn at(buf: &'a [u8], pos: usize) -> Option<Table<'a>> {
        let soff = i64::from(i32::from_le_bytes(
            buf.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ));
        let vtable = usize::try_from(pos as i64 - soff).ok()?;
        let vt_len = usize::from(u16_at(buf, vtable)?);
        Some(Table {
            buf,
            pos,
            vtable,
            vt_len,
        })
    }

    fn root(buf: &'a [u8]) -> Option<Table<'a>> {
        Table::at(buf, u32_at(buf, 0)? as usize)
    }

    /// The absolute position of field `i`, or `None` when it is absent.
    fn field(&self, i: usize) -> Option<usize> {
        let entry = 4 + 2 * i;
        if entry + 2 > self.vt_len {
            return None;
        }
        match u16_at(self.buf, self.vtable + entry)? {
            0 => None,
            off => self.pos.checked_add(usize::from(off)),
        }
    }

    fn u8_or(&self, i: usize, default: u8) -> Option<u8> {
        match self.field(i) {
            None => Some(default),
            Some(p) => self.buf.get(p).copied(),
        }
    }

    fn i16_or(&self, i: usize, default: i16) -> Option<i16> {
        match self.field(i) {
            None => Some(default),
            Some(p) => u16_at(self.buf, p).map(|v| v as i16),
        }
    }

    fn i32_or(&self, i: usize, default: i32) -> Option<i32> {
        match self.field(i) {
            None => Some(default),
            Some(p) => u32_at(self.buf, p).map(|v| v as i32),
        }
    }

    fn i64_or(&self, i: usize, default: i64) -> Option<i64> {
        match self.field(i) {
            None => Some(default),
            Some(p) => i64_at(self.buf, p),
        }
    }

    /// The position an offset field points to.
    fn indirect(&self, i: usize) -> Option<Option<usize>> {
        match self.field(i) {
            None => Some(None),
            Some(p) => Some(Some(p.checked_add(u32_at(self.buf, p)? as usize)?)),
        }
    }

    fn table(&self, i: usize) -> Option<Option<Table<'a>>> {
        match self.indirect(i)? {
            None => Some(None),
            Some(p) => Table::at(self.buf, p).map(Some),
        }
    }

    fn string(&self, i: usize) -> Option<String> {
        match self.indirect(i)? {
            None => Some(String::new()),
            Some(p) => {
                let n = u32_at(self.buf, p)? as usize;
                let b = self.buf.get(p + 4..(p + 4).checked_add(n)?)?;
                Some(String::from_utf8_lossy(b).into_owned())
            }
        }
    }

    /// A vector field: (position of the first element, element count).
    fn vector(&self, i: usize) -> Option<(usize, usize)> {
        match self.indirect(i)? {
            None => Some((0, 0)),
            Some(p) => Some((p + 4, u32_at(self.buf, p)? as usize)),
        }
    }
}

/// The metadata flatbuffer and the body of an encapsulated IPC message.
fn split_message(message: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let bad = || "truncated message prefix".to_string();
    let first = u32_at(message, 0).ok_or_else(bad)?;
    let (prefix, len) = if first == u32::MAX {
        (8, u32_at(message, 4).ok_or_else(bad)? as usize)
    } else {
        (4, first as usize)
    };
    let end = prefix + len;
    let meta = message
        .get(prefix..end)
        .ok_or("metadata past the message end")?;
    Ok((meta, &message[end..]))
}

/// The `header` table of a `Message`, checked to be of `kind`.
fn header(meta: &[u8], kind: u8) -> Result<Table<'_>, String> {
    let m = Table::root(meta).ok_or("malformed Message")?;
    if m.u8_or(1, 0).ok_or("malformed Message")? != kind {
        return Err("unexpected message kind".into());
    }
    m.table(2)
        .ok_or("malformed Message header")?
        .ok_or_else(|| "Message without a header".into())
}

/// Reads a Schema message into its columns.
pub fn schema(message: &[u8]) -> Result<Vec<Column>, String> {
    let (meta, _) = split_message(message)?;
    let s = header(meta, 1)?;
    let (first, n) = s.vector(1).ok_or("malformed Schema")?;
    fields(meta, first, n, 0)
}

/// The `n` Field tables of a vector starting at `first`.
fn fields(meta: &[u8], first: usize, n: usize, depth: usize) -> Result<Vec<Column>, String> {
    if depth > MAX_DEPTH {
        return Err("structs nested too deeply".into());
    }
    let bad = || "malformed Schema field".to_string();
    let mut columns = Vec::new();
    for k in 0..n {
        let p = first.checked_add(4 * k).ok_or_else(bad)?;
        let f = Table::at(meta, p + u32_at(meta, p).ok_or_else(bad)? as usize).ok_or_else(bad)?;
        let name = f.string(0).ok_or_else(bad)?;
        if f.field(4).is_some() {
            return Err(format!("column {name:?} is dictionary-encoded"));
        }
        let (c_first, c_n) = f.vector(5).ok_or_else(bad)?;
        let t = f.table(3).ok_or_else(bad)?;
        let ty = match (f.u8_or(2, 0).ok_or_else(bad)?, t) {
            (1, _) => ColumnType::Null,
            (2, Some(t)) => {
                let bits = t.i32_or(0, 0).ok_or_else(bad)?;
                if !matches!(bits, 8 | 16 | 32 | 64) {
                    return Err(format!("column {name:?}: {bits}-bit integers"));
                }
                ColumnType::Int {
                    bits: bits as u8,
                    signed: t.u8_or(1, 0).ok_or_else(bad)? != 0,
                }
            }
            (3, Some(t)) => match t.i16_or(0, 0).ok_or_else(bad)? {
                1 => ColumnType::Float { double: false },
                2 => ColumnType::Float { double: true },
                _ => return Err(format!("column {name:?}: half-precision floats")),
            },
            (4, _) => ColumnType::Binary { large: false },
            (5, _) => ColumnType::Utf8 { large: false },
            (6, _) => ColumnType::Bool,
            (13, _) => ColumnType::Struct,
            (19, _) => ColumnType::Binary { large: true },
            (20, _) => ColumnType::Utf8 { large: true },
            (t, _) => return Err(format!("column {name:?}: Arrow type {t} is not decoded")),
        };
        let children = if ty == ColumnType::Struct {
            fields(meta, c_first, c_n, depth + 1)?
        } else if c_n > 0 {
            return Err(format!("column {name:?} has children"));
        } else {
            Vec::new()
        };
        columns.push(Column { name, ty, children });
    }
    Ok(columns)
}

/// The batch's field nodes, in schema pre-order.
struct Nodes<'a> {
    meta: &'a [u8],
    first: usize,
    count: usize,
    next: usize,
}

impl Nodes<'_> {
    /// (length, null count) of the next node.
    fn take(&mut self) -> Result<(i64, i64), String> {
        if self.next >= self.count {
            return Err("fewer field nodes than the schema needs".into());
        }
        let p = self.first + 16 * self.next;
        self.next += 1;
        let bad = || "malformed field node".to_string();
        Ok((
            i64_at(self.meta, p).ok_or_else(bad)?,
            i64_at(self.meta, p + 8).ok_or_else(bad)?,
        ))
    }
}

/// A column's buffers in the body.
struct Buffers<'a> {
    body: &'a [u8],
    meta: &'a [u8],
    first: usize,
    count: usize,
    next: usize,
}

impl<'a> Buffers<'a> {
    fn take(&mut self) -> Result<&'a [u8], String> {
        if self.next >= self.count {
            return Err("fewer buffers than the schema needs".into());
        }
        let p = self.first + 16 * self.next;
        self.next += 1;
        let bad = || "malformed buffer entry".to_string();
        let off = usize::try_from(i64_at(self.meta, p).ok_or_else(bad)?).map_err(|_| bad())?;
        let len = usize::try_from(i64_at(self.meta, p + 8).ok_or_else(bad)?).map_err(|_| bad())?;
        self.body
            .get(off..off.checked_add(len).ok_or_else(bad)?)
            .ok_or_else(|| "a buffer lies past the body".into())
    }
}

fn bit(b: &[u8], i: usize) -> Option<bool> {
    b.get(i / 8).map(|x| x >> (i % 8) & 1 == 1)
}

fn le(data: &[u8], i: usize, width: usize) -> Option<&[u8]> {
    data.get(i.checked_mul(width)?..(i + 1).checked_mul(width)?)
}

/// The Python repr of each value of one column (its node is the next one).
fn column_values(
    c: &Column,
    rows: usize,
    nodes: &mut Nodes,
    bufs: &mut Buffers,
) -> Result<Vec<String>, String> {
    let ty = c.ty;
    let (len, nulls) = nodes.take()?;
    if usize::try_from(len).ok() != Some(rows) {
        return Err(format!(
            "column {:?} has another length than the batch",
            c.name
        ));
    }
    if ty == ColumnType::Null {
        return Ok(vec!["None".into(); rows]);
    }
    let validity = bufs.take()?;
    let valid = |i: usize| nulls == 0 || validity.is_empty() || bit(validity, i).unwrap_or(false);
    let short = || "a buffer is shorter than the row count".to_string();
    let mut out = Vec::new();
    match ty {
        ColumnType::Null => {}
        ColumnType::Struct => {
            let mut fields = Vec::new();
            for child in &c.children {
                fields.push(column_values(child, rows, nodes, bufs)?);
            }
            for i in 0..rows {
                out.push(if valid(i) {
                    tuple(fields.iter().map(|f| f[i].as_str()))
                } else {
                    "None".into()
                });
            }
        }
        ColumnType::Bool => {
            let data = bufs.take()?;
            for i in 0..rows {
                let v = bit(data, i).ok_or_else(short)?;
                out.push(
                    if !valid(i) {
                        "None"
                    } else if v {
                        "True"
                    } else {
                        "False"
                    }
                    .into(),
                );
            }
        }
        ColumnType::Int { bits, signed } => {
            let data = bufs.take()?;
            let w = usize::from(bits / 8);
            for i in 0..rows {
                let b = le(data, i, w).ok_or_else(short)?;
                let mut x = [0u8; 8];
                x[..w].copy_from_slice(b);
                let raw = u64::from_le_bytes(x);
                let text = if signed {
                    let shift = 64 - u32::from(bits);
                    (((raw << shift) as i64) >> shift).to_string()
                } else {
                    raw.to_string()
                };
                out.push(if valid(i) { text } else { "None".into() });
            }
        }
        ColumnType::Float { double } => {
            let data = bufs.take()?;
            for i in 0..rows {
                let v = if double {
                    f64::from_le_bytes(
                        le(data, i, 8)
                            .ok_or_else(short)?
                            .try_into()
                            .map_err(|_| short())?,
                    )
                } else {
                    f64::from(f32::from_le_bytes(
                        le(data, i, 4)
                            .ok_or_else(short)?
                            .try_into()
                            .map_err(|_| short())?,
                    ))
                };
                out.push(if valid(i) {
                    float_repr(v)
                } else {
                    "None".into()
                });
            }
        }
        ColumnType::Utf8 { large } | ColumnType::Binary { large } => {
            let offsets = bufs.take()?;
            let data = bufs.take()?;
            let w = if large { 8 } else { 4 };
            let offset = |i: usize| -> Result<usize, String> {
                let b = le(offsets, i, w).ok_or_else(short)?;
                let v = if large {
                    i64::from_le_bytes(b.try_into().map_err(|_| short())?)
                } else {
                    i64::from(i32::from_le_bytes(b.try_into().map_err(|_| short())?))
                };
                usize::try_from(v).map_err(|_| "a negative value offset".to_string())
            };
            let text = matches!(ty, ColumnType::Utf8 { .. });
            for i in 0..rows {
                if !valid(i) {
                    out.push("None".into());
                    continue;
                }
                let (a, b) = (offset(i)?, offset(i + 1)?);
                let v = data.get(a..b).ok_or("a value lies past its data buffer")?;
                out.push(if text {
                    match PyStr::from_utf8(bytes::Bytes::copy_from_slice(v)) {
                        Ok(s) => str_repr(&s),
                        Err(_) => return Err("a Utf8 value is not UTF-8".into()),
                    }
                } else {
                    bytes_repr(v)
                });
            }
        }
    }
    Ok(out)
}

/// The rows of a RecordBatch message read with `columns`, each as the Python
/// repr of a tuple.
pub fn rows(columns: &[Column], message: &[u8]) -> Result<Vec<String>, String> {
    let (meta, body) = split_message(message)?;
    let rb = header(meta, 3)?;
    let bad = || "malformed RecordBatch".to_string();
    if rb.field(3).is_some() {
        return Err("the body is compressed".into());
    }
    let length = usize::try_from(rb.i64_or(0, 0).ok_or_else(bad)?).map_err(|_| bad())?;
    let (node_first, node_count) = rb.vector(1).ok_or_else(bad)?;
    let (first, count) = rb.vector(2).ok_or_else(bad)?;
    // One string is made per row, so the declared row count must be backed by
    // bytes: every non-null column takes at least a bit per row of the body.
    let has_data = columns
        .iter()
        .any(|c| !matches!(c.ty, ColumnType::Null | ColumnType::Struct));
    let max_rows = if has_data {
        body.len().saturating_mul(8)
    } else {
        1 << 16
    };
    if length > max_rows {
        return Err("more rows than the body can hold".into());
    }
    let mut bufs = Buffers {
        body,
        meta,
        first,
        count,
        next: 0,
    };
    let mut nodes = Nodes {
        meta,
        first: node_first,
        count: node_count,
        next: 0,
    };
    let mut cols = Vec::new();
    for c in columns {
        cols.push(column_values(c, length, &mut nodes, &mut bufs)?);
    }
    if nodes.next != nodes.count {
        return Err("the batch's field nodes do not match the schema".into());
    }
    Ok((0..length)
        .map(|i| tuple(cols.iter().map(|c| c[i].as_str())))
        .collect())
}

/// A Python tuple repr of already-repr'd items.
fn tuple<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let cells: Vec<&str> = items.collect();
    if cells.len() == 1 {
        format!("({},)", cells[0])
    } else {
        format!("({})", cells.join(", "))
    }
}
