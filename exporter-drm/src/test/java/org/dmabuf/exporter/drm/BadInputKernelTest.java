package org.dmabuf.exporter.drm;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of DRM ({@link BadInputTable}), in the kernel guest against vgem: dumb buffers of
 * absurd shapes, PRIME imports of fds that are no dma-buf, a DRM ioctl on a dma-buf, and the nodes' fds given to
 * {@code get(fd)}; the plain-Java entry point failing on its second configuration. Each case counts fds by kind and
 * mappings before and after.
 */
@Tag("kernel")
class BadInputKernelTest {
    private static final String CARD = "/dev/dri/card0";
    private static final String[] MAPS = {"/dev/dri/", "/dmabuf:", "anon_inode:dmabuf", "/memfd:"};

    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();
    private DrmDevice device;

    BadInputKernelTest() {
        bodies.put("drm-01", c -> c.fails(() -> device.createDumb(0, 0, 32)));
        bodies.put("drm-02", c -> c.fails(() -> device.createDumb(1 << 20, 1 << 20, 32)));
        bodies.put("drm-03", c -> c.fails(() -> device.createDumb(64, 64, 0)));
        bodies.put("drm-04", c -> {
            try (Fd memfd = Sys.memfd("test-not-a-dmabuf", LibC.MFD_ALLOW_SEALING)) {
                Sys.ftruncate(memfd.get(), 4096);
                c.fails(() -> device.importFd(memfd.get()), "dma-buf fd " + memfd.get());
            }
        });
        bodies.put("drm-05", c -> c.fails(() -> device.importFd(-1)));
        bodies.put("drm-06", c -> c.fails(() -> device.mapDumb(999999, 4096)));
        bodies.put("drm-07", c -> {
            DrmDevice.Dumb dumb = device.createDumb(64, 64, 32);
            try (Fd dmabuf = device.primeExport(dumb.handle())) {
                c.fails(() -> DrmUapi.ioctl(dmabuf.get(), DrmUapi.VERSION, "DRM_IOCTL_VERSION", "a dma-buf",
                        new DrmUapi.Version(), null), "fd " + dmabuf.get());
            } finally {
                device.releaseDumb(dumb.handle());
            }
        });
        bodies.put("drm-08", c -> c.getOfNodeFails(CARD));
        bodies.put("drm-09", c -> c.getOfNodeFails("/dev/dri/renderD128"));
        // plain Java: card0 opens (its primary and render nodes), the next configuration fails; the case's count
        // of fds by kind finds any node of card0 left open
        bodies.put("java-12", c -> c.fails(() -> DmaBufs.builder().owner("bad-input")
                .configure(DrmExporterComponent.PID + "~card0", Map.of("dev.path", CARD))
                .configure(DrmExporterComponent.PID + "~bad", Map.of("dev.path", "/dev/null")).open()));
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-drm", "guest").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> {
                    device = new DrmDevice(CARD);
                    try {
                        r.run(bodies.get(r.id()), MAPS);
                    } finally {
                        device.close();
                    }
                }));
    }

    @Test
    void everyGuestRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-drm", "guest", bodies.keySet());
    }
}
