//! The access log: one line per request, Common Log Format plus the time
//! taken and, when the status alone does not say, what happened.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::StatusCode;

// ---------------------------------------------------------------------------
// Access log

#[allow(clippy::too_many_arguments)]
pub(super) fn access_line(
    remote: SocketAddr,
    method: &str,
    target: &str,
    version: super::http::Version,
    status: StatusCode,
    bytes: usize,
    took: Duration,
    note: Option<&str>,
) -> String {
    let mut line = format!(
        "{} - - [{}] \"{} {} {:?}\" {} {} {:.1}ms",
        remote.ip(),
        clf_now(),
        log_escape(method),
        log_escape(target),
        version,
        status.as_u16(),
        bytes,
        took.as_secs_f64() * 1000.0
    );
    if let Some(n) = note {
        line.push_str(" (");
        line.push_str(&log_escape(n));
        line.push(')');
    }
    line
}

/// Keep a log line one line of printable text.
pub(super) fn log_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Now, as a Common Log Format timestamp (UTC).
pub(super) fn clf_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    clf_date(secs)
}

pub(super) fn clf_date(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::pycompat::{html_escape, py_repr_str};

    #[test]
    fn dates_and_repr() {
        assert_eq!(clf_date(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_date(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(clf_date(1_700_000_000), "14/Nov/2023:22:13:20 +0000");
        assert_eq!(py_repr_str("DELETE"), "'DELETE'");
        assert_eq!(py_repr_str("A'B"), "\"A'B\"");
        assert_eq!(html_escape("a&<b>"), "a&amp;&lt;b&gt;");
    }
}
