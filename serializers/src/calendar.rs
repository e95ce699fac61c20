//! The proleptic Gregorian calendar, as Python's `datetime.date` and Arrow's
//! date types count it: one conversion shared by the pickle repr view (JVM
//! rows' dates) and the Arrow row reader.

/// (year, month, day) of a day count since 1970-01-01 (negative before it).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Days since 0000-03-01, in 400-year eras of 146 097 days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
