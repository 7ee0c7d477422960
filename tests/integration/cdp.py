#!/usr/bin/env python3
"""cdp.py: a minimal Chrome DevTools Protocol client in Python's standard
library: the websocket handshake and its frames over one socket, enough to
drive the first page of a headless Chromium from a shell test.

usage: cdp.py PORT open URL    navigate the page to URL, wait for its load
       cdp.py PORT eval EXPR   print EXPR's value as JSON (promises awaited)
       cdp.py PORT shot FILE   write a PNG of the page to FILE
       cdp.py PORT watch       print each console error, uncaught exception
                               and error log entry of the page, one JSON per
                               line, until killed ("attached" on stderr first)
"""
import base64, json, os, socket, struct, sys, urllib.request


class CDP:
    def __init__(self, ws_url, timeout=30):
        hostport, _, path = ws_url.removeprefix("ws://").partition("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf, self.last_id, self.events = b"", 0, []
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise OSError("no websocket: " + head.split(b"\r\n")[0].decode())

    def _recv(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("the browser closed the connection")
        return data

    def _read(self, n):
        while len(self.buf) < n:
            self.buf += self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _send(self, data, op=1):
        # a client's frames are masked (RFC 6455 5.3); ours are one frame each
        n, mask = len(data), os.urandom(4)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def message(self):
        """The next message from the browser, its fragments joined."""
        msg = b""
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)  # the server's frames are not masked
            if op == 8:
                raise EOFError("the browser closed the connection")
            if op == 9:
                self._send(data, 0xA)
            elif op in (0, 1, 2):
                msg += data
                if b0 & 0x80:
                    return json.loads(msg)

    def call(self, method, **params):
        """Sends one command, keeps the events that come before its answer."""
        self.last_id += 1
        self._send(json.dumps({"id": self.last_id, "method": method,
                               "params": params}).encode())
        while True:
            m = self.message()
            if m.get("id") == self.last_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def event(self):
        return self.events.pop(0) if self.events else self.message()


def page(port):
    """A session on the browser's first page."""
    url = f"http://127.0.0.1:{port}/json/list"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    targets = json.load(opener.open(url, timeout=10))
    return CDP(next(t for t in targets if t["type"] == "page")
               ["webSocketDebuggerUrl"])


def main(port, verb, arg=None):
    c = page(port)
    if verb == "open":
        c.call("Page.enable")
        c.call("Page.navigate", url=arg)
        while c.event().get("method") != "Page.loadEventFired":
            pass
    elif verb == "eval":
        r = c.call("Runtime.evaluate", expression=arg, returnByValue=True,
                   awaitPromise=True)
        if "exceptionDetails" in r:
            sys.exit("cdp.py: " + json.dumps(r["exceptionDetails"]))
        print(json.dumps(r["result"].get("value")))
    elif verb == "shot":
        png = c.call("Page.captureScreenshot", format="png")["data"]
        with open(arg, "wb") as f:
            f.write(base64.b64decode(png))
    elif verb == "watch":
        c.call("Runtime.enable")  # both replay what came before they did
        c.call("Log.enable")
        print("attached", file=sys.stderr, flush=True)
        while True:
            m = c.event()
            p = m.get("params", {})
            if (m.get("method") == "Runtime.exceptionThrown" or
                    m.get("method") == "Runtime.consoleAPICalled" and
                    p.get("type") in ("error", "assert") or
                    m.get("method") == "Log.entryAdded" and
                    p["entry"].get("level") == "error"):
                print(json.dumps(m), flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:4])
