//! Civil dates without a time-zone database: days since the Unix epoch to year-month-day and
//! back (Howard Hinnant's `days_from_civil` algorithm), which is all the report needs.

pub const MS_PER_DAY: u64 = 86_400_000;

/// Days since 1970-01-01 for a proleptic Gregorian date; `None` for an impossible date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

pub(crate) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `20150517`, GoAccess's key for a day.
pub fn day_key(day: u32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{y:04}{m:02}{d:02}")
}

/// `17/May/2015`, GoAccess's start and end dates.
pub fn day_clf(day: u32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{d:02}/{}/{y:04}", MONTHS[(m - 1) as usize])
}

/// `2015-05-17 10:05:03` for a millisecond instant.
pub fn datetime(ms: u64) -> String {
    let day = ms / MS_PER_DAY;
    let (y, m, d) = civil_from_days(day as i64);
    let s = (ms % MS_PER_DAY) / 1000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2015, 5, 17), Some(16_572));
        assert_eq!(civil_from_days(16_572), (2015, 5, 17));
        assert_eq!(days_from_civil(2015, 2, 29), None);
        assert_eq!(days_from_civil(2016, 2, 29).map(civil_from_days), Some((2016, 2, 29)));
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), Some(z));
        }
        assert_eq!(day_key(16_572), "20150517");
        assert_eq!(day_clf(16_572), "17/May/2015");
        assert_eq!(datetime(16_572 * MS_PER_DAY + 36_303_000), "2015-05-17 10:05:03");
    }
}
