package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterProperty;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.TryTimeout;
import org.dmabuf.linux.UnixSocket;

/**
 * Fuzzes a channel's receiving side over a real Unix-domain socket: a hostile peer sends random bytes, mutated
 * frames of both versions and mutated RELEASEs, each with 0 to 4 fds (memfds of the right and of a wrong size, a
 * pipe), and now and then 20 fds (more than the receiver's control buffer holds: {@code MSG_CTRUNC}). Properties,
 * for a channel without releases (the caller reads) and one with (its reader thread reads): every message gives
 * exactly one answer, a frame or a typed refusal ({@link DmaBufException} with an errno); after it the process
 * holds exactly the fds and mappings it held before (every fd that came is closed, every buffer taken is put); and
 * the channel stays usable. Each try runs under {@link TryTimeout}.
 *
 * <p>Tries: {@code jqwik.tries.default}, 1000 in CI; the long run's one command is in {@code WireFormatFuzzTest}.
 */
@AddLifecycleHook(TryTimeout.class)
class ChannelFuzzTest {
    private static final int SIZE = 8192;
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
            return java.util.HexFormat.of().formatHex(data) + " with fds " + fds;
        }
    }

    /** Opens the channel and the peer at the property's first try (one channel for all its tries). */
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
        Sys.ftruncate(wrong.get(), 4096);
        pair = UnixSocket.pair();
        fdsOpen = TestSupport.openFds();
    }

    @AfterProperty
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

    @Provide
    Arbitrary<Send> messages() {
        Arbitrary<byte[]> frames = Combinators.combine(WireFormatFuzzTest.frameSpecs(),
                WireFormatFuzzTest.mutationLists(0), Arbitraries.of(true, false)).as((spec, mutations, fix) -> {
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
                    for (WireFormatFuzzTest.Mutation m : mutations) {
                        data = m.apply(data);
                    }
                    if (fix && data.length >= WireFormat.COMMON) {
                        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt(8, data.length);
                    }
                    return data;
                });
        Arbitrary<byte[]> releases = Combinators.combine(Arbitraries.longs(), WireFormatFuzzTest.mutationLists(0))
                .as((id, mutations) -> {
                    byte[] data = WireFormat.encodeRelease(id);
                    for (WireFormatFuzzTest.Mutation m : mutations) {
                        data = m.apply(data);
                    }
                    return data;
                });
        Arbitrary<byte[]> data = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, frames),
                net.jqwik.api.Tuple.of(2, releases), net.jqwik.api.Tuple.of(2, WireFormatFuzzTest.randomMessages()));
        Arbitrary<List<Integer>> fds = Combinators.combine(Arbitraries.integers().between(0, 39),
                Arbitraries.frequency(net.jqwik.api.Tuple.of(8, 0), net.jqwik.api.Tuple.of(1, 1),
                        net.jqwik.api.Tuple.of(1, 2)).list().ofMaxSize(4))
                .as((one, some) -> one == 7 ? List.of(-1) : some); // a flood now and then
        return Combinators.combine(data, fds).as(Send::new);
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
            TryTimeout.outcome("frame taken");
            assertThat(r.buffers()).allSatisfy(b -> assertThat(b.size()).isEqualTo(SIZE));
        } catch (DmaBufException e) {
            TryTimeout.outcome(WireFormatFuzzTest.outcome(e));
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

    @Property
    void anyMessageWithAnyFdsGetsOneTypedAnswerAndLeavesNothing(@ForAll("messages") Send s) throws IOException {
        fuzz(s, false);
    }

    @Property
    void onAChannelWithReleasesAnyMessageGetsOneTypedAnswerAndLeavesNothing(@ForAll("messages") Send s)
            throws IOException {
        fuzz(s, true);
    }
}
