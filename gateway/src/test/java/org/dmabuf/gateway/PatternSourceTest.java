package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.Frame;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The test pattern in every format of {@link PixelFormat}, in real memfd buffers: its frames' thumbnails show the
 * bars in their colours, moved by the frame number; a layout padded for a stride alignment gives the same thumbnail
 * as a tight one; a frame of several buffers is written plane by plane into each.
 */
class PatternSourceTest {
    /** Wide enough that a stride alignment of 256 pads every plane of every format. */
    private static final int W = 328;
    private static final int H = 240;

    @TempDir
    Path tmp;
    private StandaloneRegistry registry;
    private MemfdTestExporter exporter;
    private long fdsBefore;

    @BeforeEach
    void open() {
        fdsBefore = TestSupport.openFds();
        exporter = new MemfdTestExporter();
        registry = new StandaloneRegistry("pattern").addExporter(exporter, MemfdTestExporter.properties("memfd"));
    }

    @AfterEach
    void nothingLeft() {
        assertThat(registry.bufinfo()).as("buffers left").isEmpty();
        registry.close();
        assertThat(TestSupport.openFds()).as("fds left: %s", TestSupport.openFdTargets()).isEqualTo(fdsBefore);
    }

    private PatternSource source(PixelFormat f, DeviceConstraints c) {
        return new PatternSource(registry, null, f, W, H, c);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(PixelFormat.class)
    void aFrameOfEachFormatGivesAThumbnailWithTheBarsInTheirColours(PixelFormat f) throws IOException {
        try (PatternSource source = source(f, DeviceConstraints.NONE)) {
            for (long n = 0; n < 2; n++) {
                try (Frame frame = source.next(java.time.Duration.ZERO)) {
                    assertThat(frame.sequence()).isEqualTo(n);
                    assertThat(frame.format().pixelFormat()).contains(f);
                    assertThat(frame.buffers()).hasSize(f.memoryPlanes());
                    Path jpg = tmp.resolve(f + "-" + n + ".jpg");
                    int h = Thumbnails.write(frame, jpg);
                    assertThat(h).isEqualTo(Thumbnails.WIDTH * H / W);
                    assertThat(ImageIO.read(jpg.toFile()).getWidth()).isEqualTo(Thumbnails.WIDTH);
                    BufferedImage img = Thumbnails.render(frame);
                    for (int bar = 0; bar < PatternSource.BARS.length; bar++) {
                        int tx = (int) ((bar * (long) W / PatternSource.BARS.length + W / PatternSource.BARS.length
                                / 2) * Thumbnails.WIDTH / W);
                        int colour = PatternSource.BARS[(int) ((bar + n) % PatternSource.BARS.length)];
                        int expected = f == PixelFormat.GREY ? Colours.grey(colour) : colour;
                        for (int ty : new int[] {2, img.getHeight() / 2, img.getHeight() - 1}) {
                            Colours.assertClose(f + " frame " + n + " bar " + bar + " at (" + tx + ", " + ty + ")",
                                    expected, img.getRGB(tx, ty));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(PixelFormat.class)
    void aPaddedStrideGivesTheSameThumbnailAsATightOne(PixelFormat f) throws IOException {
        DeviceConstraints align = DeviceConstraints.builder().strideAlignment(256).build();
        try (PatternSource tight = source(f, DeviceConstraints.NONE);
             PatternSource padded = source(f, align);
             Frame a = tight.next(java.time.Duration.ZERO);
             Frame b = padded.next(java.time.Duration.ZERO)) {
            for (int p = 0; p < f.planes(); p++) {
                Plane pt = a.format().planes().get(p);
                Plane pp = b.format().planes().get(p);
                assertThat((long) pt.stride()).as("the tight stride of plane %d", p).isEqualTo(f.lineBytes(p, W));
                assertThat(pp.stride() % 256).as("the padded stride of plane %d", p).isZero();
                assertThat((long) pp.stride()).as("plane %d is padded", p).isGreaterThan(f.lineBytes(p, W));
            }
            BufferedImage ta = Thumbnails.render(a);
            BufferedImage tb = Thumbnails.render(b);
            for (int y = 0; y < ta.getHeight(); y++) {
                for (int x = 0; x < ta.getWidth(); x++) {
                    assertThat(tb.getRGB(x, y)).as("%s pixel (%d, %d)", f, x, y).isEqualTo(ta.getRGB(x, y));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PixelFormat.class, names = {"NV12", "NV12M", "YUV420M", "YUYV", "XBGR32"})
    void theWrittenFrameVerifiesAndAChangedByteInAnyPlaneDoesNot(PixelFormat f) {
        try (PatternSource source = source(f, DeviceConstraints.builder().strideAlignment(64).build());
             Frame frame = source.next(java.time.Duration.ZERO)) {
            BufferFormat layout = frame.format();
            List<CpuAccess> reads = frame.buffers().stream().map(b -> b.beginCpuAccess(SyncDirection.READ_WRITE))
                    .toList();
            try {
                assertThat(PatternSource.verify(reads, layout, 0)).isNull();
                assertThat(PatternSource.verify(reads, layout, 1)).isEqualTo("frame 1 holds frame number 0");
                Plane last = layout.planes().get(layout.planes().size() - 1);
                long at = last.offset() + last.stride() * 3L + 1;
                CpuAccess m = reads.get(last.buffer());
                m.putByte(at, (byte) (m.getByte(at) ^ 0x55));
                assertThat(PatternSource.verify(reads, layout, 0)).isEqualTo("frame 0: line 3 of plane "
                        + (layout.planes().size() - 1) + " differs from the pattern");
                // padding between lines is not the pattern's
                if (last.stride() > f.lineBytes(layout.planes().size() - 1, W)) {
                    m.putByte(at, (byte) (m.getByte(at) ^ 0x55));
                    m.putByte(last.offset() + last.stride() - 1, (byte) 0x77);
                    assertThat(PatternSource.verify(reads, layout, 0)).isNull();
                }
            } finally {
                reads.forEach(CpuAccess::close);
            }
        }
    }

    @Test
    void framesOfSeveralBuffersComeFromThePoolWithEveryBufferNamed() {
        try (PatternSource source = source(PixelFormat.YUV420M, DeviceConstraints.NONE)) {
            assertThat(exporter.allocated).as("three buffers per frame of the ring").hasValue(3 * PatternSource.RING);
            assertThat(registry.bufinfo()).extracting(i -> i.name()).containsOnly("pattern-0", "pattern-1",
                    "pattern-2", "pattern-3");
            assertThat(source.format().buffers()).isEqualTo(3);
            try (Frame frame = source.next(java.time.Duration.ZERO)) {
                assertThat(frame.buffers()).hasSize(3);
                assertThat(frame.buffer(0).refCount()).as("the ring's and the frame's").isEqualTo(2);
                assertThat(frame.bytesUsed(2)).isEqualTo(frame.format().bufferSize(2));
            }
        }
    }

    /** A consumer still reading frame 0 through its own reference: the source writes every later frame elsewhere. */
    @Test
    void aBufferWhosePreviousFrameIsStillHeldIsNeverRewritten() {
        try (PatternSource source = source(PixelFormat.NV12, DeviceConstraints.NONE)) {
            DmaBuf kept;
            BufferFormat layout;
            try (Frame first = source.next(java.time.Duration.ZERO)) {
                kept = first.buffer(0).get(); // as a channel keeps it until its consumer releases the frame
                layout = first.format();
            }
            try (kept) {
                for (long n = 1; n <= 3 * PatternSource.RING; n++) {
                    try (Frame f = source.next(java.time.Duration.ZERO)) {
                        assertThat(f).as("frame %d: three frames of the ring are free", n).isNotNull();
                        assertThat(f.buffer(0).id()).as("frame %d is not written into the held buffer", n)
                                .isNotEqualTo(kept.id());
                    }
                }
                try (CpuAccess r = kept.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(PatternSource.verify(List.of(r), layout, 0)).as("the held frame, intact").isNull();
                }
            }
            java.util.Set<BufferId> used = new java.util.HashSet<>();
            for (int n = 0; n < PatternSource.RING; n++) {
                try (Frame f = source.next(java.time.Duration.ZERO)) {
                    used.add(f.buffer(0).id());
                }
            }
            assertThat(used).as("released, the buffer is in the ring again").hasSize(PatternSource.RING);
            assertThat(source.framesDropped()).isZero();
        }
    }

    @Test
    void whenEveryFrameOfTheRingIsHeldNextReportsADroppedFrameAndWritesNothing() {
        try (PatternSource source = source(PixelFormat.XBGR32, DeviceConstraints.NONE)) {
            List<Frame> held = new java.util.ArrayList<>();
            for (int n = 0; n < PatternSource.RING; n++) {
                held.add(source.next(java.time.Duration.ZERO));
            }
            assertThat(source.next(java.time.Duration.ZERO)).as("no free frame").isNull();
            assertThat(source.next(java.time.Duration.ofMillis(20))).as("none came free in 20 ms").isNull();
            assertThat(source.framesDropped()).isEqualTo(2);
            assertThat(source.framesCaptured()).isEqualTo(PatternSource.RING);
            for (int n = 0; n < held.size(); n++) {
                Frame f = held.get(n);
                try (CpuAccess r = f.buffer(0).beginCpuAccess(SyncDirection.READ)) {
                    assertThat(PatternSource.verify(List.of(r), f.format(), n)).as("held frame %d", n).isNull();
                }
            }
            held.remove(0).close();
            try (Frame f = source.next(java.time.Duration.ZERO)) {
                assertThat(f.sequence()).as("the dropped frames' numbers are a gap").isEqualTo(PatternSource.RING + 2);
            }
            held.forEach(Frame::close);
        }
    }

    @Test
    void aThousandFramesAllocateNothingAfterTheRing() {
        try (PatternSource source = source(PixelFormat.NV12M, DeviceConstraints.NONE)) {
            for (int n = 0; n < 1000; n++) {
                source.next(java.time.Duration.ZERO).close();
            }
            assertThat(exporter.allocated).as("the ring's buffers only").hasValue(2 * PatternSource.RING);
            assertThat(source.framesCaptured()).isEqualTo(1000);
        }
    }

    @Test
    void aFrameOutWhenTheSourceClosesStaysValidUntilClosed() {
        Frame out;
        try (PatternSource source = source(PixelFormat.GREY, DeviceConstraints.NONE)) {
            out = source.next(java.time.Duration.ZERO);
        }
        try (out; CpuAccess r = out.buffer(0).beginCpuAccess(SyncDirection.READ)) {
            assertThat(PatternSource.verify(List.of(r), out.format(), 0)).isNull();
            assertThat(registry.bufinfo()).as("only the frame's buffer is left").hasSize(1);
        }
    }

    @Test
    void aFormatIsNamedByItsConstantOrItsV4l2Fourcc() {
        assertThat(PatternSource.pixelFormat("nv12m")).isEqualTo(PixelFormat.NV12M);
        assertThat(PatternSource.pixelFormat("XR24")).isEqualTo(PixelFormat.XBGR32);
        assertThat(PatternSource.pixelFormat("YM12")).isEqualTo(PixelFormat.YUV420M);
        assertThatThrownBy(() -> PatternSource.pixelFormat("NV99")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no pixel format 'NV99'").hasMessageContaining("NV12M");
    }
}
