package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A process that is not root, refused a device node, is told why and what to do: in the kernel guest, nodes with
 * the device numbers of the real {@code /dev/dma_heap/system}, {@code /dev/udmabuf}, {@code /dev/dri/card0},
 * {@code /dev/dri/renderD128} and {@code /dev/video0} are made with {@code mknod} in a folder of {@code /tmp}, given
 * a group and a mode, and opened by a child JVM run as uid 65534 ({@code setpriv}); its error is checked against what
 * {@code stat} says of the node and what {@code id} says of the child's user, and a child with the node's group as a
 * supplementary group opens the same nodes.
 */
@Tag("kernel")
class NodeAccessKernelTest {
    private static final int NOBODY = 65534;
    private static final int VIDEO = 44;
    private static final List<String> REAL = List.of("/dev/dma_heap/system", "/dev/udmabuf", "/dev/dri/card0",
            "/dev/dri/renderD128", "/dev/video0");

    private Path dir;
    private String classPath;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(sh("id", "-u").strip().equals("0"), "needs root to mknod and setpriv");
        dir = Files.createTempDirectory(Path.of("/tmp"), "nodes");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        // the child's class path, readable by uid 65534: the build's jars live under /root
        Path cp = Files.createDirectories(dir.resolve("cp"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        // where the child's classes are (the JUnit launcher's class path is not the JVM's)
        for (Class<?> c : List.of(NodeOpenMain.class, Sys.class, org.dmabuf.api.DmaBufException.class,
                com.sun.jna.Native.class)) {
            Path p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(p) && readableByNobody(p)) {
                entries.add(p.toString()); // the build's own folders: readable as they are
            } else if (Files.isDirectory(p)) {
                Path copy = cp.resolve("d" + i++);
                copyTree(p, copy);
                entries.add(copy.toString());
            } else {
                Path copy = cp.resolve(i++ + "-" + p.getFileName());
                Files.copy(p, copy);
                entries.add(copy.toString());
            }
        }
        classPath = String.join(":", entries);
        Path jna = Files.createDirectories(dir.resolve("jna"));
        sh("chown", NOBODY + ":" + NOBODY, jna.toString());
        sh("chmod", "-R", "a+rX", cp.toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static boolean readableByNobody(Path dir) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "test", "-r", dir.resolve("org").toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    /** mknod of each real node in the folder, with the given group and mode; returns the copies by real node. */
    private Map<String, Path> nodes(int gid, String mode) throws Exception {
        Map<String, Path> made = new LinkedHashMap<>();
        for (String real : REAL) {
            String[] mm = sh("stat", "-c", "%t %T", real).strip().split(" ");
            Path node = dir.resolve(Path.of(real).getFileName() + "-" + mode);
            sh("mknod", node.toString(), "c", Integer.toString(Integer.parseInt(mm[0], 16)),
                    Integer.toString(Integer.parseInt(mm[1], 16)));
            sh("chown", "0:" + gid, node.toString());
            sh("chmod", mode, node.toString());
            made.put(real, node);
        }
        return made;
    }

    /** Runs the child as uid 65534 with the given supplementary groups (none: --clear-groups). */
    private Map<String, String> openAs(String groups, List<Path> nodes) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                groups.isEmpty() ? "--clear-groups" : "--groups=" + groups,
                ProcessHandle.current().info().command().orElse("java"), "-Djna.tmpdir=" + dir.resolve("jna"),
                "-Djava.io.tmpdir=" + dir.resolve("jna"), "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp",
                classPath,
                NodeOpenMain.class.getName()));
        nodes.forEach(n -> cmd.add(n.toString()));
        String out = run(cmd);
        Map<String, String> byNode = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            for (Path n : nodes) {
                if (line.startsWith("OK " + n + "")) {
                    byNode.put(n.toString(), "OK");
                } else if (line.startsWith("ERR " + n + " ")) {
                    byNode.put(n.toString(), line.substring(("ERR " + n + " ").length()));
                }
            }
        }
        assertThat(byNode).as("a line per node; the child said:%n%s", out).hasSize(nodes.size());
        return byNode;
    }

    /**
     * One child without groups and one with group 44 open nodes of group 44 mode 0660 and nodes of root mode 0600
     * (two child JVMs only: each costs seconds under emulation).
     */
    @Test
    void aUserRefusedANodeIsToldTheNodesOwnerGroupModeItsOwnIdsAndWhatToDoAndTheGroupOpensIt() throws Exception {
        Map<String, Path> shared = nodes(VIDEO, "660");
        Map<String, Path> rootOnly = nodes(0, "600");
        List<Path> all = new ArrayList<>(shared.values());
        all.addAll(rootOnly.values());
        Map<String, String> got = openAs("", all);
        // the kernel's and the C library's view of the child's user
        String idOut = run(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "id"))
                .strip();
        String uidName = run(List.of("id", "-nu", Integer.toString(NOBODY))).strip();
        assertThat(idOut).as("id agrees with the uid named").contains("uid=" + NOBODY + "(" + uidName + ")");
        String gidName = idOut.replaceAll(".*gid=" + NOBODY + "\\(([^)]*)\\).*", "$1");
        for (Map.Entry<String, Path> e : shared.entrySet()) {
            String node = e.getValue().toString();
            String msg = got.get(node);
            String[] st = sh("stat", "-c", "%U %u %G %g %A %t %T", node).strip().split(" ");
            int major = Integer.parseInt(st[5], 16);
            int minor = Integer.parseInt(st[6], 16);
            String sysName = Path.of(sh("readlink", "-f", "/sys/dev/char/" + major + ":" + minor).strip())
                    .getFileName().toString();
            assertThat(msg).as("%s (%s)", node, e.getKey())
                    .startsWith("open: EACCES: " + node + ": Permission denied; ")
                    .contains("owner " + st[0] + "(" + st[1] + ")")
                    .contains("group " + st[2] + "(" + st[3] + ")")
                    .contains("mode " + st[4]).contains("mode crw-rw----")
                    .contains(sysName + ", char " + major + ":" + minor + ")")
                    .contains("this process: uid " + uidName + "(" + NOBODY + "), gid " + gidName + "(" + NOBODY
                            + "), groups none")
                    .contains("to fix: add the user to group " + st[2] + " (sudo usermod -aG " + st[2] + " "
                            + uidName + ")")
                    .contains("README: Troubleshooting, permissions");
        }
        Map<String, String> rules = Map.of("/dev/dma_heap/system", "SUBSYSTEM==\"dma_heap\", GROUP=\"video\"",
                "/dev/udmabuf", "KERNEL==\"udmabuf\", GROUP=\"video\"",
                "/dev/dri/card0", "SUBSYSTEM==\"drm\", KERNEL==\"card*\", GROUP=\"video\"",
                "/dev/dri/renderD128", "SUBSYSTEM==\"drm\", KERNEL==\"renderD*\", GROUP=\"render\"",
                "/dev/video0", "SUBSYSTEM==\"video4linux\", GROUP=\"video\"");
        Map<String, String> member = openAs(Integer.toString(VIDEO), all);
        for (Map.Entry<String, Path> e : shared.entrySet()) {
            assertThat(member.get(e.getValue().toString())).as("with group %d %s opens", VIDEO, e.getValue())
                    .isEqualTo("OK");
        }
        for (Map.Entry<String, Path> e : rootOnly.entrySet()) {
            String node = e.getValue().toString();
            for (String msg : List.of(got.get(node), member.get(node))) {
                assertThat(msg).as(e.getKey()).startsWith("open: EACCES: " + node + ": Permission denied; ")
                        .contains("mode crw-------").contains("group root(0)")
                        .contains("the node grants its group no read and write")
                        .contains(rules.get(e.getKey()) + ", MODE=\"0660\"");
            }
            assertThat(member.get(node)).contains("groups video(44)");
        }
    }

    private static String sh(String... cmd) throws Exception {
        return run(List.of(cmd));
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s exits", cmd).isTrue();
        assertThat(p.exitValue()).as("%s said:%n%s", cmd, out).isZero();
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
        return out;
    }
}
