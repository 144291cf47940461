package org.dmabuf.api;

import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A fixed set of frames of one format from one exporter, recycled without allocating: V4L2's queue of
 * {@code QBUF}/{@code DQBUF} buffers, PipeWire's buffer recycling, Wayland's {@code wl_buffer.release}, as one Java
 * object. Every buffer is allocated once, when the pool is made ({@link DmaBufRegistry#createPool}); in steady
 * state {@link #acquire} costs no syscall and {@link #allocations()} stays where it started.
 *
 * <p>A frame comes back to the pool only when <em>every</em> holder of each of its buffers has released it: the
 * acquired frame's handles ({@link FrameBuffer#close()}), every {@link DmaBuf#get()} taken from them (a buffer
 * channel keeps one until the peer process releases the frame), every handle {@link DmaBufRegistry#get(int)} gave
 * for one of its fds in this process, and every CPU access still open. The pool learns it from the buffers'
 * reference counts: it keeps one reference of its own per buffer, and a buffer is free when that reference is the
 * only one left. Nobody can therefore be handed a buffer that someone still reads.
 *
 * <pre>{@code
 * try (BufferPool pool = registry.createPool(BufferRequest.ofFormat(PixelFormat.NV12, 1280, 720), 4)) {
 *     while (running) {
 *         FrameBuffer frame = pool.acquire(Duration.ofMillis(40));
 *         if (frame == null) {
 *             dropped++;              // every frame is still held: skip this one rather than rewrite a held one
 *             continue;
 *         }
 *         try (frame) {
 *             fill(frame);
 *             channel.send(frame, n++); // the channel holds its own reference until the consumer releases it
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #close()}: no new acquires (a waiting {@link #acquire} is woken and throws); frames still out stay
 * valid, and each buffer is released when its last holder puts it. Closing the frames acquired is the caller's
 * business whether or not the pool is closed.
 *
 * <p>Thread-safe: any thread may call any method; {@link #close()} is idempotent.
 *
 * @since 1.3
 */
@ProviderType
public interface BufferPool extends AutoCloseable {
    /**
     * Takes a free frame: one whose every buffer is held by nobody but the pool. Frames come back in the order they
     * became free. Waits on a condition, without polling, until a frame comes free, the timeout passes or the pool
     * is closed.
     *
     * @param timeout how long to wait; {@link Duration#ZERO} (or negative) does not wait
     * @return the frame, owned by the caller: closing it is the caller's release; or {@code null} if no frame came
     *         free within the timeout, or if the calling thread was interrupted while waiting (its interrupt status
     *         is set again)
     * @throws BufferStateException ({@code ESHUTDOWN}) if the pool is closed, before or while waiting
     */
    FrameBuffer acquire(Duration timeout);

    /**
     * How many frames the pool has.
     *
     * @return the {@code count} it was made with
     */
    int size();

    /**
     * How many frames are free now: released by every holder and not yet acquired again. A snapshot.
     *
     * @return between 0 and {@link #size()}; 0 once the pool is closed
     */
    int available();

    /**
     * The layout every frame got: the exporter's (a driver's pitch, say), which may differ from the request's.
     *
     * @return the format; its {@link BufferFormat#buffers()} is the number of buffers per frame
     */
    BufferFormat format();

    /**
     * How many buffers the pool ever allocated. A pool allocates all of them when it is made and never again:
     * {@code size() * format().buffers()} for as long as the pool lives.
     *
     * @return a count
     */
    long allocations();

    /**
     * Stops handing out frames and drops the pool's own reference on every buffer: free buffers are released now,
     * the buffers of frames still out when their last holder puts them.
     */
    @Override
    void close();
}
