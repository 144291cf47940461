package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.junit.jupiter.api.Test;

/** The format table's numbers against the kernel headers, and its plane geometry. */
class PixelFormatProbeTest {
    /** Each constant's V4L2 macro and, for the single-buffer ones, its DRM macro. */
    private static final Map<PixelFormat, String[]> MACROS = new LinkedHashMap<>();

    static {
        MACROS.put(PixelFormat.YUYV, new String[] {"V4L2_PIX_FMT_YUYV", "DRM_FORMAT_YUYV"});
        MACROS.put(PixelFormat.UYVY, new String[] {"V4L2_PIX_FMT_UYVY", "DRM_FORMAT_UYVY"});
        MACROS.put(PixelFormat.NV12, new String[] {"V4L2_PIX_FMT_NV12", "DRM_FORMAT_NV12"});
        MACROS.put(PixelFormat.NV21, new String[] {"V4L2_PIX_FMT_NV21", "DRM_FORMAT_NV21"});
        MACROS.put(PixelFormat.NV16, new String[] {"V4L2_PIX_FMT_NV16", "DRM_FORMAT_NV16"});
        MACROS.put(PixelFormat.NV12M, new String[] {"V4L2_PIX_FMT_NV12M", "DRM_FORMAT_NV12"});
        MACROS.put(PixelFormat.NV21M, new String[] {"V4L2_PIX_FMT_NV21M", "DRM_FORMAT_NV21"});
        MACROS.put(PixelFormat.YUV420, new String[] {"V4L2_PIX_FMT_YUV420", "DRM_FORMAT_YUV420"});
        MACROS.put(PixelFormat.YUV420M, new String[] {"V4L2_PIX_FMT_YUV420M", "DRM_FORMAT_YUV420"});
        MACROS.put(PixelFormat.GREY, new String[] {"V4L2_PIX_FMT_GREY", "DRM_FORMAT_R8"});
        MACROS.put(PixelFormat.RGB24, new String[] {"V4L2_PIX_FMT_RGB24", "DRM_FORMAT_BGR888"});
        MACROS.put(PixelFormat.BGR24, new String[] {"V4L2_PIX_FMT_BGR24", "DRM_FORMAT_RGB888"});
        MACROS.put(PixelFormat.XBGR32, new String[] {"V4L2_PIX_FMT_XBGR32", "DRM_FORMAT_XRGB8888"});
        MACROS.put(PixelFormat.XRGB32, new String[] {"V4L2_PIX_FMT_XRGB32", "DRM_FORMAT_BGRX8888"});
    }

    @Test
    void everyFourccEqualsTheKernelHeaders() throws Exception {
        Map<String, Long> c = CProbe.run(Path.of("src/test/c/formats_probe.c"), Path.of("target/probe"),
                "-I/usr/include/libdrm");
        assertThat(MACROS.keySet()).as("every constant is probed").containsExactlyInAnyOrder(PixelFormat.values());
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, Long> header = new LinkedHashMap<>();
        MACROS.forEach((f, m) -> {
            java.put(f + " " + m[0], Integer.toUnsignedLong(f.v4l2Fourcc()));
            header.put(f + " " + m[0], c.get(m[0]));
            java.put(f + " " + m[1], Integer.toUnsignedLong(f.drmFourcc()));
            header.put(f + " " + m[1], c.get(m[1]));
        });
        java.put("DRM_FORMAT_MOD_LINEAR", PixelFormat.MOD_LINEAR);
        header.put("DRM_FORMAT_MOD_LINEAR", c.get("DRM_FORMAT_MOD_LINEAR"));
        java.put("DRM_FORMAT_MOD_INVALID", PixelFormat.MOD_INVALID);
        header.put("DRM_FORMAT_MOD_INVALID", c.get("DRM_FORMAT_MOD_INVALID"));
        assertThat(java).isEqualTo(header);
    }

    @Test
    void lookupsGoBothWaysAndDrmGivesTheSingleBufferFormat() {
        for (PixelFormat f : PixelFormat.values()) {
            assertThat(PixelFormat.ofV4l2(f.v4l2Fourcc())).as("V4L2 %s", f).contains(f);
            assertThat(PixelFormat.ofDrm(f.drmFourcc())).as("DRM of %s", f).hasValueSatisfying(d -> {
                assertThat(d.drmFourcc()).isEqualTo(f.drmFourcc());
                assertThat(d.memoryPlanes()).isEqualTo(1);
                assertThat(d.planes()).isEqualTo(f.planes());
            });
        }
        assertThat(PixelFormat.ofV4l2(0)).isEmpty();
        assertThat(PixelFormat.ofDrm(PixelFormat.NV12M.drmFourcc())).contains(PixelFormat.NV12);
    }

    @Test
    void planeGeometryIsTheKernelsFormatInfo() {
        // NV12 641x481: a Y plane of 481 lines of 641 bytes, a CbCr plane of 241 lines of 321 pairs
        assertThat(PixelFormat.NV12.lineBytes(0, 641)).isEqualTo(641);
        assertThat(PixelFormat.NV12.lines(0, 481)).isEqualTo(481);
        assertThat(PixelFormat.NV12.lineBytes(1, 641)).isEqualTo(642);
        assertThat(PixelFormat.NV12.lines(1, 481)).isEqualTo(241);
        assertThat(PixelFormat.NV16.lines(1, 480)).isEqualTo(480);
        assertThat(PixelFormat.YUV420M.planes()).isEqualTo(3);
        assertThat(PixelFormat.YUV420M.memoryPlanes()).isEqualTo(3);
        assertThat(PixelFormat.YUV420.lineBytes(2, 640)).isEqualTo(320);
        assertThat(PixelFormat.YUYV.lineBytes(0, 320)).isEqualTo(640);
        assertThat(PixelFormat.RGB24.lineBytes(0, 10)).isEqualTo(30);
        assertThat(PixelFormat.XBGR32.lineBytes(0, 10)).isEqualTo(40);
        assertThatThrownBy(() -> PixelFormat.YUYV.bytesPerPixel(1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("YUYV has planes 0 to 0, not 1");
    }
}
