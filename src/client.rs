//! The HTTP client: the only module that opens sockets as a client.
//!
//! Wraps reqwest (blocking, rustls) with what talking to a Mercurial
//! server needs: URLs under `/api/<API>/<perm>/<command>`, the revision's
//! media type, basic auth from `user:pass@` in the URL, extra headers,
//! separate connect and total timeouts, and errors classified so each gets
//! its own message and exit code (refused, DNS, timeout, TLS, cut off).

use std::time::Duration;

use url::Url;

use crate::wire::proto::Proto;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole request, connect included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Extra headers (`--header K:V`).
    pub headers: Vec<(String, String)>,
    /// Follow redirects (a proxy passes them on instead).
    pub follow_redirects: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            follow_redirects: true,
        }
    }
}

/// A transport-level failure (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid URL {url:?}: {why}")]
    BadUrl { url: String, why: String },
    #[error("invalid header {header:?}: expected NAME:VALUE")]
    BadHeader { header: String },
    #[error("cannot connect to {url}: connection refused (is the server running, on this port?)")]
    Refused { url: String },
    #[error("cannot resolve the host of {url}: {detail}")]
    Dns { url: String, detail: String },
    #[error("{url}: no complete answer within {secs} s (--timeout)")]
    Timeout { url: String, secs: f64 },
    #[error("TLS error talking to {url}: {detail}")]
    Tls { url: String, detail: String },
    #[error("{url}: the connection was closed before the response was complete: {detail}")]
    CutOff { url: String, detail: String },
    #[error("{url}: {detail}")]
    Other { url: String, detail: String },
}

/// A server answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub url: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_ok(&self) -> bool {
        self.status == 200
    }
}

/// An answer whose body is read as it arrives.
pub struct Streaming {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn std::io::Read + Send>,
}

/// A server base URL (credentials split off).
#[derive(Debug, Clone)]
pub struct Target {
    pub base: Url,
    pub user: Option<(String, Option<String>)>,
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, ClientError> {
        let with_scheme = if s.contains("://") {
            s.to_string()
        } else {
            format!("http://{s}")
        };
        let mut base = Url::parse(&with_scheme).map_err(|e| ClientError::BadUrl {
            url: s.to_string(),
            why: format!("{e} (expected e.g. http://127.0.0.1:8000/ or https://host/repo)"),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::BadUrl {
                url: s.to_string(),
                why: format!("scheme {:?} is not http or https", base.scheme()),
            });
        }
        let user = if base.username().is_empty() {
            None
        } else {
            let u = percent_decode(base.username());
            let p = base.password().map(percent_decode);
            Some((u, p))
        };
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.set_query(None);
        base.set_fragment(None);
        Ok(Target { base, user })
    }

    /// `base` + a relative path like `api/exp-http-v2-0003/ro/heads`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    /// `api/<API>/<perm>/<command>` for a revision.
    pub fn command_url(&self, proto: Proto, rw: bool, command: &str) -> String {
        self.join(&format!(
            "api/{}/{}/{}",
            proto.table().api_name,
            if rw { "rw" } else { "ro" },
            command
        ))
    }

    /// The URL as shown to users (no password).
    pub fn display(&self) -> String {
        self.base.to_string()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `--header K:V`.
pub fn parse_header(h: &str) -> Result<(String, String), ClientError> {
    match h.split_once(':') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(ClientError::BadHeader {
            header: h.to_string(),
        }),
    }
}

/// A configured client for one target.
pub struct Client {
    http: reqwest::blocking::Client,
    pub target: Target,
    opts: ClientOptions,
}

impl Client {
    pub fn new(target: Target, opts: ClientOptions) -> Result<Client, ClientError> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .user_agent(concat!("hgframe/", env!("CARGO_PKG_VERSION")));
        if !opts.follow_redirects {
            builder = builder.redirect(reqwest::redirect::Policy::none());
        }
        let http = builder.build().map_err(|e| ClientError::Other {
            url: target.display(),
            detail: e.to_string(),
        })?;
        Ok(Client { http, target, opts })
    }

    /// GET a path under the base URL.
    pub fn get(&self, path: &str) -> Result<Reply, ClientError> {
        let url = self.target.join(path);
        self.send(self.http.get(&url), &url)
    }

    /// POST frames with the revision's media type as Accept and Content-Type.
    pub fn post_frames(
        &self,
        url: &str,
        proto: Proto,
        body: Vec<u8>,
    ) -> Result<Reply, ClientError> {
        let mt = proto.table().media_type;
        let rb = self
            .http
            .post(url)
            .header("Accept", mt)
            .header("Content-Type", mt)
            .body(body);
        self.send(rb, url)
    }

    /// POST with explicit headers (for probing servers).
    pub fn post_raw(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, ClientError> {
        let mut rb = self.http.post(url).body(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb, url)
    }

    /// Send a request as given (method, path and query under the base URL,
    /// headers, body) and return the answer with its body unread: it is
    /// read as it arrives.
    pub fn send_streaming(
        &self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Streaming, ClientError> {
        let url = self.target.join(target);
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| ClientError::Other {
                url: redact(&url),
                detail: format!("not an HTTP method: {method:?}"),
            })?;
        let mut rb = self.http.request(method, &url).body(body);
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        if let Some((u, p)) = &self.target.user {
            rb = rb.basic_auth(u, p.as_ref());
        }
        let resp = rb.send().map_err(|e| self.classify(e, &url))?;
        let status = resp.status();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(Streaming {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body: Box::new(resp),
        })
    }

    fn send(
        &self,
        mut rb: reqwest::blocking::RequestBuilder,
        url: &str,
    ) -> Result<Reply, ClientError> {
        for (k, v) in &self.opts.headers {
            rb = rb.header(k, v);
        }
        if let Some((u, p)) = &self.target.user {
            rb = rb.basic_auth(u, p.as_ref());
        }
        let resp = rb.send().map_err(|e| self.classify(e, url))?;
        let status = resp.status();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().map_err(|e| self.classify(e, url))?.to_vec();
        Ok(Reply {
            url: url.to_string(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body,
        })
    }

    fn classify(&self, e: reqwest::Error, url: &str) -> ClientError {
        let url = redact(url);
        let mut chain = String::new();
        let mut src: Option<&dyn std::error::Error> = Some(&e);
        while let Some(s) = src {
            chain.push_str(&s.to_string());
            chain.push_str(" | ");
            src = s.source();
        }
        let lower = chain.to_lowercase();
        if e.is_timeout() || lower.contains("timed out") {
            return ClientError::Timeout {
                url,
                secs: if e.is_connect() {
                    self.opts.connect_timeout.as_secs_f64()
                } else {
                    self.opts.timeout.as_secs_f64()
                },
            };
        }
        if lower.contains("dns error")
            || lower.contains("failed to lookup")
            || lower.contains("name or service not known")
        {
            return ClientError::Dns {
                url,
                detail: last_cause(&chain),
            };
        }
        if lower.contains("connection refused") {
            return ClientError::Refused { url };
        }
        if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("corrupt message")
        {
            return ClientError::Tls {
                url,
                detail: last_cause(&chain),
            };
        }
        if lower.contains("incomplete")
            || lower.contains("connection closed")
            || lower.contains("connection reset")
            || lower.contains("unexpected eof")
            || lower.contains("end of file")
            || e.is_body()
            || e.is_decode()
        {
            return ClientError::CutOff {
                url,
                detail: last_cause(&chain),
            };
        }
        ClientError::Other {
            url,
            detail: last_cause(&chain),
        }
    }
}

fn last_cause(chain: &str) -> String {
    chain
        .trim_end_matches(" | ")
        .rsplit(" | ")
        .next()
        .unwrap_or(chain)
        .to_string()
}

/// Remove credentials from a URL for display.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("http://bob:s%40cret@127.0.0.1:8000/repo").unwrap();
        assert_eq!(t.user, Some(("bob".into(), Some("s@cret".into()))));
        assert_eq!(
            t.command_url(Proto::P0006, false, "heads"),
            "http://127.0.0.1:8000/repo/api/exp-http-v2-0003/ro/heads"
        );
        let t = Target::parse("127.0.0.1:8000").unwrap();
        assert_eq!(t.join("api/"), "http://127.0.0.1:8000/api/");
        assert!(Target::parse("ftp://x").is_err());
        assert!(parse_header("X-A: b").is_ok());
        assert!(parse_header("nocolon").is_err());
    }
}
