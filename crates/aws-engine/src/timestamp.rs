//! Timestamps as boto3 sees them: parse whatever a service sends (ISO 8601, RFC 822 /
//! HTTP-date, epoch seconds) and render the value as Python's `datetime.isoformat()` renders
//! boto3's timezone-aware datetimes (`2024-05-01T10:00:00+00:00`, microseconds only when
//! non-zero) — the form the AWS CLI v2 prints. Serializing goes the other way, per protocol.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// An instant with microsecond precision and the UTC offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Parse a wire or user value: epoch seconds (integer or fractional), ISO 8601, or
    /// RFC 822. Returns `None` when the text is none of those.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        // Every format is ASCII; past this check every byte index is a char boundary,
        // which the slicing below relies on (a server's text could be anything).
        if t.is_empty() || !t.is_ascii() {
            return None;
        }
        if let Ok(secs) = t.parse::<f64>() {
            return Timestamp::from_epoch(secs);
        }
        parse_iso8601(t).or_else(|| parse_rfc822(t)).map(Timestamp)
    }

    /// Seconds since the Unix epoch; `None` out of range or not finite.
    pub fn from_epoch(secs: f64) -> Option<Timestamp> {
        if !secs.is_finite() {
            return None;
        }
        // As CPython's fromtimestamp (`_PyTime_DoubleToDenominator`): split with modf, scale
        // the fraction to microseconds in f64 and round half to even, then carry.
        let whole = secs.trunc();
        let mut micros = ((secs - whole) * 1e6).round_ties_even() as i64;
        let mut whole = whole as i64;
        if micros >= 1_000_000 {
            whole += 1;
            micros -= 1_000_000;
        } else if micros < 0 {
            whole -= 1;
            micros += 1_000_000;
        }
        let dt = OffsetDateTime::from_unix_timestamp(whole).ok()?;
        dt.checked_add(time::Duration::microseconds(micros))
            .map(Timestamp)
    }

    /// `datetime.isoformat()` of the value.
    pub fn to_isoformat(&self) -> String {
        let d = self.0;
        let mut s = String::with_capacity(32);
        push_date_time(&mut s, d);
        let off = d.offset().whole_seconds();
        s.push(if off < 0 { '-' } else { '+' });
        let off = off.unsigned_abs();
        push_digits(&mut s, off / 3600, 2);
        s.push(':');
        push_digits(&mut s, (off % 3600) / 60, 2);
        s
    }

    fn utc(&self) -> OffsetDateTime {
        self.0.to_offset(UtcOffset::UTC)
    }

    /// botocore's `iso8601` serialization: `%Y-%m-%dT%H:%M:%SZ`, with `.%f` when there are
    /// microseconds.
    pub fn to_iso8601_wire(&self) -> String {
        let mut s = String::with_capacity(28);
        push_date_time(&mut s, self.utc());
        s.push('Z');
        s
    }

    /// botocore's `unixtimestamp` serialization: whole seconds as an integer, else a float.
    pub fn to_epoch_value(&self) -> serde_json::Value {
        let d = self.utc();
        let secs = d.unix_timestamp();
        let micros = d.microsecond();
        if micros == 0 {
            serde_json::Value::from(secs)
        } else {
            serde_json::Value::from((secs as f64 * 1e6 + micros as f64) / 1e6)
        }
    }

    /// RFC 822 / HTTP-date (`Tue, 29 Apr 2014 18:30:38 GMT`), whole seconds.
    #[allow(clippy::indexing_slicing)] // weekday 0..=6 and month 1..=12 index 7 and 12 names
    pub fn to_rfc822(&self) -> String {
        let d = self.utc();
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[d.weekday().number_days_from_monday() as usize],
            d.day(),
            MONTHS[d.month() as usize - 1],
            d.year(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[allow(clippy::too_many_arguments)] // a date and time's fields, each named at every call
fn build(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    micros: u32,
    off_secs: i32,
) -> Option<OffsetDateTime> {
    let date = Date::from_calendar_date(y, Month::try_from(mo as u8).ok()?, d as u8).ok()?;
    let (s, leap) = if s == 60 { (59, true) } else { (s, false) };
    let time = Time::from_hms_micro(h as u8, mi as u8, s as u8, micros).ok()?;
    let offset = UtcOffset::from_whole_seconds(off_secs).ok()?;
    let dt = PrimitiveDateTime::new(date, time).assume_offset(offset);
    let dt = if leap {
        dt.checked_add(time::Duration::seconds(1))?
    } else {
        dt
    };
    // Its UTC instant must be representable too (`9999-12-31T23:00:00-05:00` is not):
    // the wire forms are written in UTC.
    dt.checked_to_offset(UtcOffset::UTC)?;
    Some(dt)
}

/// `YYYY-MM-DDTHH:MM:SS`, then `.ffffff` when there are microseconds, as Python's
/// `isoformat` and botocore's `%Y-%m-%dT%H:%M:%S.%f` write them. Digits are pushed rather
/// than formatted: every timestamp of every resource (a snapshot has several) passes here.
fn push_date_time(s: &mut String, d: OffsetDateTime) {
    match u32::try_from(d.year()) {
        Ok(y) if y <= 9999 => push_digits(s, y, 4),
        _ => {
            use std::fmt::Write;
            let _ = write!(s, "{:04}", d.year());
        }
    }
    s.push('-');
    push_digits(s, u32::from(d.month() as u8), 2);
    s.push('-');
    push_digits(s, u32::from(d.day()), 2);
    s.push('T');
    push_digits(s, u32::from(d.hour()), 2);
    s.push(':');
    push_digits(s, u32::from(d.minute()), 2);
    s.push(':');
    push_digits(s, u32::from(d.second()), 2);
    if d.microsecond() != 0 {
        s.push('.');
        push_digits(s, d.microsecond(), 6);
    }
}

/// `n`'s last `width` decimal digits, zero-padded.
fn push_digits(s: &mut String, n: u32, width: u32) {
    for k in (0..width).rev() {
        let digit = (n / 10u32.pow(k)) % 10;
        s.push(char::from(b'0' + digit as u8));
    }
}

/// ISO 8601 as services write it: `YYYY-MM-DD[T| ]HH:MM[:SS[.frac]][Z|±HH[:]MM]`, or a bare date.
/// `t` is ASCII (see [`Timestamp::parse`]); every index is checked against its length first.
#[allow(clippy::indexing_slicing)]
fn parse_iso8601(t: &str) -> Option<OffsetDateTime> {
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(&t[0..4])? as i32;
    let mo = num(&t[5..7])?;
    let d = num(&t[8..10])?;
    if b.len() == 10 {
        return build(y, mo, d, 0, 0, 0, 0, 0);
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let rest = &t[11..];
    // Split the time from the zone designator.
    let zpos = rest.find(['Z', 'z', '+']).or_else(|| rest.rfind('-'));
    let (time_part, zone) = match zpos {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, ""),
    };
    let (hms, frac) = match time_part.find(['.', ',']) {
        Some(p) => (&time_part[..p], &time_part[p + 1..]),
        None => (time_part, ""),
    };
    let mut parts = hms.split(':');
    let h = num(parts.next()?)?;
    let mi = num(parts.next()?)?;
    let s = match parts.next() {
        Some(x) => num(x)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let micros = if frac.is_empty() {
        0
    } else {
        if !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        // dateutil keeps the first six digits.
        let mut f: String = frac.chars().take(6).collect();
        while f.len() < 6 {
            f.push('0');
        }
        f.parse().ok()?
    };
    let off = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 && digits.len() != 2 {
                return None;
            }
            let hh = num(&digits[0..2])? as i32;
            let mm = if digits.len() == 4 {
                num(&digits[2..4])? as i32
            } else {
                0
            };
            sign * (hh * 3600 + mm * 60)
        }
    };
    build(y, mo, d, h, mi, s, micros, off)
}

/// RFC 822 / RFC 1123: `[Day, ]DD Mon YYYY HH:MM:SS (GMT|UTC|Z|±HHMM)`. `t` is ASCII and
/// the zone's length is checked before it is sliced.
#[allow(clippy::indexing_slicing)]
fn parse_rfc822(t: &str) -> Option<OffsetDateTime> {
    let t = match t.find(',') {
        Some(p) => t[p + 1..].trim(),
        None => t,
    };
    let mut it = t.split_whitespace();
    let d = num(it.next()?)?;
    let mon = it.next()?.to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mo = MONTHS.iter().position(|m| mon.starts_with(m))? as u32 + 1;
    let y = num(it.next()?)? as i32;
    let mut hms = it.next()?.split(':');
    let h = num(hms.next()?)?;
    let mi = num(hms.next()?)?;
    let s = hms.next().map(num).unwrap_or(Some(0))?;
    let off = match it.next() {
        None | Some("GMT") | Some("UTC") | Some("Z") | Some("UT") => 0,
        Some(z) if (z.starts_with('+') || z.starts_with('-')) && z.len() == 5 => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (num(&z[1..3])? as i32 * 3600 + num(&z[3..5])? as i32 * 60)
        }
        _ => return None,
    };
    build(y, mo, d, h, mi, s, 0, off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        Timestamp::parse(s).unwrap().to_isoformat()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The pushed digits are what `format!` writes, across the years the parser
        /// accepts, any microsecond and any offset (negative, with minutes).
        #[test]
        fn pushed_digits_match_the_formatted_text(
            secs in -62_135_510_400i64..253_402_214_400,
            micros in proptest::prop_oneof![proptest::strategy::Just(0i64), 0i64..1_000_000],
            off in -86_399i32..86_400,
        ) {
            let off = UtcOffset::from_whole_seconds(off / 60 * 60).unwrap();
            let d = (OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::microseconds(micros))
            .to_offset(off);
            let t = Timestamp(d);
            let frac = |d: OffsetDateTime| match d.microsecond() {
                0 => String::new(),
                m => format!(".{m:06}"),
            };
            let base = |d: OffsetDateTime| format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
                d.year(), d.month() as u8, d.day(), d.hour(), d.minute(), d.second(), frac(d)
            );
            let o = off.whole_seconds();
            let sign = if o < 0 { '-' } else { '+' };
            let o = o.abs();
            proptest::prop_assert_eq!(
                t.to_isoformat(),
                format!("{}{sign}{:02}:{:02}", base(d), o / 3600, (o % 3600) / 60)
            );
            proptest::prop_assert_eq!(
                t.to_iso8601_wire(),
                format!("{}Z", base(d.to_offset(UtcOffset::UTC)))
            );
        }
    }

    /// Text whose instant lies past what a timestamp holds, once moved to UTC or by a
    /// leap second, is no timestamp, rather than a panic when it is written out.
    #[test]
    fn instants_past_the_range_in_utc_are_no_timestamp() {
        for t in [
            "9999-12-31T23:00:00-05:00",
            "9999-12-31T23:59:60Z",
            "Sat, 01 Jan 10000 00:00:00 GMT",
        ] {
            assert!(Timestamp::parse(t).is_none(), "{t}");
        }
        let t = Timestamp::parse("9999-12-31T23:00:00+05:00").unwrap();
        assert_eq!(t.to_iso8601_wire(), "9999-12-31T18:00:00Z");
        assert_eq!(t.to_rfc822(), "Fri, 31 Dec 9999 18:00:00 GMT");
    }

    #[test]
    fn non_ascii_text_is_no_timestamp_and_no_panic() {
        assert!(Timestamp::parse("2024-01-0\u{e9}T00:00:00Z").is_none());
        assert!(Timestamp::parse("\u{e9}\u{e9}\u{e9}\u{e9}-01-01").is_none());
        assert!(Timestamp::parse("Tue, 29 Apr 2014 18:30:38 +\u{e9}0").is_none());
    }

    /// Expected values from CPython: `datetime.fromtimestamp(v, timezone.utc).isoformat()`.
    #[test]
    fn epoch_fractions_round_as_python_does() {
        let epoch = |v: f64| Timestamp::from_epoch(v).unwrap().to_isoformat();
        // 0.5 µs exactly: half to even, not away from zero.
        assert_eq!(epoch(0.0000005), "1970-01-01T00:00:00+00:00");
        assert_eq!(epoch(-0.0000005), "1970-01-01T00:00:00+00:00");
        assert_eq!(epoch(1.5000005), "1970-01-01T00:00:01.500001+00:00");
        assert_eq!(epoch(1.0000025), "1970-01-01T00:00:01.000002+00:00");
        assert_eq!(epoch(-1.5000005), "1969-12-31T23:59:58.499999+00:00");
        assert_eq!(epoch(-1.25), "1969-12-31T23:59:58.750000+00:00");
        assert_eq!(
            epoch(1700000000.5000005),
            "2023-11-14T22:13:20.500000+00:00"
        );
    }

    #[test]
    fn renders_like_python_isoformat() {
        assert_eq!(iso("2015-01-25T08:00:00Z"), "2015-01-25T08:00:00+00:00");
        assert_eq!(iso("2015-01-25T08:00:00.000Z"), "2015-01-25T08:00:00+00:00");
        assert_eq!(
            iso("2015-01-25T08:00:00.5Z"),
            "2015-01-25T08:00:00.500000+00:00"
        );
        assert_eq!(
            iso("2015-01-25T08:00:00.123456789Z"),
            "2015-01-25T08:00:00.123456+00:00"
        );
        assert_eq!(
            iso("2015-01-25T08:00:00+01:00"),
            "2015-01-25T08:00:00+01:00"
        );
        assert_eq!(iso("2015-01-25T08:00:00-0530"), "2015-01-25T08:00:00-05:30");
        assert_eq!(iso("1422172800"), "2015-01-25T08:00:00+00:00");
        assert_eq!(iso("1422172800.123"), "2015-01-25T08:00:00.123000+00:00");
        assert_eq!(
            iso("Sun, 25 Jan 2015 08:00:00 GMT"),
            "2015-01-25T08:00:00+00:00"
        );
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn serializes_for_the_wire() {
        let t = Timestamp::parse("2015-01-25T08:00:00Z").unwrap();
        assert_eq!(t.to_iso8601_wire(), "2015-01-25T08:00:00Z");
        assert_eq!(t.to_epoch_value(), serde_json::json!(1422172800));
        assert_eq!(t.to_rfc822(), "Sun, 25 Jan 2015 08:00:00 GMT");
        let t = Timestamp::parse("2015-01-25T08:00:00.25+01:00").unwrap();
        assert_eq!(t.to_iso8601_wire(), "2015-01-25T07:00:00.250000Z");
        assert_eq!(t.to_epoch_value(), serde_json::json!(1422169200.25));
    }
}
