package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dmabuf.api.BufferId;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Test;

/**
 * System-wide accounting on the host: the parsers of {@code maps} lines, fd links and fdinfo; names that try to
 * forge a line of the table or a key of the JSON; and a real memfd held by this JVM by fd and by a child process
 * only through a mapping.
 */
class SystemBuffersTest {
    @Test
    void dmaBufsBufinfoListsAndNoProcessHoldsAreCountedAsKernelOnly() {
        String bufinfo = "\nDma-buf Objects:\n"
                + "size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n"
                + "00012288\t00000002\t00080007\t00000002\tsystem\t00000006\tframe\n"
                + "\tAttached Devices:\nTotal 0 devices attached\n\n"
                + "00004096\t00000002\t00080007\t00000001\tdrm\t00000009\t<none>\n"
                + "\tAttached Devices:\nTotal 0 devices attached\n\n"
                + "00008192\t00000002\t00080007\t00000001\tvideobuf2_vmalloc\t00000010\t<none>\n"
                + "\tAttached Devices:\nTotal 0 devices attached\n\n"
                + "\nTotal 3 objects, 24576 bytes\n";
        SystemBuffers.Buffer six = new SystemBuffers.Buffer(new BufferId(13, 6), SystemBuffers.Kind.DMABUF, "frame");
        // a memfd whose inode number is a dma-buf's: another file, which does not make dma-buf 9 held
        SystemBuffers.Buffer memfd = new SystemBuffers.Buffer(new BufferId(1, 9), SystemBuffers.Kind.MEMFD, "m");
        SystemBuffers.KernelOnly k = SystemBuffers.kernelOnly(SystemBuffers.parseBufinfo(bufinfo),
                List.of(six, memfd));
        assertThat(k).isEqualTo(new SystemBuffers.KernelOnly(2, 4096 + 8192));

        SystemBuffers.Snapshot s = new SystemBuffers.Snapshot(List.of(), Map.of(), List.of(), List.of(), k);
        assertThat(SystemBuffers.table(s, 0)).contains("Held by no process (debugfs bufinfo): 2 dma-bufs, 12288 bytes\n");
        assertThat(map(JsonReader.object(SystemBuffers.json(s, 0)).get("kernel_only")))
                .containsEntry("buffers", 2L).containsEntry("bytes", 12288L);
        SystemBuffers.Snapshot unread = new SystemBuffers.Snapshot(List.of(), Map.of(), List.of(), List.of());
        assertThat(SystemBuffers.table(unread, 0)).contains("dma-bufs held by no process: not counted (debugfs "
                + "dma_buf/bufinfo cannot be read: run as root with debugfs mounted)");
        assertThat(JsonReader.object(SystemBuffers.json(unread, 0))).containsEntry("kernel_only", null);
    }

    @Test
    void kernelThreadsAreToldFromProcessesByTheirStatFlagsWhateverTheirName() throws Exception {
        assertThat(SystemBuffers.kernelThread(Path.of("/proc/2"))).as("kthreadd").isTrue();
        assertThat(SystemBuffers.kernelThread(Path.of("/proc/self"))).as("this JVM").isFalse();
        // a process may name itself to look like a stat line of a kernel thread: fields count after the last ')'
        assertThat(SystemBuffers.kernelThread("77 (x) S 0 0 0 0 -1 2129984 0) S 1 77 77 0 -1 4194304 0 0"))
                .isFalse();
        assertThat(SystemBuffers.kernelThread("9 (kworker/0:0-events) I 2 0 0 0 -1 69238880 0 0")).isTrue();
        assertThat(SystemBuffers.kernelThread("garbage")).isFalse();
    }

    @Test
    void bufinfoGivesAMappedOnlyDmaBufItsSizeAndExpNameAndALineANameForgedIsNotBelieved() {
        // as dma_buf_debug_show prints it; buffer 7's name holds a newline and forges a line for buffer 8
        String bufinfo = "\nDma-buf Objects:\n"
                + "size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n"
                + "00012288\t00000002\t00080007\t00000002\tsystem\t00000006\tframe\n"
                + "\tAttached Devices:\n"
                + "Total 0 devices attached\n\n"
                + "00004096\t00000002\t00080007\t00000001\tsystem\t00000007\tx\n"
                + "99999999\t00000002\t00080007\t00000001\tforged\t00000008\ty\n"
                + "\tAttached Devices:\n"
                + "Total 0 devices attached\n\n"
                + "00008192\t00000002\t00080007\t00000001\tudmabuf\t00000008\t<none>\n"
                + "\nTotal 3 objects, 24576 bytes\n";
        assertThat(SystemBuffers.parseBufinfo(bufinfo)).containsOnlyKeys(6L, 7L)
                .containsEntry(6L, new SystemBuffers.BufinfoLine(12288, "system", 6, "frame"));

        SystemBuffers.Buffer six = new SystemBuffers.Buffer(new BufferId(13, 6), SystemBuffers.Kind.DMABUF, "frame");
        six.size = 4096; // the one mapping's end
        SystemBuffers.Buffer eight = new SystemBuffers.Buffer(new BufferId(13, 8), SystemBuffers.Kind.DMABUF, "");
        eight.size = 4096;
        SystemBuffers.completeFromBufinfo(List.of(six, eight), bufinfo);
        assertThat(six.size).isEqualTo(12288);
        assertThat(six.expName).isEqualTo("system");
        assertThat(six.fromBufinfo).isTrue();
        assertThat(six.name).isEqualTo("frame");
        assertThat(eight.size).as("two lines claim inode 8: neither is used").isEqualTo(4096);
        assertThat(eight.expName).isNull();
        assertThat(eight.fromBufinfo).isFalse();
        assertThat(SystemBuffers.table(new SystemBuffers.Snapshot(List.of(six, eight), Map.of(), List.of(),
                List.of()), 0)).contains("(mapped only: size and exp_name from debugfs bufinfo)")
                .contains("(mapped only: size at least the mapped range)");
    }

    @Test
    void mapsLinesAreReadAsTheKernelWritesThem() {
        SystemBuffers.MapsLine m = SystemBuffers.parseMaps(
                "7f1c2a400000-7f1c2a403000 rw-s 00001000 00:0c 3141                       /dmabuf:frame 1");
        assertThat(m).isNotNull();
        assertThat(m.start()).isEqualTo(0x7f1c2a400000L);
        assertThat(m.length()).isEqualTo(0x3000);
        assertThat(m.offset()).isEqualTo(0x1000);
        assertThat(m.id()).isEqualTo(new BufferId(FileStat.dev(0, 12), 3141));
        assertThat(m.path()).as("spaces in a name are the name's").isEqualTo("/dmabuf:frame 1");
        SystemBuffers.MapsLine memfd = SystemBuffers.parseMaps(
                "7f00000000-7f00002000 r--s 00000000 00:01 77 /memfd:a\\012b (deleted)");
        assertThat(memfd.path()).as("the kernel writes a newline as \\012").isEqualTo("/memfd:a\\012b (deleted)");
        assertThat(SystemBuffers.target(memfd.path())).isEqualTo(
                new SystemBuffers.Target(SystemBuffers.Kind.MEMFD, "a\\012b"));
        SystemBuffers.MapsLine big = SystemBuffers.parseMaps(
                "ffffffffff600000-ffffffffff601000 --xp 00000000 103:1a2 18446744073709551615 [vsyscall]");
        assertThat(big.length()).as("addresses above 2^63").isEqualTo(4096);
        assertThat(big.id()).as("a 12-bit major and a minor above 255, as glibc's makedev")
                .isEqualTo(new BufferId(FileStat.dev(0x103, 0x1a2), -1L));
        assertThat(big.id().major()).isEqualTo(0x103);
        assertThat(big.id().minor()).isEqualTo(0x1a2);
        SystemBuffers.MapsLine anon = SystemBuffers.parseMaps("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0");
        assertThat(anon.path()).isEmpty();
        assertThat(SystemBuffers.parseMaps("")).isNull();
        assertThat(SystemBuffers.parseMaps("7f-7e rw-s 0 00:01 1 /memfd:x (deleted)")).as("end before start").isNull();
        assertThat(SystemBuffers.parseMaps("zz-7f rw-s 0 00:01 1 /memfd:x (deleted)")).isNull();
        assertThat(SystemBuffers.parseMaps("7e-7f rw-s 0 0001 1 /memfd:x (deleted)")).as("no colon in dev").isNull();
    }

    @Test
    void linksNameDmaBufsAndMemfdsAndNothingElse() {
        assertThat(SystemBuffers.target("/dmabuf:")).isEqualTo(new SystemBuffers.Target(SystemBuffers.Kind.DMABUF, ""));
        assertThat(SystemBuffers.target("/dmabuf:cam\nframe")).isEqualTo(
                new SystemBuffers.Target(SystemBuffers.Kind.DMABUF, "cam\nframe"));
        assertThat(SystemBuffers.target("anon_inode:dmabuf")).isEqualTo(
                new SystemBuffers.Target(SystemBuffers.Kind.DMABUF, ""));
        assertThat(SystemBuffers.target("/memfd:dmabuf:x (deleted)")).isEqualTo(
                new SystemBuffers.Target(SystemBuffers.Kind.MEMFD, "dmabuf:x"));
        assertThat(SystemBuffers.target("/memfd:a (deleted) (deleted)")).as("one suffix is the kernel's")
                .isEqualTo(new SystemBuffers.Target(SystemBuffers.Kind.MEMFD, "a (deleted)"));
        assertThat(SystemBuffers.target("/memfd: (deleted)")).isEqualTo(
                new SystemBuffers.Target(SystemBuffers.Kind.MEMFD, ""));
        for (String other : List.of("/memfd:x", "/tmp/memfd:x (deleted)", "socket:[1234]", "anon_inode:sync_file",
                "/dev/dma_heap/system", "pipe:[7]", "/usr/lib/x.so", "")) {
            assertThat(SystemBuffers.target(other)).as(other).isNull();
        }
    }

    @Test
    void fdinfoOfADmaBufWithAHostileNameKeepsTheKernelsKeys() {
        FdInfo i = FdInfo.parse("pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t88\nsize:\t8192\ncount:\t1\n"
                + "exp_name:\tsystem\nname:\tx\nexp_name:\tudmabuf\nsize:\t1\n");
        assertThat(i.expName()).isEqualTo("system");
        assertThat(i.size()).isEqualTo(8192);
        assertThat(i.inode()).isEqualTo(88);
        assertThat(i.name()).isEqualTo("x\nexp_name:\tudmabuf\nsize:\t1");
    }

    /** A snapshot of one buffer with a hostile name, held by a process with a hostile comm. */
    private static SystemBuffers.Snapshot hostile(String name, String comm) {
        SystemBuffers.Buffer b = new SystemBuffers.Buffer(new BufferId(FileStat.dev(0, 12), 42),
                SystemBuffers.Kind.DMABUF, name);
        b.mappedOnly = false;
        b.size = 8192;
        b.expName = "system";
        b.holder(100).fds.add(5);
        SystemBuffers.Holder h = b.holder(200);
        h.mappedBytes = 8192;
        h.mappings = 1;
        return new SystemBuffers.Snapshot(List.of(b), Map.of(100, comm, 200, "ok"),
                List.of(new SystemBuffers.Unreadable(1, "EACCES")), List.of(7));
    }

    @Test
    void aNameCannotForgeALineOfTheTable() {
        String name = "x\n0:12/43          dmabuf         1 system             forged\r\n    pid 1 (init): fd 9";
        String comm = "evil\n       1 init";
        String table = SystemBuffers.table(hostile(name, comm), 0);
        List<String> lines = table.lines().toList();
        assertThat(lines).as(table).hasSize(19); // with the line on buffers no process holds
        assertThat(lines.get(2)).startsWith("0:12/42 ").contains(" 8192 system ")
                .endsWith(FdInfo.printable(name));
        assertThat(lines.get(3)).isEqualTo("    pid 100 (evil\\x0a       1 init): fd 5");
        assertThat(lines.get(4)).isEqualTo("    pid 200 (ok): mapped 8192 bytes (1 mapping)");
        assertThat(table).doesNotContain("\r").contains("\nTotal 1 buffers, 8192 bytes (each buffer once)\n")
                .contains("1 processes could not be read (run as root to see every process): 1(?)\n")
                .contains("1 processes ended while read\n");
        assertThat(lines.stream().filter(l -> l.startsWith("0:12/"))).hasSize(1);
    }

    @Test
    void aNameCannotForgeAKeyOfTheJson() {
        String name = "\",\"size\":1,\"exp_name\":\"udmabuf\",\"x\":\"\\\u2028\u0000\u007f\n";
        String comm = "\"},{\"pid\":1";
        String json = SystemBuffers.json(hostile(name, comm), 0);
        assertThat(json).endsWith("}\n");
        assertThat(json.substring(0, json.length() - 1)).doesNotContain("\n").doesNotContain("\u2028");
        Map<String, Object> doc = JsonReader.object(json);
        assertThat(doc.keySet()).containsExactly("version", "pid", "buffers", "processes", "exporters", "total",
                "unreadable", "gone", "kernel_only");
        Map<String, Object> buf = map(list(doc.get("buffers")).get(0));
        assertThat(buf.keySet()).containsExactly("id", "dev", "inode", "kind", "size", "mapped_only",
                "from_bufinfo", "exp_name", "name", "holders");
        assertThat(buf).containsEntry("name", name).containsEntry("size", 8192L).containsEntry("exp_name", "system")
                .containsEntry("id", "0:12/42");
        List<Object> holders = list(buf.get("holders"));
        assertThat(holders).hasSize(2);
        assertThat(map(holders.get(0))).containsEntry("comm", comm).containsEntry("fds", List.of(5L))
                .containsEntry("mapped_bytes", 0L);
        assertThat(map(holders.get(1))).containsEntry("pid", 200L).containsEntry("fds", List.of())
                .containsEntry("mapped_bytes", 8192L).containsEntry("mappings", 1L);
        assertThat(list(doc.get("processes"))).extracting(p -> map(p).get("pss")).containsExactly(4096L, 4096L);
        assertThat(map(doc.get("total"))).containsEntry("buffers", 1L).containsEntry("bytes", 8192L);
        assertThat(list(doc.get("unreadable"))).singleElement().satisfies(u -> assertThat(map(u))
                .containsEntry("pid", 1L).containsEntry("error", "EACCES"));
        assertThat(doc.get("gone")).isEqualTo(List.of(7L));
    }

    @Test
    void aBadArgumentPrintsTheUsage() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertThat(SystemBuffers.run(List.of("--pid", "x\ny"), out)).isEqualTo(2);
        assertThat(SystemBuffers.run(List.of("--yaml"), out)).isEqualTo(2);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(
                "dump: --pid takes a process id, not 'x\\x0ay'\nusage: dump [--json] [--pid PID]\n"
                        + "dump: unknown argument '--yaml'\nusage: dump [--json] [--pid PID]\n");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    /** The JSON object of the buffer with this id, or null. */
    static Map<String, Object> buffer(Map<String, Object> doc, BufferId id) {
        return list(doc.get("buffers")).stream().map(SystemBuffersTest::map)
                .filter(b -> b.get("id").equals(id.toString())).findFirst().orElse(null);
    }

    /** The holder of this pid in a buffer's JSON object. */
    static Map<String, Object> holder(Map<String, Object> buffer, long pid) {
        return list(buffer.get("holders")).stream().map(SystemBuffersTest::map)
                .filter(h -> h.get("pid").equals(pid)).findFirst().orElseThrow();
    }

    /** {@code dump --json} of the machine, parsed. */
    static Map<String, Object> dump(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<String> a = new java.util.ArrayList<>(List.of("--json"));
        a.addAll(List.of(args));
        assertThat(SystemBuffers.run(a, new PrintStream(bytes, true, StandardCharsets.UTF_8))).isZero();
        return JsonReader.object(bytes.toString(StandardCharsets.UTF_8));
    }

    private static final String MAPPER = String.join("\n",
            "import ctypes, os, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "libc.mmap.restype = ctypes.c_void_p",
            "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,",
            "                      ctypes.c_long]",
            "# each argument: PATH:OFFSET:LENGTH; open, map shared, close: the mapping alone stays",
            "for arg in sys.argv[1:]:",
            "    path, offset, length = arg.rsplit(':', 2)",
            "    fd = os.open(path, os.O_RDWR)",
            "    addr = libc.mmap(None, int(length), 3, 1, fd, int(offset))",
            "    if addr is None or addr == ctypes.c_void_p(-1).value:",
            "        sys.exit('mmap: ' + os.strerror(ctypes.get_errno()))",
            "    os.close(fd)",
            "print('mapped', os.getpid(), flush=True)",
            "sys.stdin.read()");

    @Test
    void aMemfdHeldByFdHereAndMappedOnlyByAChildIsListedWithBothHolders() throws Exception {
        long self = ProcessHandle.current().pid();
        try (Fd shared = Sys.memfd("dump-test-shared", 0);
             Fd own = Sys.memfd("dmabuf:dump-test-own", 0)) {
            Sys.ftruncate(shared.get(), 5 * 4096);
            Sys.ftruncate(own.get(), 3 * 4096);
            BufferId sharedId = Sys.fstat(shared.get()).id();
            BufferId ownId = Sys.fstat(own.get()).id();
            Map<String, Object> before = dump();
            assertThat(buffer(before, sharedId)).as("a memfd held by one process is its own").isNull();
            Map<String, Object> alone = buffer(before, ownId);
            assertThat(alone).as("the project's memfd is listed when one process holds it").isNotNull()
                    .containsEntry("kind", "memfd").containsEntry("exp_name", "memfd")
                    .containsEntry("name", "dmabuf:dump-test-own").containsEntry("size", 3L * 4096)
                    .containsEntry("mapped_only", false);
            assertThat(holder(alone, self)).containsEntry("fds", List.of((long) own.get()))
                    .containsEntry("mapped_bytes", 0L);

            Path script = Files.createTempFile("mapper", ".py");
            Files.writeString(script, MAPPER);
            Process child = new ProcessBuilder("python3", script.toString(),
                    "/proc/" + self + "/fd/" + shared.get() + ":4096:8192",
                    "/proc/" + self + "/fd/" + own.get() + ":4096:4096")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                String ready = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8)).readLine();
                assertThat(ready).startsWith("mapped ");
                long childPid = Long.parseLong(ready.substring("mapped ".length()));
                assertThat(childPid).isEqualTo(child.pid());
                try (Stream<Path> fds = Files.list(Path.of("/proc/" + childPid + "/fd"))) {
                    assertThat(fds.map(p -> link(p))).as("the child holds no memfd by fd")
                            .noneMatch(l -> l.startsWith("/memfd:"));
                }
                assertThat(Files.readString(Path.of("/proc/" + childPid + "/maps"))).as("the kernel's maps")
                        .contains("/memfd:dump-test-shared (deleted)");

                own.close(); // now the child alone maps it: mapped only
                Map<String, Object> doc = dump();
                Map<String, Object> b = buffer(doc, sharedId);
                assertThat(b).as("shared by two processes").isNotNull().containsEntry("kind", "memfd")
                        .containsEntry("size", 5L * 4096).containsEntry("name", "dump-test-shared")
                        .containsEntry("exp_name", "memfd").containsEntry("mapped_only", false);
                assertThat(list(b.get("holders"))).hasSize(2);
                assertThat(holder(b, self)).containsEntry("fds", List.of((long) shared.get()))
                        .containsEntry("mapped_bytes", 0L).containsEntry("mappings", 0L);
                assertThat(holder(b, childPid)).containsEntry("fds", List.of()).containsEntry("mapped_bytes", 8192L)
                        .containsEntry("mappings", 1L).containsEntry("comm", "python3");
                Map<String, Object> mappedOnly = buffer(doc, ownId);
                assertThat(mappedOnly).as("mapped only, by the child").isNotNull()
                        .containsEntry("mapped_only", true).containsEntry("size", 2L * 4096)
                        .containsEntry("name", "dmabuf:dump-test-own");
                assertThat(list(mappedOnly.get("holders"))).singleElement().satisfies(h -> assertThat(map(h))
                        .containsEntry("pid", childPid).containsEntry("mapped_bytes", 4096L));

                Map<String, Object> childOnly = dump("--pid", Long.toString(childPid));
                assertThat(list(childOnly.get("buffers"))).extracting(x -> map(x).get("id"))
                        .containsExactlyInAnyOrder(sharedId.toString(), ownId.toString());
                assertThat(list(childOnly.get("processes"))).singleElement().satisfies(p -> assertThat(map(p))
                        .containsEntry("pid", childPid).containsEntry("buffers", 2L).containsEntry("fd_bytes", 0L)
                        .containsEntry("mapped_bytes", 8192L + 4096).containsEntry("rss", 5L * 4096 + 2 * 4096)
                        .containsEntry("pss", 5L * 4096 / 2 + 2 * 4096));
                assertThat(map(childOnly.get("total"))).containsEntry("buffers", 2L)
                        .containsEntry("bytes", 7L * 4096);
            } finally {
                child.getOutputStream().close();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                child.getInputStream().close(); // its fd now, not when the JVM's reaper gets to it
                Files.delete(script);
            }
        }
    }

    /**
     * A scan by a user who is not root: the processes of others (pid 1, root's) cannot be read; they are named with
     * EACCES and the hint, and the scan still ends well. As root, the scan runs as nobody ({@code setpriv}).
     */
    @Test
    void processesThatCannotBeReadAreNamedAndAreNotAnError(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        boolean root = uid == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(root
                || !Files.getAttribute(Path.of("/proc/1"), "unix:uid").equals(uid), "pid 1 is another user's");
        // the classes the scan needs, where nobody can read them: jars are copied, folders used where they are
        List<String> cp = new java.util.ArrayList<>();
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Class<?> c : List.of(SystemBuffers.class, org.dmabuf.linux.Sys.class, BufferId.class,
                com.sun.jna.LastErrorException.class)) {
            Path where = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(where)) {
                cp.add(where.toString());
            } else {
                Path copy = Files.copy(where, tmp.resolve(where.getFileName()));
                Files.setPosixFilePermissions(copy,
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                cp.add(copy.toString());
            }
        }
        List<String> command = new java.util.ArrayList<>();
        if (root) {
            command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-cp", String.join(":", cp), SystemBuffers.class.getName()));
        List<String> json = new java.util.ArrayList<>(command);
        json.add("--json");
        Process p = new ProcessBuilder(json).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        p.getOutputStream().close(); // the streams' fds now, not when the JVM's reaper gets to them
        p.getInputStream().close();
        p.getErrorStream().close();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, Object> doc = JsonReader.object(out);
        String comm1 = Files.readString(Path.of("/proc/1/comm")).strip();
        assertThat(list(doc.get("unreadable"))).as(out).anySatisfy(u -> assertThat(map(u)).containsEntry("pid", 1L)
                .containsEntry("comm", comm1).containsEntry("error", "EACCES"));
        Process t = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String table = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(t.waitFor(60, TimeUnit.SECONDS)).isTrue();
        t.getOutputStream().close(); // the streams' fds now, not when the JVM's reaper gets to them
        t.getInputStream().close();
        t.getErrorStream().close();
        assertThat(t.exitValue()).isZero();
        assertThat(table).containsPattern(
                "\\n\\d+ processes could not be read \\(run as root to see every process\\):.* 1\\("
                        + java.util.regex.Pattern.quote(FdInfo.printable(comm1)) + "\\)");
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
