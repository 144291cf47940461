#!/usr/bin/env python3
"""A buffer-channel consumer in Python 3, standard library only, written from docs/wire-format.md.

It connects to a listening buffer channel (an AF_UNIX SOCK_SEQPACKET socket file), receives version 2 (and
version 1) FRAME messages with their dma-buf or memfd fds, maps every buffer read-only, optionally checks the
test pattern of the document, optionally sleeps after each frame (a slow consumer), returns every frame that
asked for it (RELEASE_WANTED) with a RELEASE, and at the end of the stream prints one summary line:

    frames=N ok=N torn=N stale=N unchecked=N refused=N released=N

  frames     FRAME messages accepted (every buffer mapped)
  ok         frames whose every byte matched the pattern of their own tag (with --verify)
  torn       frames whose bytes match no single tag: a mix of two pictures, or anything else
  stale      frames whose every byte matches the pattern of one other tag (a later or earlier picture)
  unchecked  frames not checked (without --verify)
  refused    messages refused by the receiver's rules (their fds closed)
  released   RELEASE messages sent

The pattern: byte i of buffer b of the frame with tag t is (t * 131 + b * 17 + i) & 0xff. It only depends on
t modulo 256, so a stale frame is one whose tag differs modulo 256.

With --progress N it also prints, as each arrives, the first frame and every Nth one (what a benchmark
timestamps):

    frame N tag=T

Usage: dmabuf_consumer.py SOCKET [--verify] [--delay-ms MS] [--frames N] [--progress N] [--wait S]
Exit status: 0 after the summary line; 1 if the connection fails; 2 for bad arguments.
"""

import argparse
import mmap
import os
import socket
import struct
import sys
import time

MAGIC = 0x31424D44
TYPE_FRAME = 1
TYPE_RELEASE = 2
RELEASE_WANTED = 1
READ_LIMIT = 512
MAX_FDS = 16
COMMON = struct.Struct("<IHHII")          # magic, version, type, length, flags
V2_HEADER = struct.Struct("<QQBBBBBBHIIIIQ")  # frame_id, tag, counts..., fourcc, width, height, reserved, modifier
V1_HEADER = struct.Struct("<QQIIIIBBH")   # size, tag, fourcc, width, height, stride, name_len, exporter_len, reserved
PLANE = struct.Struct("<IIQQ")            # buffer, stride, offset, length


class Refused(Exception):
    """A message the receiver's rules refuse (EPROTO)."""


def pattern(tag, buffer_index, size):
    """The bytes of buffer b of the frame with tag t: byte i is (t * 131 + b * 17 + i) & 0xff."""
    start = (tag * 131 + buffer_index * 17) & 0xFF
    period = bytes((start + i) & 0xFF for i in range(256))
    return (period * (size // 256 + 1))[:size]


def text(data):
    s = data.decode("utf-8")   # UnicodeDecodeError is a ValueError: refused
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in s):
        raise Refused("control character in a name")
    return s


def decode(data):
    """Checks a FRAME's header and lengths; returns (version, flags, frame_id, tag, sizes)."""
    if len(data) < COMMON.size:
        raise Refused("shorter than the common bytes")
    magic, version, mtype, length, flags = COMMON.unpack_from(data)
    if magic != MAGIC or version not in (1, 2) or mtype != TYPE_FRAME or length != len(data):
        raise Refused("magic, version, type or length")
    if flags & ~(RELEASE_WANTED if version == 2 else 0):
        raise Refused("flags")
    if version == 1:
        if len(data) < 52:
            raise Refused("short version 1 header")
        size, tag, _fourcc, _w, _h, _stride, nl, el, reserved = V1_HEADER.unpack_from(data, 16)
        if reserved or nl > 31 or el > 63 or 52 + nl + el != len(data) or size == 0 or size >= 1 << 63:
            raise Refused("version 1 lengths")
        text(data[52:52 + nl])
        text(data[52 + nl:52 + nl + el])
        return version, flags, 0, tag, [size]
    if len(data) < 64:
        raise Refused("short version 2 header")
    (frame_id, tag, buffers, fences, planes, r0, nl, el, r1, fourcc, width, height, r2,
     modifier) = V2_HEADER.unpack_from(data, 16)
    if r0 or r1 or r2 or fences or not 1 <= buffers <= 4 or planes > 4 or nl > 31 or el > 63:
        raise Refused("reserved fields or counts")
    if 64 + 8 * buffers + 24 * planes + nl + el != len(data):
        raise Refused("version 2 lengths")
    sizes = list(struct.unpack_from("<%dQ" % buffers, data, 64))
    if any(s == 0 or s >= 1 << 63 for s in sizes):
        raise Refused("buffer size")
    named = set()
    for p in range(planes):
        index, stride, offset, plen = PLANE.unpack_from(data, 64 + 8 * buffers + 24 * p)
        if index >= buffers or stride > 0x7FFFFFFF or offset + plen > sizes[index]:
            raise Refused("plane %d" % p)
        named.add(index)
    if fourcc == 0 and (width or height or modifier or planes or buffers != 1):
        raise Refused("geometry without a format")
    if fourcc and (not planes or named != set(range(buffers)) or not 0 < width < 1 << 31
                   or not 0 < height < 1 << 31):
        raise Refused("layout")
    at = 64 + 8 * buffers + 24 * planes
    text(data[at:at + nl])
    text(data[at + nl:at + nl + el])
    return version, flags, frame_id, tag, sizes


def release(sock, frame_id):
    """RELEASE: the 16 common bytes (version 2, type 2, length 24, flags 0) and the frame id; no fds."""
    sock.send(COMMON.pack(MAGIC, 2, TYPE_RELEASE, 24, 0) + struct.pack("<Q", frame_id))


def classify(tag, maps):
    """'ok', 'stale' or 'torn' for a frame's mapped buffers."""
    if all(m[:] == pattern(tag, b, len(m)) for b, m in enumerate(maps)):
        return "ok"
    # byte 0 of buffer b is (t * 131 + b * 17) & 0xff; 131 is odd, so t mod 256 follows from it
    inverse = pow(131, -1, 256)
    other = None
    for b, m in enumerate(maps):
        t = ((m[0] - b * 17) * inverse) & 0xFF
        if other is None:
            other = t
        if t != other or m[:] != pattern(t, b, len(m)):
            return "torn"
    return "stale"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("socket", help="the listening channel's socket file")
    ap.add_argument("--verify", action="store_true", help="check every byte against the pattern of its tag")
    ap.add_argument("--delay-ms", type=int, default=0, help="sleep this long per frame, holding it")
    ap.add_argument("--frames", type=int, default=0, help="stop after this many frames (0: at the end of stream)")
    ap.add_argument("--progress", type=int, default=0,
                    help="print 'frame N tag=T' for the first frame and every Nth one, as they arrive")
    ap.add_argument("--wait", type=float, default=0,
                    help="keep trying to connect for this many seconds (the gateway may not listen yet)")
    args = ap.parse_args(argv)
    if args.progress < 0:
        ap.error("--progress must be 0 or more")

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # with SO_PASSCRED every message carries SCM_CREDENTIALS and the end of the stream none
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            sock.connect(args.socket)
            break
        except (FileNotFoundError, ConnectionRefusedError) as e:
            if time.monotonic() >= deadline:
                print("dmabuf_consumer: connect %s: %s" % (args.socket, e), file=sys.stderr)
                return 1
            time.sleep(0.005)   # nothing to wait on for a socket another process creates: try again soon
        except OSError as e:
            print("dmabuf_consumer: connect %s: %s" % (args.socket, e), file=sys.stderr)
            return 1
    counts = dict(frames=0, ok=0, torn=0, stale=0, unchecked=0, refused=0, released=0)
    sender_gone = False
    control = socket.CMSG_SPACE(MAX_FDS * 4) + socket.CMSG_SPACE(12)
    while not args.frames or counts["frames"] < args.frames:
        try:
            data, ancdata, flags, _ = sock.recvmsg(READ_LIMIT + 1, control, getattr(socket, "MSG_CMSG_CLOEXEC", 0))
        except ConnectionResetError:
            continue   # the peer closed with messages of ours unread: its own are still queued
        fds, credentials = [], False
        for level, ctype, cdata in ancdata:
            if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
                fds.extend(struct.unpack("%di" % (len(cdata) // 4), cdata[:len(cdata) - len(cdata) % 4]))
            elif level == socket.SOL_SOCKET and ctype == socket.SCM_CREDENTIALS:
                credentials = True
        if not data and not fds and not credentials:
            break   # the end of the stream
        maps = []
        try:
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(data) > READ_LIMIT:
                raise Refused("too long")
            version, fflags, frame_id, tag, sizes = decode(data)
            if len(fds) != len(sizes):
                raise Refused("fd count")
            for b, fd in enumerate(fds):
                if os.lseek(fd, 0, os.SEEK_END) != sizes[b]:
                    raise Refused("buffer %d's size is not its fd's" % b)
                maps.append(mmap.mmap(fd, sizes[b], mmap.MAP_SHARED, mmap.PROT_READ))
            counts["frames"] += 1
            if args.progress and (counts["frames"] == 1 or counts["frames"] % args.progress == 0):
                print("frame %d tag=%d" % (counts["frames"], tag), flush=True)
            if args.verify:
                counts[classify(tag, maps)] += 1
            else:
                counts["unchecked"] += 1
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
        except (Refused, ValueError, OSError, struct.error):
            counts["refused"] += 1
            fflags = 0
        finally:
            for m in maps:
                m.close()
            for fd in fds:
                os.close(fd)
        if fflags & RELEASE_WANTED and not sender_gone:
            try:
                release(sock, frame_id)
                counts["released"] += 1
            except OSError:
                sender_gone = True   # the sender is gone and put its frames itself; read what is still queued
    sock.close()
    print(" ".join("%s=%d" % kv for kv in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
