package org.dmabuf.gateway;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;

/**
 * The built-in producer where no camera is configured: a ring of XR24 buffers from the best exporter, each frame
 * moving colour bars with the frame number in its first eight bytes (little-endian, as the consumer checks). The
 * source owns the ring: {@link #close()} puts every buffer (a frame handed out keeps its own reference).
 * Threads: one thread calls {@link #next} and {@link #close}.
 */
final class PatternSource implements FrameSource {
    static final int RING = 4;
    static final int WIDTH = 320;
    static final int HEIGHT = 240;
    private static final int[] BARS = {0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000, 0xc000c0, 0xc00000, 0x0000c0, 0x101010};

    private final List<DmaBuf> ring = new ArrayList<>();
    private final BufferFormat format = new BufferFormat(BufferFormat.fourcc("XR24"), WIDTH, HEIGHT,
            List.of(new Plane(0, (long) WIDTH * HEIGHT * 4, WIDTH * 4)));
    private long sequence;

    /**
     * Allocates the ring; nothing stays allocated if one allocation fails.
     *
     * @param registry where the buffers come from
     * @param exporter the exporter to take them from, or null for the best one
     * @throws org.dmabuf.api.DmaBufException if the buffers cannot be allocated (no such exporter, say)
     */
    PatternSource(DmaBufRegistry registry, String exporter) {
        try {
            for (int i = 0; i < RING; i++) {
                BufferRequest r = BufferRequest.ofSize((long) WIDTH * HEIGHT * 4).name("pattern-" + i).format(format);
                ring.add(registry.allocate(exporter == null ? r : r.exporter(exporter)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The exporter service the ring came from, and the buffers' kind. */
    String exporter() {
        DmaBuf first = ring.get(0);
        return first.exporterService().or(first::exporterName).orElse("?") + " ("
                + first.kind().map(Enum::name).orElse("?") + ")";
    }

    /** One line of frame {@code n}: the bars, XR24 (B, G, R, X bytes). */
    private static byte[] line(long n) {
        byte[] bytes = new byte[WIDTH * 4];
        for (int x = 0; x < WIDTH; x++) {
            int rgb = BARS[(int) ((x * BARS.length / WIDTH + n) % BARS.length)];
            bytes[4 * x] = (byte) rgb;
            bytes[4 * x + 1] = (byte) (rgb >> 8);
            bytes[4 * x + 2] = (byte) (rgb >> 16);
        }
        return bytes;
    }

    /**
     * Checks that a frame's memory holds what {@link #next} wrote for it: the frame number in the first eight
     * bytes and the bars in every other line.
     *
     * @param frame the frame's memory, inside a READ access
     * @param n the frame's sequence number
     * @return null if it does, else what differs
     */
    static String verify(MemoryView frame, long n) {
        byte[] head = new byte[8];
        frame.read(0, head, 0, 8);
        long number = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (number != n) {
            return "frame " + n + " holds frame number " + number;
        }
        byte[] expected = line(n);
        byte[] actual = new byte[expected.length];
        for (int y = 1; y < HEIGHT; y++) {
            frame.read((long) y * WIDTH * 4, actual, 0, actual.length);
            if (!Arrays.equals(expected, actual)) {
                return "frame " + n + ": line " + y + " differs from the pattern";
            }
        }
        return null;
    }

    @Override
    public Frame next(Duration timeout) {
        long n = sequence++;
        DmaBuf buf = ring.get((int) (n % RING));
        byte[] bytes = line(n);
        try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
            for (int y = 0; y < HEIGHT; y++) {
                w.write((long) y * WIDTH * 4, bytes, 0, bytes.length);
            }
            // the frame number, little-endian whatever the platform
            w.putLong(0, java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? n
                    : Long.reverseBytes(n));
        }
        DmaBuf ref = buf.get();
        long now = System.nanoTime();
        return new Frame() {
            @Override
            public List<DmaBuf> buffers() {
                return List.of(ref);
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
                return buffer(index).size();
            }

            @Override
            public BufferFormat format() {
                return format;
            }

            @Override
            public void close() {
                ref.close();
            }
        };
    }

    @Override
    public BufferFormat format() {
        return format;
    }

    @Override
    public long framesCaptured() {
        return sequence;
    }

    @Override
    public long framesDropped() {
        return 0;
    }

    @Override
    public void close() {
        ring.forEach(DmaBuf::close);
        ring.clear();
    }
}
