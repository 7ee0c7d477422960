#!/usr/bin/env python3
"""sp_attack.py: a hostile peer for recon's nng sockets, for the
integration tests (tests/integration/test_hostile_peers.sh).

It speaks nng's SP protocol over ipc itself, on a plain unix socket, so
that it can misbehave at every level: the connection (bare connects, a
storm of them, a thousand at once), the SP handshake (random bytes
instead of the 8-byte header), the SP framing (a length over the
receive cap, a huge length sent slowly) and the message (random bytes,
msgpack of the wrong shape, huge declared counts, deep nesting), and
pretend to be a short-lived pusher that hangs up right after sending.

SP over ipc (nng 1.5.2, src/sp/transport/ipc/ipc.c): after connect,
each side sends 00 'S' 'P' 00 <its protocol, u16 big-endian> 00 00; then
every message is 0x01, an 8-byte big-endian length and the payload. A
REQ payload starts with a 4-byte request id with the high bit set, which
the REP reply echoes (src/sp/protocol/reqrep0/rep.c).

usage: sp_attack.py [--cap BYTES] ATTACK SOCKET_PATH...

The protocol spoken to each socket follows from its file name (ingest
and jobs: PUSH, events: SUB, *.ctl: REQ). For each socket it prints one
JSON line: what was done, and "delivered", the number of messages that
reached the daemon's own code, which the test compares with the
daemon's counters. Python 3 standard library only.
"""

import argparse
import json
import os
import random
import resource
import select
import socket
import struct
import sys
import time

# SP protocol numbers (nng's NNI_PROTO_*)
PROTO = {"push": 0x50, "pull": 0x51, "pub": 0x20, "sub": 0x21,
         "req": 0x30, "rep": 0x31}

# What a peer of each of recon's sockets speaks (SPEC §2).
PEER = {"ingest": "push", "jobs": "push", "events": "sub",
        "store.ctl": "req", "lister.ctl": "req", "dispatcher.ctl": "req"}

# Every socket read and connect gives up after this many seconds.
TIMEOUT = 5.0

rng = random.Random(int(os.environ.get("SP_ATTACK_SEED", "1518")))


# ---- msgpack, just enough of it ----

def mp(o):
    """Encodes o (None, bool, int, str, bytes, list, dict, or a Raw of
    bytes put in as they are) as msgpack."""
    if isinstance(o, Raw):
        return o.b
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack(">b", o)
        if o >= 0:
            return b"\xcf" + struct.pack(">Q", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, str):
        b = o.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        if len(b) < 256:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(o, bytes):
        return b"\xc6" + struct.pack(">I", len(o)) + o
    if isinstance(o, list):
        head = (bytes([0x90 | len(o)]) if len(o) < 16
                else b"\xdd" + struct.pack(">I", len(o)))
        return head + b"".join(mp(x) for x in o)
    if isinstance(o, dict):
        head = (bytes([0x80 | len(o)]) if len(o) < 16
                else b"\xdf" + struct.pack(">I", len(o)))
        return head + b"".join(mp(k) + mp(v) for k, v in o.items())
    raise TypeError(type(o))


class Raw:
    """Bytes that mp() puts in as they are (a header with no body)."""

    def __init__(self, b):
        self.b = b


def unmp(b, i=0):
    """Decodes the msgpack value at b[i:] (maps, arrays, str, bin, ints,
    bools, nil, floats): (value, next index). Enough for recon's replies."""
    c = b[i]
    i += 1
    if c < 0x80:
        return c, i
    if c >= 0xe0:
        return c - 256, i
    if 0x80 <= c <= 0x8f:
        return unmp_map(b, i, c & 0x0f)
    if 0x90 <= c <= 0x9f:
        return unmp_arr(b, i, c & 0x0f)
    if 0xa0 <= c <= 0xbf:
        n = c & 0x1f
        return b[i:i + n].decode(errors="replace"), i + n
    if c == 0xc0:
        return None, i
    if c in (0xc2, 0xc3):
        return c == 0xc3, i
    sizes = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
             0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
             0xca: ">f", 0xcb: ">d"}
    if c in sizes:
        f = sizes[c]
        n = struct.calcsize(f)
        return struct.unpack(f, b[i:i + n])[0], i + n
    if c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        f = {0xd9: ">B", 0xda: ">H", 0xdb: ">I",
             0xc4: ">B", 0xc5: ">H", 0xc6: ">I"}[c]
        w = struct.calcsize(f)
        n = struct.unpack(f, b[i:i + w])[0]
        i += w
        s = b[i:i + n]
        return (s.decode(errors="replace") if c >= 0xd9 else s), i + n
    if c in (0xdc, 0xdd):
        w = 2 if c == 0xdc else 4
        return unmp_arr(b, i + w, int.from_bytes(b[i:i + w], "big"))
    if c in (0xde, 0xdf):
        w = 2 if c == 0xde else 4
        return unmp_map(b, i + w, int.from_bytes(b[i:i + w], "big"))
    raise ValueError("msgpack byte 0x%02x not handled" % c)


def unmp_arr(b, i, n):
    v = []
    for _ in range(n):
        x, i = unmp(b, i)
        v.append(x)
    return v, i


def unmp_map(b, i, n):
    v = {}
    for _ in range(n):
        k, i = unmp(b, i)
        x, i = unmp(b, i)
        v[k] = x
    return v, i


# ---- SP over ipc ----

def sp_header(proto):
    """The 8 bytes each side sends first."""
    return b"\x00SP\x00" + struct.pack(">H", PROTO[proto]) + b"\x00\x00"


def frame(payload):
    """One SP message: 0x01, the length, the payload."""
    return b"\x01" + struct.pack(">Q", len(payload)) + payload


class Closed(Exception):
    """The daemon closed the connection."""


def connect(path, timeout=TIMEOUT):
    """A connected unix socket. A full listen backlog (EAGAIN: the
    daemon has not accepted the earlier ones yet) is waited out, up to
    timeout."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise Closed()
        b += c
    return b


def peer_closed(s, within):
    """True when the daemon closes s (EOF or reset) within `within`
    seconds; whatever it sends meanwhile is read and dropped."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


class Peer:
    """One SP connection speaking the protocol `kind` to `path`."""

    def __init__(self, path, kind):
        self.kind = kind
        self.s = connect(path)
        self.reqid = 0x80000000

    def handshake(self):
        """Sends our header and reads the daemon's (checked)."""
        self.s.sendall(sp_header(self.kind))
        h = read_exact(self.s, 8)
        if h[:4] != b"\x00SP\x00" or h[6:] != b"\x00\x00":
            raise ValueError("bad SP header from the daemon: %r" % h)
        return self

    def send(self, body):
        """Sends one message; a REQ gets a fresh request id in front.
        Returns the request id (0 for other protocols)."""
        rid = 0
        if self.kind == "req":
            self.reqid += 1
            rid = self.reqid
            body = struct.pack(">I", rid) + body
        self.s.sendall(frame(body))
        return rid

    def recv(self):
        """One message's payload."""
        h = read_exact(self.s, 9)
        if h[0] != 1:
            raise ValueError("bad SP message type %d" % h[0])
        (n,) = struct.unpack(">Q", h[1:])
        return read_exact(self.s, n)

    def ask(self, body):
        """REQ: sends body, returns the reply's body (its request id
        checked and cut off)."""
        rid = self.send(body)
        while True:
            r = self.recv()
            (got,) = struct.unpack(">I", r[:4])
            if got == rid:
                return r[4:]

    def linger_close(self):
        """Closes after the daemon had a moment to take what was sent (a
        PULL socket hands a pipe's message up only when the daemon asks
        for it, and nng drops what a closed pipe still held): sends no
        EOF meanwhile, so the daemon's pipe stays up while it reads (see
        attack_hangup for what happens otherwise)."""
        peer_closed(self.s, 0.3)
        self.s.close()


def reply_code(body):
    """The error code of a recon reply ("ok" when it says ok)."""
    try:
        v, _ = unmp(body)
    except (ValueError, IndexError, struct.error) as e:
        return "undecodable reply (%s)" % e
    if not isinstance(v, dict):
        return "reply not a map"
    if v.get("ok") is True:
        return "ok"
    err = v.get("error")
    return err.get("code", "?") if isinstance(err, dict) else "?"


# ---- the payloads ----

def envelope(name, inner):
    """A message of the right type for socket `name` whose one field of
    consequence holds `inner` (raw msgpack): the decoder must reach it.
    ctl: an unknown key of a health request, which is skipped (and so
    still checked); ingest: a snapshot's containers; jobs: a dispatch's
    workloads; events: a container event's row."""
    if name.endswith(".ctl"):
        return mp({"t": "health", "x": Raw(inner)})
    if name == "ingest":
        return mp({"t": "snapshot", "host": "attack", "gen": 1,
                   "taken_at": 0, "complete": False,
                   "containers": Raw(inner)})
    if name == "jobs":
        return mp({"t": "dispatch", "rev": 1, "reason": "manual",
                   "workloads": Raw(inner)})
    return mp({"t": "container", "rev": 1, "op": "upsert",
               "row": Raw(inner)})


def random_payloads(n):
    return [rng.randbytes(rng.randint(1, 4096)) for _ in range(n)]


def wrong_shapes(name):
    """Valid msgpack that no message of any socket has the shape of."""
    t = {"ingest": "snapshot", "jobs": "dispatch"}.get(name, "health")
    return [
        mp(None),
        mp(42),
        mp("snapshot"),
        mp([t, 1, 2]),
        mp({}),                                  # no t
        mp({"t": 7}),                            # t not a string
        mp({"t": t.encode()}),                   # t as bin, not str
        mp({1: "x", "t": t}),                    # a key that is no str
        mp({"t": "no.such.thing"}),              # unknown type
        mp({"t": t}) + b"\xc0",                  # trailing bytes
        mp({"t": t, "t2": Raw(b"\xa5ab")}),      # str longer than the bytes
        mp({"t": "snapshot", "host": 5, "gen": "x", "containers": {}}),
        mp({"t": "dispatch", "rev": "x", "workloads": [1, 2]}),
        mp({"t": "containers.list", "workload_id": ["a"]}),
        mp({"t": "workload.put", "workload": [1]}),
        mp({"t": "snapshot", "host": "h", "gen": 1, "taken_at": 0,
            "complete": True, "containers": [{"id": ["x"]}]}),
    ]


ARRAY32 = b"\xdd\xff\xff\xff\xff"   # an array of 2^32-1 elements, none there
MAP32 = b"\xdf\xff\xff\xff\xff"     # a map of 2^32-1 pairs


def huge_counts(name, head):
    """The 5-byte header alone, with a few elements after it, and inside
    the socket's own message."""
    few = mp("k") + mp(1) if head == MAP32 else mp(1) + mp(2)
    v = [head, head + few * 3, envelope(name, head)]
    if head == MAP32:
        # a container whose labels declare 2^32-1 pairs
        v.append(envelope(name, b"\x91" + mp({"id": "c1",
                                              "labels": Raw(MAP32)})))
    return v


def deep(name, n=100000):
    """n nested arrays, n nested maps, and n nested arrays inside the
    socket's own message."""
    arrays = b"\x91" * n + b"\xc0"
    maps = (b"\x81\xa1k") * n + b"\xc0"
    return [arrays, maps, envelope(name, arrays)]


def forged(name):
    """Well-formed messages that change state: refused and counted when
    they come from an untrusted uid (SPEC §2)."""
    return {
        "ingest": [mp({"t": "snapshot", "host": "local", "gen": 2**53,
                       "taken_at": 0, "complete": True,
                       "containers": []}),
                   mp({"t": "delta", "host": "local", "gen": 2**53,
                       "containers": [], "gone": ["0" * 64]})],
        "jobs": [mp({"t": "dispatch", "rev": 1, "reason": "manual",
                     "workloads": []})],
        "store.ctl": [mp({"t": "workload.put",
                          "workload": {"id": "forged", "name": "forged",
                                       "kind": "stack"}})],
        "lister.ctl": [mp({"t": "resync"})],
        "dispatcher.ctl": [mp({"t": "dispatch", "id": "forged"})],
        "events": [],
    }[name]


# ---- the attacks ----

def messages(path, name, kind, payloads):
    """Sends each payload as one message on one connection; a REQ waits
    for each reply and counts the error codes."""
    res = {"sent": 0, "delivered": 0, "codes": {}}
    if kind == "sub":
        return sub_messages(path, payloads)
    p = Peer(path, kind).handshake()
    for body in payloads:
        try:
            if kind == "req":
                code = reply_code(p.ask(body))
                res["codes"][code] = res["codes"].get(code, 0) + 1
            else:
                p.send(body)
            res["sent"] += 1
        except (Closed, ConnectionResetError, BrokenPipeError):
            # the daemon hung up on a message it should have answered
            res["peer_closed"] = res.get("peer_closed", 0) + 1
            p = Peer(path, kind).handshake()
    p.linger_close()
    res["delivered"] = res["sent"]
    return res


def sub_messages(path, payloads):
    """events: a PUB socket takes nothing from a subscriber, and nng
    closes the pipe of one that sends: each payload on a connection of
    its own, each of which must be closed by the daemon."""
    closed = 0
    for body in payloads:
        p = Peer(path, "sub").handshake()
        try:
            p.send(body)
            closed += peer_closed(p.s, 2.0)
        except (Closed, ConnectionResetError, BrokenPipeError):
            closed += 1
        p.s.close()
    return {"sent": len(payloads), "closed_by_daemon": closed,
            "delivered": 0}


def attack_raw(path, name, kind, n=20):
    """n connections, each sending 8..4096 random bytes where the SP
    header should be, then closing."""
    closed = 0
    for _ in range(n):
        s = connect(path)
        # 8 bytes at least: fewer leave nng waiting 10 s for the rest
        junk = rng.randbytes(rng.randint(8, 4096))
        if junk[:1] == b"\x00":
            junk = b"\xff" + junk[1:]
        try:
            s.sendall(junk)
            closed += peer_closed(s, 2.0)
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        s.close()
    return {"connections": n, "closed_by_daemon": closed, "delivered": 0}


def attack_oversize(path, name, kind, cap):
    """One message of cap+1 bytes (the daemon must refuse it at its
    header and close the pipe), then one of cap+1 declared but only
    half sent, left hanging."""
    res = {"delivered": 0}
    p = Peer(path, kind).handshake()
    body = rng.randbytes(cap + 1 - (4 if kind == "req" else 0))
    t0 = time.monotonic()
    try:
        p.send(body)
        res["closed_by_daemon"] = peer_closed(p.s, 2.0)
    except (ConnectionResetError, BrokenPipeError):
        res["closed_by_daemon"] = True
    res["close_ms"] = int((time.monotonic() - t0) * 1000)
    p.s.close()
    return res


def attack_slow(path, name, kind, cap):
    """A message declaring 2^63-1 bytes, its body trickled a byte every
    50 ms: refused at the header, so the daemon closes at once (how
    soon is printed). Then 16 connections each declaring cap-1 bytes (a
    legal size) and trickling half of it, closed before the end: the
    daemon may hold those buffers only while they last."""
    res = {"delivered": 0}
    p = Peer(path, kind).handshake()
    t0 = time.monotonic()
    p.s.sendall(b"\x01" + struct.pack(">Q", 2**63 - 1))
    closed = False
    try:
        for _ in range(40):          # at most 2 s
            p.s.sendall(b"\x00")
            if peer_closed(p.s, 0.05):
                closed = True
                break
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    res["huge_closed_by_daemon"] = closed
    res["huge_close_ms"] = int((time.monotonic() - t0) * 1000)
    p.s.close()
    peers = [Peer(path, kind).handshake() for _ in range(16)]
    for p in peers:
        p.s.sendall(b"\x01" + struct.pack(">Q", cap - 1))
    chunk = (cap // 2) // 8
    legal_closed = 0
    for _ in range(8):
        for p in peers:
            try:
                p.s.sendall(b"\x00" * chunk)
            except (ConnectionResetError, BrokenPipeError):
                legal_closed += 1
        time.sleep(0.05)
    for p in peers:
        p.s.close()
    res["legal_slow_connections"] = len(peers)
    res["legal_closed_early"] = legal_closed
    return res


def attack_connects(path, name, kind, n=1000):
    """n connections, each with the SP handshake done, all closed at
    once."""
    socks, shook = [], 0
    for _ in range(n):
        s = connect(path)
        s.sendall(sp_header(kind))
        socks.append(s)
    for s in socks:
        try:
            if read_exact(s, 8)[:4] == b"\x00SP\x00":
                shook += 1
        except (OSError, Closed):
            pass
    for s in socks:
        s.close()
    return {"connections": n, "handshakes": shook, "delivered": 0}


def attack_hangup(path, name, kind, n=1000):
    """n connections, each sending one bad message and hanging up at
    once, as a short-lived pusher does (recon-load, a lister that
    exits). Each message must still be taken for what it is, from the
    uid that sent it: a daemon that looks the sender's uid up after the
    pipe is gone finds none. REQ sockets: the reply is not waited for."""
    body = mp({"t": "no.such.thing"})
    for _ in range(n):
        p = Peer(path, kind).handshake()
        p.send(body)
        p.s.close()
    return {"connections": n, "sent": n,
            "delivered": 0 if kind in ("sub", "req") else n}


def attack_bare(path, name, kind, n=100):
    """n connects closed at once with nothing sent: the trigger of nng
    1.5.2's bug 1518."""
    for _ in range(n):
        connect(path).close()
    return {"connections": n, "delivered": 0}


def storm(paths, rate, seconds):
    """A bare connect-then-close to each path, `rate` times a second,
    for `seconds`."""
    done, fails = 0, 0
    t0 = time.monotonic()
    tick = 0
    while time.monotonic() - t0 < seconds:
        for path in paths:
            try:
                connect(path, 1.0).close()
                done += 1
            except OSError:
                fails += 1
        tick += 1
        # keep to the rate: sleep until the next tick is due
        delay = t0 + tick / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return {"attack": "storm", "sockets": len(paths), "connects": done,
            "connect_failures": fails,
            "seconds": round(time.monotonic() - t0, 2)}


def run(attack, path, cap):
    name = os.path.basename(path)
    kind = PEER[name]
    t0 = time.monotonic()
    if attack == "raw":
        res = attack_raw(path, name, kind)
    elif attack == "random":
        res = messages(path, name, kind, random_payloads(50))
    elif attack == "shape":
        res = messages(path, name, kind, wrong_shapes(name))
    elif attack == "array32":
        res = messages(path, name, kind, huge_counts(name, ARRAY32))
    elif attack == "map32":
        res = messages(path, name, kind, huge_counts(name, MAP32))
    elif attack == "deep":
        res = messages(path, name, kind, deep(name))
    elif attack == "forged":
        res = messages(path, name, kind, forged(name))
    elif attack == "oversize":
        res = attack_oversize(path, name, kind, cap)
    elif attack == "slow":
        res = attack_slow(path, name, kind, cap)
    elif attack == "connects":
        res = attack_connects(path, name, kind)
    elif attack == "bare":
        res = attack_bare(path, name, kind)
    elif attack == "hangup":
        res = attack_hangup(path, name, kind)
    else:
        raise SystemExit("unknown attack %s" % attack)
    res.update({"attack": attack, "socket": name,
                "ms": int((time.monotonic() - t0) * 1000)})
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cap", type=int, default=1 << 20,
                    help="the daemons' --max-message in bytes")
    ap.add_argument("--rate", type=float, default=30,
                    help="storm: connects per second per socket")
    ap.add_argument("--seconds", type=float, default=10,
                    help="storm: how long")
    ap.add_argument("attack", choices=[
        "raw", "random", "shape", "array32", "map32", "oversize", "slow",
        "deep", "connects", "bare", "storm", "forged", "hangup"])
    ap.add_argument("paths", nargs="+", metavar="SOCKET_PATH")
    a = ap.parse_args()
    # a thousand connections at once need more than the usual 1024 fds
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.attack == "storm":
        print(json.dumps(storm(a.paths, a.rate, a.seconds)), flush=True)
        return 0
    rc = 0
    for path in a.paths:
        try:
            res = run(a.attack, path, a.cap)
        except (OSError, Closed, ValueError) as e:
            # the attack itself could not go on: say so, fail
            res = {"attack": a.attack, "socket": os.path.basename(path),
                   "error": "%s: %s" % (type(e).__name__, e)}
            rc = 1
        print(json.dumps(res, sort_keys=True), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
