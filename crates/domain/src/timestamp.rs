//! Instants as milliseconds since the Unix epoch, rendered as RFC 3339 UTC with milliseconds.

use std::fmt;
use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

/// An instant, in whole milliseconds since 1970-01-01T00:00:00Z. This is how every date is stored.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A date-time string that could not be read as RFC 3339.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not an RFC 3339 date-time")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus `ms` milliseconds.
    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// This instant plus `s` seconds.
    pub fn plus_seconds(self, s: i64) -> Self {
        self.plus_millis(s.saturating_mul(1000))
    }

    /// Whole seconds since the epoch (floor).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Reads an RFC 3339 date-time with any offset and any fraction (kept to milliseconds).
    pub fn parse_rfc3339(text: &str) -> Result<Self, BadTimestamp> {
        let dt =
            OffsetDateTime::parse(text, &Rfc3339).map_err(|_| BadTimestamp(text.to_owned()))?;
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Self)
            .map_err(|_| BadTimestamp(text.to_owned()))
    }

    /// Renders as `2024-05-17T19:33:16.470Z`: UTC, always three fraction digits.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        let Ok(dt) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
            return "9999-12-31T23:59:59.999Z".to_owned();
        };
        let dt = dt.to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_milliseconds() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_715_974_396_470).to_rfc3339(),
            "2024-05-17T19:33:16.470Z"
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2024-05-17T21:33:16.4709+02:00").unwrap();
        assert_eq!(t, Timestamp(1_715_974_396_470));
        assert!(Timestamp::parse_rfc3339("2024-05-17 19:33:16").is_err());
    }
}
