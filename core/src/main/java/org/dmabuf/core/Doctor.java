package org.dmabuf.core;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.DmaHeapUapi;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.NodeAccess;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UdmabufUapi;
import org.dmabuf.spi.MachineCheck;
import org.dmabuf.spi.MachineCheck.Finding;
import org.dmabuf.spi.MachineCheck.Status;

/**
 * The machine check: what this machine offers for allocating and sharing buffers, and what to do about what it
 * lacks. The core checks the kernel version ({@code uname -r}), each dma-heap (owner, group, mode; whether this
 * process can open it and allocate 4 KiB), udmabuf (its node, its {@code size_limit_mb}, a 4 KiB buffer made of a
 * sealed memfd), memfd sealing, and {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE} on a dma-buf it allocated; the
 * {@link MachineCheck}s given (the DRM and V4L2 exporters' checks) add their device nodes. The report lists every
 * finding, then what works, what does not, and what to do, one line each; {@code --json} prints the same as one
 * JSON object. Everything it allocates it releases before it returns.
 *
 * <p>The exit status is 0 when buffers can be allocated and shared at all (a sealed memfd counts), 1 when not, 2
 * for a bad argument. Text a driver or a file name brings is printed with control characters escaped, and JSON
 * strings are escaped as JSON requires.
 *
 * <p>Threads: stateless; any thread.
 */
public final class Doctor {
    private static final long PROBE_SIZE = 4096;
    private static final String HEAP_DIR = "/dev/dma_heap";
    private static final String UDMABUF = "/dev/udmabuf";
    private static final String UDMABUF_LIMIT = "/sys/module/udmabuf/parameters/size_limit_mb";

    private Doctor() {
    }

    /**
     * Runs the check with the {@link MachineCheck}s {@link ServiceLoader} finds on the class path (outside OSGi:
     * the exporter jars list theirs in {@code META-INF/services}).
     *
     * @param args {@code --json} for JSON; nothing else is accepted
     * @param out where the report goes
     * @return 0 if buffers can be allocated and shared, 1 if not, 2 for a bad argument
     */
    public static int run(List<String> args, PrintStream out) {
        return run(args, out, loadChecks());
    }

    /**
     * Runs the check with the given {@link MachineCheck}s (in OSGi: the services registered).
     *
     * @param args {@code --json} for JSON; nothing else is accepted
     * @param out where the report goes
     * @param checks the device checks, in the order to report them
     * @return 0 if buffers can be allocated and shared, 1 if not, 2 for a bad argument
     */
    public static int run(List<String> args, PrintStream out, List<? extends MachineCheck> checks) {
        boolean json = false;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else {
                out.println("doctor: unknown argument '" + safe(a) + "' (only --json)\nusage: doctor [--json]");
                return 2;
            }
        }
        List<Finding> findings = findings(checks);
        int status = allocatable(findings).isEmpty() ? 1 : 0;
        out.print(json ? json(findings, status) : text(findings, status));
        out.flush();
        return status;
    }

    /**
     * The {@link MachineCheck}s {@link ServiceLoader} finds with this class's class loader and the thread's context
     * class loader; a provider that cannot be loaded is left out.
     *
     * @return the checks, by area
     */
    static List<MachineCheck> loadChecks() {
        Map<String, MachineCheck> byClass = new LinkedHashMap<>();
        for (ClassLoader cl : new ClassLoader[] {Doctor.class.getClassLoader(),
            Thread.currentThread().getContextClassLoader()}) {
            if (cl == null) {
                continue;
            }
            var it = ServiceLoader.load(MachineCheck.class, cl).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    MachineCheck c = it.next();
                    byClass.putIfAbsent(c.getClass().getName(), c);
                } catch (ServiceConfigurationError | LinkageError e) {
                    // a provider whose classes are missing: the check is left out, the others run
                }
            }
        }
        List<MachineCheck> out = new ArrayList<>(byClass.values());
        out.sort(java.util.Comparator.comparing(MachineCheck::area));
        return out;
    }

    /**
     * Every finding: the core's, then each check's (a check that throws is a finding of its own).
     *
     * @param checks the device checks
     * @return the findings, in report order
     */
    static List<Finding> findings(List<? extends MachineCheck> checks) {
        List<Finding> out = new ArrayList<>();
        out.add(kernel());
        List<Fd> dmabufs = new ArrayList<>();
        try {
            out.addAll(heaps(dmabufs));
            out.add(udmabuf(dmabufs));
            out.add(memfd());
            out.add(syncFile(dmabufs));
        } finally {
            dmabufs.forEach(Fd::close);
        }
        if (checks.isEmpty()) {
            out.add(new Finding("devices", "DRM and V4L2", Status.ABSENT, "no device checks are installed",
                    Map.of(), "put the exporter jars (org.dmabuf.exporter.drm, org.dmabuf.exporter.v4l2) on the "
                            + "class path, or start their bundles"));
        }
        for (MachineCheck c : checks) {
            try {
                out.addAll(c.check());
            } catch (RuntimeException | LinkageError e) {
                out.add(new Finding(c.area(), c.area(), Status.FAILED, "the check failed: " + e, Map.of(),
                        "report this with the output of the check"));
            }
        }
        return out;
    }

    /** The findings of what can allocate a buffer another process can map: heaps, udmabuf, memfd. */
    private static List<Finding> allocatable(List<Finding> findings) {
        return findings.stream().filter(f -> f.status() == Status.OK && (f.area().equals("dma-heap")
                || f.area().equals("udmabuf") || f.area().equals("memfd"))).toList();
    }

    private static Finding kernel() {
        Map<String, String> facts = new LinkedHashMap<>();
        String release = read("/proc/sys/kernel/osrelease").orElse("unknown");
        facts.put("release", release);
        facts.put("version", read("/proc/sys/kernel/version").orElse("unknown"));
        // uname -m: /proc/sys/kernel/arch (Linux 6.1 and later); else the JVM's name for it
        facts.put("machine", read("/proc/sys/kernel/arch").orElse(System.getProperty("os.arch")));
        return new Finding("kernel", "kernel", Status.OK, "Linux " + release, facts, "");
    }

    private static List<Finding> heaps(List<Fd> dmabufs) {
        Path dir = Path.of(HEAP_DIR);
        if (!Files.isDirectory(dir)) {
            return List.of(new Finding("dma-heap", HEAP_DIR, Status.ABSENT,
                    "no dma-heaps: the kernel has no CONFIG_DMABUF_HEAPS", Map.of(),
                    "use a kernel with CONFIG_DMABUF_HEAPS_SYSTEM (and CONFIG_DMABUF_HEAPS_CMA for contiguous "
                            + "memory); until then udmabuf or sealed memfds serve"));
        }
        List<Path> nodes;
        try (Stream<Path> s = Files.list(dir)) {
            nodes = s.sorted().toList();
        } catch (IOException e) {
            return List.of(new Finding("dma-heap", HEAP_DIR, Status.FAILED, HEAP_DIR + " cannot be listed: " + e,
                    Map.of(), "let this user read " + HEAP_DIR));
        }
        if (nodes.isEmpty()) {
            return List.of(new Finding("dma-heap", HEAP_DIR, Status.ABSENT, "no heap in " + HEAP_DIR, Map.of(),
                    "enable CONFIG_DMABUF_HEAPS_SYSTEM or CONFIG_DMABUF_HEAPS_CMA in the kernel"));
        }
        NodeAccess.Credentials me = NodeAccess.Credentials.current();
        List<Finding> out = new ArrayList<>();
        for (Path node : nodes) {
            String path = node.toString();
            Map<String, String> facts = new LinkedHashMap<>();
            Optional<NodeAccess.Node> stat = NodeAccess.stat(path);
            stat.ifPresent(n -> facts.putAll(NodeAccess.facts(n, me)));
            try (Fd heap = Sys.open(path, LibC.O_RDONLY)) {
                facts.put("open", "yes");
                Fd buf = new Fd(DmaHeapUapi.alloc(heap.get(), PROBE_SIZE, LibC.O_RDWR | LibC.O_CLOEXEC, 0, path),
                        "dma-buf from " + path);
                dmabufs.add(buf);
                facts.put("alloc_4k", "yes");
                out.add(new Finding("dma-heap", path, Status.OK, "heap " + node.getFileName()
                        + " allocates (4 KiB tried)", facts, ""));
            } catch (LinuxException e) {
                boolean opened = "yes".equals(facts.get("open"));
                facts.put(opened ? "alloc_4k" : "open", e.errno());
                String summary = opened ? "cannot allocate: " + e.getMessage()
                        : NodeAccess.openFailure(e.errno(), me);
                out.add(new Finding("dma-heap", path, Status.FAILED, summary, facts, opened ? "check the heap's "
                        + "size (CMA: cma= on the kernel command line)"
                        : NodeAccess.openAdvice(stat, e.errnoValue(), me)));
            }
        }
        return out;
    }

    private static Finding udmabuf(List<Fd> dmabufs) {
        Map<String, String> facts = new LinkedHashMap<>();
        if (!Files.exists(Path.of(UDMABUF))) {
            return new Finding("udmabuf", UDMABUF, Status.ABSENT, "no udmabuf: the kernel has no CONFIG_UDMABUF",
                    facts, "use a kernel with CONFIG_UDMABUF (or a dma-heap); until then sealed memfds serve");
        }
        NodeAccess.Credentials me = NodeAccess.Credentials.current();
        Optional<NodeAccess.Node> stat = NodeAccess.stat(UDMABUF);
        stat.ifPresent(n -> facts.putAll(NodeAccess.facts(n, me)));
        Optional<String> limit = read(UDMABUF_LIMIT);
        facts.put("size_limit_mb", limit.orElse("unknown"));
        String limitText = limit.map(l -> ", at most " + l + " MiB a buffer").orElse("");
        try (Fd dev = Sys.open(UDMABUF, LibC.O_RDWR);
             Fd memfd = Sys.memfd("dmabuf-doctor", LibC.MFD_ALLOW_SEALING)) {
            facts.put("open", "yes");
            Sys.ftruncate(memfd.get(), PROBE_SIZE);
            Sys.fcntl(memfd.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
            dmabufs.add(new Fd(UdmabufUapi.create(dev.get(), memfd.get(), 0, PROBE_SIZE,
                    UdmabufUapi.UDMABUF_FLAGS_CLOEXEC, UDMABUF), "dma-buf from " + UDMABUF));
            facts.put("create_4k", "yes");
            return new Finding("udmabuf", UDMABUF, Status.OK, "udmabuf makes dma-bufs of sealed memfds (4 KiB "
                    + "tried)" + limitText, facts, "");
        } catch (LinuxException e) {
            boolean opened = "yes".equals(facts.get("open"));
            facts.put(opened ? "create_4k" : "open", e.errno());
            String summary = opened ? "cannot make a buffer: " + e.getMessage()
                    : NodeAccess.openFailure(e.errno(), me);
            return new Finding("udmabuf", UDMABUF, Status.FAILED, summary, facts, opened ? "see the error"
                    : NodeAccess.openAdvice(stat, e.errnoValue(), me));
        }
    }

    private static Finding memfd() {
        Map<String, String> facts = new LinkedHashMap<>();
        try (Fd m = Sys.memfd("dmabuf-doctor", LibC.MFD_ALLOW_SEALING)) {
            facts.put("memfd_create", "yes");
            Sys.ftruncate(m.get(), PROBE_SIZE);
            int want = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL;
            Sys.fcntl(m.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", want);
            int seals = Sys.fcntl(m.get(), LibC.F_GET_SEALS, "F_GET_SEALS", 0);
            boolean sealed = (seals & want) == want;
            facts.put("seals", sealed ? "shrink,grow,seal" : "0x" + Integer.toHexString(seals));
            return sealed
                    ? new Finding("memfd", "memfd", Status.OK, "sealed memfds work: buffers can be shared between "
                            + "processes (mapped by the CPU, not imported by devices)", facts, "")
                    : new Finding("memfd", "memfd", Status.FAILED, "memfd seals did not hold (F_GET_SEALS 0x"
                            + Integer.toHexString(seals) + ")", facts, "use a kernel with memfd sealing (3.17+)");
        } catch (LinuxException e) {
            facts.putIfAbsent("memfd_create", e.errno());
            return new Finding("memfd", "memfd", Status.FAILED, "memfd with seals fails: " + e.getMessage(), facts,
                    "use a kernel with memfd_create and sealing (3.17+), without a seccomp filter that denies it");
        }
    }

    private static Finding syncFile(List<Fd> dmabufs) {
        String subject = "DMA_BUF_IOCTL_EXPORT_SYNC_FILE";
        if (dmabufs.isEmpty()) {
            return new Finding("sync_file", subject, Status.ABSENT, "no dma-buf could be made here to try it on",
                    Map.of(), "fences fall back to CPU sync (DMA_BUF_IOCTL_SYNC); a dma-heap or udmabuf would let "
                            + "this be tried");
        }
        Fd buf = dmabufs.get(0);
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("tried_on", FdInfo.printable(buf.what()));
        try (Fd sync = DmaBufUapi.exportSyncFile(buf.get(), SyncDirection.READ_WRITE, buf.what())) {
            facts.put("export", "yes");
            return new Finding("sync_file", subject, Status.OK, "dma-buf fences can be exported as sync_files",
                    facts, "");
        } catch (LinuxException e) {
            facts.put("export", e.errno());
            return new Finding("sync_file", subject, Status.FAILED, "cannot export a sync_file: " + e.getMessage(),
                    facts, e.errnoValue() == Errno.ENOTTY ? "use kernel 6.0 or later for sync_file export; until "
                            + "then fences fall back to CPU sync (DMA_BUF_IOCTL_SYNC)" : "see the error");
        }
    }

    private static Optional<String> read(String file) {
        try {
            return Optional.of(Files.readString(Path.of(file), StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The report as text: every finding, then what works, what does not, and what to do. */
    static String text(List<Finding> findings, int status) {
        StringBuilder b = new StringBuilder("dmabuf-osgi machine check\n\n");
        for (Finding f : findings) {
            b.append(String.format("%-8s %-10s %s: %s%n", "[" + f.status() + "]", safe(f.area()), safe(f.subject()),
                    safe(f.summary())));
            if (!f.facts().isEmpty()) {
                StringBuilder facts = new StringBuilder();
                f.facts().forEach((k, v) -> facts.append(facts.length() == 0 ? "" : ", ").append(safe(k)).append('=')
                        .append(safe(v)));
                b.append("                    ").append(facts).append('\n');
            }
        }
        b.append("\nWhat works:\n");
        findings.stream().filter(f -> f.status() == Status.OK && !f.area().equals("kernel"))
                .forEach(f -> b.append("  ").append(line(f)).append('\n'));
        b.append("What does not:\n");
        findings.stream().filter(f -> f.status() != Status.OK)
                .forEach(f -> b.append("  ").append(line(f)).append('\n'));
        b.append("What to do:\n");
        findings.stream().filter(f -> f.status() != Status.OK && !f.advice().isEmpty())
                .forEach(f -> b.append("  ").append(safe(f.area())).append(' ').append(safe(f.subject()))
                        .append(": ").append(safe(f.advice())).append('\n'));
        List<Finding> ok = allocatable(findings);
        b.append('\n').append(status == 0 ? "Result: buffers can be allocated and shared (" + String.join(", ",
                ok.stream().map(f -> safe(f.area()) + " " + safe(f.subject())).toList()) + ")"
                : "Result: no way to allocate a shareable buffer works here").append("; exit status ").append(status)
                .append('\n');
        return b.toString();
    }

    private static String line(Finding f) {
        return safe(f.area()) + " " + safe(f.subject()) + ": " + safe(f.summary());
    }

    /** The report as one JSON object. */
    static String json(List<Finding> findings, int status) {
        StringBuilder b = new StringBuilder("{\"status\":").append(status).append(",\"shareable\":")
                .append(status == 0).append(",\"findings\":[");
        for (int i = 0; i < findings.size(); i++) {
            Finding f = findings.get(i);
            b.append(i == 0 ? "" : ",").append("{\"area\":").append(jsonString(f.area())).append(",\"subject\":")
                    .append(jsonString(f.subject())).append(",\"status\":").append(jsonString(f.status().name()))
                    .append(",\"summary\":").append(jsonString(f.summary())).append(",\"facts\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : f.facts().entrySet()) {
                b.append(first ? "" : ",").append(jsonString(e.getKey())).append(':').append(jsonString(e.getValue()));
                first = false;
            }
            b.append("},\"advice\":").append(jsonString(f.advice())).append('}');
        }
        return b.append("]}\n").toString();
    }

    /** A JSON string literal ({@link Json#string}). */
    static String jsonString(String s) {
        return Json.string(s);
    }

    /**
     * Text for a terminal: C0 and C1 control characters escaped ({@code \x1b}, {@code \x9b}), so no name a
     * driver or a file brings can move the cursor or change the terminal.
     *
     * @param s the text
     * @return it, printable
     */
    static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
