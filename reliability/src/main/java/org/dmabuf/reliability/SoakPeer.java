package org.dmabuf.reliability;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;

/**
 * The other process of the soak, a second JVM: {@code SoakPeer SOCKET CONNECTIONS} opens that many wire-v2
 * channels with releases to the soak's socket and serves each on its own thread until the soak closes it. For each
 * frame it takes its own reference to the buffer ({@link DmaBuf#get()}), reads the first and the last byte under
 * CPU access, checks them against the tag ({@link Soak#pattern(long)}), puts its reference and closes the frame,
 * which sends the RELEASE. A frame tagged {@link Soak#MARK_BASELINE} or {@link Soak#MARK_FINAL} is returned the
 * same way, then the peer measures itself ({@link Snapshot#take()}) and prints one line on stdout:
 * {@code SOAK-PEER <mark> frames=N bad=N leaks=N | <snapshot>} (leaks: handles its registry's leak reaper put). It exits 0 when every byte it checked was right.
 *
 * <p>Threads: main starts, and joins, one thread per connection; the counters are atomic.
 */
public final class SoakPeer {
    private final AtomicLong frames = new AtomicLong();
    private final AtomicLong bad = new AtomicLong();
    private final PrintStream out = System.out;

    private SoakPeer() {
    }

    /**
     * @param args the socket path and the number of connections
     * @throws InterruptedException if interrupted while joining
     */
    public static void main(String[] args) throws InterruptedException {
        new SoakPeer().run(Path.of(args[0]), Integer.parseInt(args[1]));
    }

    private void run(Path socket, int connections) throws InterruptedException {
        Snapshot.take(); // loads what measuring needs before the baseline
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (StandaloneRegistry registry = new StandaloneRegistry("soak-peer")) {
            List<BufferChannel> channels = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    channels.add(registry.channels().connect(socket, ChannelOptions.sameUser().withReleases()));
                }
                for (int i = 0; i < connections; i++) {
                    BufferChannel ch = channels.get(i);
                    Thread t = new Thread(() -> {
                        try {
                            serve(ch, registry);
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }, "soak-peer-" + i);
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join();
                }
            } finally {
                channels.forEach(BufferChannel::close);
            }
        }
        System.err.println("soak peer: " + frames.get() + " frames, " + bad.get() + " wrong bytes, "
                + failures.size() + " failures");
        failures.forEach(Throwable::printStackTrace);
        System.exit(bad.get() == 0 && failures.isEmpty() ? 0 : 1);
    }

    private void serve(BufferChannel ch, StandaloneRegistry registry) {
        while (true) {
            ReceivedBuffer r;
            try {
                r = ch.receive(null);
            } catch (DmaBufException e) {
                if ("EPIPE".equals(e.errno())) {
                    return; // the soak closed the channel
                }
                throw e;
            }
            long tag = r.tag();
            try (r) {
                if (tag >= 0) {
                    check(r.buffer(), tag);
                }
            }
            if (tag == Soak.MARK_BASELINE || tag == Soak.MARK_FINAL) {
                String line = "SOAK-PEER " + (tag == Soak.MARK_BASELINE ? "baseline" : "final") + " frames="
                        + frames.get() + " bad=" + bad.get();
                Snapshot s = Snapshot.take();
                line += " leaks=" + org.dmabuf.core.SoakLeaks.of(registry) + " | " + s.toLine();
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
            }
        }
    }

    private void check(DmaBuf received, long tag) {
        byte want = Soak.pattern(tag);
        try (DmaBuf mine = received.get(); CpuAccess a = mine.beginCpuAccess(SyncDirection.READ)) {
            if (a.getByte(0) != want || a.getByte(mine.size() - 1) != want) {
                bad.incrementAndGet();
            }
        }
        frames.incrementAndGet();
    }
}
