package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Test;

/**
 * The release path in one process: a sender with {@link ChannelOptions#withReleases()} holds every frame it sent
 * until the receiver closes it (which sends the RELEASE) or the connection ends; malformed RELEASEs from a hostile
 * peer are refused and release nothing.
 */
class ChannelReleaseTest extends ChannelFixture {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Byte i of buffer b of the frame with tag t, as {@code docs/wire-format.md} defines the test pattern. */
    static byte pattern(long tag, int buffer, long i) {
        return (byte) (tag * 131 + buffer * 17L + i);
    }

    /** Writes the pattern of buffer {@code index} of the frame with this tag into every byte of the buffer. */
    static void fillPattern(DmaBuf b, long tag, int index) {
        try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
            byte[] all = new byte[(int) b.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = pattern(tag, index, i);
            }
            a.write(0, all, 0, all.length);
        }
    }

    static boolean readerRunning() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("dmabuf-channel-reader"));
    }

    @Test
    void closingAReceivedFrameReturnsItAndTheSenderPutsItsReferences() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases());
             BufferChannel in = listener.accept(WAIT);
             FrameBuffer frame = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48)
                     .name("nv12m"))) {
            List<Long> returned = new CopyOnWriteArrayList<>();
            out.onRelease(returned::add);
            int[] before = frame.buffers().stream().mapToInt(DmaBuf::refCount).toArray();
            assertThat(out.send(frame, 3, WAIT)).as("the first frame's id").isEqualTo(1);
            assertThat(out.framesOut()).isEqualTo(1);
            for (int b = 0; b < 2; b++) {
                assertThat(frame.buffer(b).refCount()).as("the channel's reference on buffer %d", b)
                        .isEqualTo(before[b] + 1);
            }
            ReceivedBuffer r = in.receive(WAIT);
            assertThat(r.frameId()).isEqualTo(1);
            assertThat(r.tag()).isEqualTo(3);
            assertThat(bob.bufinfo()).hasSize(2);
            assertThat(out.framesOut()).as("out until the receiver closes it").isEqualTo(1);

            r.close();
            await().atMost(WAIT).until(() -> out.framesOut() == 0);
            assertThat(returned).containsExactly(1L);
            for (int b = 0; b < 2; b++) {
                assertThat(frame.buffer(b).refCount()).as("buffer %d's reference put", b).isEqualTo(before[b]);
            }
            assertThat(bob.bufinfo()).as("the receiver put its buffers").isEmpty();
            r.close(); // a second close sends no second RELEASE

            assertThat(out.send(frame, 4, WAIT)).isEqualTo(2);
            try (ReceivedBuffer r2 = in.receive(WAIT)) {
                assertThat(r2.frameId()).isEqualTo(2);
                r2.frame().orElseThrow().close(); // closing the frame view returns it too
                await().atMost(WAIT).until(() -> out.framesOut() == 0);
            }
            assertThat(returned).containsExactly(1L, 2L);
            assertThat(out.receive(Duration.ZERO)).as("no RELEASE of frame 1 was sent twice (it would be refused "
                    + "and queued before frame 2's)").isNull();
        }
        assertThat(readerRunning()).as("close() joined the reader").isFalse();
    }

    @Test
    void withoutReleasesNothingIsHeldNoThreadRunsAndClosingSendsNothing() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(WAIT);
             DmaBuf b = alice.allocate(BufferRequest.ofSize(4096).name("plain"));
             DmaBuf back = bob.allocate(BufferRequest.ofSize(4096).name("back"))) {
            assertThat(readerRunning()).isFalse();
            int before = b.refCount();
            out.send(b, 1);
            assertThat(out.framesOut()).isZero();
            assertThat(b.refCount()).isEqualTo(before);
            try (ReceivedBuffer r = in.receive(WAIT)) {
                assertThat(r.frameId()).as("version 2 numbers frames all the same").isEqualTo(1);
            }
            in.send(back, 9);
            try (ReceivedBuffer r = out.receive(WAIT)) {
                assertThat(r.tag()).as("the next message is bob's frame, not a RELEASE").isEqualTo(9);
            }
        }
    }

    @Test
    void releasesNeedVersion2() {
        assertThatThrownBy(() -> ChannelOptions.sameUser().withWireVersion(1).withReleases())
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("EINVAL")
                .hasMessageContaining("releases need wire format version 2, not 1");
        assertThatThrownBy(() -> ChannelOptions.sameUser().withReleases().withWireVersion(1))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(ChannelOptions.sameUser().withReleases().withGroup(0).releases()).isTrue();
        assertThat(ChannelOptions.sameUser().releases()).isFalse();
    }

    @Test
    void closingTheSenderPutsEveryFrameStillOutAndAReceiverClosingLaterFailsNothing() {
        List<ReceivedBuffer> held = new ArrayList<>();
        try (DmaBuf b = alice.allocate(BufferRequest.ofSize(8192).name("held"))) {
            int before = b.refCount();
            BufferChannel in;
            try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases())) {
                in = listener.accept(WAIT);
                assertThat(readerRunning()).isTrue();
                for (int i = 0; i < 3; i++) {
                    out.send(b, i, WAIT);
                    held.add(in.receive(WAIT));
                }
                assertThat(out.framesOut()).isEqualTo(3);
                assertThat(b.refCount()).isEqualTo(before + 3);
            }
            assertThat(b.refCount()).as("close() put the references of the frames out").isEqualTo(before);
            assertThat(readerRunning()).as("close() joined the reader").isFalse();
            held.get(0).close(); // the sender is gone: nothing to return it to, and nothing fails
            in.close();
            held.get(1).close(); // this channel is gone too
            held.get(2).close();
        }
    }

    /**
     * The reader thread's lifecycle raced: one thread sends frames asking them back, another receives and returns
     * them, and close() comes from a third while RELEASEs are in flight. Every round ends with the reader joined,
     * every reference the channel held put, and nothing else failing than the send or receive that met the close.
     */
    @org.junit.jupiter.api.RepeatedTest(20)
    void closeRacingSendsReceivesAndReleasesJoinsTheReaderAndPutsEveryFrame() throws Exception {
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (DmaBuf b = alice.allocate(BufferRequest.ofSize(8192).name("raced"))) {
            int before = b.refCount();
            BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases());
            try (BufferChannel in = listener.accept(WAIT)) {
                java.util.concurrent.CountDownLatch flowing = new java.util.concurrent.CountDownLatch(3);
                java.util.concurrent.Future<?> sender = threads.submit(() -> {
                    try {
                        for (long tag = 0; ; tag++) {
                            out.send(b, tag, WAIT);
                            flowing.countDown();
                        }
                    } catch (DmaBufException ended) {
                        return; // the channel was closed under the send
                    }
                });
                java.util.concurrent.Future<?> receiver = threads.submit(() -> {
                    try {
                        while (true) {
                            ReceivedBuffer r = in.receive(WAIT);
                            if (r == null) {
                                return;
                            }
                            r.close(); // returns the frame while the sender may be closing
                        }
                    } catch (DmaBufException ended) {
                        return; // EPIPE: the sender closed
                    }
                });
                assertThat(flowing.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                out.close();
                sender.get(30, java.util.concurrent.TimeUnit.SECONDS);
                receiver.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(out.framesOut()).isZero();
            assertThat(b.refCount()).as("every reference the channel held was put").isEqualTo(before);
            assertThat(readerRunning()).as("close() joined the reader").isFalse();
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void twoChannelsWithReleasesSendBothWaysThroughTheReadersQueue() {
        Duration t = WAIT;
        try (ChannelListener l = bob.channels().listen(tmp.resolve("run/releases.sock"),
                ChannelOptions.sameUser().withReleases());
             BufferChannel out = alice.channels().connect(l.path(), ChannelOptions.sameUser().withReleases());
             BufferChannel in = l.accept(t);
             DmaBuf a = alice.allocate(BufferRequest.ofSize(4096).name("a"));
             DmaBuf b = bob.allocate(BufferRequest.ofSize(4096).name("b"))) {
            int frames = BufferChannel.QUEUED_FRAMES + 4; // more than the queue: the reader waits for receive
            for (int i = 0; i < frames; i++) {
                out.send(a, i, t);
            }
            assertThat(out.framesOut()).isEqualTo(frames);
            for (int i = 0; i < frames; i++) {
                try (ReceivedBuffer r = in.receive(t)) {
                    assertThat(r.tag()).isEqualTo(i);
                    assertThat(r.frameId()).isEqualTo(i + 1);
                }
            }
            await().atMost(t).until(() -> out.framesOut() == 0);
            in.send(b, 77, t);
            try (ReceivedBuffer r = out.receive(t)) {
                assertThat(r.tag()).isEqualTo(77);
                assertThat(in.framesOut()).isEqualTo(1);
            }
            await().atMost(t).until(() -> in.framesOut() == 0);
            assertThat(a.refCount()).isEqualTo(1);
            assertThat(b.refCount()).isEqualTo(1);
        }
    }

    /**
     * A thread in receive reads the socket itself once the reader thread handed it a frame: no hand-over between
     * threads per frame. A RELEASE it reads is handled at once (the frame's references are put while it is still in
     * receive, so the reader thread cannot have read it), and the listener still runs on the reader thread; the
     * reader thread reads again once nobody receives.
     */
    @Test
    void aThreadInReceiveReadsTheSocketItselfAndHandlesTheReleasesItReads() throws Exception {
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (ChannelListener l = bob.channels().listen(tmp.resolve("run/releases.sock"),
                ChannelOptions.sameUser().withReleases());
             BufferChannel out = alice.channels().connect(l.path(), ChannelOptions.sameUser().withReleases());
             BufferChannel in = l.accept(WAIT);
             DmaBuf a = alice.allocate(BufferRequest.ofSize(4096).name("a"));
             DmaBuf b = bob.allocate(BufferRequest.ofSize(4096).name("b"))) {
            // the reader keeps out of the way for 2 s after the receiving thread left receive, not 10 ms: the
            // receiving thread is back in receive long before, however slow the machine
            ((ChannelImpl) in).stepAsideNanos = 2_000_000_000L;
            List<Thread> listenerThreads = new CopyOnWriteArrayList<>();
            in.onRelease(id -> listenerThreads.add(Thread.currentThread()));
            java.util.concurrent.BlockingQueue<ReceivedBuffer> got = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.atomic.AtomicReference<Thread> receiver =
                    new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.Future<?> receiving = threads.submit(() -> {
                receiver.set(Thread.currentThread());
                for (int i = 0; i < 2; i++) {
                    got.add(in.receive(WAIT));
                }
                return null;
            });
            // the receiving thread waits while the reader thread has the turn: the reader hands this frame over
            await().atMost(WAIT).until(() -> receiver.get() != null
                    && receiver.get().getState() == Thread.State.TIMED_WAITING
                    && Arrays.stream(receiver.get().getStackTrace()).anyMatch(e -> e.getMethodName().equals("take")));
            out.send(a, 1, WAIT);
            try (ReceivedBuffer r = got.poll(10, java.util.concurrent.TimeUnit.SECONDS)) {
                assertThat(r.tag()).isEqualTo(1);
            }
            await("the receiving thread reads the socket itself").atMost(WAIT)
                    .until(() -> ChannelTest.waitingInTheSocket(receiver.get()));
            in.send(b, 7, WAIT);
            try (ReceivedBuffer r = out.receive(WAIT)) {
                assertThat(r.tag()).isEqualTo(7);
            } // its RELEASE goes back to in, where the receiving thread reads it
            // the receiving thread is still in receive (it waits for frame 2), and the reader keeps out of its way
            await("the receiving thread read the RELEASE").atMost(WAIT).until(() -> in.framesOut() == 0);
            assertThat(b.refCount()).as("the channel's reference was put").isEqualTo(1);
            await().atMost(WAIT).until(() -> listenerThreads.size() == 1);
            assertThat(listenerThreads.get(0).getName()).as("the listener runs on the reader thread")
                    .startsWith("dmabuf-channel-reader");
            assertThat(receiving).as("the receiving thread is still in receive").isNotDone();
            out.send(a, 2, WAIT);
            try (ReceivedBuffer r = got.poll(10, java.util.concurrent.TimeUnit.SECONDS)) {
                assertThat(r.tag()).isEqualTo(2);
            }
            receiving.get(10, java.util.concurrent.TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> out.framesOut() == 0);
            // nobody receives on in any more: its reader thread reads the next RELEASE
            in.send(b, 8, WAIT);
            out.receive(WAIT).close();
            await().atMost(WAIT).until(() -> in.framesOut() == 0 && listenerThreads.size() == 2);
            assertThat(listenerThreads.get(1)).isSameAs(listenerThreads.get(0));
            assertThat(a.refCount()).isEqualTo(1);
            assertThat(b.refCount()).isEqualTo(1);
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    /** A RELEASE of frame {@code id}, as the hostile peer sends it, with its length field and flags to spoil. */
    private static byte[] release(long id) {
        return WireFormat.encodeRelease(id);
    }

    private static byte[] withLength(byte[] m, int bytes, int field) {
        byte[] c = Arrays.copyOf(m, bytes);
        if (bytes >= 12) {
            ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(8, field);
        }
        return c;
    }

    @Test
    void malformedReleasesAreRefusedWithTheirFdsClosedAndReleaseNothing() {
        try (ChannelListener l = bob.channels().listen(tmp.resolve("run/releases.sock"),
                ChannelOptions.sameUser().withReleases());
             UnixSocket hostile = UnixSocket.connect(l.path());
             BufferChannel ch = l.accept(WAIT);
             DmaBuf one = bob.allocate(BufferRequest.ofSize(4096).name("one"));
             DmaBuf two = bob.allocate(BufferRequest.ofSize(4096).name("two"));
             Fd memfd = ChannelTest.memfd(4096)) {
            List<Long> returned = new CopyOnWriteArrayList<>();
            ch.onRelease(returned::add);
            ch.send(one, 1, WAIT);
            ch.send(two, 2, WAIT);
            for (int i = 0; i < 2; i++) {
                hostile.receive(WireFormat.READ_LIMIT, WAIT).close();
            }
            long baseline = Leaks.openFds();
            byte[] flags = release(1);
            flags[12] = 1;
            Object[][] refused = {
                {release(1), new int[] {memfd.get()}, "a RELEASE carries no fds, this one 1"},
                {withLength(release(1), 25, 25), new int[0],
                    "a RELEASE is 24 bytes, its length field says 25 and 25 arrived"},
                {withLength(release(1), 24, 32), new int[0], "its length field says 32 and 24 arrived"},
                {withLength(release(1), 16, 16), new int[0], "its length field says 16 and 16 arrived"},
                {flags, new int[0], "a RELEASE's flags 0x1 are not zero"},
                {release(99), new int[0], "the RELEASE names frame 99, which is not out on this channel"},
                {release(-1), new int[0], "names frame 18446744073709551615, which is not out"},
            };
            for (Object[] r : refused) {
                hostile.send((byte[]) r[0], (int[]) r[1]);
                ChannelTest.expectRefused(ch, "EPROTO", (String) r[2]);
                assertThat(ch.framesOut()).as("nothing released for %s", r[2]).isEqualTo(2);
                assertThat(one.refCount()).as("frame 1 still held after %s", r[2]).isEqualTo(2);
                assertThat(two.refCount()).as("frame 2 still held after %s", r[2]).isEqualTo(2);
                assertThat(Leaks.openFds()).as("the fds of the RELEASE refused for %s", r[2]).isEqualTo(baseline);
            }
            hostile.send(release(1));
            await().atMost(WAIT).until(() -> ch.framesOut() == 1);
            assertThat(one.refCount()).isEqualTo(1);
            assertThat(two.refCount()).isEqualTo(2);
            hostile.send(release(1));
            ChannelTest.expectRefused(ch, "EPROTO", "the RELEASE names frame 1, which is not out on this channel");
            assertThat(two.refCount()).as("a second RELEASE of frame 1 does not release frame 2").isEqualTo(2);
            assertThat(returned).containsExactly(1L);

            // frames the peer sends go through the reader's queue, refused ones included
            byte[] v3 = WireFormat.encode(5, 5, "v3", "memfd", new long[] {4096}, null);
            v3[4] = 3;
            hostile.send(v3, memfd.get());
            ChannelTest.expectRefused(ch, "EPROTO", "unsupported version 3");
            assertThat(Leaks.openFds()).isEqualTo(baseline);

            hostile.close();
            await().atMost(WAIT).until(() -> ch.framesOut() == 0);
            assertThat(two.refCount()).as("the end of the connection returned frame 2").isEqualTo(1);
            assertThatThrownBy(() -> ch.receive(WAIT)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE");
            assertThatThrownBy(() -> ch.send(one, 3, WAIT)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE");
            assertThat(one.refCount()).as("a failed send holds nothing").isEqualTo(1);
            assertThat(ch.framesOut()).isZero();
        }
    }

    @Test
    void aReleaseOnAChannelWithoutReleasesIsRefused() {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel ch = listener.accept(WAIT);
             DmaBuf b = bob.allocate(BufferRequest.ofSize(4096).name("b"))) {
            ch.send(b, 1);
            hostile.receive(WireFormat.READ_LIMIT, WAIT).close();
            hostile.send(release(1));
            ChannelTest.expectRefused(ch, "EPROTO", "the RELEASE names frame 1, which is not out on this channel");
            assertThat(b.refCount()).isEqualTo(1);
        }
    }

    @Test
    void awaitReleaseReturnsOnceThePeerClosedTheFrameWithItsReferencesPutAndTheListenerToldOnTheReader() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases());
             BufferChannel in = listener.accept(WAIT);
             FrameBuffer f = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64).name("await"))) {
            List<String> toldOn = new CopyOnWriteArrayList<>();
            out.onRelease(id -> toldOn.add(id + " on " + Thread.currentThread().getName()));
            DmaBuf b = f.buffer(0);
            long id = out.send(f, 1, WAIT);
            assertThat(b.refCount()).isEqualTo(2);
            ReceivedBuffer r = in.receive(WAIT);
            assertThat(out.awaitRelease(id, Duration.ofMillis(100))).as("still held by the receiver").isFalse();
            assertThat(out.framesOut()).isEqualTo(1);
            r.close();
            assertThat(out.awaitRelease(id, WAIT)).isTrue();
            assertThat(out.framesOut()).isZero();
            assertThat(b.refCount()).as("the channel's reference was put before awaitRelease returned").isEqualTo(1);
            await().atMost(WAIT).until(() -> !toldOn.isEmpty());
            assertThat(toldOn).singleElement().asString().startsWith(id + " on dmabuf-channel-reader");
            assertThat(out.awaitRelease(id, Duration.ZERO)).as("a frame no longer out").isTrue();
            assertThat(out.awaitRelease(12345, Duration.ZERO)).as("an id never sent").isTrue();
        }
    }

    @Test
    void aFrameTheAwaitingThreadReadsOnTheWayIsKeptForReceive() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases());
             BufferChannel in = listener.accept(WAIT);
             FrameBuffer mine = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64).name("mine"));
             DmaBuf theirs = bob.allocate(BufferRequest.ofSize(8192).name("theirs"))) {
            long id = out.send(mine, 1, WAIT);
            ReceivedBuffer r = in.receive(WAIT);
            in.send(theirs, 77, WAIT); // the peer's own frame comes before its RELEASE
            r.close();
            assertThat(out.awaitRelease(id, WAIT)).isTrue();
            try (ReceivedBuffer back = out.receive(WAIT)) {
                assertThat(back.tag()).isEqualTo(77);
                assertThat(back.name()).isEqualTo("theirs");
                assertThat(back.buffer().size()).isEqualTo(8192);
            }
        }
    }

    @Test
    void awaitReleaseReturnsWhenTheConnectionEndsWithEveryFramePut() throws Exception {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser().withReleases());
             FrameBuffer f = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64).name("ended"))) {
            BufferChannel in = listener.accept(WAIT);
            DmaBuf b = f.buffer(0);
            long id = out.send(f, 1, WAIT);
            ReceivedBuffer r = in.receive(WAIT);
            java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Boolean> back = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        waiting.countDown();
                        return out.awaitRelease(id, WAIT);
                    });
            waiting.await();
            in.close(); // the peer goes away without a RELEASE (its frame still held in this process)
            assertThat(back.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(out.framesOut()).isZero();
            r.close();
            assertThat(b.refCount()).as("the sender's own only: the channel's was put").isEqualTo(1);
        }
    }

    @Test
    void awaitReleaseOnAChannelWithoutReleasesIsEinval() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(WAIT)) {
            assertThatThrownBy(() -> out.awaitRelease(1, WAIT)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("awaitRelease").hasMessageContaining("EINVAL")
                    .hasMessageContaining("withReleases");
            assertThatThrownBy(() -> out.awaitRelease(1, Duration.ofSeconds(-1)))
                    .isInstanceOf(InvalidArgumentException.class);
        }
    }
}
