//! `datetime`'s types as `_datetimemodule.c` prints them after unpickling.
//!
//! `date`, `time` and `datetime` reduce to their packed state (bytes, or the
//! protocol-2 `_codecs.encode(text, 'latin1')`, or a latin-1 `str` from Python
//! 2) plus an optional tzinfo; the fold bit rides on the hour (time) or month
//! (datetime) byte. Only the month (date, datetime) and hour (time) are
//! checked by the unpickler, so the other fields print as stored.
//! `timedelta(d, s, us)` is normalized by its constructor; `timezone(offset[,
//! name])` returns the `utc` singleton for a zero offset without a name.

use super::super::value::Value;
use super::output::ReprError;
use super::shape::{call, Call, Ctx, Shape};

const US_PER_DAY: i128 = 86_400_000_000;
const MAX_DAYS: i128 = 999_999_999;

pub(crate) fn shape(cx: &Ctx<'_>, c: &Call<'_>) -> Result<Option<Shape>, ReprError> {
    if !c.bare() {
        return Ok(None);
    }
    Ok(match &*c.target.name {
        "date" => date(cx, c),
        "time" => time(cx, c),
        "datetime" => datetime(cx, c),
        "timedelta" => timedelta_total(cx, c).map(|t| Shape::text(timedelta_repr(t))),
        "timezone" => timezone(cx, c),
        _ => None,
    })
}

fn date(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    let [state] = c.args[..] else { return None };
    let b = cx.state_bytes(state)?;
    if b.len() != 4 || !(1..=12).contains(&b[2]) {
        return None;
    }
    Some(Shape::text(format!(
        "datetime.date({}, {}, {})",
        u16::from_be_bytes([b[0], b[1]]),
        b[2],
        b[3]
    )))
}

/// The optional tzinfo argument: `Ok(None)` for none, `Err(())` for a value
/// the unpickler refuses (not None, not an object).
fn tzinfo(cx: &Ctx<'_>, c: &Call<'_>) -> Result<Option<super::super::value::NodeId>, ()> {
    match c.args.get(1) {
        None => Ok(None),
        Some(&t) => match cx.get(t) {
            Some(Value::None) => Ok(None),
            Some(Value::Object(_)) => Ok(Some(t)),
            _ => Err(()),
        },
    }
}

fn time(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !(1..=2).contains(&c.args.len()) {
        return None;
    }
    let b = cx.state_bytes(c.args[0])?;
    if b.len() != 6 || (b[0] & 0x7f) >= 24 {
        return None;
    }
    let tz = tzinfo(cx, c).ok()?;
    let us = u32::from_be_bytes([0, b[3], b[4], b[5]]);
    let mut s = Shape::new();
    s.push(format!(
        "datetime.time({}",
        clock(
            &[u32::from(b[0] & 0x7f), u32::from(b[1])],
            u32::from(b[2]),
            us
        )
    ));
    if let Some(tz) = tz {
        s.push(", tzinfo=").node(tz);
    }
    if b[0] & 0x80 != 0 {
        s.push(", fold=1");
    }
    s.push(")");
    Some(s)
}

fn datetime(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !(1..=2).contains(&c.args.len()) {
        return None;
    }
    let b = cx.state_bytes(c.args[0])?;
    if b.len() != 10 || !(1..=12).contains(&(b[2] & 0x7f)) {
        return None;
    }
    let tz = tzinfo(cx, c).ok()?;
    let us = u32::from_be_bytes([0, b[7], b[8], b[9]]);
    let fields = clock(
        &[
            u32::from(u16::from_be_bytes([b[0], b[1]])),
            u32::from(b[2] & 0x7f),
            u32::from(b[3]),
            u32::from(b[4]),
            u32::from(b[5]),
        ],
        u32::from(b[6]),
        us,
    );
    let mut s = Shape::new();
    s.push(format!("datetime.datetime({fields}"));
    if b[2] & 0x80 != 0 {
        s.push(", fold=1");
    }
    if let Some(tz) = tz {
        s.push(", tzinfo=").node(tz);
    }
    s.push(")");
    Some(s)
}

/// `a, b[, s[, us]]`: the seconds and microseconds are dropped while zero.
pub(crate) fn clock(head: &[u32], seconds: u32, us: u32) -> String {
    let mut parts: Vec<String> = head.iter().map(u32::to_string).collect();
    if us != 0 {
        parts.extend([seconds.to_string(), us.to_string()]);
    } else if seconds != 0 {
        parts.push(seconds.to_string());
    }
    parts.join(", ")
}

/// A `timedelta(days, seconds, microseconds)` call's normalized value in
/// microseconds, if the constructor accepts it.
pub(crate) fn timedelta_total(cx: &Ctx<'_>, c: &Call<'_>) -> Option<i128> {
    if c.args.len() > 3 || !c.target.is("datetime", "timedelta") {
        return None;
    }
    let scale = [US_PER_DAY, 1_000_000, 1];
    let mut total: i128 = 0;
    for (&a, k) in c.args.iter().zip(scale) {
        total = total.checked_add(i128::from(cx.small(a)?).checked_mul(k)?)?;
    }
    (total.div_euclid(US_PER_DAY).abs() <= MAX_DAYS).then_some(total)
}

/// `timedelta.__repr__`: the non-zero normalized fields as keywords.
pub(crate) fn timedelta_repr(total: i128) -> String {
    let days = total.div_euclid(US_PER_DAY);
    let rest = total.rem_euclid(US_PER_DAY);
    let parts: Vec<String> = [
        ("days", days),
        ("seconds", rest / 1_000_000),
        ("microseconds", rest % 1_000_000),
    ]
    .iter()
    .filter(|(_, v)| *v != 0)
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    if parts.is_empty() {
        "datetime.timedelta(0)".into()
    } else {
        format!("datetime.timedelta({})", parts.join(", "))
    }
}

fn timezone(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !(1..=2).contains(&c.args.len()) {
        return None;
    }
    let offset = call(cx, c.args[0]).filter(|o| o.bare() && !o.new)?;
    let total = timedelta_total(cx, &offset)?;
    if total.abs() >= US_PER_DAY {
        return None;
    }
    let name = c.args.get(1).copied();
    if let Some(n) = name {
        cx.text(n)?;
    }
    let mut s = Shape::new();
    match name {
        None if total == 0 => {
            s.push("datetime.timezone.utc");
        }
        None => {
            s.push(format!("datetime.timezone({})", timedelta_repr(total)));
        }
        Some(n) => {
            s.push(format!("datetime.timezone({}, ", timedelta_repr(total)))
                .node(n)
                .push(")");
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timedelta_normalizes_like_python() {
        assert_eq!(timedelta_repr(0), "datetime.timedelta(0)");
        assert_eq!(
            timedelta_repr(-1_000_000),
            "datetime.timedelta(days=-1, seconds=86399)"
        );
        assert_eq!(timedelta_repr(1), "datetime.timedelta(microseconds=1)");
    }

    #[test]
    fn clock_drops_zero_tail() {
        assert_eq!(clock(&[1, 2], 0, 0), "1, 2");
        assert_eq!(clock(&[1, 2], 0, 4), "1, 2, 0, 4");
        assert_eq!(clock(&[1, 2], 3, 0), "1, 2, 3");
    }
}
