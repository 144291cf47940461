package org.dmabuf.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.BufferKind;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * Helpers the modules' tests share (published in the core's test jar): leak counts from /proc, the kernel's
 * debugfs bufinfo, and the system dma-heap through the raw ioctl for modules that cannot depend on the heap
 * exporter's bundle. Stateless; any thread.
 */
public final class TestSupport {
    private TestSupport() {
    }

    /**
     * Open fds of buffers and devices: dma-bufs, memfds, DRM, V4L2, heap and udmabuf nodes (the JVM's own jars
     * and sockets vary, so they are not counted).
     *
     * @return the count
     */
    public static long bufferFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(TestSupport::link).filter(t -> t.startsWith("/dmabuf:") || t.startsWith("anon_inode:dmabuf")
                    || t.startsWith("/memfd:") || t.startsWith("/dev/dri/") || t.startsWith("/dev/video")
                    || t.startsWith("/dev/dma_heap/") || t.startsWith("/dev/udmabuf")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Mappings in this process whose line in /proc/self/maps contains one of the markers.
     *
     * @param markers for example {@code "/dmabuf:"}, {@code "/dev/dri/card0"}
     * @return the count
     */
    public static long mappings(String... markers) {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.filter(l -> {
                for (String m : markers) {
                    if (l.contains(m)) {
                        return true;
                    }
                }
                return false;
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The devices the kernel's debugfs bufinfo lists under "Attached Devices" for one buffer.
     *
     * @param inode the buffer's inode
     * @return the device names
     */
    public static List<String> attachedDevices(long inode) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/sys/kernel/debug/dma_buf/bufinfo"));
        List<String> devices = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] cols = lines.get(i).split("\t");
            if (cols.length >= 6 && cols[5].trim().matches("\\d+") && Long.parseLong(cols[5].trim()) == inode) {
                for (int j = i + 2; j < lines.size() && lines.get(j).startsWith("\t"); j++) {
                    devices.add(lines.get(j).trim());
                }
                return devices;
            }
        }
        throw new AssertionError("inode " + inode + " is not in debugfs bufinfo:\n" + String.join("\n", lines));
    }

    /** The system dma-heap through a raw {@code DMA_HEAP_IOCTL_ALLOC}. Thread-safe. */
    public static final class RawSystemHeap implements DmaBufExporter {
        @Override
        public ExportedBuffer allocate(AllocationRequest request) {
            try (Fd heap = Sys.open("/dev/dma_heap/system", LibC.O_RDONLY)) {
                DmaHeapUapi.AllocationData d = new DmaHeapUapi.AllocationData();
                d.len = request.size();
                d.fd_flags = LibC.O_RDWR | LibC.O_CLOEXEC;
                Sys.ioctl(heap.get(), DmaHeapUapi.ALLOC, "DMA_HEAP_IOCTL_ALLOC", "/dev/dma_heap/system", d);
                return new FdBuffer(new Fd(d.fd, "system heap dma-buf"), request.size(), BufferKind.DMA_BUF);
            }
        }

        /**
         * Its service properties.
         *
         * @param ranking the ranking
         * @return name and exp_name {@code system}
         */
        public static Map<String, Object> properties(int ranking) {
            Map<String, Object> p = new HashMap<>();
            p.put(NAME, "system");
            p.put(EXP_NAME, "system");
            p.put("service.ranking", ranking);
            return p;
        }
    }
}
