package org.dmabuf.core;

import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.UnixSocket;
import org.dmabuf.spi.DmaBufExporter;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * A channel's receive racing its close, under Lincheck's model checker ({@link ScheduleSupport}).
 *
 * <p>What is explored: a channel without releases ({@link ChannelImpl#receive} reads the socket itself, in
 * {@link UnixSocket#receive}) on one end of a real socketpair. Two frames (a memfd each) are already queued by the
 * peer, which has closed its end, so that no native call can block: {@code poll} and {@code recvmsg} return at once
 * with a message or the end of the stream. The checker switches threads at every Java step of receive and close:
 * the socket's {@code closing} flag, its receive lock (close takes it before closing the fd: a number in use is
 * never closed under a reader), the shutdown, the adoption of the received fds into the registry. In every
 * schedule each receive returns a frame with its tag or ends with {@code EPIPE} (closed, or the end of the
 * stream), never anything else and never hangs; afterwards, with the frames closed, the receiving registry holds
 * nothing (every received fd was adopted and released, or never received).
 *
 * <p>What is not explored: a thread blocked in {@code recvmsg} or {@code poll} while another closes (the checker
 * cannot wake a thread inside a native call; {@code ChannelTest
 * #aBlockedReceiveReturnsWhenAFrameArrivesAndFailsTypedWhenTheChannelIsClosed} covers it with real threads), and the
 * reader thread of a channel with releases and its read-in-turn hand-over: the channel starts that thread itself and
 * it blocks in {@code recvmsg} until the connection ends, so the checker cannot manage it; {@code ChannelReleaseTest
 * #closeRacingSendsReceivesAndReleasesJoinsTheReaderAndPutsEveryFrame} covers it with real threads.
 */
public class ChannelCloseScheduleTest {
    private static final PeerCredentials PEER = new PeerCredentials(1, 0, 0);

    private final BufferRegistry registry = new BufferRegistry();
    private final TestExporter system = new TestExporter("system", 100).with(DmaBufExporter.MAX_SIZE, 64L << 20);
    private final OwnerScope alice;
    private final OwnerScope bob;
    private final ChannelImpl channel;
    /** The frames received, closed after the schedule; fields, not a list: the checker tracks them best. */
    private ReceivedBuffer first;
    private ReceivedBuffer second;

    public ChannelCloseScheduleTest() {
        registry.bindExporter(system, system.props);
        alice = registry.open("alice");
        bob = registry.open("bob");
        UnixSocket[] pair = UnixSocket.pair();
        ChannelImpl sender = new ChannelImpl(pair[0], alice, PEER, () -> { });
        for (long tag = 1; tag <= 2; tag++) {
            try (DmaBuf b = alice.allocate(BufferRequest.ofSize(4096))) {
                sender.send(b, tag);
            }
        }
        sender.close(); // the peer is gone: what it sent stays queued, then the stream ends
        channel = new ChannelImpl(pair[1], bob, PEER, () -> { });
    }

    @Operation
    public String receive() {
        ReceivedBuffer r;
        try {
            r = channel.receive(java.time.Duration.ofSeconds(10));
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EPIPE) {
                return "end";
            }
            throw e;
        }
        if (r == null) {
            throw new AssertionError("receive timed out with frames queued or the stream ended");
        }
        keep(r);
        return "frame " + r.tag();
    }

    private synchronized void keep(ReceivedBuffer r) {
        if (first == null) {
            first = r;
        } else {
            second = r;
        }
    }

    @Operation(runOnce = true)
    public String close() {
        channel.close();
        return "closed";
    }

    @Validate
    public synchronized void state() {
        ScheduleSupport.scheduleChecked(ChannelCloseScheduleTest.class);
        channel.close();
        if (first != null) {
            first.close();
        }
        if (second != null) {
            second.close();
        }
        bob.close();
        alice.close();
        if (registry.liveCount() != 0) {
            throw new AssertionError(registry.liveCount() + " buffers live after every frame and both clients closed");
        }
        if (system.released.get() != system.allocated.get()) {
            throw new AssertionError("allocated " + system.allocated + ", released " + system.released);
        }
    }

    /** Every operation once, in one thread, outside the checker. */
    private static void sequentially() {
        ChannelCloseScheduleTest s = new ChannelCloseScheduleTest();
        s.receive();
        s.close();
        s.receive();
        s.state();
        ChannelCloseScheduleTest t = new ChannelCloseScheduleTest();
        t.receive();
        t.receive();
        t.receive();
        t.state();
    }

    @Test
    void receiveRacingCloseReturnsAFrameOrTheEndAndLeavesNothing() {
        ScheduleSupport.check(ChannelCloseScheduleTest.class, 2, 2, 6, 50, ChannelCloseScheduleTest::sequentially);
    }
}
