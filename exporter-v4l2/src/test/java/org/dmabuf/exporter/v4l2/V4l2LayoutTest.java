package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.LinuxException;
import org.junit.jupiter.api.Test;

/**
 * On the host: the layout made of the {@code bytesperline} and {@code sizeimage} a driver set, for the formats with
 * a buffer per plane and for those with every plane in one buffer, as {@code <linux/videodev2.h>} documents them.
 */
class V4l2LayoutTest {
    private static final String NODE = "/dev/videoX (test)";

    private static BufferFormat layout(PixelFormat pf, int w, int h, long[] bpl, long[] size) {
        return V4l2Device.layout(NODE, pf, w, h, bpl, size);
    }

    @Test
    void nv12InOneBufferHasItsCbCrPlaneAfterTheLumaWithTheSameStride() {
        BufferFormat f = layout(PixelFormat.NV12, 320, 180, new long[] {320}, new long[] {86400});
        assertThat(f.fourccName()).isEqualTo("NV12");
        assertThat(f.modifier()).isEqualTo(PixelFormat.MOD_LINEAR);
        assertThat(f.planes()).containsExactly(new Plane(0, 0, 57600, 320), new Plane(0, 57600, 28800, 320));
        assertThat(f.buffers()).isEqualTo(1);
        assertThat(f.bufferSize(0)).isEqualTo(86400);
        assertThat(f.pixelFormat()).contains(PixelFormat.NV12);
    }

    @Test
    void yuv420InOneBufferHasCbThenCrAtHalfTheStride() {
        BufferFormat f = layout(PixelFormat.YUV420, 320, 180, new long[] {320}, new long[] {86400});
        assertThat(f.fourccName()).isEqualTo("YU12");
        assertThat(f.planes()).containsExactly(new Plane(0, 0, 57600, 320), new Plane(0, 57600, 14400, 160),
                new Plane(0, 72000, 14400, 160));
        assertThat(f.pixelFormat()).contains(PixelFormat.YUV420);
    }

    @Test
    void aPaddedSingleBufferLayoutKeepsTheDriversStrideAndItsLastPlaneReachesToSizeimage() {
        // a driver that aligns lines to 64 bytes and adds a page at the end
        long size = 384L * 180 * 3 / 2 + 4096;
        BufferFormat f = layout(PixelFormat.NV12, 300, 180, new long[] {384}, new long[] {size});
        assertThat(f.planes()).containsExactly(new Plane(0, 0, 384 * 180, 384),
                new Plane(0, 384 * 180, size - 384 * 180, 384));
        assertThat(f.bufferSize(0)).isEqualTo(size);
    }

    @Test
    void multiPlanarFormatsHaveEachPlaneInABufferOfItsOwnWithItsBytesperlineAndSizeimage() {
        BufferFormat nv12m = layout(PixelFormat.NV12M, 320, 180, new long[] {320, 320}, new long[] {57600, 28800});
        assertThat(nv12m.fourccName()).as("DRM has one fourcc for NV12 and NV12M").isEqualTo("NV12");
        assertThat(nv12m.planes()).containsExactly(new Plane(0, 0, 57600, 320), new Plane(1, 0, 28800, 320));
        assertThat(nv12m.buffers()).isEqualTo(2);
        assertThat(nv12m.pixelFormat()).contains(PixelFormat.NV12M);
        BufferFormat yuv420m = layout(PixelFormat.YUV420M, 320, 180, new long[] {320, 160, 160},
                new long[] {57600, 14400, 14400});
        assertThat(yuv420m.planes()).containsExactly(new Plane(0, 0, 57600, 320), new Plane(1, 0, 14400, 160),
                new Plane(2, 0, 14400, 160));
        assertThat(yuv420m.pixelFormat()).contains(PixelFormat.YUV420M);
    }

    @Test
    void packedFormatsAreOnePlaneAndCarryTheDrmFourcc() {
        BufferFormat yuyv = layout(PixelFormat.YUYV, 320, 180, new long[] {640}, new long[] {115200});
        assertThat(yuyv.planes()).containsExactly(new Plane(0, 0, 115200, 640));
        BufferFormat rgb3 = layout(PixelFormat.RGB24, 320, 180, new long[] {960}, new long[] {172800});
        assertThat(rgb3.fourccName()).as("V4L2 RGB3 is DRM BGR888").isEqualTo("BG24");
    }

    @Test
    void aSizeimageTooSmallForThePlanesOrAPlaneCountThatIsNotTheFormatsIsEinval() {
        assertThatThrownBy(() -> layout(PixelFormat.NV12, 320, 180, new long[] {320}, new long[] {57600}))
                .isInstanceOf(LinuxException.class).hasMessageContaining("ioctl(VIDIOC_S_FMT): EINVAL")
                .hasMessageContaining(NODE).hasMessageContaining("its 2 planes need 86400 bytes");
        assertThatThrownBy(() -> layout(PixelFormat.NV12M, 320, 180, new long[] {320}, new long[] {86400}))
                .isInstanceOf(LinuxException.class).hasMessageContaining("EINVAL")
                .hasMessageContaining("2 V4L2 planes expected, 1 set");
        assertThatThrownBy(() -> layout(PixelFormat.NV12M, 320, 180, new long[] {320, 320}, new long[] {57600, 100}))
                .isInstanceOf(LinuxException.class).hasMessageContaining("EINVAL")
                .hasMessageContaining("plane 1 is 100 bytes long");
        assertThatThrownBy(() -> layout(PixelFormat.YUYV, 320, 180, new long[] {1L << 32}, new long[] {1L << 40}))
                .isInstanceOf(LinuxException.class).hasMessageContaining("does not fit in 32 bits");
    }
}
