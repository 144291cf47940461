package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Counts this process's open fds and memfd mappings, to prove a test left nothing behind. */
final class Leaks {
    private Leaks() {
    }

    /** Open fds of buffers: memfds the test exporter made and dma-bufs (the JVM's own jars and sockets vary). */
    static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(Leaks::target).filter(t -> t.startsWith("/memfd:") || t.startsWith("/dmabuf:")
                    || t.startsWith("anon_inode:dmabuf")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String target(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
            return "";
        }
    }

    static long memfdMappings() {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.filter(l -> l.contains("/memfd:test-")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
