//! Calendar dates without a date crate: ISO-8601 parsing and the Unix-time conversion that
//! age computation needs. Proleptic Gregorian calendar, years 0000–9999.

use std::fmt;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 0–9999.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31 (valid for the month and year).
    pub day: u8,
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError(&'static str);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DateError {}

const MS_PER_DAY: i64 = 86_400_000;

/// Whether `year` has a February 29.
pub fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// A validated date.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !(0..=9999).contains(&year) {
            return Err(DateError("year out of range 0000-9999"));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError("month out of range 01-12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DateError("day does not exist in that month"));
        }
        Ok(Date { year, month, day })
    }

    /// Parses an ISO-8601 / RFC 3339 date or date-time: `YYYY-MM-DD`, optionally followed by
    /// `T` (or a space) and `HH:MM[:SS[.fraction]]` with an optional `Z` or `±HH[:]MM`
    /// offset, e.g. `1990-02-28T10:11:12.123Z` as randomuser.me writes it. The time is
    /// validated but the result is the calendar date *as written*: a birth date does not
    /// move to another day because of its time zone.
    pub fn parse_iso8601(text: &str) -> Result<Self, DateError> {
        let bytes = text.as_bytes();
        if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(DateError(
                "expected an ISO-8601 date like 1990-02-28 or 1990-02-28T10:11:12.123Z",
            ));
        }
        let year = digits(&bytes[0..4])?;
        let month = digits(&bytes[5..7])?;
        let day = digits(&bytes[8..10])?;
        let date = Date::new(year as i32, month as u8, day as u8)?;
        match bytes.get(10) {
            None => Ok(date),
            Some(b'T' | b't' | b' ') => {
                parse_time(&bytes[11..])?;
                Ok(date)
            }
            Some(_) => Err(DateError("unexpected text after the date")),
        }
    }

    /// The UTC date of a Unix timestamp in milliseconds.
    pub fn from_unix_ms(ms: i64) -> Self {
        civil_from_days(ms.div_euclid(MS_PER_DAY))
    }

    /// Completed years from `self` (a birth date) to `on`, or `None` if `on` is earlier.
    ///
    /// A birthday is reached at the start of its calendar day. Someone born on February 29
    /// turns a year older on March 1 in non-leap years (they have not reached "February
    /// 29" while it is still February 28); this falls out of comparing (month, day) pairs.
    pub fn age_on(self, on: Date) -> Option<u32> {
        if on < self {
            return None;
        }
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        u32::try_from(years).ok()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn digits(bytes: &[u8]) -> Result<u32, DateError> {
    const BAD: DateError = DateError("expected digits");
    let digit = |byte: u8| match byte {
        b'0'..=b'9' => Ok(u32::from(byte - b'0')),
        _ => Err(BAD),
    };
    // The fields of a date are two or four digits: no loop for those (a loop costs a time
    // budget check per digit in WebAssembly).
    match *bytes {
        [a, b] => Ok(digit(a)? * 10 + digit(b)?),
        [a, b, c, d] => Ok(digit(a)? * 1000 + digit(b)? * 100 + digit(c)? * 10 + digit(d)?),
        [] => Err(BAD),
        _ => bytes.iter().try_fold(0, |n, &b| Ok(n * 10 + digit(b)?)),
    }
}

/// Checks `HH:MM[:SS[.fraction]][Z|±HH[:]MM]`.
fn parse_time(bytes: &[u8]) -> Result<(), DateError> {
    const BAD: DateError = DateError("expected a time like 10:11:12.123Z after the date");
    let number = |range: std::ops::Range<usize>, max: u32| -> Result<(), DateError> {
        let value = digits(bytes.get(range).ok_or(BAD)?).map_err(|_| BAD)?;
        if value > max {
            Err(DateError("time field out of range"))
        } else {
            Ok(())
        }
    };
    number(0..2, 23)?;
    if bytes.get(2) != Some(&b':') {
        return Err(BAD);
    }
    number(3..5, 59)?;
    let mut rest = &bytes[5..];
    if let Some(b':') = rest.first() {
        // 60 allows a leap second.
        let seconds = digits(rest.get(1..3).ok_or(BAD)?).map_err(|_| BAD)?;
        if seconds > 60 {
            return Err(DateError("time field out of range"));
        }
        rest = &rest[3..];
        if let Some(b'.' | b',') = rest.first() {
            let fraction = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if fraction == 0 {
                return Err(BAD);
            }
            rest = &rest[1 + fraction..];
        }
    }
    match rest {
        [] | [b'Z' | b'z'] => Ok(()),
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            let hours = digits(&[*h1, *h2]).map_err(|_| BAD)?;
            let minutes = digits(&[*m1, *m2]).map_err(|_| BAD)?;
            if hours > 23 || minutes > 59 {
                Err(DateError("time zone offset out of range"))
            } else {
                Ok(())
            }
        }
        _ => Err(BAD),
    }
}

/// Days since 1970-01-01 to a date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date {
        year: year as i32,
        month,
        day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    #[test]
    fn parses_the_randomuser_format_and_plain_dates() {
        assert_eq!(
            Date::parse_iso8601("1990-02-28T10:11:12.123Z"),
            Ok(date(1990, 2, 28))
        );
        assert_eq!(Date::parse_iso8601("2000-02-29"), Ok(date(2000, 2, 29)));
        assert_eq!(
            Date::parse_iso8601("1985-12-31T23:59:59+05:30"),
            Ok(date(1985, 12, 31))
        );
        assert_eq!(
            Date::parse_iso8601("1985-12-31 23:59"),
            Ok(date(1985, 12, 31))
        );
        assert_eq!(
            Date::parse_iso8601("1985-12-31T23:59:60.5-0800"),
            Ok(date(1985, 12, 31))
        );
    }

    #[test]
    fn refuses_dates_that_do_not_exist_or_do_not_parse() {
        for bad in [
            "1990-02-29",
            "1900-02-29",
            "1990-13-01",
            "1990-00-10",
            "1990-04-31",
            "1990-01-00",
            "90-01-01",
            "1990/01/01",
            "1990-1-01",
            "yesterday",
            "",
            "1990-01-01X",
            "1990-01-01T",
            "1990-01-01T24:00:00Z",
            "1990-01-01T10:60Z",
            "1990-01-01T10:11:12.Z",
            "1990-01-01T10:11:12+25:00",
            "1990-01-01T10:11:12Q",
            "+1990-01-01",
        ] {
            assert!(
                Date::parse_iso8601(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn converts_unix_milliseconds_to_utc_dates() {
        assert_eq!(Date::from_unix_ms(0), date(1970, 1, 1));
        assert_eq!(Date::from_unix_ms(-1), date(1969, 12, 31));
        assert_eq!(Date::from_unix_ms(951_782_400_000), date(2000, 2, 29));
        assert_eq!(Date::from_unix_ms(1_767_225_599_999), date(2025, 12, 31));
        assert_eq!(Date::from_unix_ms(1_767_225_600_000), date(2026, 1, 1));
    }

    #[test]
    fn unix_conversion_agrees_with_a_day_by_day_walk() {
        let mut expected = date(1900, 1, 1);
        for days in -25_567..40_000 {
            assert_eq!(civil_from_days(days), expected);
            expected = if expected.day < days_in_month(expected.year, expected.month) {
                Date {
                    day: expected.day + 1,
                    ..expected
                }
            } else if expected.month < 12 {
                Date {
                    month: expected.month + 1,
                    day: 1,
                    ..expected
                }
            } else {
                Date {
                    year: expected.year + 1,
                    month: 1,
                    day: 1,
                }
            };
        }
    }

    #[test]
    fn age_counts_completed_years_by_calendar_day() {
        let born = date(1990, 6, 15);
        assert_eq!(born.age_on(date(2020, 6, 14)), Some(29));
        assert_eq!(born.age_on(date(2020, 6, 15)), Some(30));
        assert_eq!(born.age_on(date(1990, 6, 15)), Some(0));
        assert_eq!(born.age_on(date(1990, 6, 14)), None);
    }

    #[test]
    fn leap_day_birthdays_fall_on_march_first_in_common_years() {
        let born = date(2000, 2, 29);
        assert_eq!(born.age_on(date(2021, 2, 28)), Some(20));
        assert_eq!(born.age_on(date(2021, 3, 1)), Some(21));
        assert_eq!(born.age_on(date(2024, 2, 28)), Some(23));
        assert_eq!(born.age_on(date(2024, 2, 29)), Some(24));
    }
}
