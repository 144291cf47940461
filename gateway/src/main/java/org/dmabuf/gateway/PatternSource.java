package org.dmabuf.gateway;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;

/**
 * The built-in producer where no camera is configured: a ring of XR24 buffers from the best exporter, each frame
 * moving colour bars with the frame number in its first eight bytes (little-endian, as the consumer checks).
 * Threads: one consumer thread calls {@link #next}.
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

    PatternSource(DmaBufRegistry registry) {
        try {
            for (int i = 0; i < RING; i++) {
                ring.add(registry.allocate(BufferRequest.ofSize((long) WIDTH * HEIGHT * 4).name("pattern-" + i)
                        .format(format)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    String exporter() {
        return ring.get(0).exporterName().orElse("?") + " (" + ring.get(0).kind().map(Enum::name).orElse("?") + ")";
    }

    @Override
    public Frame next(Duration timeout) {
        long n = sequence++;
        DmaBuf buf = ring.get((int) (n % RING));
        int[] line = new int[WIDTH];
        for (int x = 0; x < WIDTH; x++) {
            line[x] = BARS[(int) ((x * BARS.length / WIDTH + n) % BARS.length)];
        }
        byte[] bytes = new byte[WIDTH * 4];
        for (int x = 0; x < WIDTH; x++) {
            bytes[4 * x] = (byte) line[x];
            bytes[4 * x + 1] = (byte) (line[x] >> 8);
            bytes[4 * x + 2] = (byte) (line[x] >> 16);
        }
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
            public DmaBuf buffer() {
                return ref;
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
            public long bytesUsed() {
                return ref.size();
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
