package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The format table's V4L2 side against a real driver, in the kernel guest: vivid's single-planar node offers every
 * format whose planes share one buffer, its multi-planar node every format with a buffer per plane
 * ({@code VIDIOC_ENUM_FMT}).
 */
@Tag("kernel")
class FormatTableKernelTest {
    @Test
    void vividOffersEveryFormatOfTheTableOnTheNodeOfItsPlaneCount() {
        long fds = TestSupport.openFds();
        List<Integer> single;
        List<Integer> multi;
        try (V4l2Device sp = new V4l2Device("/dev/video0"); V4l2Device mp = new V4l2Device("/dev/video1")) {
            single = sp.enumFormats();
            multi = mp.enumFormats();
        }
        assertThat(TestSupport.openFds()).as("fds left open").isEqualTo(fds);
        for (PixelFormat f : PixelFormat.values()) {
            List<Integer> offered = f.memoryPlanes() == 1 ? single : multi;
            assertThat(offered).as("%s (V4L2 %s) among %s", f, name(f.v4l2Fourcc()), names(offered))
                    .contains(f.v4l2Fourcc());
        }
        assertThat(single).as("the single-planar node offers no format of several buffers")
                .doesNotContain(PixelFormat.NV12M.v4l2Fourcc(), PixelFormat.YUV420M.v4l2Fourcc());
    }

    private static String name(int fourcc) {
        return BufferFormat.fourccName(fourcc);
    }

    private static String names(List<Integer> fourccs) {
        return Arrays.toString(fourccs.stream().map(FormatTableKernelTest::name).toArray());
    }
}
