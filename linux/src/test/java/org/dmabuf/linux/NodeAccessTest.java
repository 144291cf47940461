package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a permission error on a device node is described, on the host: a real node ({@code /dev/null}) against what
 * {@code stat} and {@code id} say, and the advice for each case on nodes described by hand (this host runs as root,
 * which no mode refuses: {@code NodeAccessKernelTest} makes a process of another user be refused in the guest).
 */
class NodeAccessTest {
    @TempDir
    Path tmp;

    private static final int CHR = Statx.S_IFCHR;

    private static String sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        p.getOutputStream().close(); // the streams' fds now, not when the JVM's reaper gets to them
        p.getInputStream().close();
        p.getErrorStream().close();
        return out;
    }

    @Test
    void aRealNodeIsDescribedAsStatAndIdSeeIt() throws Exception {
        String explained = NodeAccess.explain("/dev/null", Errno.EACCES);
        String[] st = sh("stat", "-c", "%U %u %G %g %A", "/dev/null").split(" ");
        assertThat(explained).startsWith("node: owner " + st[0] + "(" + st[1] + "), group " + st[2] + "(" + st[3]
                + "), mode " + st[4] + " (").contains("char 1:3")
                .contains("; this process: uid " + sh("id", "-un") + "(" + sh("id", "-u") + "), gid " + sh("id", "-gn")
                        + "(" + sh("id", "-g") + "), groups ")
                .contains("; to fix: ");
        assertThat(NodeAccess.explain("/dev/null", Errno.EPERM)).isNotEmpty();
        NodeAccess.Credentials me = NodeAccess.Credentials.current();
        assertThat(me.uid()).isEqualTo(Integer.parseInt(sh("id", "-u")));
        assertThat(me.gid()).isEqualTo(Integer.parseInt(sh("id", "-g")));
    }

    @Test
    void onlyAPermissionErrorOnADeviceNodeIsExplained() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        assertThat(NodeAccess.explain(file.toString(), Errno.EACCES)).as("a regular file").isEmpty();
        assertThat(NodeAccess.explain("/dev/null", Errno.ENOENT)).as("another errno").isEmpty();
        assertThat(NodeAccess.explain(tmp.resolve("absent").toString(), Errno.EACCES)).as("no file").isEmpty();
        assertThat(new LinuxException("open", "/dev/x", Errno.EACCES, "").getMessage())
                .isEqualTo("open: EACCES: /dev/x: Permission denied");
        assertThat(new LinuxException("open", "/dev/x", Errno.EACCES, "node: y").getMessage())
                .isEqualTo("open: EACCES: /dev/x: Permission denied; node: y");
    }

    @Test
    void modesAreWrittenAsLsWritesThem() {
        assertThat(NodeAccess.modeString(CHR | 0660)).isEqualTo("crw-rw----");
        assertThat(NodeAccess.modeString(CHR | 0600)).isEqualTo("crw-------");
        assertThat(NodeAccess.modeString(0100000 | 04755)).isEqualTo("-rwsr-xr-x");
        assertThat(NodeAccess.modeString(0040000 | 01777)).isEqualTo("drwxrwxrwt");
        assertThat(NodeAccess.modeString(CHR | 02640)).isEqualTo("crw-r-S---");
    }

    @Test
    void theAdviceFollowsWhatTheModeGrants() {
        NodeAccess.Credentials app = new NodeAccess.Credentials(1000, 1000, List.of(1000));
        NodeAccess.Node videoGroup = new NodeAccess.Node("/dev/video0", 0, 44, CHR | 0660, 81, 0, "video4linux",
                "video0");
        assertThat(videoGroup.grantsReadWrite(app)).isFalse();
        assertThat(NodeAccess.advice(videoGroup, app)).startsWith("add the user to group video (sudo usermod -aG "
                + "video ").contains("log in again");
        NodeAccess.Credentials member = new NodeAccess.Credentials(1000, 1000, List.of(44, 1000));
        assertThat(videoGroup.grantsReadWrite(member)).isTrue();
        assertThat(NodeAccess.advice(videoGroup, member)).as("the mode lets it: something else refuses")
                .contains("device cgroup").contains("--device /dev/video0");
        NodeAccess.Node rootOnlyHeap = new NodeAccess.Node("/dev/dma_heap/system", 0, 0, CHR | 0600, 251, 0,
                "dma_heap", "system");
        assertThat(NodeAccess.advice(rootOnlyHeap, member)).contains("the node grants its group no read and write")
                .contains("SUBSYSTEM==\"dma_heap\", GROUP=\"video\", MODE=\"0660\"")
                .contains("/etc/udev/rules.d/70-dmabuf.rules");
        NodeAccess.Node rootGroup = new NodeAccess.Node("/dev/udmabuf", 0, 0, CHR | 0660, 10, 125, "misc",
                "udmabuf");
        assertThat(NodeAccess.advice(rootGroup, app)).startsWith("the node's group is root: ")
                .contains("KERNEL==\"udmabuf\", GROUP=\"video\", MODE=\"0660\"");
        NodeAccess.Node render = new NodeAccess.Node("/dev/dri/renderD128", 0, 0, CHR | 0600, 226, 128, "drm",
                "renderD128");
        assertThat(render.usualGroup()).isEqualTo("render");
        assertThat(NodeAccess.udevRule(render)).isEqualTo("SUBSYSTEM==\"drm\", KERNEL==\"renderD*\", "
                + "GROUP=\"render\", MODE=\"0660\"");
        NodeAccess.Node udmabuf = new NodeAccess.Node("/dev/udmabuf", 0, 0, CHR | 0600, 10, 125, "misc", "udmabuf");
        assertThat(NodeAccess.udevRule(udmabuf)).isEqualTo("KERNEL==\"udmabuf\", GROUP=\"video\", MODE=\"0660\"");
        NodeAccess.Node otherRw = new NodeAccess.Node("/dev/x", 0, 0, CHR | 0606, 1, 1, "", "");
        assertThat(otherRw.bitsFor(member)).as("others' bits when neither owner nor in the group").isEqualTo(6);
        NodeAccess.Node ownerNone = new NodeAccess.Node("/dev/x", 1000, 0, CHR | 0066, 1, 1, "", "");
        assertThat(ownerNone.grantsReadWrite(app)).as("the owner's bits apply to the owner, even if others may")
                .isFalse();
        assertThat(NodeAccess.facts(videoGroup, app)).containsEntry("mode", "crw-rw----")
                .containsEntry("access", "none");
        assertThat(NodeAccess.facts(videoGroup, member)).containsEntry("access", "rw");
    }
}
