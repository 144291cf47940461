package org.dmabuf.gateway;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;

/**
 * One consumer of the pipeline: a bounded hand-off of frames and the thread that sends them on the consumer's
 * channel, so that the pipeline never waits on a consumer. {@link #offer} takes a reference of its own on each of
 * the frame's buffers and queues them; each frame is sent with all its buffers and its layout in one message
 * ({@link BufferChannel#send(FrameBuffer, long, Duration)}). The channel asks for releases
 * ({@link org.dmabuf.api.ChannelOptions#withReleases()}): it holds each frame it sent until the consumer returns
 * it, so that no producer rewrites a buffer the consumer still reads. The frames queued here plus the frames the
 * consumer holds are bounded by the capacity: beyond it (the consumer stopped reading, holds on to frames, or reads
 * slower than the source), the frame is dropped for this consumer alone and counted. A frame still queued when the feed closes counts as
 * dropped too, so that at the end {@link #sent()} + {@link #dropped()} is every frame offered.
 *
 * <p>Threads: one thread (the pipeline) calls {@link #offer}, {@link #awaitDrained} and {@link #close}; the feed
 * owns its sender thread, started by the constructor, stopped and joined by {@link #close}. The counters may be
 * read from any thread.
 */
final class ConsumerFeed implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.dmabuf.gateway");

    /** A frame waiting for the sender: references of the feed's own on its buffers, its layout and tag. */
    private record Pending(List<DmaBuf> buffers, BufferFormat format, long tag) implements FrameBuffer {
        /** Puts the feed's references. */
        @Override
        public void close() {
            buffers.forEach(DmaBuf::close);
        }
    }

    private final BufferChannel channel;
    private final int capacity;
    private final BlockingQueue<Pending> handoff;
    /** How long one send waits for room before it looks whether the feed is closing; then it tries again. */
    private static final Duration SEND_SLICE = Duration.ofMillis(200);

    private final Thread sender;
    private final Object progress = new Object();
    private volatile boolean closing;
    private volatile long sendingSince; // System.nanoTime() when the send in progress began, 0 when none
    private final AtomicLong accepted = new AtomicLong(); // frames put into the hand-off
    private final AtomicLong done = new AtomicLong(); // frames the sender took out of it, sent or not
    private volatile long sent;
    private final AtomicLong dropped = new AtomicLong();
    private volatile RuntimeException failure;

    /**
     * Starts feeding one consumer.
     *
     * @param channel the consumer's channel, owned by this feed from now on
     * @param capacity how many frames may wait for the consumer or be held by it, together
     */
    ConsumerFeed(BufferChannel channel, int capacity) {
        this.channel = channel;
        this.capacity = Math.max(1, capacity);
        this.handoff = new ArrayBlockingQueue<>(Math.max(1, capacity));
        channel.onRelease(frameId -> {
            synchronized (progress) {
                progress.notifyAll(); // a frame came back: awaitReturned looks again
            }
        });
        this.sender = new Thread(this::sendLoop, "dmabuf-gateway-send-" + channel.peer().pid());
        sender.start();
    }

    /**
     * The consumer's process.
     *
     * @return its pid
     */
    long pid() {
        return channel.peer().pid();
    }

    /**
     * Hands a frame to the consumer without waiting: references on its buffers go into the hand-off, or, when the
     * frames queued and held by the consumer reach the capacity or the consumer is gone, the frame is dropped for
     * this consumer.
     *
     * @param frame the frame; the caller keeps its own references
     * @param tag the frame's sequence number
     * @return false if the frame was dropped
     */
    boolean offer(FrameBuffer frame, long tag) {
        if (closing || failure != null || handoff.size() + channel.framesOut() >= capacity) {
            dropped.incrementAndGet();
            return false;
        }
        List<DmaBuf> refs = new ArrayList<>();
        for (DmaBuf b : frame.buffers()) {
            refs.add(b.get());
        }
        Pending p = new Pending(List.copyOf(refs), frame.format(), tag);
        accepted.incrementAndGet();
        if (!handoff.offer(p)) {
            accepted.decrementAndGet();
            p.close();
            dropped.incrementAndGet();
            return false;
        }
        return true;
    }

    /**
     * Why the consumer is gone, if it is: its channel failed (it closed the connection or died).
     *
     * @return the failure, or null while the consumer is there
     */
    RuntimeException failure() {
        return failure;
    }

    /**
     * Frames sent to the consumer.
     *
     * @return a count
     */
    long sent() {
        return sent;
    }

    /**
     * Frames dropped for the consumer: its hand-off was full, or it was gone or closed before they were sent.
     *
     * @return a count
     */
    long dropped() {
        return dropped.get();
    }

    /**
     * Waits until every queued frame was sent, the consumer is gone, or one send has been blocked for longer than
     * {@code stalled} (a consumer that stopped reading: its socket is full).
     *
     * @param stalled how long one send may block
     * @return true if every queued frame was sent
     * @throws InterruptedException if the caller is interrupted
     */
    boolean awaitDrained(Duration stalled) throws InterruptedException {
        synchronized (progress) {
            while (true) {
                if (failure != null) {
                    return false;
                }
                if (done.get() == accepted.get()) {
                    return true;
                }
                long since = sendingSince;
                long left = since == 0 ? stalled.toNanos() : since + stalled.toNanos() - System.nanoTime();
                if (since != 0 && left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
        }
    }

    /**
     * Waits until the consumer returned every frame it was sent, or it is gone, or {@code patience} ran out (a
     * consumer that holds on to frames). Woken by each release; the end of the connection, which returns every frame
     * without a release, is seen within 100 ms.
     *
     * @param patience how long to wait
     * @return true if no frame is out
     * @throws InterruptedException if the caller is interrupted
     */
    boolean awaitReturned(Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        synchronized (progress) {
            while (channel.framesOut() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, Math.min(left, 100_000_000L));
            }
            return true;
        }
    }

    /**
     * Frames the consumer holds: sent to it and not yet returned.
     *
     * @return a count
     */
    int framesOut() {
        return channel.framesOut();
    }

    private void sendLoop() {
        try {
            while (!closing) {
                Pending p = handoff.poll(100, TimeUnit.MILLISECONDS); // in slices: close() also interrupts
                if (p == null) {
                    continue;
                }
                sendingSince = System.nanoTime();
                try (p) {
                    // in slices, so that close() needs no signal to end a send to a consumer that stopped reading
                    while (true) {
                        try {
                            // the frame's layout travels with it: the source's, whatever its buffers report
                            channel.send(p, p.tag(), SEND_SLICE);
                            break;
                        } catch (org.dmabuf.api.DmaBufException e) {
                            if (closing || !"EAGAIN".equals(e.errno())) {
                                throw e;
                            }
                        }
                    }
                    sent++;
                } catch (RuntimeException e) {
                    dropped.incrementAndGet();
                    if (!closing) {
                        failure = e;
                    }
                    return;
                } finally {
                    sendingSince = 0;
                    done.incrementAndGet();
                    synchronized (progress) {
                        progress.notifyAll();
                    }
                }
            }
        } catch (InterruptedException e) {
            // close(): stop
        } finally {
            synchronized (progress) {
                progress.notifyAll();
            }
        }
    }

    /**
     * Disconnects the consumer: closing its channel wakes a send blocked on its full socket; then the sender thread
     * is joined and every frame still queued is put and counted as dropped.
     */
    @Override
    public void close() {
        closing = true;
        channel.close(); // shutdown(2): a sendmsg blocked on the consumer's full socket returns EPIPE
        sender.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                sender.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the sender ends once its channel is shut down; finish the join, then re-assert
            }
        }
        for (Pending p; (p = handoff.poll()) != null; ) {
            p.close();
            dropped.incrementAndGet();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LOG.log(System.Logger.Level.DEBUG, "consumer pid " + pid() + " closed: " + sent + " sent, " + dropped
                + " dropped");
    }
}
