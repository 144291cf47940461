package org.dmabuf.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.ReceivedBuffer;

/**
 * The Java peer of {@link Channel}, a second JVM: connects, then receives frames until the end of stream; for a
 * frame larger than 4 KiB it keeps a reference to every buffer it has not seen before (so its mapping can stay),
 * maps it and reads its first and last 8 bytes; then closes the frame, which sends its RELEASE.
 *
 * <p>Single-threaded: main owns everything.
 */
public final class Peer {
    private Peer() {
    }

    /**
     * @param args the socket path
     */
    public static void main(String[] args) {
        long sum = 0;
        long frames = 0;
        Map<BufferId, DmaBuf> kept = new HashMap<>();
        try (Env env = new Env("bench-peer");
             BufferChannel ch = env.registry.channels().connect(Path.of(args[0]),
                     ChannelOptions.sameUser().withReleases())) {
            ReceivedBuffer r;
            while ((r = receive(ch)) != null) {
                try (ReceivedBuffer frame = r) {
                    for (DmaBuf b : frame.buffers()) {
                        if (b.size() > 4096) {
                            kept.computeIfAbsent(b.id(), id -> b.get());
                            MemoryView v = b.mmap();
                            sum += v.getLong(0) + v.getLong(b.size() - 8);
                        }
                    }
                }
                frames++;
            }
            kept.values().forEach(DmaBuf::close);
        }
        System.err.println("bench peer: " + frames + " frames, " + kept.size() + " buffers kept (" + sum + ")");
    }

    private static ReceivedBuffer receive(BufferChannel ch) {
        try {
            return ch.receive(Duration.ofDays(1));
        } catch (org.dmabuf.api.DmaBufException e) {
            return null; // the end of stream: the sender closed
        }
    }
}
