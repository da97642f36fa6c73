"""Local fake receivers for the alert channels: an SMTP server and an HTTP server (Slack's
incoming webhook and a plain webhook look alike on the wire: a POST with a JSON body). Both bind
127.0.0.1 on a free port, record what they receive, and stop with the test."""
from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class _Serving:
    """Serve on a daemon thread for the duration of a ``with`` block."""

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc):
        self.shutdown()  # type: ignore[attr-defined]
        self.server_close()  # type: ignore[attr-defined]


class _SMTPHandler(socketserver.StreamRequestHandler):
    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._send("220 fake-smtp ready")
        mail: dict = {"rcpt": []}
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._send("250 fake-smtp")
            elif verb == "MAIL":
                mail = {"from": line.split(":", 1)[1].strip(), "rcpt": []}
                self._send("250 ok")
            elif verb == "RCPT":
                mail["rcpt"].append(line.split(":", 1)[1].strip())
                self._send("250 ok")
            elif verb == "DATA":
                self._send("354 end with .")
                body = []
                while (data := self.rfile.readline().decode(errors="replace")) not in (".\r\n", ".\n", ""):
                    body.append(data)
                mail["data"] = "".join(body)
                self.server.messages.append(mail)  # type: ignore[attr-defined]
                self._send("250 queued")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("250 ok")


class FakeSMTP(_Serving, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []
        self.port = self.server_address[1]



class _HTTPHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.requests.append({"path": self.path, "headers": dict(self.headers),  # type: ignore[attr-defined]
                                     "body": body, "json": _json(body)})
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # quiet test output
        pass


def _json(body: str):
    try:
        return json.loads(body)
    except ValueError:
        return None


class FakeHTTP(_Serving, HTTPServer):
    def __init__(self, status: int = 200):
        super().__init__(("127.0.0.1", 0), _HTTPHandler)
        self.requests: list[dict] = []
        self.status = status
        self.port = self.server_address[1]

