#!/usr/bin/env python3
"""sse_clients.py: many Server-Sent Events clients of recon-http at once,
in Python's standard library (no recon code), for the tests.

usage: sse_clients.py URL SINCE N STALLED OUT
  N readers follow URL/v1/events?since=SINCE; STALLED more connect with a
  4 KiB receive buffer and read nothing. Once all are connected the file
  OUT.ready is written. A line "REV" on stdin is the revision to reach:
  every reader reads until it has it; then the stalled ones start reading
  and read until they have it too, or until `event: compacted`. OUT gets
  one JSON object: per client, the revisions seen in order (as runs),
  whether they were every revision after SINCE once, in order, and how
  it ended.
"""
import http.client
import json
import socket
import sys
import threading
import urllib.parse

url, since, n, nstalled, out = (sys.argv[1], int(sys.argv[2]),
                                int(sys.argv[3]), int(sys.argv[4]),
                                sys.argv[5])
u = urllib.parse.urlsplit(url)
target = None
target_set = threading.Event()
go_stalled = threading.Event()
connected = threading.Semaphore(0)
results = [None] * (n + nstalled)


class SmallConn(http.client.HTTPConnection):
    """A connection whose receive buffer is 4 KiB: a client that stops
    reading stops the server's writes soon."""

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((self.host, self.port))
        self.sock = s


def client(i, stalled):
    conn = (SmallConn if stalled else http.client.HTTPConnection)(
        u.hostname, u.port, timeout=120)
    conn.request("GET", "/v1/events?since=%d" % since)
    resp = conn.getresponse()
    res = {"status": resp.status, "stalled": stalled, "end": "", "n": 0}
    connected.release()
    if resp.status != 200:
        res["end"] = resp.read().decode()
        results[i] = res
        return
    if stalled:
        go_stalled.wait()
    expect, ok, event = since + 1, True, ""
    while True:
        if target_set.is_set() and expect > target:
            res["end"] = "reached"
            break
        line = resp.readline()
        if not line:
            res["end"] = "closed"
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("id: "):
            rev = int(line[4:])
            if rev != expect:
                ok = False
                res.setdefault("first_wrong", [rev, expect])
            expect = rev + 1
            res["n"] += 1
        elif line == "" and event == "compacted":
            res["end"] = "compacted"
            break
    res["last"] = expect - 1
    res["in_order"] = ok
    results[i] = res
    conn.close()


threads = []
for i in range(n + nstalled):
    t = threading.Thread(target=client, args=(i, i >= n), daemon=True)
    t.start()
    threads.append(t)
for _ in threads:
    connected.acquire()
open(out + ".ready", "w").close()
target = int(sys.stdin.readline())
target_set.set()
for t in threads[:n]:
    t.join()
go_stalled.set()
for t in threads[n:]:
    t.join()
with open(out, "w") as f:
    json.dump(results, f)
