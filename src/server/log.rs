//! The access log: one line per request, Common Log Format plus the time
//! taken and, when the status alone does not say, what happened.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::StatusCode;

// ---------------------------------------------------------------------------
// Access log

/// One request as the access log records it.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub remote: SocketAddr,
    /// When the entry was written (the answer sent), seconds since the epoch.
    pub time: u64,
    pub method: String,
    /// The request target (path and query) as received.
    pub target: String,
    pub version: super::http::Version,
    pub status: u16,
    /// Body bytes sent.
    pub bytes: usize,
    pub took: Duration,
    /// What happened, when the status alone does not say.
    pub note: Option<String>,
}

impl AccessEntry {
    /// The Common Log Format line, plus the time taken and the note.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} - - [{}] \"{} {} {:?}\" {} {} {:.1}ms",
            self.remote.ip(),
            clf_date(self.time),
            log_escape(&self.method),
            log_escape(&self.target),
            self.version,
            self.status,
            self.bytes,
            self.took.as_secs_f64() * 1000.0
        );
        if let Some(n) = &self.note {
            line.push_str(" (");
            line.push_str(&log_escape(n));
            line.push(')');
        }
        line
    }

    /// The entry as a JSON event (`hgframe serve --json`): the fields as
    /// received (JSON escapes what needs escaping), the time in RFC 3339.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "event": "access",
            "time": rfc3339(self.time),
            "remote": self.remote.ip().to_string(),
            "method": self.method,
            "target": self.target,
            "version": format!("{:?}", self.version),
            "status": self.status,
            "bytes": self.bytes,
            "ms": (self.took.as_secs_f64() * 10_000.0).round() / 10.0,
            "note": self.note,
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn access_entry(
    remote: SocketAddr,
    method: &str,
    target: &str,
    version: super::http::Version,
    status: StatusCode,
    bytes: usize,
    took: Duration,
    note: Option<&str>,
) -> AccessEntry {
    AccessEntry {
        remote,
        time: now_secs(),
        method: method.to_string(),
        target: target.to_string(),
        version,
        status: status.as_u16(),
        bytes,
        took,
        note: note.map(str::to_string),
    }
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

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A UTC date: (year, month 1-12, day, seconds into the day).
fn civil(secs: u64) -> (i64, i64, i64, u64) {
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
    (year, month, day, rem)
}

/// A Common Log Format timestamp (UTC).
pub(super) fn clf_date(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, rem) = civil(secs);
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

/// An RFC 3339 timestamp (UTC).
pub(super) fn rfc3339(secs: u64) -> String {
    let (year, month, day, rem) = civil(secs);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
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
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(py_repr_str("DELETE"), "'DELETE'");
        assert_eq!(py_repr_str("A'B"), "\"A'B\"");
        assert_eq!(html_escape("a&<b>"), "a&amp;&lt;b&gt;");
    }
}
