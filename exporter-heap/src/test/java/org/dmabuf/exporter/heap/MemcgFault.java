package org.dmabuf.exporter.heap;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.core.StandaloneRegistry;

/**
 * The child process of {@link MemcgFaultTest}: it warms up, says {@code memcg: ready} and waits for a line on its
 * standard input, by when its parent has moved it into a memory cgroup whose {@code memory.max} leaves it
 * {@code args[1]} bytes more than it uses, and made it exempt from the OOM killer (so a charge over the limit fails
 * with {@code ENOMEM} instead of killing it). Then it allocates from the system heap beyond the limit (the 6.12
 * system heap does not charge the cgroup: it is reported, not refused), and from udmabuf (whose memfd pages are
 * charged) until the kernel refuses; the refusal must be a typed error with {@code ENOMEM} that leaves the open fds
 * and bufinfo as they were; then it releases buffers and allocates again. Prints {@code memcg: ...} lines and ends
 * with {@code memcg: OK}, exit status 0; {@code memcg: FAILED: ...} and exit status 1 otherwise. Single-threaded.
 */
final class MemcgFault {
    static final long CHUNK = 4L << 20;

    private MemcgFault() {
    }

    /** The command line that runs this class in a new JVM, its heap committed and touched before it is moved. */
    static List<String> command(Path cgroup, long room) {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : new Class<?>[] {MemcgFault.class, MemfdExporter.class, StandaloneRegistry.class,
            org.dmabuf.linux.Sys.class, DmaBuf.class, com.sun.jna.Native.class}) {
            try {
                cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms48m", "-Xmx48m", "-XX:+AlwaysPreTouch",
                "-Djna.tmpdir=" + System.getProperty("java.io.tmpdir") + "/jna-memcg", "-cp",
                String.join(File.pathSeparator, cp), MemcgFault.class.getName(), cgroup.toString(),
                Long.toString(room));
    }

    private static long current(Path cgroup) throws Exception {
        return Long.parseLong(Files.readString(cgroup.resolve("memory.current")).trim());
    }

    private static Set<String> fds() throws Exception {
        Set<String> fds = new TreeSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> {
                try {
                    fds.add(p.getFileName() + " -> " + Files.readSymbolicLink(p));
                } catch (java.io.IOException e) {
                    fds.add(p.getFileName() + " -> ?"); // the listing's own fd, closed meanwhile
                }
            });
        }
        fds.removeIf(f -> f.endsWith("?"));
        return fds;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    public static void main(String[] args) {
        Path cgroup = Path.of(args[0]);
        long room = Long.parseLong(args[1]);
        UdmabufExporter udmabuf = new UdmabufExporter("/dev/udmabuf");
        DmaHeapExporter heap = new DmaHeapExporter("/dev/dma_heap/system");
        try (StandaloneRegistry registry = new StandaloneRegistry("memcg")) {
            registry.addExporter(udmabuf, udmabuf.properties(200));
            registry.addExporter(heap, heap.properties(300));
            // warm up every path the test takes, the failing one too (udmabuf refuses more than its 64 MiB limit),
            // so that nothing but the buffers needs new memory once in the cgroup
            for (String e : List.of("udmabuf", "system")) {
                try (DmaBuf b = registry.allocate(BufferRequest.ofSize(CHUNK).name("warm").exporter(e))) {
                    b.mmap().putInt(0, 1);
                }
            }
            try {
                registry.allocate(BufferRequest.ofSize(128L << 20).name("too-big").exporter("udmabuf")).close();
            } catch (DmaBufException expected) {
                check(expected.getMessage() != null, "a message");
            }
            fds();
            registry.bufinfo();
            System.out.println("memcg: ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            check("go".equals(in.readLine()), "go from the parent");
            check(Files.readString(Path.of("/proc/self/cgroup")).trim().endsWith(cgroup.getFileName().toString()),
                    "in the cgroup " + cgroup);

            // the system heap: twice the room, and the cgroup is not charged for it
            long start = current(cgroup);
            List<DmaBuf> system = new ArrayList<>();
            for (long got = 0; got < 2 * room; got += CHUNK) {
                system.add(registry.allocate(BufferRequest.ofSize(CHUNK).name("sys").exporter("system")));
            }
            long grew = current(cgroup) - start;
            System.out.println("memcg: system: " + system.size() * (CHUNK >> 20) + " MiB allocated with "
                    + (room >> 20) + " MiB of room: memory.current grew by " + (grew >> 10) + " KiB: "
                    + (grew < CHUNK ? "not charged" : "charged"));
            for (DmaBuf b : system) {
                b.close();
            }

            // udmabuf: until the cgroup is full
            List<DmaBuf> kept = new ArrayList<>();
            DmaBufException refused = null;
            Set<String> before = null;
            int listed = 0;
            while (refused == null) {
                check(kept.size() * CHUNK <= 2 * room, "no refusal after " + kept.size() + " buffers");
                before = fds();
                listed = registry.bufinfo().size();
                try {
                    kept.add(registry.allocate(BufferRequest.ofSize(CHUNK).name("u" + kept.size())
                            .exporter("udmabuf")));
                } catch (DmaBufException e) {
                    refused = e;
                }
            }
            check("ENOMEM".equals(refused.errno()), "errno ENOMEM: " + refused);
            check(refused.getMessage().contains("UDMABUF_CREATE"), "names UDMABUF_CREATE: " + refused.getMessage());
            Set<String> after = fds();
            check(after.equals(before), "fds after the refusal " + after + ", before " + before);
            check(registry.bufinfo().size() == listed, "bufinfo unchanged by the refusal");
            System.out.println("memcg: udmabuf: " + kept.size() + " buffers of " + (CHUNK >> 20) + " MiB, then "
                    + refused.getClass().getSimpleName() + ": " + refused.getMessage() + "; fds and bufinfo unchanged");

            // recovery
            int release = 2;
            for (int i = 0; i < release; i++) {
                kept.remove(kept.size() - 1).close();
            }
            for (int i = 0; i < release; i++) {
                DmaBuf b = registry.allocate(BufferRequest.ofSize(CHUNK).name("again").exporter("udmabuf"));
                kept.add(b);
                b.mmap().putInt(0, i);
            }
            System.out.println("memcg: udmabuf: released " + release + ", allocated " + release + " again");
            for (DmaBuf b : kept) {
                b.close();
            }
            check(registry.bufinfo().isEmpty(), "bufinfo empty at the end");
            System.out.println("memcg: OK");
        } catch (Throwable t) {
            System.out.println("memcg: FAILED: " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        } finally {
            udmabuf.close();
            heap.close();
        }
        System.exit(0);
    }
}
