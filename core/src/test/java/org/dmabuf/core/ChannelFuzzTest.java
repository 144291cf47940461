package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Fuzz;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes a channel's receiving side over a real Unix-domain socket: a hostile peer sends random bytes, mutated
 * frames of both versions and mutated RELEASEs, each with 0 to 4 fds (memfds of the right and of a wrong size, a
 * pipe), and now and then 20 fds (more than the receiver's control buffer holds: {@code MSG_CTRUNC}). Properties,
 * for a channel without releases (the caller reads) and one with (its reader thread reads): every message gives
 * exactly one answer, a frame or a typed refusal ({@link DmaBufException} with an errno); after it the process
 * holds exactly the fds and mappings it held before (every fd that came is closed, every buffer taken is put); and
 * the channel stays usable. Each input is checked under {@link Fuzz}'s hang limit.
 *
 * <p>Inputs: {@link Fuzz} ({@code -Dfuzz.inputs}, 2000 per property in CI; {@code -Dfuzz.seed}); the long run's one
 * command is in {@code WireFormatFuzzTest}.
 */
class ChannelFuzzTest {
    private static final int SIZE = 8192;
    private static final int WRONG_SIZE = 4096;
    private Path dir;
    private StandaloneRegistry bob;
    private ChannelListener listener;
    private UnixSocket hostile;
    private BufferChannel in;
    private Fd right;
    private Fd wrong;
    private UnixSocket[] pair;
    private long fdsBefore;
    private long mapsBefore;
    /** The fds once the channel and the peer's fds are open. */
    private long fdsOpen;

    /** What the hostile peer sends: the bytes and which fds (0 right size, 1 wrong size, 2 a socket; -1 a flood). */
    record Send(byte[] data, List<Integer> fds) {
        @Override
        public String toString() {
            return Fuzz.hex(data) + " with fds " + fds + " (0 the right memfd, 1 a wrong one, 2 a socket; -1 20 fds)";
        }
    }

    /** Opens the channel and the peer at the property's first input (one channel for all its inputs). */
    private void open(boolean releases) throws IOException {
        if (in != null) {
            return;
        }
        fdsBefore = TestSupport.openFds();
        mapsBefore = TestSupport.mappings("/memfd:fuzz", "/memfd:test-");
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "channel-fuzz");
        bob = ChannelFixture.registry("bob");
        ChannelOptions options = releases ? ChannelOptions.sameUser().withReleases() : ChannelOptions.sameUser();
        listener = bob.channels().listen(dir.resolve("run/fuzz.sock"), options);
        hostile = UnixSocket.connect(listener.path());
        in = listener.accept(Duration.ofSeconds(10));
        right = Sys.memfd("fuzz-right", LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(right.get(), SIZE);
        wrong = Sys.memfd("fuzz-wrong", LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(wrong.get(), WRONG_SIZE);
        pair = UnixSocket.pair();
        fdsOpen = TestSupport.openFds();
    }

    @AfterEach
    void nothingLeft() throws IOException {
        if (in == null) {
            return;
        }
        in.close();
        hostile.close();
        listener.close();
        bob.close();
        right.close();
        wrong.close();
        pair[0].close();
        pair[1].close();
        Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        assertThat(TestSupport.openFds()).as("fds left: %s", TestSupport.openFdTargets()).isEqualTo(fdsBefore);
        assertThat(TestSupport.mappings("/memfd:fuzz", "/memfd:test-")).isEqualTo(mapsBefore);
    }

    /** Mutated frames (with the right memfd's sizes when their layout fits), mutated RELEASEs, random bytes. */
    private static byte[] data(SplittableRandom r) {
        int k = r.nextInt(10);
        if (k < 6) {
            WireFormatFuzzTest.Spec spec = WireFormatFuzzTest.frameSpec(r);
            List<WireFormatFuzzTest.Mutation> mutations = WireFormatFuzzTest.mutations(r, 0);
            boolean fix = r.nextBoolean();
            long[] sizes = spec.sizes().clone();
            boolean fits = true;
            for (int i = 0; i < sizes.length; i++) {
                fits &= spec.format() == null || spec.format().bufferSize(i) <= SIZE;
            }
            if (fits) {
                java.util.Arrays.fill(sizes, SIZE); // the right memfd's size: such a frame may be taken
            }
            byte[] data;
            try {
                data = new WireFormatFuzzTest.Spec(spec.version(), spec.frameId(), spec.tag(), spec.name(),
                        spec.exporter(), sizes, spec.format(), spec.flags(), spec.fences()).encode();
            } catch (org.dmabuf.api.InvalidArgumentException e) {
                data = WireFormat.encode(SIZE, 1, "plain", "memfd", null);
            }
            return WireFormatFuzzTest.mutate(data, mutations, fix);
        }
        if (k < 8) {
            return WireFormatFuzzTest.mutate(WireFormat.encodeRelease(Fuzz.anyLong(r)),
                    WireFormatFuzzTest.mutations(r, 0), false);
        }
        return WireFormatFuzzTest.randomMessage(r);
    }

    /** A message and its fds: mostly none or the right memfd, now and then a wrong one, a socket or a flood. */
    static Send message(SplittableRandom r) {
        byte[] data = data(r);
        if (r.nextInt(40) == 7) {
            return new Send(data, List.of(-1)); // a flood now and then
        }
        return new Send(data, Fuzz.list(r, 0, 4, g -> {
            int k = g.nextInt(10);
            return k < 8 ? 0 : k - 7;
        }));
    }

    private int fd(int which) {
        return which == 0 ? right.get() : which == 1 ? wrong.get() : pair[0].fd();
    }

    private void fuzz(Send s, boolean releases) throws IOException {
        open(releases);
        if (s.fds().equals(List.of(-1))) {
            int[] flood = new int[20];
            java.util.Arrays.fill(flood, right.get());
            // sendmsg of no bytes with fds sends nothing on a SOCK_SEQPACKET socket: one byte at least
            ChannelTest.sendRaw(hostile.fd(), s.data().length == 0 ? new byte[1] : s.data(), flood);
        } else {
            hostile.send(s.data(), s.fds().stream().mapToInt(this::fd).toArray());
        }
        try (ReceivedBuffer r = in.receive(Duration.ofSeconds(30))) {
            assertThat(r).as("one answer per message").isNotNull();
            Fuzz.outcome("frame taken");
            for (int i = 0; i < r.buffers().size(); i++) {
                // a frame that says the size of the fd that came is taken, be it the right memfd or the wrong one
                assertThat(r.buffers().get(i).size()).as("buffer %d is the memfd that came", i)
                        .isEqualTo(s.fds().get(i) == 0 ? SIZE : WRONG_SIZE);
            }
        } catch (DmaBufException e) {
            Fuzz.outcome(WireFormatFuzzTest.outcome(e));
            assertThat(e.errno()).as("a typed refusal names its errno: %s", e).isIn("EPROTO", "EMSGSIZE", "EINVAL",
                    "EBADF");
            assertThat(e.getMessage()).as("the channel is not ended by a bad message").doesNotContain("EPIPE");
        }
        for (UnixSocket.Message back = hostile.receive(WireFormat.READ_LIMIT, Duration.ZERO); back != null;
                back = hostile.receive(WireFormat.READ_LIMIT, Duration.ZERO)) {
            back.close(); // a RELEASE the receiver sent for a frame that asked for one
        }
        assertThat(TestSupport.openFds()).as("every fd that came was closed: %s", TestSupport.openFdTargets())
                .isEqualTo(fdsOpen);
        assertThat(TestSupport.mappings("/memfd:fuzz", "/memfd:test-")).as("no mapping left").isEqualTo(mapsBefore);
        assertThat(bob.bufinfo()).as("every buffer taken was put").isEmpty();
    }

    @Test
    void anyMessageWithAnyFdsGetsOneTypedAnswerAndLeavesNothing() {
        Fuzz.check("ChannelFuzzTest#anyMessageWithAnyFdsGetsOneTypedAnswerAndLeavesNothing", ChannelFuzzTest::message,
                Send::toString, s -> fuzz(s, false));
    }

    @Test
    void onAChannelWithReleasesAnyMessageGetsOneTypedAnswerAndLeavesNothing() {
        Fuzz.check("ChannelFuzzTest#onAChannelWithReleasesAnyMessageGetsOneTypedAnswerAndLeavesNothing",
                ChannelFuzzTest::message, Send::toString, s -> fuzz(s, true));
    }
}
