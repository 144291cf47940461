package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of V4L2 ({@link BadInputTable}), in the kernel guest against vivid's single-planar
 * node: a pixel format the node does not capture, {@code VIDIOC_EXPBUF} of a buffer that does not exist,
 * {@code VIDIOC_QBUF} of an fd that is no dma-buf, and the node's fd given to {@code get(fd)}.
 */
@Tag("kernel")
class BadInputKernelTest {
    private static final String VIDEO = "/dev/video0";
    private static final int YUYV = BufferFormat.fourcc("YUYV");
    private static final String[] MAPS = {"/dev/video", "/dmabuf:", "anon_inode:dmabuf", "/memfd:"};

    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();
    private V4l2Device device;

    BadInputKernelTest() {
        bodies.put("v4l2-01", c -> c.fails(() -> new V4l2Exporter(device, 320, 240, BufferFormat.fourcc("ZZZZ"), 4)));
        bodies.put("v4l2-05", c -> c.fails(() -> new V4l2Exporter(device, 320, 240, BufferFormat.fourcc("NM12"), 4)));
        bodies.put("v4l2-02", c -> {
            try (V4l2Exporter e = new V4l2Exporter(device, 320, 240, YUYV, 4)) {
                assertThat(e.bufferCount()).isEqualTo(4);
                c.fails(() -> device.export(99, 0));
            }
        });
        bodies.put("v4l2-03", c -> {
            device.setFormat(320, 240, YUYV);
            assertThat(device.requestBuffers(2, V4l2Uapi.V4L2_MEMORY_DMABUF)).isEqualTo(2);
            try (Fd memfd = Sys.memfd("test-not-a-dmabuf", LibC.MFD_ALLOW_SEALING)) {
                Sys.ftruncate(memfd.get(), 320 * 240 * 2);
                c.fails(() -> {
                    device.queueDmabuf(0, new int[] {memfd.get()}, new long[] {320 * 240 * 2});
                    return null;
                });
            } finally {
                device.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_DMABUF);
            }
        });
        bodies.put("v4l2-04", c -> c.getOfNodeFails(VIDEO));
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-v4l2", "guest").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> {
                    device = new V4l2Device(VIDEO);
                    try {
                        r.run(bodies.get(r.id()), MAPS);
                    } finally {
                        device.close();
                    }
                }));
    }

    @Test
    void everyGuestRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-v4l2", "guest", bodies.keySet());
    }
}
