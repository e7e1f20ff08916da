# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hgframe_global_optspecs
    string join \n proto= hg= color= v/verbose h/help V/version
end

function __fish_hgframe_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hgframe_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hgframe_using_subcommand
    set -l cmd (__fish_hgframe_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hgframe -n "__fish_hgframe_needs_command" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_needs_command" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_needs_command" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_needs_command" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_needs_command" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "encode" -d 'Turn human frame strings into wire bytes.'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "decode" -d 'Decode wire bytes into frames'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "reflect" -d 'Run frames through a server reactor and show what it does'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "send" -d 'Run real commands on a server (0005, 0006) and decode the response stream.'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "doctor" -d 'Check that a server\'s frame protocol endpoints work, step by step, and say how to fix what does not'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "replay" -d 'Run replay scripts (.hgframe transcripts) and check their expected output'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "repl" -d 'Interactive session: frames answered as they are typed'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "serve" -d 'Serve Mercurial\'s HTTP API (debugreflect, canned responses) from hgframe\'s own reactor.'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "proxy" -d 'Stand between a Mercurial client and server and show the exchange.'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "man" -d 'Print a man page (roff): hgframe(1), or one subcommand\'s'
complete -c hgframe -n "__fish_hgframe_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -s f -l format -d 'Output format' -r -f -a "raw\t'Binary frames back to back (refused on a terminal)'
hex\t'One frame per line, lowercase hex'
escaped\t'One frame per line, Python-escaped bytes'"
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand encode" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -s f -l format -d 'Output format' -r -f -a "blocks\t'One readable block per frame'
human\t'One human string per frame (`encode` turns it back into the same bytes)'
json\t'One JSON object per frame (schema in the README)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l side -d 'Which side of an exchange the bytes are: a request (frames listed) or a response (streams decoded, objects reassembled and grouped by request, every frame judged by Mercurial\'s client reactor). Default: decided from the first frame (-v says how)' -r -f -a "request\t'Client to server: command requests'
response\t'Server to client: command responses'"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l content-type -d 'The body\'s HTTP Content-Type: a frames media type names the revision; other types are decoded as what they say (any text/* as text)' -r -f -a "application/mercurial-exp-framing-0001\t'frames, 0001'
application/mercurial-exp-framing-0002\t'frames, 0002'
application/mercurial-exp-framing-0005\t'frames, 0005'
application/mercurial-exp-framing-0006\t'frames, 0006'
application/mercurial-cbor\t'CBOR values'
text/plain\t'text'
text/html\t'a page, summed up'"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l request -d 'The request body a response answers: its commands set the client reactor up as the client that sent them. Without it, requests 1, 3, 5, ... are assumed sent as the frames name them' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l max-value -d 'Memory bound for responses: the most one frame may decode to, and one request\'s incomplete value may hold (bytes; K, M, G suffixes). Over it decoding stops (exit 5)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l hex-input -d 'The input is hex text (whitespace ignored), not binary'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l json -d 'Same as --format json'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -l mercurial-lengths -d 'Read lengths as Mercurial servers do (b0 + 256*b1 + 16384*b2)'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand decode" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l url -d 'Post the frames to a server\'s debugreflect endpoint instead (URL of the repository, e.g. http://127.0.0.1:8000/)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l timeout -d 'Total time allowed for a request, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l connect-timeout -d 'Time allowed to connect, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s H -l header -d 'Extra request header (repeatable); sent to the URL\'s own origin only, never after a redirect to another one' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l max-response -d 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s f -l format -d 'Output format' -r -f -a "pretty\t'Each frame with the action it causes, readable'
json\t'One JSON event per line (schema in the README)'
raw\t'Exactly the body the revision\'s debugreflect endpoint returns'"
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l max-value -d 'The most memory one decoded request value may take (a command request, the protocol settings), in bytes or with K, M, G. Mercurial has no bound; past it hgframe says what Mercurial would build instead of building it (exit 4)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l respond -d 'Canned response for a dispatched command: REQUESTID=RESPONSE or COMMAND=RESPONSE, where RESPONSE is escaped text, @FILE, cbor:<literal> (0006: the objects of a list literal), or error:TEXT. Repeatable' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l file -d 'Read frame lines from a file (- for stdin)' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l bin -d 'Read raw frame bytes (a request body) from a file (- for stdin)' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l local -d 'Use hgframe\'s local reactor (the default; no server needed)'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l rw -d 'Use the rw/ endpoint (needs push permission) instead of ro/'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l compare -d 'With --url: also run the frames through the local reactor and show any difference (exit 1 when they differ)'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s n -l dry-run -d 'Print the request (method, URL, headers, frames) instead of sending it'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l curl -d 'Print an equivalent curl command instead of sending'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l raw -d 'Same as --format raw'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l json -d 'Same as --format json'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -l defer-output -d 'Buffer responses until end of input (half-duplex, as the HTTP server)'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand reflect" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l data -d 'Command data from a file (- for stdin), for the first command' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l encodings -d 'Content encodings to announce, in order (others are sent with a warning)' -r -f -a "identity\t''
zlib\t''
zstd-8mb\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l max-value -d 'Memory bound for the response: the most one frame may decode to, one request\'s incomplete value may hold, and (for the summary) the objects and frames kept (bytes; K, M, G suffixes). Over it: exit 5' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l timeout -d 'Total time allowed for a request, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l connect-timeout -d 'Time allowed to connect, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s H -l header -d 'Extra request header (repeatable); sent to the URL\'s own origin only, never after a redirect to another one' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l max-response -d 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l rw -d 'Use the rw/ endpoint (needs push permission)'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l json -d 'One JSON event per line (schema below)'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s n -l dry-run -d 'Print the request (method, URL, headers, frames) instead of sending it'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -l curl -d 'Print an equivalent curl command instead of sending'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand send" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l timeout -d 'Total time allowed for a request, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l connect-timeout -d 'Time allowed to connect, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -s H -l header -d 'Extra request header (repeatable); sent to the URL\'s own origin only, never after a redirect to another one' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l max-response -d 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -l json -d 'One JSON event per line: a `check` per step, then a `summary` (schema below)'
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l url -d 'Run against a server\'s debugreflect endpoint' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l against -d 'Run every script on two targets and report where they disagree, e.g. --against local,http://127.0.0.1:8000/' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l junit -d 'Write a JUnit XML report' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s j -l jobs -d 'Scripts run in parallel (their results come in the order they finish)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l timeout -d 'Total time allowed for a request, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l connect-timeout -d 'Time allowed to connect, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s H -l header -d 'Extra request header (repeatable); sent to the URL\'s own origin only, never after a redirect to another one' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l max-response -d 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l local -d 'Run against the local reactor (the default)'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l update -d 'Rewrite the expected output in place from the actual output'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l json -d 'One JSON event per line: a `script` event per script, then a `summary` event (schema below)'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s q -l quiet -d 'No progress bar, no PASS or SKIP lines (nor passed or skipped events with --json): failures, errors, updates and the summary only'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -l allow-file-access -d 'Let `respond KEY @FILE` lines read any file, not only files beside the script (for scripts you trust)'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand replay" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l url -d 'Start with a server target' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l timeout -d 'Total time allowed for a request, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l connect-timeout -d 'Time allowed to connect, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s H -l header -d 'Extra request header (repeatable); sent to the URL\'s own origin only, never after a redirect to another one' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l max-response -d 'The largest response body read (past it: an error naming this option), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s n -l dry-run -d 'Print the request (method, URL, headers, frames) instead of sending it'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -l curl -d 'Print an equivalent curl command instead of sending'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand repl" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l listen -d 'Address to listen on (port 0 picks a free port)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l respond -d 'Canned response for a command: NAME=TEXT, NAME=@FILE, NAME=cbor:<literal> (0006: a list literal gives several objects) or NAME=error:TEXT. Repeatable' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l max-body -d 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l max-total-body -d 'The most memory all requests may hold at once: their bodies and the debugreflect answers built from them, until sent (past it: 503 with Retry-After; an answer that alone would pass it: 500 saying so)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l max-value -d 'The most memory one decoded request value may take (past it: 500, with the reason in the log)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l timeout -d 'Seconds a client may take to send its request (else 408)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l public -d 'Allow listening on a non-loopback address'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l no-reflect -d 'Disable the debugreflect endpoint (404, as a server without experimental.web.api.debugreflect)'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -l json -d 'JSON events on stdout, one per line, instead of the text log on stderr (schema below)'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand serve" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l upstream -d 'The server to forward to (e.g. http://127.0.0.1:8000/; https works)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l listen -d 'Address to listen on (port 0 picks a free port)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l record -d 'Write the frame-protocol requests seen as a replay transcript when the proxy stops' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l cacert -d 'Also trust the certificates of this PEM file (repeatable), e.g. a test server\'s self-signed certificate' -r -F
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l command -d 'Show only exchanges of these commands (repeatable; `debugreflect` for reflect requests, `capabilities` includes the handshake)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l max-body -d 'Largest request body accepted (larger: 413), in bytes or with a unit: 512K, 64M, 1G' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l max-total-body -d 'The most all request bodies held at once may take together (past it: 503 with Retry-After)' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l timeout -d 'Time allowed for one exchange with the upstream, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l connect-timeout -d 'Time allowed to connect to the upstream, in seconds' -r
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l public -d 'Allow listening on a non-loopback address'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -s k -l insecure -d 'Accept any server certificate (for a throwaway test server only: anyone on the path can read and change the traffic)'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l json -d 'One JSON event per line (schema in the README)'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -l hex -d 'Show each frame\'s bytes as hex too'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand proxy" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -l proto -d 'Protocol revision. Without it (and without --hg), inferred from frame type names where they are unambiguous, or detected from the server for remote commands, else 0006' -r -f -a "0001\t'Mercurial rev 51f7ac100 (March 2018, 4-byte header, never released)'
0002\t'Mercurial rev 8862a50a8 (March 2018, streams, never released)'
0005\t'Mercurial 4.6 and 4.7 (released)'
0006\t'Mercurial 4.8 .. 6.0 (released; removed in 6.1)'"
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -l hg -d 'Speak as Mercurial VERSION\'s server does (4.6 to 6.0): its revision and its Python\'s flavour (4.6/4.7: 0005; 4.8/4.9: 0006 on Python 2; 5.0 to 6.0: 0006 on Python 3; 5.0-py2/5.1-py2: 0006 on Python 2 with 5.0\'s JSON)' -r -f -a "4.6\t''
4.7\t''
4.8\t''
4.9\t''
5.0\t''
5.0-py2\t''
5.1\t''
5.1-py2\t''
5.2\t''
5.3\t''
5.4\t''
5.5\t''
5.6\t''
5.7\t''
5.8\t''
5.9\t''
6.0\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -l color -d 'When to colour output (auto honours NO_COLOR and whether stdout is a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -s v -l verbose -d 'More detail (the chosen revision and why, full payloads)'
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hgframe -n "__fish_hgframe_using_subcommand man" -s V -l version -d 'Print version'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "encode" -d 'Turn human frame strings into wire bytes.'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "decode" -d 'Decode wire bytes into frames'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "reflect" -d 'Run frames through a server reactor and show what it does'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "send" -d 'Run real commands on a server (0005, 0006) and decode the response stream.'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "doctor" -d 'Check that a server\'s frame protocol endpoints work, step by step, and say how to fix what does not'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "replay" -d 'Run replay scripts (.hgframe transcripts) and check their expected output'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "repl" -d 'Interactive session: frames answered as they are typed'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "serve" -d 'Serve Mercurial\'s HTTP API (debugreflect, canned responses) from hgframe\'s own reactor.'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "proxy" -d 'Stand between a Mercurial client and server and show the exchange.'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "man" -d 'Print a man page (roff): hgframe(1), or one subcommand\'s'
complete -c hgframe -n "__fish_hgframe_using_subcommand help; and not __fish_seen_subcommand_from encode decode reflect send doctor replay repl serve proxy completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
