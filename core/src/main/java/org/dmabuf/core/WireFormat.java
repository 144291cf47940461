package org.dmabuf.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.InvalidArgumentException;
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

    /**
     * Writes a frame. Control characters in the name and the exporter are sent as {@code ?} (a receiver refuses
     * them), and each is cut to its limit at a character boundary.
     *
     * @throws InvalidArgumentException ({@code EINVAL}) if the size or format would be refused by the receiver
     */
    static byte[] encode(long size, long tag, String name, String exporter, BufferFormat format) {
        if (size <= 0) {
            throw new InvalidArgumentException("send", "buffer size " + size + " is not positive");
        }
        if (format != null) {
            String wrong = checkFormat(format.fourcc(), format.width(), format.height(),
                    format.planes().get(0).stride(), size);
            if (wrong != null) {
                throw new InvalidArgumentException("send", "the buffer's format would be refused by the receiver: "
                        + wrong);
            }
        }
        byte[] n = truncate(printable(name), MAX_NAME);
        byte[] e = truncate(printable(exporter), MAX_EXPORTER);
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

    private static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                if (b == null) {
                    b = new StringBuilder(s);
                }
                b.setCharAt(i, '?');
            }
        }
        return b == null ? s : b.toString();
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
        String name = text(data, HEADER, nameLen, "name");
        String exporter = text(data, HEADER + nameLen, exporterLen, "exporter");
        Optional<BufferFormat> format = Optional.empty();
        if (fourcc == 0) {
            if (width != 0 || height != 0 || stride != 0) {
                throw proto("no format (fourcc 0) but geometry " + Integer.toUnsignedString(width) + "x"
                        + Integer.toUnsignedString(height) + " stride " + Integer.toUnsignedString(stride));
            }
        } else {
            String wrong = checkFormat(fourcc, width, height, stride, size);
            if (wrong != null) {
                throw proto(wrong);
            }
            format = Optional.of(new BufferFormat(fourcc, width, height, List.of(new Plane(0, size, stride))));
        }
        return new Frame(size, tag, name, exporter, format);
    }

    /** Strict UTF-8 without NUL or other control characters. */
    private static String text(byte[] data, int offset, int length, String field) {
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, offset, length)).toString();
        } catch (CharacterCodingException e) {
            throw proto("the " + field + " is not valid UTF-8 (" + e.getMessage() + ")");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c)) {
                throw proto(String.format("the %s holds the control character U+%04X at %d", field, (int) c, i));
            }
        }
        return s;
    }

    /**
     * What the receiver refuses in a format (fourcc not 0), as {@code docs/wire-format.md} lists it: a zero width
     * or height, a stride smaller than a line of the first plane, an image larger than the buffer.
     *
     * @return what is wrong, or null
     */
    static String checkFormat(int fourcc, int width, int height, int stride, long size) {
        long w = Integer.toUnsignedLong(width);
        long h = Integer.toUnsignedLong(height);
        long s = Integer.toUnsignedLong(stride);
        String f = fourccName(fourcc);
        if (w == 0 || h == 0 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
            return "format " + f + " " + w + "x" + h + " is not a size in pixels (1 to " + Integer.MAX_VALUE + ")";
        }
        long line = w * bytesPerPixel(fourcc);
        if (s < line) {
            return "format " + f + " " + w + "x" + h + ": stride " + s + " is smaller than a line of " + line
                    + " bytes";
        }
        long image = imageSize(fourcc, s, h);
        if (image > size) {
            return "format " + f + " " + w + "x" + h + " stride " + s + " needs " + image + " bytes, more than the "
                    + size + " of the buffer";
        }
        return null;
    }

    /** The bytes per pixel of the first plane, where the fourcc is known; 1 (so a line is at least the width). */
    static int bytesPerPixel(int fourcc) {
        return switch (fourccName(fourcc)) {
            case "XR24", "AR24", "XB24", "AB24", "RX24", "BX24", "RA24", "BA24", "XR30", "AR30", "XB30", "AB30" -> 4;
            case "RG24", "BG24" -> 3;
            case "YUYV", "YVYU", "UYVY", "VYUY", "RG16", "BG16", "XR15", "AR15", "XR12", "AR12" -> 2;
            default -> 1;
        };
    }

    /**
     * The bytes an image takes in one buffer: {@code stride × height}, plus the chroma planes of the planar YUV
     * formats that keep them in the same buffer (NV12, NV21, YU12, YV12: 4:2:0; NV16, NV61, YU16, YV16: 4:2:2;
     * NV24, NV42, YU24, YV24: 4:4:4), whose chroma lines follow the luma plane's.
     */
    static long imageSize(int fourcc, long stride, long height) {
        // stride < 2^32 and height < 2^31: stride * height < 2^63; the sums saturate rather than overflow
        long luma = stride * height;
        try {
            return switch (fourccName(fourcc)) {
                case "NV12", "NV21" -> Math.addExact(luma, stride * ((height + 1) / 2));
                case "YU12", "YV12" -> Math.addExact(luma, Math.multiplyExact(2 * ((stride + 1) / 2),
                        (height + 1) / 2));
                case "NV16", "NV61", "YU16", "YV16" -> Math.multiplyExact(2, luma);
                case "NV24", "NV42", "YU24", "YV24" -> Math.multiplyExact(3, luma);
                default -> luma;
            };
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String fourccName(int fourcc) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            int b = fourcc >>> (8 * i) & 0xff;
            c[i] = b >= 0x20 && b < 0x7f ? (char) b : '?';
        }
        return new String(c);
    }

    /**
     * Checks a decoded frame against the buffer its fd turned out to be.
     *
     * @param f the frame
     * @param bufferSize the buffer's size as the kernel reports it ({@code DmaBuf.size()})
     * @throws ChannelProtocolException ({@code EPROTO}) if the frame's size is not the buffer's, or its image does
     *         not fit
     */
    static void checkAgainst(Frame f, long bufferSize) {
        if (f.size() != bufferSize) {
            throw proto("the frame says " + f.size() + " bytes but the fd's buffer has " + bufferSize);
        }
    }

    private static ChannelProtocolException proto(String message) {
        return new ChannelProtocolException("EPROTO", message + "; frame refused");
    }
}
