package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.dmabuf.linux.TestSupport;

/**
 * Counts this process's open fds and memfd mappings, to prove a test left nothing behind. Stateless; any thread.
 */
final class Leaks {
    private Leaks() {
    }

    /**
     * Open fds of every kind the project opens: sockets, pipes, anonymous inodes (dma-buf, sync_file...), memfds,
     * dma-bufs, and DRM, V4L2, udmabuf and dma-heap nodes, as {@link TestSupport#openFds()} counts them.
     *
     * @return the count
     */
    static long openFds() {
        return TestSupport.openFds();
    }

    /**
     * The fds {@link #openFds()} counts, each as "number -&gt; link target", for a failing assertion's message.
     *
     * @return the list
     */
    static java.util.List<String> openFdList() {
        return TestSupport.openFdTargets();
    }

    /**
     * Mappings of the test exporter's memfds.
     *
     * @return the count
     */
    static long memfdMappings() {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.filter(l -> l.contains("/memfd:test-")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
