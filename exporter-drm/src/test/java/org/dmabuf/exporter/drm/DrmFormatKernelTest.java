package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ConstraintException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.CProbe;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.spi.AllocationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Dumb buffers for images on vgem, in the kernel guest: the layout the exporter reports is the one the driver's
 * pitch gives, as an independent {@code CREATE_DUMB} through libdrm's {@code drmIoctl} with the same arguments
 * (a small C program) returns it; the kernel's size holds it; stride alignment widens the buffer; a frame of two
 * buffers is two dumb buffers.
 */
@Tag("kernel")
class DrmFormatKernelTest {
    private static final String CARD = "/dev/dri/card0";
    private static final String EXPORTER = "drm:vgem:card0";
    private static Path dumbCheck;
    private DrmDevice device;
    private DrmExporter exporter;
    private StandaloneRegistry registry;
    private long fdsBefore;

    @BeforeAll
    static void compile() throws Exception {
        Path module = Path.of(DrmFormatKernelTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .getParent().getParent();
        dumbCheck = CProbe.compile(module.resolve("src/test/c/dumb_check.c"), module.resolve("target/probe"),
                "-I/usr/include/libdrm", "-ldrm");
    }

    @BeforeEach
    void open() {
        fdsBefore = TestSupport.bufferFds();
        device = new DrmDevice(CARD);
        exporter = new DrmExporter(device);
        registry = new StandaloneRegistry("drm-format").addExporter(exporter, exporter.properties(150));
    }

    @AfterEach
    void nothingLeft() {
        registry.close();
        device.close();
        assertThat(TestSupport.bufferFds()).as("fds left open").isEqualTo(fdsBefore);
    }

    /** The pitch and size an independent {@code CREATE_DUMB} with these arguments returns. */
    private static long[] independentDumb(long width, long height, int bpp) throws Exception {
        Process p = new ProcessBuilder(dumbCheck.toString(), CARD, Long.toString(width), Long.toString(height),
                Integer.toString(bpp)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, Long> v = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            v.put(kv[0], Long.parseLong(kv[1]));
        }
        return new long[] {v.get("pitch"), v.get("size")};
    }

    /**
     * A format through the registry: the arguments are GBM's for a linear dumb buffer, the reported pitch is the
     * driver's, the chroma plane starts at {@code pitch × height}, and the kernel's size holds the layout.
     */
    @ParameterizedTest(name = "{0} {1}x{2}")
    @CsvSource({"NV12,1920,1080,1920,1620,8", "NV12,641,480,642,720,8", "NV21,640,481,640,722,8",
        "NV16,320,240,320,480,8", "YUV420,640,480,640,720,8", "YUYV,640,480,640,480,16", "XBGR32,640,480,640,480,32",
        "RGB24,33,7,33,7,24", "GREY,17,3,17,3,8"})
    void theReportedLayoutIsTheDriversPitch(PixelFormat f, int w, int h, int dumbW, int dumbH, int bpp)
            throws Exception {
        long[] kernel = independentDumb(dumbW, dumbH, bpp);
        long pitch = kernel[0];
        try (DmaBuf buf = registry.allocate(BufferRequest.ofFormat(f, w, h).name(f.name()))) {
            BufferFormat made = buf.format().orElseThrow();
            assertThat(made.fourcc()).isEqualTo(f.drmFourcc());
            assertThat(made.modifier()).isEqualTo(PixelFormat.MOD_LINEAR);
            assertThat(made.width()).isEqualTo(w);
            assertThat(made.height()).isEqualTo(h);
            assertThat(made.planes()).hasSize(f.planes());
            Plane luma = made.planes().get(0);
            assertThat(luma.offset()).isZero();
            assertThat((long) luma.stride()).as("the luma pitch of %s", made.describe()).isEqualTo(pitch);
            if (f.planes() > 1) {
                Plane chroma = made.planes().get(1);
                assertThat(chroma.offset()).as("the chroma plane's offset").isEqualTo(pitch * h);
                long expectedStride = f == PixelFormat.YUV420 ? pitch / 2 : pitch;
                assertThat((long) chroma.stride()).isEqualTo(expectedStride);
                if (f == PixelFormat.YUV420) {
                    Plane cr = made.planes().get(2);
                    assertThat(cr.offset()).isEqualTo(pitch * h + pitch / 2 * ((h + 1) / 2));
                    assertThat((long) cr.stride()).isEqualTo(pitch / 2);
                }
            }
            long fdinfo = FdInfo.read(buf.fd()).size();
            assertThat(fdinfo).as("the kernel's size").isEqualTo(kernel[1]).isEqualTo(buf.size())
                    .isGreaterThanOrEqualTo(made.bufferSize(0));
            // the last byte of the last plane is there to write
            try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                a.putByte(made.bufferSize(0) - 1, (byte) 0x42);
                assertThat(a.getByte(made.bufferSize(0) - 1)).isEqualTo((byte) 0x42);
            }
        }
    }

    /** The exporter's own arguments: the ones GBM passes, the ones the test above gives the C program. */
    @Test
    void theDumbArgumentsAreGbms() {
        for (Object[] c : new Object[][] {{PixelFormat.NV12, 641, 480, 642, 720, 8},
            {PixelFormat.YUYV, 640, 480, 640, 480, 16}, {PixelFormat.XBGR32, 640, 480, 640, 480, 32}}) {
            PixelFormat f = (PixelFormat) c[0];
            DrmBuffer b = (DrmBuffer) exporter.allocate(request(f, (int) c[1], (int) c[2], DeviceConstraints.NONE));
            try {
                assertThat(b.dumb().width()).isEqualTo(c[3]);
                assertThat(b.dumb().height()).isEqualTo(c[4]);
                assertThat(b.dumb().bpp()).isEqualTo(c[5]);
                assertThat(b.format()).get().extracting(x -> x.planes().get(0).stride()).isEqualTo(b.pitch());
            } finally {
                b.release();
            }
        }
    }

    private static AllocationRequest request(PixelFormat f, int w, int h, DeviceConstraints c) {
        BufferFormat planned = BufferFormat.layout(f, w, h, c);
        return new AllocationRequest(planned.bufferSize(0), f.name(), planned, c);
    }

    /**
     * A stride alignment the driver's pitch does not meet: the dumb buffer is made wider, and its pitch, the
     * driver's for the wider arguments, is a multiple; the image keeps its width.
     */
    @ParameterizedTest(name = "{0} {1}x{2}")
    @CsvSource({"NV12,641,480,768,720,8", "XBGR32,100,10,128,10,32", "YUV420,640,480,1024,720,8",
        "RGB24,100,4,256,4,24"})
    void aStrideAlignmentWidensTheDumbBuffer(PixelFormat f, int w, int h, int dumbW, int dumbH, int bpp)
            throws Exception {
        DeviceConstraints align = DeviceConstraints.builder().strideAlignment(256).build();
        long[] kernel = independentDumb(dumbW, dumbH, bpp);
        try (DmaBuf buf = registry.allocate(BufferRequest.ofFormat(f, w, h).constraints(align))) {
            BufferFormat made = buf.format().orElseThrow();
            assertThat(made.width()).isEqualTo(w);
            assertThat((long) made.planes().get(0).stride()).isEqualTo(kernel[0]);
            for (Plane p : made.planes()) {
                assertThat(p.stride() % 256).as("every stride of %s", made.describe()).isZero();
            }
            assertThat(align.unmetBy(made)).isEmpty();
            assertThat(FdInfo.read(buf.fd()).size()).isEqualTo(kernel[1]).isGreaterThanOrEqualTo(made.bufferSize(0));
        }
        DrmBuffer b = (DrmBuffer) exporter.allocate(request(f, w, h, align));
        try {
            assertThat(b.dumb().width()).as("the widened dumb width").isEqualTo(dumbW);
            assertThat(b.dumb().height()).isEqualTo(dumbH);
        } finally {
            b.release();
        }
    }

    /** A pitch that would need more than 2^31 pixels: refused before any dumb buffer is made. */
    @Test
    void aStrideAlignmentThatCannotBeMetIsATypedError() {
        DeviceConstraints huge = DeviceConstraints.builder().strideAlignment(1 << 30).build();
        BufferFormat tight = BufferFormat.linear(PixelFormat.YUV420, 64, 64);
        assertThatThrownBy(() -> exporter.allocate(new AllocationRequest(tight.bufferSize(0), "huge", tight, huge)))
                .isInstanceOf(ConstraintException.class)
                .hasMessageContaining("ioctl(DRM_IOCTL_MODE_CREATE_DUMB): EBUSY").hasMessageContaining(CARD)
                .hasMessageContaining("multiple of 2147483648");
        BufferFormat tiled = new BufferFormat(PixelFormat.NV12.drmFourcc(), 0x0100000000000001L, 64, 64,
                List.of(new Plane(0, 4096, 64), new Plane(4096, 2048, 64)));
        assertThatThrownBy(() -> exporter.allocate(new AllocationRequest(6144, "tiled", tiled,
                DeviceConstraints.NONE))).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("dumb buffers are linear");
    }

    /** NV12M through the registry's frame allocation: two dumb buffers of vgem, each holding its plane. */
    @Test
    void aFrameOfTwoBuffersIsTwoDumbBuffers() {
        try (FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 640, 480)
                .exporter(EXPORTER).name("nv12m"))) {
            assertThat(frame.buffers()).hasSize(2);
            assertThat(frame.format().buffers()).isEqualTo(2);
            assertThat(frame.format().pixelFormat()).contains(PixelFormat.NV12M);
            for (int i = 0; i < 2; i++) {
                DmaBuf b = frame.buffer(i);
                assertThat(b.exporterService()).contains(EXPORTER);
                assertThat(FdInfo.read(b.fd()).expName()).isEqualTo("drm");
                assertThat(b.size()).isGreaterThanOrEqualTo(frame.format().bufferSize(i));
                try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ_WRITE)) {
                    a.putByte(frame.format().bufferSize(i) - 1, (byte) i);
                }
            }
            assertThat(frame.buffer(0).id()).isNotEqualTo(frame.buffer(1).id());
            assertThat(registry.bufinfo()).hasSize(2);
        }
        assertThat(registry.bufinfo()).isEmpty();
    }
}
