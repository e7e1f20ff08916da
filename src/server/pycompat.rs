//! What Python and `http.server` do to the bytes of a request before
//! Mercurial sees them (Latin-1 request lines, `unquote`, `fsencode`,
//! header normalisation), and the small Python reprs its messages use.
//! Hand-written because the exact bytes decide Mercurial's answers.

use hyper::header::HeaderValue;

use super::http::{header, HeaderMap};

/// Python's `repr()` of a str made of HTTP token characters.
pub(super) fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `html.escape(s, quote=False)`.
pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn push_latin1_as_utf8(b: u8, out: &mut Vec<u8>) {
    if b < 0x80 {
        out.push(b);
    } else {
        out.push(0xc0 | (b >> 6));
        out.push(0x80 | (b & 0x3f));
    }
}

pub(super) fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `PATH_INFO` as Mercurial 6.0 on Python 3 gets it: http.server decodes
/// the request line as Latin-1, `urlreq.unquote` (`unquote_to_bytes`)
/// encodes that as UTF-8 and percent-decodes, `pycompat.sysstr` decodes
/// the bytes as Latin-1 again and the WSGI environment is turned back into
/// bytes with `fsencode` (UTF-8). So `%FF` arrives as `\xc3\xbf`.
pub(super) fn path_info(path: &str) -> Vec<u8> {
    let mut utf8 = Vec::with_capacity(path.len());
    for &b in path.as_bytes() {
        push_latin1_as_utf8(b, &mut utf8);
    }
    let mut unquoted = Vec::with_capacity(utf8.len());
    let mut i = 0;
    while i < utf8.len() {
        if utf8[i] == b'%' && i + 2 < utf8.len() {
            if let (Some(h), Some(l)) = (hex_val(utf8[i + 1]), hex_val(utf8[i + 2])) {
                unquoted.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        unquoted.push(utf8[i]);
        i += 1;
    }
    let mut out = Vec::with_capacity(unquoted.len());
    for &b in &unquoted {
        push_latin1_as_utf8(b, &mut out);
    }
    out
}

/// `req.dispatchparts`: PATH_INFO stripped of `/` at both ends, split on `/`.
pub(super) fn dispatch_parts(info: &[u8]) -> Vec<Vec<u8>> {
    let start = info.iter().position(|&c| c != b'/');
    let Some(start) = start else {
        return Vec::new();
    };
    let end = info.iter().rposition(|&c| c != b'/').unwrap_or(start) + 1;
    info[start..end]
        .split(|&c| c == b'/')
        .map(|p| p.to_vec())
        .collect()
}

/// Python's `str.strip()` whitespace, for header values.
pub(super) fn py_strip(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// Header bytes as Mercurial sees them: Latin-1 decoded by http.server,
/// UTF-8 encoded by `fsencode`.
pub(super) fn header_bytes(v: &HeaderValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &b in v.as_bytes() {
        push_latin1_as_utf8(b, &mut out);
    }
    out
}

/// `req.headers.get(b'Accept')`: the first Accept header, newlines removed
/// and stripped; absent when empty.
pub(super) fn accept_header(headers: &HeaderMap) -> Option<Vec<u8>> {
    let v = headers.get(header::ACCEPT)?;
    let raw: Vec<u8> = header_bytes(v)
        .into_iter()
        .filter(|&c| c != b'\n')
        .collect();
    let s = py_strip(&raw);
    (!s.is_empty()).then(|| s.to_vec())
}

/// `req.headers.get(b'Content-Type')`: http.server's
/// `get_content_type()`, the media type without parameters, lowercased,
/// `text/plain` when missing or malformed.
pub(super) fn content_type(headers: &HeaderMap) -> Vec<u8> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return b"text/plain".to_vec();
    };
    let raw = header_bytes(v);
    let main = raw.split(|&c| c == b';').next().unwrap_or(&[]);
    let ctype = py_strip(main).to_ascii_lowercase();
    if ctype.iter().filter(|&&c| c == b'/').count() != 1 {
        return b"text/plain".to_vec();
    }
    ctype
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_info_like_python() {
        assert_eq!(path_info("/api/"), b"/api/");
        assert_eq!(path_info("/api/x/ro/he%61ds"), b"/api/x/ro/heads");
        assert_eq!(path_info("/h%FFx"), b"/h\xc3\xbfx");
        assert_eq!(path_info("/a%2"), b"/a%2");
        assert_eq!(path_info("/a%"), b"/a%");
        assert_eq!(path_info("/a%zz%41"), b"/a%zzA");
        assert_eq!(path_info("/%2F"), b"//");
    }

    #[test]
    fn dispatch_parts_like_python() {
        assert!(dispatch_parts(b"/").is_empty());
        assert!(dispatch_parts(b"").is_empty());
        assert_eq!(dispatch_parts(b"/api"), vec![b"api".to_vec()]);
        assert_eq!(dispatch_parts(b"//api//"), vec![b"api".to_vec()]);
        assert_eq!(
            dispatch_parts(b"/api/x//ro/"),
            vec![b"api".to_vec(), b"x".to_vec(), b"".to_vec(), b"ro".to_vec()]
        );
    }

    #[test]
    fn content_type_normalised_like_http_server() {
        let mut h = HeaderMap::new();
        assert_eq!(content_type(&h), b"text/plain");
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-Y ; charset=x"),
        );
        assert_eq!(content_type(&h), b"application/x-y");
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("a/b/c"));
        assert_eq!(content_type(&h), b"text/plain");
        h.insert(header::ACCEPT, HeaderValue::from_static("  a/b "));
        assert_eq!(accept_header(&h).as_deref(), Some(&b"a/b"[..]));
    }
}
