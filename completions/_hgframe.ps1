
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hgframe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hgframe'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hgframe' {
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Turn human frame strings into wire bytes.')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Decode wire bytes into frames')
            [CompletionResult]::new('reflect', 'reflect', [CompletionResultType]::ParameterValue, 'Run frames through a server reactor and show what it does')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Run real commands on a server (0005, 0006) and decode the response stream.')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check that a server''s frame protocol endpoints work, step by step, and say how to fix what does not')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run replay scripts (.hgframe transcripts) and check their expected output')
            [CompletionResult]::new('repl', 'repl', [CompletionResultType]::ParameterValue, 'Interactive session: frames answered as they are typed')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve Mercurial''s HTTP API (debugreflect, canned responses) from hgframe''s own reactor.')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Stand between a Mercurial client and server and show the exchange.')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page (roff): hgframe(1), or one subcommand''s')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hgframe;encode' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;decode' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--side', '--side', [CompletionResultType]::ParameterName, 'Which side of an exchange the bytes are: a request (frames listed) or a response (streams decoded, objects reassembled and grouped by request, every frame judged by Mercurial''s client reactor). Default: decided from the first frame (-v says how)')
            [CompletionResult]::new('--content-type', '--content-type', [CompletionResultType]::ParameterName, 'The body''s HTTP Content-Type: a frames media type names the revision; other types are decoded as what they say (any text/* as text)')
            [CompletionResult]::new('--request', '--request', [CompletionResultType]::ParameterName, 'The request body a response answers: its commands set the client reactor up as the client that sent them. Without it, requests 1, 3, 5, ... are assumed sent as the frames name them')
            [CompletionResult]::new('--max-value', '--max-value', [CompletionResultType]::ParameterName, 'Memory bound for responses: the most one frame may decode to, and one request''s incomplete value may hold (bytes; K, M, G suffixes). Over it decoding stops (exit 5)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--hex-input', '--hex-input', [CompletionResultType]::ParameterName, 'The input is hex text (whitespace ignored), not binary')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('--mercurial-lengths', '--mercurial-lengths', [CompletionResultType]::ParameterName, 'Read lengths as Mercurial servers do (b0 + 256*b1 + 16384*b2)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;reflect' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Post the frames to a server''s debugreflect endpoint instead (URL of the repository, e.g. http://127.0.0.1:8000/)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Total time allowed for a request, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect, in seconds')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--max-response', '--max-response', [CompletionResultType]::ParameterName, 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--max-value', '--max-value', [CompletionResultType]::ParameterName, 'The most memory one decoded request value may take (a command request, the protocol settings), in bytes or with K, M, G. Mercurial has no bound; past it hgframe says what Mercurial would build instead of building it (exit 4)')
            [CompletionResult]::new('--respond', '--respond', [CompletionResultType]::ParameterName, 'Canned response for a dispatched command: REQUESTID=RESPONSE or COMMAND=RESPONSE, where RESPONSE is escaped text, @FILE, cbor:<literal> (0006: the objects of a list literal), or error:TEXT. Repeatable')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read frame lines from a file (- for stdin)')
            [CompletionResult]::new('--bin', '--bin', [CompletionResultType]::ParameterName, 'Read raw frame bytes (a request body) from a file (- for stdin)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Use hgframe''s local reactor (the default; no server needed)')
            [CompletionResult]::new('--rw', '--rw', [CompletionResultType]::ParameterName, 'Use the rw/ endpoint (needs push permission) instead of ro/')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'With --url: also run the frames through the local reactor and show any difference (exit 1 when they differ)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--curl', '--curl', [CompletionResultType]::ParameterName, 'Print an equivalent curl command instead of sending')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Same as --format raw')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('--defer-output', '--defer-output', [CompletionResultType]::ParameterName, 'Buffer responses until end of input (half-duplex, as the HTTP server)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;send' {
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Command data from a file (- for stdin), for the first command')
            [CompletionResult]::new('--encodings', '--encodings', [CompletionResultType]::ParameterName, 'Content encodings to announce, in order (others are sent with a warning)')
            [CompletionResult]::new('--max-value', '--max-value', [CompletionResultType]::ParameterName, 'Memory bound for the response: the most one frame may decode to, one request''s incomplete value may hold, and (for the summary) the objects and frames kept (bytes; K, M, G suffixes). Over it: exit 5')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Total time allowed for a request, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect, in seconds')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--max-response', '--max-response', [CompletionResultType]::ParameterName, 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--rw', '--rw', [CompletionResultType]::ParameterName, 'Use the rw/ endpoint (needs push permission)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON event per line (schema below)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--curl', '--curl', [CompletionResultType]::ParameterName, 'Print an equivalent curl command instead of sending')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;doctor' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Total time allowed for a request, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect, in seconds')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--max-response', '--max-response', [CompletionResultType]::ParameterName, 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON event per line: a `check` per step, then a `summary` (schema below)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;replay' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Run against a server''s debugreflect endpoint')
            [CompletionResult]::new('--against', '--against', [CompletionResultType]::ParameterName, 'Run every script on two targets and report where they disagree, e.g. --against local,http://127.0.0.1:8000/')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write a JUnit XML report')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Scripts run in parallel (their results come in the order they finish)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Scripts run in parallel (their results come in the order they finish)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Total time allowed for a request, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect, in seconds')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--max-response', '--max-response', [CompletionResultType]::ParameterName, 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Run against the local reactor (the default)')
            [CompletionResult]::new('--update', '--update', [CompletionResultType]::ParameterName, 'Rewrite the expected output in place from the actual output')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON event per line: a `script` event per script, then a `summary` event (schema below)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar, no PASS or SKIP lines (nor passed or skipped events with --json): failures, errors, updates and the summary only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar, no PASS or SKIP lines (nor passed or skipped events with --json): failures, errors, updates and the summary only')
            [CompletionResult]::new('--allow-file-access', '--allow-file-access', [CompletionResultType]::ParameterName, 'Let `respond KEY @FILE` lines read any file, not only files beside the script (for scripts you trust)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;repl' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Start with a server target')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Total time allowed for a request, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect, in seconds')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header (repeatable); sent to the URL''s own origin only, never after a redirect to another one')
            [CompletionResult]::new('--max-response', '--max-response', [CompletionResultType]::ParameterName, 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request (method, URL, headers, frames) instead of sending it')
            [CompletionResult]::new('--curl', '--curl', [CompletionResultType]::ParameterName, 'Print an equivalent curl command instead of sending')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 picks a free port)')
            [CompletionResult]::new('--respond', '--respond', [CompletionResultType]::ParameterName, 'Canned response for a command: NAME=TEXT, NAME=@FILE, NAME=cbor:<literal> (0006: a list literal gives several objects) or NAME=error:TEXT. Repeatable')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--max-total-body', '--max-total-body', [CompletionResultType]::ParameterName, 'The most memory all requests may hold at once: their bodies and the debugreflect answers built from them, until sent (past it: 503 with Retry-After; an answer that alone would pass it: 500 saying so)')
            [CompletionResult]::new('--max-value', '--max-value', [CompletionResultType]::ParameterName, 'The most memory one decoded request value may take (past it: 500, with the reason in the log)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds a client may take to send its request (else 408)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--public', '--public', [CompletionResultType]::ParameterName, 'Allow listening on a non-loopback address')
            [CompletionResult]::new('--no-reflect', '--no-reflect', [CompletionResultType]::ParameterName, 'Disable the debugreflect endpoint (404, as a server without experimental.web.api.debugreflect)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON events on stdout, one per line, instead of the text log on stderr (schema below)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;proxy' {
            [CompletionResult]::new('--upstream', '--upstream', [CompletionResultType]::ParameterName, 'The server to forward to (e.g. http://127.0.0.1:8000/; https works)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 picks a free port)')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write the frame-protocol requests seen as a replay transcript when the proxy stops')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Also trust the certificates of this PEM file (repeatable), e.g. a test server''s self-signed certificate')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Show only exchanges of these commands (repeatable; `debugreflect` for reflect requests, `capabilities` includes the handshake)')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G')
            [CompletionResult]::new('--max-total-body', '--max-total-body', [CompletionResultType]::ParameterName, 'The most all request bodies held at once may take together (past it: 503 with Retry-After)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time allowed for one exchange with the upstream, in seconds')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect to the upstream, in seconds')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('--public', '--public', [CompletionResultType]::ParameterName, 'Allow listening on a non-loopback address')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON event per line (schema in the README)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show each frame''s bytes as hex too')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;completions' {
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;man' {
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006')
            [CompletionResult]::new('--hg', '--hg', [CompletionResultType]::ParameterName, 'Speak as Mercurial VERSION''s server does (4.6 to 6.0): its revision and its Python''s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0''s JSON)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail (the chosen revision and why, full payloads)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hgframe;help' {
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Turn human frame strings into wire bytes.')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Decode wire bytes into frames')
            [CompletionResult]::new('reflect', 'reflect', [CompletionResultType]::ParameterValue, 'Run frames through a server reactor and show what it does')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Run real commands on a server (0005, 0006) and decode the response stream.')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check that a server''s frame protocol endpoints work, step by step, and say how to fix what does not')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run replay scripts (.hgframe transcripts) and check their expected output')
            [CompletionResult]::new('repl', 'repl', [CompletionResultType]::ParameterValue, 'Interactive session: frames answered as they are typed')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve Mercurial''s HTTP API (debugreflect, canned responses) from hgframe''s own reactor.')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Stand between a Mercurial client and server and show the exchange.')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page (roff): hgframe(1), or one subcommand''s')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hgframe;help;encode' {
            break
        }
        'hgframe;help;decode' {
            break
        }
        'hgframe;help;reflect' {
            break
        }
        'hgframe;help;send' {
            break
        }
        'hgframe;help;doctor' {
            break
        }
        'hgframe;help;replay' {
            break
        }
        'hgframe;help;repl' {
            break
        }
        'hgframe;help;serve' {
            break
        }
        'hgframe;help;proxy' {
            break
        }
        'hgframe;help;completions' {
            break
        }
        'hgframe;help;man' {
            break
        }
        'hgframe;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
