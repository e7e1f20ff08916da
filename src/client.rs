//! The HTTP client: the only module that opens sockets as a client.
//!
//! Wraps reqwest (blocking, rustls; the system trust store) with what talking to a Mercurial
//! server needs: URLs under `/api/<API>/<perm>/<command>`, the revision's
//! media type, basic auth from `user:pass@` in the URL, extra headers,
//! separate connect and total timeouts, and errors classified so each gets
//! its own message and exit code (refused, DNS, timeout, TLS, cut off).
//!
//! Hostile servers are expected: bodies are read up to
//! [`ClientOptions::max_response`]; redirects are followed for GETs only,
//! at most [`MAX_REDIRECTS`] times, and the `--header` headers and
//! credentials go to the original origin only; a redirected POST is not
//! re-sent anywhere ([`ClientError::Redirected`] says where it pointed).

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
    /// Follow redirects of GET requests (a proxy passes them on instead).
    pub follow_redirects: bool,
    /// The largest response body read whole (`--max-response`).
    pub max_response: u64,
    /// Extra trusted root certificates, PEM (`--cacert`).
    pub ca_certs: Vec<Vec<u8>>,
    /// Accept any server certificate (`--insecure`).
    pub insecure: bool,
}

/// The `User-Agent` hgframe sends.
pub const USER_AGENT: &str = concat!("hgframe/", env!("CARGO_PKG_VERSION"));

/// Redirects followed for one GET.
pub const MAX_REDIRECTS: usize = 5;

/// The largest response body read whole by default.
pub const DEFAULT_MAX_RESPONSE: u64 = 256 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            follow_redirects: true,
            max_response: DEFAULT_MAX_RESPONSE,
            ca_certs: Vec::new(),
            insecure: false,
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
    #[error("TLS error talking to {url}: {detail}\n  = a self-signed or private certificate? trust it with --cacert FILE.pem (or --insecure for a throwaway test server); a plain-HTTP server? use http://")]
    Tls { url: String, detail: String },
    #[error("{url}: the connection was closed before the response was complete: {detail}")]
    CutOff { url: String, detail: String },
    #[error("{url}: the response body passed {max} bytes; hgframe stopped reading it\n  = raise the limit with --max-response SIZE (e.g. 1G) if this server's answers are that large")]
    TooLarge { url: String, max: u64 },
    #[error("{url}: the server answered {status}, redirecting to {location}; hgframe does not re-send a POST to another URL\n  = if that is the server you meant, run again with {location_base} as the server URL")]
    Redirected {
        url: String,
        status: u16,
        location: String,
        /// The location's repository base (its URL up to `/api/`).
        location_base: String,
    },
    #[error("{url}: more than {MAX_REDIRECTS} redirects (last to {location})")]
    RedirectLoop { url: String, location: String },
    #[error("cannot read the certificate {path}: {detail}\n  = expected a PEM file (-----BEGIN CERTIFICATE-----)")]
    BadCert { path: String, detail: String },
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
    /// Trust: the system's store (rustls-platform-verifier: on Linux and
    /// BSD the system CA bundle, `SSL_CERT_FILE`/`SSL_CERT_DIR` when set;
    /// the OS verifier on macOS and Windows), plus `--cacert`; or nothing
    /// with `--insecure`. A system without a CA bundle still gets a client
    /// (plain-HTTP servers work; HTTPS ones then need `--cacert`).
    pub fn new(target: Target, opts: ClientOptions) -> Result<Client, ClientError> {
        // reqwest's own provider is aws-lc-rs, a long C build; ring is the
        // one rustls is built with here. Installed once per process (a
        // second call finds it there).
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let mut roots = Vec::new();
        for (i, pem) in opts.ca_certs.iter().enumerate() {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientError::BadCert {
                    path: format!("--cacert #{}", i + 1),
                    detail: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(ClientError::BadCert {
                    path: format!("--cacert #{}", i + 1),
                    detail: "no certificate in it".into(),
                });
            }
            roots.extend(certs);
        }
        // Redirects are handled here, not by reqwest: it would re-send a
        // POST body on 307/308 and custom headers to any origin.
        let builder = || {
            let b = reqwest::blocking::Client::builder()
                .timeout(opts.timeout)
                .connect_timeout(opts.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(USER_AGENT);
            if opts.insecure {
                b.danger_accept_invalid_certs(true)
            } else {
                b
            }
        };
        let built = builder().tls_certs_merge(roots.clone()).build();
        // The platform verifier refuses to start without a single root
        // (no CA bundle, no --cacert): trust only what --cacert gave.
        let http = match built {
            Ok(c) => Ok(c),
            Err(_) if !opts.insecure => builder().tls_certs_only(roots).build(),
            Err(e) => Err(e),
        }
        .map_err(|e| ClientError::Other {
            url: target.display(),
            detail: e.to_string(),
        })?;
        Ok(Client { http, target, opts })
    }

    /// GET a path under the base URL (redirects followed, see the module
    /// doc).
    pub fn get(&self, path: &str) -> Result<Reply, ClientError> {
        let mut url = self.target.join(path);
        let origin = Url::parse(&url).ok().map(|u| u.origin());
        for _ in 0..=MAX_REDIRECTS {
            let same_origin = Url::parse(&url).ok().map(|u| u.origin()) == origin;
            let reply = self.send_with(self.http.get(&url), &url, same_origin)?;
            match (self.opts.follow_redirects, redirect_target(&reply)) {
                (true, Some(next)) => url = next,
                _ => return Ok(reply),
            }
        }
        Err(ClientError::RedirectLoop {
            url: redact(&self.target.join(path)),
            location: redact(&url),
        })
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

    /// Send a POST (never redirected: a redirect is an error saying where
    /// it pointed).
    fn send(&self, rb: reqwest::blocking::RequestBuilder, url: &str) -> Result<Reply, ClientError> {
        let reply = self.send_with(rb, url, true)?;
        if let Some(location) = redirect_target(&reply) {
            return Err(ClientError::Redirected {
                url: redact(url),
                status: reply.status,
                location_base: redact(
                    location
                        .find("/api/")
                        .map_or(location.as_str(), |i| &location[..=i]),
                ),
                location: redact(&location),
            });
        }
        Ok(reply)
    }

    /// Send with the `--header` headers and credentials when `trusted`
    /// (the original origin); read the body up to `max_response`.
    fn send_with(
        &self,
        mut rb: reqwest::blocking::RequestBuilder,
        url: &str,
        trusted: bool,
    ) -> Result<Reply, ClientError> {
        if trusted {
            for (k, v) in &self.opts.headers {
                rb = rb.header(k, v);
            }
            if let Some((u, p)) = &self.target.user {
                rb = rb.basic_auth(u, p.as_ref());
            }
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
        let max = self.opts.max_response;
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(ClientError::TooLarge {
                url: redact(url),
                max,
            });
        }
        // Room for the whole body at once, up to 1 GiB: pages never
        // written are never resident, and growing by doubling held the old
        // and the new buffer at once (an endless body under the default
        // 256M peaked at 713 MiB).
        let room = resp.content_length().unwrap_or(max.saturating_add(1));
        let mut body = Vec::with_capacity(room.min(max.saturating_add(1)).min(1 << 30) as usize);
        {
            use std::io::Read;
            let mut limited = resp.take(max.saturating_add(1));
            loop {
                let mut chunk = [0u8; 64 * 1024];
                match limited.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.classify_io(e, url)),
                }
            }
        }
        if body.len() as u64 > max {
            return Err(ClientError::TooLarge {
                url: redact(url),
                max,
            });
        }
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

impl Client {
    /// The largest response body this client reads (`--max-response`).
    pub fn max_response(&self) -> u64 {
        self.opts.max_response
    }

    /// Classify an error met while reading a body.
    fn classify_io(&self, e: std::io::Error, url: &str) -> ClientError {
        classify_body_error(e, url, self.opts.timeout)
    }

    /// POST frames as [`Client::post_frames`] does, the answer's body left
    /// to read as it arrives ([`StreamingReply::read_body`]): a response
    /// of any length passes through in bounded memory. A redirect is an
    /// error, as for every POST.
    pub fn post_frames_streaming(
        &self,
        url: &str,
        proto: Proto,
        body: Vec<u8>,
    ) -> Result<StreamingReply, ClientError> {
        let mt = proto.table().media_type;
        let mut rb = self
            .http
            .post(url)
            .header("Accept", mt)
            .header("Content-Type", mt)
            .body(body);
        for (k, v) in &self.opts.headers {
            rb = rb.header(k, v);
        }
        if let Some((u, p)) = &self.target.user {
            rb = rb.basic_auth(u, p.as_ref());
        }
        let req = rb.build().map_err(|e| self.classify(e, url))?;
        let mut exchange = Exchange::of_request(&req);
        let resp = self.http.execute(req).map_err(|e| self.classify(e, url))?;
        exchange.response(&resp);
        let status = resp.status();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let head = Reply {
            url: url.to_string(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body: Vec::new(),
        };
        if let Some(location) = redirect_target(&head) {
            return Err(ClientError::Redirected {
                url: redact(url),
                status: head.status,
                location_base: redact(
                    location
                        .find("/api/")
                        .map_or(location.as_str(), |i| &location[..=i]),
                ),
                location: redact(&location),
            });
        }
        Ok(StreamingReply {
            url: head.url,
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            exchange,
            body: resp,
            timeout: self.opts.timeout,
        })
    }
}

/// What went over the wire for one request, as `send -v` shows it: the
/// request line and headers sent, the status line and headers received.
/// Values are as sent and received (a printer escapes them), except
/// credentials, which are never shown.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    pub request_version: String,
    /// The request's headers, then those the HTTP stack adds when it
    /// writes the request (`user-agent`, `host`, `content-length`).
    pub request_headers: Vec<(String, String)>,
    pub request_body: usize,
    pub response_version: String,
    pub status: u16,
    /// The reason phrase as the server sent it (Mercurial's `Script
    /// output follows`), else the status code's standard one.
    pub reason: String,
    pub response_headers: Vec<(String, String)>,
}

impl Exchange {
    fn of_request(req: &reqwest::blocking::Request) -> Exchange {
        let u = req.url();
        let mut target = u.path().to_string();
        if let Some(q) = u.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = if k == reqwest::header::AUTHORIZATION || k == "cookie" {
                    let scheme = v.to_str().ok().and_then(|s| s.split(' ').next());
                    format!("{} <hidden>", scheme.unwrap_or(""))
                        .trim()
                        .to_string()
                } else {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                };
                (k.to_string(), v)
            })
            .collect();
        let has = |h: &[(String, String)], n: &str| h.iter().any(|(k, _)| k == n);
        if !has(&headers, "user-agent") {
            headers.push(("user-agent".into(), USER_AGENT.into()));
        }
        if let Some(host) = u.host_str() {
            let host = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            headers.push(("host".into(), host));
        }
        let body = req.body().and_then(|b| b.as_bytes()).map_or(0, <[u8]>::len);
        headers.push(("content-length".into(), body.to_string()));
        Exchange {
            method: req.method().to_string(),
            target,
            request_version: format!("{:?}", req.version()),
            request_headers: headers,
            request_body: body,
            ..Exchange::default()
        }
    }

    fn response(&mut self, resp: &reqwest::blocking::Response) {
        let status = resp.status();
        self.response_version = format!("{:?}", resp.version());
        self.status = status.as_u16();
        self.reason = match resp.extensions().get::<hyper::ext::ReasonPhrase>() {
            Some(r) => String::from_utf8_lossy(r.as_bytes()).into_owned(),
            None => status.canonical_reason().unwrap_or("").to_string(),
        };
        self.response_headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
    }
}

/// An error met while reading a body: a timeout, or the connection cut.
fn classify_body_error(e: std::io::Error, url: &str, timeout: Duration) -> ClientError {
    if let Some(re) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
        if re.is_timeout() {
            return ClientError::Timeout {
                url: redact(url),
                secs: timeout.as_secs_f64(),
            };
        }
    }
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::TimedOut || text.to_lowercase().contains("timed out") {
        return ClientError::Timeout {
            url: redact(url),
            secs: timeout.as_secs_f64(),
        };
    }
    ClientError::CutOff {
        url: redact(url),
        detail: text,
    }
}

/// A frames answer whose body is read as it arrives.
pub struct StreamingReply {
    pub url: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// The request and the answer's head as they went over the wire.
    pub exchange: Exchange,
    body: reqwest::blocking::Response,
    timeout: Duration,
}

impl StreamingReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Read the next piece of the body into `buf` (0 at its end).
    pub fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        use std::io::Read;
        loop {
            match self.body.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify_body_error(e, &self.url, self.timeout)),
            }
        }
    }

    /// Read at most `max` bytes of the body and stop there (the rest is
    /// never read: an endless error body must not keep a client reading):
    /// for error bodies shown to people. A result of `max` bytes may have
    /// been cut.
    pub fn read_at_most(&mut self, max: usize) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        while out.len() < max {
            let room = (max - out.len()).min(buf.len());
            let n = self.read_body(&mut buf[..room])?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }
}

/// Where a 3xx answer points (resolved against its URL).
fn redirect_target(reply: &Reply) -> Option<String> {
    if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let loc = reply.header("location")?;
    let base = Url::parse(&reply.url).ok()?;
    base.join(loc).ok().map(|u| u.to_string())
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
