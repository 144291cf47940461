package org.dmabuf.reliability;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * What a process holds at one moment, as the soak compares it: open fds by kind (from the links in
 * {@code /proc/self/fd}), mappings (lines of {@code /proc/self/maps}: all, and those of dma-bufs, memfds and device
 * nodes), native memory and the Java heap used after a GC.
 *
 * <p>Native memory is read two ways. NMT ({@code VM.native_memory summary}) tells the JVM's own memory by category;
 * the soak checks the categories outside the Java heap and outside what follows the heap's sizing and the JIT
 * ({@link #NMT_VOLATILE}): threads, classes, direct and {@code Unsafe} memory ("Other"), symbols, internals. NMT does
 * not see {@code malloc} called by native code, which is where JNA's {@code Memory} lives: glibc's
 * {@code mallinfo2} (all arenas) counts every {@code malloc}, and that count minus NMT's own {@code malloc} total is
 * the memory native code outside the JVM holds.
 *
 * <p>Immutable. {@link #take()} from any thread; it runs a GC.
 *
 * @param fds open fds by kind (see {@link #kindOf(String)}), sorted by kind
 * @param maps lines of /proc/self/maps
 * @param kernelMaps lines of /proc/self/maps of dma-bufs, memfds and /dev nodes, by kind
 * @param nmtCommitted NMT's total committed bytes, -1 when the JVM runs without -XX:NativeMemoryTracking
 * @param nmtVolatile NMT's committed bytes of the {@link #NMT_VOLATILE} categories, -1 without NMT
 * @param nmtMalloc NMT's malloc total: what the JVM itself has malloc'd, -1 without NMT
 * @param mallocInUse glibc's mallinfo2 uordblks + hblkhd: bytes malloc has handed out and not had back
 * @param heapUsed Java heap used after a full GC, in bytes
 * @param nmtCategories NMT's committed bytes of each category outside {@link #NMT_VOLATILE}, for the report
 */
public record Snapshot(Map<String, Integer> fds, int maps, Map<String, Integer> kernelMaps, long nmtCommitted,
        long nmtVolatile, long nmtMalloc, long mallocInUse, long heapUsed, Map<String, Long> nmtCategories) {
    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern NMT_MALLOC = Pattern.compile("malloc: (\\d+)KB");
    private static final Pattern NMT_CATEGORY = Pattern.compile("-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB");
    /**
     * NMT categories that move with the Java heap's sizing (the heap, the GC's remembered sets and card tables), with
     * the JIT (the code cache, the compilers and their arena chunks) and with locking ("Object Monitors": a contended
     * {@code synchronized} inflates a monitor, which the JVM deflates asynchronously, when the monitors in use pass
     * 90 % of about 1024 per thread or once a minute, not at a GC; the objects themselves are in the heap figure):
     * reported in the total, not checked.
     */
    public static final Set<String> NMT_VOLATILE = Set.of("Java Heap", "GC", "Code", "Compiler", "Arena Chunk",
            "Object Monitors");

    /** Copies the maps. */
    public Snapshot {
        fds = new TreeMap<>(fds);
        kernelMaps = new TreeMap<>(kernelMaps);
        nmtCategories = new TreeMap<>(nmtCategories);
    }

    /**
     * Measures this process: two full GCs first (so that the heap figure is the live set and every cleaner that
     * releases on collection has run), then NMT and malloc, then fds and mappings. The first call of a process
     * loads and opens what measuring needs (the platform MBean server, JNA's libc): take a snapshot once before the
     * baseline.
     *
     * @return the snapshot
     */
    public static Snapshot take() {
        System.gc();
        System.runFinalization();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        // NMT first: the platform MBean server opens a socket the first time, which the fd count must include
        Map<String, Long> categories = new TreeMap<>();
        long[] nmt = nmt(categories);
        long malloc = readMalloc();
        Map<String, Integer> fds = fdKinds();
        int maps = 0;
        Map<String, Integer> kernel = new TreeMap<>();
        for (String line : lines(Path.of("/proc/self/maps"))) {
            maps++;
            String kind = mapKind(line);
            if (kind != null) {
                kernel.merge(kind, 1, Integer::sum);
            }
        }
        return new Snapshot(fds, maps, kernel, nmt[0], nmt[1], nmt[2], malloc, heap, categories);
    }

    /**
     * The kind of an fd from its link target: {@code dmabuf}, {@code memfd}, {@code socket}, {@code pipe},
     * {@code eventfd}, {@code eventpoll}, {@code sync_file}, another {@code anon_inode:} by its name, a device node
     * by its path, {@link #PROC_FILE} for a file of /proc or /sys (what the project reads: fdinfo, meminfo, sysfs),
     * {@link #JVM_FILE} for any other file (jars, the JDK's modules, the test runner's files).
     *
     * @param target what readlink gives
     * @return the kind
     */
    static String kindOf(String target) {
        if (target.startsWith("anon_inode:")) {
            String n = target.substring("anon_inode:".length());
            if (n.startsWith("[") && n.endsWith("]")) {
                n = n.substring(1, n.length() - 1);
            }
            return n.equals("dmabuf") ? "dmabuf" : n;
        }
        if (target.startsWith("/dmabuf:")) {
            return "dmabuf";
        }
        if (target.startsWith("/memfd:")) {
            return "memfd";
        }
        if (target.startsWith("socket:")) {
            return "socket";
        }
        if (target.startsWith("pipe:")) {
            return "pipe";
        }
        if (target.startsWith("/dev/")) {
            return target;
        }
        if (target.startsWith("/proc/") || target.startsWith("/sys/")) {
            return PROC_FILE;
        }
        return JVM_FILE;
    }

    /** The fd kind of a file of /proc or /sys: the project opens these (and must close them), so they are checked. */
    static final String PROC_FILE = "proc-or-sys-file";

    /**
     * The fd kind of every other file: the JVM's own (jars it opens and closes as classes load or a cleaner runs, the
     * JDK's modules, the test runner's reports). The project opens no such file, so the count is reported, not
     * checked: it moved by one between two quiet moments in CI (a jar the JVM closed).
     */
    static final String JVM_FILE = "other-file";

    /** The kind of a mapping that is a kernel object of the project's, or null: dmabuf, memfd or a /dev path. */
    static String mapKind(String line) {
        int slash = line.indexOf('/');
        int anon = line.indexOf("anon_inode:dmabuf");
        if (anon >= 0 || line.contains("/dmabuf:")) {
            return "dmabuf";
        }
        if (slash < 0) {
            return null;
        }
        String path = line.substring(slash);
        if (path.startsWith("/memfd:")) {
            return "memfd";
        }
        if (path.startsWith("/dev/") && !path.startsWith("/dev/shm/") && !path.startsWith("/dev/zero")) {
            return path.replace(" (deleted)", "");
        }
        return null;
    }

    private static Map<String, Integer> fdKinds() {
        Map<String, Integer> kinds = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    continue; // closed meanwhile by another thread (the directory's own fd is one of them)
                }
                kinds.merge(kindOf(target), 1, Integer::sum);
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading /proc/self/fd: " + e, e);
        }
        return kinds;
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new IllegalStateException("reading " + p + ": " + e, e);
        }
    }

    /** @return {total committed, volatile categories' committed, malloc total} in bytes, or -1s without NMT */
    private static long[] nmt(Map<String, Long> categories) {
        String out;
        try {
            out = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("VM.native_memory summary: " + e, e);
        }
        Matcher t = NMT_TOTAL.matcher(out);
        Matcher m = NMT_MALLOC.matcher(out);
        if (!t.find() || !m.find()) {
            return new long[] {-1, -1, -1}; // "Native memory tracking is not enabled"
        }
        long volatileKib = 0;
        Matcher c = NMT_CATEGORY.matcher(out);
        while (c.find()) {
            if (NMT_VOLATILE.contains(c.group(1).trim())) {
                volatileKib += Long.parseLong(c.group(3));
            } else {
                categories.put(c.group(1).trim(), Long.parseLong(c.group(3)) * 1024);
            }
        }
        return new long[] {Long.parseLong(t.group(2)) * 1024, volatileKib * 1024, Long.parseLong(m.group(1)) * 1024};
    }

    /** glibc's {@code struct mallinfo2}: ten {@code size_t}. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost"})
    public static final class MallInfo2 extends Structure implements Structure.ByValue {
        /** size_t arena: non-mmapped space allocated. */
        public long arena;
        /** size_t ordblks: free chunks. */
        public long ordblks;
        /** size_t smblks: free fastbin blocks. */
        public long smblks;
        /** size_t hblks: mmapped regions. */
        public long hblks;
        /** size_t hblkhd: space in mmapped regions. */
        public long hblkhd;
        /** size_t usmblks: unused. */
        public long usmblks;
        /** size_t fsmblks: space in freed fastbin blocks. */
        public long fsmblks;
        /** size_t uordblks: total allocated space. */
        public long uordblks;
        /** size_t fordblks: total free space. */
        public long fordblks;
        /** size_t keepcost: top-most releasable space. */
        public long keepcost;
    }

    /** glibc's mallinfo2 (2.33 and later). */
    interface CLib extends Library {
        /** {@code struct mallinfo2 mallinfo2(void)}. */
        MallInfo2 mallinfo2();
    }

    private static final class Libc {
        static final CLib C = Native.load("c", CLib.class);
    }

    private static long readMalloc() {
        MallInfo2 m = Libc.C.mallinfo2();
        return m.uordblks + m.hblkhd;
    }

    /** @return this snapshot as one line of key=value words, as the peer prints it */
    String toLine() {
        StringBuilder b = new StringBuilder();
        fds.forEach((k, v) -> b.append("fd.").append(k.replace(' ', '_')).append('=').append(v).append(' '));
        kernelMaps.forEach((k, v) -> b.append("map.").append(k.replace(' ', '_')).append('=').append(v).append(' '));
        nmtCategories.forEach((k, v) -> b.append("nmt.").append(k.replace(' ', '_')).append('=').append(v).append(' '));
        b.append("maps=").append(maps).append(" nmt=").append(nmtCommitted).append(" nmtvolatile=")
                .append(nmtVolatile).append(" nmtmalloc=").append(nmtMalloc).append(" malloc=").append(mallocInUse)
                .append(" heap=").append(heapUsed);
        return b.toString();
    }

    /** @return the snapshot {@link #toLine()} printed */
    static Snapshot parseLine(String line) {
        Map<String, Integer> fds = new LinkedHashMap<>();
        Map<String, Integer> kernel = new LinkedHashMap<>();
        Map<String, Long> rest = new LinkedHashMap<>();
        Map<String, Long> categories = new LinkedHashMap<>();
        for (String w : line.trim().split(" +")) {
            int eq = w.lastIndexOf('=');
            String k = w.substring(0, eq);
            long v = Long.parseLong(w.substring(eq + 1));
            if (k.startsWith("fd.")) {
                fds.put(k.substring(3), (int) v);
            } else if (k.startsWith("map.")) {
                kernel.put(k.substring(4), (int) v);
            } else if (k.startsWith("nmt.")) {
                categories.put(k.substring(4).replace('_', ' '), v);
            } else {
                rest.put(k, v);
            }
        }
        return new Snapshot(fds, rest.get("maps").intValue(), kernel, rest.get("nmt"), rest.get("nmtvolatile"),
                rest.get("nmtmalloc"), rest.get("malloc"), rest.get("heap"), categories);
    }

    /** @return NMT committed outside the {@link #NMT_VOLATILE} categories, -1 without NMT */
    public long nmtChecked() {
        return nmtCommitted < 0 ? -1 : nmtCommitted - nmtVolatile;
    }

    /** @return malloc in use by native code outside the JVM (JNA, libc): mallinfo2 minus NMT's malloc total */
    public long mallocOutsideJvm() {
        return nmtMalloc < 0 ? mallocInUse : mallocInUse - nmtMalloc;
    }

    /**
     * What differs between a baseline and this snapshot beyond the tolerances: any fd kind's count, any kernel
     * mapping kind's count; {@link #nmtChecked()}, {@link #mallocOutsideJvm()} or the Java heap used grown by more
     * than {@code tolerance}.
     *
     * @param base the baseline
     * @param tolerance allowed growth of the three memory figures
     * @return one line per difference; empty when this snapshot is back at the baseline
     */
    public List<String> differencesFrom(Snapshot base, Tolerance tolerance) {
        List<String> d = new ArrayList<>();
        compareCounts("open fds", base.fds, fds, d);
        compareCounts("mappings", base.kernelMaps, kernelMaps, d);
        if (nmtCommitted >= 0 && base.nmtCommitted >= 0
                && nmtChecked() - base.nmtChecked() > tolerance.nativeBytes()) {
            d.add("NMT committed outside the heap, GC and JIT grew by " + (nmtChecked() - base.nmtChecked())
                    + " bytes (limit " + tolerance.nativeBytes() + ")");
        }
        if (mallocOutsideJvm() - base.mallocOutsideJvm() > tolerance.nativeBytes()) {
            d.add("malloc outside the JVM grew by " + (mallocOutsideJvm() - base.mallocOutsideJvm())
                    + " bytes (limit " + tolerance.nativeBytes() + ")");
        }
        if (heapUsed - base.heapUsed > tolerance.heapBytes()) {
            d.add("Java heap used after GC grew by " + (heapUsed - base.heapUsed) + " bytes (limit "
                    + tolerance.heapBytes() + ")");
        }
        return d;
    }

    private static void compareCounts(String what, Map<String, Integer> base, Map<String, Integer> now,
            List<String> out) {
        Map<String, Integer> all = new TreeMap<>(base);
        now.keySet().forEach(k -> all.putIfAbsent(k, 0));
        for (String k : all.keySet()) {
            if (k.equals(JVM_FILE)) {
                continue;
            }
            int b = base.getOrDefault(k, 0);
            int n = now.getOrDefault(k, 0);
            if (b != n) {
                out.add(what + " of kind " + k + ": " + b + " at the baseline, " + n + " at the end");
            }
        }
    }

    /**
     * How much the memory figures may grow without the soak failing.
     *
     * @param nativeBytes {@link #nmtChecked()} and {@link #mallocOutsideJvm()}, each
     * @param heapBytes Java heap used after a full GC
     */
    public record Tolerance(long nativeBytes, long heapBytes) {
    }
}
