"""A real RFC 3161 timestamp server on 127.0.0.1: HTTP front end over ``openssl ts -reply``."""

from __future__ import annotations

import http.server
import subprocess
import tempfile
import threading
from pathlib import Path

_CNF = """\
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = {cert}
signer_key = {key}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class LocalTsa:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is where to POST requests."""

    def __init__(self, cert: Path, key: Path) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="tsa-"))
        (self._dir / "serial").write_text("01\n")
        self._cnf = self._dir / "ts.cnf"
        self._cnf.write_text(_CNF.format(dir=self._dir, cert=cert, key=key))
        self.requests = 0
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reply = tsa._reply(body)
                if reply is None:
                    self.send_error(400, "bad timestamp request")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _reply(self, request: bytes) -> bytes | None:
        self.requests += 1
        with tempfile.TemporaryDirectory(dir=self._dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(request)
            proc = subprocess.run(["openssl", "ts", "-reply", "-config", str(self._cnf), "-queryfile", str(q),
                                   "-out", str(r)], capture_output=True, check=False, timeout=30)
            return r.read_bytes() if proc.returncode == 0 and r.exists() else None

    def start(self) -> LocalTsa:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (the port then refuses connections)."""
        self._server.shutdown()
        self._server.server_close()
