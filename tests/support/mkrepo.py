#!/usr/bin/env python3
"""Build the clone fixture repository, deterministically, with Mercurial 6.0.

    "$(dirname "$(scripts/hg-venv.sh)")/python3" tests/support/mkrepo.py [--any-tip] DEST

DEST must not exist. Run it with the Python of the Mercurial 6.0 venv: it
drives `hg` in-process (mercurial.dispatch, one interpreter for all ~25
commands, about 1 s instead of ~5 s for separate processes) with
HGRCPATH= and HGPLAIN=1, a fixed user and fixed dates, so every run yields the
same changeset ids. The tip is printed at the end and must be TIP below
(f564081688cfbb6f9698733ee79e6ad4e21eede3), else the script fails; --any-tip
accepts any (e.g. while changing the history, then update TIP).

History (14 changesets, revisions 0..13):

    0  add README, src/hello.c, docs/guide.txt
    1  add data/big.txt: 210,000 bytes of pseudo-random words (sha256
       counter stream, fixed seed; compresses to about 60 %)
    2  edit src/hello.c                     bookmark "feature" ends here
    3  hg tag v1.0 (adds .hgtags)
    4  branch "stable": edit README
    5  stable: add stable-notes.txt
    6  default: edit docs/guide.txt
    7  default: change a few lines of data/big.txt (a delta)
    8  default: hg copy src/hello.c src/hello2.c
    9  default: add tools/run.sh, executable (flag "x" in the manifest)
   10  merge stable into default
   11  default: add bin/blob.dat (4 KB of binary, not UTF-8)
   12  stable: edit stable-notes.txt     (a second head: the stable branch)
   13  default: edit README                 bookmark "main" here (tip)

Branches: default (head 13), stable (head 12). Bookmarks: feature (rev 2),
main (rev 13). Tag: v1.0 (rev 2). Phases: all public once served
(publishing server); they are draft in the fixture itself.

The repository uses zlib revlog compression (format.revlog-compression=zlib)
so a pure-Python Mercurial can read it too.
"""

import hashlib
import os
import sys

os.environ['HGRCPATH'] = ''
os.environ['HGPLAIN'] = '1'
os.environ.pop('HGUSER', None)
os.environ['HGENCODING'] = 'utf-8'

from mercurial import dispatch  # noqa: E402

USER = b'hgframe fixture <fixture@example.invalid>'
BASEDATE = 1700000000  # 2023-11-14
# What every run produces (Mercurial 6.0); checked unless --any-tip is given.
TIP = 'f564081688cfbb6f9698733ee79e6ad4e21eede3'


def hg(*args):
    req = dispatch.request([pycompat_b(a) for a in args])
    rc = dispatch.dispatch(req)
    if rc:
        sys.exit('hg %s failed: %d' % (' '.join(map(str, args)), rc))


def pycompat_b(a):
    return a if isinstance(a, bytes) else str(a).encode('utf-8')


def stream(seed, n):
    """n pseudo-random bytes: sha256(seed || counter) blocks."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b'%s:%d' % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def words(seed, size):
    """~size bytes of lines of random lowercase words (2..9 letters)."""
    rnd = stream(seed, size * 2)
    out = bytearray()
    line = bytearray()
    i = 0
    while len(out) < size:
        wlen = 2 + rnd[i] % 8
        i += 1
        w = bytes(97 + rnd[i + k] % 26 for k in range(wlen))
        i += wlen
        if len(line) + wlen + 1 > 72:
            out += line + b'\n'
            line = bytearray()
        if line:
            line += b' '
        line += w
    return bytes(out[:size - 1]) + b'\n'


def write(repo, path, data):
    full = os.path.join(repo, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'wb') as fh:
        fh.write(data)


def main():
    args = sys.argv[1:]
    expect = TIP
    if args and args[0] == '--any-tip':
        expect, args = None, args[1:]
    if len(args) != 1:
        sys.exit('usage: mkrepo.py [--any-tip] DEST')
    dest = os.path.abspath(args[0])
    if os.path.exists(dest):
        sys.exit('%s exists' % dest)

    hg('init', '--config', 'format.revlog-compression=zlib', dest)
    n = [0]

    def commit(msg, *extra):
        n[0] += 1
        hg('-R', dest, 'commit', '-q', '-u', USER,
           '-d', '%d 0' % (BASEDATE + 3600 * n[0]), '-m', msg, *extra)

    def R(*a):
        hg('-R', dest, *a)

    write(dest, 'README', b'hgframe clone fixture\n')
    write(dest, 'src/hello.c',
          b'#include <stdio.h>\nint main(void) {\n'
          b'    puts("hello");\n    return 0;\n}\n')
    write(dest, 'docs/guide.txt', b'Guide\n=====\n\nNothing here yet.\n')
    R('add', '-q')
    commit('initial import')                                     # 0

    big = words(b'hgframe-big', 210000)
    write(dest, 'data/big.txt', big)
    R('add', '-q', os.path.join(dest, 'data/big.txt'))
    commit('add a big text file')                                # 1

    write(dest, 'src/hello.c',
          b'#include <stdio.h>\nint main(void) {\n'
          b'    puts("hello, world");\n    return 0;\n}\n')
    commit('greet the world')                                    # 2
    R('bookmark', '-r', '2', 'feature')

    n[0] += 1
    R('tag', '-u', USER, '-d', '%d 0' % (BASEDATE + 3600 * n[0]),
      '-r', '2', 'v1.0')                                         # 3

    R('branch', '-q', 'stable')
    write(dest, 'README', b'hgframe clone fixture (stable)\n')
    commit('start the stable branch')                            # 4
    write(dest, 'stable-notes.txt', b'stable notes\n')
    R('add', '-q', os.path.join(dest, 'stable-notes.txt'))
    commit('stable: notes')                                      # 5

    R('update', '-q', 'default')
    write(dest, 'docs/guide.txt',
          b'Guide\n=====\n\nClone it over wire protocol v2.\n')
    commit('document cloning')                                   # 6

    lines = big.split(b'\n')
    for i in (10, 500, 1500, 2900):
        lines[i] = b'changed line %d' % i
    write(dest, 'data/big.txt', b'\n'.join(lines))
    commit('edit a few lines of the big file')                  # 7

    R('copy', '-q', os.path.join(dest, 'src/hello.c'),
      os.path.join(dest, 'src/hello2.c'))
    commit('copy hello.c')                                       # 8

    # Not `hg remove`: Mercurial 6.0's filesdata command fails for a
    # changeset that removes a file ("No such manifest entry.", it looks up
    # every path of ctx.files() in the manifest when haveparents is true,
    # which is what clone asks for), so a v2 clone of such a history aborts.
    write(dest, 'tools/run.sh', b'#!/bin/sh\nexec ./hello "$@"\n')
    os.chmod(os.path.join(dest, 'tools/run.sh'), 0o755)
    R('add', '-q', os.path.join(dest, 'tools/run.sh'))
    commit('add an executable script')                           # 9

    R('merge', '-q', '--tool', 'internal:other', 'stable')
    commit('merge stable')                                       # 10

    write(dest, 'bin/blob.dat', stream(b'hgframe-blob', 4096))
    R('add', '-q', os.path.join(dest, 'bin/blob.dat'))
    commit('add a binary blob')                                  # 11

    R('update', '-q', 'stable')
    write(dest, 'stable-notes.txt', b'stable notes\nmore notes\n')
    commit('stable: more notes')                                 # 12

    R('update', '-q', 'default')
    write(dest, 'README', b'hgframe clone fixture\nsee docs\n')
    commit('update README')                                      # 13
    R('bookmark', '-r', '13', 'main')

    from mercurial import hg as hgmod, ui as uimod
    from mercurial.node import hex
    repo = hgmod.repository(uimod.ui.load(), dest.encode())
    tip = hex(repo[b'tip'].node()).decode()
    print('tip %s (%d changesets)' % (tip, len(repo)))
    if expect and expect != tip:
        sys.exit('expected tip %s, got %s: if the history above was changed '
                 'on purpose, update TIP; otherwise the build is not '
                 'deterministic (use --any-tip to accept it)' % (expect, tip))


if __name__ == '__main__':
    main()
