//! The values inside Arrow IPC record batches, as Python reprs of row tuples:
//! what `pyarrow`'s `RecordBatch.to_pylist()` holds, one `(v1, v2, …)` per row.
//!
//! Decoded column types: null, bool, 8–64-bit integers, 32/64-bit floats, UTF-8
//! and binary (regular and large offsets), fixed-size binary, decimal128 and
//! decimal256, date32/date64, time32/time64, timestamps of every unit (naive,
//! UTC, a fixed offset, or a named zone whose offset never changes, such as
//! `Etc/UTC` or `Etc/GMT+5`), durations, lists (regular, large and fixed-size),
//! maps, structs, and dictionary-encoded columns of any of these (dictionary
//! batches and their deltas are kept in [`Dictionaries`]). Values are shown as
//! `to_pylist()` returns them — `datetime`, `Decimal`, pandas `Timestamp` and
//! `Timedelta` for nanoseconds, a map as a list of `(key, value)` tuples —
//! except that a struct value is a tuple of its fields (as a Row) rather than
//! a dict. Anything else (views, unions, intervals, run-end encoding,
//! compressed bodies, zones with daylight saving, which would need a time-zone
//! database) is refused with a reason, so a caller can fall back to listing
//! messages.
//!
//! Every offset and length read from the metadata or the body is checked
//! against the bytes present; the values made are bounded by the body's size
//! (`slot_budget`, and `repeat_budget` for dictionary values), not by the
//! lengths the metadata declares; nesting is bounded (16 levels below a column).

mod decimal;
mod flatbuf;
mod schema;
mod temporal;

use std::collections::BTreeMap;

use super::super::pickle::repr::{bytes_repr, float_repr, str_repr};
use super::super::pickle::PyStr;
use flatbuf::{i64_at, u32_at, Table};
use schema::{fields, MAX_DEPTH};
pub use schema::{schema_text, Column, ColumnType, Encoding, TimeUnit, Zone};

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

/// The values of each dictionary a stream has sent so far, by id (Python reprs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionaries(BTreeMap<i64, Vec<String>>);

impl Dictionaries {
    /// The values of dictionary `id`.
    pub fn get(&self, id: i64) -> Option<&[String]> {
        self.0.get(&id).map(Vec::as_slice)
    }
}

/// The column (at any depth) that dictionary `id` encodes.
fn encoded(columns: &[Column], id: i64, depth: usize) -> Option<&Column> {
    if depth > MAX_DEPTH {
        return None;
    }
    columns.iter().find_map(|c| {
        if c.dictionary.as_ref().is_some_and(|d| d.id == id) {
            Some(c)
        } else {
            encoded(&c.children, id, depth + 1)
        }
    })
}

/// Reads a DictionaryBatch message into `dicts`: a new dictionary, or more
/// values for one (`isDelta`).
pub fn dictionary_batch(
    columns: &[Column],
    dicts: &mut Dictionaries,
    message: &[u8],
) -> Result<(), String> {
    let (meta, body) = split_message(message)?;
    let db = header(meta, 2)?;
    let bad = || "malformed DictionaryBatch".to_string();
    let id = db.i64_or(0, 0).ok_or_else(bad)?;
    let delta = db.u8_or(2, 0).ok_or_else(bad)? != 0;
    let data = db.table(1).ok_or_else(bad)?.ok_or_else(bad)?;
    let column =
        encoded(columns, id, 0).ok_or_else(|| format!("dictionary {id} is not in the schema"))?;
    // The dictionary holds plain values of the column's value type.
    let values_column = Column {
        dictionary: None,
        ..column.clone()
    };
    let mut values = batch(
        std::slice::from_ref(&values_column),
        dicts,
        meta,
        body,
        data,
        repeat_budget(body),
    )?;
    let values = values.pop().ok_or_else(bad)?;
    match dicts.0.get_mut(&id) {
        Some(old) if delta => old.extend(values),
        _ if delta => return Err(format!("a delta for dictionary {id}, which was never sent")),
        _ => {
            dicts.0.insert(id, values);
        }
    }
    Ok(())
}

/// The values a batch may make: a slot per bit of its body, and at least
/// 65536 for columns whose values take no bytes (nulls, empty structs).
fn slot_budget(body: &[u8]) -> usize {
    body.len().saturating_mul(8).max(1 << 16)
}

/// The batch's field nodes, in schema pre-order.
struct Nodes<'a> {
    meta: &'a [u8],
    first: usize,
    count: usize,
    next: usize,
    /// Slots still allowed, see [`slot_budget`].
    budget: usize,
}

impl Nodes<'_> {
    /// (length, null count) of the next node.
    fn take(&mut self) -> Result<(usize, i64), String> {
        if self.next >= self.count {
            return Err("fewer field nodes than the schema needs".into());
        }
        let p = self.first + 16 * self.next;
        self.next += 1;
        let bad = || "malformed field node".to_string();
        let len = usize::try_from(i64_at(self.meta, p).ok_or_else(bad)?).map_err(|_| bad())?;
        let nulls = i64_at(self.meta, p + 8).ok_or_else(bad)?;
        self.budget = self
            .budget
            .checked_sub(len)
            .ok_or("more values than the body can hold")?;
        Ok((len, nulls))
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
    data.get(i.checked_mul(width)?..i.checked_add(1)?.checked_mul(width)?)
}

fn short() -> String {
    "a buffer is shorter than the row count".to_string()
}

/// The `i`th `bits`-wide little-endian integer of `data`.
fn int_at(data: &[u8], i: usize, bits: u8, signed: bool) -> Result<i128, String> {
    if !matches!(bits, 8 | 16 | 32 | 64) {
        return Err(format!("{bits}-bit integers"));
    }
    let w = usize::from(bits / 8);
    let b = le(data, i, w).ok_or_else(short)?;
    let mut x = [0u8; 8];
    x[..w].copy_from_slice(b);
    let raw = u64::from_le_bytes(x);
    Ok(if signed {
        let shift = 64 - u32::from(bits);
        i128::from(((raw << shift) as i64) >> shift)
    } else {
        i128::from(raw)
    })
}

/// The offsets `i` and `i + 1` of a list or binary column.
fn range(offsets: &[u8], i: usize, large: bool) -> Result<(usize, usize), String> {
    let w = if large { 8 } else { 4 };
    let at = |k: usize| -> Result<usize, String> {
        let b = le(offsets, k, w).ok_or_else(short)?;
        let v = if large {
            i64::from_le_bytes(b.try_into().map_err(|_| short())?)
        } else {
            i64::from(i32::from_le_bytes(b.try_into().map_err(|_| short())?))
        };
        usize::try_from(v).map_err(|_| "a negative value offset".to_string())
    };
    let (a, b) = (at(i)?, at(i + 1)?);
    if a > b {
        return Err("offsets go backwards".into());
    }
    Ok((a, b))
}

/// Reading state shared by the columns of one batch.
struct Reader<'a, 'd> {
    nodes: Nodes<'a>,
    bufs: Buffers<'a>,
    dicts: &'d Dictionaries,
    /// Bytes of dictionary values still allowed to be repeated, see [`repeat_budget`].
    repeat: usize,
}

/// Dictionary values are the one thing a batch repeats: a few index bytes can
/// name a long value many times. What a batch may repeat is bounded by its
/// body's size (64 bytes of text per body byte, at least 16 MiB).
fn repeat_budget(body: &[u8]) -> usize {
    body.len().saturating_mul(64).max(16 << 20)
}

/// A value error and the column it is in (outermost first, `s.in.d`).
struct Located {
    path: Vec<String>,
    what: String,
}

impl From<String> for Located {
    fn from(what: String) -> Located {
        Located {
            path: Vec::new(),
            what,
        }
    }
}

impl From<&str> for Located {
    fn from(what: &str) -> Located {
        Located::from(what.to_string())
    }
}

impl Located {
    fn into_text(self) -> String {
        format!("column {}: {}", self.path.join("."), self.what)
    }
}

impl Reader<'_, '_> {
    /// The Python repr of each value of one column (its node is the next one);
    /// an error names the column.
    fn column(&mut self, c: &Column, depth: usize) -> Result<Vec<String>, Located> {
        self.values(c, depth).map_err(|mut e| {
            e.path.insert(0, c.name.clone());
            e
        })
    }

    fn values(&mut self, c: &Column, depth: usize) -> Result<Vec<String>, Located> {
        if depth > MAX_DEPTH {
            return Err("types nested too deeply".into());
        }
        let (len, nulls) = self.nodes.take()?;
        if c.ty == ColumnType::Null && c.dictionary.is_none() {
            return Ok(vec!["None".into(); len]);
        }
        let validity = self.bufs.take()?;
        let valid =
            |i: usize| nulls == 0 || validity.is_empty() || bit(validity, i).unwrap_or(false);
        let mut out = Vec::new();
        let mut push = |i: usize, v: String| {
            out.push(if valid(i) { v } else { "None".into() });
        };
        if let Some(d) = &c.dictionary {
            let ColumnType::Int { bits, signed } = d.index else {
                return Err("a dictionary index that is not an integer".into());
            };
            let indices = self.bufs.take()?;
            let values = self.dicts.get(d.id);
            for i in 0..len {
                if !valid(i) {
                    push(i, String::new());
                    continue;
                }
                let k = int_at(indices, i, bits, signed)?;
                let v = usize::try_from(k)
                    .ok()
                    .and_then(|k| values?.get(k))
                    .ok_or_else(|| format!("index {k} is not in dictionary {}", d.id))?;
                self.repeat = self
                    .repeat
                    .checked_sub(v.len())
                    .ok_or("dictionary values repeat past the output limit")?;
                push(i, v.clone());
            }
            return Ok(out);
        }
        match c.ty {
            ColumnType::Null => {}
            ColumnType::Struct => {
                let mut fields = Vec::new();
                for child in &c.children {
                    let f = self.column(child, depth + 1)?;
                    if f.len() < len {
                        return Err(format!(
                            "struct field {:?} is shorter than its struct",
                            child.name
                        )
                        .into());
                    }
                    fields.push(f);
                }
                for i in 0..len {
                    push(i, tuple(fields.iter().map(|f| f[i].as_str())));
                }
            }
            ColumnType::List { .. } | ColumnType::Map { .. } => {
                // Maps have 32-bit offsets, like List.
                let large = matches!(c.ty, ColumnType::List { large: true });
                let offsets = self.bufs.take()?;
                let item = c.children.first().ok_or("a list without an item field")?;
                let items = self.column(item, depth + 1)?;
                for i in 0..len {
                    if !valid(i) {
                        push(i, String::new());
                        continue;
                    }
                    let (a, b) = range(offsets, i, large)?;
                    let v = items.get(a..b).ok_or("a list lies past its items")?;
                    push(i, format!("[{}]", v.join(", ")));
                }
            }
            ColumnType::FixedList(n) => {
                let n = n as usize;
                let item = c.children.first().ok_or("a list without an item field")?;
                let items = self.column(item, depth + 1)?;
                for i in 0..len {
                    let past = || "a list lies past its items".to_string();
                    let a = i.checked_mul(n).ok_or_else(past)?;
                    let v = items
                        .get(a..a.checked_add(n).ok_or_else(past)?)
                        .ok_or_else(past)?;
                    push(i, format!("[{}]", v.join(", ")));
                }
            }
            ColumnType::Bool => {
                let data = self.bufs.take()?;
                for i in 0..len {
                    let v = bit(data, i).ok_or_else(short)?;
                    push(i, if v { "True" } else { "False" }.into());
                }
            }
            ColumnType::Int { bits, signed } => {
                let data = self.bufs.take()?;
                for i in 0..len {
                    push(i, int_at(data, i, bits, signed)?.to_string());
                }
            }
            ColumnType::Float { double } => {
                let data = self.bufs.take()?;
                let w = if double { 8 } else { 4 };
                for i in 0..len {
                    let b = le(data, i, w).ok_or_else(short)?;
                    let v = if double {
                        f64::from_le_bytes(b.try_into().map_err(|_| short())?)
                    } else {
                        f64::from(f32::from_le_bytes(b.try_into().map_err(|_| short())?))
                    };
                    push(i, float_repr(v));
                }
            }
            ColumnType::Utf8 { large } | ColumnType::Binary { large } => {
                let offsets = self.bufs.take()?;
                let data = self.bufs.take()?;
                let text = matches!(c.ty, ColumnType::Utf8 { .. });
                for i in 0..len {
                    if !valid(i) {
                        push(i, String::new());
                        continue;
                    }
                    let (a, b) = range(offsets, i, large)?;
                    let v = data.get(a..b).ok_or("a value lies past its data buffer")?;
                    push(i, if text { utf8(v)? } else { bytes_repr(v) });
                }
            }
            ColumnType::FixedBinary(n) => {
                let data = self.bufs.take()?;
                for i in 0..len {
                    push(i, bytes_repr(le(data, i, n as usize).ok_or_else(short)?));
                }
            }
            ColumnType::Decimal { bits, scale, .. } => {
                let data = self.bufs.take()?;
                for i in 0..len {
                    let b = le(data, i, usize::from(bits / 8)).ok_or_else(short)?;
                    push(i, decimal::decimal(b, scale));
                }
            }
            ColumnType::Date { .. }
            | ColumnType::Time(_)
            | ColumnType::Timestamp(..)
            | ColumnType::Duration(_) => {
                let bits = match c.ty {
                    ColumnType::Date { millis: false } => 32,
                    ColumnType::Time(TimeUnit::Second | TimeUnit::Milli) => 32,
                    _ => 64,
                };
                let data = self.bufs.take()?;
                for i in 0..len {
                    // A null slot's bytes may be anything: they are not shown.
                    if !valid(i) {
                        push(i, String::new());
                        continue;
                    }
                    let v = int_at(data, i, bits, true)? as i64;
                    push(i, temporal_value(c, v)?);
                }
            }
        }
        Ok(out)
    }
}

/// A date, time, timestamp or duration value.
fn temporal_value(c: &Column, v: i64) -> Result<String, String> {
    match c.ty {
        ColumnType::Date { millis } => temporal::date(v, millis),
        ColumnType::Time(u) => temporal::time(v, u),
        ColumnType::Timestamp(u, z) => {
            temporal::timestamp(v, u, z, c.timezone.as_deref().unwrap_or_default())
        }
        ColumnType::Duration(u) => temporal::duration(v, u),
        _ => Err("not a temporal type".into()),
    }
}

fn utf8(v: &[u8]) -> Result<String, String> {
    match PyStr::from_utf8(bytes::Bytes::copy_from_slice(v)) {
        Ok(s) => Ok(str_repr(&s)),
        Err(_) => Err("a Utf8 value is not UTF-8".into()),
    }
}

/// Each column's values in the RecordBatch table `rb` of a message.
fn batch(
    columns: &[Column],
    dicts: &Dictionaries,
    meta: &[u8],
    body: &[u8],
    rb: Table,
    repeat: usize,
) -> Result<Vec<Vec<String>>, String> {
    let bad = || "malformed RecordBatch".to_string();
    if rb.field(3).is_some() {
        return Err("the body is compressed".into());
    }
    let length = usize::try_from(rb.i64_or(0, 0).ok_or_else(bad)?).map_err(|_| bad())?;
    let (node_first, node_count) = rb.vector(1).ok_or_else(bad)?;
    let (first, count) = rb.vector(2).ok_or_else(bad)?;
    let mut r = Reader {
        nodes: Nodes {
            meta,
            first: node_first,
            count: node_count,
            next: 0,
            budget: slot_budget(body),
        },
        bufs: Buffers {
            body,
            meta,
            first,
            count,
            next: 0,
        },
        dicts,
        repeat,
    };
    let mut cols = Vec::new();
    for c in columns {
        let v = r.column(c, 0).map_err(Located::into_text)?;
        if v.len() != length {
            return Err(format!(
                "column {:?} has another length than the batch",
                c.name
            ));
        }
        cols.push(v);
    }
    if r.nodes.next != r.nodes.count {
        return Err("the batch's field nodes do not match the schema".into());
    }
    Ok(cols)
}

/// The rows of a RecordBatch message read with `columns`, each as the Python
/// repr of a tuple; dictionary-encoded columns need [`rows_with`].
pub fn rows(columns: &[Column], message: &[u8]) -> Result<Vec<String>, String> {
    rows_with(columns, &Dictionaries::default(), message)
}

/// [`rows`], with the dictionaries the stream sent before the batch.
pub fn rows_with(
    columns: &[Column],
    dicts: &Dictionaries,
    message: &[u8],
) -> Result<Vec<String>, String> {
    let (meta, body) = split_message(message)?;
    let rb = header(meta, 3)?;
    let cols = batch(columns, dicts, meta, body, rb, repeat_budget(body))?;
    let length = cols.first().map_or(0, Vec::len);
    if cols.is_empty() {
        // No columns: the batch's declared length is all there is.
        let n = usize::try_from(rb.i64_or(0, 0).unwrap_or(0)).unwrap_or(0);
        if n > slot_budget(body) {
            return Err("more rows than the body can hold".into());
        }
        return Ok(vec!["()".into(); n]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of one recorded stream (tests/golden/arrow-types).
    fn messages(case: &str) -> Vec<Vec<u8>> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/golden/arrow-types/streams.json"
        );
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let c = golden["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == case)
            .unwrap();
        let hex = c["stream"].as_str().unwrap();
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut out = Vec::new();
        let mut p = 0;
        while let Some((meta_len, body)) = u32_at(&data, p + 4).and_then(|m| {
            let meta = &data[p + 8..p + 8 + m as usize];
            let t = Table::root(meta)?;
            Some((m as usize, t.i64_or(3, 0)? as usize))
        }) {
            if meta_len == 0 {
                break;
            }
            let end = p + 8 + meta_len + body;
            out.push(data[p..end].to_vec());
            p = end;
        }
        out
    }

    #[test]
    fn declared_lengths_beyond_the_body_are_refused_before_allocating() {
        let m = messages("lists");
        let columns = schema(&m[0]).unwrap();
        let mut batch = m[1].clone();
        assert_eq!(rows(&columns, &batch).unwrap().len(), 24);

        // At the budget the length passes (and the short buffers are found);
        // one slot over, then absurd: refused without making the values.
        let (meta, body) = split_message(&batch).unwrap();
        let (first, count) = header(meta, 3).unwrap().vector(1).unwrap();
        // The last node is charged last: patch it, after every other node.
        let others: i64 = (0..count - 1)
            .map(|k| i64_at(meta, first + 16 * k).unwrap())
            .sum();
        let at = 8 + first + 16 * (count - 1);
        let limit = slot_budget(body) as i64 - others;
        let mut at_limit = batch.clone();
        at_limit[at..at + 8].copy_from_slice(&limit.to_le_bytes());
        assert_ne!(
            rows(&columns, &at_limit).unwrap_err(),
            "column ls.item.b: more values than the body can hold"
        );
        for len in [limit + 1, 1 << 40, i64::MAX] {
            batch[at..at + 8].copy_from_slice(&len.to_le_bytes());
            let err = rows(&columns, &batch).unwrap_err();
            assert_eq!(
                err, "column ls.item.b: more values than the body can hold",
                "{len}"
            );
        }
        batch[at..at + 8].copy_from_slice(&(-1i64).to_le_bytes());
        assert_eq!(
            rows(&columns, &batch).unwrap_err(),
            "column ls.item.b: malformed field node"
        );
    }

    #[test]
    fn every_truncation_of_a_batch_is_an_error_not_a_panic() {
        for case in [
            "lists",
            "maps",
            "dictionaries_with_deltas",
            "decimal256_76_20",
        ] {
            let m = messages(case);
            let columns = schema(&m[0]).unwrap();
            let mut dicts = Dictionaries::default();
            for msg in &m[1..] {
                for cut in 0..msg.len() {
                    let part = &msg[..cut];
                    let _ = rows_with(&columns, &dicts, part);
                    let _ = dictionary_batch(&columns, &mut dicts.clone(), part);
                }
                if dictionary_batch(&columns, &mut dicts, msg).is_err() {
                    assert!(rows_with(&columns, &dicts, msg).is_ok(), "{case}");
                }
            }
        }
    }

    #[test]
    fn dictionary_repeats_stop_exactly_at_the_budget() {
        let m = messages("dictionaries_with_deltas");
        let columns = schema(&m[0]).unwrap();
        let mut dicts = Dictionaries::default();
        let mut checked = 0;
        for msg in &m[1..] {
            let (meta, body) = split_message(msg).unwrap();
            let Ok(rb) = header(meta, 3) else {
                dictionary_batch(&columns, &mut dicts, msg).unwrap();
                continue;
            };
            let read = |budget| batch(&columns, &dicts, meta, body, rb, budget);
            // The least budget that reads the batch: one byte less is refused.
            let (mut lo, mut hi) = (0usize, repeat_budget(body));
            assert!(read(hi).is_ok());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if read(mid).is_ok() {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            assert!(lo > 0);
            let err = read(lo - 1).unwrap_err();
            assert!(
                err.starts_with("column ")
                    && err.ends_with(": dictionary values repeat past the output limit"),
                "{err}"
            );
            checked += 1;
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn a_batch_before_its_dictionary_is_refused() {
        let m = messages("dictionaries_with_deltas");
        let columns = schema(&m[0]).unwrap();
        let batch = m
            .iter()
            .find(|x| header(split_message(x).unwrap().0, 3).is_ok())
            .unwrap();
        let err = rows(&columns, batch).unwrap_err();
        assert!(err.contains("is not in dictionary"), "{err}");
    }
}
