//! A pickled batch of flat records, read once through [`super::rows`] and
//! kept in a compact form: each record's fields inline, one after another,
//! and the text of every `str` in one buffer.
//!
//! ```
//! use sparkwire_serializers::pickle::flat::FlatBatch;
//! use sparkwire_serializers::pickle::{Field, Limits};
//!
//! // pickle.dumps([(1, 'a'), (2, 'b')], 5), as PySpark writes a batch.
//! let data = b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94\x86\x94K\x02\x8c\x01b\x94\x86\x94e.";
//! let batch = FlatBatch::read(data, &Limits::default())?;
//! assert_eq!(batch.len(), 2);
//! let second = batch.record(1).expect("two records");
//! assert_eq!(second.fields().collect::<Vec<_>>(), [Field::Int(2), Field::Str("b")]);
//! assert_eq!(second.repr(), "(2, 'b')");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Why beside the value graph: a decoded graph holds a 40-byte node (and a
//! hint) per field and per tuple, about 184 bytes for an `(int, str, float)`
//! record, and a stream of batches kept alive spends a third of its time
//! faulting that memory in. Here the same record is three fields of 9 bytes
//! (a tag and a word), four bytes of record table and its text. Only batches
//! the rows view reads whole are kept this way (lists of tuples of `None`,
//! bools, 64-bit ints, floats and `str`s, or of such fields); the stream
//! decoder decodes anything else into a graph, as before. A batch never holds
//! more fields or text than its pickle has bytes.
//!
//! What is given up against the graph: identity (a tuple the pickle shares
//! between two records is two copies here) and the pickle's layout (memo
//! hints), so a flat batch cannot be re-encoded byte for byte; Python values
//! and their `repr`s are the same.

use super::encode::Field;
use super::limits::Limits;
use super::pytext::{float_repr, str_repr};
use super::repr::{may_visit, ReprError};
use super::rows::{Record, Rows, RowsError, Span};

/// What a field is, one byte per field; its value is the field's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    None,
    False,
    True,
    /// The word is the `i64`.
    Int,
    /// The word is the `f64`'s bits.
    Float,
    /// The word is where the text starts (high half) and its length (low).
    Str,
}

/// Set in a record's end when the record is a bare field, not a tuple.
const BARE: u32 = 1 << 31;

/// The tag and word of a field other than a `str`.
#[inline(always)]
fn atom(f: Field<'_>) -> (Tag, u64) {
    match f {
        Field::None => (Tag::None, 0),
        Field::Bool(false) => (Tag::False, 0),
        Field::Bool(true) => (Tag::True, 0),
        Field::Int(i) => (Tag::Int, i as u64),
        Field::Float(x) => (Tag::Float, x.to_bits()),
        // Not reached: each caller takes a `str` first.
        Field::Str(_) => (Tag::Str, 0),
    }
}

/// The records of one pickled batch, each a tuple of fields or one field.
///
/// Kept as columns: a tag byte and an 8-byte word per field (9 bytes, where
/// an enum of the two would take 16), a record table, and one text buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatBatch {
    tags: Vec<Tag>,
    words: Vec<u64>,
    /// Per record, where its fields end (with [`BARE`] for a bare field).
    ends: Vec<u32>,
    text: String,
}

/// Why a batch was not kept flat.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlatError {
    /// The rows view stopped (something it does not read, damage, a limit).
    #[error(transparent)]
    Rows(#[from] RowsError),
    /// The pickle is 2 GiB or longer (a frame's length is an `i32`): the
    /// batch's offsets are 31 bits.
    #[error("a pickle of {bytes} bytes is too long to keep flat")]
    TooLong {
        /// The pickle's length.
        bytes: usize,
    },
    /// Memo references repeat more fields or text than the pickle has bytes;
    /// kept flat, each repetition would be a copy. A graph shares them.
    #[error("memo references repeat {what} past the pickle's {bytes} bytes")]
    Repeats {
        /// Fields or text.
        what: &'static str,
        /// The pickle's length.
        bytes: usize,
    },
}

impl FlatBatch {
    /// Reads every record of the pickle at the start of `data`, bounded by
    /// `limits` as [`super::decode_with`] is.
    pub fn read(data: &[u8], limits: &Limits) -> Result<FlatBatch, FlatError> {
        Self::read_with(Rows::new(data, limits)).0
    }

    /// Reads every record through `rows` (a view just made or restarted over
    /// the pickle), and gives the view back for the next pickle.
    ///
    /// The records are read first without checking each `str` as UTF-8:
    /// the text is copied as bytes and checked whole, once, then each
    /// `str`'s start is checked to fall on a character (valid text cut at
    /// character boundaries is valid in every piece). On 1 M AutoBatched
    /// records the check of each `str` by itself took 15 % of the pass's
    /// instructions. Anything that fails that way (bad text, a limit,
    /// damage, something the view does not read) is read again with every
    /// `str` checked, for the error that reading gives.
    pub fn read_with(rows: Rows<'_>) -> (Result<FlatBatch, FlatError>, Rows<'_>) {
        let bytes = rows.data_len();
        if bytes >= BARE as usize {
            return (Err(FlatError::TooLong { bytes }), rows);
        }
        let (fast, rows) = Self::read_unchecked(rows, bytes);
        match fast {
            Some(batch) => (Ok(batch), rows),
            None => {
                let data = rows.data();
                Self::read_checked(rows.restart(data), bytes)
            }
        }
    }

    /// A first guess of the batch's sizes from the bytes present, never from
    /// anything the pickle declares: a CPython row of three fields takes
    /// about 27 bytes.
    fn with_room(bytes: usize) -> FlatBatch {
        FlatBatch {
            tags: Vec::with_capacity(bytes / 8),
            words: Vec::with_capacity(bytes / 8),
            ends: Vec::with_capacity(bytes / 24),
            text: String::new(),
        }
    }

    /// The records with their text checked whole (see [`Self::read_with`]);
    /// `None` when anything fails.
    fn read_unchecked(mut rows: Rows<'_>, bytes: usize) -> (Option<FlatBatch>, Rows<'_>) {
        let data = rows.data();
        let mut batch = Self::with_room(bytes);
        let mut text = Vec::with_capacity(bytes / 3);
        // A failed record leaves the batch half-made; it is dropped.
        let read = loop {
            let fits = match rows.next_record_unchecked() {
                Ok(Some((Record::Tuple(fields), spans))) => {
                    let fits = batch.room(fields.len(), bytes).is_ok()
                        && fields.iter().zip(spans).all(|(&f, &span)| {
                            batch.push_unchecked(f, span, data, &mut text, bytes)
                        });
                    batch.ends.push(batch.tags.len() as u32);
                    fits
                }
                Ok(Some((Record::Field(f), spans))) => {
                    let fits = batch.room(1, bytes).is_ok()
                        && spans.first().is_some_and(|&span| {
                            batch.push_unchecked(f, span, data, &mut text, bytes)
                        });
                    batch.ends.push(batch.tags.len() as u32 | BARE);
                    fits
                }
                Ok(None) => break true,
                Err(_) => false,
            };
            if !fits {
                break false;
            }
        };
        if !read {
            return (None, rows);
        }
        let Ok(text) = String::from_utf8(text) else {
            return (None, rows);
        };
        if !text.is_ascii() {
            let mut starts = batch
                .tags
                .iter()
                .zip(&batch.words)
                .filter(|(t, _)| **t == Tag::Str);
            if !starts.all(|(_, w)| text.is_char_boundary((w >> 32) as usize)) {
                return (None, rows);
            }
        }
        batch.text = text;
        (Some(batch), rows)
    }

    /// The records with each `str` checked as the view returns it.
    fn read_checked(mut rows: Rows<'_>, bytes: usize) -> (Result<FlatBatch, FlatError>, Rows<'_>) {
        let mut batch = Self::with_room(bytes);
        batch.text = String::with_capacity(bytes / 3);
        // Set by `push` when a str would take the text past the pickle's
        // length (it is not copied then), and checked after each record.
        let mut over = false;
        let read = loop {
            match rows.next_record() {
                Ok(Some(Record::Tuple(fields))) => {
                    if let Err(e) = batch.room(fields.len(), bytes) {
                        break Err(e);
                    }
                    for &f in fields {
                        batch.push(f, bytes, &mut over);
                    }
                    batch.ends.push(batch.tags.len() as u32);
                }
                Ok(Some(Record::Field(f))) => {
                    if let Err(e) = batch.room(1, bytes) {
                        break Err(e);
                    }
                    batch.push(f, bytes, &mut over);
                    batch.ends.push(batch.tags.len() as u32 | BARE);
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(FlatError::Rows(e)),
            }
            if over {
                break Err(FlatError::Repeats {
                    what: "text",
                    bytes,
                });
            }
        };
        (read.map(|()| batch), rows)
    }

    /// Whether a record of `fields` more fields still fits. Every field of
    /// a pickle is at least one byte of it and every byte of text is in it,
    /// so only memo references repeating them can outgrow the pickle's
    /// `bytes` (a memoized tuple named again and again, or a tuple of many
    /// references to one long `str`, which [`Self::push`] refuses to copy).
    /// Checked before anything grows.
    fn room(&self, fields: usize, bytes: usize) -> Result<(), FlatError> {
        if self.tags.len() + fields > bytes {
            return Err(FlatError::Repeats {
                what: "fields",
                bytes,
            });
        }
        Ok(())
    }

    /// Appends a field ([`Self::room`] was checked); a `str` that would take
    /// the text past `bytes` is not copied but sets `over`.
    fn push(&mut self, f: Field<'_>, bytes: usize, over: &mut bool) {
        let (tag, word) = match f {
            Field::Str(s) if self.text.len() + s.len() > bytes => {
                *over = true;
                (Tag::Str, 0)
            }
            Field::Str(s) => {
                // Both fit in 31 bits: the text is bounded by the pickle's
                // length, which is below 2 GiB.
                let start = self.text.len() as u64;
                self.text.push_str(s);
                (Tag::Str, start << 32 | s.len() as u64)
            }
            other => atom(other),
        };
        self.tags.push(tag);
        self.words.push(word);
    }

    /// [`Self::push`] of a field read unchecked: a `str`'s bytes are copied
    /// from `span` of `data` into `text`. False, with nothing pushed, when
    /// they would take the text past `bytes`.
    #[inline(always)]
    fn push_unchecked(
        &mut self,
        f: Field<'_>,
        (from, len): Span,
        data: &[u8],
        text: &mut Vec<u8>,
        bytes: usize,
    ) -> bool {
        let (tag, word) = match f {
            Field::Str(_) => {
                let (from, len) = (from as usize, len as usize);
                let start = text.len();
                if start + len > bytes {
                    return false;
                }
                // A short str is copied as 16 bytes and cut back: a copy
                // of known size, where one of its own size is a call.
                match data.get(from..from + 16) {
                    Some(chunk) if len <= 16 => {
                        text.extend_from_slice(&<[u8; 16]>::try_from(chunk).unwrap_or_default());
                        text.truncate(start + len);
                    }
                    _ => match data.get(from..from + len) {
                        Some(body) => text.extend_from_slice(body),
                        None => return false,
                    },
                }
                (Tag::Str, (start as u64) << 32 | len as u64)
            }
            other => atom(other),
        };
        self.tags.push(tag);
        self.words.push(word);
        true
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch has no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th record.
    pub fn record(&self, i: usize) -> Option<FlatRecord<'_>> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] & !BARE,
        };
        let fields = start as usize..(end & !BARE) as usize;
        Some(FlatRecord {
            tags: self.tags.get(fields.clone())?,
            words: self.words.get(fields)?,
            text: &self.text,
            tuple: end & BARE == 0,
        })
    }

    /// The records in order.
    pub fn records(&self) -> impl Iterator<Item = FlatRecord<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.record(i))
    }
}

/// Reads `data` as a [`FlatBatch`] and decodes it into a graph under the
/// same limits; `Ok(n)` when the batch's `n` records have the reprs and
/// type names of the graph's list items, `Err` naming the first difference
/// (or why either reading failed). For differential tests and benches.
#[doc(hidden)]
pub fn reprs_as_decoded(data: &[u8], limits: &Limits) -> Result<usize, String> {
    use super::value::Value;
    let flat = FlatBatch::read(data, limits).map_err(|e| e.to_string())?;
    let d = super::decode_with(&bytes::Bytes::copy_from_slice(data), limits)
        .map_err(|e| e.to_string())?;
    let Value::List(items) = d.graph.get(d.root()) else {
        return Err("the decoded root is not a list".into());
    };
    let items = d.graph.items(*items);
    if items.len() != flat.len() {
        return Err(format!(
            "{} records, {} list items",
            flat.len(),
            items.len()
        ));
    }
    for (i, (r, &id)) in flat.records().zip(items).enumerate() {
        let want = super::repr_node(&d.graph, id, limits).map_err(|e| e.to_string())?;
        let (got, ty) = (r.repr(), d.graph.get(id).type_name());
        if got != want || r.type_name() != ty {
            return Err(format!(
                "record {i}: {got} ({}), the graph's {want} ({ty})",
                r.type_name()
            ));
        }
    }
    Ok(flat.len())
}

/// One record of a [`FlatBatch`].
#[derive(Debug, Clone, Copy)]
pub struct FlatRecord<'b> {
    tags: &'b [Tag],
    words: &'b [u64],
    text: &'b str,
    tuple: bool,
}

impl<'b> FlatRecord<'b> {
    /// Whether the record is a tuple (of [`Self::fields`]) rather than one
    /// field (a batch of ints, say).
    pub fn is_tuple(&self) -> bool {
        self.tuple
    }

    /// The fields: the tuple's, or the one field.
    pub fn fields(&self) -> impl Iterator<Item = Field<'b>> + '_ {
        self.tags
            .iter()
            .zip(self.words)
            .map(|(&t, &w)| self.field(t, w))
    }

    /// How many fields (1 for a bare field).
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether the record is the empty tuple.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    fn field(&self, tag: Tag, word: u64) -> Field<'b> {
        let text: &'b str = self.text;
        match tag {
            Tag::None => Field::None,
            Tag::False => Field::Bool(false),
            Tag::True => Field::Bool(true),
            Tag::Int => Field::Int(word as i64),
            Tag::Float => Field::Float(f64::from_bits(word)),
            // Always present: the word was made from this text, at a char
            // boundary (the text is a `String` of whole `str`s).
            Tag::Str => {
                let start = (word >> 32) as usize;
                let end = start + (word & 0xffff_ffff) as usize;
                Field::Str(text.get(start..end).unwrap_or_default())
            }
        }
    }

    /// Python's type name of the record, as [`super::Value::type_name`] gives it.
    pub fn type_name(&self) -> &'static str {
        if self.tuple {
            return "tuple";
        }
        match self.tags.first() {
            Some(Tag::None) | None => "None",
            Some(Tag::False | Tag::True) => "bool",
            Some(Tag::Int) => "int",
            Some(Tag::Float) => "float",
            Some(Tag::Str) => "str",
        }
    }

    /// Python's `repr` of the record. (Its length is bounded by the batch's
    /// text: at most a few times the pickle's length.)
    pub fn repr(&self) -> String {
        let unbounded = Limits {
            max_expanded: u64::MAX,
            max_repr_text: u64::MAX,
            ..Limits::default()
        };
        self.repr_within(&unbounded).unwrap_or_default()
    }

    /// Python's `repr` of the record under `limits`, failing where
    /// [`super::repr_node`] fails on the record's graph under the same
    /// limits: the graph's printer visits the tuple and then each field,
    /// and before each visit stops when its node budget
    /// (`max_expanded`) is spent or its text is past its bound (the same
    /// check, `repr::may_visit`).
    pub fn repr_within(&self, limits: &Limits) -> Result<String, ReprError> {
        let mut budget = limits.max_expanded;
        let mut out = String::new();
        let mut visit = |out: &String| {
            may_visit(limits, budget, out.len())?;
            budget -= 1;
            Ok(())
        };
        if !self.tuple {
            visit(&out)?;
            for f in self.fields() {
                field_repr(&mut out, f);
            }
            return Ok(out);
        }
        visit(&out)?;
        out.push('(');
        for (i, f) in self.fields().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            visit(&out)?;
            field_repr(&mut out, f);
        }
        if self.tags.len() == 1 {
            out.push(',');
        }
        out.push(')');
        Ok(out)
    }
}

fn field_repr(out: &mut String, f: Field<'_>) {
    match f {
        Field::None => out.push_str("None"),
        Field::Bool(true) => out.push_str("True"),
        Field::Bool(false) => out.push_str("False"),
        Field::Int(i) => out.push_str(&i.to_string()),
        Field::Float(x) => out.push_str(&float_repr(x)),
        Field::Str(s) => out.push_str(&str_repr(s.as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{decode_slice, repr_node, Value};

    fn same_as_graph(data: &[u8]) -> Result<usize, String> {
        reprs_as_decoded(data, &Limits::default())
    }

    #[test]
    fn records_repr_as_the_graph() {
        // pickle.dumps([(1, 'a'), (2, 'b')], 5)
        let rows = b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94\x86\x94K\x02\x8c\x01b\x94\x86\x94e.";
        assert_eq!(same_as_graph(rows), Ok(2));
        // pickle.dumps([None, True, -3, 0.1, 'x\\n\xe9', (7,), ()], 4)
        let mixed = b"\x80\x04\x95!\x00\x00\x00\x00\x00\x00\x00]\x94(N\x88J\xfd\xff\xff\xffG?\xb9\x99\x99\x99\x99\x99\x9a\x8c\x04x\n\xc3\xa9\x94K\x07\x85\x94)e.";
        assert_eq!(same_as_graph(mixed), Ok(7));
    }

    /// Under every node budget from 0 to 8 (and so text bounds of 0 to 256
    /// bytes), a record's bounded repr fails or succeeds as its graph's.
    #[test]
    fn bounded_reprs_stop_where_the_graph_printer_stops() {
        // pickle.dumps([(1, 'a' * 40, 0.5), 'x' * 300, (), (7,), ('y' * 100, 1)], 4):
        // the last record passes the text bound before its second field.
        let p = b"\x80\x04\x95\xdf\x01\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x94G?\xe0\x00\x00\x00\x00\x00\x00\x87\x94X,\x01\x00\x00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x94)K\x07\x85\x94\x8cdyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\x94K\x01\x86\x94e.";
        let flat = FlatBatch::read(p, &Limits::default()).expect("flat");
        let d = decode_slice(p).expect("decodes");
        let Value::List(items) = d.graph.get(d.root()) else {
            panic!("a list")
        };
        let items = d.graph.items(*items);
        // Every record's bounded repr against its graph's; the graph's results.
        let compare = |limits: &Limits, what: &str| -> Vec<Result<String, ReprError>> {
            flat.records()
                .zip(items)
                .map(|(r, &id)| {
                    let want = repr_node(&d.graph, id, limits);
                    assert_eq!(r.repr_within(limits), want, "{what}");
                    want
                })
                .collect()
        };
        let mut failed = 0;
        for n in 0..=8 {
            let limits = Limits {
                max_expanded: n,
                ..Limits::default()
            };
            failed += compare(&limits, &format!("budget {n}"))
                .iter()
                .filter(|w| w.is_err())
                .count();
        }
        assert!(failed > 4, "the limits must be reached: {failed}");
        // The text bound of its own, at every length around the records'.
        let mut too_long = 0;
        for n in 0..=320 {
            let limits = Limits {
                max_repr_text: n,
                ..Limits::default()
            };
            too_long += compare(&limits, &format!("text {n}"))
                .iter()
                .filter(|w| **w == Err(ReprError::TooLong(n)))
                .count();
        }
        assert!(too_long > 100, "the text bound must be reached: {too_long}");
    }

    #[test]
    fn repeated_references_are_bounded_by_the_pickle() {
        // A list of one memoized 3-tuple, then BINGETs of it: each record
        // copies three fields from two bytes of pickle.
        let mut p = b"\x80\x04]\x94(K\x01K\x02K\x03\x87\x94".to_vec();
        p.extend(std::iter::repeat_n(&b"h\x01"[..], 40).flatten());
        p.extend_from_slice(b"e.");
        assert!(matches!(
            FlatBatch::read(&p, &Limits::default()),
            Err(FlatError::Repeats { what: "fields", .. })
        ));
        // A few repeats stay within the pickle's length.
        let mut q = b"\x80\x04]\x94(K\x01K\x02K\x03\x87\x94".to_vec();
        q.extend(std::iter::repeat_n(&b"h\x01"[..], 3).flatten());
        q.extend_from_slice(b"e.");
        assert_eq!(same_as_graph(&q), Ok(4));
    }

    /// One record of 40 000 references to a memoized 1 MiB `str` (a 1.1 MB
    /// pickle) would be 42 GB of text kept flat, more than the machine has:
    /// each copy is checked before it is made (copying first and checking
    /// after the record, this test fails on allocation).
    #[test]
    fn one_record_of_repeated_references_is_bounded_too() {
        let mut p = b"\x80\x04]\x94(X\x00\x00\x10\x00".to_vec();
        p.extend(std::iter::repeat_n(b'x', 1 << 20));
        p.push(0x94);
        p.extend(std::iter::repeat_n(&b"h\x01"[..], 40_000).flatten());
        p.extend_from_slice(b"ta.");
        let d = decode_slice(&p).expect("the graph shares the str");
        assert_eq!(d.graph.len(), 3);
        assert_eq!(
            FlatBatch::read(&p, &Limits::default()),
            Err(FlatError::Repeats {
                what: "text",
                bytes: p.len()
            })
        );
    }

    /// The text is checked whole, once: a character split across two
    /// `str`s (each invalid, together valid) and a lone surrogate must fail
    /// exactly as the reading that checks each `str` fails, and valid text
    /// past ASCII, short, long and at the pickle's end, must be kept whole.
    #[test]
    fn text_checked_whole_fails_and_keeps_as_each_str_checked() {
        let checked =
            |p: &[u8]| FlatBatch::read_checked(Rows::new(p, &Limits::default()), p.len()).0;
        // [('\xc3', '\xa9')] written as two one-byte strs: "é" when joined.
        let split = b"\x80\x04]\x94(\x8c\x01\xc3\x94\x8c\x01\xa9\x94\x86\x94e.";
        let got = FlatBatch::read(split, &Limits::default());
        assert_eq!(got, checked(split));
        assert!(matches!(
            got,
            Err(FlatError::Rows(RowsError::Malformed { offset: 5, .. }))
        ));
        // ['\ud800'] as CPython writes it (surrogatepass).
        let surrogate = b"\x80\x04]\x94(\x8c\x03\xed\xa0\x80\x94e.";
        let got = FlatBatch::read(surrogate, &Limits::default());
        assert_eq!(got, checked(surrogate));
        assert!(matches!(
            got,
            Err(FlatError::Rows(RowsError::Unsupported { offset: 5, .. }))
        ));
        // [('é', '日本', 'x' * 20), '😀']: the last str ends three bytes
        // before the pickle does.
        let mut valid =
            b"\x80\x04]\x94(\x8c\x02\xc3\xa9\x94\x8c\x06\xe6\x97\xa5\xe6\x9c\xac\x94\x8c\x14"
                .to_vec();
        valid.extend_from_slice(&[b'x'; 20]);
        valid.extend_from_slice(b"\x94\x87\x94\x8c\x04\xf0\x9f\x98\x80\x94e.");
        assert_eq!(same_as_graph(&valid), Ok(2));
        assert_eq!(FlatBatch::read(&valid, &Limits::default()), checked(&valid));
        // Read the unchecked way, not again checked: the text holds the
        // strs' bytes and nothing more.
        let unchecked =
            |p: &[u8]| FlatBatch::read_unchecked(Rows::new(p, &Limits::default()), p.len()).0;
        assert_eq!(
            unchecked(&valid).map(|b| b.text.len()),
            Some(2 + 6 + 20 + 4)
        );
        assert_eq!(unchecked(split), None);
        assert_eq!(unchecked(surrogate), None);
    }

    #[test]
    fn what_the_view_refuses_is_not_flat() {
        // pickle.dumps([[1]], 2): a nested list.
        let nested = b"\x80\x02]q\x00]q\x01K\x01aa.";
        assert!(matches!(
            FlatBatch::read(nested, &Limits::default()),
            Err(FlatError::Rows(RowsError::Unsupported { .. }))
        ));
    }
}
