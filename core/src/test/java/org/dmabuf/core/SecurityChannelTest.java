package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.CProbe;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Security guarantees of buffer channels, each tried by a hostile peer: fds that arrive unexpected, with a message
 * of any version or kind, are closed; a memfd's name cannot make it pass for another buffer; a peer that receives a
 * memfd cannot change its size under the sender's readers (no SIGBUS); a client does not talk to a server of a uid
 * it does not allow. See also {@code ChannelFilesTest} (folder and file modes, the allow list at accept) and
 * {@code ChannelTest} (an fd flood, a hostile receiver in this process).
 */
class SecurityChannelTest extends ChannelFixture {
    private static final int OTHER_UID = 4242;
    private static final String UNEXPECTED = "sec-unexpected";

    private static Fd memfd(String name, int size) {
        Fd m = Sys.memfd(name, LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(m.get(), size);
        return m;
    }

    private static byte[] header(int version, int type, int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN).putInt(WireFormat.MAGIC)
                .putShort((short) version).putShort((short) type).putInt(length).putInt(0).array();
    }

    /** A hostile message and what the receiver must say about it. */
    private record Unexpected(String what, byte[] data, int fds, String errno, String message) {
    }

    private static List<Unexpected> unexpected() {
        byte[] x = "x".getBytes(StandardCharsets.UTF_8);
        byte[] fenceFrame = WireFormat.encode(1, 1, "fenced", "memfd", new long[] {8192}, null, 0, 1);
        return List.of(
                new Unexpected("a version 1 frame with 2 fds", ChannelTest.rawFrame(8192, 1, x, x, 0, 0, 0, 0), 2,
                        "EPROTO", "exactly one fd, this one 2"),
                new Unexpected("a version 2 frame with 3 fds", WireFormat.encode(8192, 1, "three", "memfd", null), 3,
                        "EPROTO", "exactly one fd, this one 3"),
                new Unexpected("a frame whose fence fd is a memfd", fenceFrame, 2, "EPROTO", "is no sync_file"),
                new Unexpected("a RELEASE with an fd", WireFormat.encodeRelease(1), 1, "EPROTO",
                        "a RELEASE carries no fds, this one 1"),
                new Unexpected("a message of version 3", header(3, 1, 64), 2, "EPROTO", "unsupported version 3"),
                new Unexpected("a message of type 7", header(2, 7, 64), 1, "EPROTO", "unknown message type 7"),
                new Unexpected("8 bytes", new byte[8], 1, "EPROTO", "shorter than the 16 bytes"),
                new Unexpected("a message longer than 512 bytes", header(2, 1, 600), 2, "EMSGSIZE",
                        "longer than 512 bytes"),
                new Unexpected("20 fds, more than the control buffer holds", WireFormat.encode(8192, 1, "flood",
                        "memfd", null), 20, "EMSGSIZE", "control data truncated"));
    }

    @ParameterizedTest(name = "with releases: {0}")
    @ValueSource(booleans = {false, true})
    void fdsThatArriveUnexpectedWithAMessageOfAnyVersionOrKindAreClosed(boolean releases) {
        ChannelOptions options = releases ? ChannelOptions.sameUser().withReleases() : ChannelOptions.sameUser();
        try (ChannelListener l = bob.channels().listen(tmp.resolve("run/unexpected.sock"), options);
             UnixSocket hostile = UnixSocket.connect(l.path());
             BufferChannel in = l.accept(Duration.ofSeconds(10))) {
            for (Unexpected u : unexpected()) {
                int[] fds = new int[u.fds()];
                List<Fd> ours = new ArrayList<>();
                for (int i = 0; i < fds.length; i++) {
                    Fd m = memfd(UNEXPECTED, 8192);
                    ours.add(m);
                    fds[i] = m.get();
                }
                ChannelTest.sendRaw(hostile.fd(), u.data(), fds);
                ours.forEach(Fd::close);
                if (!releases) {
                    // nobody reads before receive (a channel with releases has its reader thread read at once)
                    assertThat(ChannelTest.memfdsNamed(UNEXPECTED)).as("%s: in flight, none held here", u.what())
                            .isZero();
                }
                assertThatThrownBy(() -> in.receive(Duration.ofSeconds(10))).as(u.what())
                        .isInstanceOf(ChannelProtocolException.class)
                        .hasMessageContaining("receive: " + u.errno()).hasMessageContaining(u.message());
                assertThat(ChannelTest.memfdsNamed(UNEXPECTED)).as("%s: every fd that came was closed", u.what())
                        .isZero();
                assertThat(bob.bufinfo()).as("%s: no buffer taken", u.what()).isEmpty();
            }
            // and the channel still takes a well-formed frame
            try (Fd good = memfd("sec-good", 8192)) {
                hostile.send(WireFormat.encode(8192, 5, "good", "memfd", null), good.get());
                try (ReceivedBuffer r = in.receive(Duration.ofSeconds(10))) {
                    assertThat(r.tag()).isEqualTo(5);
                }
            }
        }
    }

    @Test
    void aMemfdWhoseNameForgesFdinfoKeysIsTakenForWhatTheKernelSaysItIs() {
        String forged = "x\nexp_name:\tsystem\nsize:\t1\nino:\t1\nname:\ty";
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             Fd m = memfd(forged, 8192)) {
            assertThat(FdInfo.read(m.get()).isDmaBuf()).as("the kernel's fdinfo of a memfd has no exp_name")
                    .isFalse();
            hostile.send(WireFormat.encode(8192, 3, "forged", "system", null), m.get());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                DmaBuf b = r.buffer();
                assertThat(b.kind()).as("a memfd, whatever its name").contains(BufferKind.MEMFD);
                assertThat(b.exporterName()).as("the kernel's kind, not the frame's exporter name or the memfd's")
                        .contains("memfd");
                assertThat(b.size()).isEqualTo(Sys.fstat(m.get()).size()).isEqualTo(8192);
                assertThat(b.id()).as("the same file as the peer's").isEqualTo(Sys.fstat(m.get()).id());
                assertThat(r.exporter()).as("what the frame said, reported as such").isEqualTo("system");
                assertThat(bob.bufinfo()).singleElement().satisfies(i -> {
                    assertThat(i.expName()).isEqualTo("memfd");
                    assertThat(i.size()).isEqualTo(8192);
                });
            }
        }
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the peer exits").isTrue();
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
        assertThat(p.exitValue()).as("the peer's status; it said:%n%s", out).isZero();
        return out;
    }

    @Test
    void aPeerCannotResizeTheMemfdItReceivedAndTheSendersReaderReadsEveryByte() throws Exception {
        Path peer = CProbe.compile(Path.of("src/test/c/security_peer.c"), Path.of("target/probe"));
        try (DmaBuf shared = alice.allocate(BufferRequest.ofSize(65536).name("truncate-me"))) {
            // the peer connects to a listener of alice's, in another process
            try (ChannelListener l = alice.channels().listen(tmp.resolve("run/peer.sock"),
                    ChannelOptions.sameUser())) {
                Process p = new ProcessBuilder(peer.toString(), "truncate", l.path().toString())
                        .redirectErrorStream(true).start();
                try (BufferChannel toPeer = l.accept(Duration.ofSeconds(60))) {
                    assertThat(toPeer).as("the peer connects").isNotNull();
                    fill(shared, 21);
                    toPeer.send(shared, 21);
                    String said = finish(p);
                    assertThat(said).as("every resize through the received fd fails")
                            .contains("size=65536 ftruncate0=EPERM ftruncate2x=EPERM fallocate=EPERM "
                                    + "size_after=65536");
                    assertThat(Sys.fstat(shared.fd()).size()).as("the sender's file keeps its size")
                            .isEqualTo(65536);
                    byte[] all = new byte[65536];
                    try (CpuAccess a = shared.beginCpuAccess(SyncDirection.READ)) {
                        a.read(0, all, 0, all.length); // every byte: a page past the file's end would be a SIGBUS
                    }
                    for (int i = 0; i < all.length - 1; i++) {
                        assertThat(all[i]).as("byte %d", i).isEqualTo(PeerMain.pattern(i, 21));
                    }
                    assertThat(all[65535]).as("the peer's write, through the same memory").isEqualTo((byte) 0x5a);
                }
            }
        }
    }

    private static boolean setprivWorks() {
        try {
            Process p = new ProcessBuilder("setpriv", "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID,
                    "--clear-groups", "true").redirectErrorStream(true).start();
            boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            p.getInputStream().close();
            p.getOutputStream().close();
            p.getErrorStream().close();
            return ok;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void aClientRefusesAServerOfAUidItDoesNotAllow() throws Exception {
        assumeTrue(SocketLibC.getuid() == 0 && setprivWorks(), "needs root and setpriv to run a server as uid "
                + OTHER_UID);
        Path dir = Files.createDirectory(tmp.resolve("theirs"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setAttribute(dir, "unix:uid", OTHER_UID);
        Path sock = dir.resolve("impostor.sock");
        // a server of another user's: it accepts two connections and holds each until the client hangs up
        Path peer = CProbe.compile(Path.of("src/test/c/security_peer.c"), Path.of("target/probe"));
        Process p = new ProcessBuilder("setpriv", "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID, "--clear-groups",
                peer.toString(), "serve", sock.toString(), "2").redirectErrorStream(true).start();
        try {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(r.readLine()).isEqualTo("security_peer: listening");
            assertThatThrownBy(() -> alice.channels().connect(sock, ChannelOptions.sameUser()))
                    .isInstanceOf(DmaBufException.class).hasMessageContaining("connect: EACCES")
                    .hasMessageContaining("runs as uid " + OTHER_UID).hasMessageContaining("not allowed");
            try (BufferChannel allowed = alice.channels().connect(sock, ChannelOptions.allowUids(OTHER_UID))) {
                assertThat(allowed.peer().uid()).as("the same server, once its uid is allowed").isEqualTo(OTHER_UID);
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the server saw both connections end").isTrue();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            p.getInputStream().close();
            p.getOutputStream().close();
            p.getErrorStream().close();
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        }
    }
}
