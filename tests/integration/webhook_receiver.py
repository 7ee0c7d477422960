#!/usr/bin/env python3
# webhook_receiver.py: a webhook receiver on 127.0.0.1 for the dispatcher
# tests. Each POST is written as one JSON line (path, time, status,
# headers, body) to LOG; the path chooses the answer:
#   /ok...     200
#   /flaky...  500 the first time for that path, then 200
#   /gone...   410
#   /hang...   never answers (the connection stays open)
# usage: webhook_receiver.py LOG PORT_FILE
import http.server
import json
import os
import sys
import threading
import time

LOG, PORT_FILE = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}


def record(rec):
    with lock:
        with open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        rec = {
            "path": self.path,
            "t": time.time(),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        if self.path.startswith("/hang"):
            rec["status"] = 0
            record(rec)
            time.sleep(3600)
            return
        status = 200
        if self.path.startswith("/flaky"):
            with lock:
                seen[self.path] = seen.get(self.path, 0) + 1
                if seen[self.path] == 1:
                    status = 500
        elif self.path.startswith("/gone"):
            status = 410
        rec["status"] = status
        record(rec)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
