"""debuginfod_server: the local debuginfod servers the tests ask, always on
127.0.0.1: Elfutils' `debuginfod -F DIR` over a directory of debug files
(started and stopped by pid), and a socket that accepts and never answers.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from debuginfod_server import Server, silent_server, env_with
"""
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env_with(**kv):
    """This environment without any DEBUGINFOD_* variable, plus kv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('DEBUGINFOD_')}
    env.update(kv)
    return env


class Server:
    """debuginfod -F SRVDIR on a free port; its log and database in WORK."""

    def __init__(self, srvdir, work):
        self.port = free_port()
        self.log = open(os.path.join(work, 'debuginfod.log'), 'w')
        self.proc = subprocess.Popen(
            ['debuginfod', '-F', srvdir, '-p', str(self.port), '-t', '0', '-g', '0',
             '-d', os.path.join(work, 'debuginfod.sqlite'), '-v'],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = 'http://127.0.0.1:%d' % self.port

    def wait_indexed(self, bid, seconds=60):
        """Whether the server serves build-id `bid` within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen('%s/buildid/%s/debuginfo' % (self.url, bid),
                                            timeout=5) as r:
                    if r.status == 200:
                        return True
            except Exception:
                pass
            time.sleep(0.3)
        return False

    def asked(self, bid):
        """How many times the debug file of `bid` was asked for."""
        self.log.flush()
        with open(self.log.name) as f:
            return sum(1 for line in f if 'GET /buildid/%s/debuginfo' % bid in line)

    def stop(self):
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def silent_server():
    """(listening socket, accepted connections): accepts, never answers."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(16)
    held = []

    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            held.append(c)
    threading.Thread(target=serve, daemon=True).start()
    return s, held


def slow_server(files, delay_s):
    """(server, url): answers GET /buildid/ID/debuginfo with files[ID]'s
    bytes (404 for others) after delay_s seconds, on 127.0.0.1. Stop it
    with server.shutdown()."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = self.path.strip('/').split('/')
            path = files.get(parts[1]) if len(parts) == 3 and parts[2] == 'debuginfo' else None
            time.sleep(delay_s)
            if path is None:
                self.send_error(404)
                return
            data = open(path, 'rb').read()
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, 'http://127.0.0.1:%d' % server.server_address[1]
