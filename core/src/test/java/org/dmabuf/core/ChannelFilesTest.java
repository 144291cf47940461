package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.CProbe;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket files and folders of buffer channels: which stale file is replaced, whose folder is used, and how the
 * file modes follow the allowed users (a group). The cross-user cases run a C peer under another uid with
 * {@code setpriv}, where this process is root.
 */
class ChannelFilesTest {
    private static final int OTHER_UID = 4242;
    private static final int SHARED_GID = 4243;

    @TempDir
    Path tmp;
    StandaloneRegistry registry;
    private long fdsBefore;

    @BeforeEach
    void open() {
        fdsBefore = Leaks.openFds();
        registry = ChannelFixture.registry("files");
    }

    @AfterEach
    void nothingLeft() {
        registry.close();
        assertThat(Leaks.openFds()).as("buffer fds left").isEqualTo(fdsBefore);
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSocketFileWhoseListenerHasAFullBacklogIsInUseNotStale() throws Exception {
        Path file = tmp.resolve("run/busy.sock");
        List<Fd> queued = new ArrayList<>();
        try (ChannelListener busy = registry.channels().listen(file, ChannelOptions.sameUser())) {
            SocketLibC.SockaddrUn a = new SocketLibC.SockaddrUn();
            a.sun_family = SocketLibC.AF_UNIX;
            byte[] p = file.toString().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(p, 0, a.sun_path, 0, p.length);
            int err = 0;
            for (int i = 0; i < 10_000 && err == 0; i++) {
                Fd s = new Fd(SocketLibC.socket(SocketLibC.AF_UNIX, SocketLibC.SOCK_SEQPACKET
                        | SocketLibC.SOCK_NONBLOCK | SocketLibC.SOCK_CLOEXEC, 0), "backlog filler");
                queued.add(s);
                try {
                    SocketLibC.connect(s.get(), a, a.size());
                } catch (com.sun.jna.LastErrorException e) {
                    err = e.getErrorCode();
                }
            }
            assertThat(err).as("the backlog filled up (EAGAIN)").isEqualTo(11);
            // a blocking probe would wait here for ever; any error but ECONNREFUSED used to remove the file
            assertThatThrownBy(() -> registry.channels().listen(file, ChannelOptions.sameUser()))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("EADDRINUSE")
                    .hasMessageContaining("another process listens there");
            assertThat(Files.exists(file)).as("the live listener's file is kept").isTrue();
            queued.forEach(Fd::close);
            queued.clear();
            for (BufferChannel gone = busy.accept(Duration.ZERO); gone != null; gone = busy.accept(Duration.ZERO)) {
                gone.close(); // the fillers' connections, still in the backlog until accepted
            }
            try (BufferChannel c = registry.channels().connect(file, ChannelOptions.sameUser())) {
                assertThat(c.peer().pid()).isEqualTo(ProcessHandle.current().pid());
            }
        } finally {
            queued.forEach(Fd::close);
        }
        assertThat(Files.exists(file)).isFalse();
    }

    @Test
    void aStaleSocketFileIsReplacedAndAFileThatIsNoSocketIsKept() throws Exception {
        Path dir = tmp.resolve("run");
        try (ChannelListener first = registry.channels().listen(dir.resolve("a.sock"), ChannelOptions.sameUser())) {
            Path stale = dir.resolve("stale.sock");
            UnixSocket.listen(stale, 0600).close(); // leaves the file behind, as a killed process would
            assertThat(UnixSocket.probe(stale)).isEqualTo(SocketLibC.ECONNREFUSED);
            try (ChannelListener again = registry.channels().listen(stale, ChannelOptions.sameUser())) {
                assertThat(again.path()).isEqualTo(stale);
            }
            Path plain = Files.writeString(dir.resolve("plain.sock"), "data");
            assertThatThrownBy(() -> registry.channels().listen(plain, ChannelOptions.sameUser()))
                    .hasMessageContaining("EADDRINUSE").hasMessageContaining("is not a socket");
            assertThat(Files.readString(plain)).isEqualTo("data");
        }
    }

    @Test
    void aFolderOwnedByAnotherUserIsRefused() throws Exception {
        assumeTrue(SocketLibC.getuid() == 0, "only root can give a folder to another user");
        Path dir = Files.createDirectory(tmp.resolve("theirs"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.setAttribute(dir, "unix:uid", OTHER_UID);
        assertThatThrownBy(() -> registry.channels().listen(dir.resolve("x.sock"), ChannelOptions.sameUser()))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("listen: EPERM")
                .hasMessageContaining(dir.toString()).hasMessageContaining("owned by uid " + OTHER_UID);
        assertThat(Files.exists(dir.resolve("x.sock"))).isFalse();
    }

    @Test
    void aFolderThatIsASymbolicLinkOwnedByAnotherUserIsRefusedAndOneOfOursIsFollowed() throws Exception {
        assumeTrue(SocketLibC.getuid() == 0, "only root can give a link to another user");
        Path dir = Files.createDirectory(tmp.resolve("ours"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path theirs = Files.createSymbolicLink(tmp.resolve("link"), dir);
        Files.setAttribute(theirs, "unix:uid", OTHER_UID, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        assertThatThrownBy(() -> registry.channels().listen(theirs.resolve("x.sock"), ChannelOptions.sameUser()))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("listen: EPERM")
                .hasMessageContaining(theirs.toString()).hasMessageContaining("symbolic link owned by uid " + OTHER_UID);
        assertThat(Files.exists(dir.resolve("x.sock"))).isFalse();

        Files.setAttribute(theirs, "unix:uid", 0, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        try (ChannelListener ours = registry.channels().listen(theirs.resolve("x.sock"), ChannelOptions.sameUser())) {
            assertThat(dir.resolve("x.sock")).exists();
        }
    }

    @Test
    void anotherUserAllowedWithoutAGroupIsRefusedSinceNobodyCouldConnect() {
        assertThatThrownBy(() -> registry.channels().listen(tmp.resolve("run/x.sock"),
                ChannelOptions.allowUids(SocketLibC.getuid(), OTHER_UID)))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("listen: EINVAL")
                .hasMessageContaining("uid " + OTHER_UID + " is allowed").hasMessageContaining("withGroup");
        try (ChannelListener rootToo = registry.channels().listen(tmp.resolve("run/r.sock"),
                ChannelOptions.allowUids(SocketLibC.getuid(), 0))) {
            assertThat(rootToo.path()).exists();
        }
    }

    @Test
    void withAGroupTheFolderIs0750AndTheSocket0660InThatGroup() throws Exception {
        int gid = SocketLibC.getuid() == 0 ? SHARED_GID : (Integer) Files.getAttribute(tmp, "unix:gid");
        Path dir = tmp.resolve("shared");
        try (ChannelListener l = registry.channels().listen(dir.resolve("s.sock"),
                ChannelOptions.allowUids(SocketLibC.getuid(), OTHER_UID).withGroup(gid))) {
            assertThat(mode(dir)).isEqualTo("rwxr-x---");
            assertThat(mode(l.path())).isEqualTo("rw-rw----");
            assertThat(Files.getAttribute(dir, "unix:gid")).isEqualTo(gid);
            assertThat(Files.getAttribute(l.path(), "unix:gid")).isEqualTo(gid);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
        assertThatThrownBy(() -> registry.channels().listen(dir.resolve("s.sock"),
                ChannelOptions.sameUser().withGroup(gid)))
                .hasMessageContaining("listen: EACCES").hasMessageContaining("rwxrwx---");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertThatThrownBy(() -> registry.channels().listen(dir.resolve("s.sock"),
                ChannelOptions.sameUser().withGroup(gid)))
                .as("a folder the group cannot enter would admit nobody").hasMessageContaining("listen: EACCES")
                .hasMessageContaining("could not reach the socket");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
        assertThatThrownBy(() -> registry.channels().listen(dir.resolve("s.sock"), ChannelOptions.sameUser()))
                .as("without a group the same folder is too open").hasMessageContaining("listen: EACCES");
    }

    private static boolean setprivWorks() {
        try {
            Process p = new ProcessBuilder("setpriv", "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID,
                    "--clear-groups", "true").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Process peerAs(Path cPeer, String groups, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID,
                groups.isEmpty() ? "--clear-groups" : "--groups=" + groups, cPeer.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String finish(Process p, int status) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the peer exits").isTrue();
        assertThat(p.exitValue()).as("the peer's status; it said:%n%s", out).isEqualTo(status);
        // the pipes to the child: the JDK closes them only when its reaper thread gets to it, after waitFor returns
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
        return out;
    }

    @Test
    void anotherUserInTheGroupConnectsAndOneOutsideItCannot() throws Exception {
        assumeTrue(SocketLibC.getuid() == 0 && setprivWorks(), "needs root and setpriv to run a peer as uid "
                + OTHER_UID);
        Path cPeer = CProbe.compile(Path.of("src/test/c/channel_peer.c"), Path.of("target/probe"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        try (ChannelListener l = registry.channels().listen(tmp.resolve("shared/s.sock"),
                ChannelOptions.allowUids(0, OTHER_UID).withGroup(SHARED_GID))) {
            Process outsider = peerAs(cPeer, "", "recv", l.path().toString());
            assertThat(finish(outsider, 1)).contains("connect: Permission denied");

            Process member = peerAs(cPeer, Integer.toString(SHARED_GID), "recv", l.path().toString());
            try (BufferChannel ch = l.accept(Duration.ofSeconds(60));
                 DmaBuf b = registry.allocate(BufferRequest.ofSize(8192).name("to-4242"))) {
                assertThat(ch.peer().uid()).isEqualTo(OTHER_UID);
                ChannelFixture.fill(b, 6);
                ch.send(b, 6);
                String out = finish(member, 0);
                try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(a.getLong(8192 - 8)).as("the other user's answer; it said %s", out)
                            .isEqualTo(6 * 3 + 1);
                }
            }
        }
        try (ChannelListener onlyRoot = registry.channels().listen(tmp.resolve("shared/o.sock"),
                ChannelOptions.allowUids(0).withGroup(SHARED_GID))) {
            Process member = peerAs(cPeer, Integer.toString(SHARED_GID), "recv", onlyRoot.path().toString());
            assertThatThrownBy(() -> onlyRoot.accept(Duration.ofSeconds(60))).hasMessageContaining("accept: EACCES")
                    .hasMessageContaining("runs as uid " + OTHER_UID);
            assertThat(finish(member, 1)).as("disconnected by the uid check").contains("channel_peer");
        }
    }
}
