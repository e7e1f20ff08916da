#!/usr/bin/env python3
"""Golden data for the human-string syntax, produced by Mercurial 6.0 itself.

Mercurial's tests (and `hg debugwireproto`) build frames from one-line
"human strings" with `wireprotoframing.makeframefromhumanstring`:

    <request-id> <stream-id> <stream-flags> <type> <flags> <payload>

hgframe reimplements that grammar, so we need the reference behaviour byte for
byte -- including the inputs Mercurial rejects and *how* it rejects them.
This script collects every human string we can find, feeds each distinct one
to the real Mercurial 6.0 function and writes one JSON object per line:

    {"source": "tests/test-wireproto-framing.py:16", "line_hex": "...",
     "line": "<latin-1 text>", "ok": true, "frame_hex": "..."}
    {"source": ..., "line_hex": ..., "line": ..., "ok": false,
     "error": "<ExceptionType>: <message>"}

Optional keys, present only when they say something:

    "raw", "raw_hex"  (.t sources) the line as written in the .t file, before
                      the shell heredoc and `hg debugwireproto` preprocessing
    "warnings"        Python warnings raised during the call (e.g. the
                      DeprecationWarning for an unknown escape like `\\q`)
    "note"            (edge cases) what the case exercises
    "also"            other places where the same string occurs

Sources, in the order they win when the same string appears more than once:

 1. tests/test-wireproto-*.py of the 6.0 sdist: the argument of every call to
    `ffs` / `makeframefromhumanstring` / `framing.makeframefromhumanstring`,
    and the elements of the list given to `assertframesequal(frames, [...])`
    (that helper maps `ffs` over it).  Arguments are evaluated with a small
    AST evaluator that only understands constants, `%`, `*`, `+`, slicing,
    names bound once (module level or in the enclosing function) to such
    expressions, constant attributes of `framing`, and three calls the tests
    use to build payloads: `b''.join(...)`, `cborutil.streamencode(...)`,
    `util.bytesio(x).getvalue()`.  Anything else (e.g. `request.requestid`,
    zlib output) is skipped and counted.  Nothing from the tests is executed.
 2. tests/*.t of the 6.0 sdist: `frame <human string>` lines inside the
    `httprequest` blocks fed to `hg debugwireproto` through a heredoc.  The
    string reaching the function is NOT the text after `frame ` verbatim:
      - the heredoc is unquoted (`<< EOF`), so the shell turns `\\\\` into
        `\\`, `\\$` into `$` and `` \\` `` into `` ` `` and joins lines ending
        in `\\`;
      - debugcommands._parsewirelangblocks() rstrip()s every line (so a
        trailing space -- needed for an empty payload -- is lost!) and glues
        a line indented deeper than the previous one onto it;
      - the httprequest handler lstrip()s the line and passes
        `line[len(b'frame '):]` to makeframefromhumanstring, with no
        unescaping of its own (the function unescapes the payload itself).
    We mirror that, and cross-check our block parser against the real
    `_parsewirelangblocks`.
 3. ../shared/protocol/mercurial-tests.md section 4.A: the human-string
    table (its expected hex is checked against what Mercurial produces) and
    the bullet list below it, minus bullets that abbreviate a payload
    (`b'xxxxxxxx'... (32768 bytes)`).
 4. ../shared/vectors/0006/*.txt: lines starting with `  frame `.  Some of
    them spell a payload as a Python repr (`b'\\xa2Dargs'`); those are not
    human strings, but we run them anyway and record what Mercurial does.
    The frames of each file are also compared with its .bin (report only).
 5. Hand-written edge cases (source "edge") probing the grammar.

The output is sorted by (source file, source line, string) and error
messages are scrubbed of memory addresses, so a re-run gives an identical
file.  PYTHONHASHSEED is pinned (set iteration order reaches some error
messages).

Usage (see scripts/gen-golden.sh):
    "$VENVPY" scripts/gen-hg-humanstrings.py --tests DIR --out FILE
"""

import argparse
import ast
import io
import json
import os
import re
import sys
import warnings

# Set iteration order depends on the hash seed, and a few error messages
# (comparisons while sorting a set) depend on the order: pin it.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

with warnings.catch_warnings():
    # mercurial 6.0 imports `imp`, deprecated in 3.11: not our business.
    warnings.simplefilter("ignore")
    from mercurial import debugcommands, util
    from mercurial import wireprotoframing as framing
    from mercurial.utils import cborutil


# ---------------------------------------------------------------------------
# Collected occurrences
# ---------------------------------------------------------------------------

# Priority of each kind of source when one string occurs in several places.
PRIORITY = {"py": 0, "t": 1, "md": 2, "vec": 3, "edge": 4}


class Occurrence(object):
    def __init__(self, kind, path, lineno, s, raw=None, note=None):
        self.kind = kind  # key of PRIORITY
        self.path = path  # e.g. "tests/test-wireproto-framing.py", or "edge"
        self.lineno = lineno  # 0 for edge cases
        self.s = s  # bytes handed to makeframefromhumanstring
        self.raw = raw  # .t only: the line(s) as written in the file
        self.note = note  # edge only

    @property
    def source(self):
        return self.path if self.kind == "edge" else "%s:%d" % (self.path, self.lineno)

    def sortkey(self):
        return (self.path, self.lineno, self.s)


# ---------------------------------------------------------------------------
# 1. Python unit tests
# ---------------------------------------------------------------------------

HUMANSTRING_FUNCS = {"ffs", "makeframefromhumanstring"}


class Unevaluable(Exception):
    """The expression is not a constant we are willing to compute."""


class _BytesIO(object):
    """Stands for `util.bytesio(x)`; only `.getvalue()` is supported."""

    def __init__(self, value):
        self.value = value


def _single_assignments(body_nodes):
    """Map name -> value node for names assigned exactly once by a plain
    `name = expr` among the given statements (walking into nested blocks
    but not nested functions/classes).  Names bound any other way or more
    than once map to None, which makes them unevaluable."""
    result = {}

    def bind(name, node):
        result[name] = None if name in result else node

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, ast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                bind(node.targets[0].id, node.value)
            else:
                for t in node.targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            bind(n.id, None)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.comprehension, ast.NamedExpr)):
            for n in ast.walk(getattr(node, "target", None) or ast.Pass()):
                if isinstance(n, ast.Name):
                    bind(n.id, None)
            if isinstance(node, ast.With):
                for item in node.items:
                    if item.optional_vars is not None:
                        for n in ast.walk(item.optional_vars):
                            if isinstance(n, ast.Name):
                                bind(n.id, None)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in body_nodes:
        visit(stmt)
    return result


class Evaluator(object):
    """Computes the value of a test's argument expression without running
    the test: a whitelist of node types, nothing else."""

    def __init__(self, module_scope):
        self.module_scope = module_scope
        self.local_scope = {}
        self.evaluating = set()  # guards against `a = a % x` style cycles

    def eval(self, node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bytes, str, int, bool, type(None))):
                return node.value
            raise Unevaluable("constant of type %s" % type(node.value).__name__)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.eval(e) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Set):
            return {self.eval(e) for e in node.elts}
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise Unevaluable("dict unpacking")
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.eval(node.operand)
            if not isinstance(v, int):
                raise Unevaluable("unary op on %s" % type(v).__name__)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            if isinstance(node.op, ast.Mod) and isinstance(left, bytes):
                return left % right  # the `b'... %s' % x` the tests use
            if isinstance(node.op, ast.Mult) and {type(left), type(right)} <= {bytes, int}:
                return left * right
            if isinstance(node.op, (ast.Add, ast.Sub)) and type(left) is type(right) and type(left) in (bytes, int):
                if isinstance(node.op, ast.Sub) and type(left) is not int:
                    raise Unevaluable("bytes subtraction")
                return left + right if isinstance(node.op, ast.Add) else left - right
            raise Unevaluable("binary operator %s" % type(node.op).__name__)
        if isinstance(node, ast.Subscript):
            value = self.eval(node.value)
            if not isinstance(value, (bytes, list, tuple)):
                raise Unevaluable("subscript of %s" % type(value).__name__)
            sl = node.slice
            if isinstance(sl, ast.Slice):
                if sl.step is not None:
                    raise Unevaluable("slice step")
                lo = self.eval(sl.lower) if sl.lower is not None else None
                hi = self.eval(sl.upper) if sl.upper is not None else None
                return value[lo:hi]
            return value[self.eval(sl)]
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            # framing.DEFAULT_MAX_FRAME_SIZE and friends: constants of the
            # real module (the test imports wireprotoframing as framing).
            if isinstance(node.value, ast.Name) and node.value.id == "framing":
                v = getattr(framing, node.attr, None)
                if isinstance(v, (int, bytes)) and node.attr.isupper():
                    return v
            raise Unevaluable("attribute %s" % ast.unparse(node))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise Unevaluable("%s expression" % type(node).__name__)

    def _name(self, name):
        for scope in (self.local_scope, self.module_scope):
            if name in scope:
                node = scope[name]
                if node is None:
                    raise Unevaluable("name %r is not bound once by a plain assignment" % name)
                if name in self.evaluating:
                    raise Unevaluable("recursive definition of %r" % name)
                self.evaluating.add(name)
                try:
                    return self.eval(node)
                finally:
                    self.evaluating.discard(name)
        raise Unevaluable("unknown name %r" % name)

    def _call(self, node):
        if node.keywords:
            raise Unevaluable("keyword arguments")
        f = node.func
        args = node.args
        # b''.join(iterable of bytes)
        if (
            isinstance(f, ast.Attribute)
            and f.attr == "join"
            and isinstance(f.value, ast.Constant)
            and isinstance(f.value.value, bytes)
            and len(args) == 1
        ):
            parts = self.eval(args[0])
            if not isinstance(parts, (list, tuple)) or not all(isinstance(p, bytes) for p in parts):
                raise Unevaluable("join of non-bytes")
            return f.value.value.join(parts)
        # cborutil.streamencode(value): a pure function of a constant
        if (
            isinstance(f, ast.Attribute)
            and f.attr == "streamencode"
            and isinstance(f.value, ast.Name)
            and f.value.id == "cborutil"
            and len(args) == 1
        ):
            return list(cborutil.streamencode(self.eval(args[0])))
        # util.bytesio(x) ... .getvalue()
        if (
            isinstance(f, ast.Attribute)
            and f.attr == "bytesio"
            and isinstance(f.value, ast.Name)
            and f.value.id == "util"
            and len(args) == 1
        ):
            v = self.eval(args[0])
            if not isinstance(v, bytes):
                raise Unevaluable("bytesio of non-bytes")
            return _BytesIO(v)
        if isinstance(f, ast.Attribute) and f.attr == "getvalue" and not args:
            v = self.eval(f.value)
            if isinstance(v, _BytesIO):
                return v.value
        raise Unevaluable("call %s" % ast.unparse(f))


def _is_humanstring_call(call):
    f = call.func
    if isinstance(f, ast.Name):
        return f.id in HUMANSTRING_FUNCS
    if isinstance(f, ast.Attribute):
        return f.attr == "makeframefromhumanstring"
    return False


def _is_assertframesequal(call):
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return name == "assertframesequal"


def collect_py(testsdir, stats):
    occurrences = []
    names = sorted(
        n for n in os.listdir(testsdir) if n.startswith("test-wireproto-") and n.endswith(".py")
    )
    for name in names:
        path = os.path.join(testsdir, name)
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
        label = "tests/" + name
        st = stats.setdefault(label, {"found": 0, "evaluated": 0, "skipped": []})
        ev = Evaluator(_single_assignments(tree.body))

        # Walk each function with its own local scope; module-level code
        # (outside any function) gets an empty local scope.
        def walk(node, local_scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                local_scope = _single_assignments(node.body)
            for child in ast.iter_child_nodes(node):
                walk(child, local_scope)
            if not isinstance(node, ast.Call):
                return
            targets = []
            if _is_humanstring_call(node) and len(node.args) == 1:
                targets = [node.args[0]]
            elif _is_assertframesequal(node) and len(node.args) == 2 and isinstance(node.args[1], (ast.List, ast.Tuple)):
                targets = list(node.args[1].elts)
            for arg in targets:
                st["found"] += 1
                ev.local_scope = local_scope
                try:
                    value = ev.eval(arg)
                    if not isinstance(value, bytes):
                        raise Unevaluable("value of type %s" % type(value).__name__)
                except Unevaluable as e:
                    st["skipped"].append((arg.lineno, str(e), ast.unparse(arg)))
                    continue
                st["evaluated"] += 1
                occurrences.append(Occurrence("py", label, arg.lineno, value))

        walk(tree, {})
    return occurrences


# ---------------------------------------------------------------------------
# 2. .t tests: `frame` lines given to `hg debugwireproto`
# ---------------------------------------------------------------------------

HEREDOC_RE = re.compile(rb"<<\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
DEBUGWIREPROTO_RE = re.compile(rb"debugwireproto|sendhttpraw|sendhttpv2peer|sendhttpv2peerverbose|sendhttpv2peerhandshake")


def _heredocs(lines):
    """Yield (commandline, quoted, [(lineno, text)]) for every `  $ cmd << EOF`
    in a .t file; text is the heredoc line as the shell reads it, i.e. the
    `.t` line without its `  > ` prefix (run-tests.py does `l[4:]`)."""
    i = 0
    while i < len(lines):
        line = lines[i]
        m = HEREDOC_RE.search(line) if line.startswith(b"  $ ") else None
        i += 1
        if not m:
            continue
        quoted, delim = bool(m.group(1)), m.group(2)
        body = []
        while i < len(lines) and lines[i].startswith(b"  > "):
            text = lines[i][4:].rstrip(b"\n")
            i += 1
            if text == delim:
                break
            body.append((i, text))  # i is now the 1-based number of this line
        yield line, quoted, body


def _shell_heredoc(body, quoted):
    """Apply what an unquoted heredoc does to backslashes: `\\\\`, `\\$`,
    `` \\` `` lose their backslash and a trailing `\\` joins the next line.
    Other backslashes (`\\x00`, `\\n`) reach the program unchanged.  Returns
    [(first lineno, raw text, shell output, has_expansion)]."""
    out = []
    pending = None
    for lineno, text in body:
        if quoted:
            out.append((lineno, text, text, False))
            continue
        res = bytearray()
        expansion = False
        j = 0
        continued = False
        while j < len(text):
            c = text[j : j + 1]
            if c == b"\\":
                nxt = text[j + 1 : j + 2]
                if nxt in (b"\\", b"$", b"`"):
                    res += nxt
                    j += 2
                    continue
                if nxt == b"":
                    continued = True  # backslash-newline: line continuation
                    j += 1
                    continue
                res += c
                j += 1
                continue
            if c in (b"$", b"`"):
                expansion = True  # $VAR / $(...) / `...`: we cannot expand it
            res += c
            j += 1
        if pending is not None:
            plineno, praw, pres, pexp = pending
            lineno, text, res, expansion = plineno, praw + b"\n" + text, pres + res, pexp or expansion
        if continued:
            pending = (lineno, text, bytes(res), expansion)
        else:
            pending = None
            out.append((lineno, text, bytes(res), expansion))
    if pending is not None:
        out.append(pending)
    return out


def _parse_blocks(items):
    """debugcommands._parsewirelangblocks, keeping source line numbers.
    items: [(lineno, raw, text, expansion)] -> [(action, [entry])] where an
    entry is [lineno, raws, text, expansion]."""
    blocks = []
    action = None
    blocklines = []
    lastindent = 0
    for lineno, raw, text, expansion in items:
        line = text.rstrip()
        if not line or line.startswith(b"#"):
            continue
        if not line.startswith(b" "):
            if action:
                blocks.append((action, blocklines))
            action, blocklines, lastindent = line, [], 0
            continue
        if not action:
            raise ValueError("indented line outside of block")
        indent = len(line) - len(line.lstrip())
        if indent > lastindent and blocklines:
            entry = blocklines[-1]
            entry[1].append(raw)
            entry[2] += line.lstrip()
            entry[3] = entry[3] or expansion
        else:
            blocklines.append([lineno, [raw], line, expansion])
            lastindent = indent
    if action:
        blocks.append((action, blocklines))
    return blocks


def collect_t(testsdir, stats):
    occurrences = []
    for name in sorted(n for n in os.listdir(testsdir) if n.endswith(".t")):
        with open(os.path.join(testsdir, name), "rb") as fh:
            lines = fh.readlines()
        label = "tests/" + name
        for cmdline, quoted, body in _heredocs(lines):
            if not DEBUGWIREPROTO_RE.search(cmdline):
                continue
            items = _shell_heredoc(body, quoted)
            blocks = _parse_blocks(items)
            # Cross-check against Mercurial's own block parser.
            stdin = b"".join(text + b"\n" for _, _, text, _ in items)
            real = list(debugcommands._parsewirelangblocks(io.BytesIO(stdin)))
            mine = [(a, [e[2] for e in bl]) for a, bl in blocks]
            if real != mine:
                raise SystemExit("%s: block parser disagrees with Mercurial near line %d" % (label, body[0][0]))
            for action, blocklines in blocks:
                for lineno, raws, text, expansion in blocklines:
                    line = text.lstrip()
                    if not line.startswith(b"frame "):
                        continue
                    st = stats.setdefault(label, {"found": 0, "evaluated": 0, "skipped": []})
                    st["found"] += 1
                    if not action.startswith(b"httprequest "):
                        st["skipped"].append((lineno, "frame line outside an httprequest block", line))
                        continue
                    if re.match(rb"^([a-zA-Z0-9_-]+): (.*)$", line):
                        # The handler tries the header pattern first; cannot
                        # match `frame ...`, kept for fidelity.
                        continue
                    if expansion:
                        st["skipped"].append((lineno, "needs shell expansion", line))
                        continue
                    st["evaluated"] += 1
                    occurrences.append(
                        Occurrence("t", label, lineno, line[len(b"frame ") :], raw=b"\n".join(raws))
                    )
    return occurrences


# ---------------------------------------------------------------------------
# 3. and 4. The shared notes and vectors
# ---------------------------------------------------------------------------

MD_ROW_RE = re.compile(r"^\| `(.*)` \| `([0-9a-f]*)` \|\s*$")
MD_BULLET_RE = re.compile(r"^\s*\* `(.*)`\s*$")


def collect_md(path, label, stats, expected):
    """Section 4.A of mercurial-tests.md: table rows and bullet strings.
    `expected` receives {string: hex} from the table for a later check."""
    occurrences = []
    st = stats.setdefault(label, {"found": 0, "evaluated": 0, "skipped": []})
    insection = False
    with open(path, "rb") as fh:
        for lineno, rawline in enumerate(fh, 1):
            text = rawline.decode("utf-8").rstrip("\n")
            if text.startswith("### "):
                insection = text.startswith("### 4.A.")
                continue
            if not insection:
                continue
            m = MD_ROW_RE.match(text)
            if m:
                s = m.group(1).replace("\\|", "|").encode("utf-8")
                expected[s] = m.group(2)
            else:
                m = MD_BULLET_RE.match(text)
                if not m:
                    continue
                s = m.group(1).encode("utf-8")
                if b"... (" in s:
                    st["found"] += 1
                    st["skipped"].append((lineno, "abbreviated payload", s))
                    continue
            st["found"] += 1
            st["evaluated"] += 1
            occurrences.append(Occurrence("md", label, lineno, s))
    return occurrences


def collect_vectors(vecdir, label_prefix, stats):
    occurrences = []
    perfile = {}
    for name in sorted(n for n in os.listdir(vecdir) if n.endswith(".txt")):
        label = label_prefix + name
        with open(os.path.join(vecdir, name), "rb") as fh:
            for lineno, rawline in enumerate(fh, 1):
                line = rawline.rstrip(b"\r\n")
                if not line.startswith(b"  frame "):
                    continue
                s = line[len(b"  frame ") :]
                st = stats.setdefault(label, {"found": 0, "evaluated": 0, "skipped": []})
                st["found"] += 1
                st["evaluated"] += 1
                occurrences.append(Occurrence("vec", label, lineno, s))
                perfile.setdefault(name, []).append(s)
    return occurrences, perfile


# ---------------------------------------------------------------------------
# 5. Hand-written edge cases: (string, what it probes)
# ---------------------------------------------------------------------------

EDGE = [
    # --- fields: numbers, names, combinations -------------------------------
    (b"1 1 1 1 1 ", "every field numeric, empty payload"),
    (b"1 1 stream-begin command-request new ", "every field named, empty payload"),
    (b"1 1 stream-begin|stream-end|encoded command-request new|continuation|more|have-data ", "all stream flags and all command-request flags by name"),
    (b"1 1 1|2|4 1 1|2|4|8 ", "all flags by number, OR-ed"),
    (b"1 1 stream-begin|2 command-data eos|1 ", "names and numbers mixed in one flags field"),
    (b"1 1 stream-begin|stream-begin 1 new|new ", "a repeated flag is OR-ed, not rejected"),
    (b"1 1 8 1 new ", "stream flag 8 has no name but is accepted"),
    (b"1 1 255 1 new ", "stream flags 255: every bit"),
    (b"1 1 256 1 new ", "stream flags 256 overflows the byte"),
    (b"1 1 -1 1 new ", "negative stream flags"),
    (b"1 1 0| 1 new ", "empty item after | in stream flags"),
    (b"1 1 | 1 new ", "stream flags field is a lone |"),
    (b"1 1 bogus 1 new ", "unknown stream flag name"),
    (b"1 1 Stream-Begin 1 new ", "names are case-sensitive"),
    (b"1 1 0 command-response continuation|eos x", "command-response flags by name"),
    (b"1 1 0 error-response 0 x", "error-response has no flag names"),
    (b"1 1 0 error-response eos x", "eos is not a flag of error-response"),
    (b"1 1 0 text-output 0 ", "text-output by name"),
    (b"1 1 0 progress 0 ", "progress by name"),
    (b"1 1 0 sender-protocol-settings continuation|eos ", "sender-protocol-settings flags by name"),
    (b"1 1 0 stream-settings continuation ", "stream-settings flags by name"),
    (b"1 1 0 8 eos ", "numeric type, flag name resolved for that type"),
    (b"1 1 0 command-data have-data ", "flag name of another type"),
    (b"1 1 0 command-request bogus ", "unknown flag name"),
    (b"1 1 0 bogus-type 0 ", "unknown type name"),
    (b"1 1 0 0 0 ", "type 0 (not in the type table)"),
    (b"1 1 0 4 0 ", "type 4 (unassigned)"),
    (b"1 1 0 10 0 ", "type 10 (unassigned)"),
    (b"1 1 0 15 0 ", "type 15 (unassigned, largest 4-bit)"),
    (b"1 1 0 16 0 ", "type 16 does not fit 4 bits"),
    (b"1 1 0 -1 0 ", "negative type"),
    (b"1 1 0 1 15 ", "flags 15: every flag bit"),
    (b"1 1 0 1 16 ", "flags 16 leaks into the type nibble"),
    (b"1 1 0 1 32 ", "flags 32 turns command-request (1) into type 3"),
    (b"1 1 0 9 240 ", "flags 240 turn stream-settings (9) into type 15"),
    (b"1 1 0 1 255 ", "flags 255"),
    (b"1 1 0 1 256 ", "flags 256 overflow the type/flags byte"),
    (b"1 1 0 1 -1 ", "negative flags"),
    (b"1 1 0 text-output 1 x", "numeric flag on a type that has no named flags"),
    # --- request and stream ids -------------------------------------------
    (b"0 0 0 1 1 ", "request 0 and stream 0"),
    (b"65535 1 0 1 1 ", "largest request id"),
    (b"65536 1 0 1 1 ", "request id overflows u16"),
    (b"-1 1 0 1 1 ", "negative request id"),
    (b"1 255 0 1 1 ", "largest stream id"),
    (b"1 256 0 1 1 ", "stream id overflows u8"),
    (b"1 -1 0 1 1 ", "negative stream id"),
    # --- integer spellings (Python int() on bytes) ---------------------------
    (b"+1 1 0 1 1 ", "int() accepts a leading +"),
    (b"1_0 1 0 1 1 ", "int() accepts underscores"),
    (b"1__0 1 0 1 1 ", "int() rejects a double underscore"),
    (b"_1 1 0 1 1 ", "int() rejects a leading underscore"),
    (b"0x10 1 0 1 1 ", "no hex in id fields"),
    (b"01 1 0 01 01 ", "leading zeros are fine for int()"),
    (b"1 1 0 1 0x1 ", "no hex in flags"),
    (b"1 1 0b1 1 1 ", "no binary in stream flags"),
    (b"\t1 1 0 1 1 ", "int() strips a tab; only spaces split fields"),
    (b"1 1 0 1 1\t x", "tab after the flags is stripped by int(); payload x"),
    (b"1\t1 0 1 1 x y", "a tab does not separate fields"),
    (b"1  1 0 1 1 ", "two spaces make an empty field"),
    (b" 1 1 0 1 1 ", "leading space makes an empty first field"),
    (b"\xd9\xa1 1 0 1 1 ", "non-ASCII bytes in a number field"),
    # --- field count ------------------------------------------------------------
    (b"", "empty string"),
    (b"1 1 0 1 1", "five fields, no trailing space: payload missing"),
    (b"1 1 0 1", "four fields"),
    (b"1 1 0 1 1  ", "payload is a single space"),
    (b"1 1 0 2 0 hello  world ", "payload keeps inner and trailing spaces"),
    (b"1 1 0 2 0  x", "payload starting with a space"),
    (b"1 1 0 2 0 a b c d e f", "payload containing spaces (split max 5)"),
    # --- raw payload escapes (codecs.escape_decode) ------------------------
    (b"1 1 0 2 0 \\x00", "\\x00"),
    (b"1 1 0 2 0 \\xff\\xFF", "\\xff upper and lower case"),
    (b"1 1 0 2 0 \\n\\r\\t\\a\\b\\f\\v", "C escapes"),
    (b"1 1 0 2 0 \\\\", "escaped backslash"),
    (b"1 1 0 2 0 \\'\\\"", "escaped quotes"),
    (b"1 1 0 2 0 \\101\\0\\12", "octal escapes of 1-3 digits"),
    (b"1 1 0 2 0 \\777", "octal escape above 0o377"),
    (b"1 1 0 2 0 \\400", "octal 0o400 wraps"),
    (b"1 1 0 2 0 \\8\\9", "\\8 and \\9 are not octal"),
    (b"1 1 0 2 0 \\q", "unknown escape is kept with its backslash"),
    (b"1 1 0 2 0 \\u00e9\\N{DASH}", "str-only escapes are unknown in bytes"),
    (b"1 1 0 2 0 \\xZZ", "invalid \\x escape"),
    (b"1 1 0 2 0 \\x0", "truncated \\x escape"),
    (b"1 1 0 2 0 abc\\", "trailing backslash"),
    (b"1 1 0 2 0 a\\\nb", "backslash-newline is a line continuation"),
    (b"1 1 0 2 0 \xe9\x00\xff", "raw non-ASCII and NUL bytes in the payload"),
    (b"1 1 0 2 0 cbor", "`cbor` without colon is a raw payload"),
    (b"1 1 0 2 0 CBOR:1", "the cbor: prefix is case-sensitive"),
    (b"1 1 0 2 0 \\x63bor:1", "an escaped c does not make a cbor: prefix"),
    (b"1 1 0 2 0 cbor:1 ", "cbor on command-data, trailing space"),
    # --- cbor: payloads (ast.literal_eval + cborutil) ----------------------
    (b"1 1 0 1 0 cbor:", "cbor: with nothing after it"),
    (b"1 1 0 1 0 cbor: 1", "leading space after cbor:"),
    (b"1 1 0 1 0 cbor:\t[1]", "leading tab after cbor:"),
    (b"1 1 0 1 0 cbor:1 # comment", "a Python comment after the literal"),
    (b"1 1 0 1 0 cbor:23", "largest 1-byte uint"),
    (b"1 1 0 1 0 cbor:24", "smallest 2-byte uint"),
    (b"1 1 0 1 0 cbor:255", "largest 2-byte uint"),
    (b"1 1 0 1 0 cbor:256", "smallest 3-byte uint"),
    (b"1 1 0 1 0 cbor:65536", "smallest 5-byte uint"),
    (b"1 1 0 1 0 cbor:4294967296", "smallest 9-byte uint"),
    (b"1 1 0 1 0 cbor:18446744073709551615", "2**64-1"),
    (b"1 1 0 1 0 cbor:18446744073709551616", "2**64: too big"),
    (b"1 1 0 1 0 cbor:-24", "-24: 1-byte negint"),
    (b"1 1 0 1 0 cbor:-25", "-25: 2-byte negint"),
    (b"1 1 0 1 0 cbor:-18446744073709551616", "-2**64: smallest encodable"),
    (b"1 1 0 1 0 cbor:-18446744073709551617", "-2**64-1: too small"),
    (b"1 1 0 1 0 cbor:2**64", "operators are not literals"),
    (b"1 1 0 1 0 cbor:0x1f", "hex int literal"),
    (b"1 1 0 1 0 cbor:0o17", "octal int literal"),
    (b"1 1 0 1 0 cbor:0b101", "binary int literal"),
    (b"1 1 0 1 0 cbor:1_000", "underscore int literal"),
    (b"1 1 0 1 0 cbor:017", "leading-zero int literal is a syntax error"),
    (b"1 1 0 1 0 cbor:+5", "unary plus"),
    (b"1 1 0 1 0 cbor:-0", "minus zero"),
    (b"1 1 0 1 0 cbor:--1", "double unary minus"),
    (b"1 1 0 1 0 cbor:None", "None"),
    (b"1 1 0 1 0 cbor:True", "True"),
    (b"1 1 0 1 0 cbor:[True, False, None]", "simple values in a list"),
    (b"1 1 0 1 0 cbor:b''", "empty bytes"),
    (b"1 1 0 1 0 cbor:[]", "empty list"),
    (b"1 1 0 1 0 cbor:{}", "empty dict"),
    (b"1 1 0 1 0 cbor:()", "empty tuple is an array"),
    (b"1 1 0 1 0 cbor:set()", "empty set: tag 258 + empty array"),
    (b"1 1 0 1 0 cbor:[[], {}, (), [[1]]]", "nested empty containers"),
    (b"1 1 0 1 0 cbor:{b'a': [1, {b'b': (2, 3)}], b'c': {b'd': None}}", "nested dicts, lists, tuples"),
    (b"1 1 0 1 0 cbor:{3, 1, 2}", "set of ints is sorted"),
    (b"1 1 0 1 0 cbor:{b'b', b'a', b'c'}", "set of bytes is sorted"),
    (b"1 1 0 1 0 cbor:{3, b'x', None, True}", "mixed-type set sorted by type name"),
    (b"1 1 0 1 0 cbor:[{1, 2}, {b'k': {3}}]", "sets nested in containers"),
    (b"1 1 0 1 0 cbor:{(1, 2), (0, 5)}", "set of tuples"),
    (b"1 1 0 1 0 cbor:{1: b'a', b'b': 2}", "dict with int and bytes keys (bytes sort first)"),
    (b"1 1 0 1 0 cbor:{1: b'x', True: b'y'}", "1 and True are the same Python key"),
    (b"1 1 0 1 0 cbor:{True: 1, 2: 3, None: 4, b'k': 5}", "keys sorted by type name: NoneType, bool, bytes, int"),
    (b"1 1 0 1 0 cbor:{b'z': 1, b'a': 2, b'aa': 3, b'B': 4}", "bytes keys sorted bytewise, not length-first"),
    (b"1 1 0 1 0 cbor:{(1, 2): b'x'}", "tuple key"),
    (b"1 1 0 1 0 cbor:{(1,): 1, (b'a',): 2}", "tuple keys that cannot be compared"),
    (b"1 1 0 1 0 cbor:{[1]: 2}", "unhashable key"),
    (b"1 1 0 1 0 cbor:{b'k': 1, b'k': 2}", "duplicate key: last wins"),
    (b"1 1 0 1 0 cbor:b'\\x00\\n\\\\'", "escapes inside a bytes literal"),
    (b"1 1 0 1 0 cbor:b'\\q'", "unknown escape inside a bytes literal"),
    (b"1 1 0 1 0 cbor:b'''it's'''", "triple-quoted bytes"),
    (b'1 1 0 1 0 cbor:b"""x"""', "triple double-quoted bytes"),
    (b"1 1 0 1 0 cbor:rb'\\x00'", "raw bytes literal keeps the backslash"),
    (b"1 1 0 1 0 cbor:Br'\\n'", "Br prefix"),
    (b"1 1 0 1 0 cbor:b'a' b'b'", "adjacent bytes literals concatenate"),
    (b"1 1 0 1 0 cbor:b'a' 'b'", "bytes and str literals cannot concatenate"),
    (b"1 1 0 1 0 cbor:b'\xe9'", "raw non-ASCII byte inside a bytes literal"),
    (b"1 1 0 1 0 cbor:b'\\xe9'", "escaped non-ASCII byte inside a bytes literal"),
    (b"1 1 0 1 0 cbor:'abc'", "str value"),
    (b"1 1 0 1 0 cbor:[b'ok', 'abc']", "str nested in a list"),
    (b"1 1 0 1 0 cbor:1.5", "float"),
    (b"1 1 0 1 0 cbor:1j", "complex"),
    (b"1 1 0 1 0 cbor:...", "Ellipsis"),
    (b"1 1 0 1 0 cbor:frozenset()", "frozenset() is not a literal"),
    (b"1 1 0 1 0 cbor:[1, 2,]", "trailing comma in a list"),
    (b"1 1 0 1 0 cbor:{b'a': 1,}", "trailing comma in a dict"),
    (b"1 1 0 1 0 cbor:(1,)", "one-element tuple"),
    (b"1 1 0 1 0 cbor:(1)", "parentheses are not a tuple"),
    (b"1 1 0 1 0 cbor:1, 2", "top-level tuple without parentheses"),
    (b"1 1 0 1 0 cbor:[ 1 ,\n  2 ]", "whitespace and a newline inside brackets"),
    (b"1 1 0 1 0 cbor:[1]\n", "newline after the literal"),
    (b"1 1 0 1 0 cbor:[1] [2]", "two literals"),
    (b"1 1 0 1 0 cbor:[1", "unclosed bracket"),
]


# ---------------------------------------------------------------------------
# Running Mercurial
# ---------------------------------------------------------------------------

ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")


def run(s):
    """makeframefromhumanstring(s) -> dict of result fields."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = framing.makeframefromhumanstring(s)
            result = {"ok": True, "frame_hex": bytes(frame).hex()}
        except Exception as e:  # every failure is data
            # `<ast.BinOp object at 0x7f...>` would make the file differ on
            # every run.
            msg = ADDRESS_RE.sub(" at 0x...", str(e))
            # struct.error is just "error" by name: qualify non-builtins.
            name = type(e).__name__
            if type(e).__module__ != "builtins":
                name = "%s.%s" % (type(e).__module__, name)
            result = {"ok": False, "error": "%s: %s" % (name, msg)}
    msgs = []
    for w in caught:
        m = "%s: %s" % (w.category.__name__, w.message)
        if m not in msgs:
            msgs.append(m)
    if msgs:
        result["warnings"] = msgs
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", required=True, help="tests/ of the Mercurial 6.0 sdist")
    ap.add_argument("--out", required=True, help="output .jsonl")
    ap.add_argument(
        "--shared",
        default=os.path.join(here, "..", "..", "shared"),
        help="the shared/ folder (notes and vectors; default: ../shared next to the clone)",
    )
    args = ap.parse_args()

    if not util.version().startswith(b"6.0"):
        raise SystemExit("need Mercurial 6.0, this python has %s" % util.version().decode())
    shared = os.path.normpath(args.shared)
    mdpath = os.path.join(shared, "protocol", "mercurial-tests.md")
    vecdir = os.path.join(shared, "vectors", "0006")
    for p in (args.tests, mdpath, vecdir):
        if not os.path.exists(p):
            raise SystemExit("missing: %s" % p)

    # The tests must be 6.0's too, not some other checkout's.
    verfile = os.path.join(args.tests, "..", "mercurial", "__version__.py")
    if os.path.exists(verfile):
        with open(verfile, "rb") as fh:
            if b'version = b"6.0"' not in fh.read():
                raise SystemExit("%s is not the Mercurial 6.0 sdist's tests/" % args.tests)

    stats = {}
    md_expected = {}
    occ = []
    occ += collect_py(args.tests, stats)
    occ += collect_t(args.tests, stats)
    occ += collect_md(mdpath, "shared/protocol/mercurial-tests.md", stats, md_expected)
    vec_occ, vec_files = collect_vectors(vecdir, "shared/vectors/0006/", stats)
    occ += vec_occ
    occ += [Occurrence("edge", "edge", 0, s, note=n) for s, n in EDGE]
    stats["edge"] = {"found": len(EDGE), "evaluated": len(EDGE), "skipped": []}

    # Deduplicate on the string given to the function: the occurrence from
    # the most authoritative source wins, the others go to "also".
    by_string = {}
    for o in sorted(occ, key=lambda o: (PRIORITY[o.kind],) + o.sortkey()):
        by_string.setdefault(o.s, []).append(o)

    records = []
    kept = {}
    for s, group in by_string.items():
        first = group[0]
        kept[first.path] = kept.get(first.path, 0) + 1
        rec = {"source": first.source, "line_hex": s.hex(), "line": s.decode("latin-1")}
        rec.update(run(s))
        if first.raw is not None and first.raw != s:
            rec["raw"] = first.raw.decode("latin-1")
            rec["raw_hex"] = first.raw.hex()
        if first.note:
            rec["note"] = first.note
        also = []
        for o in group[1:]:
            if o.source not in also and o.source != first.source:
                also.append(o.source)
        if also:
            rec["also"] = also
        records.append((first.sortkey(), rec))
        if first.kind != "edge" and any(o.kind == "edge" for o in group):
            print("note: edge case duplicates %s: %r" % (first.source, s), file=sys.stderr)

    records.sort(key=lambda r: r[0])
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        for _, rec in records:
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
    os.replace(tmp, args.out)

    # ---- summary on stderr -------------------------------------------------
    results = {r["line_hex"]: r for _, r in records}
    err = sys.stderr
    print("per source file: found / evaluated / skipped / distinct kept", file=err)
    for label in sorted(stats):
        st = stats[label]
        print("  %-50s %4d %4d %4d %4d" % (label, st["found"], st["evaluated"], len(st["skipped"]), kept.get(label, 0)), file=err)
        for lineno, why, what in st["skipped"]:
            what = what if isinstance(what, str) else what.decode("latin-1")
            print("      skipped :%d (%s): %s" % (lineno, why, what[:100]), file=err)
    nok = sum(1 for _, r in records if r["ok"])
    print("records: %d (ok %d, error %d)" % (len(records), nok, len(records) - nok), file=err)
    for s, hexpected in sorted(md_expected.items()):
        got = results[s.hex()].get("frame_hex")
        if got != hexpected:
            print("MISMATCH mercurial-tests.md %r: table %s, hg %s" % (s, hexpected, got), file=err)
    for name, strings in sorted(vec_files.items()):
        binpath = os.path.join(vecdir, name[: -len(".txt")] + ".bin")
        if not os.path.exists(binpath):
            continue
        with open(binpath, "rb") as fh:
            want = fh.read().hex()
        got = "".join(results[s.hex()].get("frame_hex") or "<error>" for s in strings)
        print("vector %-34s %s" % (name, "matches .bin" if got == want else "DIFFERS from .bin"), file=err)
    print("wrote %s" % args.out, file=err)


if __name__ == "__main__":
    main()
