package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * vivid, in the kernel guest, in the planar and multi-planar formats of the table on both of its nodes
 * ({@code /dev/video0} single-planar, {@code /dev/video1} multi-planar): the layout the project reports against the
 * kernel's own view ({@code v4l2-ctl --get-fmt-video}), captured frames with every plane's dma-buf, vivid's colour
 * bars in the luma plane, capture into system-heap buffers, and no fd left behind.
 */
@Tag("kernel")
class PixelFormatsKernelTest {
    private static final String VIDEO = "/dev/video0";
    private static final String VIDEO_MPLANE = "/dev/video1";
    private long fdsBefore;

    @BeforeEach
    void baseline() {
        fdsBefore = TestSupport.openFds();
    }

    @AfterEach
    void nothingLeft() {
        assertThat(TestSupport.openFdTargets()).as("fds left open").hasSize((int) fdsBefore);
        assertThat(TestSupport.mappings("/dmabuf:", "/dev/video")).as("buffer mappings left").isZero();
    }

    /** Every format of the table vivid offers on a node, by its V4L2 fourcc. */
    static Stream<Arguments> formats() {
        return Stream.of(Arguments.of(VIDEO, "YUYV"), Arguments.of(VIDEO, "NV12"), Arguments.of(VIDEO, "YU12"),
                Arguments.of(VIDEO_MPLANE, "NM12"), Arguments.of(VIDEO_MPLANE, "YM12"),
                Arguments.of(VIDEO_MPLANE, "YUYV"), Arguments.of(VIDEO_MPLANE, "NV12"));
    }

    /** The formats the capture into heap buffers is tried in: both multi-planar ones and one of one buffer. */
    static Stream<Arguments> intoFormats() {
        return Stream.of(Arguments.of(VIDEO_MPLANE, "NM12"), Arguments.of(VIDEO_MPLANE, "YM12"),
                Arguments.of(VIDEO, "NV12"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("formats")
    void theReportedLayoutIsTheKernelsAndEveryFrameHoldsEveryPlanesDmaBufWithVividsColourBars(String node,
            String code) throws Exception {
        PixelFormat pf = PixelFormat.ofV4l2(BufferFormat.fourcc(code)).orElseThrow();
        try (V4l2Device d = new V4l2Device(node); V4l2Exporter e = new V4l2Exporter(d, 320, 240, pf.v4l2Fourcc(), 4);
             StandaloneRegistry r = new StandaloneRegistry("test"); FrameSource source = e.capture(r)) {
            BufferFormat f = e.format();
            assertThat(f.fourcc()).as("the DRM fourcc").isEqualTo(pf.drmFourcc());
            assertThat(f.modifier()).isEqualTo(PixelFormat.MOD_LINEAR);
            assertThat(f.pixelFormat()).contains(pf);
            assertThat(f.buffers()).isEqualTo(pf.memoryPlanes());
            assertThat(source.format()).isEqualTo(f);
            try (Frame first = source.next(Duration.ofSeconds(30))) {
                assertThat(first).as("a frame arrives").isNotNull();
                // the capture holds the format now: the kernel's view of it from another process
                KernelFormat k = kernelFormat(node);
                assertThat(k.fourcc()).isEqualTo(code);
                assertThat(f.width()).isEqualTo(k.width());
                assertThat(f.height()).isEqualTo(k.height());
                assertThat(k.bytesPerLine()).hasSize(pf.memoryPlanes());
                if (pf.memoryPlanes() > 1) {
                    for (int p = 0; p < pf.memoryPlanes(); p++) {
                        assertThat(f.planes().get(p)).as("plane " + p + " is V4L2 plane " + p)
                                .isEqualTo(new Plane(p, 0, k.sizeImage().get(p), k.bytesPerLine().get(p).intValue()));
                    }
                } else {
                    long bpl = k.bytesPerLine().get(0);
                    long size = k.sizeImage().get(0);
                    assertThat(f.bufferSize(0)).as("sizeimage").isEqualTo(size);
                    assertThat(f.planes()).containsExactlyElementsOf(singleBufferPlanes(pf, f.height(), bpl, size));
                }
                assertThat(e.properties(50)).containsEntry(DmaBufExporter.MAX_SIZE,
                        k.sizeImage().stream().mapToLong(Long::longValue).max().orElseThrow());
                checkFrame(first, f, "videobuf2_vmalloc");
            }
            try (Frame second = source.next(Duration.ofSeconds(30))) {
                assertThat(second).isNotNull();
                checkFrame(second, f, "videobuf2_vmalloc");
            }
            source.close();
            assertThat(r.bufinfo()).as("the capture and its frames put every plane's handle").isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("intoFormats")
    void captureIntoSystemHeapBuffersQueuesADmaBufPerPlane(String node, String code) throws Exception {
        PixelFormat pf = PixelFormat.ofV4l2(BufferFormat.fourcc(code)).orElseThrow();
        try (V4l2Device d = new V4l2Device(node);
             StandaloneRegistry r = new StandaloneRegistry("test").addExporter(new TestSupport.RawSystemHeap(),
                     TestSupport.RawSystemHeap.properties(1))) {
            BufferFormat f = d.setFormat(320, 240, pf.v4l2Fourcc());
            try (FrameSource capture = V4l2Capture.into(d, f, r, "system", 3)) {
                assertThat(r.bufinfo()).as("a heap buffer per plane of each of the 3 frames")
                        .hasSize(3 * pf.memoryPlanes())
                        .allSatisfy(i -> assertThat(i.exporter()).isEqualTo("system"));
                for (int n = 0; n < 2; n++) {
                    try (Frame frame = capture.next(Duration.ofSeconds(30))) {
                        assertThat(frame).as("vivid filled heap buffers").isNotNull();
                        checkFrame(frame, f, "system");
                        for (DmaBuf b : frame.buffers()) {
                            assertThat(b.format()).as("a buffer reports a layout only where it holds the image")
                                    .isEqualTo(pf.memoryPlanes() == 1 ? java.util.Optional.of(f)
                                            : java.util.Optional.empty());
                        }
                    }
                }
            }
            assertThat(r.bufinfo()).as("the capture released the heap buffers").isEmpty();
        }
    }

    @Test
    void anExportedPlaneReportsTheLayoutOnlyWhereItHoldsTheWholeImage() {
        try (V4l2Device d = new V4l2Device(VIDEO_MPLANE);
             V4l2Exporter e = new V4l2Exporter(d, 320, 240, PixelFormat.NV12M.v4l2Fourcc(), 2);
             StandaloneRegistry r = new StandaloneRegistry("test").addExporter(e, e.properties(50));
             DmaBuf luma = r.allocate(BufferRequest.ofSize(57600));
             DmaBuf chroma = r.allocate(BufferRequest.ofSize(28800))) {
            assertThat(e.properties(50)).containsEntry(DmaBufExporter.MAX_SIZE, 57600L);
            assertThat(luma.exporterName()).contains("videobuf2_vmalloc");
            assertThat(luma.format()).as("plane 0 of NV12M alone is no image").isEmpty();
            assertThat(chroma.format()).isEmpty();
            assertThat(luma.id()).isNotEqualTo(chroma.id());
        }
        try (V4l2Device d = new V4l2Device(VIDEO);
             V4l2Exporter e = new V4l2Exporter(d, 320, 240, PixelFormat.NV12.v4l2Fourcc(), 2);
             StandaloneRegistry r = new StandaloneRegistry("test").addExporter(e, e.properties(50));
             DmaBuf whole = r.allocate(BufferRequest.ofSize(86400))) {
            assertThat(e.properties(50)).as("the whole image, not its luma plane")
                    .containsEntry(DmaBufExporter.MAX_SIZE, 86400L);
            assertThat(whole.format()).contains(e.format());
        }
    }

    @Test
    void aFormatTheTableDoesNotHaveOrTheNodeDoesNotCaptureIsRefusedNamingTheNodeAndWhatItCaptures() {
        try (V4l2Device d = new V4l2Device(VIDEO)) {
            assertThatThrownBy(() -> d.setFormat(320, 240, BufferFormat.fourcc("Y10 ")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("EINVAL")
                    .hasMessageContaining("/dev/video0 (vivid")
                    .hasMessageContaining("Y10  is not a pixel format of the table")
                    .hasMessageContaining("the node captures YUYV, UYVY").hasMessageContaining("NV12")
                    .hasMessageNotContaining("NM12");
            assertThatThrownBy(() -> d.setFormat(320, 240, PixelFormat.NV12M.v4l2Fourcc()))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("VIDIOC_S_FMT): EINVAL")
                    .hasMessageContaining("does not capture NM12").hasMessageContaining("it captures YUYV");
        }
    }

    // ---- helpers ----

    /** The planes of a format in one buffer, as {@code <linux/videodev2.h>} documents NV12, YUV420 and YUYV. */
    private static List<Plane> singleBufferPlanes(PixelFormat pf, int height, long bpl, long size) {
        long luma = bpl * height;
        return switch (pf) {
            case NV12 -> List.of(new Plane(0, 0, luma, (int) bpl), new Plane(0, luma, size - luma, (int) bpl));
            case YUV420 -> {
                long cb = bpl / 2 * (height / 2);
                yield List.of(new Plane(0, 0, luma, (int) bpl), new Plane(0, luma, cb, (int) bpl / 2),
                        new Plane(0, luma + cb, size - luma - cb, (int) bpl / 2));
            }
            case YUYV -> List.of(new Plane(0, 0, size, (int) bpl));
            default -> throw new AssertionError(pf);
        };
    }

    /**
     * A frame of the capture: a dma-buf of the expected exporter per buffer of the layout, each a kernel object of
     * its own, as large as its planes; the driver's bytes used; the colour bars in the first luma line and the
     * chroma written.
     */
    private static void checkFrame(Frame frame, BufferFormat f, String expName) throws IOException {
        assertThat(frame.format()).isEqualTo(f);
        assertThat(frame.buffers()).hasSize(f.buffers());
        assertThat(frame.buffers().stream().map(DmaBuf::id).distinct()).as("a kernel object per buffer")
                .hasSize(f.buffers());
        for (int i = 0; i < f.buffers(); i++) {
            DmaBuf b = frame.buffer(i);
            FdInfo info = FdInfo.read(b.fd());
            assertThat(info.expName()).as("buffer " + i + " is a real dma-buf").isEqualTo(expName);
            assertThat(Sys.fstat(b.fd()).id()).isEqualTo(b.id());
            assertThat(b.size()).as("buffer " + i + " holds its planes").isGreaterThanOrEqualTo(f.bufferSize(i))
                    .isEqualTo(info.size());
            assertThat(frame.bytesUsed(i)).as("bytesused of V4L2 plane " + i).isEqualTo(f.bufferSize(i));
        }
        int past = f.buffers();
        assertThatThrownBy(() -> frame.bytesUsed(past)).isInstanceOf(InvalidArgumentException.class);
        int[] luma = firstLine(frame, f, 0);
        int step = f.pixelFormat().orElseThrow().bytesPerPixel(0) == 2 ? 2 : 1; // YUYV: Y at every other byte
        int width = f.width();
        // vivid's default pattern: the 75% colour bars, white, yellow, cyan, green, magenta, red, blue, black, in
        // limited range: Y 180 for 75% white, 16 for black, and each bar darker than the one before
        int[] bars = new int[8];
        for (int bar = 0; bar < 8; bar++) {
            bars[bar] = luma[step * (width * (2 * bar + 1) / 16)]; // the middle of each bar
        }
        String seen = "Y of each bar: " + java.util.Arrays.toString(bars);
        assertThat(bars[0]).as("vivid's first colour bar is (75%%) white: %s", seen).isGreaterThanOrEqualTo(170);
        assertThat(bars[7]).as("its last bar is black: %s", seen).isLessThanOrEqualTo(40);
        for (int bar = 1; bar < 8; bar++) {
            assertThat(bars[bar]).as("bar %d is darker than bar %d: %s", bar, bar - 1, seen)
                    .isLessThan(bars[bar - 1]);
        }
        for (int p = 1; p < f.planes().size(); p++) {
            int[] chroma = firstLine(frame, f, p);
            assertThat(java.util.Arrays.stream(chroma).anyMatch(v -> v != 0))
                    .as("plane " + p + " (buffer " + f.planes().get(p).buffer() + ") was written").isTrue();
        }
    }

    /** The first line of a plane, read with CPU access. */
    private static int[] firstLine(Frame frame, BufferFormat f, int plane) {
        Plane p = f.planes().get(plane);
        long line = f.pixelFormat().orElseThrow().lineBytes(plane, f.width());
        byte[] bytes = new byte[(int) line];
        try (CpuAccess a = frame.buffer(p.buffer()).beginCpuAccess(SyncDirection.READ)) {
            a.read(p.offset(), bytes, 0, bytes.length);
        }
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[i] & 0xff;
        }
        return out;
    }

    /** What {@code v4l2-ctl --get-fmt-video} prints: the size, the V4L2 fourcc and each plane's line and size. */
    record KernelFormat(int width, int height, String fourcc, List<Long> bytesPerLine, List<Long> sizeImage) {
    }

    private static KernelFormat kernelFormat(String node) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("v4l2-ctl", "-d", node, "--get-fmt-video").redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            p.getOutputStream().close();
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            p.getErrorStream().close();
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Matcher size = Pattern.compile("Width/Height\\s*:\\s*(\\d+)/(\\d+)").matcher(out);
        Matcher fourcc = Pattern.compile("Pixel Format\\s*:\\s*'(.{4})'").matcher(out);
        assertThat(size.find() && fourcc.find()).as(out).isTrue();
        List<Long> bpl = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        Matcher m = Pattern.compile("Bytes per Line\\s*:\\s*(\\d+)").matcher(out);
        while (m.find()) {
            bpl.add(Long.parseLong(m.group(1)));
        }
        m = Pattern.compile("Size Image\\s*:\\s*(\\d+)").matcher(out);
        while (m.find()) {
            sizes.add(Long.parseLong(m.group(1)));
        }
        assertThat(sizes).as(out).hasSameSizeAs(bpl).isNotEmpty();
        return new KernelFormat(Integer.parseInt(size.group(1)), Integer.parseInt(size.group(2)), fourcc.group(1),
                bpl, sizes);
    }
}
