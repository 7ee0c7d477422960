#!/usr/bin/env python3
"""consumer.py: follows recon-http's GET /v1/events and prints each event's
data, one JSON object per line. With STATEFILE it keeps the last event id
there, written after each event, and resumes after it (the Last-Event-ID
header) when started again or when the connection drops: each event once,
in order (a kill between the print and the write prints that event again;
its rev tells). Exits 3 when the server no longer keeps what was missed:
list again (GET /v1/containers) and follow from the list's rev.
usage: consumer.py URL [STATEFILE]   (URL: http://127.0.0.1:9780)
"""
import http.client, os, sys, time, urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
state = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT, 0o644) if sys.argv[2:] else None
last = os.pread(state, 64, 0).decode().strip() if state is not None else ""


def compacted():
    print(f"consumer: compacted: the events after {last or 'now'} are gone; "
          "list again", file=sys.stderr)
    sys.exit(3)


while True:
    try:
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        c.request("GET", url.path.rstrip("/") + "/v1/events",
                  headers={"Last-Event-ID": last} if last else {})
        r = c.getresponse()
        if r.status == 410:
            compacted()
        if r.status != 200:
            raise OSError(f"GET /v1/events: {r.status} {r.reason}")
        event, data, ev_id = "", [], last
        for raw in r:  # "field: value" lines; a blank line ends an event
            line = raw.decode().rstrip("\r\n")
            if not line:
                if event == "compacted":
                    compacted()
                if data:
                    print("\n".join(data), flush=True)
                if state is not None and ev_id != last:
                    # one write of a fixed width: never half an id
                    os.pwrite(state, ev_id.ljust(64).encode(), 0)
                event, data, last = "", [], ev_id
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                ev_id = value
    except (OSError, http.client.HTTPException) as e:
        print(f"consumer: {e}; reconnecting", file=sys.stderr)
    time.sleep(1)
