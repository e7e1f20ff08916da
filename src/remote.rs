//! Subcommands that talk to a server: `reflect --url`, `send`, `doctor`.
//!
//! They build requests with the library layers, send them through
//! [`crate::client`] (the only module with client sockets), and render the
//! answers with the same renderers as the local reactor.

use std::io::{self, Read, Write};

use colored::Colorize;
use serde_json::json;

use crate::cli::{DoctorArgs, GlobalOpts, RemoteOpts, SendArgs};
use crate::client::{parse_header, Client, ClientError, ClientOptions, Reply, Target};
use crate::commands::CmdError;
use crate::python::escape::{escape_bytes, hex, unhex};
use crate::python::value::Value;
use crate::reflect::{parse_reflect_body, reflect_bytes, RemoteReflect, Step};
use crate::render::{self, frame_line, value_json};
use crate::request::{command_frames, settings_frame, ClientStream};
use crate::response::{decode_response, DecodedResponse};
use crate::wire::frame::{Frame, LengthMode, Located, SliceDecoder};
use crate::wire::proto::Proto;

type Result<T> = std::result::Result<T, CmdError>;

impl From<ClientError> for CmdError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::BadUrl { .. } | ClientError::BadHeader { .. } => {
                CmdError::Usage(format!("error: {e}"))
            }
            other => CmdError::Transport(format!("error: {other}")),
        }
    }
}

/// Build a client from the shared options.
pub fn make_client(opts: &RemoteOpts, url: &str) -> Result<Client> {
    let target = Target::parse(url)?;
    let mut headers = Vec::new();
    for h in &opts.headers {
        headers.push(parse_header(h)?);
    }
    let secs = |v: f64, what: &str| -> Result<std::time::Duration> {
        if v.is_finite() && v > 0.0 && v < 1e6 {
            Ok(std::time::Duration::from_secs_f64(v))
        } else {
            Err(CmdError::Usage(format!(
                "error: --{what} {v}: expected a positive number of seconds"
            )))
        }
    };
    Ok(Client::new(
        target,
        ClientOptions {
            timeout: secs(opts.timeout, "timeout")?,
            connect_timeout: secs(opts.connect_timeout, "connect-timeout")?,
            headers,
        },
    )?)
}

/// An HTTP error answer as a failure (exit 4), body shown.
pub fn http_error(reply: &Reply, what: &str) -> CmdError {
    let body = String::from_utf8_lossy(&reply.body);
    let body = body.trim_end();
    let mut msg = format!(
        "error: {what}: the server answered HTTP {} {}",
        reply.status, reply.reason
    );
    if !body.is_empty() {
        let shown: String = body.chars().take(2000).collect();
        msg.push_str(&format!("\n  | {}", shown.replace('\n', "\n  | ")));
    }
    let hint = match (reply.status, body) {
        (500, _) => Some("the server raised an exception; its error log (hg serve -E FILE) has the traceback"),
        (404, b) if b.contains("debugreflect service not available") => {
            Some("enable it with --config experimental.web.api.debugreflect=true")
        }
        (404, b) if b.contains("not enabled") => Some("enable the API with --config experimental.web.api.http-v2=true"),
        (400, b) if b.contains("no such method") => {
            Some("the server runs without --config experimental.web.apiserver=true")
        }
        (403, _) => Some("rw/ URLs need push permission: --config web.allow-push=* (and web.push_ssl=false on plain HTTP)"),
        (406 | 415, _) => Some("the server speaks another protocol revision: try --proto with the revision its message names"),
        _ => None,
    };
    if let Some(h) = hint {
        msg.push_str(&format!("\n  = {h}"));
    }
    CmdError::Http(msg)
}

/// Find the server's revision from `/api/` and, for the ambiguous
/// exp-http-v2-0001 API, from the media type a 406 names.
pub fn detect_proto(client: &Client) -> Result<(Proto, String)> {
    let listing = client.get("api/")?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    if listing.status != 200 || !text.starts_with("APIs can be accessed") {
        return Err(CmdError::Http(format!(
            "error: cannot tell the server's protocol revision: GET {} answered HTTP {} (no API listing)\n  = the server runs without --config experimental.web.apiserver=true; or pass --proto",
            listing.url, listing.status
        )));
    }
    if text.contains("exp-http-v2-0003") {
        return Ok((Proto::P0006, "the server lists API exp-http-v2-0003".into()));
    }
    if text.contains("exp-http-v2-0001") {
        let url = client.target.join("api/exp-http-v2-0001/ro/heads");
        let r = client.post_raw(
            &url,
            &[("Accept", "application/x-hgframe-probe")],
            Vec::new(),
        )?;
        let body = String::from_utf8_lossy(&r.body);
        if let Some(pos) = body.find("application/mercurial-exp-framing-") {
            let mt = body[pos..].trim();
            if let Ok(p) = mt.parse::<Proto>() {
                return Ok((p, format!("the server's 406 names {mt}")));
            }
        }
        return Err(CmdError::Http(format!(
            "error: the server lists exp-http-v2-0001 but its 406 answer names no known media type (HTTP {}): {}\n  = pass --proto 0001 or 0002",
            r.status,
            body.trim()
        )));
    }
    Err(CmdError::Http(format!(
        "error: the server offers no frame-protocol API: {}\n  = enable it with --config experimental.web.api.http-v2=true",
        text.trim()
    )))
}

/// `--dry-run`: the request as text.
pub fn write_request(
    w: &mut dyn Write,
    proto: Proto,
    url: &str,
    extra: &[String],
    body: &[u8],
) -> io::Result<()> {
    let mt = proto.table().media_type;
    writeln!(w, "POST {url}")?;
    writeln!(w, "Accept: {mt}")?;
    writeln!(w, "Content-Type: {mt}")?;
    for h in extra {
        writeln!(w, "{h}")?;
    }
    writeln!(w, "Content-Length: {}", body.len())?;
    writeln!(w)?;
    for item in SliceDecoder::new(proto, LengthMode::Correct, body) {
        match item {
            Ok(l) => {
                let f = l.frame.to_owned();
                writeln!(w, "{}", frame_line(proto, &f, true))?;
                let mut b = Vec::new();
                f.encode_into(proto, &mut b).ok();
                writeln!(w, "  hex {}", hex(&b))?;
            }
            Err(e) => writeln!(w, "{e}")?,
        }
    }
    Ok(())
}

/// `--curl`: an equivalent command line.
pub fn write_curl(
    w: &mut dyn Write,
    proto: Proto,
    url: &str,
    extra: &[String],
    body: &[u8],
) -> io::Result<()> {
    let mt = proto.table().media_type;
    let mut printf = String::new();
    for b in body {
        printf.push_str(&format!("\\{b:03o}"));
    }
    write!(
        w,
        "printf '{printf}' | curl -sS -X POST -H 'Accept: {mt}' -H 'Content-Type: {mt}'"
    )?;
    for h in extra {
        write!(w, " -H '{}'", h.replace('\'', "'\\''"))?;
    }
    writeln!(w, " --data-binary @- '{}'", url.replace('\'', "'\\''"))
}

/// `reflect --url`.
#[allow(clippy::too_many_arguments)]
pub fn reflect_remote(
    global: &GlobalOpts,
    url: &str,
    rw: bool,
    compare: bool,
    raw: bool,
    json_out: bool,
    opts: &RemoteOpts,
    text_proto: Option<(Proto, String)>,
    body: Vec<u8>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let client = make_client(opts, url)?;
    let proto = match (global.proto, &text_proto) {
        (Some(p), _) => p,
        (None, Some((p, why))) => {
            if global.verbose > 0 {
                writeln!(err, "hgframe: protocol {p} ({why})")?;
            }
            *p
        }
        (None, None) if opts.dry_run || opts.curl => Proto::P0006,
        (None, None) => {
            let (p, why) = detect_proto(&client)?;
            if global.verbose > 0 {
                writeln!(err, "hgframe: protocol {p} (detected: {why})")?;
            }
            p
        }
    };
    let endpoint = client.target.command_url(proto, rw, "debugreflect");
    if opts.dry_run {
        write_request(
            out,
            proto,
            &crate::client::redact(&endpoint),
            &opts.headers,
            &body,
        )?;
        return Ok(0);
    }
    if opts.curl {
        write_curl(out, proto, &endpoint, &opts.headers, &body)?;
        return Ok(0);
    }
    let reply = client.post_frames(&endpoint, proto, body.clone())?;
    if !reply.is_ok() {
        return Err(http_error(
            &reply,
            &format!("POST {}", crate::client::redact(&endpoint)),
        ));
    }
    if raw {
        out.write_all(&reply.body)?;
    }
    let frames: Vec<Located<Frame>> = SliceDecoder::new(proto, LengthMode::Mercurial, &body)
        .map_while(|r| r.ok())
        .map(|l| Located {
            offset: l.offset,
            header: l.header,
            frame: l.frame.to_owned(),
        })
        .collect();
    let parsed = parse_reflect_body(proto, &frames, &reply.body);
    if !raw {
        if json_out {
            write_remote_json(out, proto, &parsed)?;
        } else {
            write_remote_pretty(out, proto, &parsed, global.verbose > 0)?;
        }
    }
    if compare {
        let local = reflect_bytes(proto, &body);
        return match local {
            Ok(l) if l == reply.body => {
                writeln!(
                    err,
                    "{} the local reactor predicts this body exactly ({} bytes)",
                    "✓".green().bold(),
                    l.len()
                )?;
                Ok(0)
            }
            Ok(l) => {
                writeln!(
                    err,
                    "{} the local reactor and the server differ:",
                    "✗".red().bold()
                )?;
                write_diff(err, &l, &reply.body)?;
                Ok(1)
            }
            Err(e) => {
                writeln!(
                    err,
                    "{} the server answered 200 but the local reactor predicts: {e}",
                    "✗".red().bold()
                )?;
                Ok(1)
            }
        };
    }
    Ok(0)
}

/// A line diff of two bodies (`-` local, `+` server).
pub fn write_diff(w: &mut dyn Write, local: &[u8], server: &[u8]) -> io::Result<()> {
    let a: Vec<&[u8]> = local.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = server.split(|&b| b == b'\n').collect();
    // LCS table (bodies are small: one line per frame).
    let (n, m) = (a.len(), b.len());
    if n * m > 4_000_000 {
        writeln!(w, "  (bodies too large to diff: {n} and {m} lines)")?;
        return Ok(());
    }
    let mut t = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            writeln!(w, "   {}", escape_bytes(a[i]).dimmed())?;
            i += 1;
            j += 1;
        } else if j < m && (i == n || t[i][j + 1] >= t[i + 1][j]) {
            writeln!(w, "{}", format!(" + {}", escape_bytes(b[j])).green())?;
            j += 1;
        } else {
            writeln!(w, "{}", format!(" - {}", escape_bytes(a[i])).red())?;
            i += 1;
        }
    }
    writeln!(w, "  (- local reactor, + server)")
}

/// The readable view of a server's debugreflect body (as `reflect --local`).
pub fn write_remote_pretty(
    w: &mut dyn Write,
    proto: Proto,
    r: &RemoteReflect,
    verbose: bool,
) -> io::Result<()> {
    for st in &r.steps {
        match &st.action {
            Ok(a) => {
                let step = Step::Frame {
                    frame: st.frame.clone(),
                    outcome: Ok(a.clone()),
                    sent: None,
                };
                render::write_step_pretty(w, proto, &step, verbose)?;
            }
            Err(e) => {
                writeln!(
                    w,
                    "{} {}",
                    format!("@{}", st.frame.offset).dimmed(),
                    frame_line(proto, &st.frame.frame, verbose)
                )?;
                writeln!(w, "  {} {e}", "?".yellow())?;
            }
        }
    }
    match &r.eof {
        Some(Ok(a)) => render::write_step_pretty(
            w,
            proto,
            &Step::Eof {
                outcome: Ok(a.clone()),
                sent: None,
            },
            verbose,
        )?,
        Some(Err(e)) => writeln!(w, "{} {e}", "?".yellow())?,
        None => {}
    }
    for p in &r.problems {
        writeln!(w, "{} {p}", "warning:".yellow().bold())?;
    }
    Ok(())
}

fn write_remote_json(w: &mut dyn Write, proto: Proto, r: &RemoteReflect) -> io::Result<()> {
    for st in &r.steps {
        let v = match &st.action {
            Ok(a) => render::step_json(
                proto,
                &Step::Frame {
                    frame: st.frame.clone(),
                    outcome: Ok(a.clone()),
                    sent: None,
                },
            ),
            Err(e) => json!({"event": "frame", "offset": st.frame.offset,
                "frame": render::frame_json(proto, st.frame.offset, &st.frame.frame, &[]), "parse_error": e}),
        };
        writeln!(w, "{v}")?;
    }
    match &r.eof {
        Some(Ok(a)) => writeln!(
            w,
            "{}",
            render::step_json(
                proto,
                &Step::Eof {
                    outcome: Ok(a.clone()),
                    sent: None
                }
            )
        )?,
        Some(Err(e)) => writeln!(w, "{}", json!({"event": "eof", "parse_error": e}))?,
        None => {}
    }
    for p in &r.problems {
        writeln!(w, "{}", json!({"event": "problem", "message": p}))?;
    }
    Ok(())
}

/// Parse one argument value of `send`.
pub fn parse_arg_value(name: &str, v: &str) -> Result<Value> {
    let bad = |why: String| CmdError::Usage(format!("error: argument {name}={v:?}: {why}"));
    if let Some(lit) = v.strip_prefix("cbor:") {
        let val = crate::python::literal::parse_literal(lit)
            .map_err(|e| bad(format!("bad literal at {}: {}", e.pos, e.message)))?;
        crate::python::cbor::encode(&val).map_err(|e| bad(e.to_string()))?;
        return Ok(val);
    }
    if let Some(h) = v.strip_prefix("hex:") {
        return unhex(h).map(Value::Bytes).map_err(|e| bad(e.to_string()));
    }
    if let Some(list) = v.strip_prefix("hexlist:") {
        let mut items = Vec::new();
        for h in list.split(',').filter(|s| !s.is_empty()) {
            items.push(Value::Bytes(
                unhex(h).map_err(|e| bad(format!("{h}: {e}")))?,
            ));
        }
        return Ok(Value::List(items));
    }
    Ok(Value::bytes(v))
}

struct Cmd {
    name: String,
    args: Vec<(Value, Value)>,
}

fn parse_commands(words: &[String]) -> Result<Vec<Cmd>> {
    let mut cmds = Vec::new();
    for group in words.split(|w| w == "+") {
        let Some((name, rest)) = group.split_first() else {
            return Err(CmdError::Usage(
                "error: empty command around `+` (expected COMMAND [NAME=VALUE ...] + COMMAND ...)"
                    .into(),
            ));
        };
        if name.contains('=') {
            return Err(CmdError::Usage(format!(
                "error: {name:?} looks like an argument, but a command name was expected first"
            )));
        }
        let mut args = Vec::new();
        for a in rest {
            let Some((k, v)) = a.split_once('=') else {
                return Err(CmdError::Usage(format!(
                    "error: argument {a:?} of {name}: expected NAME=VALUE"
                )));
            };
            crate::python::value::dict_insert(&mut args, Value::bytes(k), parse_arg_value(k, v)?);
        }
        cmds.push(Cmd {
            name: name.clone(),
            args,
        });
    }
    Ok(cmds)
}

/// `send`.
pub fn send(
    global: &GlobalOpts,
    a: SendArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    if let Some(p) = global.proto {
        if p != Proto::P0006 {
            return Err(CmdError::Usage(format!(
                "error: send speaks protocol 0006 (Mercurial 4.8 to 6.0); --proto {p} servers have no real commands over frames"
            )));
        }
    }
    let proto = Proto::P0006;
    let cmds = parse_commands(&a.command)?;
    let data = match &a.data {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            let mut b = Vec::new();
            stdin.read_to_end(&mut b)?;
            Some(b)
        }
        Some(p) => Some(
            std::fs::read(p)
                .map_err(|e| CmdError::Usage(format!("error: cannot read {}: {e}", p.display())))?,
        ),
    };
    for e in &a.encodings {
        if !matches!(e.as_str(), "identity" | "zlib" | "zstd-8mb") {
            writeln!(err, "hgframe: warning: content encoding {e:?} is not one Mercurial knows (identity, zlib, zstd-8mb); sending it anyway")?;
        }
    }
    let mut stream = ClientStream::new(1);
    let mut frames = vec![settings_frame(
        &mut stream,
        &a.encodings
            .iter()
            .map(|e| e.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    )];
    for (i, c) in cmds.iter().enumerate() {
        let args = if c.args.is_empty() {
            None
        } else {
            Some(Value::Dict(c.args.clone()))
        };
        let d = if i == 0 { data.as_deref() } else { None };
        frames.extend(
            command_frames(
                &mut stream,
                1 + 2 * i as u16,
                c.name.as_bytes(),
                args,
                None,
                d,
            )
            .map_err(|e| CmdError::Usage(format!("error: {e}")))?,
        );
    }
    let mut body = Vec::new();
    for f in &frames {
        f.encode_into(proto, &mut body)
            .map_err(|e| CmdError::Usage(format!("error: {e}")))?;
    }
    let client = make_client(&a.remote, &a.url)?;
    let endpoint_cmd = if cmds.len() > 1 {
        "multirequest"
    } else {
        cmds[0].name.as_str()
    };
    let url = client.target.command_url(proto, a.rw, endpoint_cmd);
    if a.remote.dry_run {
        write_request(
            out,
            proto,
            &crate::client::redact(&url),
            &a.remote.headers,
            &body,
        )?;
        return Ok(0);
    }
    if a.remote.curl {
        write_curl(out, proto, &url, &a.remote.headers, &body)?;
        return Ok(0);
    }
    let reply = client.post_frames(&url, proto, body)?;
    if !reply.is_ok() {
        return Err(http_error(
            &reply,
            &format!("POST {}", crate::client::redact(&url)),
        ));
    }
    let ct = reply.header("content-type").unwrap_or("");
    if ct != proto.table().media_type {
        let text = String::from_utf8_lossy(&reply.body);
        return Err(CmdError::Http(format!(
            "error: the server answered with {} instead of frames: {}",
            if ct.is_empty() {
                "no content type".to_string()
            } else {
                ct.to_string()
            },
            text.trim_end()
        )));
    }
    let decoded = decode_response(&reply.body);
    if a.json {
        write_send_json(out, &decoded)?;
    } else {
        write_send_pretty(out, proto, &decoded, global.verbose > 0)?;
    }
    let failed =
        decoded.requests.iter().any(|r| r.status() != "ok") || !decoded.problems.is_empty();
    Ok(if failed { 4 } else { 0 })
}

/// Whether bytes look like a binary node id: 20 bytes that are not
/// printable text.
pub fn is_node(b: &[u8]) -> bool {
    b.len() == 20 && std::str::from_utf8(b).map_or(true, |s| s.chars().any(|c| c.is_control()))
}

/// Value display for responses: node ids as 40-digit hex.
pub fn node_aware(v: &Value) -> Value {
    match v {
        Value::Bytes(b) if is_node(b) => Value::Str(hex(b)),
        Value::List(x) => Value::List(x.iter().map(node_aware).collect()),
        Value::Tuple(x) => Value::Tuple(x.iter().map(node_aware).collect()),
        Value::Set(x) => Value::Set(x.iter().map(node_aware).collect()),
        Value::Dict(d) => Value::Dict(
            d.iter()
                .map(|(k, v)| (node_aware(k), node_aware(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::List(x) => format!("[{}]", x.iter().map(text_of).collect::<Vec<_>>().join(", ")),
        Value::Dict(d) => format!(
            "{{{}}}",
            d.iter()
                .map(|(k, v)| format!("{}: {}", text_of(k), text_of(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => render::value_text(other),
    }
}

fn write_send_pretty(
    w: &mut dyn Write,
    proto: Proto,
    d: &DecodedResponse,
    verbose: bool,
) -> io::Result<()> {
    for (l, dp) in d.frames.iter().zip(&d.decoded_payloads) {
        writeln!(
            w,
            "{} {}",
            format!("@{}", l.offset).dimmed(),
            frame_line(proto, &l.frame, verbose)
        )?;
        if let Some(p) = dp {
            if p != &l.frame.payload {
                writeln!(
                    w,
                    "    decoded {} bytes: {}",
                    p.len(),
                    escape_bytes(&p[..p.len().min(200)])
                )?;
            }
        }
    }
    for (sid, enc) in &d.encodings {
        writeln!(w, "stream {sid}: content encoding {}", enc.yellow())?;
    }
    for r in &d.requests {
        let status = r.status();
        let st = if status == "ok" {
            status.green().bold()
        } else {
            status.red().bold()
        };
        writeln!(w, "request {}: {st}", r.request_id)?;
        if let Some(Value::Dict(m)) = r.values.first() {
            for (k, v) in m {
                if k.as_bytes() != Some(b"status") {
                    writeln!(w, "  {}: {}", text_of(k), text_of(&node_aware(v)))?;
                }
            }
        }
        for o in r.objects() {
            writeln!(w, "  {}", text_of(&node_aware(o)))?;
        }
        for e in &r.errors {
            writeln!(w, "  {} {}", "error-response".red(), text_of(e))?;
        }
        for t in &r.text {
            writeln!(w, "  text-output {}", text_of(t))?;
        }
        for p in &r.problems {
            writeln!(w, "  {} {p}", "problem:".yellow())?;
        }
    }
    for p in &d.problems {
        writeln!(w, "{} {p}", "problem:".yellow().bold())?;
    }
    Ok(())
}

fn json_nodes(v: &Value) -> serde_json::Value {
    value_json(&node_aware(v))
}

fn write_send_json(w: &mut dyn Write, d: &DecodedResponse) -> io::Result<()> {
    let frames: Vec<serde_json::Value> = d
        .frames
        .iter()
        .map(|l| render::frame_json(Proto::P0006, l.offset, &l.frame, &[]))
        .collect();
    let requests: Vec<serde_json::Value> = d
        .requests
        .iter()
        .map(|r| {
            json!({
                "request_id": r.request_id,
                "status": r.status(),
                "status_map": r.values.first().map(json_nodes),
                "objects": r.objects().iter().map(json_nodes).collect::<Vec<_>>(),
                "errors": r.errors.iter().map(json_nodes).collect::<Vec<_>>(),
                "text": r.text.iter().map(json_nodes).collect::<Vec<_>>(),
                "complete": r.complete,
                "problems": r.problems,
            })
        })
        .collect();
    let encodings: Vec<serde_json::Value> = d
        .encodings
        .iter()
        .map(|(s, e)| json!({"stream_id": s, "encoding": e}))
        .collect();
    writeln!(
        w,
        "{}",
        json!({"frames": frames, "encodings": encodings, "requests": requests, "problems": d.problems})
    )
}

/// `doctor`.
pub fn doctor(a: DoctorArgs, out: &mut dyn Write) -> Result<u8> {
    let client = make_client(&a.remote, &a.url)?;
    let ok = |w: &mut dyn Write, m: String| writeln!(w, "{} {m}", "✓".green().bold());
    let bad = |w: &mut dyn Write, m: String, fix: &[&str]| -> io::Result<()> {
        writeln!(w, "{} {m}", "✗".red().bold())?;
        for f in fix {
            writeln!(w, "    fix: {f}")?;
        }
        Ok(())
    };
    let url = client.target.display();
    // 1. reachable
    let root = match client.get("") {
        Ok(r) => r,
        Err(e) => {
            bad(out, format!("{url} is not reachable: {e}"), &["start the server: hg serve -a 127.0.0.1 -p PORT ... (see `hgframe doctor --help`)"])?;
            return Ok(3);
        }
    };
    ok(
        out,
        format!("{url} answers (HTTP {} on GET /)", root.status),
    )?;
    // 2. /api/
    let listing = client.get("api/")?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    if listing.status != 200 || !text.starts_with("APIs can be accessed") {
        bad(
            out,
            format!("GET /api/ gives HTTP {} and no API listing: the server runs without experimental.web.apiserver", listing.status),
            &["--config experimental.web.apiserver=true", "or in the repository's .hg/hgrc:  [experimental]  web.apiserver = true"],
        )?;
        return Ok(4);
    }
    let apis: Vec<&str> = text
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    ok(out, format!("/api/ lists: {}", apis.join(", ")))?;
    // 3. http-v2
    let api = if apis.contains(&"exp-http-v2-0003") {
        "exp-http-v2-0003"
    } else if apis.contains(&"exp-http-v2-0001") {
        "exp-http-v2-0001"
    } else {
        bad(
            out,
            "the HTTP version 2 API (exp-http-v2-*) is not enabled".into(),
            &[
                "--config experimental.web.api.http-v2=true",
                "or in .hg/hgrc:  [experimental]  web.api.http-v2 = true",
            ],
        )?;
        return Ok(4);
    };
    ok(out, format!("HTTP version 2 API {api} is enabled"))?;
    // 4. revision
    let (proto, why) = match detect_proto(&client) {
        Ok(p) => p,
        Err(e) => {
            bad(out, format!("cannot tell the protocol revision: {e}"), &[])?;
            return Ok(4);
        }
    };
    ok(
        out,
        format!(
            "protocol revision {proto} ({}; {why})",
            proto.table().media_type
        ),
    )?;
    // 5. debugreflect on ro/
    let ro = client.target.command_url(proto, false, "debugreflect");
    let r = client.post_frames(&ro, proto, Vec::new())?;
    let reflect_ok = match r.status {
        200 => {
            ok(out, "debugreflect is enabled (ro/ answers 200)".into())?;
            true
        }
        404 if String::from_utf8_lossy(&r.body).contains("debugreflect service not available") => {
            bad(
                out,
                "debugreflect is disabled (404 debugreflect service not available)".into(),
                &[
                    "--config experimental.web.api.debugreflect=true",
                    "or in .hg/hgrc:  [experimental]  web.api.debugreflect = true",
                ],
            )?;
            false
        }
        401 | 403 => {
            bad(
                out,
                format!("ro/ is refused (HTTP {} {}): no pull permission", r.status, r.reason),
                &["check web.allow-read / web.deny-read, or give credentials: http://USER:PASS@host/"],
            )?;
            false
        }
        s => {
            bad(
                out,
                format!(
                    "ro/debugreflect answers HTTP {s}: {}",
                    String::from_utf8_lossy(&r.body).trim()
                ),
                &[],
            )?;
            false
        }
    };
    // 6. rw/
    let rw = client.target.command_url(proto, true, "debugreflect");
    let r = client.post_frames(&rw, proto, Vec::new())?;
    match r.status {
        200 => ok(out, "rw/ is allowed (push permission)".into())?,
        404 if !reflect_ok => writeln!(
            out,
            "{} rw/ not checked (debugreflect is disabled)",
            "-".dimmed()
        )?,
        401 | 403 => bad(
            out,
            format!(
                "rw/ is refused (HTTP {} {}): no push permission (only needed for rw/ commands)",
                r.status, r.reason
            ),
            &[
                "--config web.allow-push=* --config web.push_ssl=false (plain HTTP)",
                "or in .hg/hgrc:  [web]  allow-push = *  push_ssl = false",
            ],
        )?,
        s => bad(out, format!("rw/debugreflect answers HTTP {s}"), &[])?,
    }
    if !reflect_ok {
        return Ok(4);
    }
    // 7. a test frame reflected as the local reactor predicts
    let line = proto.table().sample_request;
    let frame = crate::human::parse_human(proto, line)
        .map_err(|e| CmdError::Usage(e.render()))?
        .frame;
    let body = frame
        .encode(proto)
        .map_err(|e| CmdError::Usage(e.to_string()))?;
    let r = client.post_frames(&ro, proto, body.clone())?;
    let local = reflect_bytes(proto, &body);
    match (r.status, local) {
        (200, Ok(l)) if l == r.body => {
            ok(out, format!("a test frame ({line}) is reflected exactly as hgframe's local reactor predicts"))?;
            Ok(0)
        }
        (200, Ok(l)) => {
            bad(
                out,
                "a test frame is reflected differently from the local reactor's prediction:".into(),
                &[],
            )?;
            write_diff(out, &l, &r.body)?;
            Ok(1)
        }
        (s, _) => {
            bad(
                out,
                format!(
                    "the test frame got HTTP {s}: {}",
                    String::from_utf8_lossy(&r.body).trim()
                ),
                &[],
            )?;
            Ok(4)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_commands_parse() {
        let c = parse_commands(&[
            "heads".into(),
            "+".into(),
            "known".into(),
            "nodes=hexlist:00,ff".into(),
        ])
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[1].args[0].1,
            Value::List(vec![Value::bytes(vec![0]), Value::bytes(vec![0xff])])
        );
        assert!(parse_commands(&["a=b".into()]).is_err());
        assert!(parse_commands(&["heads".into(), "x".into()]).is_err());
        assert_eq!(
            parse_arg_value("n", "cbor:[1]").unwrap(),
            Value::List(vec![Value::Int(1)])
        );
    }
}
