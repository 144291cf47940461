package org.dmabuf.gateway;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;

/**
 * The built-in producer where no camera is configured: a ring of frames of one {@link PixelFormat} (XR24,
 * {@link PixelFormat#XBGR32}, by default) from the best exporter, each frame moving vertical colour bars, written
 * in the format's own encoding (BT.601 limited-range Y, Cb and Cr for the YUV formats, full-range luminance for
 * GREY), with the frame number in the first eight bytes of its first buffer (little-endian, as the consumer checks).
 * The ring is a {@link BufferPool} of {@link #RING} frames ({@link DmaBufRegistry#createPool}), one buffer each or
 * one per plane for a format whose planes live in buffers of their own ({@code NV12M}); every line is written at
 * the offset and stride of the layout the frames actually got ({@link BufferPool#format()}), which may be padded for
 * a device's stride alignment.
 *
 * <p>A frame is rewritten only once every holder of each of its buffers released it: the frame handed out by
 * {@link #next}, any {@link DmaBuf#get()} taken from it (a buffer channel keeps one until its consumer releases the
 * frame), any handle on it in this process. {@link #next} takes a free frame from the pool, waiting at most its
 * timeout; when none came free in time (every frame of the ring still held by a slow consumer) it returns
 * {@code null} and counts a dropped frame ({@link #framesDropped()}): the frame number is used up, so the next
 * frame's sequence shows the gap, as a camera's does. It never writes into a buffer someone still holds.
 * {@link #close()} closes the pool: frames handed out stay valid until their holders release them.
 *
 * <p>Threads: one thread calls {@link #next} and {@link #close}; frames may be closed by any thread.
 */
final class PatternSource implements FrameSource {
    static final int RING = 4;
    static final int WIDTH = 320;
    static final int HEIGHT = 240;
    /** The bars' colours, RGB: grey, yellow, cyan, green, magenta, red, blue, near black. */
    static final int[] BARS = {0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000, 0xc000c0, 0xc00000, 0x0000c0, 0x101010};

    private final BufferPool ring;
    private final boolean bytes;
    private final String exporterDescription;
    private final PixelFormat pixelFormat;
    private final int width;
    private final int height;
    private long sequence;
    private long written;
    private long dropped;

    /**
     * Allocates a ring of XR24 frames of {@link #WIDTH} × {@link #HEIGHT}.
     *
     * @param registry where the buffers come from
     * @param exporter the exporter to take them from, or null for the best one
     * @throws org.dmabuf.api.DmaBufException if the buffers cannot be allocated (no such exporter, say)
     */
    PatternSource(DmaBufRegistry registry, String exporter) {
        this(registry, exporter, PixelFormat.XBGR32, WIDTH, HEIGHT, DeviceConstraints.NONE);
    }

    /**
     * Allocates the ring: a pool of {@link #RING} frames named {@code pattern-0} to {@code pattern-3}; nothing stays
     * allocated if one allocation fails.
     *
     * @param registry where the buffers come from
     * @param exporter the exporter to take them from, or null for the best one
     * @param format the frames' pixel format
     * @param width width in pixels
     * @param height height in pixels
     * @param constraints the stride and offset alignment to ask of the frames' layout
     * @throws org.dmabuf.api.DmaBufException if the buffers cannot be allocated (no such exporter, say)
     */
    PatternSource(DmaBufRegistry registry, String exporter, PixelFormat format, int width, int height,
            DeviceConstraints constraints) {
        this(registry, exporter, format, width, height, constraints, RING, false);
    }

    /**
     * Allocates a ring of {@code frames} frames, each written with the colour bars or with the byte pattern of
     * {@code docs/wire-format.md} (byte {@code i} of buffer {@code b} of frame {@code t} is
     * {@code (t * 131 + b * 17 + i) & 0xff}, over every byte of every buffer, padding included): what a consumer in
     * another process checks byte by byte against the frame's tag to see a torn or stale frame.
     *
     * @param registry where the buffers come from
     * @param exporter the exporter to take them from, or null for the best one
     * @param format the frames' pixel format
     * @param width width in pixels
     * @param height height in pixels
     * @param constraints the stride and offset alignment to ask of the frames' layout
     * @param frames how many frames the ring has
     * @param bytes true for the byte pattern, false for the colour bars
     * @throws org.dmabuf.api.DmaBufException if the buffers cannot be allocated (no such exporter, say)
     */
    PatternSource(DmaBufRegistry registry, String exporter, PixelFormat format, int width, int height,
            DeviceConstraints constraints, int frames, boolean bytes) {
        this(registry, exporter, format, width, height, constraints, frames, bytes, "pattern");
    }

    /**
     * Allocates a ring as {@link #PatternSource(DmaBufRegistry, String, PixelFormat, int, int, DeviceConstraints,
     * int, boolean)} does, its buffers named {@code name-0}, {@code name-1} and so on.
     *
     * @param registry where the buffers come from
     * @param exporter the exporter to take them from, or null for the best one
     * @param format the frames' pixel format
     * @param width width in pixels
     * @param height height in pixels
     * @param constraints the stride and offset alignment to ask of the frames' layout
     * @param frames how many frames the ring has
     * @param bytes true for the byte pattern, false for the colour bars
     * @param name the buffers' name, before their number
     * @throws org.dmabuf.api.DmaBufException if the buffers cannot be allocated (no such exporter, a name too long
     *         for {@code DMA_BUF_SET_NAME} once numbered, say)
     */
    PatternSource(DmaBufRegistry registry, String exporter, PixelFormat format, int width, int height,
            DeviceConstraints constraints, int frames, boolean bytes, String name) {
        this.bytes = bytes;
        this.pixelFormat = format;
        this.width = width;
        this.height = height;
        BufferRequest r = BufferRequest.ofFormat(format, width, height).name(name).constraints(constraints);
        this.ring = registry.createPool(exporter == null ? r : r.exporter(exporter), frames);
        try (FrameBuffer any = ring.acquire(Duration.ZERO)) {
            DmaBuf first = any.buffer(0);
            this.exporterDescription = first.exporterService().or(first::exporterName).orElse("?") + " ("
                    + first.kind().map(Enum::name).orElse("?") + ")";
        } catch (RuntimeException e) {
            ring.close();
            throw e;
        }
    }

    /**
     * The pixel format a {@code --format} argument names: a {@link PixelFormat} constant ({@code NV12M},
     * {@code XBGR32}), in any case, or a V4L2 fourcc of the table ({@code XR24}, {@code NM12}, {@code YU12}).
     *
     * @param name the argument
     * @return the format
     * @throws InvalidArgumentException naming the argument and the formats there are
     */
    static PixelFormat pixelFormat(String name) {
        String upper = name.strip().toUpperCase(Locale.ROOT);
        for (PixelFormat f : PixelFormat.values()) {
            if (f.name().equals(upper)) {
                return f;
            }
        }
        Optional<PixelFormat> byFourcc = upper.length() == 4 && upper.chars().allMatch(c -> c < 0x80)
                ? PixelFormat.ofV4l2(BufferFormat.fourcc(upper))
                : Optional.empty();
        return byFourcc.orElseThrow(() -> new InvalidArgumentException("--format", "no pixel format '" + name
                + "': one of " + Arrays.toString(PixelFormat.values()) + ", or its V4L2 fourcc"));
    }

    /** The exporter service the ring came from, and the buffers' kind. */
    String exporter() {
        return exporterDescription;
    }

    /** The ring's pixel format. */
    PixelFormat pixelFormat() {
        return pixelFormat;
    }

    /** The value of a sample of plane {@code p} of bar colour {@code rgb}: Y, Cb or Cr, grey, or a byte of RGB. */
    private static int[] sample(PixelFormat f, int rgb) {
        int r = rgb >> 16 & 0xff;
        int g = rgb >> 8 & 0xff;
        int b = rgb & 0xff;
        int y = 16 + ((66 * r + 129 * g + 25 * b + 128) >> 8);
        int u = 128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8);
        int v = 128 + ((112 * r - 94 * g - 18 * b + 128) >> 8);
        int grey = (r * 299 + g * 587 + b * 114) / 1000;
        return new int[] {r, g, b, y, u, v, grey};
    }

    /**
     * One line of plane {@code p} of frame {@code n}, without padding: the bars moved by {@code n}, every pixel (or
     * chroma sample) the colour of the bar it is in.
     *
     * @param f the format
     * @param p the plane
     * @param width the image's width
     * @param n the frame number
     * @return the line's bytes
     */
    static byte[] line(PixelFormat f, int p, int width, long n) {
        byte[] out = new byte[(int) f.lineBytes(p, width)];
        int hsub = f.horizontalSubsampling(p);
        int cpp = f.bytesPerPixel(p);
        for (int i = 0; i < out.length / cpp; i++) {
            int x = i * hsub;
            int[] s = sample(f, BARS[(int) (((long) x * BARS.length / width + n) % BARS.length)]);
            int r = s[0];
            int g = s[1];
            int b = s[2];
            int y = s[3];
            int u = s[4];
            int v = s[5];
            byte[] px = switch (f) {
                // packed 4:2:2: two bytes per pixel, Y then the pair's Cb (even pixel) or Cr (odd pixel)
                case YUYV -> new byte[] {(byte) y, (byte) ((x & 1) == 0 ? u : chromaOfPair(f, x, width, n)[1])};
                case UYVY -> new byte[] {(byte) ((x & 1) == 0 ? u : chromaOfPair(f, x, width, n)[1]), (byte) y};
                case NV12, NV12M, NV16 -> p == 0 ? new byte[] {(byte) y} : new byte[] {(byte) u, (byte) v};
                case NV21, NV21M -> p == 0 ? new byte[] {(byte) y} : new byte[] {(byte) v, (byte) u};
                case YUV420, YUV420M -> new byte[] {(byte) (p == 0 ? y : p == 1 ? u : v)};
                case GREY -> new byte[] {(byte) s[6]};
                case RGB24 -> new byte[] {(byte) r, (byte) g, (byte) b};
                case BGR24 -> new byte[] {(byte) b, (byte) g, (byte) r};
                case XBGR32 -> new byte[] {(byte) b, (byte) g, (byte) r, 0};
                case XRGB32 -> new byte[] {0, (byte) r, (byte) g, (byte) b};
            };
            System.arraycopy(px, 0, out, i * cpp, cpp);
        }
        return out;
    }

    /** The Cb and Cr of the pixel pair that pixel {@code x} is in: the colour of the pair's first pixel. */
    private static int[] chromaOfPair(PixelFormat f, int x, int width, long n) {
        int[] s = sample(f, BARS[(int) (((long) (x & ~1) * BARS.length / width + n) % BARS.length)]);
        return new int[] {s[4], s[5]};
    }

    /**
     * Writes frame {@code n} into a frame's buffers: every line of every plane at the layout's offsets and
     * strides, then the frame number in the first eight bytes of buffer 0.
     *
     * @param buffers the frame's buffers, inside a WRITE access, by buffer index
     * @param layout the frame's layout
     * @param n the frame number
     */
    static void write(List<? extends MemoryView> buffers, BufferFormat layout, long n) {
        PixelFormat f = layout.pixelFormat().orElseThrow(() -> new InvalidArgumentException("PatternSource",
                "no pixel format for " + layout.describe()));
        for (int p = 0; p < f.planes(); p++) {
            Plane plane = layout.planes().get(p);
            MemoryView m = buffers.get(plane.buffer());
            byte[] bytes = line(f, p, layout.width(), n);
            for (long row = 0; row < f.lines(p, layout.height()); row++) {
                m.write(plane.offset() + row * plane.stride(), bytes, 0, bytes.length);
            }
        }
        // the frame number, little-endian whatever the platform
        buffers.get(0).putLong(0, ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? n : Long.reverseBytes(n));
    }

    /** Whether the frames hold the byte pattern rather than the colour bars. */
    boolean bytes() {
        return bytes;
    }

    /** The 256 bytes the byte pattern repeats in buffer {@code b} of frame {@code n}. */
    private static byte[] period(long n, int b) {
        byte[] period = new byte[256];
        int start = (int) ((n * 131 + b * 17L) & 0xff);
        for (int i = 0; i < 256; i++) {
            period[i] = (byte) (start + i);
        }
        return period;
    }

    /** Writes the byte pattern of frame {@code n} over every byte of every buffer. */
    static void writeBytes(List<? extends MemoryView> buffers, long n) {
        for (int b = 0; b < buffers.size(); b++) {
            MemoryView m = buffers.get(b);
            byte[] period = period(n, b);
            byte[] chunk = new byte[(int) Math.min(m.size(), 64 * 256)];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = period[i & 0xff];
            }
            for (long at = 0; at < m.size(); at += chunk.length) {
                m.write(at, chunk, 0, (int) Math.min(chunk.length, m.size() - at));
            }
        }
    }

    /**
     * Checks that every byte of every buffer holds the byte pattern of frame {@code n}.
     *
     * @param buffers the frame's buffers, inside a READ access
     * @param n the frame's sequence number
     * @return null if they do, else the first byte that differs
     */
    static String verifyBytes(List<? extends MemoryView> buffers, long n) {
        for (int b = 0; b < buffers.size(); b++) {
            MemoryView m = buffers.get(b);
            byte[] period = period(n, b);
            byte[] chunk = new byte[(int) Math.min(m.size(), 64 * 256)];
            for (long at = 0; at < m.size(); at += chunk.length) {
                int len = (int) Math.min(chunk.length, m.size() - at);
                m.read(at, chunk, 0, len);
                for (int i = 0; i < len; i++) {
                    if (chunk[i] != period[(int) ((at + i) & 0xff)]) {
                        return "frame " + n + ": byte " + (at + i) + " of buffer " + b + " is " + (chunk[i] & 0xff)
                                + ", not " + (period[(int) ((at + i) & 0xff)] & 0xff);
                    }
                }
            }
        }
        return null;
    }

    /**
     * Checks that a frame's memory holds what {@link #next} wrote for it: the frame number in the first eight
     * bytes and the bars in every line of every plane but the first line of the first.
     *
     * @param buffers the frame's buffers, inside a READ access, by buffer index
     * @param layout the frame's layout
     * @param n the frame's sequence number
     * @return null if it does, else what differs
     */
    static String verify(List<? extends MemoryView> buffers, BufferFormat layout, long n) {
        byte[] head = new byte[8];
        buffers.get(0).read(0, head, 0, 8);
        long number = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (number != n) {
            return "frame " + n + " holds frame number " + number;
        }
        Optional<PixelFormat> known = layout.pixelFormat();
        if (known.isEmpty()) {
            return "frame " + n + ": no pixel format for " + layout.describe();
        }
        PixelFormat f = known.get();
        for (int p = 0; p < f.planes(); p++) {
            Plane plane = layout.planes().get(p);
            byte[] expected = line(f, p, layout.width(), n);
            byte[] actual = new byte[expected.length];
            for (long row = p == 0 ? 1 : 0; row < f.lines(p, layout.height()); row++) {
                buffers.get(plane.buffer()).read(plane.offset() + row * plane.stride(), actual, 0, actual.length);
                if (!Arrays.equals(expected, actual)) {
                    return "frame " + n + ": line " + row + " of plane " + p + " differs from the pattern";
                }
            }
        }
        return null;
    }

    /**
     * Writes the next frame into a frame of the ring that nobody holds.
     *
     * @param timeout how long to wait for a frame of the ring to come free
     * @return the frame, owned by the caller (closing it gives its buffers back to the ring once every other holder
     *         released them too); or {@code null}, counted as a dropped frame, if every frame of the ring was still
     *         held for the whole timeout
     * @throws org.dmabuf.api.BufferStateException if the source is closed
     */
    @Override
    public Frame next(Duration timeout) {
        FrameBuffer slot = ring.acquire(timeout);
        long n = sequence++;
        if (slot == null) {
            dropped++;
            return null;
        }
        BufferFormat layout = slot.format();
        try {
            List<CpuAccess> accesses = new ArrayList<>();
            try {
                for (DmaBuf b : slot.buffers()) {
                    accesses.add(b.beginCpuAccess(SyncDirection.WRITE));
                }
                if (bytes) {
                    writeBytes(accesses, n);
                } else {
                    write(accesses, layout, n);
                }
            } finally {
                for (int i = accesses.size() - 1; i >= 0; i--) {
                    accesses.get(i).close();
                }
            }
        } catch (RuntimeException | Error e) {
            slot.close();
            throw e;
        }
        written++;
        List<DmaBuf> buffers = slot.buffers();
        long now = System.nanoTime();
        return new Frame() {
            private boolean closed;

            @Override
            public List<DmaBuf> buffers() {
                return buffers;
            }

            @Override
            public long sequence() {
                return n;
            }

            @Override
            public long timestampNanos() {
                return now;
            }

            @Override
            public long bytesUsed(int index) {
                buffer(index);
                return layout.bufferSize(index);
            }

            @Override
            public BufferFormat format() {
                return layout;
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    slot.close();
                }
            }
        };
    }

    @Override
    public BufferFormat format() {
        return ring.format();
    }

    /** Frames written and handed out. */
    @Override
    public long framesCaptured() {
        return written;
    }

    /** Frames not written because every frame of the ring was still held ({@link #next} returned null). */
    @Override
    public long framesDropped() {
        return dropped;
    }

    /** Closes the ring's pool: frames handed out stay valid until released. Idempotent. */
    @Override
    public void close() {
        ring.close();
    }
}
