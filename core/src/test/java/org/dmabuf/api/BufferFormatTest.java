package org.dmabuf.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The frame layout model: the layouts {@link BufferFormat#layout} computes, checked against the rules V4L2's
 * {@code v4l2_fill_pixfmt} and a DRM framebuffer follow, and the layouts the constructor refuses.
 */
class BufferFormatTest {
    private static final int[] WIDTHS = {1, 2, 3, 5, 63, 64, 100, 640, 641, 1920};
    private static final int[] HEIGHTS = {1, 2, 3, 50, 479, 480, 1080};
    private static final int[] STRIDE_ALIGNMENTS = {1, 2, 16, 64, 256};
    private static final int[] OFFSET_ALIGNMENTS = {1, 64, 4096};

    @ParameterizedTest
    @EnumSource(PixelFormat.class)
    void everyLayoutHoldsTheImageMeetsTheAlignmentsAndDerivesChromaStridesAsV4l2Does(PixelFormat pf) {
        for (int w : WIDTHS) {
            for (int h : HEIGHTS) {
                for (int sa : STRIDE_ALIGNMENTS) {
                    for (int oa : OFFSET_ALIGNMENTS) {
                        DeviceConstraints c = DeviceConstraints.builder().strideAlignment(sa).offsetAlignment(oa)
                                .build();
                        BufferFormat f = BufferFormat.layout(pf, w, h, c);
                        String at = pf + " " + w + "x" + h + " stride/" + sa + " offset/" + oa + ": "
                                + f.describe();
                        assertThat(f.fourcc()).as(at).isEqualTo(pf.drmFourcc());
                        assertThat(f.isLinear()).as(at).isTrue();
                        assertThat(f.planes()).as(at).hasSize(pf.planes());
                        assertThat(f.buffers()).as(at).isEqualTo(pf.memoryPlanes());
                        assertThat(f.pixelFormat()).as(at).contains(pf);
                        assertThat(c.unmetBy(f)).as(at).isEmpty();
                        long end = 0;
                        for (int p = 0; p < pf.planes(); p++) {
                            Plane plane = f.planes().get(p);
                            assertThat(plane.stride()).as(at + " plane " + p).isGreaterThanOrEqualTo(
                                    (int) pf.lineBytes(p, w));
                            assertThat(plane.length()).as(at + " plane " + p)
                                    .isEqualTo((long) plane.stride() * pf.lines(p, h));
                            if (p > 0) {
                                long derived = (long) f.planes().get(0).stride() * pf.bytesPerPixel(p)
                                        / pf.bytesPerPixel(0) / pf.horizontalSubsampling(p);
                                assertThat((long) plane.stride()).as(at + " chroma stride as V4L2 derives it")
                                        .isEqualTo(derived);
                            }
                            if (pf.memoryPlanes() == 1) {
                                assertThat(plane.buffer()).isZero();
                                assertThat(plane.offset()).as(at + " planes in order, packed up to alignment")
                                        .isEqualTo((end + oa - 1) / oa * oa);
                                end = plane.end();
                            } else {
                                assertThat(plane.buffer()).isEqualTo(p);
                                assertThat(plane.offset()).isZero();
                                assertThat(f.bufferSize(p)).isEqualTo(plane.length());
                            }
                        }
                        if (pf.memoryPlanes() == 1) {
                            assertThat(f.bufferSize(0)).as(at).isEqualTo(end);
                        }
                    }
                }
            }
        }
    }

    @Test
    void tightLayoutsAreTheSizesV4l2Reports() {
        // bytesperline and sizeimage as the kernel's v4l2_fill_pixfmt gives them for even sizes
        assertThat(BufferFormat.linear(PixelFormat.NV12, 640, 480).describe())
                .isEqualTo("NV12 640x480 LINEAR [0:0+307200/640 0:307200+153600/640]");
        assertThat(BufferFormat.linear(PixelFormat.YUV420, 640, 480).describe())
                .isEqualTo("YU12 640x480 LINEAR [0:0+307200/640 0:307200+76800/320 0:384000+76800/320]");
        assertThat(BufferFormat.linear(PixelFormat.NV12M, 640, 480).describe())
                .isEqualTo("NV12 640x480 LINEAR [0:0+307200/640 1:0+153600/640]");
        assertThat(BufferFormat.linear(PixelFormat.YUV420M, 640, 480).describe())
                .isEqualTo("YU12 640x480 LINEAR [0:0+307200/640 1:0+76800/320 2:0+76800/320]");
        assertThat(BufferFormat.linear(PixelFormat.NV16, 640, 480).bufferSize(0)).isEqualTo(640 * 480 * 2);
        assertThat(BufferFormat.linear(PixelFormat.YUYV, 641, 3).describe())
                .isEqualTo("YUYV 641x3 LINEAR [0:0+3846/1282]");
        assertThat(BufferFormat.linear(PixelFormat.RGB24, 5, 2).planes().get(0).stride()).isEqualTo(15);
        // an odd width: the chroma line of NV12 is 2 x ceil(w / 2) bytes, so the luma stride grows to match it
        assertThat(BufferFormat.linear(PixelFormat.NV12, 641, 3).describe())
                .isEqualTo("NV12 641x3 LINEAR [0:0+1926/642 0:1926+1284/642]");
    }

    @Test
    void strideAlignmentPadsEveryLineAndTheChromaStrideFollows() {
        DeviceConstraints c = DeviceConstraints.builder().strideAlignment(256).build();
        assertThat(BufferFormat.layout(PixelFormat.NV12, 100, 50, c).describe())
                .isEqualTo("NV12 100x50 LINEAR [0:0+12800/256 0:12800+6400/256]");
        // YUV420's chroma stride is half the luma stride: the luma stride is aligned to twice the alignment
        assertThat(BufferFormat.layout(PixelFormat.YUV420, 100, 50, c).describe())
                .isEqualTo("YU12 100x50 LINEAR [0:0+25600/512 0:25600+6400/256 0:32000+6400/256]");
        DeviceConstraints o = DeviceConstraints.builder().offsetAlignment(4096).build();
        assertThat(BufferFormat.layout(PixelFormat.NV12, 100, 50, o).planes().get(1).offset()).isEqualTo(8192);
    }

    @Test
    void mergedConstraintsTakeTheLargerAlignments() {
        DeviceConstraints a = DeviceConstraints.builder().strideAlignment(64).offsetAlignment(4096).build();
        DeviceConstraints b = DeviceConstraints.builder().strideAlignment(256).build();
        DeviceConstraints m = a.mergedWith(b);
        assertThat(m.strideAlignment()).isEqualTo(256);
        assertThat(m.offsetAlignment()).isEqualTo(4096);
        assertThat(m.toString()).contains("strideAlignment=256", "offsetAlignment=4096");
        assertThat(m).isEqualTo(b.mergedWith(a)).isNotEqualTo(a);
        assertThatThrownBy(() -> DeviceConstraints.builder().strideAlignment(3))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("EINVAL");
        assertThatThrownBy(() -> DeviceConstraints.builder().offsetAlignment(0))
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void unmetByNamesThePlaneWhoseStrideOrOffsetIsOff() {
        BufferFormat tight = BufferFormat.linear(PixelFormat.NV12, 100, 50);
        assertThat(DeviceConstraints.builder().strideAlignment(64).build().unmetBy(tight))
                .hasValueSatisfying(s -> assertThat(s).contains("plane 0", "stride 100", "64"));
        assertThat(DeviceConstraints.builder().offsetAlignment(4096).build().unmetBy(tight))
                .hasValueSatisfying(s -> assertThat(s).contains("plane 1", "offset 5000", "4096"));
        assertThat(DeviceConstraints.NONE.unmetBy(tight)).isEmpty();
    }

    @Test
    void aLayoutThatCannotHoldTheImageIsRefused() {
        int nv12 = PixelFormat.NV12.drmFourcc();
        assertThatThrownBy(() -> new BufferFormat(nv12, 64, 64, List.of(new Plane(0, 4096, 64))))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("2 planes expected, 1 given");
        assertThatThrownBy(() -> new BufferFormat(nv12, 64, 64,
                List.of(new Plane(0, 4096, 63), new Plane(4096, 2048, 64))))
                .hasMessageContaining("plane 0 has a stride of 63 bytes, less than a line of 64");
        assertThatThrownBy(() -> new BufferFormat(nv12, 64, 64,
                List.of(new Plane(0, 4096, 64), new Plane(4096, 2047, 64))))
                .hasMessageContaining("plane 1 is 2047 bytes long");
        assertThatThrownBy(() -> new BufferFormat(nv12, 64, 64,
                List.of(new Plane(0, 4096, 64), new Plane(4000, 2048, 64))))
                .hasMessageContaining("overlap");
        assertThatThrownBy(() -> new BufferFormat(nv12, 64, 64,
                List.of(new Plane(0, 0, 4096, 64), new Plane(2, 0, 2048, 64))))
                .hasMessageContaining("no plane lives in buffer 1");
        assertThatThrownBy(() -> new BufferFormat(PixelFormat.YUV420.drmFourcc(), 64, 64,
                List.of(new Plane(0, 0, 4096, 64), new Plane(1, 0, 1024, 32), new Plane(1, 1024, 1024, 32))))
                .hasMessageContaining("cannot be spread over 2 buffers");
        assertThatThrownBy(() -> new BufferFormat(0, 64, 64, List.of(new Plane(0, 4096, 64))))
                .hasMessageContaining("fourcc 0");
        List<Plane> five = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            five.add(new Plane(i * 100L, 100, 10));
        }
        assertThatThrownBy(() -> new BufferFormat(BufferFormat.fourcc("ABCD"), 10, 10, five))
                .hasMessageContaining("1 to 4 planes");
        assertThatThrownBy(() -> new Plane(4, 0, 1, 1)).hasMessageContaining("buffer index 4");
        assertThatThrownBy(() -> new BufferFormat(nv12, 0, 64, List.of(new Plane(0, 1, 1))))
                .hasMessageContaining("width and height");
    }

    @Test
    void unknownFourccsAndNonLinearModifiersAreCarriedAsGiven() {
        BufferFormat unknown = new BufferFormat(BufferFormat.fourcc("P010"), 64, 64, List.of(new Plane(0, 1, 1)));
        assertThat(unknown.pixelFormat()).isEmpty();
        long tiled = 0x0100000000000001L; // I915_FORMAT_MOD_X_TILED
        BufferFormat x = new BufferFormat(PixelFormat.NV12.drmFourcc(), tiled, 64, 64, List.of(new Plane(0, 1, 1)));
        assertThat(x.isLinear()).isFalse();
        assertThat(x.modifierName()).isEqualTo("0x0100000000000001");
        assertThat(x.describe()).isEqualTo("NV12 64x64 0x0100000000000001 [0:0+1/1]");
        assertThat(BufferFormat.modifierName(PixelFormat.MOD_INVALID)).isEqualTo("INVALID");
        assertThat(BufferFormat.fourccName(0x0a0d0000 | 'A' | 'B' << 8)).isEqualTo("AB??");
    }

    @Test
    void aPixelFormatIsTheFourccAndTheNumberOfBuffers() {
        assertThat(PixelFormat.of(PixelFormat.NV12.drmFourcc(), 1)).contains(PixelFormat.NV12);
        assertThat(PixelFormat.of(PixelFormat.NV12.drmFourcc(), 2)).contains(PixelFormat.NV12M);
        assertThat(PixelFormat.of(PixelFormat.YUV420.drmFourcc(), 3)).contains(PixelFormat.YUV420M);
        assertThat(PixelFormat.of(PixelFormat.YUYV.drmFourcc(), 2)).isEmpty();
        assertThat(BufferRequest.ofFormat(PixelFormat.NV12, 640, 480).size()).isEqualTo(460800);
        assertThat(BufferRequest.ofFormat(PixelFormat.NV12M, 640, 480).size()).isEqualTo(307200);
    }
}
