
use builtin;
use str;

set edit:completion:arg-completer[hgframe] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hgframe'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hgframe'= {
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand encode 'Turn human frame strings into wire bytes.'
            cand decode 'Decode wire bytes into frames'
            cand reflect 'Run frames through a server reactor and show what it does'
            cand send 'Run real commands on a server (0005, 0006) and decode the response stream.'
            cand doctor 'Check that a server''s frame protocol endpoints work, step by step, and say how to fix what does not'
            cand replay 'Run replay scripts (.hgframe transcripts) and check their expected output'
            cand repl 'Interactive session: frames answered as they are typed'
            cand serve 'Serve Mercurial''s HTTP API (debugreflect, canned responses) from hgframe''s own reactor.'
            cand proxy 'Stand between a Mercurial client and server and show the exchange.'
            cand completions 'Print a shell completion script'
            cand man 'Print a man page (roff): hgframe(1), or one subcommand''s'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hgframe;encode'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;decode'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --side 'Which side of an exchange the bytes are: a request (frames listed) or a response (streams decoded, objects reassembled and grouped by request, every frame judged by Mercurial''s client reactor). Default: decided from the first frame (-v says how)'
            cand --content-type 'The body''s HTTP Content-Type: a frames media type names the revision; other types are decoded as what they say (any text/* as text)'
            cand --request 'The request body a response answers: its commands set the client reactor up as the client that sent them. Without it, requests 1, 3, 5, ... are assumed sent as the frames name them'
            cand --max-value 'Memory bound for responses: the most one frame may decode to, and one request''s incomplete value may hold (bytes; K, M, G suffixes). Over it decoding stops (exit 5)'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --hex-input 'The input is hex text (whitespace ignored), not binary'
            cand --json 'Same as --format json'
            cand --mercurial-lengths 'Read lengths as Mercurial servers do (b0 + 256*b1 + 16384*b2)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;reflect'= {
            cand --url 'Post the frames to a server''s debugreflect endpoint instead (URL of the repository, e.g. http://127.0.0.1:8000/)'
            cand --timeout 'Total time allowed for a request, in seconds'
            cand --connect-timeout 'Time allowed to connect, in seconds'
            cand -H 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --header 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --max-response 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand -f 'Output format'
            cand --format 'Output format'
            cand --max-value 'The most memory one decoded request value may take (a command request, the protocol settings), in bytes or with K, M, G. Mercurial has no bound; past it hgframe says what Mercurial would build instead of building it (exit 4)'
            cand --respond 'Canned response for a dispatched command: REQUESTID=RESPONSE or COMMAND=RESPONSE, where RESPONSE is escaped text, @FILE, cbor:<literal> (0006: the objects of a list literal), or error:TEXT. Repeatable'
            cand --file 'Read frame lines from a file (- for stdin)'
            cand --bin 'Read raw frame bytes (a request body) from a file (- for stdin)'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --local 'Use hgframe''s local reactor (the default; no server needed)'
            cand --rw 'Use the rw/ endpoint (needs push permission) instead of ro/'
            cand --compare 'With --url: also run the frames through the local reactor and show any difference (exit 1 when they differ)'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand -n 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --dry-run 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --curl 'Print an equivalent curl command instead of sending'
            cand --raw 'Same as --format raw'
            cand --json 'Same as --format json'
            cand --defer-output 'Buffer responses until end of input (half-duplex, as the HTTP server)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;send'= {
            cand --data 'Command data from a file (- for stdin), for the first command'
            cand --encodings 'Content encodings to announce, in order (others are sent with a warning)'
            cand --max-value 'Memory bound for the response: the most one frame may decode to, one request''s incomplete value may hold, and (for the summary) the objects and frames kept (bytes; K, M, G suffixes). Over it: exit 5'
            cand --timeout 'Total time allowed for a request, in seconds'
            cand --connect-timeout 'Time allowed to connect, in seconds'
            cand -H 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --header 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --max-response 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --rw 'Use the rw/ endpoint (needs push permission)'
            cand --json 'One JSON event per line (schema below)'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand -n 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --dry-run 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --curl 'Print an equivalent curl command instead of sending'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;doctor'= {
            cand --timeout 'Total time allowed for a request, in seconds'
            cand --connect-timeout 'Time allowed to connect, in seconds'
            cand -H 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --header 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --max-response 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --json 'One JSON event per line: a `check` per step, then a `summary` (schema below)'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;replay'= {
            cand --url 'Run against a server''s debugreflect endpoint'
            cand --against 'Run every script on two targets and report where they disagree, e.g. --against local,http://127.0.0.1:8000/'
            cand --junit 'Write a JUnit XML report'
            cand -j 'Scripts run in parallel (their results come in the order they finish)'
            cand --jobs 'Scripts run in parallel (their results come in the order they finish)'
            cand --timeout 'Total time allowed for a request, in seconds'
            cand --connect-timeout 'Time allowed to connect, in seconds'
            cand -H 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --header 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --max-response 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --local 'Run against the local reactor (the default)'
            cand --update 'Rewrite the expected output in place from the actual output'
            cand --json 'One JSON event per line: a `script` event per script, then a `summary` event (schema below)'
            cand -q 'No progress bar, no PASS or SKIP lines (nor passed or skipped events with --json): failures, errors, updates and the summary only'
            cand --quiet 'No progress bar, no PASS or SKIP lines (nor passed or skipped events with --json): failures, errors, updates and the summary only'
            cand --allow-file-access 'Let `respond KEY @FILE` lines read any file, not only files beside the script (for scripts you trust)'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;repl'= {
            cand --url 'Start with a server target'
            cand --timeout 'Total time allowed for a request, in seconds'
            cand --connect-timeout 'Time allowed to connect, in seconds'
            cand -H 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --header 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one'
            cand --max-response 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand -n 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --dry-run 'Print the request (method, URL, headers, frames) instead of sending it'
            cand --curl 'Print an equivalent curl command instead of sending'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;serve'= {
            cand --listen 'Address to listen on (port 0 picks a free port)'
            cand --respond 'Canned response for a command: NAME=TEXT, NAME=@FILE, NAME=cbor:<literal> (0006: a list literal gives several objects) or NAME=error:TEXT. Repeatable'
            cand --max-body 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G'
            cand --max-total-body 'The most memory all requests may hold at once: their bodies and the debugreflect answers built from them, until sent (past it: 503 with Retry-After; an answer that alone would pass it: 500 saying so)'
            cand --max-value 'The most memory one decoded request value may take (past it: 500, with the reason in the log)'
            cand --timeout 'Seconds a client may take to send its request (else 408)'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --public 'Allow listening on a non-loopback address'
            cand --no-reflect 'Disable the debugreflect endpoint (404, as a server without experimental.web.api.debugreflect)'
            cand --json 'JSON events on stdout, one per line, instead of the text log on stderr (schema below)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;proxy'= {
            cand --upstream 'The server to forward to (e.g. http://127.0.0.1:8000/; https works)'
            cand --listen 'Address to listen on (port 0 picks a free port)'
            cand --record 'Write the frame-protocol requests seen as a replay transcript when the proxy stops'
            cand --cacert 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate'
            cand --command 'Show only exchanges of these commands (repeatable; `debugreflect` for reflect requests, `capabilities` includes the handshake)'
            cand --max-body 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G'
            cand --max-total-body 'The most all request bodies held at once may take together (past it: 503 with Retry-After)'
            cand --timeout 'Time allowed for one exchange with the upstream, in seconds'
            cand --connect-timeout 'Time allowed to connect to the upstream, in seconds'
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand --public 'Allow listening on a non-loopback address'
            cand -k 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --insecure 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
            cand --json 'One JSON event per line (schema in the README)'
            cand --hex 'Show each frame''s bytes as hex too'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;completions'= {
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;man'= {
            cand --proto 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006'
            cand --hg 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)'
            cand --color 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)'
            cand -v 'More detail (the chosen revision and why, full payloads)'
            cand --verbose 'More detail (the chosen revision and why, full payloads)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hgframe;help'= {
            cand encode 'Turn human frame strings into wire bytes.'
            cand decode 'Decode wire bytes into frames'
            cand reflect 'Run frames through a server reactor and show what it does'
            cand send 'Run real commands on a server (0005, 0006) and decode the response stream.'
            cand doctor 'Check that a server''s frame protocol endpoints work, step by step, and say how to fix what does not'
            cand replay 'Run replay scripts (.hgframe transcripts) and check their expected output'
            cand repl 'Interactive session: frames answered as they are typed'
            cand serve 'Serve Mercurial''s HTTP API (debugreflect, canned responses) from hgframe''s own reactor.'
            cand proxy 'Stand between a Mercurial client and server and show the exchange.'
            cand completions 'Print a shell completion script'
            cand man 'Print a man page (roff): hgframe(1), or one subcommand''s'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hgframe;help;encode'= {
        }
        &'hgframe;help;decode'= {
        }
        &'hgframe;help;reflect'= {
        }
        &'hgframe;help;send'= {
        }
        &'hgframe;help;doctor'= {
        }
        &'hgframe;help;replay'= {
        }
        &'hgframe;help;repl'= {
        }
        &'hgframe;help;serve'= {
        }
        &'hgframe;help;proxy'= {
        }
        &'hgframe;help;completions'= {
        }
        &'hgframe;help;man'= {
        }
        &'hgframe;help;help'= {
        }
    ]
    $completions[$command]
}
