"""Hostile (docker only): tries the network, DNS and the Docker socket, then raises.

NET-OK / DNS-OK / DOCKER-SOCKET-OK mark an attempt that worked. Outside a
container it does nothing but raise.
"""

import os
import socket
import sys

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534

if not IN_SANDBOX:
    raise ImportError("this attack only runs inside the sandbox container")
socket.setdefaulttimeout(2)
for host, port in (("1.1.1.1", 53), ("8.8.8.8", 443), ("172.17.0.1", 2375), ("10.0.2.2", 22),
                   ("127.0.0.1", 2375), ("169.254.169.254", 80)):
    try:
        socket.create_connection((host, port)).close()
        print(f"NET-OK: tcp {host}:{port}")
    except OSError as exc:
        print(f"tcp {host}:{port}: {exc}")
try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"\0" * 12, ("8.8.8.8", 53))
    print("NET-OK: udp 8.8.8.8:53")
except OSError as exc:
    print(f"udp: {exc}")
for name in ("example.com", "pypi.org", "host.docker.internal"):
    try:
        print(f"DNS-OK: {name} {socket.getaddrinfo(name, 443)[0][4]}")
    except OSError as exc:
        print(f"dns {name}: {exc}")
for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"):
    try:
        unix = socket.socket(socket.AF_UNIX)
        unix.connect(path)
        print(f"DOCKER-SOCKET-OK: {path}")
    except OSError as exc:
        print(f"unix {path}: {exc}")
raise ImportError("no way out")
