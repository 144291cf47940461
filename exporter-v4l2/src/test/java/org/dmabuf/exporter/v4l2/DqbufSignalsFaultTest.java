package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.FaultSignals;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A vivid capture whose capture thread gets signals in a loop, in the kernel guest: a handler without
 * {@code SA_RESTART} ({@link FaultSignals}) makes each signal end the thread's wait for a filled buffer (the
 * {@code poll} before the non-blocking {@code VIDIOC_DQBUF}, or the node's lock inside {@code DQBUF}) with
 * {@code EINTR}. The Linux layer's retry must absorb every one (counted), and frames go on arriving, in order,
 * readable, the capture never failing.
 */
@Tag("kernel")
class DqbufSignalsFaultTest {
    private static final String VIDEO = "/dev/video0";
    private static final int RETRIES = 3;
    private static final int YUYV = org.dmabuf.api.BufferFormat.fourcc("YUYV");

    /** The kernel thread id of this process's thread whose name starts with {@code name} (as comm shows it). */
    private static int tidOf(String name) throws IOException {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            List<Integer> tids = s.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals(comm);
                } catch (IOException e) {
                    return false; // the thread ended meanwhile
                }
            }).map(t -> Integer.parseInt(t.getFileName().toString())).toList();
            assertThat(tids).as("threads named '%s'", comm).hasSize(1);
            return tids.get(0);
        }
    }

    @Test
    void aCaptureThreadInterruptedAgainAndAgainGoesOnDeliveringFrames() throws Exception {
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("dqbuf-signals"); FrameSource source = e.capture(r)) {
            try (Frame first = source.next(Duration.ofSeconds(30))) {
                assertThat(first).isNotNull();
            }
            int tid = tidOf(V4l2Capture.THREAD_NAME + VIDEO);
            long before = FaultSignals.retried();
            long handledBefore = FaultSignals.handled();
            long last = -1;
            int frames = 0;
            try (FaultSignals.Sender signals = FaultSignals.interrupting(tid, 1000)) {
                await("retries in the capture thread under signals").atMost(Duration.ofSeconds(60))
                        .until(() -> FaultSignals.retried() - before >= RETRIES);
                for (int i = 0; i < 3; i++) {
                    try (Frame f = source.next(Duration.ofSeconds(30))) {
                        assertThat(f).as("a frame under signals").isNotNull();
                        assertThat(f.sequence()).isGreaterThan(last);
                        last = f.sequence();
                        try (CpuAccess a = f.buffer().beginCpuAccess(SyncDirection.READ)) {
                            a.getByte(0);
                        }
                        frames++;
                    }
                }
                assertThat(signals.sent()).isPositive();
            }
            long retried = FaultSignals.retried() - before;
            System.out.println("capture under signals: " + (FaultSignals.handled() - handledBefore)
                    + " signals handled, " + retried + " interrupted calls retried, " + frames + " frames after");
            assertThat(retried).isGreaterThanOrEqualTo(RETRIES);
            assertThat(frames).isEqualTo(3);
        }
    }
}
