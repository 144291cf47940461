package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Thumbnails of colour bars written in every format of {@link PixelFormat}, in real memfd buffers: the bars come
 * out in their colours, and a layout with padded strides and an offset start (or a buffer per plane) gives the
 * same picture as a tight one.
 */
class ThumbnailsTest {
    private static final int W = 320;
    private static final int H = 240;
    /** 100% colour bars: white, yellow, cyan, green, magenta, red, blue, black. */
    private static final int[] BARS = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0};

    private StandaloneRegistry registry;
    private final List<DmaBuf> buffers = new ArrayList<>();
    private final List<CpuAccess> accesses = new ArrayList<>();

    @BeforeEach
    void open() {
        registry = new StandaloneRegistry("thumbnails").addExporter(new MemfdTestExporter(),
                MemfdTestExporter.properties("memfd"));
    }

    @AfterEach
    void close() {
        accesses.forEach(CpuAccess::close);
        buffers.forEach(DmaBuf::close);
        registry.close();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(PixelFormat.class)
    void colourBarsComeOutInTheirColours(PixelFormat f) throws IOException {
        BufferedImage img = Thumbnails.render(layout(f, 0, 0), f, W, H);
        assertThat(img.getWidth()).isEqualTo(Thumbnails.WIDTH);
        assertThat(img.getHeight()).isEqualTo(Thumbnails.WIDTH * H / W);
        for (int bar = 0; bar < BARS.length; bar++) {
            int tx = (bar * W / BARS.length + W / BARS.length / 2) * Thumbnails.WIDTH / W;
            int expected = f == PixelFormat.GREY ? Colours.grey(BARS[bar]) : BARS[bar];
            for (int ty : new int[] {2, img.getHeight() / 2, img.getHeight() - 3}) {
                Colours.assertClose(f + " bar " + bar + " at (" + tx + ", " + ty + ")", expected, img.getRGB(tx, ty));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(PixelFormat.class)
    void paddedStridesAndAnOffsetStartGiveTheSamePictureAsATightLayout(PixelFormat f) throws IOException {
        BufferedImage tight = Thumbnails.render(layout(f, 0, 0), f, W, H);
        BufferedImage padded = Thumbnails.render(layout(f, 64, 4096), f, W, H);
        for (int y = 0; y < tight.getHeight(); y++) {
            for (int x = 0; x < tight.getWidth(); x++) {
                assertThat(padded.getRGB(x, y)).as("%s pixel (%d, %d)", f, x, y).isEqualTo(tight.getRGB(x, y));
            }
        }
    }

    @Test
    void aPlaneThatDoesNotFitItsBufferIsRefusedNamingIt() {
        List<Thumbnails.PlaneView> planes = layout(PixelFormat.NV12, 0, 0);
        Thumbnails.PlaneView uv = planes.get(1);
        List<Thumbnails.PlaneView> bad = List.of(planes.get(0), new Thumbnails.PlaneView(uv.memory(),
                uv.offset() + 4096, uv.stride()));
        assertThatThrownBy(() -> Thumbnails.render(bad, PixelFormat.NV12, W, H)).isInstanceOf(IOException.class)
                .hasMessageContaining("plane 1").hasMessageContaining("with stride 320");
        assertThatThrownBy(() -> Thumbnails.render(planes.subList(0, 1), PixelFormat.NV12, W, H))
                .isInstanceOf(IOException.class).hasMessageContaining("NV12 has 2 planes, 1 given");
    }

    /**
     * Writes the bars in format {@code f} into memfd buffers: all planes in one buffer, one after another from
     * {@code start}, or a buffer per plane for the V4L2 {@code M} formats; each line padded by {@code pad} bytes of
     * garbage.
     */
    private List<Thumbnails.PlaneView> layout(PixelFormat f, int pad, int start) {
        int[] strides = new int[f.planes()];
        long[] offsets = new long[f.planes()];
        long total = start;
        for (int p = 0; p < f.planes(); p++) {
            strides[p] = (int) f.lineBytes(p, W) + pad;
            offsets[p] = f.memoryPlanes() == 1 ? total : start;
            total += (long) strides[p] * f.lines(p, H);
        }
        List<Thumbnails.PlaneView> views = new ArrayList<>();
        CpuAccess shared = null;
        for (int p = 0; p < f.planes(); p++) {
            CpuAccess a = shared;
            if (a == null) {
                long size = f.memoryPlanes() == 1 ? total : start + (long) strides[p] * f.lines(p, H);
                DmaBuf b = registry.allocate(BufferRequest.ofSize(size).name(f + "-" + p));
                buffers.add(b);
                a = b.beginCpuAccess(SyncDirection.READ_WRITE);
                accesses.add(a);
                a.fill(0, a.size(), (byte) 0x5a);
                if (f.memoryPlanes() == 1) {
                    shared = a;
                }
            }
            for (int row = 0; row < f.lines(p, H); row++) {
                byte[] line = line(f, p, row);
                a.write(offsets[p] + (long) row * strides[p], line, 0, line.length);
            }
            views.add(new Thumbnails.PlaneView(a, offsets[p], strides[p]));
        }
        return views;
    }

    /** One line of plane {@code p} of the bars in format {@code f}. */
    private static byte[] line(PixelFormat f, int p, int row) {
        byte[] out = new byte[(int) f.lineBytes(p, W)];
        int cpp = f.bytesPerPixel(p);
        int hsub = f.horizontalSubsampling(p);
        for (int i = 0; i < out.length / cpp; i++) {
            int x = i * hsub;
            int rgb = BARS[x * BARS.length / W];
            int r = rgb >> 16 & 0xff;
            int g = rgb >> 8 & 0xff;
            int b = rgb & 0xff;
            int y = 16 + (66 * r + 129 * g + 25 * b + 128 >> 8);
            int u = 128 + (-38 * r - 74 * g + 112 * b + 128 >> 8);
            int v = 128 + (112 * r - 94 * g - 18 * b + 128 >> 8);
            byte[] px = switch (f) {
                case YUYV -> new byte[] {(byte) y, (byte) ((x & 1) == 0 ? u : v)};
                case UYVY -> new byte[] {(byte) ((x & 1) == 0 ? u : v), (byte) y};
                case NV12, NV12M, NV16 -> p == 0 ? new byte[] {(byte) y} : new byte[] {(byte) u, (byte) v};
                case NV21, NV21M -> p == 0 ? new byte[] {(byte) y} : new byte[] {(byte) v, (byte) u};
                case YUV420, YUV420M -> new byte[] {(byte) (p == 0 ? y : p == 1 ? u : v)};
                case GREY -> new byte[] {(byte) Colours.grey(rgb)};
                case RGB24 -> new byte[] {(byte) r, (byte) g, (byte) b};
                case BGR24 -> new byte[] {(byte) b, (byte) g, (byte) r};
                case XBGR32 -> new byte[] {(byte) b, (byte) g, (byte) r, (byte) 0xff};
                case XRGB32 -> new byte[] {(byte) 0xff, (byte) r, (byte) g, (byte) b};
            };
            System.arraycopy(px, 0, out, i * cpp, cpp);
        }
        return out;
    }
}
