//! Python reprs of Arrow's dates, times, timestamps and durations, as
//! pyarrow's `to_pylist()` returns them: `datetime` objects for second to
//! microsecond units, and — pyarrow hands nanoseconds to pandas when it is
//! installed, as in PySpark's environments — pandas `Timestamp` and
//! `Timedelta` for nanoseconds. Time-zone objects are pytz's (pyarrow's
//! choice when pytz is installed): `<UTC>`, `pytz.FixedOffset(m)` and
//! `<StaticTzInfo 'Etc/UTC'>`.

use super::schema::{TimeUnit, Zone};

const DAY_SECONDS: i64 = 86_400;

use crate::calendar::civil_from_days as civil;

/// Python's `date` range, which pyarrow's conversion refuses to leave.
fn in_range(y: i64) -> Result<(), String> {
    if (1..=9999).contains(&y) {
        Ok(())
    } else {
        Err(format!("year {y} is out of Python's date range"))
    }
}

/// `datetime.date(y, m, d)` of a `date32` (days) or `date64` (milliseconds).
pub(super) fn date(v: i64, millis: bool) -> Result<String, String> {
    let days = if millis { v.div_euclid(86_400_000) } else { v };
    let (y, m, d) = civil(days);
    in_range(y)?;
    Ok(format!("datetime.date({y}, {m}, {d})"))
}

/// `h, m[, s[, us]]` as `time` and `datetime` reprs write them.
fn clock(secs_of_day: i64, micros: i64) -> String {
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    match (s, micros) {
        (0, 0) => format!("{h}, {m}"),
        (s, 0) => format!("{h}, {m}, {s}"),
        (s, us) => format!("{h}, {m}, {s}, {us}"),
    }
}

/// `datetime.time(...)` of a time of day; nanoseconds are truncated to
/// microseconds, as pyarrow does.
pub(super) fn time(v: i64, unit: TimeUnit) -> Result<String, String> {
    let per = unit.per_second();
    let (secs, frac) = (v.div_euclid(per), v.rem_euclid(per));
    if !(0..DAY_SECONDS).contains(&secs) {
        return Err(format!("time of day {v} {unit:?} is out of range"));
    }
    let micros = frac * 1_000_000 / per;
    Ok(format!("datetime.time({})", clock(secs, micros)))
}

/// Splits a count of `unit`s into whole seconds and nanoseconds (≥ 0).
fn split(v: i64, unit: TimeUnit) -> (i64, i64) {
    let per = unit.per_second();
    (v.div_euclid(per), v.rem_euclid(per) * (1_000_000_000 / per))
}

/// The fractional seconds as pandas prints them: 9 digits when there are
/// nanoseconds, 6 when only microseconds, none otherwise.
fn pandas_fraction(nanos: i64) -> String {
    if nanos % 1000 != 0 {
        format!(".{nanos:09}")
    } else if nanos != 0 {
        format!(".{:06}", nanos / 1000)
    } else {
        String::new()
    }
}

/// A timestamp's value; `name` is the zone as the schema writes it.
pub(super) fn timestamp(v: i64, unit: TimeUnit, zone: Zone, name: &str) -> Result<String, String> {
    let offset = match zone {
        Zone::Naive | Zone::Utc => 0,
        Zone::Fixed(m) | Zone::Static(m) => i64::from(m) * 60,
    };
    let (secs, nanos) = split(v, unit);
    let local = secs.checked_add(offset).ok_or("timestamp out of range")?;
    let (days, sod) = (local.div_euclid(DAY_SECONDS), local.rem_euclid(DAY_SECONDS));
    let (y, mo, d) = civil(days);
    // pytz.FixedOffset(0) is pytz.utc.
    // (datetime's tzinfo repr, pandas' tz= text)
    let pytz = match zone {
        Zone::Naive => None,
        Zone::Utc | Zone::Fixed(0) => Some(("<UTC>".to_string(), "UTC".to_string())),
        Zone::Fixed(m) => {
            let t = format!("pytz.FixedOffset({m})");
            Some((t.clone(), t))
        }
        Zone::Static(_) => Some((format!("<StaticTzInfo '{name}'>"), name.to_string())),
    };
    if unit == TimeUnit::Nano {
        // pandas' own range (years 1677–2262) always holds an i64 of nanoseconds.
        let mut s = format!(
            "Timestamp('{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}{}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60,
            pandas_fraction(nanos)
        );
        if let Some((_, tz)) = &pytz {
            let sign = if offset < 0 { '-' } else { '+' };
            let off = offset.abs() / 60;
            s += &format!("{sign}{:02}{:02}', tz='{tz}')", off / 60, off % 60);
        } else {
            s += "')";
        }
        return Ok(s);
    }
    in_range(y)?;
    let tz = pytz
        .map(|(t, _)| format!(", tzinfo={t}"))
        .unwrap_or_default();
    Ok(format!(
        "datetime.datetime({y}, {mo}, {d}, {}{tz})",
        clock(sod, nanos / 1000)
    ))
}

/// A duration's value: `datetime.timedelta(...)`, or a pandas `Timedelta`
/// for nanoseconds.
pub(super) fn duration(v: i64, unit: TimeUnit) -> Result<String, String> {
    let (secs, nanos) = split(v, unit);
    let (days, sod) = (secs.div_euclid(DAY_SECONDS), secs.rem_euclid(DAY_SECONDS));
    if unit == TimeUnit::Nano {
        let sign = if days < 0 { "+" } else { "" };
        return Ok(format!(
            "Timedelta('{days} days {sign}{:02}:{:02}:{:02}{}')",
            sod / 3600,
            sod / 60 % 60,
            sod % 60,
            pandas_fraction(nanos)
        ));
    }
    if days.abs() > 999_999_999 {
        return Err(format!("duration of {days} days is out of Python's range"));
    }
    let micros = nanos / 1000;
    let parts: Vec<String> = [("days", days), ("seconds", sod), ("microseconds", micros)]
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Ok(if parts.is_empty() {
        "datetime.timedelta(0)".into()
    } else {
        format!("datetime.timedelta({})", parts.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_at_the_edges() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(-719_162), (1, 1, 1));
        assert_eq!(civil(2_932_896), (9999, 12, 31));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }
}
