package org.dmabuf.core;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.dmabuf.api.BufferId;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.LinuxException;

/**
 * System-wide accounting of dma-bufs and shared memfds, as Android's {@code dmabuf_dump}: every process's
 * {@code /proc/PID/fd}, {@code /proc/PID/fdinfo} and {@code /proc/PID/maps} are read, and each buffer is listed
 * once with its size, {@code exp_name}, name and the processes that hold it, by fd (with the fd numbers) or by a
 * mapping (with the bytes mapped); then totals per process and per exporter, and a machine total that counts each
 * buffer once. {@link #run} prints a table or JSON; the gateway's {@code --dump} and the Gogo command
 * {@code dmabuf:dump} call it. It reads {@code /proc} only: it opens no buffer and needs no native call.
 *
 * <p><b>What is listed.</b> A dma-buf is a file whose {@code /proc/PID/fd} link reads {@code /dmabuf:NAME} (or
 * {@code anon_inode:dmabuf} on old kernels) and whose fdinfo has {@code exp_name:}, or a mapping whose path in
 * {@code maps} reads so. A memfd is a file whose link or mapping path reads {@code /memfd:NAME (deleted)}. Every
 * dma-buf is listed. A memfd is listed when it is <em>shared</em>, held (by fd or mapping) by two processes or
 * more, and also, held by one process alone, when its name starts with {@code dmabuf:} or {@code udmabuf:}: the
 * names of this project's sealed memfds (a buffer of the memfd exporter is one even before it is sent). Any process
 * may give a memfd such a name; it only gets the memfd listed. Other memfds held by one process are that process's
 * private memory (JIT code, shared-memory pools not yet shared) and are left out, as {@code dmabuf_dump} leaves out
 * everything that is not a dma-buf.
 *
 * <p><b>Identity</b> is ({@code st_dev}, {@code st_ino}) as {@code stat(2)} of {@code /proc/PID/fd/N} gives it;
 * for a mapping, the {@code dev} column of {@code maps} ({@code MAJOR:MINOR} in hex) encoded as glibc's
 * {@code makedev} ({@link FileStat#dev}) and the {@code inode} column: the same identity for the same file (the
 * kernel test checks it for dma-bufs and memfds). {@code dmabuf_dump} keys buffers by inode alone; here a dma-buf
 * and a memfd with the same inode number stay two buffers.
 *
 * <p><b>Sizes.</b> A dma-buf's size is fdinfo's {@code size:}; a memfd's is {@code st_size}. A buffer that no
 * process holds by fd (<em>mapped only</em>) has no fdinfo: its size is the end of the furthest mapping of it
 * ({@code offset + length}, at least the range mapped), its {@code exp_name} unknown (dma-buf) and its name the one
 * in the mapping's path (where the kernel writes a newline as {@code \012}). {@code dmabuf_dump} takes the size
 * and exporter of such a buffer from sysfs {@code /sys/kernel/dmabuf/buffers}, which Debian's kernels do not build
 * ({@code CONFIG_DMABUF_SYSFS_STATS} is deprecated); here they are marked {@code mapped_only}, and where debugfs
 * {@code dma_buf/bufinfo} can be read (root, debugfs mounted) a mapped-only dma-buf gets its exact size,
 * {@code exp_name} from the line of its inode ({@code from_bufinfo}); an inode that two lines claim (a
 * name with a newline can print a line) is not used.
 *
 * <p><b>Totals.</b> Per process, as {@code dmabuf_dump} prints them: {@code rss} is the size of every buffer the
 * process holds (by fd or mapping), {@code pss} the sum of each such buffer's size divided by the number of
 * processes that hold it (integer division per buffer, as {@code DmaBuffer::Pss}); also {@code fd_bytes} (the
 * size of the buffers it holds by fd) and {@code mapped_bytes} (the bytes of its mappings of them). Per exporter
 * ({@code exp_name}; {@code memfd} for memfds, {@code ?} for a mapped-only dma-buf): buffers and bytes. The machine
 * total counts each buffer once. The dma-bufs that no process holds (a DRM buffer's PRIME export kept by its GEM
 * handle, a buffer a driver keeps), which {@code dmabuf_dump} prints as {@code kernel_rss} from sysfs, are counted
 * from debugfs {@code bufinfo} where root can read it ({@code kernel_only}).
 *
 * <p><b>Processes that cannot be read</b> (another user's, as non-root: {@code EACCES}) are counted and named
 * (pid and comm) with a hint to run as root; kernel threads are left out (they hold no fd and map nothing).
 * Processes that end while the scan reads them ({@code ENOENT}, {@code ESRCH}) are counted as gone, and what was read of them is dropped. Neither is an error. An fd closed or
 * reused between its {@code stat} and its fdinfo (the fdinfo's {@code ino:} differs) is skipped.
 *
 * <p><b>Peer-controlled text</b> (buffer names, memfd names, comm) is printed through {@link FdInfo#printable} in
 * the table (a control character becomes {@code \xNN}, so that a name cannot start a line) and escaped as JSON
 * demands in JSON (so that it cannot end its string).
 *
 * <p><b>Compared with {@code dmabuf_dump}</b> (AOSP {@code system/memory/libmeminfo/libdmabufinfo}): the same
 * sources (fdinfo for fds, {@code maps} paths that start with {@code /dmabuf} for mappings) and the same
 * {@code rss}/{@code pss} per process; it prints each process's buffers in kB, here each buffer once with its
 * holders, in bytes, with fd numbers and mapped bytes where it counts fd and mapping references; its {@code -a}
 * (buffer by process grid) and {@code -b} (sysfs per-buffer and per-exporter stats) have no equivalent. Memfds are
 * this project's addition. A mapping whose file is not the dma-buf's (an exporter may map its own file in its
 * place) is not seen, by either.
 *
 * <p><b>Options</b>: {@code --json} prints JSON instead of the table; {@code --pid N} lists only the buffers that
 * process {@code N} holds (each still with all its holders, so that {@code pss} is the machine's) and that process's
 * totals; totals per exporter and the machine total are then of those buffers.
 *
 * <p><b>JSON</b> (one object; sizes in bytes; strings as the kernel gives them, JSON-escaped):
 * <pre>
 * {"version": 1,
 *  "pid": N or null,                                   the --pid filter
 *  "buffers": [{"id": "MAJOR:MINOR/INODE", "dev": st_dev, "inode": st_ino,
 *               "kind": "dmabuf" | "memfd", "size": N, "mapped_only": bool,
 *               "from_bufinfo": bool,                   size and exp_name of a mapped-only dma-buf from bufinfo
 *               "exp_name": "system" | "memfd" | null,  null: a mapped-only dma-buf bufinfo did not give
 *               "name": "...",                          "" when unnamed
 *               "holders": [{"pid": N, "comm": "...", "fds": [N, ...], "mapped_bytes": N, "mappings": N}]}],
 *  "processes": [{"pid": N, "comm": "...", "buffers": N, "fd_bytes": N, "mapped_bytes": N, "rss": N, "pss": N}],
 *  "exporters": [{"exp_name": "...", "buffers": N, "bytes": N}],
 *  "total": {"buffers": N, "bytes": N},
 *  "unreadable": [{"pid": N, "comm": "...", "error": "EACCES"}],
 *  "gone": [pid, ...],
 *  "kernel_only": {"buffers": N, "bytes": N} or null}  dma-bufs no process holds, from debugfs bufinfo (root)
 * </pre>
 *
 * <p>Stateless; any thread. A scan reads {@code /proc} on the caller's thread.
 */
public final class SystemBuffers {
    /** The JSON schema's version. */
    static final int VERSION = 1;
    private static final String USAGE = "usage: dump [--json] [--pid PID]";

    private SystemBuffers() {
    }

    /**
     * {@link #run} from the command line: {@code java -cp org.dmabuf.core.jar:org.dmabuf.api.jar:jna.jar
     * org.dmabuf.core.SystemBuffers [--json] [--pid PID]}.
     *
     * @param args {@code --json}, {@code --pid N}
     */
    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out));
    }

    /**
     * Scans the machine and prints what it holds.
     *
     * @param args {@code --json}, {@code --pid N}
     * @param out where the table or JSON goes (and the usage, for a bad argument)
     * @return 0, or 2 for a bad argument
     */
    public static int run(List<String> args, PrintStream out) {
        boolean json = false;
        int pid = -1;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--pid") && i + 1 == args.size()) {
                out.println("dump: --pid takes a process id\n" + USAGE);
                return 2;
            } else if (a.equals("--pid")) {
                try {
                    pid = Integer.parseInt(args.get(++i));
                } catch (NumberFormatException e) {
                    pid = 0;
                }
                if (pid <= 0) {
                    out.println("dump: --pid takes a process id, not '" + FdInfo.printable(args.get(i)) + "'\n"
                            + USAGE);
                    return 2;
                }
            } else {
                out.println("dump: unknown argument '" + FdInfo.printable(a) + "'\n" + USAGE);
                return 2;
            }
        }
        Snapshot s = scan(Path.of("/proc"));
        out.print(json ? json(s, pid) : table(s, pid));
        out.flush();
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ parsing

    /** What a buffer is: a dma-buf or a memfd. */
    enum Kind {
        DMABUF, MEMFD;

        String json() {
            return this == DMABUF ? "dmabuf" : "memfd";
        }
    }

    /**
     * A buffer named by an fd's link or a mapping's path.
     *
     * @param kind dma-buf or memfd
     * @param name the name in the path ({@code /dmabuf:NAME}, {@code /memfd:NAME (deleted)}), empty if none
     */
    record Target(Kind kind, String name) {
    }

    /**
     * What an fd link ({@code readlink /proc/PID/fd/N}) or a {@code maps} path names: {@code /dmabuf:NAME} and
     * {@code anon_inode:dmabuf} a dma-buf; {@code /memfd:NAME (deleted)} a memfd, whose name is what is between
     * (the kernel adds one {@code " (deleted)"}; a name that itself ends so keeps its own).
     *
     * @param link the link or path
     * @return the buffer it names, or null for any other file
     */
    static Target target(String link) {
        if (link.startsWith("/dmabuf:")) {
            return new Target(Kind.DMABUF, link.substring("/dmabuf:".length()));
        }
        if (link.equals("anon_inode:dmabuf")) {
            return new Target(Kind.DMABUF, "");
        }
        String deleted = " (deleted)";
        if (link.startsWith("/memfd:") && link.endsWith(deleted)
                && link.length() >= "/memfd:".length() + deleted.length()) {
            return new Target(Kind.MEMFD, link.substring("/memfd:".length(), link.length() - deleted.length()));
        }
        return null;
    }

    /**
     * One line of {@code /proc/PID/maps}: {@code START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]}.
     *
     * @param start first address
     * @param end address after the last
     * @param offset the file offset of {@code start}
     * @param id ({@code makedev(MAJOR, MINOR)}, {@code INODE}): the mapped file's identity
     * @param path the path as the kernel prints it (a newline in it as {@code \012}), empty if none
     */
    record MapsLine(long start, long end, long offset, BufferId id, String path) {
        /** The bytes mapped. */
        long length() {
            return end - start;
        }
    }

    /**
     * Parses one line of {@code /proc/PID/maps}.
     *
     * @param line the line, without its newline
     * @return the line, or null if it is not one the kernel writes
     */
    static MapsLine parseMaps(String line) {
        String[] f = new String[5];
        int pos = 0;
        for (int i = 0; i < 5; i++) {
            int sp = line.indexOf(' ', pos);
            if (sp < 0) {
                if (i < 4) {
                    return null;
                }
                sp = line.length();
            }
            f[i] = line.substring(pos, sp);
            pos = Math.min(sp + 1, line.length());
        }
        while (pos < line.length() && line.charAt(pos) == ' ') {
            pos++;
        }
        int dash = f[0].indexOf('-');
        int colon = f[3].indexOf(':');
        if (dash < 0 || colon < 0) {
            return null;
        }
        try {
            long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
            long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
            long offset = Long.parseUnsignedLong(f[2], 16);
            int major = Integer.parseUnsignedInt(f[3].substring(0, colon), 16);
            int minor = Integer.parseUnsignedInt(f[3].substring(colon + 1), 16);
            long inode = Long.parseUnsignedLong(f[4]);
            if (Long.compareUnsigned(end, start) < 0) {
                return null;
            }
            return new MapsLine(start, end, offset, new BufferId(FileStat.dev(major, minor), inode),
                    line.substring(pos));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------------- model

    /** What one process holds of one buffer. Mutable while a scan runs, then read only. */
    static final class Holder {
        final int pid;
        final List<Integer> fds = new ArrayList<>();
        long mappedBytes;
        int mappings;

        Holder(int pid) {
            this.pid = pid;
        }
    }

    /** One buffer and its holders. Mutable while a scan runs, then read only. */
    static final class Buffer {
        final BufferId id;
        final Kind kind;
        /** Bytes: from fdinfo or stat once an fd was seen, else the furthest mapping's end. */
        long size;
        /** No process holds it by fd: only what maps says is known. */
        boolean mappedOnly = true;
        /** {@code exp_name}, or null while unknown. */
        String expName;
        /** A mapped-only dma-buf whose size, exp_name and name came from debugfs {@code bufinfo}. */
        boolean fromBufinfo;
        String name;
        /** By pid, ascending. */
        final Map<Integer, Holder> holders = new TreeMap<>();

        Buffer(BufferId id, Kind kind, String name) {
            this.id = id;
            this.kind = kind;
            this.name = name;
            this.expName = kind == Kind.MEMFD ? "memfd" : null;
        }

        Holder holder(int pid) {
            return holders.computeIfAbsent(pid, Holder::new);
        }

        /** A process's share: size divided by the number of holders, as {@code dmabuf_dump}'s PSS. */
        long pss() {
            return size / holders.size();
        }
    }

    /**
     * A process that could not be read.
     *
     * @param pid its id
     * @param error the errno's name ({@code EACCES}) or the error's text
     */
    record Unreadable(int pid, String error) {
    }

    /**
     * The result of one scan.
     *
     * @param buffers what is listed (dma-bufs, shared memfds, the project's memfds), largest first
     * @param comms each holder's and unreadable process's {@code comm}, by pid
     * @param unreadable the processes that could not be read, by pid
     * @param gone the processes that ended while read
     * @param kernelOnly the dma-bufs debugfs {@code bufinfo} lists that no process holds, or null where
     *        {@code bufinfo} cannot be read
     */
    record Snapshot(List<Buffer> buffers, Map<Integer, String> comms, List<Unreadable> unreadable,
            List<Integer> gone, KernelOnly kernelOnly) {
        Snapshot(List<Buffer> buffers, Map<Integer, String> comms, List<Unreadable> unreadable, List<Integer> gone) {
            this(buffers, comms, unreadable, gone, null);
        }
    }

    /**
     * The dma-bufs that no process holds by fd or mapping, as {@code dmabuf_dump}'s {@code kernel_rss}: a DRM
     * buffer's PRIME export kept by its GEM handle, a buffer a driver holds. Counted from debugfs {@code bufinfo}:
     * its lines whose inode no process's fd or mapping has.
     *
     * @param buffers how many
     * @param bytes their sizes' sum
     */
    record KernelOnly(int buffers, long bytes) {
    }

    /**
     * The dma-bufs of {@code bufinfo} that none of the buffers found in processes is.
     *
     * @param lines {@link #parseBufinfo}
     * @param found the buffers found in processes
     * @return their count and bytes
     */
    static KernelOnly kernelOnly(Map<Long, BufinfoLine> lines, java.util.Collection<Buffer> found) {
        java.util.Set<Long> held = new java.util.HashSet<>();
        for (Buffer b : found) {
            if (b.kind == Kind.DMABUF) {
                held.add(b.id.inode());
            }
        }
        int n = 0;
        long bytes = 0;
        for (BufinfoLine l : lines.values()) {
            if (!held.contains(l.inode())) {
                n++;
                bytes += l.size();
            }
        }
        return new KernelOnly(n, bytes);
    }

    // ---------------------------------------------------------------------------------------------------- scan

    /** Thrown inside a scan when the process went away. */
    private static final class Gone extends Exception {
        private static final long serialVersionUID = 1L;

        Gone() {
            super(null, null, false, false);
        }
    }

    /**
     * Reads every process under {@code proc}.
     *
     * @param proc the proc filesystem's mount ({@code /proc})
     * @return what it holds
     */
    static Snapshot scan(Path proc) {
        Map<BufferId, Buffer> buffers = new LinkedHashMap<>();
        List<Unreadable> unreadable = new ArrayList<>();
        List<Integer> gone = new ArrayList<>();
        for (int pid : pids(proc)) {
            Path dir = proc.resolve(Integer.toString(pid));
            String denied = null;
            try {
                denied = scanFds(dir, pid, buffers);
                String maps = scanMaps(dir, pid, buffers);
                denied = denied != null ? denied : maps;
            } catch (Gone e) {
                gone.add(pid);
                // what it held a moment ago is not held now: its fds were read before it ended
                buffers.values().forEach(b -> b.holders.remove(pid));
                buffers.values().removeIf(b -> b.holders.isEmpty());
                continue;
            }
            if (denied != null && !kernelThread(dir)) { // a kernel thread holds no fd and maps nothing
                unreadable.add(new Unreadable(pid, denied));
            }
        }
        String bufinfo = readBufinfo(BUFINFO); // read after the processes: a buffer made meanwhile counts as kernel-only
        completeFromBufinfo(buffers.values(), bufinfo);
        KernelOnly kernelOnly = bufinfo.isEmpty() ? null : kernelOnly(parseBufinfo(bufinfo), buffers.values());
        List<Buffer> listed = new ArrayList<>();
        for (Buffer b : buffers.values()) {
            if (b.kind == Kind.DMABUF || b.holders.size() >= 2 || b.name.startsWith("dmabuf:")
                    || b.name.startsWith("udmabuf:")) {
                listed.add(b);
            }
        }
        listed.sort(Comparator.comparingLong((Buffer b) -> -b.size).thenComparing(b -> b.id.dev())
                .thenComparing(b -> b.id.inode()));
        Map<Integer, String> comms = new TreeMap<>();
        for (Buffer b : listed) {
            for (int pid : b.holders.keySet()) {
                comms.computeIfAbsent(pid, p -> comm(proc, p));
            }
        }
        for (Unreadable u : unreadable) {
            comms.computeIfAbsent(u.pid(), p -> comm(proc, p));
        }
        return new Snapshot(listed, comms, unreadable, gone, kernelOnly);
    }

    /** Debugfs's list of every dma-buf, readable by root where debugfs is mounted. */
    static final Path BUFINFO = Path.of("/sys/kernel/debug/dma_buf/bufinfo");

    /**
     * One buffer's line of debugfs {@code bufinfo}, as the kernel's {@code dma_buf_debug_show} prints it:
     * {@code size flags mode count exp_name ino name}, tab-separated, size and inode in decimal.
     *
     * @param size bytes
     * @param expName the exporter's name
     * @param inode the buffer's inode on the dma-buf filesystem
     * @param name its name, {@code <none>} when unnamed
     */
    record BufinfoLine(long size, String expName, long inode, String name) {
    }

    /** Reads {@code bufinfo}: its text, or an empty string where it cannot be read (not root, no debugfs). */
    private static String readBufinfo(Path path) {
        try {
            return new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
        } catch (IOException | SecurityException e) {
            return "";
        }
    }

    /**
     * Parses debugfs {@code bufinfo}'s buffer lines, keyed by inode. A buffer's name is the one field a process
     * controls, and a name with a newline can print a line of its own: an inode that more than one line claims is
     * left out, since the kernel prints one line per buffer and a forged line cannot take the real one's place.
     *
     * @param text the file's text
     * @return the lines, by inode
     */
    static Map<Long, BufinfoLine> parseBufinfo(String text) {
        Map<Long, BufinfoLine> lines = new java.util.HashMap<>();
        java.util.Set<Long> claimed = new java.util.HashSet<>();
        for (String line : text.split("\n")) {
            String[] f = line.split("\t", 7);
            if (f.length < 7 || f[0].isEmpty() || !f[0].chars().allMatch(c -> c >= '0' && c <= '9')) {
                continue;
            }
            try {
                long size = Long.parseLong(f[0]);
                long inode = Long.parseLong(f[5]);
                if (!claimed.add(inode)) {
                    lines.remove(inode);
                    continue;
                }
                lines.put(inode, new BufinfoLine(size, f[4], inode, f[6]));
            } catch (NumberFormatException e) {
                // not a buffer's line
            }
        }
        return lines;
    }

    /**
     * Gives mapped-only dma-bufs the size and exp_name that debugfs {@code bufinfo} has for their inode (all dma-bufs
     * live on one filesystem, so the inode names one buffer). The name stays the one in the mapping's path, which
     * the kernel prints whole (a newline as {@code \012}).
     */
    static void completeFromBufinfo(java.util.Collection<Buffer> buffers, String bufinfo) {
        if (bufinfo.isEmpty()) {
            return;
        }
        Map<Long, BufinfoLine> lines = parseBufinfo(bufinfo);
        for (Buffer b : buffers) {
            BufinfoLine l = b.mappedOnly && b.kind == Kind.DMABUF ? lines.get(b.id.inode()) : null;
            if (l != null && l.size() >= b.size) {
                b.size = l.size();
                b.expName = l.expName();
                b.fromBufinfo = true; // the name stays the mapping's: bufinfo cuts a name at its first newline
            }
        }
    }

    /** The numeric entries of {@code /proc}, ascending. */
    private static List<Integer> pids(Path proc) {
        TreeSet<Integer> pids = new TreeSet<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(proc)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(c -> c >= '0' && c <= '9') && n.length() < 10) {
                    pids.add(Integer.parseInt(n));
                }
            }
        } catch (IOException e) {
            throw new LinuxException("opendir", proc.toString(), errno(e));
        }
        return new ArrayList<>(pids);
    }

    /**
     * Reads a process's fds: the link of each, then for a buffer its {@code stat} and, for a dma-buf, its fdinfo.
     *
     * @return the errno's name if the fd folder could not be read, else null
     * @throws Gone if the process ended
     */
    private static String scanFds(Path dir, int pid, Map<BufferId, Buffer> buffers) throws Gone {
        Path fdDir = dir.resolve("fd");
        List<Path> fds = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(fdDir)) {
            s.forEach(fds::add);
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            IOException io = e instanceof IOException x ? x : ((java.nio.file.DirectoryIteratorException) e).getCause();
            if (isGone(io)) {
                throw new Gone();
            }
            return errnoName(io);
        }
        for (Path link : fds) {
            int fd;
            try {
                fd = Integer.parseInt(link.getFileName().toString());
            } catch (NumberFormatException e) {
                continue;
            }
            try {
                Target t = target(Files.readSymbolicLink(link).toString());
                if (t == null) {
                    continue;
                }
                Map<String, Object> st = Files.readAttributes(link, "unix:dev,ino,size");
                BufferId id = new BufferId((Long) st.get("dev"), (Long) st.get("ino"));
                long size = (Long) st.get("size");
                FdInfo info = null;
                if (t.kind() == Kind.DMABUF) {
                    info = FdInfo.parse(new String(Files.readAllBytes(dir.resolve("fdinfo").resolve(
                            link.getFileName().toString())), StandardCharsets.UTF_8));
                    if (!info.isDmaBuf() || info.inode() != 0 && info.inode() != id.inode()) {
                        continue; // not a dma-buf after all, or the fd was closed and reused meanwhile
                    }
                }
                Buffer b = buffers.computeIfAbsent(id, k -> new Buffer(k, t.kind(), t.name()));
                if (b.kind != t.kind()) {
                    continue;
                }
                if (b.mappedOnly) {
                    b.mappedOnly = false;
                    b.size = info != null ? info.size() : size;
                    if (info != null) {
                        b.expName = info.expName();
                        b.name = info.name();
                    } else {
                        b.name = t.name();
                    }
                }
                b.holder(pid).fds.add(fd);
            } catch (IOException | LinuxException | java.nio.file.InvalidPathException e) {
                // the fd was closed meanwhile (ENOENT), or its text is not the kernel's: skip it
            }
        }
        return null;
    }

    /**
     * Reads a process's mappings of buffers.
     *
     * @return the errno's name if maps could not be read, else null
     * @throws Gone if the process ended
     */
    private static String scanMaps(Path dir, int pid, Map<BufferId, Buffer> buffers) throws Gone {
        byte[] text;
        try {
            text = Files.readAllBytes(dir.resolve("maps"));
        } catch (IOException e) {
            if (isGone(e)) {
                throw new Gone();
            }
            return errnoName(e);
        }
        for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
            // a cheap test first: most mappings are of libraries and anonymous memory
            if (line.indexOf("/dmabuf:") < 0 && line.indexOf("/memfd:") < 0 && line.indexOf("anon_inode:dmabuf") < 0) {
                continue;
            }
            MapsLine m = parseMaps(line);
            Target t = m == null ? null : target(m.path());
            if (t == null) {
                continue;
            }
            Buffer b = buffers.computeIfAbsent(m.id(), k -> new Buffer(k, t.kind(), t.name()));
            if (b.kind != t.kind()) {
                continue;
            }
            if (b.mappedOnly) {
                b.size = Math.max(b.size, m.offset() + m.length());
            }
            Holder h = b.holder(pid);
            h.mappedBytes += m.length();
            h.mappings++;
        }
        return null;
    }

    /** Whether an error means that the process (or its fd) is gone: ENOENT, ESRCH. */
    private static boolean isGone(IOException e) {
        return e instanceof NoSuchFileException || e instanceof FileSystemException f && f.getReason() != null
                && f.getReason().contains("No such process");
    }

    private static String errnoName(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "EACCES";
        }
        return e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.toString();
    }

    private static int errno(IOException e) {
        return e instanceof AccessDeniedException ? org.dmabuf.linux.Errno.EACCES
                : e instanceof NoSuchFileException ? org.dmabuf.linux.Errno.ENOENT : org.dmabuf.linux.Errno.EIO;
    }

    /** A process's {@code comm} (what it calls itself: peer-controlled), or {@code ?} if it is gone. */
    /** {@code PF_KTHREAD}, in the flags of {@code /proc/PID/stat}. */
    private static final long PF_KTHREAD = 0x00200000L;

    /**
     * Whether a process is a kernel thread: its {@code /proc/PID/stat} flags (field 9, readable by anyone) have
     * {@code PF_KTHREAD}. Kernel threads have no fd table of their own and no user mappings, so a scan that cannot
     * read them misses nothing; they are not named as unreadable.
     */
    static boolean kernelThread(Path dir) {
        try {
            String stat = new String(Files.readAllBytes(dir.resolve("stat")), StandardCharsets.UTF_8);
            return kernelThread(stat);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether a {@code /proc/PID/stat} line is a kernel thread's. The command name (field 2) is in parentheses and
     * may hold spaces and parentheses itself: the fields are counted after the last {@code ')'}.
     */
    static boolean kernelThread(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return false;
        }
        String[] f = stat.substring(close + 1).trim().split(" ");
        try {
            return f.length > 6 && (Long.parseUnsignedLong(f[6]) & PF_KTHREAD) != 0; // state ppid pgrp ... flags
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String comm(Path proc, int pid) {
        try {
            String c = new String(Files.readAllBytes(proc.resolve(Integer.toString(pid)).resolve("comm")),
                    StandardCharsets.UTF_8);
            return c.endsWith("\n") ? c.substring(0, c.length() - 1) : c;
        } catch (IOException e) {
            return "?";
        }
    }

    // ------------------------------------------------------------------------------------------------- totals

    /**
     * One process's totals.
     *
     * @param pid its id
     * @param buffers the buffers it holds
     * @param fdBytes the size of the buffers it holds by fd
     * @param mappedBytes the bytes it maps of them
     * @param rss the size of every buffer it holds, by fd or mapping
     * @param pss each buffer's size divided by its number of holders, summed
     */
    record ProcessTotal(int pid, int buffers, long fdBytes, long mappedBytes, long rss, long pss) {
    }

    /**
     * One exporter's totals.
     *
     * @param expName its {@code exp_name}, {@code ?} for mapped-only dma-bufs
     * @param buffers how many
     * @param bytes their sizes, each buffer once
     */
    record ExporterTotal(String expName, int buffers, long bytes) {
    }

    /** The buffers shown: all, or those the pid holds. */
    static List<Buffer> shown(Snapshot s, int pid) {
        return pid <= 0 ? s.buffers() : s.buffers().stream().filter(b -> b.holders.containsKey(pid)).toList();
    }

    /** Per-process totals of the buffers shown, largest PSS first (of the pid alone when filtered). */
    static List<ProcessTotal> processes(List<Buffer> buffers, int pid) {
        Map<Integer, long[]> t = new TreeMap<>(); // buffers, fd bytes, mapped bytes, rss, pss
        for (Buffer b : buffers) {
            for (Holder h : b.holders.values()) {
                if (pid > 0 && h.pid != pid) {
                    continue;
                }
                long[] v = t.computeIfAbsent(h.pid, p -> new long[5]);
                v[0]++;
                v[1] += h.fds.isEmpty() ? 0 : b.size;
                v[2] += h.mappedBytes;
                v[3] += b.size;
                v[4] += b.pss();
            }
        }
        List<ProcessTotal> r = new ArrayList<>();
        t.forEach((p, v) -> r.add(new ProcessTotal(p, (int) v[0], v[1], v[2], v[3], v[4])));
        r.sort(Comparator.comparingLong((ProcessTotal p) -> -p.pss()).thenComparingInt(ProcessTotal::pid));
        return r;
    }

    /** Per-exporter totals, largest first. */
    static List<ExporterTotal> exporters(List<Buffer> buffers) {
        Map<String, long[]> t = new TreeMap<>();
        for (Buffer b : buffers) {
            long[] v = t.computeIfAbsent(b.expName == null ? "?" : b.expName, e -> new long[2]);
            v[0]++;
            v[1] += b.size;
        }
        List<ExporterTotal> r = new ArrayList<>();
        t.forEach((e, v) -> r.add(new ExporterTotal(e, (int) v[0], v[1])));
        r.sort(Comparator.comparingLong((ExporterTotal e) -> -e.bytes()).thenComparing(ExporterTotal::expName));
        return r;
    }

    // -------------------------------------------------------------------------------------------------- table

    /**
     * The readable table: buffers (each with a line per holder), then per-process totals, per-exporter totals, the
     * machine total, and the processes that could not be read.
     *
     * @param s a scan
     * @param pid a process to show alone, or 0 or less for all
     * @return the text, lines ending with a newline
     */
    static String table(Snapshot s, int pid) {
        List<Buffer> buffers = shown(s, pid);
        StringBuilder b = new StringBuilder();
        b.append(pid > 0 ? "dma-bufs and shared memfds held by pid " + pid + "\n"
                : "dma-bufs and shared memfds\n");
        b.append(String.format("%-16s %-6s %12s %-18s %s%n", "ID", "KIND", "SIZE", "EXP_NAME", "NAME"));
        for (Buffer buf : buffers) {
            b.append(String.format("%-16s %-6s %12d %-18s %s%s%n", buf.id, buf.kind.json(), buf.size,
                    buf.expName == null ? "?" : FdInfo.printable(buf.expName),
                    buf.name.isEmpty() ? "<none>" : FdInfo.printable(buf.name),
                    !buf.mappedOnly ? "" : buf.fromBufinfo ? "  (mapped only: size and exp_name from debugfs bufinfo)"
                        : "  (mapped only: size at least the mapped range)"));
            for (Holder h : buf.holders.values()) {
                StringBuilder l = new StringBuilder("    pid ").append(h.pid).append(" (")
                        .append(FdInfo.printable(s.comms().getOrDefault(h.pid, "?"))).append("):");
                if (!h.fds.isEmpty()) {
                    l.append(" fd ").append(String.join(",", h.fds.stream().map(String::valueOf).toList()));
                }
                if (h.mappings > 0) {
                    l.append(h.fds.isEmpty() ? "" : ";").append(" mapped ").append(h.mappedBytes).append(" bytes (")
                            .append(h.mappings).append(h.mappings == 1 ? " mapping)" : " mappings)");
                }
                b.append(l).append('\n');
            }
        }
        if (buffers.isEmpty()) {
            b.append("    (none)\n");
        }
        b.append("\nper process\n");
        b.append(String.format("%8s %-16s %7s %12s %12s %12s %12s%n", "PID", "COMM", "BUFFERS", "FD_BYTES",
                "MAPPED", "RSS", "PSS"));
        for (ProcessTotal p : processes(buffers, pid)) {
            b.append(String.format("%8d %-16s %7d %12d %12d %12d %12d%n", p.pid(),
                    FdInfo.printable(s.comms().getOrDefault(p.pid(), "?")), p.buffers(), p.fdBytes(),
                    p.mappedBytes(), p.rss(), p.pss()));
        }
        b.append("\nper exporter\n");
        b.append(String.format("%-18s %7s %12s%n", "EXP_NAME", "BUFFERS", "BYTES"));
        long total = 0;
        for (ExporterTotal e : exporters(buffers)) {
            b.append(String.format("%-18s %7d %12d%n", FdInfo.printable(e.expName()), e.buffers(), e.bytes()));
            total += e.bytes();
        }
        b.append("\nTotal ").append(buffers.size()).append(" buffers, ").append(total)
                .append(" bytes (each buffer once)\n");
        if (pid <= 0 && s.kernelOnly() != null) {
            b.append("Held by no process (debugfs bufinfo): ").append(s.kernelOnly().buffers()).append(" dma-bufs, ")
                    .append(s.kernelOnly().bytes()).append(" bytes\n");
        } else if (pid <= 0) {
            b.append("dma-bufs held by no process: not counted (debugfs dma_buf/bufinfo cannot be read: run as root "
                    + "with debugfs mounted)\n");
        }
        if (!s.unreadable().isEmpty()) {
            b.append(s.unreadable().size()).append(" processes could not be read (run as root to see every process):");
            for (Unreadable u : s.unreadable()) {
                b.append(' ').append(u.pid()).append('(').append(FdInfo.printable(s.comms().getOrDefault(u.pid(),
                        "?"))).append(')');
            }
            b.append('\n');
        }
        if (!s.gone().isEmpty()) {
            b.append(s.gone().size()).append(" processes ended while read\n");
        }
        return b.toString();
    }

    // --------------------------------------------------------------------------------------------------- JSON

    /**
     * The JSON document of the class comment.
     *
     * @param s a scan
     * @param pid a process to show alone, or 0 or less for all
     * @return the document and a newline
     */
    static String json(Snapshot s, int pid) {
        List<Buffer> buffers = shown(s, pid);
        StringBuilder j = new StringBuilder(256 + 256 * buffers.size());
        j.append("{\"version\":").append(VERSION).append(",\"pid\":").append(pid > 0 ? Integer.toString(pid) : "null");
        j.append(",\"buffers\":[");
        String sep = "";
        for (Buffer b : buffers) {
            j.append(sep).append("{\"id\":");
            string(j, b.id.toString());
            j.append(",\"dev\":").append(b.id.dev()).append(",\"inode\":").append(b.id.inode())
                    .append(",\"kind\":\"").append(b.kind.json()).append("\",\"size\":").append(b.size)
                    .append(",\"mapped_only\":").append(b.mappedOnly)
                    .append(",\"from_bufinfo\":").append(b.fromBufinfo).append(",\"exp_name\":");
            if (b.expName == null) {
                j.append("null");
            } else {
                string(j, b.expName);
            }
            j.append(",\"name\":");
            string(j, b.name);
            j.append(",\"holders\":[");
            String hs = "";
            for (Holder h : b.holders.values()) {
                j.append(hs).append("{\"pid\":").append(h.pid).append(",\"comm\":");
                string(j, s.comms().getOrDefault(h.pid, "?"));
                j.append(",\"fds\":[").append(String.join(",", h.fds.stream().map(String::valueOf).toList()))
                        .append("],\"mapped_bytes\":").append(h.mappedBytes).append(",\"mappings\":")
                        .append(h.mappings).append('}');
                hs = ",";
            }
            j.append("]}");
            sep = ",";
        }
        j.append("],\"processes\":[");
        sep = "";
        for (ProcessTotal p : processes(buffers, pid)) {
            j.append(sep).append("{\"pid\":").append(p.pid()).append(",\"comm\":");
            string(j, s.comms().getOrDefault(p.pid(), "?"));
            j.append(",\"buffers\":").append(p.buffers()).append(",\"fd_bytes\":").append(p.fdBytes())
                    .append(",\"mapped_bytes\":").append(p.mappedBytes()).append(",\"rss\":").append(p.rss())
                    .append(",\"pss\":").append(p.pss()).append('}');
            sep = ",";
        }
        j.append("],\"exporters\":[");
        sep = "";
        long total = 0;
        for (ExporterTotal e : exporters(buffers)) {
            j.append(sep).append("{\"exp_name\":");
            string(j, e.expName());
            j.append(",\"buffers\":").append(e.buffers()).append(",\"bytes\":").append(e.bytes()).append('}');
            total += e.bytes();
            sep = ",";
        }
        j.append("],\"total\":{\"buffers\":").append(buffers.size()).append(",\"bytes\":").append(total)
                .append("},\"unreadable\":[");
        sep = "";
        for (Unreadable u : s.unreadable()) {
            j.append(sep).append("{\"pid\":").append(u.pid()).append(",\"comm\":");
            string(j, s.comms().getOrDefault(u.pid(), "?"));
            j.append(",\"error\":");
            string(j, u.error());
            j.append('}');
            sep = ",";
        }
        j.append("],\"gone\":[").append(String.join(",", s.gone().stream().map(String::valueOf).toList()))
                .append("],\"kernel_only\":");
        if (s.kernelOnly() == null) {
            j.append("null");
        } else {
            j.append("{\"buffers\":").append(s.kernelOnly().buffers()).append(",\"bytes\":")
                    .append(s.kernelOnly().bytes()).append('}');
        }
        j.append("}\n");
        return j.toString();
    }

    /** Appends a JSON string literal ({@link Json#string}). */
    static void string(StringBuilder j, String text) {
        j.append(Json.string(text));
    }
}
