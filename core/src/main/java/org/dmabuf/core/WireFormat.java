package org.dmabuf.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;

/**
 * The channel's messages, as {@code docs/wire-format.md} specifies them: version 2 (a 64-byte little-endian
 * header, one 8-byte entry per buffer, one 24-byte entry per plane, the name and the exporter name; one message per
 * {@code SOCK_SEQPACKET} message with its buffers' fds) is sent by default and version 1 (a 52-byte header, one
 * buffer, one stride) on request; both are received. All geometry is {@link BufferFormat}'s. Stateless; any thread.
 */
final class WireFormat {
    static final int MAGIC = 0x31424d44; // "DMB1" in memory order
    /** The version sent by default and the newest received. */
    static final int VERSION = 2;
    /** Type 1: a frame of buffers (version 1 calls it BUFFER). */
    static final int TYPE_FRAME = 1;
    /** Type 2 (version 2): a receiver returns a frame that had {@link #RELEASE_WANTED} to its sender. */
    static final int TYPE_RELEASE = 2;
    /** FRAME {@code flags} bit 0 (version 2): the receiver sends one RELEASE once done with every buffer. */
    static final int RELEASE_WANTED = 1;
    /** The most fence fds ({@code sync_file}s) a frame carries: one, the fence of the frame's last writer. */
    static final int MAX_FENCES = 1;
    /** A RELEASE: the 16 common bytes and the frame id. */
    static final int RELEASE_LENGTH = 24;
    /** The bytes every message of every version starts with: magic, version, type, length, flags. */
    static final int COMMON = 16;
    static final int HEADER_V1 = 52;
    static final int HEADER_V2 = 64;
    static final int BUFFER_ENTRY = 8;
    static final int PLANE_ENTRY = 24;
    static final int MAX_BUFFERS = BufferFormat.MAX_PLANES;
    static final int MAX_PLANES = BufferFormat.MAX_PLANES;
    static final int MAX_NAME = 31;
    static final int MAX_EXPORTER = 63;
    static final int MAX_FRAME_V1 = HEADER_V1 + MAX_NAME + MAX_EXPORTER;
    static final int MAX_FRAME_V2 = HEADER_V2 + MAX_BUFFERS * BUFFER_ENTRY + MAX_PLANES * PLANE_ENTRY + MAX_NAME
            + MAX_EXPORTER;
    /** Messages up to this long are read; anything longer is refused as {@code EMSGSIZE}. */
    static final int READ_LIMIT = 512;

    private WireFormat() {
    }

    /**
     * What a frame says.
     *
     * @param version the version it came in
     * @param frameId the sender's frame id (version 2; 0 in version 1)
     * @param tag the sender's tag
     * @param name the name
     * @param exporter the exporter name
     * @param sizes the size of each buffer, by index; as many as the frame carries buffer fds
     * @param fences the number of fence fds ({@code sync_file}s) that follow the buffer fds: 0 or 1
     * @param format the layout, if any
     * @param releaseWanted whether the sender asked for a RELEASE ({@link #RELEASE_WANTED})
     */
    record Frame(int version, long frameId, long tag, String name, String exporter, List<Long> sizes, int fences,
            Optional<BufferFormat> format, boolean releaseWanted) {
        Frame {
            sizes = List.copyOf(sizes);
        }

        Frame(int version, long frameId, long tag, String name, String exporter, List<Long> sizes, int fences,
                Optional<BufferFormat> format) {
            this(version, frameId, tag, name, exporter, sizes, fences, format, false);
        }

        /** The number of fds the message must carry. */
        int fds() {
            return sizes.size() + fences;
        }

        /** The first (in version 1 the only) buffer's size. */
        long size() {
            return sizes.get(0);
        }
    }

    /** A single-buffer version 2 frame whose frame id is its tag. */
    static byte[] encode(long size, long tag, String name, String exporter, BufferFormat format) {
        return encode(tag, tag, name, exporter, new long[] {size}, format);
    }

    /**
     * Writes a version 2 frame. Control characters in the name and the exporter are sent as {@code ?} (a receiver
     * refuses them), and each is cut to its limit at a character boundary.
     *
     * @param frameId the sender's id of this frame, which a later revision's RELEASE names
     * @param tag the caller's tag
     * @param name the first buffer's name
     * @param exporter the first buffer's exporter name
     * @param sizes each buffer's size as the kernel reports it, by index
     * @param format the layout, or null for none (then exactly one buffer)
     * @throws InvalidArgumentException ({@code EINVAL}) if the receiver would refuse the frame: a size that is not
     *         positive, another number of buffers than the layout's planes name, a plane beyond its buffer's size
     */
    static byte[] encode(long frameId, long tag, String name, String exporter, long[] sizes, BufferFormat format) {
        return encode(frameId, tag, name, exporter, sizes, format, 0);
    }

    /**
     * Writes a version 2 frame with flags, as {@link #encode(long, long, String, String, long[], BufferFormat)}.
     *
     * @param flags 0, or {@link #RELEASE_WANTED}
     */
    static byte[] encode(long frameId, long tag, String name, String exporter, long[] sizes, BufferFormat format,
            int flags) {
        return encode(frameId, tag, name, exporter, sizes, format, flags, 0);
    }

    /**
     * Writes a version 2 frame with flags and fences, as {@link #encode(long, long, String, String, long[],
     * BufferFormat)}.
     *
     * @param flags 0, or {@link #RELEASE_WANTED}
     * @param fences 0, or 1: a {@code sync_file} fd follows the buffer fds
     */
    static byte[] encode(long frameId, long tag, String name, String exporter, long[] sizes, BufferFormat format,
            int flags, int fences) {
        if (fences < 0 || fences > MAX_FENCES) {
            throw new InvalidArgumentException("send", "a frame carries 0 to " + MAX_FENCES + " fences, not "
                    + fences);
        }
        int buffers = format == null ? 1 : format.buffers();
        if (sizes.length != buffers) {
            throw new InvalidArgumentException("send", (format == null ? "a frame without a format carries one "
                    + "buffer" : "the layout " + format.describe() + " names " + buffers + " buffers") + ", not "
                    + sizes.length);
        }
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] <= 0) {
                throw new InvalidArgumentException("send", "buffer " + i + " has a size of " + sizes[i]
                        + ", which is not positive");
            }
        }
        List<Plane> planes = format == null ? List.of() : format.planes();
        for (int p = 0; p < planes.size(); p++) {
            String wrong = beyond(p, planes.get(p), sizes[planes.get(p).buffer()]);
            if (wrong != null) {
                throw new InvalidArgumentException("send", "the frame would be refused by the receiver: " + wrong);
            }
        }
        byte[] n = truncate(printable(name), MAX_NAME);
        byte[] e = truncate(printable(exporter), MAX_EXPORTER);
        ByteBuffer b = ByteBuffer.allocate(HEADER_V2 + sizes.length * BUFFER_ENTRY + planes.size() * PLANE_ENTRY
                + n.length + e.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) 2).putShort((short) TYPE_FRAME).putInt(b.capacity()).putInt(flags);
        b.putLong(frameId).putLong(tag);
        b.put((byte) sizes.length).put((byte) fences).put((byte) planes.size()).put((byte) 0);
        b.put((byte) n.length).put((byte) e.length).putShort((short) 0);
        if (format == null) {
            b.putInt(0).putInt(0).putInt(0).putInt(0).putLong(0);
        } else {
            b.putInt(format.fourcc()).putInt(format.width()).putInt(format.height()).putInt(0)
                    .putLong(format.modifier());
        }
        for (long s : sizes) {
            b.putLong(s);
        }
        for (Plane p : planes) {
            b.putInt(p.buffer()).putInt(p.stride()).putLong(p.offset()).putLong(p.length());
        }
        b.put(n).put(e);
        return b.array();
    }

    /**
     * Writes a version 1 frame, for a peer that speaks only version 1: one buffer, and a layout that version 1's
     * one stride describes.
     *
     * @throws InvalidArgumentException ({@code EINVAL}) if version 1 cannot express the frame (several buffers, a
     *         modifier other than linear, planes other than those a version 1 receiver derives from the first
     *         plane's stride) or its receiver would refuse it
     */
    static byte[] encodeV1(long size, long tag, String name, String exporter, BufferFormat format) {
        if (size <= 0) {
            throw new InvalidArgumentException("send", "buffer size " + size + " is not positive");
        }
        if (format != null && (format.buffers() != 1 || !format.isLinear())) {
            throw new InvalidArgumentException("send", "wire format version 1 carries one buffer with a linear "
                    + "layout, not " + format.describe() + " in " + format.buffers() + " buffers; nothing sent");
        }
        byte[] n = truncate(printable(name), MAX_NAME);
        byte[] e = truncate(printable(exporter), MAX_EXPORTER);
        ByteBuffer b = ByteBuffer.allocate(HEADER_V1 + n.length + e.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) 1).putShort((short) TYPE_FRAME).putInt(b.capacity()).putInt(0);
        b.putLong(size).putLong(tag);
        if (format != null) {
            b.putInt(format.fourcc()).putInt(format.width()).putInt(format.height())
                    .putInt(format.planes().get(0).stride());
        } else {
            b.putInt(0).putInt(0).putInt(0).putInt(0);
        }
        b.put((byte) n.length).put((byte) e.length).putShort((short) 0);
        b.put(n).put(e);
        byte[] frame = b.array();
        if (format != null) {
            BufferFormat derived;
            try {
                derived = decode(frame).format().orElseThrow();
            } catch (ChannelProtocolException x) {
                throw new InvalidArgumentException("send", "a version 1 receiver would refuse " + format.describe()
                        + " in " + size + " bytes: " + detail(x) + "; nothing sent");
            }
            if (!samePlanes(format, derived)) {
                throw new InvalidArgumentException("send", "wire format version 1 cannot express "
                        + format.describe() + ": from its one stride a version 1 receiver derives "
                        + derived.describe() + "; nothing sent");
            }
        }
        return frame;
    }

    /** Same fourcc, size and planes (buffer, offset, stride); lengths may differ. */
    private static boolean samePlanes(BufferFormat a, BufferFormat b) {
        if (a.fourcc() != b.fourcc() || a.width() != b.width() || a.height() != b.height()
                || a.planes().size() != b.planes().size()) {
            return false;
        }
        for (int i = 0; i < a.planes().size(); i++) {
            Plane x = a.planes().get(i);
            Plane y = b.planes().get(i);
            if (x.buffer() != y.buffer() || x.offset() != y.offset() || x.stride() != y.stride()) {
                return false;
            }
        }
        return true;
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
     * Checks and reads a message of either version.
     *
     * @throws ChannelProtocolException ({@code EPROTO}) naming what is wrong
     */
    static Frame decode(byte[] data) {
        if (data.length < COMMON) {
            throw proto("frame of " + data.length + " bytes is shorter than the " + COMMON
                    + " bytes every message starts with");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw proto(String.format("bad magic 0x%08x (expected 0x%08x)", magic, MAGIC));
        }
        int version = b.getShort() & 0xffff;
        if (version != 1 && version != 2) {
            throw proto("unsupported version " + version + " (this side speaks 1 and 2)");
        }
        int type = b.getShort() & 0xffff;
        if (type == TYPE_RELEASE && version == 2) {
            throw proto("a RELEASE (message type 2) read as a frame");
        }
        if (type != TYPE_FRAME) {
            throw proto("unknown message type " + type + " in version " + version);
        }
        long length = b.getInt() & 0xffffffffL;
        if (length != data.length) {
            throw proto("frame length field says " + length + " bytes but " + data.length + " arrived");
        }
        int flags = b.getInt();
        int known = version == 2 ? RELEASE_WANTED : 0;
        if ((flags & ~known) != 0) {
            throw proto(String.format("reserved flags 0x%x are not zero", flags & ~known));
        }
        Frame f = version == 1 ? decodeV1(data, b) : decodeV2(data, b);
        return (flags & RELEASE_WANTED) == 0 ? f : new Frame(f.version(), f.frameId(), f.tag(), f.name(),
                f.exporter(), f.sizes(), f.fences(), f.format(), true);
    }

    /**
     * Whether a message is a RELEASE: the magic, version 2 and type 2; its other fields are checked by
     * {@link #decodeRelease}.
     */
    static boolean isRelease(byte[] data) {
        if (data.length < 8) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        return b.getInt(0) == MAGIC && (b.getShort(4) & 0xffff) == 2 && (b.getShort(6) & 0xffff) == TYPE_RELEASE;
    }

    /**
     * Checks and reads a RELEASE.
     *
     * @param data the message, which {@link #isRelease} said is one
     * @param fds the number of fds that came with it
     * @return the frame id it returns
     * @throws ChannelProtocolException ({@code EPROTO}) for fds, a length other than 24 or flags other than 0
     */
    static long decodeRelease(byte[] data, int fds) {
        if (fds != 0) {
            throw releaseProto("a RELEASE carries no fds, this one " + fds);
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data.length != RELEASE_LENGTH || data.length < COMMON || (b.getInt(8) & 0xffffffffL) != data.length) {
            throw releaseProto("a RELEASE is " + RELEASE_LENGTH + " bytes, its length field says "
                    + (data.length < COMMON ? "nothing" : Long.toString(b.getInt(8) & 0xffffffffL)) + " and "
                    + data.length + " arrived");
        }
        int flags = b.getInt(12);
        if (flags != 0) {
            throw releaseProto(String.format("a RELEASE's flags 0x%x are not zero", flags));
        }
        return b.getLong(16);
    }

    /** Writes a RELEASE of a frame. */
    static byte[] encodeRelease(long frameId) {
        return ByteBuffer.allocate(RELEASE_LENGTH).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).putShort((short) 2)
                .putShort((short) TYPE_RELEASE).putInt(RELEASE_LENGTH).putInt(0).putLong(frameId).array();
    }

    /** A refused RELEASE. */
    static ChannelProtocolException releaseProto(String message) {
        return new ChannelProtocolException("EPROTO", message + "; RELEASE refused, nothing released");
    }

    private static Frame decodeV1(byte[] data, ByteBuffer b) {
        if (data.length < HEADER_V1) {
            throw proto("frame of " + data.length + " bytes is shorter than the " + HEADER_V1
                    + "-byte header of version 1");
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
        if (HEADER_V1 + nameLen + exporterLen != data.length) {
            throw proto("header + name + exporter = " + (HEADER_V1 + nameLen + exporterLen) + " bytes, frame has "
                    + data.length);
        }
        String name = text(data, HEADER_V1, nameLen, "name");
        String exporter = text(data, HEADER_V1 + nameLen, exporterLen, "exporter");
        Optional<BufferFormat> format = Optional.empty();
        if (fourcc == 0) {
            if (width != 0 || height != 0 || stride != 0) {
                throw proto("no format (fourcc 0) but geometry " + Integer.toUnsignedString(width) + "x"
                        + Integer.toUnsignedString(height) + " stride " + Integer.toUnsignedString(stride));
            }
        } else {
            format = Optional.of(v1Layout(fourcc, width, height, stride, size));
        }
        return new Frame(1, 0, tag, name, exporter, List.of(size), 0, format);
    }

    /**
     * Version 1's one stride as a layout: for a fourcc of the table with one buffer, its planes one after another,
     * each chroma plane's stride derived from the first as V4L2 derives it ({@code ⌈stride × cpp[p] / cpp[0] /
     * hsub⌉}), each plane as long as its lines; for any other fourcc one plane of {@code stride × height} bytes
     * whose stride is at least the width. The planes must fit in the buffer.
     */
    private static BufferFormat v1Layout(int fourcc, int width, int height, int stride, long size) {
        String f = BufferFormat.fourccName(fourcc);
        pixels(f, width, height);
        long s = Integer.toUnsignedLong(stride);
        if (s > Integer.MAX_VALUE) {
            throw proto("format " + f + ": stride " + s + " is larger than " + Integer.MAX_VALUE);
        }
        Optional<PixelFormat> known = PixelFormat.of(fourcc, 1);
        List<Plane> planes = new ArrayList<>();
        if (known.isPresent()) {
            PixelFormat pf = known.get();
            long offset = 0;
            for (int p = 0; p < pf.planes(); p++) {
                long ps = p == 0 ? s : ceilDiv(s * pf.bytesPerPixel(p),
                        (long) pf.bytesPerPixel(0) * pf.horizontalSubsampling(p));
                long length = ps * pf.lines(p, height);
                planes.add(new Plane(0, offset, length, (int) ps));
                offset += length;
            }
        } else {
            if (s < Integer.toUnsignedLong(width)) {
                throw proto("format " + f + " " + width + "x" + height + ": stride " + s
                        + " is smaller than a line of " + width + " bytes");
            }
            planes.add(new Plane(0, 0, s * height, stride));
        }
        BufferFormat format = layout(fourcc, PixelFormat.MOD_LINEAR, width, height, planes);
        for (int p = 0; p < planes.size(); p++) {
            String wrong = beyond(p, planes.get(p), size);
            if (wrong != null) {
                throw proto("format " + format.describe() + ": " + wrong);
            }
        }
        return format;
    }

    private static Frame decodeV2(byte[] data, ByteBuffer b) {
        if (data.length < HEADER_V2) {
            throw proto("frame of " + data.length + " bytes is shorter than the " + HEADER_V2
                    + "-byte header of version 2");
        }
        long frameId = b.getLong();
        long tag = b.getLong();
        int buffers = b.get() & 0xff;
        int fences = b.get() & 0xff;
        int planeCount = b.get() & 0xff;
        int reserved0 = b.get() & 0xff;
        int nameLen = b.get() & 0xff;
        int exporterLen = b.get() & 0xff;
        int reserved1 = b.getShort() & 0xffff;
        int fourcc = b.getInt();
        int width = b.getInt();
        int height = b.getInt();
        int reserved2 = b.getInt();
        long modifier = b.getLong();
        if (reserved0 != 0 || reserved1 != 0 || reserved2 != 0) {
            throw proto("reserved header bytes are not zero (" + reserved0 + ", " + reserved1 + ", "
                    + Integer.toUnsignedString(reserved2) + ")");
        }
        if (fences > MAX_FENCES) {
            throw proto("the frame announces " + fences + " fence fds; a frame carries at most " + MAX_FENCES);
        }
        if (buffers < 1 || buffers > MAX_BUFFERS) {
            throw proto("buffer count " + buffers + " is not 1 to " + MAX_BUFFERS);
        }
        if (planeCount > MAX_PLANES) {
            throw proto("plane count " + planeCount + " is more than " + MAX_PLANES);
        }
        if (nameLen > MAX_NAME || exporterLen > MAX_EXPORTER) {
            throw proto("name length " + nameLen + " (max " + MAX_NAME + ") or exporter length " + exporterLen
                    + " (max " + MAX_EXPORTER + ") out of range");
        }
        int expected = HEADER_V2 + buffers * BUFFER_ENTRY + planeCount * PLANE_ENTRY + nameLen + exporterLen;
        if (expected != data.length) {
            throw proto("header + " + buffers + " buffers + " + planeCount + " planes + name + exporter = "
                    + expected + " bytes, frame has " + data.length);
        }
        List<Long> sizes = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            long size = b.getLong();
            if (size <= 0) {
                throw proto("buffer " + i + ": size " + Long.toUnsignedString(size) + " is not positive");
            }
            sizes.add(size);
        }
        List<Plane> planes = new ArrayList<>();
        for (int p = 0; p < planeCount; p++) {
            long index = Integer.toUnsignedLong(b.getInt());
            long stride = Integer.toUnsignedLong(b.getInt());
            long offset = b.getLong();
            long length = b.getLong();
            if (index >= buffers) {
                throw proto("plane " + p + " names buffer " + index + ", but the frame carries " + buffers
                        + " buffers (0 to " + (buffers - 1) + ")");
            }
            if (stride > Integer.MAX_VALUE || offset < 0 || length < 0) {
                throw proto("plane " + p + ": stride " + stride + ", offset " + Long.toUnsignedString(offset)
                        + " or length " + Long.toUnsignedString(length) + " out of range");
            }
            Plane plane = new Plane((int) index, offset, length, (int) stride);
            String wrong = beyond(p, plane, sizes.get((int) index));
            if (wrong != null) {
                throw proto(wrong);
            }
            planes.add(plane);
        }
        int textAt = b.position();
        String name = text(data, textAt, nameLen, "name");
        String exporter = text(data, textAt + nameLen, exporterLen, "exporter");
        Optional<BufferFormat> format = Optional.empty();
        if (fourcc == 0) {
            if (width != 0 || height != 0 || modifier != 0 || planeCount != 0 || buffers != 1) {
                throw proto("no format (fourcc 0) but geometry " + Integer.toUnsignedString(width) + "x"
                        + Integer.toUnsignedString(height) + ", modifier " + BufferFormat.modifierName(modifier)
                        + ", " + planeCount + " planes and " + buffers + " buffers (no format: 0x0, 0, 0 planes, "
                        + "1 buffer)");
            }
        } else {
            String f = BufferFormat.fourccName(fourcc);
            pixels(f, width, height);
            if (planeCount == 0) {
                throw proto("format " + f + " without planes");
            }
            BufferFormat layout = layout(fourcc, modifier, width, height, planes);
            if (layout.buffers() != buffers) {
                throw proto("the planes of " + layout.describe() + " live in " + layout.buffers()
                        + " buffers, but the frame carries " + buffers);
            }
            format = Optional.of(layout);
        }
        return new Frame(2, frameId, tag, name, exporter, sizes, fences, format);
    }

    /** Width and height are 1 to 2^31 - 1. */
    private static void pixels(String fourcc, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw proto("format " + fourcc + " " + Integer.toUnsignedString(width) + "x"
                    + Integer.toUnsignedString(height) + " is not a size in pixels (1 to " + Integer.MAX_VALUE + ")");
        }
    }

    /** The model's validation of a layout, its refusal typed as the wire's. */
    private static BufferFormat layout(int fourcc, long modifier, int width, int height, List<Plane> planes) {
        try {
            return new BufferFormat(fourcc, modifier, width, height, planes);
        } catch (InvalidArgumentException e) {
            throw proto("layout refused: " + detail(e));
        }
    }

    /** What is wrong with a plane that does not fit in its buffer, or null. */
    private static String beyond(int index, Plane p, long bufferSize) {
        long end;
        try {
            end = Math.addExact(p.offset(), p.length());
        } catch (ArithmeticException e) {
            end = Long.MAX_VALUE;
        }
        if (end > bufferSize) {
            return "plane " + index + " (offset " + p.offset() + ", length " + p.length() + ") ends at " + end
                    + ", beyond the " + bufferSize + " bytes of buffer " + p.buffer();
        }
        return null;
    }

    /** An exception's message without its {@code call: ERRNO: } prefix. */
    private static String detail(DmaBufException e) {
        String m = e.getMessage();
        String prefix = e.call() + ": " + (e.errno() == null ? "" : e.errno() + ": ");
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Strict UTF-8 without NUL or other control characters. */
    private static String text(byte[] data, int offset, int length, String field) {
        boolean printableAscii = true;
        for (int i = offset; i < offset + length && printableAscii; i++) {
            printableAscii = data[i] >= 0x20 && data[i] < 0x7f;
        }
        if (printableAscii) {
            // the common case, checked byte by byte: no decoder, nothing to refuse
            return new String(data, offset, length, StandardCharsets.ISO_8859_1);
        }
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
     * Checks a decoded frame's buffer against the buffer its fd turned out to be.
     *
     * @param f the frame
     * @param index the buffer's index
     * @param bufferSize the buffer's size as the kernel reports it ({@code DmaBuf.size()})
     * @throws ChannelProtocolException ({@code EPROTO}) if the frame's size for it is not the buffer's
     */
    static void checkAgainst(Frame f, int index, long bufferSize) {
        long said = f.sizes().get(index);
        if (said != bufferSize) {
            throw proto("the frame says " + said + " bytes but the fd's buffer has " + bufferSize + " (buffer "
                    + index + ")");
        }
    }

    private static ChannelProtocolException proto(String message) {
        return new ChannelProtocolException("EPROTO", message + "; frame refused");
    }
}
