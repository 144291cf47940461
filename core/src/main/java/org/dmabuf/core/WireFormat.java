package org.dmabuf.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.Plane;

/**
 * The channel's frame, version 1, as {@code docs/wire-format.md} specifies it: a 52-byte little-endian header, the
 * name and the exporter name; one frame per {@code SOCK_SEQPACKET} message with exactly one fd. Stateless; any
 * thread.
 */
final class WireFormat {
    static final int MAGIC = 0x31424d44; // "DMB1" in memory order
    static final int VERSION = 1;
    static final int TYPE_BUFFER = 1;
    static final int HEADER = 52;
    static final int MAX_NAME = 31;
    static final int MAX_EXPORTER = 63;
    static final int MAX_FRAME = HEADER + MAX_NAME + MAX_EXPORTER;
    /** Messages up to this long are read; anything longer is refused as {@code EMSGSIZE}. */
    static final int READ_LIMIT = 256;

    private WireFormat() {
    }

    /** What a frame says. */
    record Frame(long size, long tag, String name, String exporter, Optional<BufferFormat> format) {
    }

    static byte[] encode(long size, long tag, String name, String exporter, BufferFormat format) {
        byte[] n = truncate(name, MAX_NAME);
        byte[] e = truncate(exporter, MAX_EXPORTER);
        ByteBuffer b = ByteBuffer.allocate(HEADER + n.length + e.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) TYPE_BUFFER).putInt(b.capacity()).putInt(0);
        b.putLong(size).putLong(tag);
        if (format != null) {
            b.putInt(format.fourcc()).putInt(format.width()).putInt(format.height())
                    .putInt(format.planes().get(0).stride());
        } else {
            b.putInt(0).putInt(0).putInt(0).putInt(0);
        }
        b.put((byte) n.length).put((byte) e.length).putShort((short) 0);
        b.put(n).put(e);
        return b.array();
    }

    private static byte[] truncate(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) {
            return b;
        }
        int end = max;
        while (end > 0 && (b[end] & 0xc0) == 0x80) {
            end--; // do not cut a UTF-8 sequence
        }
        return java.util.Arrays.copyOf(b, end);
    }

    /**
     * Checks and reads a frame.
     *
     * @throws ChannelProtocolException naming what is wrong
     */
    static Frame decode(byte[] data) {
        if (data.length < HEADER) {
            throw proto("frame of " + data.length + " bytes is shorter than the " + HEADER + "-byte header");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw proto(String.format("bad magic 0x%08x (expected 0x%08x)", magic, MAGIC));
        }
        int version = b.getShort() & 0xffff;
        if (version != VERSION) {
            throw proto("unsupported version " + version + " (this side speaks " + VERSION + ")");
        }
        int type = b.getShort() & 0xffff;
        if (type != TYPE_BUFFER) {
            throw proto("unknown frame type " + type);
        }
        long length = b.getInt() & 0xffffffffL;
        if (length != data.length) {
            throw proto("frame length field says " + length + " bytes but " + data.length + " arrived");
        }
        int flags = b.getInt();
        if (flags != 0) {
            throw proto(String.format("reserved flags 0x%x are not zero", flags));
        }
        long size = b.getLong();
        long tag = b.getLong();
        int fourcc = b.getInt();
        int width = b.getInt();
        int height = b.getInt();
        int stride = b.getInt();
        int nameLen = b.get() & 0xff;
        int exporterLen = b.get() & 0xff;
        int reserved = b.getShort();
        if (size <= 0) {
            throw proto("buffer size " + Long.toUnsignedString(size) + " is not positive");
        }
        if (nameLen > MAX_NAME || exporterLen > MAX_EXPORTER || reserved != 0) {
            throw proto("name length " + nameLen + " (max " + MAX_NAME + "), exporter length " + exporterLen
                    + " (max " + MAX_EXPORTER + ") or reserved " + reserved + " out of range");
        }
        if (HEADER + nameLen + exporterLen != data.length) {
            throw proto("header + name + exporter = " + (HEADER + nameLen + exporterLen) + " bytes, frame has "
                    + data.length);
        }
        String name = new String(data, HEADER, nameLen, StandardCharsets.UTF_8);
        String exporter = new String(data, HEADER + nameLen, exporterLen, StandardCharsets.UTF_8);
        Optional<BufferFormat> format = Optional.empty();
        if (fourcc != 0) {
            if (width <= 0 || height <= 0 || stride < 0) {
                throw proto("format " + width + "x" + height + " stride " + stride + " is not valid");
            }
            format = Optional.of(new BufferFormat(fourcc, width, height, List.of(new Plane(0, size, stride))));
        }
        return new Frame(size, tag, name, exporter, format);
    }

    private static ChannelProtocolException proto(String message) {
        return new ChannelProtocolException("EPROTO", message + "; frame refused");
    }
}
