package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java consumer process SIGKILLed in the middle of a share with releases: it holds some frames (received, mapped,
 * read) while others are still in flight in the socket; the producer gets every buffer back (no frame out, every
 * reference the channel took put), the buffers' data is intact and writable, and nothing is left (fds, mappings).
 * The C and Python consumers killed while holding frames are {@link ChannelReleaseProcessTest}'s.
 */
class ConsumerKillFaultTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    private StandaloneRegistry registry;
    private ChannelListener listener;
    private long fdsBefore;
    private long mapsBefore;

    @BeforeEach
    void open() {
        fdsBefore = Leaks.openFds();
        mapsBefore = Leaks.memfdMappings();
        registry = ChannelFixture.registry("producer");
        listener = registry.channels().listen(tmp.resolve("run/kill.sock"), ChannelOptions.sameUser().withReleases());
    }

    @AfterEach
    void nothingLeft() {
        listener.close();
        registry.close();
        assertThat(Leaks.openFds()).as("fds left: %s", Leaks.openFdList()).isEqualTo(fdsBefore);
        assertThat(Leaks.memfdMappings()).as("mappings left").isEqualTo(mapsBefore);
    }

    @Test
    void aJavaConsumerKilledHoldingSomeFramesWithOthersInFlightGivesTheProducerEveryBufferBackIntact()
            throws Exception {
        int sent = 6;
        int held = 3;
        // PeerMain's command line and classpath, with the holder below as the main class
        List<String> cmd = new ArrayList<>(PeerMain.command());
        cmd.set(cmd.indexOf(PeerMain.class.getName()), Holder.class.getName());
        cmd.addAll(List.of(listener.path().toString(), Integer.toString(held)));
        Process consumer = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<DmaBuf> buffers = new ArrayList<>();
        try (BufferChannel ch = listener.accept(WAIT)) {
            assertThat(ch.peer().pid()).isEqualTo(consumer.pid());
            for (int i = 0; i < sent; i++) {
                DmaBuf b = registry.allocate(BufferRequest.ofSize(8192).name("kill-" + i));
                buffers.add(b);
                ChannelReleaseTest.fillPattern(b, i, 0);
                ch.send(b, i, WAIT);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(consumer.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(r.readLine()).isEqualTo("holder: holding " + held + " frames, pattern ok");
            assertThat(ch.framesOut()).as("frames held or in flight").isEqualTo(sent);
            assertThat(buffers).allSatisfy(b -> assertThat(b.refCount()).as("one reference for the peer")
                    .isEqualTo(2));

            consumer.destroyForcibly(); // SIGKILL
            assertThat(consumer.waitFor(30, TimeUnit.SECONDS)).isTrue();
            consumer.getInputStream().close();
            consumer.getOutputStream().close();

            await("every frame back").atMost(WAIT).until(() -> ch.framesOut() == 0);
            assertThat(buffers).as("no reference left for the dead consumer").allSatisfy(b ->
                    assertThat(b.refCount()).isEqualTo(1));
            assertThatThrownBy(() -> ch.receive(WAIT)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE");
        }
        for (int i = 0; i < sent; i++) {
            DmaBuf b = buffers.get(i);
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ_WRITE)) {
                for (long at : new long[] {0, 4095, 8191}) {
                    assertThat(a.getByte(at)).as("byte %d of buffer %d", at, i)
                            .isEqualTo(ChannelReleaseTest.pattern(i, 0, at));
                }
                a.putByte(0, (byte) 1);
            }
            b.close();
        }
    }

    /**
     * The consumer process: connects, receives {@code args[1]} frames, maps each and checks its pattern, keeps them,
     * says so on one line and blocks on its standard input until it is killed.
     */
    static final class Holder {
        private Holder() {
        }

        public static void main(String[] args) throws Exception {
            try (StandaloneRegistry registry = ChannelFixture.registry("holder");
                 BufferChannel ch = registry.channels().connect(Path.of(args[0]), ChannelOptions.sameUser())) {
                List<ReceivedBuffer> kept = new ArrayList<>();
                for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                    ReceivedBuffer r = ch.receive(WAIT);
                    try (CpuAccess a = r.buffer().beginCpuAccess(SyncDirection.READ)) {
                        if (a.getByte(100) != ChannelReleaseTest.pattern(r.tag(), 0, 100)) {
                            throw new AssertionError("frame " + r.tag() + ": wrong pattern");
                        }
                    }
                    kept.add(r);
                }
                System.out.println("holder: holding " + kept.size() + " frames, pattern ok");
                System.out.flush();
                System.in.read(); // until killed
            } catch (Throwable t) {
                System.out.println("holder: FAILED: " + t);
            }
            System.exit(1);
        }
    }
}
