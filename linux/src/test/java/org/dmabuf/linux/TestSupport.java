package org.dmabuf.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
     * Open fds of buffers and devices: dma-bufs, sync_files, memfds, DRM, V4L2, heap and udmabuf nodes. See
     * {@link #openFds()} for every kind, sockets and pipes included.
     *
     * @return the count
     */
    public static long bufferFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(TestSupport::link).filter(t -> t.startsWith("/dmabuf:") || t.startsWith("anon_inode:dmabuf")
                    || t.startsWith("anon_inode:sync_file")
                    || t.startsWith("/memfd:") || t.startsWith("/dev/dri/") || t.startsWith("/dev/video")
                    || t.startsWith("/dev/dma_heap/") || t.startsWith("/dev/udmabuf")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Open sync_file fds (fences): {@code /proc/self/fd} links that read {@code anon_inode:sync_file}.
     *
     * @return the count
     */
    public static long syncFiles() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(TestSupport::link).filter(t -> t.equals("anon_inode:sync_file")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Every open fd of a kind this project opens or could leave behind: sockets (but {@code AF_UNIX} stream ones,
     * which the project never opens and the C library keeps for user lookups), pipes, anonymous inodes
     * (dma-buf, sync_file, eventfd, epoll...), memfds, dma-bufs and the device nodes it opens ({@code /dev/dri/*},
     * {@code /dev/video*}, {@code /dev/media*}, {@code /dev/udmabuf}, {@code /dev/dma_heap/*}). Regular files,
     * folders and other device files are left out: the JVM opens its jars as classes load and keeps
     * {@code /dev/urandom} once a SecureRandom (a temporary file's name) was made.
     *
     * @return the count
     */
    public static long openFds() {
        return openFdTargets().size();
    }

    /**
     * What {@link #openFds()} counts: each fd's number and link target, for assertion messages.
     *
     * @return "number -> target" for each counted fd
     */
    public static List<String> openFdTargets() {
        List<String> fds = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> {
                String t = link(p);
                if (counted(t)) {
                    fds.add(p.getFileName() + " -> " + t);
                }
            });
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        if (fds.stream().anyMatch(f -> f.contains("socket:["))) {
            Set<String> streams = unixStreamSockets();
            fds.removeIf(f -> f.contains("socket:[") && streams.contains(f.substring(f.indexOf("socket:["))));
        }
        return fds;
    }

    /**
     * {@code AF_UNIX} {@code SOCK_STREAM} sockets, as "socket:[inode]": the project's sockets are all
     * {@code SOCK_SEQPACKET}; stream ones are the C library's own (a name service connection glibc opens on its first
     * user lookup and keeps), not counted.
     */
    private static Set<String> unixStreamSockets() {
        Set<String> streams = new HashSet<>();
        try {
            for (String l : Files.readAllLines(Path.of("/proc/net/unix"))) {
                // Num RefCount Protocol Flags Type St Inode [Path]
                String[] cols = l.trim().split("\\s+");
                if (cols.length >= 7 && cols[4].equals("0001")) {
                    streams.add("socket:[" + cols[6] + "]");
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return streams;
    }

    /** Whether an fd whose /proc/self/fd link reads {@code target} is counted by {@link #openFds()}. */
    static boolean counted(String target) {
        if (target.isEmpty()) {
            return false; // closed between the listing and the readlink
        }
        return target.startsWith("/memfd:") || target.startsWith("/dmabuf:") || target.startsWith("/dev/dri/")
                || target.startsWith("/dev/video") || target.startsWith("/dev/media")
                || target.startsWith("/dev/udmabuf") || target.startsWith("/dev/dma_heap/")
                // socket:[n], pipe:[n], anon_inode:dmabuf, anon_inode:sync_file, anon_inode:[eventfd]...
                || !target.startsWith("/");
    }

    /**
     * The soft {@code RLIMIT_NOFILE} of this process, from /proc/self/limits: every fd number is below it.
     *
     * @return the limit
     */
    public static int fdLimit() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max open files")) {
                    String soft = l.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Integer.MAX_VALUE : (int) Math.min(Long.parseLong(soft),
                            Integer.MAX_VALUE);
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no 'Max open files' in /proc/self/limits");
    }

    /**
     * An fd number that cannot be open in this process: the soft {@code RLIMIT_NOFILE} itself (the kernel refuses
     * every number at or above it, and nothing in the tests raises the limit). Unlike a just-closed number, no other
     * thread can be given it meanwhile.
     *
     * @return the number
     */
    public static int neverOpenFd() {
        return fdLimit();
    }

    /**
     * Duplicates an fd to a number far above those the process uses ({@code F_DUPFD_CLOEXEC} from 4095, or the
     * limit's last number if lower), where the kernel, which always gives the lowest free number, hands out no other
     * fd: once this duplicate is closed its number stays closed, so a test may use it to prove EBADF.
     *
     * @param fd the fd to duplicate
     * @param what what it is
     * @return the owned duplicate
     */
    public static Fd highDuplicate(int fd, String what) {
        int height = Math.min(fdLimit(), 4096) - 1;
        return new Fd(Sys.fcntl(fd, LibC.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC", height), what);
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
        int i = bufinfoLine(lines, inode);
        List<String> devices = new ArrayList<>();
        for (int j = i + 2; j < lines.size() && lines.get(j).startsWith("\t"); j++) {
            devices.add(lines.get(j).trim());
        }
        return devices;
    }

    /**
     * The size the kernel's debugfs bufinfo gives one dma-buf (its first column).
     *
     * @param inode the buffer's inode
     * @return bytes
     */
    public static long bufinfoSize(long inode) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/sys/kernel/debug/dma_buf/bufinfo"));
        return Long.parseLong(lines.get(bufinfoLine(lines, inode)).split("\t")[0].trim());
    }

    /** The index of the object line of a dma-buf: {@code size flags mode count exp_name ino name}, tab-separated. */
    private static int bufinfoLine(List<String> lines, long inode) {
        for (int i = 0; i < lines.size(); i++) {
            String[] cols = lines.get(i).split("\t");
            if (cols.length >= 6 && cols[5].trim().matches("\\d+") && Long.parseLong(cols[5].trim()) == inode) {
                return i;
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
