package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.FaultSignals;
import org.junit.jupiter.api.Test;

/**
 * Signals sent in a loop, with a handler installed without {@code SA_RESTART} ({@link FaultSignals}), to a thread
 * blocked in a channel's {@code receive} on this host (memfd buffers: their CPU access has no ioctl to interrupt;
 * the wait of a receive is the call a signal interrupts here): every {@code EINTR} is absorbed by the Linux layer's
 * retry, counted, and the receive returns the frame sent once many retries were seen, intact, never an error or
 * an early end of its wait. The guest's SYNC and DQBUF under signals are {@code SyncSignalsFaultTest}
 * (exporter-heap) and {@code DqbufSignalsFaultTest} (exporter-v4l2).
 */
class SignalsFaultTest extends ChannelFixture {
    private static final int RETRIES = 10;

    @Test
    void aReceiveInterruptedBySignalsAgainAndAgainGoesOnWaitingAndReturnsTheFrame() throws Exception {
        ExecutorService sender = Executors.newSingleThreadExecutor();
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(30));
             DmaBuf frame = alice.allocate(BufferRequest.ofSize(16384).name("signalled"))) {
            fill(frame, 9);
            long retriedBefore = FaultSignals.retried();
            long handledBefore = FaultSignals.handled();
            int me = FaultSignals.tid();
            ReceivedBuffer r;
            try (FaultSignals.Sender signals = FaultSignals.interrupting(me, 500)) {
                // the frame goes out once the receive below has been interrupted and repeated RETRIES times
                AtomicBoolean receiveEnded = new AtomicBoolean();
                CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                    await("retries under signals").atMost(Duration.ofSeconds(60))
                            .until(() -> receiveEnded.get() || FaultSignals.retried() - retriedBefore >= RETRIES);
                    if (!receiveEnded.get()) {
                        out.send(frame, 9);
                    }
                }, sender);
                try {
                    r = in.receive(Duration.ofSeconds(120));
                } finally {
                    receiveEnded.set(true);
                }
                sent.get(60, TimeUnit.SECONDS);
                assertThat(signals.sent()).isPositive();
            }
            long retried = FaultSignals.retried() - retriedBefore;
            long handled = FaultSignals.handled() - handledBefore;
            System.out.println("receive under signals: " + handled + " signals handled, " + retried
                    + " interrupted calls retried");
            assertThat(retried).as("calls interrupted (EINTR) and retried").isGreaterThanOrEqualTo(RETRIES);
            assertThat(handled).as("signals handled").isGreaterThanOrEqualTo(retried);
            assertThat(r).as("the frame, not a timeout").isNotNull();
            try (r; CpuAccess a = r.buffer().beginCpuAccess(SyncDirection.READ)) {
                assertThat(r.tag()).isEqualTo(9);
                for (long i : new long[] {0, 8191, 16383}) {
                    assertThat(a.getByte(i)).isEqualTo(PeerMain.pattern(i, 9));
                }
            }
        } finally {
            sender.shutdownNow();
            assertThat(sender.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }
}
