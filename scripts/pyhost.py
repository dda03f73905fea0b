#!/usr/bin/env python3
"""A plain Python + pyserial host of the pnnlab wire protocol, written from docs/protocol.md.

It is the baseline of `make bench` (issue 11): the same pings against the same
`pnnlab emulate crossbar` as pnnlab's own host. It does the handshake (§7), stop-and-wait
ping round trips and pipelined pings with a window of 8 (§6), and prints one JSON object.

    scripts/pyhost.py /dev/pts/5 --pings 5000 --window 8

Only the standard library and pyserial (`make bench` installs it through
scripts/install-deps.sh --with-bench).
"""
import argparse
import json
import statistics
import sys
import time

import serial

VERSION = 1
HELLO, PING, ERROR = 0x01, 0x02, 0x03
FLAG_BULK, FLAG_REPLY, FLAG_ERROR = 0x01, 0x02, 0x04


def _crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


CRC16_TABLE = _crc16_table()


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (§5): poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    t = CRC16_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ t[(crc >> 8) ^ b]
    return crc


def crc32(data):
    """CRC-32 (IEEE 802.3 / zlib), for bulk frames (§5)."""
    import zlib

    return zlib.crc32(bytes(data)) & 0xFFFFFFFF


def cobs_encode(data):
    """COBS (§1): blocks of a code byte and up to 254 non-zero bytes; no trailing empty block
    after a full block at the very end."""
    out = bytearray()
    i, n = 0, len(data)
    while True:
        end = min(i + 254, n)
        z = data.find(0, i, end) if isinstance(data, (bytes, bytearray)) else -1
        run = (z if z >= 0 else end) - i
        out.append(run + 1)
        out += data[i : i + run]
        i += run
        if z >= 0:
            i += 1
        elif run == 254:
            if i == n:
                break
        else:
            break
    return bytes(out)


def cobs_decode(data):
    out = bytearray()
    i, n = 0, len(data)
    if n == 0:
        raise ValueError("empty frame")
    while i < n:
        code = data[i]
        if code == 0:
            raise ValueError("0x00 inside a frame")
        i += 1
        if i + code - 1 > n:
            raise ValueError("truncated block")
        out += data[i : i + code - 1]
        i += code - 1
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(ftype, seq, flags, payload):
    """Header (§2) + payload + CRC, COBS-encoded, followed by the 0x00 delimiter."""
    raw = bytearray((VERSION, ftype, seq & 0xFF, seq >> 8, flags))
    raw += payload
    if flags & FLAG_BULK:
        raw += crc32(raw).to_bytes(4, "little")
    else:
        raw += crc16(raw).to_bytes(2, "little")
    return cobs_encode(bytes(raw)) + b"\x00"


def decode_frame(candidate):
    """Returns (type, seq, flags, payload) or None for a rejected frame (§5)."""
    try:
        raw = cobs_decode(candidate)
    except ValueError:
        return None
    if len(raw) < 7:
        return None
    flags = raw[4]
    size = 4 if flags & FLAG_BULK else 2
    if len(raw) < 5 + size:
        return None
    body, trailer = raw[:-size], raw[-size:]
    crc = crc32(body) if size == 4 else crc16(body)
    if crc != int.from_bytes(trailer, "little") or raw[0] != VERSION or flags & 0xE0:
        return None
    return raw[1], raw[2] | raw[3] << 8, flags, body[5:]


class Host:
    """One serial link: sends requests, matches replies by seq."""

    def __init__(self, port, baud=115200, timeout=2.0):
        self.ser = serial.Serial(port, baud, timeout=timeout)
        self.pending = bytearray()
        self.frames = []
        self.seq = 0
        self.timeout = timeout

    def next_seq(self):
        s = self.seq
        self.seq = (self.seq + 1) & 0xFFFF
        return s

    def send(self, ftype, payload=b"", flags=0):
        seq = self.next_seq()
        self.ser.write(encode_frame(ftype, seq, flags, payload))
        return seq

    def receive(self):
        """Blocks until at least one frame arrived; returns the frames."""
        deadline = time.monotonic() + self.timeout
        while not self.frames:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply within %.1f s" % self.timeout)
            chunk = self.ser.read(self.ser.in_waiting or 1)
            if not chunk:
                continue
            self.pending += chunk
            while True:
                z = self.pending.find(0)
                if z < 0:
                    break
                candidate = bytes(self.pending[:z])
                del self.pending[: z + 1]
                if candidate:
                    frame = decode_frame(candidate)
                    if frame is not None:
                        self.frames.append(frame)
        frames, self.frames = self.frames, []
        return frames

    def request(self, ftype, payload=b""):
        seq = self.send(ftype, payload)
        while True:
            for t, s, flags, body in self.receive():
                # §6: a reply answers by seq *and* type (error replies have type error);
                # anything else — a damage notice (type 0x07, §8), a stray reply — is dropped.
                if s == seq and flags & FLAG_REPLY and (t == ftype or (flags & FLAG_ERROR and t == ERROR)):
                    if flags & FLAG_ERROR:
                        code = body[0] | body[1] << 8
                        raise RuntimeError("device error 0x%04x: %s" % (code, body[2:].decode(errors="replace")))
                    return body

    def hello(self, name="pyhost"):
        """§7: protocolVersion u8, hostName u16 + UTF-8; reply fields in order."""
        text = name.encode()
        body = self.request(HELLO, bytes((VERSION,)) + len(text).to_bytes(2, "little") + text)
        if body[0] != VERSION:
            raise RuntimeError("device speaks protocol %d, this host speaks %d" % (body[0], VERSION))
        at = 5
        fields = []
        for _ in range(4):
            n = body[at] | body[at + 1] << 8
            fields.append(body[at + 2 : at + 2 + n].decode())
            at += 2 + n
        return {
            "schemaHash": int.from_bytes(body[1:5], "little"),
            "family": fields[0],
            "model": fields[1],
            "serial": fields[2],
            "firmware": fields[3],
        }

    def pipelined_pings(self, count, window, payload):
        """`count` pings with up to `window` in flight, replies matched by seq (§6)."""
        in_flight = set()
        sent = done = 0
        while done < count:
            while sent < count and len(in_flight) < window:
                in_flight.add(self.send(PING, payload))
                sent += 1
            for t, s, flags, body in self.receive():
                if flags & FLAG_REPLY and t == PING and s in in_flight:
                    if body != payload:
                        raise RuntimeError("ping reply %d does not echo its payload" % s)
                    in_flight.discard(s)
                    done += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", help="serial port, e.g. the path `pnnlab emulate crossbar` prints")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--pings", type=int, default=5000, help="pings per measurement")
    ap.add_argument("--window", type=int, default=8, help="requests in flight when pipelining")
    ap.add_argument("--payload", type=int, default=16, help="ping payload bytes")
    args = ap.parse_args()

    host = Host(args.port, args.baud)
    info = host.hello()
    payload = bytes((0xA5,)) * args.payload
    for _ in range(50):  # warm-up
        host.request(PING, payload)
    rtts = []
    for _ in range(args.pings):
        t0 = time.perf_counter()
        if host.request(PING, payload) != payload:
            raise RuntimeError("ping reply does not echo its payload")
        rtts.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    host.pipelined_pings(args.pings, args.window, payload)
    pipelined = args.pings / (time.perf_counter() - t0)
    host.ser.close()
    json.dump(
        {
            "family": info["family"],
            "serial": info["serial"],
            "pings": args.pings,
            "median_rtt_s": statistics.median(rtts),
            "mean_rtt_s": sum(rtts) / len(rtts),
            "pipelined_rps": pipelined,
            "window": args.window,
            "python": sys.version.split()[0],
            "pyserial": serial.__version__,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
