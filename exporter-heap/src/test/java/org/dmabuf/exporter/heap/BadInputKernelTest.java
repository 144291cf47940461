package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.DmaHeapUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UdmabufUapi;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of the system heap and udmabuf ({@link BadInputTable}), in the kernel guest: sizes,
 * the heap's and udmabuf's ioctls with bad arguments, a read-only dma-buf, and fds of the nodes given to
 * {@code get(fd)}. Each case counts fds by kind and buffer mappings before and after.
 */
@Tag("kernel")
class BadInputKernelTest {
    private static final String SYSTEM = "/dev/dma_heap/system";
    private static final String[] MAPS = {"/dmabuf:", "anon_inode:dmabuf", "/memfd:"};

    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();
    private DmaHeapExporter heap;
    private UdmabufExporter udmabuf;
    private StandaloneRegistry registry;

    BadInputKernelTest() {
        sizes();
        heapIoctls();
        fds();
        udmabufIoctls();
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-heap", "guest").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> {
                    heap = new DmaHeapExporter(SYSTEM);
                    udmabuf = new UdmabufExporter("/dev/udmabuf");
                    registry = new StandaloneRegistry("bad-input").addExporter(heap, heap.properties(300));
                    try {
                        r.run(bodies.get(r.id()), MAPS);
                    } finally {
                        registry.close();
                        udmabuf.close();
                        heap.close();
                    }
                }));
    }

    @Test
    void everyGuestRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-heap", "guest", bodies.keySet());
    }

    private static int rw() {
        return LibC.O_RDWR | LibC.O_CLOEXEC;
    }

    private void sizes() {
        long[][] sizes = {{1, 4096}, {4095, 4096}, {4097, 8192}};
        for (int i = 0; i < sizes.length; i++) {
            long asked = sizes[i][0];
            long got = sizes[i][1];
            bodies.put("heap-0" + (i + 1), c -> c.accepted(() -> {
                try (DmaBuf b = registry.allocate(BufferRequest.ofSize(asked))) {
                    assertThat(b.requestedSize()).isEqualTo(asked);
                    assertThat(b.size()).as("the heap's pages").isEqualTo(got);
                    assertThat(b.mmap().size()).as("views are bounded by the kernel's size").isEqualTo(got);
                }
            }));
        }
    }

    private void heapIoctls() {
        bodies.put("heap-04", c -> c.fails(() -> heap.allocateFd(0, rw(), 0)));
        bodies.put("heap-05", c -> c.fails(() -> heap.allocateFd(4096, ~0, 0)));
        bodies.put("heap-06", c -> c.fails(() -> heap.allocateFd(4096, rw(), ~0L)));
        bodies.put("heap-07", c -> c.fails(() -> registry.allocate(BufferRequest.ofSize(Long.MAX_VALUE))));
        bodies.put("heap-26", c -> {
            long memTotal = DmaHeapExporter.MEMORY;
            assertThat(memTotal).as("MemTotal of /proc/meminfo").isLessThan(Long.MAX_VALUE);
            c.fails(() -> registry.allocate(BufferRequest.ofSize(memTotal + 1)), "size " + (memTotal + 1),
                    "maximum of " + memTotal + " bytes");
        });
        bodies.put("heap-08", c -> {
            try (Fd ro = heap.allocateFd(4096, LibC.O_RDONLY | LibC.O_CLOEXEC, 0); DmaBuf b = registry.get(ro.get())) {
                assertThat(b.exporterName()).contains("system");
                c.fails(b::mmap, "fd ", "from fd " + ro.get());
            }
        });
        bodies.put("heap-09", c -> {
            try (Fd buf = heap.allocateFd(4096, rw(), 0)) {
                c.fails(() -> DmaHeapUapi.alloc(buf.get(), 4096, rw(), 0, "a dma-buf"), "fd " + buf.get());
            }
        });
        bodies.put("heap-10", c -> {
            try (Fd buf = heap.allocateFd(4096, rw(), 0)) {
                c.fails(() -> {
                    DmaBufUapi.syncFlags(buf.get(), 0xff);
                    return null;
                }, "fd " + buf.get());
            }
        });
        bodies.put("heap-11", c -> {
            try (Fd buf = heap.allocateFd(4096, rw(), 0)) {
                c.fails(() -> {
                    DmaBufUapi.syncFlags(buf.get(), 0);
                    return null;
                }, "fd " + buf.get());
            }
        });
    }

    private void fds() {
        bodies.put("heap-12", c -> {
            try (Fd node = Sys.open(SYSTEM, LibC.O_RDONLY)) {
                c.fails(() -> registry.get(node.get()), "fd " + node.get());
            }
        });
        bodies.put("heap-13", c -> {
            try (Fd node = Sys.open("/dev/udmabuf", LibC.O_RDWR)) {
                c.fails(() -> registry.get(node.get()), "fd " + node.get());
            }
        });
        bodies.put("heap-14", c -> {
            try (DmaBuf b = registry.allocate(BufferRequest.ofSize(4096));
                 org.dmabuf.api.Fence f = b.exportFence(SyncDirection.READ)) {
                int fd = ((org.dmabuf.linux.SyncFile) f).fd();
                f.await(Duration.ofSeconds(5));
                c.fails(() -> registry.get(fd), "fd " + fd);
            }
        });
    }

    private static int cloexec() {
        return UdmabufUapi.UDMABUF_FLAGS_CLOEXEC;
    }

    private void udmabufIoctls() {
        bodies.put("heap-15", c -> {
            try (Fd memfd = Sys.memfd("test-unsealed", LibC.MFD_ALLOW_SEALING)) {
                Sys.ftruncate(memfd.get(), 4096);
                c.fails(() -> udmabuf.create(memfd.get(), 0, 4096, cloexec()));
            }
        });
        int shrink = LibC.F_SEAL_SHRINK;
        bodies.put("heap-16", c -> {
            try (Fd memfd = MemfdExporter.sealedMemfd("test-sealed", 8192, shrink)) {
                c.fails(() -> udmabuf.create(memfd.get(), 0, 4097, cloexec()));
            }
        });
        bodies.put("heap-17", c -> {
            try (Fd memfd = MemfdExporter.sealedMemfd("test-sealed", 8192, shrink)) {
                c.fails(() -> udmabuf.create(memfd.get(), 100, 4096, cloexec()));
            }
        });
        bodies.put("heap-18", c -> {
            try (Fd memfd = MemfdExporter.sealedMemfd("test-sealed", 8192, shrink)) {
                c.fails(() -> udmabuf.create(memfd.get(), 0, 0, cloexec()));
            }
        });
        bodies.put("heap-19", c -> {
            try (Fd memfd = MemfdExporter.sealedMemfd("test-sealed", 8192, shrink)) {
                c.accepted(() -> {
                    try (Fd made = udmabuf.create(memfd.get(), 0, 4096, ~0)) {
                        assertThat(org.dmabuf.linux.FdInfo.read(made.get()).expName()).isEqualTo("udmabuf");
                    }
                });
            }
        });
        bodies.put("heap-20", c -> {
            try (Fd memfd = MemfdExporter.sealedMemfd("test-sealed", 4096, shrink)) {
                c.fails(() -> udmabuf.create(memfd.get(), 0, 8192, cloexec()));
            }
        });
        bodies.put("heap-21", c -> {
            try (Fd notMemfd = Sys.open("/proc/self/stat", LibC.O_RDONLY)) {
                c.fails(() -> udmabuf.create(notMemfd.get(), 0, 4096, cloexec()));
            }
        });
    }
}
