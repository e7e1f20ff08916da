#!/usr/bin/env python2.7
"""Send several commands in one request with Mercurial 4.7.2's HTTP peer.

    "$(dirname "$(scripts/hg-install.sh 4.7.2)")/python" \
        tests/support/hg47multirequest.py URL

What `hg debugwireproto --peer http2` cannot do (it sends one command per
request): heads, listkeys phases and branchmap go through one
commandexecutor, so httppeer.sendv2request() posts them together to
`multirequest`. Prints each result's repr, one per line.
"""

from __future__ import absolute_import, print_function

import sys

from mercurial import httppeer, ui as uimod

ui = uimod.ui.load()
ui.setconfig('experimental', 'httppeer.advertise-v2', True)
peer = httppeer.makepeer(ui, sys.argv[1])
if not isinstance(peer, httppeer.httpv2peer):
    sys.exit('not a version 2 peer: %r' % peer)
with peer.commandexecutor() as e:
    fs = [e.callcommand('heads', {}),
          e.callcommand('listkeys', {'namespace': 'phases'}),
          e.callcommand('branchmap', {})]
for f in fs:
    print(repr(f.result()))
