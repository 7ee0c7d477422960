#!/usr/bin/env python3
"""fake_docker.py: a small fake of the Docker Engine API on a unix socket,
for testing recon-lister against daemons and failures the real dockerd here
cannot show (Docker 29's minimum API version, truncated lists, hangs, a
truncated or garbage events stream).

Standard library only. Usage:

  fake_docker.py SOCKET [--api 1.47] [--min-api 1.44]
                 [--containers N] [--unlabelled M] [--prefix tinyforge.]
                 [--workload W] [--file LIST.json]
                 [--truncate | --short-body | --hang | --hang-list
                  | --status CODE] [--delay MS] [--cache-list]

Routes:
  GET /_ping, /version (unversioned, always answered unless --hang)
  GET [/vX.Y]/containers/json?all=1[&limit=N]&filters={"label":[...],
      "id":[...]}   label filters AND, id filters OR (by prefix here)
      A versioned path below --min-api or above --api is refused with
      HTTP 400 and Docker's own message, as Docker 29 does for < 1.44.
  GET [/vX.Y]/events   a chunked stream, silent until told to send (below)
  GET /_fake/stats           {"requests": {path: n}, "versions": {v: n},
                              "lists": {"full": n, "ids": n, "probe": n},
                              "reread_ids": {id: n}, "streams": n open}
  POST /_fake/config (JSON)  changes options at run time, e.g.
      {"hang_list": true} or {"api": "1.47", "min_api": "1.44"};
      {"list": [...]} replaces the container list
  POST /_fake/container      {"id": ID, "set": {field: value}} changes one
      container of the list, {"id": ID, "remove": true} drops it,
      {"add": {...}} appends one; {"id": ID, "labels_fill": {"prefix": P,
      "count": N, "size": S}} adds N labels P0..P<N-1> of S bytes each
  POST /_fake/events         {"chunks": ["raw", ...], "delay_ms": N,
      "then": "keep"|"end"|"close"} writes each string (latin-1) as its
      own HTTP chunk to every open events stream, N ms apart; then keeps
      the stream, ends it cleanly (EOF) or drops the connection without
      the final chunk. Replies {"streams": n}.
  POST /_fake/emit           {"id": ID, "action": "die", "split_ms": N}
      one Docker-shaped event for a container of the list (its labels as
      Actor.Attributes), cut in two chunks N ms apart when split_ms is set;
      with "dry": true it is not sent but returned as {"event": TEXT}

Failure modes (startup flags or config keys):
  truncate   the list body is cut in half; Content-Length matches the cut,
             so HTTP is fine and only the JSON is broken
  short_body Content-Length promises the whole body, half is sent, then
             the connection closes
  hang       every request is accepted and never answered
  hang_list  only the container list hangs; /version answers
  events_status  the events stream is refused with this HTTP status
  events_hang    the events request is accepted and never answered
  status     the list answers with this HTTP status and a Docker error body
  delay_ms   the list answers after this many milliseconds
  endless    the list body never ends: "[" and then containers, chunked,
             as fast as the client reads, until it hangs up (the bytes
             sent are counted in stats as endless_bytes)
  body_subst [[OLD, NEW], ...]: each OLD in the list body (the bytes,
             latin-1) is replaced by NEW, e.g. ["@FF@", "\u00ff"] puts
             a raw 0xff byte (not UTF-8) where a string held @FF@

The socket path appears only once the server listens (bound under a
temporary name, then renamed). SIGTERM or SIGINT removes it and exits 0.
"""

import argparse
import hashlib
import json
import os
import queue
import re
import select
import signal
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

VERSION_RE = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")


def vnum(v):
    major, minor = v.split(".")
    return int(major) * 1000 + int(minor)


def make_containers(n, unlabelled, prefix, workload):
    """N labelled containers in the shape of /containers/json, plus
    unlabelled ones the label filter must hide."""
    out = []
    for i in range(n + unlabelled):
        labelled = i < n
        cid = hashlib.sha256(f"{workload}-{i}".encode()).hexdigest()
        labels = {"com.example.other": "x", "maintainer": "fake"}
        if labelled:
            labels[prefix + "workload.id"] = workload
            labels[prefix + "role"] = f"r{i}"
        ports = [{"PrivatePort": 22, "Type": "tcp"}]
        if i % 2 == 0:
            pub = 20000 + i % 45000  # a port number at any N
            ports = [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": pub,
                 "Type": "tcp"},
                {"IP": "::", "PrivatePort": 80, "PublicPort": pub,
                 "Type": "tcp"},
            ] + ports
        running = i % 2 == 0
        out.append({
            "Id": cid,
            "Names": [f"/{workload}-{i}"],
            "Image": "recon-test-busybox:latest",
            "ImageID": "sha256:" + hashlib.sha256(b"image").hexdigest(),
            "Command": "sleep 3600",
            "Created": 1715000000 + i,
            "Ports": ports,
            "Labels": labels,
            "State": "running" if running else "exited",
            "Status": "Up 2 minutes" if running else "Exited (0) 1 minute ago",
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {"bridge": {
                "IPAMConfig": None, "Links": None, "Aliases": None,
                "NetworkID": "7ea29fc1412292a2", "EndpointID": "",
                "Gateway": "172.17.0.1", "IPAddress": f"172.17.0.{i % 250 + 2}",
                "IPPrefixLen": 16, "IPv6Gateway": "", "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0, "MacAddress": "02:42:ac:11:00:02",
                "DriverOpts": None}}},
            "Mounts": [],
        })
    return out


def filter_values(f, key):
    """Docker takes both {"k": ["v"]} and the old {"k": {"v": true}}."""
    vals = f.get(key, [])
    if isinstance(vals, dict):
        vals = [k for k, v in vals.items() if v]
    return vals


def list_filters(query):
    """The label filters of a query as (key, value or None) pairs, and its
    id filters."""
    raw = urllib.parse.parse_qs(query).get("filters")
    if not raw:
        return [], []
    f = json.loads(raw[0])
    out = []
    for item in filter_values(f, "label"):
        key, eq, val = item.partition("=")
        out.append((key, val if eq else None))
    return out, filter_values(f, "id")


def matches(c, filters, ids):
    labels = c.get("Labels") or {}
    for key, val in filters:
        if key not in labels or (val is not None and labels[key] != val):
            return False
    return not ids or any(c["Id"].startswith(i) for i in ids)


def make_event(c, action, prefix):
    """A container event as dockerd 20.10 writes it."""
    now = time.time_ns()
    attrs = dict(c.get("Labels") or {})
    attrs.update({"image": c.get("Image", ""),
                  "name": (c.get("Names") or ["/x"])[0][1:]})
    return {"status": action, "id": c["Id"], "from": c.get("Image", ""),
            "Type": "container", "Action": action,
            "Actor": {"ID": c["Id"], "Attributes": attrs},
            "scope": "local", "time": now // 10**9, "timeNano": now}


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.stats = {"requests": {}, "versions": {},
                      "lists": {"full": 0, "ids": 0, "probe": 0},
                      "reread_ids": {}, "endless_bytes": 0}
        self.streams = set()  # one queue per open events stream
        self.stopping = threading.Event()
        tmp = f"{path}.tmp.{os.getpid()}"
        if os.path.exists(tmp):
            os.unlink(tmp)
        super().__init__(tmp, Handler)
        os.rename(tmp, path)
        self.path = path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Docker/29.0.0-fake"
    sys_version = "(linux)"

    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_docker: " + (fmt % args) + "\n")

    def send_json(self, status, obj, cut=None, short=False):
        body = json.dumps(obj).encode()
        full = len(body)
        if cut is not None:
            body = body[:cut]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", self.server.cfg["api"])
        self.send_header("Content-Length", str(full if short else len(body)))
        if short:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if short:
            self.close_connection = True

    def hang(self):
        # Never answer; end only when the client goes or the server stops.
        self.connection.settimeout(0.1)
        while not self.server.stopping.is_set():
            try:
                if self.connection.recv(1) == b"":
                    break
            except OSError as e:
                if "timed out" not in str(e):
                    break
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b"{}"
        routes = {"/_fake/config": self.post_config,
                  "/_fake/container": self.post_container,
                  "/_fake/events": self.post_events,
                  "/_fake/emit": self.post_emit}
        if self.path not in routes:
            self.send_json(404, {"message": "page not found"})
            return
        try:
            change = json.loads(body)
            if not isinstance(change, dict):
                raise ValueError("want an object")
        except ValueError as e:
            self.send_json(400, {"message": f"bad request: {e}"})
            return
        routes[self.path](change)

    def the_list(self):
        """The container list, made on first use (under the lock)."""
        cfg = self.server.cfg
        if cfg.get("list") is None:
            cfg["list"] = make_containers(
                int(cfg["containers"]), int(cfg["unlabelled"]),
                cfg["prefix"], cfg["workload"])
        return cfg["list"]

    def post_container(self, change):
        with self.server.lock:
            lst = self.the_list()
            if "add" in change:
                lst.append(change["add"])
                self.send_json(200, {"containers": len(lst)})
                return
            hit = [c for c in lst if c["Id"] == change.get("id")]
            if not hit:
                self.send_json(404, {"message": "no such container"})
                return
            if change.get("remove"):
                lst.remove(hit[0])
            else:
                hit[0].update(change.get("set", {}))
            fill = change.get("labels_fill")
            if fill:
                labels = dict(hit[0].get("Labels") or {})
                val = "x" * int(fill.get("size", 1))
                for i in range(int(fill["count"])):
                    labels[f"{fill['prefix']}{i}"] = val
                hit[0]["Labels"] = labels
            self.send_json(200, {"containers": len(lst)})

    def broadcast(self, chunks, delay_ms, then):
        with self.server.lock:
            streams = list(self.server.streams)
        for i, chunk in enumerate(chunks):
            if i > 0 and delay_ms:
                time.sleep(delay_ms / 1000.0)
            for q in streams:
                q.put(("data", chunk))
        for q in streams:
            if then in ("end", "close"):
                q.put((then, None))
        return len(streams)

    def post_events(self, change):
        chunks = [c.encode("latin-1") for c in change.get("chunks", [])]
        n = self.broadcast(chunks, change.get("delay_ms", 0),
                           change.get("then", "keep"))
        self.send_json(200, {"streams": n})

    def post_emit(self, change):
        with self.server.lock:
            hit = [c for c in self.the_list() if c["Id"] == change.get("id")]
            prefix = self.server.cfg["prefix"]
        if not hit:
            self.send_json(404, {"message": "no such container"})
            return
        raw = (json.dumps(make_event(hit[0], change.get("action", "die"),
                                     prefix)) + "\n").encode()
        if change.get("dry"):
            self.send_json(200, {"event": raw.decode()})
            return
        split = change.get("split_ms")
        chunks = [raw[:len(raw) // 2], raw[len(raw) // 2:]] if split \
            else [raw]
        n = self.broadcast(chunks, split or 0, "keep")
        self.send_json(200, {"streams": n})

    def post_config(self, change):
        with self.server.lock:
            self.server.cfg.update(change)
            if {"containers", "unlabelled", "prefix",
                    "workload"} & change.keys():
                self.server.cfg["list"] = None
            cfg = {k: v for k, v in self.server.cfg.items() if k != "list"}
        self.send_json(200, cfg)

    def do_GET(self):
        cfg = self.server.cfg
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path == "/_fake/stats":
            with self.server.lock:
                self.send_json(200, dict(self.server.stats,
                                         streams=len(self.server.streams)))
            return
        version = None
        m = VERSION_RE.match(path)
        if m:
            version = f"{m.group(1)}.{m.group(2)}"
            path = m.group(3)
        with self.server.lock:
            st = self.server.stats
            st["requests"][path] = st["requests"].get(path, 0) + 1
            if version:
                st["versions"][version] = st["versions"].get(version, 0) + 1
        if cfg.get("hang"):
            self.hang()
            return
        if version and vnum(version) < vnum(cfg["min_api"]):
            self.send_json(400, {"message":
                f"client version {version} is too old. Minimum supported "
                f"API version is {cfg['min_api']}, please upgrade your "
                f"client to a newer version"})
            return
        if version and vnum(version) > vnum(cfg["api"]):
            self.send_json(400, {"message":
                f"client version {version} is too new. Maximum supported "
                f"API version is {cfg['api']}"})
            return
        if path == "/_ping":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        if path == "/version":
            self.send_json(200, {
                "Platform": {"Name": "fake"},
                "Version": "29.0.0-fake", "ApiVersion": cfg["api"],
                "MinAPIVersion": cfg["min_api"], "Os": "linux",
                "Arch": "amd64", "KernelVersion": os.uname().release})
            return
        if path == "/containers/json":
            self.serve_list(cfg, url.query)
            return
        if path == "/events":
            self.serve_events(cfg)
            return
        self.send_json(404, {"message": "page not found"})

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def serve_events(self, cfg):
        """A chunked stream fed by POST /_fake/events; ends when told to,
        when the client goes, or when the server stops."""
        if cfg.get("events_hang"):
            self.hang()
            return
        if cfg.get("events_status"):
            self.send_json(int(cfg["events_status"]),
                           {"message": "fake events refused"})
            return
        q = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", cfg["api"])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        with self.server.lock:
            self.server.streams.add(q)
        self.close_connection = True
        try:
            while not self.server.stopping.is_set():
                try:
                    kind, data = q.get(timeout=0.05)
                except queue.Empty:
                    r, _, _ = select.select([self.connection], [], [], 0)
                    if r and self.connection.recv(1) == b"":
                        return  # the client went away
                    continue
                if kind == "data":
                    self.write_chunk(data)
                elif kind == "end":
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                else:  # close: no final chunk, a truncated stream
                    return
        except OSError:
            return
        finally:
            with self.server.lock:
                self.server.streams.discard(q)

    def serve_list(self, cfg, query):
        if cfg.get("hang_list"):
            self.hang()
            return
        if cfg.get("delay_ms"):
            time.sleep(cfg["delay_ms"] / 1000.0)
        if cfg.get("status"):
            self.send_json(int(cfg["status"]),
                           {"message": "fake daemon error"})
            return
        try:
            filters, ids = list_filters(query)
            limit = int(urllib.parse.parse_qs(query).get("limit", ["0"])[0])
        except ValueError as e:
            self.send_json(400, {"message": f"invalid filter: {e}"})
            return
        with self.server.lock:
            items = [c for c in self.the_list() if matches(c, filters, ids)]
            lists = self.server.stats["lists"]
            kind = "ids" if ids else "probe" if limit > 0 else "full"
            lists[kind] += 1
            for i in ids:
                rr = self.server.stats["reread_ids"]
                rr[i] = rr.get(i, 0) + 1
        if limit > 0:
            items = sorted(items, key=lambda c: -c["Created"])[:limit]
        if cfg.get("endless"):
            self.serve_endless(cfg, items)
            return
        if cfg.get("body_subst"):
            self.send_raw(200, self.subst(cfg, json.dumps(items).encode()))
            return
        body_len = len(json.dumps(items).encode())
        if cfg.get("truncate"):
            self.send_json(200, items, cut=body_len // 2)
        elif cfg.get("short_body"):
            self.send_json(200, items, cut=body_len // 2, short=True)
        else:
            self.send_json(200, items)


    def subst(self, cfg, body):
        for old, new in cfg["body_subst"]:
            body = body.replace(old.encode("latin-1"), new.encode("latin-1"))
        return body

    def send_raw(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", self.server.cfg["api"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def serve_endless(self, cfg, items):
        """A well-formed start that never ends: the list's containers over
        and over, 1 MiB a chunk, until the client goes away."""
        elem = b"".join(json.dumps(c).encode() + b"," for c in
                        (items or make_containers(1, 0, cfg["prefix"],
                                                  cfg["workload"])))
        chunk = elem * max(1, (1 << 20) // len(elem))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", cfg["api"])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        sent = 0
        try:
            self.write_chunk(b"[")
            while not self.server.stopping.is_set() and \
                    self.server.cfg.get("endless"):
                self.write_chunk(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            with self.server.lock:
                self.server.stats["endless_bytes"] += sent


class CachingHandler(Handler):
    """--cache-list: the plain filtered list (no limit, no id filter, no
    failure mode) is rendered once per query and kept until a POST changes
    anything, so a benchmark's readers cost the server only the write of
    the same bytes, not Python's JSON encoding of N containers."""

    def do_POST(self):
        super().do_POST()
        with self.server.lock:
            self.server.bodies.clear()

    def serve_list(self, cfg, query):
        modes = ("hang_list", "delay_ms", "status", "truncate", "short_body",
                 "endless", "body_subst")
        try:
            filters, ids = list_filters(query)
        except ValueError:
            filters, ids = None, None
        if (filters is None or ids or any(cfg.get(k) for k in modes) or
                "limit" in urllib.parse.parse_qs(query)):
            super().serve_list(cfg, query)
            return
        with self.server.lock:
            self.server.stats["lists"]["full"] += 1
            body = self.server.bodies.get(query)
            if body is None:
                body = json.dumps([c for c in self.the_list()
                                   if matches(c, filters, ids)]).encode()
                self.server.bodies[query] = body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", cfg["api"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("socket")
    ap.add_argument("--api", default="1.41")
    ap.add_argument("--min-api", default="1.12")
    ap.add_argument("--containers", type=int, default=3)
    ap.add_argument("--unlabelled", type=int, default=1)
    ap.add_argument("--prefix", default="tinyforge.")
    ap.add_argument("--workload", default="wl-fake")
    ap.add_argument("--file", help="serve this JSON list instead")
    ap.add_argument("--truncate", action="store_true")
    ap.add_argument("--short-body", action="store_true")
    ap.add_argument("--hang", action="store_true")
    ap.add_argument("--hang-list", action="store_true")
    ap.add_argument("--status", type=int, default=0)
    ap.add_argument("--delay", type=int, default=0, metavar="MS")
    ap.add_argument("--cache-list", action="store_true",
                    help="render the plain list once (for benchmarks)")
    a = ap.parse_args()
    for v in (a.api, a.min_api):
        if not re.match(r"^\d+\.\d+$", v):
            ap.error(f"bad version {v}")
    cfg = {
        "api": a.api, "min_api": a.min_api, "containers": a.containers,
        "unlabelled": a.unlabelled, "prefix": a.prefix,
        "workload": a.workload, "truncate": a.truncate,
        "short_body": a.short_body, "hang": a.hang,
        "hang_list": a.hang_list, "status": a.status, "delay_ms": a.delay,
        "events_status": 0, "events_hang": False, "list": None,
    }
    if a.file:
        with open(a.file) as f:
            cfg["list"] = json.load(f)
        if not isinstance(cfg["list"], list):
            ap.error(f"{a.file}: want a JSON array")
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    srv = Server(a.socket, cfg)
    if a.cache_list:
        srv.RequestHandlerClass = CachingHandler
        srv.bodies = {}

    def stop(signum, frame):
        srv.stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"fake_docker: listening on {a.socket} "
                     f"(API {a.api}, minimum {a.min_api})\n")
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
        try:
            os.unlink(a.socket)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
