package org.dmabuf.exporter.heap;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;

/**
 * The child process of the {@code RLIMIT_NOFILE} fault tests ({@link NofileFaultTest} on the host's memfds,
 * {@link NofileHeapsFaultTest} on the guest's heaps): once its JVM has started it lowers its own
 * {@code RLIMIT_NOFILE} to exactly 64 (soft and hard, {@code setrlimit(2)}), allocates from one exporter until the
 * kernel refuses a new fd, and checks that the refusal is a typed error naming the call and {@code EMFILE} that
 * leaves the set of open fds exactly as it was (no half-made buffer, no stray memfd) and the registry's bufinfo
 * unchanged; then, with one fd left, makes the last slot fail too; then releases buffers and allocates again.
 * Prints one line per finding ({@code nofile: ...}) and ends with {@code nofile: OK}, exit status 0; any broken
 * guarantee prints {@code nofile: FAILED: ...} and exits 1. Single-threaded.
 */
final class NofileFault {
    static final int LIMIT = 64;
    private static final int RLIMIT_NOFILE = 7;

    private NofileFault() {
    }

    /** {@code struct rlimit}. */
    @Structure.FieldOrder({"rlim_cur", "rlim_max"})
    public static final class Rlimit extends Structure {
        /** {@code rlim_t rlim_cur}. */
        public long rlim_cur;
        /** {@code rlim_t rlim_max}. */
        public long rlim_max;
    }

    /** {@code setrlimit(2)} from the C library. */
    interface Limits extends Library {
        Limits C = Native.load("c", Limits.class);

        /** {@code int setrlimit(int resource, const struct rlimit *rlim)}. */
        int setrlimit(int resource, Rlimit rlim) throws LastErrorException;
    }

    /** The command line that runs this class in a new JVM for these exporters, one after the other. */
    static List<String> command(String... exporters) {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : new Class<?>[] {NofileFault.class, MemfdExporter.class, StandaloneRegistry.class,
            org.dmabuf.linux.Sys.class, DmaBuf.class, Native.class}) {
            try {
                cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Djna.tmpdir=" + System.getProperty("java.io.tmpdir")
                + "/jna-nofile", "-cp", String.join(File.pathSeparator, cp), NofileFault.class.getName()));
        cmd.addAll(List.of(exporters));
        return cmd;
    }

    /** The open fd numbers, found with {@code fcntl(F_GETFD)} on every number below the limit: it needs no fd. */
    static Set<Integer> openFds() {
        Set<Integer> open = new TreeSet<>();
        for (int fd = 0; fd < LIMIT; fd++) {
            try {
                Sys.fcntl(fd, LibC.F_GETFD, "F_GETFD", 0);
                open.add(fd);
            } catch (LinuxException e) {
                if (e.errnoValue() != Errno.EBADF) {
                    throw e;
                }
            }
        }
        return open;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void checkEmfile(RuntimeException e, String call) {
        String errno = e instanceof LinuxException l ? l.errno()
                : e instanceof DmaBufException d ? d.errno() : null;
        check("EMFILE".equals(errno), "errno " + errno + " (EMFILE expected) from " + e);
        check(e.getMessage().contains(call), "the error names " + call + ": " + e.getMessage());
    }

    public static void main(String[] args) {
        List<StandaloneRegistry> registries = new ArrayList<>();
        List<AutoCloseable> exporters = new ArrayList<>();
        try {
            for (String exporter : args) {
                StandaloneRegistry registry = new StandaloneRegistry("nofile-" + exporter);
                registries.add(registry);
                switch (exporter) {
                    case "memfd" -> registry.addExporter(new MemfdExporter(), MemfdExporter.properties(100));
                    case "udmabuf" -> {
                        UdmabufExporter u = new UdmabufExporter("/dev/udmabuf");
                        exporters.add(u);
                        registry.addExporter(u, u.properties(200));
                    }
                    case "system" -> {
                        DmaHeapExporter h = new DmaHeapExporter("/dev/dma_heap/system");
                        exporters.add(h);
                        registry.addExporter(h, h.properties(300));
                    }
                    default -> throw new IllegalArgumentException(exporter);
                }
                // the path warmed up (classes, JNA's native library) before the limit comes down
                try (DmaBuf warm = registry.allocate(BufferRequest.ofSize(4096).exporter(exporter))) {
                    warm.mmap().putInt(0, 1);
                }
            }
            Rlimit r = new Rlimit();
            r.rlim_cur = LIMIT;
            r.rlim_max = LIMIT;
            Limits.C.setrlimit(RLIMIT_NOFILE, r);
            check(Files.readAllLines(Path.of("/proc/self/limits")).stream()
                    .anyMatch(l -> l.matches("Max open files\\s+64\\s+64\\s+files\\s*")), "the limit is 64");
            for (int i = 0; i < args.length; i++) {
                scenario(registries.get(i), args[i]);
            }
            for (StandaloneRegistry registry : registries) {
                registry.close();
            }
            for (AutoCloseable e : exporters) {
                e.close();
            }
            System.out.println("nofile: OK");
        } catch (Throwable t) {
            System.out.println("nofile: FAILED: " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void scenario(StandaloneRegistry registry, String exporter) throws Exception {
        long mapsBefore = mappings();
        int startFds = openFds().size();
        System.out.println("nofile: " + exporter + ": limit " + LIMIT + ", " + startFds + " fds open at start");
        List<DmaBuf> kept = new ArrayList<>();
        RuntimeException refused = null;
        Set<Integer> before = null;
        int listed = 0;
        while (refused == null) {
            check(kept.size() < LIMIT, "no EMFILE after " + LIMIT + " buffers");
            // each buffer holds one fd: the fds are listed (64 fcntl calls) for the last attempts only
            before = startFds + kept.size() >= LIMIT - 2 ? openFds() : null;
            listed = registry.bufinfo().size();
            try {
                kept.add(registry.allocate(BufferRequest.ofSize(8192).name("n" + kept.size()).exporter(exporter)));
            } catch (RuntimeException e) {
                refused = e;
            }
        }
        String call = exporter.equals("memfd") ? "memfd_create"
                : exporter.equals("udmabuf") ? "UDMABUF_CREATE" : "DMA_HEAP_IOCTL_ALLOC";
        checkEmfile(refused, call);
        check(before != null, "refused after " + kept.size() + " buffers, with fds left: " + refused);
        check(openFds().equals(before), "the open fds after the refusal " + openFds() + " are those before "
                + before);
        check(registry.bufinfo().size() == listed, "bufinfo unchanged by the refusal");
        System.out.println("nofile: " + exporter + ": " + kept.size() + " buffers, then " + refused.getClass()
                .getSimpleName() + ": " + refused.getMessage() + "; fds unchanged (" + before.size() + ")");

        // every slot taken: the first call of an allocation is refused as well
        List<Fd> fillers = new ArrayList<>();
        while (openFds().size() < LIMIT) {
            fillers.add(Sys.dup(0, "filler"));
        }
        before = openFds();
        try {
            registry.allocate(BufferRequest.ofSize(8192).exporter(exporter)).close();
            check(false, "an allocation with no fd left succeeded");
        } catch (RuntimeException e) {
            checkEmfile(e, exporter.equals("system") ? "DMA_HEAP_IOCTL_ALLOC" : "memfd_create");
            check(openFds().equals(before), "the open fds after the refusal with none left");
            System.out.println("nofile: " + exporter + ": no fd left: " + e.getMessage());
        }
        for (Fd f : fillers) {
            f.close();
        }

        // recovery: released buffers make room for as many new ones
        int release = 8;
        for (int i = 0; i < release; i++) {
            kept.remove(kept.size() - 1).close();
        }
        for (int i = 0; i < release; i++) {
            DmaBuf b = registry.allocate(BufferRequest.ofSize(8192).name("again" + i).exporter(exporter));
            kept.add(b);
            b.mmap().putInt(0, i);
        }
        System.out.println("nofile: " + exporter + ": released " + release + ", allocated " + release + " again");
        for (DmaBuf b : kept) {
            b.close();
        }
        check(registry.bufinfo().isEmpty(), "bufinfo empty at the end: " + registry.bufinfo());
        check(openFds().size() == startFds, "fds at the end " + openFds().size() + ", at start " + startFds);
        check(mappings() == mapsBefore, "mappings at the end " + mappings() + ", at start " + mapsBefore);
    }

    /** Mappings of buffers in /proc/self/maps (read with one fd free). */
    private static long mappings() throws java.io.IOException {
        try (var s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.filter(l -> l.contains("dmabuf:") || l.contains("udmabuf") || l.contains("dmabuf")).count();
        }
    }
}
