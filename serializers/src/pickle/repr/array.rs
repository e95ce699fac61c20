//! `array.array` as its repr prints it, from either pickled form: the
//! protocol-3+ `array._array_reconstructor(array.array, typecode,
//! mformat_code, bytes)` (machine-independent item encoding) or the older
//! `array.array(typecode, list)`.

use num_traits::ToPrimitive;

use super::super::pystr::PyStr;
use super::super::pytext::{float_repr, str_repr};
use super::super::value::Value;
use super::shape::{Call, Ctx, Shape};

/// How an `array` typecode stores items on 64-bit Linux.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Signed(u8),
    Unsigned(u8),
    Float(u8),
    Unicode,
}

fn typecode_kind(t: &str) -> Option<Kind> {
    Some(match t {
        "b" => Kind::Signed(1),
        "B" => Kind::Unsigned(1),
        "h" => Kind::Signed(2),
        "H" => Kind::Unsigned(2),
        "i" => Kind::Signed(4),
        "I" => Kind::Unsigned(4),
        "l" | "q" => Kind::Signed(8),
        "L" | "Q" => Kind::Unsigned(8),
        "f" => Kind::Float(4),
        "d" => Kind::Float(8),
        "u" => Kind::Unicode,
        _ => return None,
    })
}

/// One array item, decoded.
enum Item {
    Int(i128),
    Float(f64),
}

/// `array.array` from `array._array_reconstructor(array.array, typecode,
/// mformat_code, bytes)` (protocol 3+) or `array.array(typecode, list)`.
pub(crate) fn array(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || c.new {
        return None;
    }
    let (typecode, items, text): (&str, Vec<Item>, Option<Vec<u32>>) =
        match (&*c.target.name, &c.args[..]) {
            ("_array_reconstructor", [cls, t, m, b]) => {
                if !cx.global(*cls)?.is("array", "array") {
                    return None;
                }
                let t = cx.string(*t)?;
                let data = match cx.get(*b)? {
                    Value::Bytes(d) => d.to_vec(),
                    _ => cx.state_bytes(*b)?,
                };
                let (items, text) = machine(u8::try_from(cx.small(*m)?).ok()?, &data)?;
                (t, items, text)
            }
            ("array", [t]) => (cx.string(*t)?, Vec::new(), None),
            ("array", [t, list]) => {
                let t = cx.string(*t)?;
                let Value::List(v) = cx.get(*list)? else {
                    return None;
                };
                if t == "u" {
                    let mut cps = Vec::with_capacity(v.len());
                    for &it in cx.items(*v) {
                        cps.push(
                            PyStr::from_utf8(bytes::Bytes::copy_from_slice(cx.text(it)?))
                                .ok()?
                                .single_char()?,
                        );
                    }
                    (t, Vec::new(), Some(cps))
                } else {
                    let mut items = Vec::with_capacity(v.len());
                    for &it in cx.items(*v) {
                        items.push(match cx.get(it)? {
                            Value::Float(f) => Item::Float(*f),
                            _ => Item::Int(cx.int(it)?.to_big().to_i128()?),
                        });
                    }
                    (t, items, None)
                }
            }
            _ => return None,
        };
    let kind = typecode_kind(typecode)?;
    let mut out = format!("array('{typecode}'");
    match (kind, text) {
        (Kind::Unicode, Some(cps)) => {
            if !cps.is_empty() {
                out.push_str(", ");
                out.push_str(&str_repr(PyStr::from_code_points(cps).as_bytes()));
            }
        }
        (Kind::Unicode, None) if items.is_empty() => {}
        (Kind::Unicode, None) | (_, Some(_)) => return None,
        (kind, None) => {
            if !items.is_empty() {
                let mut parts = Vec::with_capacity(items.len());
                for it in items {
                    parts.push(item_repr(kind, it)?);
                }
                out.push_str(&format!(", [{}]", parts.join(", ")));
            }
        }
    }
    out.push(')');
    Some(Shape::text(out))
}

/// An item stored under `kind`, printed; `None` where the array refuses it.
fn item_repr(kind: Kind, it: Item) -> Option<String> {
    match (kind, it) {
        (Kind::Signed(n), Item::Int(v)) => {
            let lim = 1i128 << (8 * u32::from(n) - 1);
            (-lim..lim).contains(&v).then(|| v.to_string())
        }
        (Kind::Unsigned(n), Item::Int(v)) => {
            let lim = 1i128 << (8 * u32::from(n));
            (0..lim).contains(&v).then(|| v.to_string())
        }
        (Kind::Float(4), Item::Float(f)) => Some(float_repr(f64::from(f as f32))),
        (Kind::Float(4), Item::Int(v)) => Some(float_repr(f64::from(v as f64 as f32))),
        (Kind::Float(_), Item::Float(f)) => Some(float_repr(f)),
        (Kind::Float(_), Item::Int(v)) => Some(float_repr(v as f64)),
        _ => None,
    }
}

/// Decodes `array`'s machine format (`enum machine_format_code`): items, or
/// the code points of the UTF-16/32 formats.
fn machine(code: u8, data: &[u8]) -> Option<(Vec<Item>, Option<Vec<u32>>)> {
    let (size, kind) = match code {
        0 => (1, 'u'),
        1 => (1, 's'),
        2..=5 => (2, if code < 4 { 'u' } else { 's' }),
        6..=9 => (4, if code < 8 { 'u' } else { 's' }),
        10..=13 => (8, if code < 12 { 'u' } else { 's' }),
        14 | 15 => (4, 'f'),
        16 | 17 => (8, 'f'),
        18 | 19 => (2, 't'),
        20 | 21 => (4, 't'),
        _ => return None,
    };
    // Odd codes from 2 on are big-endian.
    let big = code >= 2 && code % 2 == 1;
    if !data.len().is_multiple_of(size) {
        return None;
    }
    let words = data.chunks_exact(size).map(|ch| {
        let mut w = [0u8; 8];
        if big {
            w[8 - size..].copy_from_slice(ch);
            u64::from_be_bytes(w)
        } else {
            w[..size].copy_from_slice(ch);
            u64::from_le_bytes(w)
        }
    });
    Some(match kind {
        'u' => (words.map(|w| Item::Int(i128::from(w))).collect(), None),
        's' => {
            let shift = 64 - 8 * size as u32;
            (
                words
                    .map(|w| Item::Int(i128::from(((w << shift) as i64) >> shift)))
                    .collect(),
                None,
            )
        }
        'f' if size == 4 => (
            words
                .map(|w| Item::Float(f64::from(f32::from_bits(w as u32))))
                .collect(),
            None,
        ),
        'f' => (
            words.map(|w| Item::Float(f64::from_bits(w))).collect(),
            None,
        ),
        _ if size == 4 => {
            let cps: Vec<u32> = words.map(|w| w as u32).collect();
            if cps.iter().any(|&c| c > 0x10_FFFF) {
                return None;
            }
            (Vec::new(), Some(cps))
        }
        _ => {
            let units: Vec<u16> = words.map(|w| w as u16).collect();
            let cps: Option<Vec<u32>> = char::decode_utf16(units)
                .map(|r| r.ok().map(u32::from))
                .collect();
            (Vec::new(), Some(cps?))
        }
    })
}
