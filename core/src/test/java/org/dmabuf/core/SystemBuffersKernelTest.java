package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dmabuf.core.SystemBuffersTest.buffer;
import static org.dmabuf.core.SystemBuffersTest.dump;
import static org.dmabuf.core.SystemBuffersTest.holder;
import static org.dmabuf.core.SystemBuffersTest.list;
import static org.dmabuf.core.SystemBuffersTest.map;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.dmabuf.api.BufferId;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * System-wide accounting of a real system-heap dma-buf in the kernel guest: a Python process allocates it, names it
 * (a name that looks like fdinfo keys and a table line), makes a memfd, forks a child that maps both and closes its
 * fds; the dump's size, exp_name, name, holders and totals are checked against the kernel's own view (debugfs
 * bufinfo, the processes' fd folders and maps, whose dev and inode are stat's identity); then the parent closes its
 * dma-buf fd and the buffer is mapped only.
 */
@Tag("kernel")
class SystemBuffersKernelTest {
    @TempDir
    Path tmp;

    /** Allocates, names, forks; the child maps and closes; the parent closes its fd when told. */
    private static final String HOLDERS = String.join("\n",
            "import ctypes, fcntl, os, struct, sys",
            "size, name = int(sys.argv[1]), sys.argv[2].encode()",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "libc.mmap.restype = ctypes.c_void_p",
            "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,",
            "                      ctypes.c_long]",
            "heap = os.open('/dev/dma_heap/system', os.O_RDWR | os.O_CLOEXEC)",
            "data = bytearray(struct.pack('QIIQ', size, 0, os.O_RDWR | os.O_CLOEXEC, 0))",
            "fcntl.ioctl(heap, 0xc0184800, data, True)  # DMA_HEAP_IOCTL_ALLOC",
            "fd = struct.unpack('QIIQ', data)[1]",
            "os.close(heap)",
            "fcntl.ioctl(fd, 0x40086201, name + b'\\0')  # DMA_BUF_SET_NAME",
            "mfd = os.memfd_create('dump-memfd', os.MFD_CLOEXEC)",
            "os.ftruncate(mfd, 8192)",
            "r, w = os.pipe()",
            "child = os.fork()",
            "if child == 0:",
            "    os.close(w)",
            "    addr = libc.mmap(None, size, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED",
            "    if addr is None or addr == ctypes.c_void_p(-1).value:",
            "        os._exit(3)",
            "    os.close(fd)",
            "    if libc.mmap(None, 8192, 3, 1, mfd, 0) == ctypes.c_void_p(-1).value:",
            "        os._exit(3)",
            "    os.close(mfd)",
            "    ctypes.memset(addr, 7, size)",
            "    print('child', os.getpid(), flush=True)",
            "    os.read(r, 1)  # until the parent ends",
            "    os._exit(0)",
            "os.close(r)",
            "print('parent', os.getpid(), fd, mfd, flush=True)",
            "for line in sys.stdin:",
            "    os.close(fd)",
            "    print('closed', flush=True)",
            "os._exit(0)");

    @Test
    void aDmaBufHeldByFdInOneProcessAndOnlyMappedInAnotherIsAccountedAsTheKernelSaysWhereItIs() throws Exception {
        long size = 3 * 4096;
        String name = "d\nexp_name:\tx\n0:1/2 dmabuf 1 x"; // under DMA_BUF_NAME_LEN (32) with its NUL
        Path script = tmp.resolve("holders.py");
        Files.writeString(script, HOLDERS);
        Process python = new ProcessBuilder("python3", script.toString(), Long.toString(size), name)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(python.getInputStream(),
                StandardCharsets.UTF_8)); Writer toParent = python.outputWriter(StandardCharsets.UTF_8)) {
            long[] said = new long[4]; // parent, its dma-buf fd, child, its memfd fd
            for (int i = 0; i < 2; i++) {
                String[] w = in.readLine().split(" ");
                if (w[0].equals("parent")) {
                    said[0] = Long.parseLong(w[1]);
                    said[1] = Long.parseLong(w[2]);
                    said[3] = Long.parseLong(w[3]);
                } else {
                    said[2] = Long.parseLong(w[1]);
                }
            }
            long parent = said[0];
            int fd = (int) said[1];
            long child = said[2];
            int mfd = (int) said[3];
            assertThat(parent).isEqualTo(python.pid());

            // the kernel's view: identity from the parent's fd, the child's maps line, debugfs bufinfo
            Path fdPath = Path.of("/proc/" + parent + "/fd/" + fd);
            Map<String, Object> st = Files.readAttributes(fdPath, "unix:dev,ino");
            BufferId id = new BufferId((Long) st.get("dev"), (Long) st.get("ino"));
            String mapsLine = Files.readAllLines(Path.of("/proc/" + child + "/maps")).stream()
                    .filter(l -> l.contains("/dmabuf:")).findFirst().orElseThrow();
            Matcher m = Pattern.compile(
                    "^([0-9a-f]+)-([0-9a-f]+) \\S+ 0+ ([0-9a-f]+):([0-9a-f]+) (\\d+) +/dmabuf:(.*)$")
                    .matcher(mapsLine);
            assertThat(m.matches()).as(mapsLine).isTrue();
            assertThat(new BufferId(FileStat.dev(Integer.parseInt(m.group(3), 16), Integer.parseInt(m.group(4), 16)),
                    Long.parseLong(m.group(5)))).as("maps' dev and inode are stat's identity of the dma-buf")
                    .isEqualTo(id);
            assertThat(Long.parseLong(m.group(2), 16) - Long.parseLong(m.group(1), 16)).isEqualTo(size);
            assertThat(m.group(6)).as("the kernel escapes the newline in maps")
                    .isEqualTo("d\\012exp_name:\tx\\0120:1/2 dmabuf 1 x");
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + child + "/fd"))) {
                assertThat(fds.map(SystemBuffersKernelTest::link)).as("the child holds no dma-buf by fd")
                        .noneMatch(l -> l.startsWith("/dmabuf:"));
            }
            assertThat(TestSupport.bufinfoSize(id.inode())).as("debugfs bufinfo's size").isEqualTo(size);
            String bufinfo = Files.readString(Path.of("/sys/kernel/debug/dma_buf/bufinfo"));
            assertThat(bufinfo).as("debugfs bufinfo: exp_name, inode, and two references (an fd, a mapping)")
                    .containsPattern("(?m)^0*" + size + "\\t[0-9a-f]+\\t[0-9a-f]+\\t0*2\\tsystem\\t0*" + id.inode()
                            + "\\t");

            // a memfd too: the child's maps give the identity that stat of the parent's fd gives
            Map<String, Object> mst = Files.readAttributes(Path.of("/proc/" + parent + "/fd/" + mfd), "unix:dev,ino");
            BufferId memfd = new BufferId((Long) mst.get("dev"), (Long) mst.get("ino"));
            String memfdLine = Files.readAllLines(Path.of("/proc/" + child + "/maps")).stream()
                    .filter(l -> l.endsWith(" /memfd:dump-memfd (deleted)")).findFirst().orElseThrow();
            Matcher mm = Pattern.compile("^\\S+ \\S+ \\S+ ([0-9a-f]+):([0-9a-f]+) (\\d+) .*").matcher(memfdLine);
            assertThat(mm.matches()).as(memfdLine).isTrue();
            assertThat(new BufferId(FileStat.dev(Integer.parseInt(mm.group(1), 16), Integer.parseInt(mm.group(2), 16)),
                    Long.parseLong(mm.group(3)))).as("maps' dev and inode are stat's identity of the memfd")
                    .isEqualTo(memfd);

            SystemBuffers.Snapshot scan = SystemBuffers.scan(Path.of("/proc")); // one scan, read four ways
            Map<String, Object> doc = JsonReader.object(SystemBuffers.json(scan, 0));
            Map<String, Object> b = buffer(doc, id);
            assertThat(b).as("the dma-buf %s in %s", id, doc).isNotNull();
            assertThat(b).containsEntry("kind", "dmabuf").containsEntry("size", size)
                    .containsEntry("exp_name", "system").containsEntry("name", name)
                    .containsEntry("mapped_only", false).containsEntry("dev", id.dev())
                    .containsEntry("inode", id.inode());
            assertThat(list(b.get("holders"))).hasSize(2);
            assertThat(holder(b, parent)).containsEntry("fds", List.of((long) fd)).containsEntry("mapped_bytes", 0L)
                    .containsEntry("comm", "python3");
            assertThat(holder(b, child)).containsEntry("fds", List.of()).containsEntry("mapped_bytes", size)
                    .containsEntry("mappings", 1L);
            Map<String, Object> shared = buffer(doc, memfd);
            assertThat(shared).as("the shared memfd").isNotNull().containsEntry("kind", "memfd")
                    .containsEntry("size", 8192L).containsEntry("name", "dump-memfd")
                    .containsEntry("exp_name", "memfd");
            assertThat(holder(shared, parent)).containsEntry("fds", List.of((long) mfd));
            assertThat(holder(shared, child)).containsEntry("fds", List.of()).containsEntry("mapped_bytes", 8192L);
            Map<String, Object> totals = JsonReader.object(SystemBuffers.json(scan, (int) child));
            assertThat(list(totals.get("processes"))).singleElement().satisfies(p -> assertThat(map(p))
                    .containsEntry("buffers", 2L).containsEntry("fd_bytes", 0L)
                    .containsEntry("mapped_bytes", size + 8192).containsEntry("rss", size + 8192)
                    .containsEntry("pss", size / 2 + 4096));
            assertThat(list(totals.get("exporters"))).extracting(SystemBuffersTest::map).containsExactly(
                    Map.of("exp_name", "system", "buffers", 1L, "bytes", size),
                    Map.of("exp_name", "memfd", "buffers", 1L, "bytes", 8192L));
            assertThat(map(totals.get("total"))).containsEntry("buffers", 2L).containsEntry("bytes", size + 8192);
            Map<String, Object> ofParent = JsonReader.object(SystemBuffers.json(scan, (int) parent));
            assertThat(list(ofParent.get("processes"))).singleElement().satisfies(p -> assertThat(map(p))
                    .containsEntry("fd_bytes", size + 8192).containsEntry("mapped_bytes", 0L)
                    .containsEntry("pss", size / 2 + 4096));
            assertThat(doc.get("unreadable")).as("root reads every process").isEqualTo(List.of());
            long machine = list(doc.get("buffers")).stream().mapToLong(x -> (Long) map(x).get("size")).sum();
            assertThat(map(doc.get("total"))).containsEntry("bytes", machine);
            // every dma-buf of the machine, as bufinfo's total counts them: held by a process, or by no process
            // (kernel_only); a scan and the bufinfo read after it agree once no buffer is made or freed between them
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> {
                Map<String, Object> all = JsonReader.object(SystemBuffers.json(SystemBuffers.scan(Path.of("/proc")),
                        0));
                Matcher total = Pattern.compile("(?m)^Total (\\d+) objects, (\\d+) bytes$").matcher(
                        Files.readString(Path.of("/sys/kernel/debug/dma_buf/bufinfo")));
                assertThat(total.find()).isTrue();
                List<Map<String, Object>> dmabufs = list(all.get("buffers")).stream().map(SystemBuffersTest::map)
                        .filter(x -> "dmabuf".equals(x.get("kind"))).toList();
                Map<String, Object> kernelOnly = map(all.get("kernel_only"));
                assertThat(dmabufs.size() + (Long) kernelOnly.get("buffers")).as("bufinfo's objects")
                        .isEqualTo(Long.parseLong(total.group(1)));
                assertThat(dmabufs.stream().mapToLong(x -> (Long) x.get("size")).sum()
                        + (Long) kernelOnly.get("bytes")).as("bufinfo's bytes").isEqualTo(Long.parseLong(total.group(2)));
            });

            String table = SystemBuffers.table(scan, (int) child);
            assertThat(table.lines().filter(l -> l.startsWith("0:1/2 "))).as("no forged line:\n" + table).isEmpty();
            assertThat(table).contains(String.format("%-18s %s%n", "system",
                    "d\\x0aexp_name:\\x09x\\x0a0:1/2 dmabuf 1 x"))
                    .contains("    pid " + child + " (python3): mapped " + size + " bytes (1 mapping)\n");

            toParent.write("close\n");
            toParent.flush();
            assertThat(in.readLine()).isEqualTo("closed");
            Map<String, Object> mapped = buffer(dump(), id);
            assertThat(mapped).as("mapped only: size and exp_name from debugfs bufinfo, which root reads here")
                    .isNotNull().containsEntry("mapped_only", true).containsEntry("from_bufinfo", true)
                    .containsEntry("size", size).containsEntry("exp_name", "system").containsEntry("kind", "dmabuf");
            assertThat(list(mapped.get("holders"))).singleElement().satisfies(h -> assertThat(map(h))
                    .containsEntry("pid", child).containsEntry("mapped_bytes", size));
        } finally {
            python.getOutputStream().close();
            assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * Makes a vgem dumb buffer, exports it with PRIME and closes the fd: the DRM file keeps the dma-buf for the GEM
     * handle (its PRIME cache), so no process holds it by fd or mapping.
     */
    private static final String PRIME_KEPT = String.join("\n",
            "import fcntl, os, struct, sys",
            "card = os.open('/dev/dri/card0', os.O_RDWR | os.O_CLOEXEC)",
            "dumb = bytearray(struct.pack('IIIIIIQ', 64, 64, 32, 0, 0, 0, 0))",
            "fcntl.ioctl(card, 0xc02064b2, dumb, True)  # DRM_IOCTL_MODE_CREATE_DUMB",
            "handle, size = struct.unpack('IIIIIIQ', dumb)[4], struct.unpack('IIIIIIQ', dumb)[6]",
            "prime = bytearray(struct.pack('IIi', handle, os.O_RDWR | os.O_CLOEXEC, -1))",
            "fcntl.ioctl(card, 0xc00c642d, prime, True)  # DRM_IOCTL_PRIME_HANDLE_TO_FD",
            "fd = struct.unpack('IIi', prime)[2]",
            "ino = os.fstat(fd).st_ino",
            "os.close(fd)",
            "print(ino, size, flush=True)",
            "sys.stdin.read()");

    @Test
    void aDrmBufferWhosePrimeFdWasClosedIsCountedAsHeldByNoProcessAsBufinfoHasIt() throws Exception {
        Process python = new ProcessBuilder("python3", "-c", PRIME_KEPT).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            String[] said = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8))
                    .readLine().split(" ");
            long inode = Long.parseLong(said[0]);
            long size = Long.parseLong(said[1]);
            assertThat(TestSupport.bufinfoSize(inode)).as("bufinfo still lists the dma-buf").isEqualTo(size);
            SystemBuffers.Snapshot scan = SystemBuffers.scan(Path.of("/proc"));
            assertThat(scan.buffers()).as("no process holds it").noneMatch(b -> b.kind == SystemBuffers.Kind.DMABUF
                    && b.id.inode() == inode);
            assertThat(scan.kernelOnly()).isNotNull();
            assertThat(scan.kernelOnly().buffers()).isPositive();
            assertThat(scan.kernelOnly().bytes()).isGreaterThanOrEqualTo(size);
            assertThat(SystemBuffers.table(scan, 0)).containsPattern("Held by no process \\(debugfs bufinfo\\): "
                    + "[1-9][0-9]* dma-bufs, [0-9]+ bytes\n");
            python.getOutputStream().close(); // the process ends, its DRM file closes: the buffer goes
            assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(SystemBuffers.scan(Path.of("/proc")).kernelOnly().buffers())
                            .isEqualTo(scan.kernelOnly().buffers() - 1));
        } finally {
            python.getOutputStream().close();
            assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
            python.getInputStream().close();
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
