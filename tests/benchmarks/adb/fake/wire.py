"""The device side of the adb transport: 24-byte message headers and flow-controlled streams.

Facts from AOSP's protocol.txt (see ../shared/notes/adb_wire_protocol.md): every message is six
little-endian uint32 (command, arg0, arg1, length, checksum, magic) plus a payload, and a WRTE
must be acknowledged with OKAY before the sender writes again on that stream.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
from dataclasses import dataclass

CNXN, AUTH, OPEN, OKAY, WRTE, CLSE = (
    int.from_bytes(name, "little")
    for name in (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE")
)
VERSION = 0x01000001
MAX_PAYLOAD = 256 * 1024
HEADER = struct.Struct("<6I")


class StreamClosed(Exception):
    """The host closed the stream (CLSE) or the connection went away."""


@dataclass
class Message:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    def pack(self) -> bytes:
        checksum = sum(self.data) & 0xFFFFFFFF
        magic = self.command ^ 0xFFFFFFFF
        header = HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), checksum, magic)
        return header + self.data


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ConnectionError("peer closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(sock: socket.socket) -> Message:
    command, arg0, arg1, length, _check, magic = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if magic != command ^ 0xFFFFFFFF:
        raise ConnectionError(f"bad magic for command {command:#x}")
    return Message(command, arg0, arg1, _recv_exact(sock, length) if length else b"")


class Connection:
    """One host connection: serialized writes, and a stream table the reader routes into."""

    def __init__(self, sock: socket.socket, max_payload: int = MAX_PAYLOAD) -> None:
        self.sock = sock
        self.max_payload = max_payload
        self.lock = threading.Lock()
        self.streams: dict[int, Stream] = {}
        self.next_id = 1

    def send(self, message: Message) -> None:
        with self.lock:
            self.sock.sendall(message.pack())

    def open_stream(self, remote_id: int) -> Stream:
        stream = Stream(self, self.next_id, remote_id)
        self.streams[self.next_id] = stream
        self.next_id += 1
        self.send(Message(OKAY, stream.local_id, remote_id))
        return stream

    def route(self, message: Message) -> None:
        stream = self.streams.get(message.arg1)
        if stream is not None:
            stream.inbox.put(message)

    def close_all(self) -> None:
        for stream in list(self.streams.values()):
            stream.inbox.put(None)


class Stream:
    """A byte pipe over WRTE/OKAY with adb's one-write-in-flight flow control."""

    def __init__(self, conn: Connection, local_id: int, remote_id: int) -> None:
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self.inbox: queue.Queue[Message | None] = queue.Queue()
        self.buffer = bytearray()
        self.closed = False

    def _next(self, timeout: float = 30.0) -> Message:
        message = self.inbox.get(timeout=timeout)
        if message is None or message.command == CLSE:
            self.closed = True
            raise StreamClosed
        if message.command == WRTE:
            self.buffer += message.data
            self.conn.send(Message(OKAY, self.local_id, self.remote_id))
        return message

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._next()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def write(self, data: bytes) -> None:
        step = self.conn.max_payload
        for start in range(0, len(data), step):
            self.conn.send(Message(WRTE, self.local_id, self.remote_id, data[start : start + step]))
            while self._next().command != OKAY:
                pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.conn.send(Message(CLSE, self.local_id, self.remote_id))
        self.conn.streams.pop(self.local_id, None)
