package org.dmabuf.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.dmabuf.api.BufferId;

/**
 * What the kernel says about this process's buffers: its fds ({@code /proc/self/fd}), its mappings
 * ({@code /proc/self/maps}) and debugfs {@code dma_buf/bufinfo}. Files are matched by (st_dev, st_ino), never by the
 * inode number alone. Stateless; any thread.
 */
final class KernelView {
    static final Path BUFINFO = Path.of("/sys/kernel/debug/dma_buf/bufinfo");

    private KernelView() {
    }

    /** One line of {@code /proc/self/maps}: its address range and the line itself. */
    record MapsLine(long start, long end, String line) {
        boolean overlaps(MapsLine other) {
            return start < other.end && other.start < end;
        }
    }

    /** fds of dma-bufs and memfds this process holds: fd number to link target (which shows a dma-buf's name). */
    static java.util.SortedMap<Integer, String> bufferFds() {
        java.util.SortedMap<Integer, String> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String t = link(p);
                if (t.startsWith("/dmabuf:") || t.startsWith("anon_inode:dmabuf") || t.startsWith("/memfd:")) {
                    out.put(Integer.valueOf(p.getFileName().toString()), t);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("reading /proc/self/fd: " + e, e);
        }
        return out;
    }

    /** The fds of this process that are the file {@code id}: fd number to link target. */
    static java.util.SortedMap<Integer, String> fdsOf(BufferId id) {
        java.util.SortedMap<Integer, String> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    long ino = ((Number) Files.getAttribute(p, "unix:ino")).longValue();
                    long dev = ((Number) Files.getAttribute(p, "unix:dev")).longValue();
                    if (new BufferId(dev, ino).equals(id)) { // stat's st_dev and statx's, both glibc's makedev
                        out.put(Integer.valueOf(p.getFileName().toString()), link(p));
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // closed meanwhile (the listing's own fd), or not statable: not the buffer
                }
            }
        } catch (IOException e) {
            throw new AssertionError("reading /proc/self/fd: " + e, e);
        }
        return out;
    }

    /** The lines of {@code /proc/self/maps} that map the file {@code id}. */
    static List<MapsLine> mappingsOf(BufferId id) {
        String dev = String.format("%02x:%02x", id.major(), id.minor());
        List<MapsLine> out = new ArrayList<>();
        for (MapsLine l : maps()) {
            String[] f = l.line().trim().split("\\s+", 6);
            if (f.length >= 5 && f[3].equals(dev) && f[4].equals(Long.toString(id.inode()))) {
                out.add(l);
            }
        }
        return out;
    }

    /** Every line of {@code /proc/self/maps}. */
    static List<MapsLine> maps() {
        List<MapsLine> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash) {
                    out.add(new MapsLine(Long.parseUnsignedLong(line.substring(0, dash), 16),
                            Long.parseUnsignedLong(line.substring(dash + 1, space), 16), line));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("reading /proc/self/maps: " + e, e);
        }
        return out;
    }

    /**
     * The lines of debugfs {@code bufinfo} that list the inode, or empty when bufinfo cannot be read (no debugfs, not
     * root). The buffer table's lines are {@code size flags mode count exp_name ino name...}.
     */
    static Optional<List<String>> bufinfoLinesOf(long inode) {
        if (!Files.isReadable(BUFINFO)) {
            return Optional.empty();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(BUFINFO);
        } catch (IOException e) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[0].matches("\\d+") && f[1].matches("[0-9a-fA-F]+")) {
                try {
                    if (Long.parseLong(f[5]) == inode) {
                        out.add(line.trim());
                    }
                } catch (NumberFormatException e) {
                    // not a buffer line
                }
            }
        }
        return Optional.of(out);
    }

    static String show(java.util.Map<Integer, String> fds) {
        return fds.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue())
                .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }

    static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            return "";
        }
    }
}
