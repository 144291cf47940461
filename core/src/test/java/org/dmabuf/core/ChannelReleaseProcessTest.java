package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.CProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release path between processes, with peers written from {@code docs/wire-format.md}: the C peer and the
 * Python example consumer receive frames carrying the test pattern from a Java sender with releases, check every
 * byte and return every frame; a peer killed while holding frames returns them all; the C peer sends frames asking
 * for releases and Java returns them.
 */
class ChannelReleaseProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Path CONSUMER = Path.of("../examples/python/dmabuf_consumer.py");
    private static Path cPeer;

    @TempDir
    Path tmp;
    StandaloneRegistry registry;
    ChannelListener listener;
    private final List<AutoCloseable> buffers = new ArrayList<>();
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
        listener = registry.channels().listen(tmp.resolve("run/release.sock"), ChannelOptions.sameUser()
                .withReleases());
    }

    @AfterEach
    void nothingLeft() throws Exception {
        for (AutoCloseable b : buffers) {
            b.close();
        }
        listener.close();
        registry.close();
        assertThat(Leaks.openFds()).as("fds left: %s", Leaks.openFdList()).isEqualTo(fdsBefore);
        assertThat(Leaks.memfdMappings()).as("mappings left").isEqualTo(mapsBefore);
    }

    private static Process start(List<String> cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static Process cPeer(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(cPeer.toString()));
        cmd.addAll(List.of(args));
        return start(cmd);
    }

    private static Process python(String... args) throws IOException {
        boolean present;
        try {
            Process v = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            v.getInputStream().readAllBytes();
            present = v.waitFor(30, TimeUnit.SECONDS) && v.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            present = false;
        }
        Assumptions.assumeTrue(present, "python3 is not installed: the Python example consumer cannot be run");
        List<String> cmd = new ArrayList<>(List.of("python3", CONSUMER.toString()));
        cmd.addAll(List.of(args));
        return start(cmd);
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the peer exits").isTrue();
        assertThat(p.exitValue()).as("the peer's status; it said:%n%s", out).isZero();
        closeStreams(p);
        return out;
    }

    private static void closeStreams(Process p) throws IOException {
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
    }

    private DmaBuf buffer(long size, long tag) {
        DmaBuf b = registry.allocate(BufferRequest.ofSize(size).name("release-" + tag));
        buffers.add(b);
        ChannelReleaseTest.fillPattern(b, tag, 0);
        return b;
    }

    private FrameBuffer nv12m(long tag) {
        FrameBuffer f = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48).name("nv12m"));
        buffers.add(f);
        for (int b = 0; b < 2; b++) {
            ChannelReleaseTest.fillPattern(f.buffer(b), tag, b);
        }
        return f;
    }

    /**
     * Sends {@code frames} single-buffer frames and one NV12M frame with the pattern of their tags, and waits
     * until the peer returned every one; returns every buffer sent.
     */
    private List<DmaBuf> sendAndAwaitReturns(BufferChannel ch, int frames) {
        List<Long> returned = new CopyOnWriteArrayList<>();
        ch.onRelease(returned::add);
        List<DmaBuf> sent = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            DmaBuf b = buffer(4096L * (1 + i % 3), 100 + i);
            ch.send(b, 100 + i, WAIT);
            sent.add(b);
        }
        FrameBuffer f = nv12m(500);
        assertThat(ch.send(f, 500, WAIT)).isEqualTo(frames + 1);
        sent.addAll(f.buffers());
        await().atMost(WAIT).until(() -> ch.framesOut() == 0);
        assertThat(returned).as("every frame came back, each once").hasSize(frames + 1)
                .containsExactlyInAnyOrderElementsOf(ids(frames + 1));
        assertThat(sent).as("every reference the channel held was put").allSatisfy(b ->
                assertThat(b.refCount()).isEqualTo(1));
        return sent;
    }

    private static List<Long> ids(int n) {
        List<Long> ids = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            ids.add(i);
        }
        return ids;
    }

    @Test
    void aCPeerChecksEveryByteOfEveryFrameAndReturnsEachOne() throws Exception {
        int frames = 20;
        Process p = cPeer("consume", listener.path().toString());
        try (BufferChannel ch = listener.accept(WAIT)) {
            assertThat(ch.peer().pid()).isEqualTo(p.pid());
            sendAndAwaitReturns(ch, frames);
        }
        assertThat(finish(p)).contains("channel_peer: frames=21 ok=21 bad=0 released=21");
    }

    @Test
    void thePythonConsumerChecksEveryFrameReturnsEachOneAndTellsStaleAndTornFrames() throws Exception {
        int frames = 20;
        Process p = python(listener.path().toString(), "--verify");
        try (BufferChannel ch = listener.accept(WAIT)) {
            assertThat(ch.peer().pid()).isEqualTo(p.pid());
            sendAndAwaitReturns(ch, frames);
            DmaBuf stale = buffer(8192, 5); // the picture of frame 5, sent as frame 6
            ch.send(stale, 6, WAIT);
            DmaBuf torn = buffer(8192, 7); // half of frame 7, half of frame 8
            try (CpuAccess a = torn.beginCpuAccess(SyncDirection.WRITE)) {
                for (int i = 4096; i < 8192; i++) {
                    a.putByte(i, ChannelReleaseTest.pattern(8, 0, i));
                }
            }
            ch.send(torn, 7, WAIT);
            await().atMost(WAIT).until(() -> ch.framesOut() == 0);
        }
        assertThat(finish(p)).contains("frames=23 ok=21 torn=1 stale=1 unchecked=0 refused=0 released=23\n");
    }

    @Test
    void aCPeerKilledWhileHoldingFramesReturnsThemAll() throws Exception {
        Process p = cPeer("hold", listener.path().toString(), "4");
        try (BufferChannel ch = listener.accept(WAIT)) {
            List<DmaBuf> sent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                sent.add(buffer(4096, i));
                ch.send(sent.get(i), i, WAIT);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(r.readLine()).isEqualTo("channel_peer: holding 4 frames");
            assertThat(ch.framesOut()).isEqualTo(4);
            assertThat(sent).allSatisfy(b -> assertThat(b.refCount()).as("held for the peer").isEqualTo(2));
            killed(p, ch, sent);
        }
    }

    @Test
    void aPythonConsumerKilledWhileHoldingFramesReturnsThemAll() throws Exception {
        Process p = python(listener.path().toString(), "--delay-ms", "600000");
        try (BufferChannel ch = listener.accept(WAIT)) {
            List<DmaBuf> sent = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                sent.add(buffer(4096, i));
                ch.send(sent.get(i), i, WAIT);
            }
            assertThat(ch.framesOut()).isEqualTo(3);
            killed(p, ch, sent);
        }
    }

    private static void killed(Process p, BufferChannel ch, List<DmaBuf> sent) throws Exception {
        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        closeStreams(p);
        await().atMost(WAIT).until(() -> ch.framesOut() == 0);
        assertThat(sent).as("no reference left for the dead peer").allSatisfy(b ->
                assertThat(b.refCount()).isEqualTo(1));
        assertThatThrownBy(() -> ch.receive(WAIT)).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("EPIPE");
    }

    @Test
    void aCPeerSendingFramesThatAskForReleasesGetsEachBackWhenJavaClosesIt() throws Exception {
        int frames = 5;
        Process p = cPeer("sendrelease", listener.path().toString(), Integer.toString(frames), "8192");
        try (BufferChannel ch = listener.accept(WAIT)) {
            for (int id = 1; id <= frames; id++) {
                try (ReceivedBuffer r = ch.receive(WAIT)) {
                    assertThat(r.frameId()).isEqualTo(id);
                    assertThat(r.tag()).isEqualTo(id);
                    try (CpuAccess a = r.buffer().beginCpuAccess(SyncDirection.READ)) {
                        for (long i : new long[] {0, 1000, 8191}) {
                            assertThat(a.getByte(i)).isEqualTo(ChannelReleaseTest.pattern(id, 0, i));
                        }
                    }
                }
            }
            assertThat(finish(p)).contains("channel_peer: 5 frames released");
        }
    }
}
