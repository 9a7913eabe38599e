//! Timestamps: RFC 3339 UTC with the fraction's trailing zeros trimmed, always ending in `Z`.

use chrono::{DateTime, Duration, Timelike, Utc};

/// The current instant.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Formats like Go's `RFC3339Nano`: `2026-05-08T12:00:00.1234Z`, `2026-05-08T12:00:00Z`.
pub fn format(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S");
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        format!("{base}Z")
    } else {
        let frac = format!("{nanos:09}");
        format!("{base}.{}Z", frac.trim_end_matches('0'))
    }
}

/// `format(now())`.
pub fn now_string() -> String {
    format(now())
}

/// `now + d`, formatted.
pub fn after(d: Duration) -> String {
    format(now() + d)
}

/// Parses any RFC 3339 timestamp into UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// True when `s` parses and lies in the past. Unparsable values count as expired.
pub fn is_past(s: &str) -> bool {
    parse(s).is_none_or(|t| t <= now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn trims_fraction_and_ends_in_z() {
        let t = Utc.with_ymd_and_hms(2026, 5, 8, 12, 0, 0).unwrap();
        assert_eq!(format(t), "2026-05-08T12:00:00Z");
        let t = t + Duration::nanoseconds(123_400_000);
        assert_eq!(format(t), "2026-05-08T12:00:00.1234Z");
        assert_eq!(parse("2026-05-08T12:00:00.1234Z"), Some(t));
        assert!(is_past("2000-01-01T00:00:00Z"));
        assert!(!is_past(&after(Duration::minutes(5))));
        assert!(is_past("garbage"));
    }
}
