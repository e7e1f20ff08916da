#!/usr/bin/env python3
"""Issue 16, rows 7 and 13, measured against a running `hgframe serve`:
peak memory (VmHWM) and what the log says when

  bodies   N clients POST debugreflect bodies of SIZE zero bytes at once
           (each zero-byte 8-byte frame is a ~90-byte answer line: the
           answers are 11 times the bodies);
  reset    a client resets its connection (SO_LINGER 0) DELAY s into a
           long debugreflect job;
  fin      the same client closes in order (FIN) instead.

Usage: measure-serve-hostile.py HGFRAME_BIN {bodies N SIZE_MB | reset DELAY | fin DELAY}
Starts the server on 127.0.0.1 (a free port), prints the status each
client got, the server's log lines and VmHWM, and stops the server by its
process id.
"""
import os, socket, struct, subprocess, sys, threading, time

def start(binary):
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline().decode()
    port = int(line.rsplit(":", 1)[1].split("/")[0].strip())
    return p, port

def request(size):
    return (b"POST /api/exp-http-v2-0003/ro/debugreflect HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\n\r\n" % size)

def hwm(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM"):
            return l.split(":")[1].strip()

def post(port, size, out, i):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request(size))
    chunk = bytes(1 << 20)
    left = size
    t = time.time()
    try:
        while left:
            n = min(left, len(chunk))
            s.sendall(chunk[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)
        head = s.recv(64)
        total = len(head)
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            total += len(b)
        out[i] = (head.split(b"\r\n")[0].decode(), total, round(time.time() - t, 2))
    except OSError as e:
        out[i] = (f"error {e}", 0, round(time.time() - t, 2))

def main():
    binary, what = sys.argv[1], sys.argv[2]
    p, port = start(binary)
    try:
        if what == "bodies":
            n, size = int(sys.argv[3]), int(float(sys.argv[4]) * 1e6)
            out = [None] * n
            ts = [threading.Thread(target=post, args=(port, size, out, i)) for i in range(n)]
            t = time.time()
            for th in ts: th.start()
            for th in ts: th.join()
            print(f"{n} x {size} zero bytes: {time.time()-t:.1f} s")
            for o in out: print("  ", o)
        else:
            delay = float(sys.argv[3])
            size = 8 << 20
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request(size) + bytes(size))
            time.sleep(delay)
            if what == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            t = time.time()
            time.sleep(3)
        print("VmHWM", hwm(p.pid))
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
        for l in err.decode().splitlines():
            print("log:", l[:300])

main()
