#!/usr/bin/env python3
"""End-to-end benchmarks of hgframe against Mercurial 6.0, side by side.

Driven by scripts/bench-e2e.sh (which builds the release binary, finds the
Mercurial 6.0 venv and documents the knobs); run that, not this file.

    bench-e2e.py drive ...            the benchmark driver (see bench-e2e.sh)
    bench-e2e.py hg-readframe FILE    Mercurial's bare readframe loop
    bench-e2e.py hg-reflect FILE N    Mercurial's debugreflect work on N frames
    bench-e2e.py hg-human FILE N      makeframefromhumanstring on N lines
    bench-e2e.py hg-replay FILE N     the reactor work of `replay` on N requests

The hg-* modes run under the Python of the Mercurial 6.0 venv and print one
JSON object on stderr's last line: the time of the timed loop itself
(`loop_s`, interpreter start and imports excluded) and what was processed.
Their code below is the Mercurial side of each comparison, to read.
"""

import io
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

# ---------------------------------------------------------------- Mercurial side


def _hg_report(**kw):
    sys.stderr.write(json.dumps(kw) + '\n')
    sys.stderr.flush()


def hg_readframe(path):
    """The bare readframe loop over the file: parses every frame, renders
    nothing (what a server does before its reactor)."""
    from mercurial import wireprotoframing as framing

    rf = framing.readframe
    t0 = time.perf_counter()
    n = 0
    with open(path, 'rb') as fh:
        while rf(fh) is not None:
            n += 1
    dt = time.perf_counter() - t0
    _hg_report(loop_s=dt, frames=n, in_bytes=os.path.getsize(path))


def hg_reflect(path, limit):
    """What Mercurial 6.0's debugreflect endpoint does with a request body
    (wireprotov2server._processhttpv2reflectrequest, line for line), on the
    first `limit` frames of the file; the body goes to stdout."""
    from mercurial import templatefilters, ui as uimod, wireprotoframing as framing

    ui = uimod.ui()
    t0 = time.perf_counter()
    reactor = framing.serverreactor(ui)
    states = []
    n = errors = 0
    with open(path, 'rb') as fh:
        while True:
            frame = framing.readframe(fh) if n < limit else None
            if not frame:
                states.append(b'received: <no frame>')
                break
            n += 1
            states.append(
                b'received: %d %d %d %s'
                % (frame.typeid, frame.flags, frame.requestid, frame.payload)
            )
            action, meta = reactor.onframerecv(frame)
            if action == b'error':
                errors += 1
            states.append(templatefilters.json((action, meta)))
    action, meta = reactor.oninputeof()
    meta[b'action'] = action
    states.append(templatefilters.json(meta))
    body = b'\n'.join(states)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    dt = time.perf_counter() - t0
    _hg_report(loop_s=dt, frames=n, errors=errors, out_bytes=len(body))


def hg_human(path, limit):
    """makeframefromhumanstring on the first `limit` lines, each frame
    written as a hex line to stdout (as `hgframe encode` does)."""
    from mercurial import wireprotoframing as framing

    mk = framing.makeframefromhumanstring
    out = sys.stdout
    t0 = time.perf_counter()
    n = 0
    with open(path, 'rb') as fh:
        for line in fh:
            if n >= limit:
                break
            out.write(mk(line.rstrip(b'\n')).hex())
            out.write('\n')
            n += 1
    out.flush()
    dt = time.perf_counter() - t0
    _hg_report(loop_s=dt, lines=n)


def hg_replay(path, limit):
    """The work of `hgframe replay` on a transcript, done with Mercurial's
    code: each `> frame` line through makeframefromhumanstring, readframe and
    a serverreactor (a fresh one per request, as per HTTP request), the
    action rendered as debugreflect renders it and compared with the `<`
    lines; `eof` ends a request. The first `limit` requests."""
    from mercurial import templatefilters, ui as uimod, wireprotoframing as framing

    ui = uimod.ui()
    mk = framing.makeframefromhumanstring
    rf = framing.readframe
    js = templatefilters.json
    t0 = time.perf_counter()
    reactor = None
    pending = []
    reqs = frames = mismatches = 0
    with open(path, 'rb') as fh:
        for line in fh:
            line = line.rstrip(b'\n')
            if line.startswith(b'> '):
                if reactor is None:
                    reactor = framing.serverreactor(ui)
                frame = rf(io.BytesIO(mk(line[2:])))
                action, meta = reactor.onframerecv(frame)
                pending.append(js((action, meta)))
                frames += 1
            elif line.startswith(b'< '):
                if not pending or pending.pop(0) != line[2:]:
                    mismatches += 1
            elif line == b'eof':
                action, meta = reactor.oninputeof()
                meta[b'action'] = action
                pending.append(js(meta))
                reactor = None
                reqs += 1
                if reqs >= limit:
                    # the expected line of this last eof
                    nxt = fh.readline().rstrip(b'\n')
                    if nxt.startswith(b'< ') and pending and pending.pop(0) != nxt[2:]:
                        mismatches += 1
                    break
    dt = time.perf_counter() - t0
    _hg_report(loop_s=dt, requests=reqs, frames=frames, mismatches=mismatches)


# ---------------------------------------------------------------- inputs


def node(i):
    """20 bytes of a node id, varying with i, as \\xNN escapes."""
    import hashlib

    return ''.join('\\x%02x' % b for b in hashlib.sha1(str(i).encode()).digest())


def gen_decode_lines(n):
    """n small 0006 frames: command requests (with and without arguments)
    and command responses, CBOR payloads with binary node ids."""
    for i in range(n):
        g, k = divmod(i, 4)
        rid = (2 * g + 1) % 65536
        if k == 0:
            sf = 'stream-begin' if i == 0 else '0'
            yield f"{rid} 1 {sf} command-request new cbor:{{b'name': b'heads'}}"
        elif k == 1:
            yield (f"{rid} 1 0 command-request new cbor:{{b'name': b'known', "
                   f"b'args': {{b'nodes': [b'{node(g)}']}}}}")
        elif k == 2:
            sf = 'stream-begin' if i == 2 else 'encoded'
            yield f"{rid} 2 {sf} command-response continuation cbor:{{b'status': b'ok'}}"
        else:
            yield f"{rid} 2 encoded command-response eos cbor:[b'{node(g + 1)}']"


def gen_reflect_lines(n):
    """n frames of requests a server reactor accepts without error: each
    request is 4 frames (a command request with arguments and have-data,
    two command-data continuations, command-data eos), request ids 1, 2,
    3, ... (at most 65535 requests: debugreflect never completes a command,
    so an id cannot be reused)."""
    assert n % 4 == 0 and n // 4 < 65536, n
    for i in range(n):
        g, k = divmod(i, 4)
        rid = g + 1
        if k == 0:
            sf = 'stream-begin' if i == 0 else '0'
            yield (f"{rid} 1 {sf} command-request new|have-data cbor:{{b'name': b'known', "
                   f"b'args': {{b'nodes': [b'{node(g)}']}}}}")
        elif k == 1:
            yield f"{rid} 1 0 command-data continuation 0123456789"
        elif k == 2:
            yield f"{rid} 1 0 command-data continuation \\x00\\x01\\x02\\xff"
        else:
            yield f"{rid} 1 0 command-data eos abcdef"


MIXED = [
    "{r} 1 stream-begin command-request new cbor:{{b'name': b'heads'}}",
    "{r} 1 0 command-request new|have-data cbor:{{b'name': b'known', b'args': {{b'nodes': [b'{n}']}}}}",
    "{r} 1 0 command-data continuation \\x00\\x01\\x02\\xfffoo bar\\nbaz\\\\qux\\t\\x7f",
    "{r} 1 0 command-data eos 0123456789abcdef",
    "{r} 2 stream-begin stream-settings eos cbor:b'identity'",
    "{r} 2 encoded command-response continuation cbor:{{b'status': b'ok'}}",
    "{r} 2 0 text-output 0 cbor:[{{b'msg': b'hello %s', b'args': [b'world']}}]",
    "{r} 2 stream-end error-response 0 cbor:{{b'type': b'server', b'message': [{{b'msg': b'oops'}}]}}",
    "{r} 1 1 1 1 plain text payload {r}",
    "{r} 1 0 command-request new cbor:{{b'name': b'lookup', b'args': {{b'key': b'tip'}}}}",
]


def gen_mixed_lines(n):
    nodes = [node(i) for i in range(64)]
    for i in range(n):
        yield MIXED[i % len(MIXED)].format(r=(2 * i + 1) % 65536, n=nodes[i % 64])


def gen_cbor_lines(n):
    """command requests with arguments (one or two 20-byte nodes)."""
    nodes = [node(i) for i in range(64)]
    for i in range(n):
        sf = 'stream-begin' if i % 2 == 0 else '0'
        ns = ', '.join(f"b'{nodes[(i + j) % 64]}'" for j in range(1 + i % 2))
        yield (f"{(2 * i + 1) % 65536} 1 {sf} command-request new cbor:{{b'name': b'known', "
               f"b'args': {{b'nodes': [{ns}]}}}}")


def gen_replay_lines(nreq):
    """A transcript of nreq requests of 3 frames each (command request with
    arguments and have-data, two command-data frames); `replay --update`
    fills in the expected lines."""
    yield 'proto 0006'
    for g in range(nreq):
        yield (f"> 1 1 stream-begin command-request new|have-data cbor:{{b'name': b'known', "
               f"b'args': {{b'nodes': [b'{node(g)}']}}}}")
        yield "> 1 1 0 command-data continuation 0123456789"
        yield "> 1 1 0 command-data eos \\x00\\x01abc"
        yield 'eof'


def write_lines(path, lines):
    with open(path, 'w') as f:
        for line in lines:
            f.write(line)
            f.write('\n')


# ---------------------------------------------------------------- measuring


class Failed(Exception):
    pass


def run(cmd, stdin=None, stdout=None, timeout=600, env=None):
    """Runs cmd; returns (wall seconds, peak RSS KiB, stderr text). Peak RSS
    is what /usr/bin/time -f %M prints (ru_maxrss, KiB)."""
    fin = open(stdin, 'rb') if stdin else subprocess.DEVNULL
    fout = open(stdout, 'wb') if stdout else subprocess.DEVNULL
    ferr = open(os.path.join(WORK, '.stderr'), 'w+b')
    rssfile = os.path.join(WORK, '.rss')
    try:
        t0 = time.perf_counter()
        # Through /usr/bin/time: ru_maxrss of a child forked from this
        # Python would count the Python copy it starts as (~20 MiB).
        p = subprocess.Popen([TIME, '-f', '%M', '-o', rssfile] + list(cmd),
                             stdin=fin, stdout=fout, stderr=ferr, env=env)
        # A blocking wait, with a timer to kill a run that hangs: wait()
        # with a timeout polls with sleeps of up to 50 ms, and the times
        # came out as 64.5 or 114.7 ms and nothing between (runs before
        # 2026-12-01 00:55 are quantised that way).
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        try:
            p.wait()
        finally:
            killer.cancel()
        wall = time.perf_counter() - t0
        if p.returncode == -signal.SIGKILL and wall >= timeout:
            raise Failed('killed after %d s: %s' % (timeout, short(cmd)))
        ferr.seek(0)
        err = ferr.read().decode('utf-8', 'replace')
    finally:
        for f in (fin, fout, ferr):
            if hasattr(f, 'close'):
                f.close()
    if p.returncode != 0:
        raise Failed('exit %s from %s: %s' % (p.returncode, short(cmd), err.strip()[-300:]))
    with open(rssfile) as f:
        rss = int(f.read().split()[-1])
    return wall, rss, err


def hg_run(args, stdout=None, timeout=600):
    wall, rss, err = run([PY, SELF] + args, stdout=stdout, timeout=timeout,
                         env=HGENV)
    rep = json.loads(err.strip().splitlines()[-1])
    return wall, rss, rep


def short(cmd):
    s = shlex.join(str(c) for c in cmd)
    return s.replace(WORK, '$WORK')


def sample(**kw):
    kw['load'] = os.getloadavg()[0]
    SAMPLES.write(json.dumps(kw) + '\n')
    SAMPLES.flush()


def med(xs):
    return statistics.median(xs)


# formatting
def mib(kib):
    return '%.1f MiB' % (kib / 1024)


def rate(x):
    for div, p in ((1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
        if x >= div:
            return '%.3g%s' % (x / div, p)
    return '%.3g' % x


def mbs(bytes_, secs):
    return '%.1f MB/s' % (bytes_ / secs / 1e6)


def secs(s):
    return '%.0f ms' % (s * 1e3) if s < 1 else '%.2f s' % s


def ratio(ours, theirs):
    """>1 means hgframe is better (faster, or smaller)."""
    if not ours or not theirs:
        return '-'
    r = ours / theirs
    return ('%.2f×' if r < 10 else '%.0f×') % r


# ---------------------------------------------------------------- rows


class Table:
    def __init__(self):
        self.rows = []
        self.cmds = []
        self.missing = []

    def add(self, row, what, ours, theirs, r='-'):
        self.rows.append((row, what, ours, theirs, r))
        print('  %s | %s | %s | %s | %s' % (row, what, ours, theirs, r), file=sys.stderr, flush=True)

    def miss(self, row, what, why):
        self.missing.append('%s: %s' % (row, why))
        self.add(row, what, 'MISSING: %s' % why, '', '')

    def cmd(self, row, c, note=''):
        self.cmds.append((row, c if isinstance(c, str) else short(c), note))


def log(*a):
    print('bench-e2e:', *a, file=sys.stderr, flush=True)


def row_start(t):
    row = 'start'
    frame = """1 1 stream-begin command-request new cbor:{b"name": b"heads"}"""
    ours = [BIN, 'encode', frame]
    pyfile = os.path.join(WORK, 'start.py')
    with open(pyfile, 'w') as f:
        f.write('import sys\n'
                'from mercurial import wireprotoframing\n'
                "sys.stdout.write(wireprotoframing.makeframefromhumanstring("
                "b'1 1 stream-begin command-request new cbor:{b\"name\": b\"heads\"}').hex() + '\\n')\n")
    theirs = [PY, pyfile]
    if not HYPERFINE:
        t.miss(row, 'cold start, encode one frame', 'hyperfine (apt-get install hyperfine)')
    else:
        cmds = [short(ours)] + ([short(theirs)] if PY_HG else [])
        out = os.path.join(WORK, 'hyperfine.json')
        hf = [HYPERFINE, '-N', '--style', 'none', '--warmup', '3', '--runs', str(RUNS),
              '--export-json', out] + [c.replace('$WORK', WORK) for c in cmds]
        run(hf, env=HGENV, timeout=300)
        res = json.load(open(out))['results']
        for side, r in zip(('hgframe', 'hg'), res):
            for i, x in enumerate(r['times']):
                sample(row=row, side=side, variant='encode-one', run=i, wall_s=x, cmd=r['command'])
        a = res[0]['median']
        b = res[1]['median'] if PY_HG else None
        t.add(row, 'cold start: encode one frame (median wall)', secs(a),
              secs(b) + ' (python3: import wireprotoframing, encode)' if b else 'MISSING: Mercurial 6.0',
              ratio(b, a) if b else '')
        if not b:
            t.missing.append('start: Mercurial 6.0 venv')
        for c in cmds:
            t.cmd(row, c, '(hyperfine -N --warmup 3 --runs %d, all commands in one hyperfine run)' % RUNS)
    # peak RSS
    for variant, cmd in (('--version', [BIN, '--version']), ('encode one frame', ours)):
        rss = [run(cmd)[1] for _ in range(RUNS)]
        for i, x in enumerate(rss):
            sample(row=row, side='hgframe', variant='rss ' + variant, run=i, rss_kib=x, cmd=short(cmd))
        hgr = None
        if variant != '--version' and PY_HG:
            hgr = [run(theirs, env=HGENV)[1] for _ in range(RUNS)]
            for i, x in enumerate(hgr):
                sample(row=row, side='hg', variant='rss ' + variant, run=i, rss_kib=x, cmd=short(theirs))
        t.add(row, 'peak RSS: `hgframe %s`' % variant.split()[0] if variant == '--version'
              else 'peak RSS: encode one frame', mib(med(rss)),
              mib(med(hgr)) if hgr else '-', ratio(med(hgr), med(rss)) if hgr else '-')
        t.cmd(row, '/usr/bin/time -f %M ' + short(cmd))


def ours_job(row, variant, cmd, stdin=None, extra=None):
    """One timed run of an hgframe command: (wall s, peak RSS KiB)."""
    def once(i):
        w, r, _ = run(cmd, stdin=stdin)
        sample(row=row, side='hgframe', variant=variant, run=i, wall_s=w, rss_kib=r,
               cmd=short(cmd) + (' < ' + stdin.replace(WORK, '$WORK') if stdin else ''),
               **(extra or {}))
        return w, r, None
    return once


def hg_job(row, variant, args):
    """One run of a Mercurial worker: (loop s, peak RSS KiB, its report)."""
    def once(i):
        w, r, rep = hg_run(args)
        sample(row=row, side='hg', variant=variant, run=i, wall_s=w, rss_kib=r,
               cmd=short([PY, SELF] + args), **rep)
        return rep['loop_s'], r, rep
    return once


def paired(jobs):
    """Runs every job RUNS times, round-robin: hgframe's and Mercurial's
    runs alternate, so a burst of load from elsewhere hits both sides.
    Returns {key: (median time, median RSS, first report)}."""
    res = {k: [] for k in jobs}
    for i in range(RUNS):
        for k, fn in jobs.items():
            res[k].append(fn(i))
    return {k: (med([x[0] for x in v]), med([x[1] for x in v]), v[0][2]) for k, v in res.items()}


def out_size(cmd, stdin=None):
    path = os.path.join(WORK, 'out.tmp')
    run(cmd, stdin=stdin, stdout=path)
    n = os.path.getsize(path)
    os.unlink(path)
    return n


def row_decode(t):
    row = 'decode'
    n = SIZES['decode']
    lines = os.path.join(WORK, 'decode.txt')
    cap = os.path.join(WORK, 'decode.bin')
    write_lines(lines, gen_decode_lines(n))
    run([BIN, 'encode', '-f', 'raw'], stdin=lines, stdout=cap)
    os.unlink(lines)
    size = os.path.getsize(cap)
    t.cmd(row, short([BIN, 'encode', '-f', 'raw']) + ' < LINES > $WORK/decode.bin',
          '(input: %d frames, %d bytes; LINES from gen_decode_lines in bench-e2e.py)' % (n, size))
    variants = (('default (blocks)', []), ('--format human', ['--format', 'human']), ('--json', ['--json']))
    jobs, outb = {}, {}
    for variant, flags in variants:
        cmd = [BIN, 'decode'] + flags + [cap]
        outb[variant] = out_size(cmd)
        jobs[variant] = ours_job(row, variant, cmd, extra={'in_bytes': size, 'out_bytes': outb[variant]})
        t.cmd(row, short(cmd) + ' >/dev/null')
    if PY_HG:
        jobs['hg'] = hg_job(row, 'readframe', ['hg-readframe', cap])
        t.cmd(row, short([PY, SELF, 'hg-readframe', cap]), '(Mercurial: readframe loop, loop timed)')
    res = paired(jobs)
    hg = res.get('hg')
    if hg and hg[2]['frames'] != n:
        raise Failed('Mercurial read %d frames, expected %d' % (hg[2]['frames'], n))
    for variant, _ in variants:
        w, r, _ = res[variant]
        ob = outb[variant]
        ours = '%s in, %s out (%.0f MB), %s' % (mbs(size, w), mbs(ob, w), ob / 1e6, mib(r))
        theirs = ('%s in, renders nothing, %s' % (mbs(size, hg[0]), mib(hg[1]))) if hg else 'MISSING: Mercurial 6.0'
        t.add(row, 'decode %s: %d frames, %.1f MB: input MB/s, output MB/s, peak RSS' % (variant, n, size / 1e6),
              ours, theirs, ratio(hg[0], w) if hg else '')
    if not hg:
        t.missing.append('decode: Mercurial 6.0 venv')


def row_reflect(t):
    row = 'reflect'
    n = SIZES['reflect']
    nhg = min(n, SIZES['hg_reflect'])
    lines = os.path.join(WORK, 'reflect.txt')
    body = os.path.join(WORK, 'reflect.bin')
    write_lines(lines, gen_reflect_lines(n))
    run([BIN, 'encode', '-f', 'raw'], stdin=lines, stdout=body)
    os.unlink(lines)
    size = os.path.getsize(body)
    t.cmd(row, short([BIN, 'encode', '-f', 'raw']) + ' < LINES > $WORK/reflect.bin',
          '(input: %d frames, %d requests of 4 frames, %d bytes; LINES from gen_reflect_lines)' % (n, n // 4, size))
    variants = (('pretty', []), ('--format json', ['--format', 'json']), ('--format raw', ['--format', 'raw']))
    jobs, outb = {}, {}
    for variant, flags in variants:
        cmd = [BIN, 'reflect', '--bin', body] + flags
        outb[variant] = out_size(cmd)
        jobs[variant] = ours_job(row, variant, cmd, extra={'frames': n, 'out_bytes': outb[variant]})
        t.cmd(row, short(cmd) + ' >/dev/null')
    if PY_HG:
        args = ['hg-reflect', body, str(nhg)]
        jobs['hg'] = hg_job(row, 'debugreflect', args)
        t.cmd(row, short([PY, SELF] + args) + ' >/dev/null',
              "(Mercurial: its debugreflect code on the first %d frames, loop timed)" % nhg)
    res = paired(jobs)
    hg = res.get('hg')
    if hg and hg[2]['errors']:
        raise Failed('Mercurial reactor reported %d errors' % hg[2]['errors'])
    for variant, _ in variants:
        w, r, _ = res[variant]
        ob = outb[variant]
        ours = '%s frames/s, %s out (%.0f MB), %s' % (rate(n / w), mbs(ob, w), ob / 1e6, mib(r))
        theirs = ('%s frames/s, %s out (%d frames), %s' % (rate(hg[2]['frames'] / hg[0]),
                  mbs(hg[2]['out_bytes'], hg[0]), hg[2]['frames'], mib(hg[1]))) if hg else 'MISSING: Mercurial 6.0'
        t.add(row, 'reflect %s, %d frames: frames/s, output MB/s, peak RSS' % (variant, n), ours, theirs,
              ratio(n / w, hg[2]['frames'] / hg[0]) if hg else '')
        if variant == '--format raw':
            t.add(row, 'reflect --format raw: peak RSS / body size (target ≤ 1.2×)',
                  '%.2f× (%s for a %.1f MB body)' % (r * 1024 / ob, mib(r), ob / 1e6),
                  ('%.2f× (%s for %.1f MB, %d frames; interpreter included)'
                   % (hg[1] * 1024 / hg[2]['out_bytes'], mib(hg[1]), hg[2]['out_bytes'] / 1e6, hg[2]['frames']))
                  if hg else '-', '-')
    if not hg:
        t.missing.append('reflect: Mercurial 6.0 venv')


def row_human(t):
    row = 'human'
    n = SIZES['human']
    nhg = min(n, SIZES['hg_human'])
    for variant, gen in (('mixed', gen_mixed_lines), ('cbor: with arguments', gen_cbor_lines)):
        path = os.path.join(WORK, 'human-%s.txt' % variant.split()[0].rstrip(':'))
        write_lines(path, gen(n))
        cmd = [BIN, 'encode']
        jobs = {'ours': ours_job(row, variant, cmd, stdin=path, extra={'lines': n})}
        t.cmd(row, short(cmd) + ' < ' + path.replace(WORK, '$WORK') + ' >/dev/null',
              '(%d lines, %d bytes; from gen_%s_lines)' % (n, os.path.getsize(path), gen.__name__.split('_')[1]))
        if PY_HG:
            args = ['hg-human', path, str(nhg)]
            jobs['hg'] = hg_job(row, variant, args)
            t.cmd(row, short([PY, SELF] + args) + ' >/dev/null', '(Mercurial: first %d lines, loop timed)' % nhg)
        res = paired(jobs)
        w, r, _ = res['ours']
        hg = res.get('hg')
        t.add(row, 'human strings → hex, %s: lines/s, peak RSS' % variant,
              '%s lines/s, %s (%d lines)' % (rate(n / w), mib(r), n),
              '%s lines/s, %s (%d lines)' % (rate(hg[2]['lines'] / hg[0]), mib(hg[1]), hg[2]['lines'])
              if hg else 'MISSING: Mercurial 6.0',
              ratio(n / w, hg[2]['lines'] / hg[0]) if hg else '')
        if not hg:
            t.missing.append('human: Mercurial 6.0 venv')
        os.unlink(path)


def row_replay(t):
    row = 'replay'
    n = SIZES['replay']
    nhg = min(n, SIZES['hg_replay'])
    path = os.path.join(WORK, 'replay.hgframe')
    write_lines(path, gen_replay_lines(n))
    run([BIN, 'replay', '--update', path])
    t.cmd(row, short([BIN, 'replay', '--update', path]),
          '(input: %d requests of 3 frames from gen_replay_lines; this fills in the expected lines)' % n)
    cmd = [BIN, 'replay', path]
    jobs = {'ours': ours_job(row, 'replay', cmd, extra={'requests': n})}
    t.cmd(row, short(cmd) + ' >/dev/null')
    if PY_HG:
        args = ['hg-replay', path, str(nhg)]
        jobs['hg'] = hg_job(row, 'replay', args)
        t.cmd(row, short([PY, SELF] + args), '(Mercurial: first %d requests, loop timed)' % nhg)
    res = paired(jobs)
    w, r, _ = res['ours']
    hg = res.get('hg')
    if hg and hg[2]['mismatches']:
        raise Failed('Mercurial disagreed with %d expected lines' % hg[2]['mismatches'])
    proj = hg[0] * n / hg[2]['requests'] if hg else None
    t.add(row, 'replay %d requests (%d frames): time, requests/s, peak RSS' % (n, 3 * n),
          '%s, %s req/s, %s' % (secs(w), rate(n / w), mib(r)),
          ('%s for %d requests (%s projected for %d), %s req/s, %s'
           % (secs(hg[0]), hg[2]['requests'], secs(proj), n, rate(hg[2]['requests'] / hg[0]), mib(hg[1])))
          if hg else 'MISSING: Mercurial 6.0',
          ratio(proj, w) if hg else '')
    if not hg:
        t.missing.append('replay: Mercurial 6.0 venv')
    os.unlink(path)


# ---------------------------------------------------------------- serve


def proc_status(pid):
    d = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in ('VmRSS', 'VmHWM'):
                    d[k] = int(v.split()[0])
                elif k == 'Threads':
                    d[k] = int(v)
    except OSError:
        pass
    return d


class Poller(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop, self.hwm, self.rss, self.threads = pid, False, 0, 0, 0

    def run(self):
        while not self.stop:
            s = proc_status(self.pid)
            self.hwm = max(self.hwm, s.get('VmHWM', 0))
            self.rss = max(self.rss, s.get('VmRSS', 0))
            self.threads = max(self.threads, s.get('Threads', 0))
            time.sleep(0.05)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(url, body, timeout=10):
    req = urllib.request.Request(url, data=body, method='POST', headers={
        'Content-Type': 'application/mercurial-exp-framing-0006',
        'Accept': 'application/mercurial-exp-framing-0006'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}


def parse_wrk(text):
    d = {}
    m = re.search(r'Requests/sec:\s+([\d.]+)', text)
    d['req_s'] = float(m.group(1)) if m else None
    m = re.search(r'^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$', text, re.M)
    d['p99_ms'] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    m = re.search(r'^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$', text, re.M)
    d['p50_ms'] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    m = re.search(r'(\d+) requests in', text)
    d['requests'] = int(m.group(1)) if m else None
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', text)
    d['errors'] = dict(zip(('connect', 'read', 'write', 'timeout'), map(int, m.groups()))) if m else {}
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
    d['non2xx'] = int(m.group(1)) if m else 0
    return d


def start_server(side, repo):
    if side == 'hgframe':
        cmd = [BIN, 'serve', '--listen', '127.0.0.1:0']
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        SERVERS.append(p)
        SERVERS_STARTED.append(p.pid)
        line = p.stdout.readline().decode()
        m = re.search(r'http://([\d.]+:\d+)/', line)
        if not m:
            raise Failed('hgframe serve printed %r' % line)
        base = 'http://%s/' % m.group(1)
        shown = short(cmd) + ' 2>/dev/null'
    else:
        port = free_port()
        cmd = [HG, '-R', repo, 'serve', '-a', '127.0.0.1', '-p', str(port),
               '-A', '/dev/null', '-E', os.path.join(WORK, 'hg-serve-errors.log'),
               '--config', 'experimental.web.apiserver=true',
               '--config', 'experimental.web.api.http-v2=true',
               '--config', 'experimental.web.api.debugreflect=true',
               '--config', 'web.push_ssl=false', '--config', 'web.allow-push=*']
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=HGENV)
        SERVERS.append(p)
        SERVERS_STARTED.append(p.pid)
        base = 'http://127.0.0.1:%d/' % port
        shown = 'HGPLAIN=1 HGRCPATH= ' + short(cmd)
    url = base + 'api/exp-http-v2-0003/ro/debugreflect'
    deadline = time.time() + 30
    while True:
        if p.poll() is not None:
            raise Failed('%s serve exited with %s' % (side, p.returncode))
        try:
            st, _ = post(url, SERVE_BODY, timeout=2)
            if st == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise Failed('%s serve did not answer within 30 s' % side)
        time.sleep(0.1)
    return p, url, shown


def stop_server(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in SERVERS:
        SERVERS.remove(p)


def row_serve(t):
    row = 'serve'
    if not WRK:
        for c in SERVE_CONNS:
            t.miss(row, 'serve debugreflect, %d connections' % c, 'wrk (apt-get install wrk)')
        return
    lua = os.path.join(WORK, 'post.lua')
    with open(lua, 'w') as f:
        f.write('wrk.method = "POST"\n')
        f.write('wrk.body = "%s"\n' % ''.join('\\%03d' % b for b in SERVE_BODY))
        f.write('wrk.headers["Content-Type"] = "application/mercurial-exp-framing-0006"\n')
        f.write('wrk.headers["Accept"] = "application/mercurial-exp-framing-0006"\n')
    expected = subprocess.run([BIN, 'reflect', '--raw', '--bin', '-'], input=SERVE_BODY,
                              capture_output=True, check=True).stdout
    repo = None
    sides = [('hgframe', SERVE_CONNS, SERVE_SECONDS)]
    if PY_HG:
        repo = os.path.join(WORK, 'repo')
        subprocess.run([HG, 'init', '--config', 'format.revlog-compression=zlib', repo],
                       check=True, env=HGENV)
        sides.append(('hg', HG_SERVE_CONNS, HG_SERVE_SECONDS))
    t.cmd(row, open(lua).read().strip().replace('\n', ' '),
          '($WORK/post.lua; the body is the frame `%s`)' % SERVE_FRAME)
    results = {}
    for side, conns, dur in sides:
        for c in conns:
            threads = min(2, c)
            p, url, shown = start_server(side, repo)
            try:
                st, got = post(url, SERVE_BODY)
                if got != expected:
                    log('warning: %s debugreflect body differs from hgframe reflect --raw' % side)
                time.sleep(0.5)
                base = proc_status(p.pid)
                poll = Poller(p.pid)
                poll.start()
                wcmd = [WRK, '-t%d' % threads, '-c%d' % c, '-d%ds' % dur, '--latency',
                        '--timeout', '2s', '-s', lua, url]
                note = ''
                try:
                    out = subprocess.run(wcmd, capture_output=True, timeout=dur + 20,
                                         text=True).stdout
                except subprocess.TimeoutExpired:
                    out, note = '', 'wrk killed after %d s' % (dur + 20)
                poll.stop = True
                poll.join()
                time.sleep(SETTLE)
                after = proc_status(p.pid)
                alive = p.poll() is None
            finally:
                stop_server(p)
            w = parse_wrk(out)
            if not alive:
                note = (note + '; ' if note else '') + 'server died'
            res = dict(row=row, side=side, variant='%d conns' % c, conns=c, seconds=dur,
                       baseline_rss_kib=base.get('VmRSS'), peak_rss_kib=poll.hwm,
                       peak_threads=poll.threads, rss_after_kib=after.get('VmRSS'),
                       note=note, cmd=short(wcmd), server=shown, wrk=out, **w)
            sample(**res)
            results[(side, c)] = res
            log('%s %d conns: %s req/s, p99 %s ms, errors %s %s' % (side, c, w['req_s'], w['p99_ms'], w['errors'], note))
            if side == 'hgframe' and c == conns[0]:
                t.cmd(row, shown)
            if side == 'hg' and c == conns[0]:
                t.cmd(row, shown)
            t.cmd(row, short(wcmd).replace(url, 'URL'), '(%s; URL = %s)' % (side, url))

    def cell(r):
        if r is None:
            return 'not run'
        if not r['req_s']:
            return 'no result: %s' % (r['note'] or 'wrk printed no Requests/sec') + errs(r)
        return ('%s req/s, p99 %s, peak %s, %d threads, %s → %s after %ds%s%s'
                % (rate(r['req_s']), '%.1f ms' % r['p99_ms'] if r['p99_ms'] is not None else '?',
                   mib(r['peak_rss_kib']), r['peak_threads'], mib(r['baseline_rss_kib'] or 0),
                   mib(r['rss_after_kib'] or 0), SETTLE, errs(r),
                   (' (' + r['note'] + ')') if r['note'] else ''))

    def errs(r):
        e = {k: v for k, v in r['errors'].items() if v}
        parts = ['%s %d' % kv for kv in e.items()]
        if r['non2xx']:
            parts.append('non-2xx %d' % r['non2xx'])
        return (', errors: ' + ', '.join(parts)) if parts else ''

    for c in SERVE_CONNS:
        ours = results.get(('hgframe', c))
        theirs = results.get(('hg', c))
        if not PY_HG:
            t.missing.append('serve: Mercurial 6.0 venv')
        t.add(row, 'serve debugreflect, keep-alive, %d conns (%d s; hg %d s): req/s, p99, peak RSS, threads, idle RSS → RSS %d s after'
              % (c, SERVE_SECONDS, HG_SERVE_SECONDS, SETTLE),
              cell(ours), cell(theirs) if PY_HG else 'MISSING: Mercurial 6.0',
              ratio(ours and ours['req_s'], theirs and theirs['req_s']))


# ---------------------------------------------------------------- driver

ROWS = {'start': row_start, 'decode': row_decode, 'reflect': row_reflect,
        'human': row_human, 'replay': row_replay, 'serve': row_serve}


def env_int(name, default):
    v = os.environ.get(name, '')
    return int(v) if v else default


def drive(argv):
    global BIN, HG, PY, PY_HG, TIME, HYPERFINE, WRK, WORK, SAMPLES, RUNS, SIZES, HGENV
    global SERVE_CONNS, HG_SERVE_CONNS, SERVE_SECONDS, HG_SERVE_SECONDS, SETTLE
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--hg', default='')
    ap.add_argument('--work', required=True)
    ap.add_argument('--samples', required=True)
    o = ap.parse_args(argv)
    BIN, HG, WORK = o.bin, o.hg, o.work
    PY_HG = bool(HG)
    PY = os.path.join(os.path.dirname(HG), 'python3') if HG else sys.executable
    TIME = '/usr/bin/time'
    if not os.access(TIME, os.X_OK):
        sys.exit('bench-e2e: MISSING: /usr/bin/time (apt-get install time): every timed row needs it')
    HYPERFINE = shutil_which('hyperfine')
    WRK = shutil_which('wrk')
    HGENV = dict(os.environ, HGPLAIN='1', HGRCPATH='')
    RUNS = env_int('HGFRAME_E2E_RUNS', 5)
    SIZES = {
        'decode': env_int('HGFRAME_E2E_DECODE_FRAMES', 200_000),
        'reflect': env_int('HGFRAME_E2E_REFLECT_FRAMES', 200_000),
        'hg_reflect': env_int('HGFRAME_E2E_HG_REFLECT_FRAMES', 40_000),
        'human': env_int('HGFRAME_E2E_HUMAN_LINES', 1_000_000),
        'hg_human': env_int('HGFRAME_E2E_HG_HUMAN_LINES', 20_000),
        'replay': env_int('HGFRAME_E2E_REPLAY_REQUESTS', 100_000),
        'hg_replay': env_int('HGFRAME_E2E_HG_REPLAY_REQUESTS', 5_000),
    }
    conns = os.environ.get('HGFRAME_E2E_SERVE_CONNS') or '1,16,200,1000'
    SERVE_CONNS = [int(x) for x in conns.split(',')]
    HG_SERVE_CONNS = [int(x) for x in (os.environ.get('HGFRAME_E2E_HG_SERVE_CONNS') or conns).split(',')]
    SERVE_SECONDS = env_int('HGFRAME_E2E_SERVE_SECONDS', 10)
    HG_SERVE_SECONDS = env_int('HGFRAME_E2E_HG_SERVE_SECONDS', 5)
    SETTLE = env_int('HGFRAME_E2E_SETTLE_SECONDS', 3)
    only = [x for x in (os.environ.get('HGFRAME_E2E_ONLY') or ','.join(ROWS)).split(',') if x]
    for x in only:
        if x not in ROWS:
            sys.exit('bench-e2e: unknown row %r in HGFRAME_E2E_ONLY (rows: %s)' % (x, ', '.join(ROWS)))
    SAMPLES = open(o.samples, 'w')

    t = Table()
    if not PY_HG:
        log('MISSING: Mercurial 6.0 (HGFRAME_E2E_NO_HG=1, or scripts/hg-venv.sh failed); '
            'Mercurial columns will say MISSING')
    for tool, path in (('hyperfine', HYPERFINE), ('wrk', WRK)):
        if not path:
            log('MISSING: %s (apt-get install %s); its row(s) will say MISSING' % (tool, tool))
    up0 = subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()
    sample(row='meta', uptime_start=up0, runs=RUNS, sizes=SIZES, nproc=os.cpu_count(),
           bin=BIN, hg=HG)
    t0 = time.time()
    for name in only:
        log('row %s ...' % name)
        try:
            ROWS[name](t)
        except Failed as e:
            t.miss(name, name, 'failed: %s' % e)
        log('row %s done (%.0f s so far)' % (name, time.time() - t0))
    up1 = subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()
    sample(row='meta', uptime_end=up1, total_s=time.time() - t0)

    ver = subprocess.run([BIN, '--version'], capture_output=True, text=True).stdout.strip()
    print('## hgframe end-to-end vs Mercurial 6.0 (scripts/bench-e2e.sh)')
    print()
    print('%s (release build) vs Mercurial 6.0 (%s); %d cores; medians of %d runs '
          '(serve: one bounded run per connection count).'
          % (ver, PY if PY_HG else 'MISSING', os.cpu_count(), RUNS))
    print('Load: start `%s`; end `%s`. Total %.0f s.' % (up0, up1, time.time() - t0))
    print('Ratio: >1 = hgframe better (faster, or less memory). Mercurial rates are timed inside '
          'the Python process (interpreter start and imports excluded); hgframe figures are whole-process.')
    print()
    print('| row | measure | hgframe | Mercurial 6.0 | ratio |')
    print('|---|---|---|---|---|')
    for r in t.rows:
        print('| %s |' % ' | '.join(str(c).replace('|', '\\|') for c in r))
    print()
    print('Commands ($WORK = %s, deleted at the end; %s = %s):' % (WORK, os.path.basename(SELF), SELF))
    print()
    for row, c, note in t.cmds:
        print('- %s: `%s` %s' % (row, c, note))
    print()
    print('Raw samples (JSON lines): %s' % o.samples)
    if t.missing:
        print()
        for m in t.missing:
            print('MISSING: %s' % m)
        return 1
    return 0


def shutil_which(name):
    import shutil
    return shutil.which(name)


SERVE_FRAME = "1 1 stream-begin command-request new cbor:{b'name': b'heads'}"
SERVE_BODY = bytes.fromhex('0c00000100010111a1446e616d65456865616473')
SELF = os.path.abspath(__file__)
SERVERS = []
SERVERS_STARTED = []
BIN = HG = PY = WORK = TIME = None
PY_HG = False


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == 'hg-readframe':
        return hg_readframe(args[0])
    if mode == 'hg-reflect':
        return hg_reflect(args[0], int(args[1]))
    if mode == 'hg-human':
        return hg_human(args[0], int(args[1]))
    if mode == 'hg-replay':
        return hg_replay(args[0], int(args[1]))
    if mode == 'drive':
        def on_signal(sig, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, on_signal)
        try:
            return drive(args)
        except KeyboardInterrupt:
            log('interrupted')
            return 130
        finally:
            for p in list(SERVERS):
                stop_server(p)
            if SERVERS_STARTED:
                log('servers stopped (PIDs %s)' % ' '.join(map(str, SERVERS_STARTED)))
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main())
