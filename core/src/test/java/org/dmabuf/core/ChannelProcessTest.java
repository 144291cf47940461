package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.CProbe;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffer channels between processes: a second JVM ({@link PeerMain}) and a C peer written from
 * {@code docs/wire-format.md}, in both directions (single buffers and two-buffer NV12M frames), and a peer killed
 * mid-stream.
 */
class ChannelProcessTest {
    private static Path cPeer;

    @TempDir
    Path tmp;
    StandaloneRegistry registry;
    ChannelListener listener;
    private long fdsBefore;
    private long mapsBefore;

    @BeforeAll
    static void buildCPeer() throws Exception {
        cPeer = CProbe.compile(Path.of("src/test/c/channel_peer.c"), Path.of("target/probe"));
    }

    @BeforeEach
    void open() {
        fdsBefore = Leaks.openFds();
        mapsBefore = Leaks.memfdMappings();
        registry = ChannelFixture.registry("test");
        listener = registry.channels().listen(tmp.resolve("run/peer.sock"), ChannelOptions.sameUser());
    }

    @AfterEach
    void nothingLeft() {
        listener.close();
        registry.close();
        assertThat(Leaks.openFds()).as("buffer fds left").isEqualTo(fdsBefore);
        assertThat(Leaks.memfdMappings()).as("mappings left").isEqualTo(mapsBefore);
    }

    private Process javaPeer(String... args) throws IOException {
        return new ProcessBuilder(PeerMain.command(args)).redirectErrorStream(true).start();
    }

    private static Process cPeer(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(cPeer.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the peer exits").isTrue();
        assertThat(p.exitValue()).as("the peer's status; it said:%n%s", out).isZero();
        closeStreams(p);
        return out;
    }

    /** The pipes to a child: the JDK closes them only when its reaper thread gets to it, after waitFor returns. */
    private static void closeStreams(Process p) throws IOException {
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
    }

    private void sendTo(Process peer, long tag, long size) throws Exception {
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60));
             DmaBuf b = registry.allocate(BufferRequest.ofSize(size).name("to-peer"))) {
            assertThat(ch).as("the peer connects").isNotNull();
            assertThat(ch.peer().pid()).isEqualTo(peer.pid());
            ChannelFixture.fill(b, tag);
            ch.send(b, tag);
            String out = finish(peer);
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
                assertThat(a.getLong(size - 8)).as("the peer's answer, read in place; it said: " + out)
                        .isEqualTo(tag * 3 + 1);
            }
        }
    }

    private void receiveFrom(Process peer, long tag, long size, String name) throws Exception {
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60))) {
            assertThat(ch).as("the peer connects").isNotNull();
            try (ReceivedBuffer r = ch.receive(Duration.ofSeconds(60))) {
                assertThat(r.tag()).isEqualTo(tag);
                assertThat(r.name()).isEqualTo(name);
                assertThat(r.buffer().size()).isEqualTo(size);
                try (CpuAccess a = r.buffer().beginCpuAccess(SyncDirection.READ_WRITE)) {
                    assertThat(a.getByte(size - 1)).isEqualTo(PeerMain.pattern(size - 1, tag));
                    a.putLong(8, tag * 5);
                }
            }
        }
        finish(peer);
    }

    @Test
    void aSecondJvmReceivesChecksAndAnswersInPlace() throws Exception {
        sendTo(javaPeer("answer", listener.path().toString()), 21, 256 * 1024);
    }

    @Test
    void aSecondJvmSendsAndReadsOurAnswerInPlace() throws Exception {
        receiveFrom(javaPeer("send", listener.path().toString(), "131072", "33"), 33, 131072, "from-peer");
    }

    @Test
    void aCPeerReceivesChecksAndAnswers() throws Exception {
        sendTo(cPeer("recv", listener.path().toString()), 5, 65536);
    }

    @Test
    void aCPeerSends() throws Exception {
        receiveFrom(cPeer("send", listener.path().toString(), "65536", "8"), 8, 65536, "from-c");
    }

    @Test
    void aCPeerSendsATwoBufferNv12mFrameAndReadsOurAnswersInPlace() throws Exception {
        Process p = cPeer("sendnv12m", listener.path().toString(), "64", "48", "128", "12");
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60))) {
            assertThat(ch).as("the peer connects").isNotNull();
            try (ReceivedBuffer r = ch.receive(Duration.ofSeconds(60))) {
                assertThat(r.tag()).isEqualTo(12);
                assertThat(r.name()).isEqualTo("nv12m-from-c");
                assertThat(r.exporter()).isEqualTo("memfd");
                assertThat(r.format()).contains(new BufferFormat(BufferFormat.fourcc("NV12"), PixelFormat.MOD_LINEAR,
                        64, 48, List.of(new Plane(0, 0, 128 * 48, 128), new Plane(1, 0, 128 * 24, 128))));
                assertThat(r.format().get().pixelFormat()).contains(PixelFormat.NV12M);
                assertThat(r.buffers()).extracting(DmaBuf::size).containsExactly(128L * 48, 128L * 24);
                assertThat(r.buffers()).extracting(DmaBuf::exporterName).containsOnly(Optional.of("memfd"));
                for (int b = 0; b < 2; b++) {
                    DmaBuf buf = r.buffers().get(b);
                    try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                        for (long i : new long[] {0, 100, buf.size() - 1}) {
                            assertThat(a.getByte(i)).as("byte %d of buffer %d", i, b)
                                    .isEqualTo(PeerMain.pattern(i, 12 + b));
                        }
                        a.putLong(8, 12 * 5 + b);
                    }
                }
            }
        }
        assertThat(finish(p)).contains("sent NV12M, answers ok");
    }

    @Test
    void aCPeerReceivesATwoBufferNv12mFrameAndSeesEveryField() throws Exception {
        Process p = cPeer("recv", listener.path().toString());
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60));
             FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48)
                     .name("nv12m-to-c"))) {
            assertThat(ch.peer().pid()).isEqualTo(p.pid());
            for (int b = 0; b < 2; b++) {
                ChannelFixture.fill(frame.buffer(b), 13 + b);
            }
            ch.send(frame, 13, Duration.ofSeconds(60));
            String out = finish(p);
            BufferFormat f = frame.format();
            Plane y = f.planes().get(0);
            Plane uv = f.planes().get(1);
            assertThat(out).as("the C peer's reading of every field").contains("frame version=2 id=1 tag=13 "
                    + "name=nv12m-to-c exporter=memfd buffers=2 fences=0 fourcc=NV12 width=64 height=48 "
                    + "modifier=0x0000000000000000 sizes=" + frame.buffer(0).size() + "," + frame.buffer(1).size()
                    + " planes=0:" + y.offset() + "+" + y.length() + "/" + y.stride() + ",1:" + uv.offset() + "+"
                    + uv.length() + "/" + uv.stride() + "\n");
            for (int b = 0; b < 2; b++) {
                DmaBuf buf = frame.buffer(b);
                try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(a.getLong(buf.size() - 8)).as("the peer's answer in buffer %d; it said: %s", b, out)
                            .isEqualTo(13 * 3 + 1 + b);
                }
            }
        }
    }

    @Test
    void aCPeerFloodingFdsIsRefusedAndEveryFdClosed() throws Exception {
        Process p = cPeer("flood", listener.path().toString(), "40");
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60))) {
            assertThatThrownBy(() -> ch.receive(Duration.ofSeconds(60)))
                    .isInstanceOf(ChannelProtocolException.class).hasMessageContaining("EMSGSIZE")
                    .hasMessageContaining("control data truncated");
        }
        finish(p);
    }

    @Test
    void aPeerTruncatingAMemfdWhileSendingItIsRefusedOrGivesTheSealedSize() throws Exception {
        int rounds = 200;
        Process p = cPeer("truncate", listener.path().toString(), Integer.toString(rounds));
        int accepted = 0;
        int refused = 0;
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60))) {
            assertThat(ch).as("the peer connects").isNotNull();
            for (int round = 0; round < rounds; round++) {
                try (ReceivedBuffer r = ch.receive(Duration.ofSeconds(60))) {
                    DmaBuf b = r.buffer();
                    assertThat(r.tag()).isEqualTo(round);
                    int seals = Sys.fcntl(b.fd(), LibC.F_GET_SEALS, "F_GET_SEALS", 0);
                    assertThat(seals & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW)).as("sealed")
                            .isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
                    assertThat(b.size()).as("the size once sealed, which the frame said")
                            .isEqualTo(Sys.fstat(b.fd()).size()).isEqualTo(65536);
                    byte[] all = new byte[(int) b.size()];
                    try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
                        a.read(0, all, 0, all.length); // every byte: past the file's end would be a SIGBUS
                    }
                    accepted++;
                } catch (ChannelProtocolException e) {
                    assertThat(e.errno()).isEqualTo("EPROTO");
                    assertThat(e).hasMessageContaining("the frame says 65536 bytes but the fd's buffer has");
                    refused++;
                } catch (DmaBufException e) {
                    assertThat(e.errno()).as("refused because sealing failed: %s", e).isEqualTo("EPERM");
                    refused++;
                }
            }
        }
        String out = finish(p);
        assertThat(accepted + refused).as("every round answered; the peer said %s", out).isEqualTo(rounds);
        assertThat(out).contains(rounds + " rounds, " + rounds + " stopped by the seal");
    }

    @Test
    void aPeerKilledMidStreamLeavesNothingBehind() throws Exception {
        Process p = javaPeer("hold", listener.path().toString());
        try (BufferChannel ch = listener.accept(Duration.ofSeconds(60));
             DmaBuf b = registry.allocate(BufferRequest.ofSize(65536).name("held"))) {
            ch.send(b, 1);
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = r.readLine();
            assertThat(line).as("the peer holds the buffer").startsWith("peer: holding inode " + b.inode());
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            closeStreams(p);
            assertThatThrownBy(() -> ch.receive(Duration.ofSeconds(30))).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE");
            assertThat(b.refCount()).as("the survivor's buffer is untouched").isEqualTo(1);
            try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
                w.putInt(0, 1);
            }
        }
    }
}
