"""A minimal RFC 6455 client for JMAP over WebSocket (RFC 8887) on a plain loopback
socket, for tests that need frame-level control (unread pings, huge answers)."""

import base64
import os
import socket
import struct

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(opcode, payload, mask=None):
    """One final client frame, masked as a client must."""
    mask = mask or os.urandom(4)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
    return head + mask + masked


class WebSocket:
    """An upgraded /jmap/ws connection with the jmap subprotocol."""

    def __init__(self, port, authorization, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /jmap/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: jmap\r\n\r\n").encode())
        status = self.reader.readline()
        if not status.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"no upgrade: {status!r}")
        while self.reader.readline() not in (b"\r\n", b""):
            pass

    def close(self):
        self.reader.close()
        self.sock.close()

    def send(self, opcode, payload):
        self.sock.sendall(frame(opcode, payload))

    def receive(self, max_length=50_000_000):
        """(opcode, payload) of the next frame, or None when the server has closed the
        connection. A frame longer than max_length is an AssertionError, unread."""
        try:
            head = self.reader.read(2)
        except ConnectionResetError:
            return None
        if len(head) < 2:
            return None
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.reader.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.reader.read(8))[0]
        if length > max_length:
            raise AssertionError(f"the server sent a frame of {length} bytes")
        return head[0] & 0x0F, self.reader.read(length)
