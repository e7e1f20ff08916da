#!/usr/bin/env python3
"""A small recording HTTP/1.1 proxy (Python 3 stdlib only).

    python3 tests/support/recproxy.py --upstream http://127.0.0.1:8000 --dir OUT
    -> prints the port it listens on (127.0.0.1, an ephemeral port unless
       --port is given) as the first line of stdout, then serves until SIGTERM
       or SIGINT.

Point a client at http://127.0.0.1:PORT/ (origin-form request targets) or
use the proxy as an HTTP proxy (absolute-form targets such as
http://upstream/path are rewritten to origin-form, nothing else changes).
Every request is forwarded to the upstream byte for byte (request line,
headers — Host included — and body, chunked or not), and the upstream's
response is relayed to the client byte for byte as it arrives (chunk by
chunk for chunked responses, so streaming and keep-alive behave as without
the proxy). One upstream connection is used per client connection; when
either side closes or says "Connection: close", both are closed.

Each exchange is written to --dir once its response is complete:

    NNN.json       the exchange's metadata (below)
    NNN.req.bin    the request body as sent (de-chunked if it was chunked)
    NNN.resp.bin   the response body (de-chunked if it was chunked)

NNN counts requests from 001 in the order the proxy read their request
line (zero-padded to 3 digits, wider past 999). NNN.json:

    {"seq": 1, "connection": 1,          # client connection number, from 1
     "method": "GET", "target": "/?cmd=capabilities",  # as the client sent it
     "path": "/", "query": "cmd=capabilities",
     "http_version": "HTTP/1.1",
     "request_headers": [["Host", "127.0.0.1:1234"], ...],  # order, case kept
     "request_body": {"file": "001.req.bin", "size": 0, "chunked": false},
     "status": 200, "reason": "Script output follows",
     "response_http_version": "HTTP/1.1",
     "interim_responses": [],            # 1xx responses, if any
     "response_headers": [["Server", "..."], ...],
     "response_body": {"file": "001.resp.bin", "size": 123, "chunked": true,
                       "chunk_sizes": [10, 20, ...]},  # null if not chunked
     "upstream_closed": false,           # body delimited by connection close
     "started": 1700000000.123,          # time.time() at the request line
     "duration_ms": 12.3}                # request line -> end of response

Header values are decoded as latin-1. A request the upstream never answers
(connection reset) is written with "status": null and "error": "...".

SIGTERM/SIGINT: stop accepting, wait up to 5 s for exchanges in flight,
close idle connections, exit 0. Files of finished exchanges are always
complete (written to a temporary name, then renamed).
"""

import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse

MAXHEAD = 1 << 20
QUICKACK = getattr(socket, 'TCP_QUICKACK', None)  # Linux only


class Closed(Exception):
    """The peer closed the connection cleanly before a new message."""


class Reader(object):
    """Buffered reads from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.eof = False

    def _fill(self):
        if QUICKACK is not None:  # ACK at once: the sender may be Nagling
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            except OSError:
                pass
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readhead(self):
        """Bytes up to and including the blank line after the headers;
        raises Closed if the peer closed before sending anything."""
        while True:
            i = self.buf.find(b'\r\n\r\n')
            if i >= 0:
                head, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                return head
            if len(self.buf) > MAXHEAD:
                raise IOError('header too large')
            if not self._fill():
                if not self.buf:
                    raise Closed()
                raise IOError('connection closed inside a header')

    def readline(self):
        while True:
            i = self.buf.find(b'\r\n')
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            if not self._fill():
                raise IOError('connection closed inside a chunk header')

    def readexact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise IOError('connection closed after %d of %d bytes'
                              % (len(self.buf), n))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def readsome(self):
        """Whatever is buffered or arrives next; b'' at EOF."""
        if self.buf:
            data, self.buf = self.buf, b''
            return data
        if self._fill():
            data, self.buf = self.buf, b''
            return data
        return b''


def parsehead(head):
    lines = head[:-4].split(b'\r\n')
    first = lines[0].decode('latin-1')
    headers = []
    for line in lines[1:]:
        if line[:1] in (b' ', b'\t') and headers:  # obsolete folding
            k, v = headers[-1]
            headers[-1] = (k, v + ' ' + line.strip().decode('latin-1'))
            continue
        k, _, v = line.partition(b':')
        headers.append((k.decode('latin-1'), v.strip().decode('latin-1')))
    return first, headers


def header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def tokens(value):
    return [t.strip().lower() for t in (value or '').split(',') if t.strip()]


def relaybody(reader, headers, out, bodyless=False, untileof=False):
    """Read a message body from ``reader`` per ``headers``, writing the raw
    bytes to ``out`` (a callable) as they come. Returns (body, chunk_sizes or
    None, closed) with the body de-chunked."""
    if bodyless:
        return b'', None, False
    if 'chunked' in tokens(header(headers, 'Transfer-Encoding')):
        body = []
        sizes = []
        while True:
            line = reader.readline()
            size = int(line.split(b';', 1)[0].strip(), 16)
            if size == 0:
                raw = line
                # trailers, then the final CRLF
                while True:
                    t = reader.readline()
                    raw += t
                    if t == b'\r\n':
                        break
                out(raw)
                break
            data = reader.readexact(size + 2)
            out(line + data)
            body.append(data[:-2])
            sizes.append(size)
        return b''.join(body), sizes, False
    length = header(headers, 'Content-Length')
    if length is not None:
        n = int(length)
        got = []
        while n:
            data = reader.readsome()
            if not data:
                raise IOError('connection closed inside a body')
            if len(data) > n:  # pipelined data belongs to the next message
                reader.buf = data[n:] + reader.buf
                data = data[:n]
            out(data)
            got.append(data)
            n -= len(data)
        return b''.join(got), None, False
    if not untileof:
        return b'', None, False
    got = []
    while True:
        data = reader.readsome()
        if not data:
            break
        out(data)
        got.append(data)
    return b''.join(got), None, True


class Proxy(object):
    def __init__(self, upstream, outdir, port=0):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != 'http':
            raise SystemExit('only http:// upstreams are supported')
        self.uphost = u.hostname
        self.upport = u.port or 80
        self.prefix = u.path.rstrip('/')
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        self.lock = threading.Lock()
        self.seq = 0
        self.conns = 0
        self.inflight = 0
        self.stopping = threading.Event()
        self.sockets = set()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', port))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]

    def serve(self):
        threads = []
        while not self.stopping.is_set():
            r, _, _ = select.select([self.listener], [], [], 0.2)
            if not r:
                continue
            try:
                sock, _ = self.listener.accept()
            except OSError:
                continue
            with self.lock:
                self.conns += 1
                cid = self.conns
            t = threading.Thread(target=self.handle, args=(sock, cid),
                                 daemon=True)
            t.start()
            threads.append(t)
        self.listener.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            with self.lock:
                if not self.inflight:
                    break
            time.sleep(0.02)
        with self.lock:
            socks = list(self.sockets)
        for s in socks:  # idle keep-alive connections
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join(1)

    def _track(self, s, add):
        with self.lock:
            (self.sockets.add if add else self.sockets.discard)(s)

    def handle(self, client, cid):
        # Relaying head and body as separate small writes would otherwise
        # wait for delayed ACKs (Nagle): ~40 ms per hop and exchange.
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._track(client, True)
        upstream = None
        creader = Reader(client)
        ureader = None
        try:
            while not self.stopping.is_set():
                try:
                    head = creader.readhead()
                except (Closed, OSError):
                    break
                with self.lock:
                    self.seq += 1
                    seq = self.seq
                    self.inflight += 1
                try:
                    if upstream is None:
                        upstream = socket.create_connection(
                            (self.uphost, self.upport))
                        upstream.setsockopt(socket.IPPROTO_TCP,
                                            socket.TCP_NODELAY, 1)
                        self._track(upstream, True)
                        ureader = Reader(upstream)
                    keep = self.exchange(seq, cid, head, creader, client,
                                         ureader, upstream)
                finally:
                    with self.lock:
                        self.inflight -= 1
                if not keep:
                    break
        finally:
            for s in (client, upstream):
                if s is not None:
                    self._track(s, False)
                    try:
                        s.close()
                    except OSError:
                        pass

    def exchange(self, seq, cid, head, creader, client, ureader, upstream):
        started = time.time()
        t0 = time.monotonic()
        first, reqheaders = parsehead(head)
        method, target, version = (first.split(' ', 2) + ['', ''])[:3]
        if not target.startswith('/'):  # absolute-form: keep path + query
            u = urllib.parse.urlsplit(target)
            newtarget = (u.path or '/') + ('?' + u.query if u.query else '')
            head = head.replace(target.encode('latin-1'),
                                newtarget.encode('latin-1'), 1)
            target = newtarget
        if self.prefix:
            head = head.replace(b' ' + target.encode('latin-1'),
                                b' ' + (self.prefix + target).encode('latin-1'),
                                1)
        path, _, query = target.partition('?')
        rec = {
            'seq': seq,
            'connection': cid,
            'method': method,
            'target': target,
            'path': path,
            'query': query,
            'http_version': version,
            'request_headers': [list(h) for h in reqheaders],
        }
        name = '%03d' % seq

        upstream.sendall(head)
        reqbody, reqchunks, _ = relaybody(creader, reqheaders,
                                          upstream.sendall)
        rec['request_body'] = {
            'file': name + '.req.bin',
            'size': len(reqbody),
            'chunked': reqchunks is not None,
        }
        interim = []
        try:
            while True:
                rhead = ureader.readhead()
                status_line, respheaders = parsehead(rhead)
                client.sendall(rhead)
                parts = status_line.split(' ', 2) + ['', '']
                status = int(parts[1])
                if 100 <= status < 200 and status != 101:
                    interim.append({'status': status, 'reason': parts[2],
                                    'headers': [list(h) for h in respheaders]})
                    continue
                break
            bodyless = (method == 'HEAD' or status in (204, 304)
                        or 100 <= status < 200)
            respbody, chunks, closed = relaybody(
                ureader, respheaders, client.sendall, bodyless=bodyless,
                untileof=True)
        except (Closed, IOError, OSError, ValueError) as e:
            if isinstance(e, Closed):
                msg = 'upstream closed the connection without answering'
            else:
                msg = '%s: %s' % (type(e).__name__, e)
            rec.update({
                'status': None,
                'error': msg,
                'response_body': None,
                'started': round(started, 3),
                'duration_ms': round((time.monotonic() - t0) * 1000, 1),
            })
            self.write(name, rec, reqbody, b'')
            return False
        rec.update({
            'status': status,
            'reason': parts[2],
            'response_http_version': parts[0],
            'interim_responses': interim,
            'response_headers': [list(h) for h in respheaders],
            'response_body': {
                'file': name + '.resp.bin',
                'size': len(respbody),
                'chunked': chunks is not None,
                'chunk_sizes': chunks,
            },
            'upstream_closed': closed,
            'started': round(started, 3),
            'duration_ms': round((time.monotonic() - t0) * 1000, 1),
        })
        self.write(name, rec, reqbody, respbody)
        keep = not closed
        if 'close' in tokens(header(reqheaders, 'Connection')):
            keep = False
        if 'close' in tokens(header(respheaders, 'Connection')):
            keep = False
        if parts[0] == 'HTTP/1.0' and 'keep-alive' not in tokens(
                header(respheaders, 'Connection')):
            keep = False
        return keep

    def write(self, name, rec, reqbody, respbody):
        for suffix, data in (('.req.bin', reqbody), ('.resp.bin', respbody),
                             ('.json', (json.dumps(rec, indent=1) + '\n')
                              .encode('ascii'))):
            path = os.path.join(self.outdir, name + suffix)
            with open(path + '.tmp', 'wb') as fh:
                fh.write(data)
            os.replace(path + '.tmp', path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--upstream', required=True,
                    help='http://HOST:PORT[/PREFIX] to forward to')
    ap.add_argument('--dir', required=True, help='where to write exchanges')
    ap.add_argument('--port', type=int, default=0,
                    help='port on 127.0.0.1 (default: any free one)')
    opts = ap.parse_args()
    proxy = Proxy(opts.upstream, opts.dir, opts.port)

    def stop(signum, frame):
        proxy.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write('%d\n' % proxy.port)
    sys.stdout.flush()
    proxy.serve()
    return 0


if __name__ == '__main__':
    sys.exit(main())
