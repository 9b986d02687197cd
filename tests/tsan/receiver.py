#!/usr/bin/env python3
"""A counting webhook receiver on 127.0.0.1 for load runs.

Usage: receiver.py EXPECTED_BODY_FILE PORT_FILE COUNT_FILE [CERT_PEM KEY_PEM]

Listens on a free port (written to PORT_FILE), answers every POST with 200
and {"success":true} over HTTP/1.1 keep-alive, one thread per connection.
A request counts as good when its body equals EXPECTED_BODY_FILE byte for
byte and its Content-Type is application/json; anything else counts as bad
(and is answered 400). With CERT_PEM and KEY_PEM it serves HTTPS. On SIGTERM or SIGINT it writes "good=N bad=M connections=C" to
COUNT_FILE (with connections=N, the TCP connections accepted) and exits.
"""

import http.server
import os
import signal
import ssl
import sys
import threading


def main() -> None:
    expected_path, port_path, count_path = sys.argv[1:4]
    with open(expected_path, "rb") as f:
        expected = f.read()
    lock = threading.Lock()
    counts = {"good": 0, "bad": 0, "connections": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle and
        # the client's delayed ACK add 40 ms to every answer.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with lock:
                counts["connections"] += 1

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            good = body == expected and content_type.startswith("application/json")
            with lock:
                counts["good" if good else "bad"] += 1
            reply = b'{"success":true}' if good else b'{"success":false}'
            self.send_response(200 if good else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 5:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        # The handshake runs in the connection's thread, on first read.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    with open(port_path + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))


    os.replace(port_path + ".tmp", port_path)

    def stop(signum: int, frame: object) -> None:
        with lock:
            text = " ".join(f"{k}={v}" for k, v in counts.items()) + "\n"
        with open(count_path, "w") as f:
            f.write(text)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
