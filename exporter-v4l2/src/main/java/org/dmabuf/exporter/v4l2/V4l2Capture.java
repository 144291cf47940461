package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.FrameSource;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Threads;

/**
 * Captures into a set of buffers: the driver's own MMAP buffers (exported), or buffers of another exporter queued
 * with {@code V4L2_MEMORY_DMABUF} (zero copy from the device into, say, a dma-heap). Each V4L2 buffer is one frame
 * of the layout's {@link BufferFormat#buffers()} dma-bufs: one, or one per plane for a multi-planar format such as
 * {@code NV12M} (every plane exported, or every plane's dma-buf queued in {@code m.planes[i].m.fd}). The first
 * {@link #next} queues
 * every buffer ({@code QBUF}), starts streaming ({@code STREAMON}) and a capture thread that dequeues each filled
 * buffer and offers it as a {@link Frame}. The hand-off queue holds at most {@code buffers - 2} frames; when it is
 * full the oldest waiting frame goes back to the driver and counts as dropped, so the driver always has buffers to
 * fill. A frame of the driver's MMAP buffers goes back to the driver when its consumer closes it. The buffers of
 * {@link #into} come from a {@link BufferPool}: a frame goes back to the pool only when every holder of each of its
 * buffers released it (its consumer, a buffer channel still waiting for its peer's release, any {@code get()}), and
 * a refill thread takes each frame that comes free from the pool ({@link BufferPool#acquire}, waiting on the pool's
 * condition) and queues it again, at the V4L2 index it had from the start so that videobuf2 keeps its mapping. The
 * driver is never given a buffer that someone still reads.
 *
 * <p>{@link #close()} is idempotent: it stops the capture thread and joins it, stops streaming ({@code STREAMOFF},
 * which takes every buffer back from the driver), closes the frames still waiting in the queue and releases the
 * capture's buffers; a second call waits for the first to finish. A {@link #next} waiting when the capture closes,
 * or called after, throws a {@link DmaBufException} saying so. Frames handed out stay valid until their consumers
 * close them, before or after the capture closes.
 *
 * <p>Threads: the capture thread (and, for {@link #into}, the refill thread) is owned by this object: started by
 * the first {@link #next}, stopped and joined by {@link #close()}. Any thread may call {@link #next},
 * {@link #close()} and close frames, concurrently. A {@link #stepped} capture (for tests) starts no thread: its
 * caller runs the loop's body with {@link #step()}, from any thread.
 */
final class V4l2Capture implements FrameSource {
    /** The prefix of the capture thread's name. */
    static final String THREAD_NAME = "v4l2-capture ";
    /** The prefix of the refill thread's name. */
    static final String REFILL_THREAD_NAME = "v4l2-refill ";
    private static final Duration POLL = Duration.ofMillis(100);
    /** How long the refill thread waits in one acquire: it is woken at once when a frame comes free. */
    private static final Duration POLL_FREE = Duration.ofSeconds(1);

    private enum State { NEW, STREAMING, FAILED, CLOSED }

    private final CaptureDevice device;
    /** Whether start runs the capture and refill threads; false only for tests that run the loop's steps. */
    private final boolean threaded;
    /** Held by a test's {@link #step()}, and taken by close in place of joining the capture thread. */
    private final ReentrantLock stepping = new ReentrantLock();
    private final BufferFormat format;
    private final int memory;
    private final Runnable onClose;
    /** The driver's MMAP buffers, by V4L2 buffer index, then by buffer of the layout (V4L2 plane); else empty. */
    private final List<List<DmaBuf>> handles;
    /** For {@code V4L2_MEMORY_DMABUF}: where the frames come from, and go back to; else null. */
    private final BufferPool pool;
    /** The pool's frames by the identity of their first buffer: their V4L2 index; guarded by the device's lock. */
    private final Map<BufferId, Integer> indexOf = new HashMap<>();
    /** The pool's frames the driver holds, by V4L2 index; guarded by the device's lock. */
    private final FrameBuffer[] inDriver;
    private Thread refill;
    /** For {@code V4L2_MEMORY_DMABUF}: the device the buffers are attached to while the queue holds them. */
    private final V4l2Importer importer;
    /** The buffers' attachments to {@link #importer}, guarded by the device's lock. */
    private final List<org.dmabuf.api.Attachment> attachments = new ArrayList<>();
    private final AtomicLong captured = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /** Guards {@link #state} and {@link #thread}; held by start and by all of close. */
    private final Object lifecycle = new Object();
    private State state = State.NEW;
    private Thread thread;

    /** Whether buffers go back to the driver: written under the device's lock, which queueing holds. */
    private volatile boolean streaming;

    /** The hand-off queue, guarded by {@link #queueLock}. */
    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition queueChanged = queueLock.newCondition();
    private final Deque<V4l2Frame> ready = new ArrayDeque<>();
    private final int capacity;
    private boolean queueClosed;
    private RuntimeException failure;

    /**
     * A capture into these buffers.
     *
     * @param device the node, its format set
     * @param format the format the driver set
     * @param handles the buffers, index by index, each with one dma-buf per buffer of the layout; owned by the
     *        capture from now on
     * @param memory {@code V4L2_MEMORY_MMAP} (the handles are the driver's exported buffers, already requested) or
     *        {@code V4L2_MEMORY_DMABUF} (the handles are another exporter's; the queue is requested at start)
     * @param onClose run once when the capture is closed, after its resources are released
     */
    V4l2Capture(V4l2Device device, BufferFormat format, List<List<DmaBuf>> handles, int memory,
            Runnable onClose) {
        this(device, format, handles, memory, null, null, onClose, true);
    }

    /**
     * A capture into the driver's MMAP buffers that starts no thread: the test that makes it runs the capture loop's
     * body itself, with {@link #step()}, on a device of its own. Otherwise as {@link #V4l2Capture(V4l2Device,
     * BufferFormat, List, int, Runnable)} with {@code V4L2_MEMORY_MMAP}.
     */
    static V4l2Capture stepped(CaptureDevice device, BufferFormat format, List<List<DmaBuf>> handles,
            Runnable onClose) {
        return new V4l2Capture(device, format, handles, V4l2Uapi.V4L2_MEMORY_MMAP, null, null, onClose, false);
    }

    /**
     * A capture into the driver's own buffers ({@code V4L2_MEMORY_MMAP}, exported) that gives a buffer back to the
     * driver only once every holder of it released it: the frames are a pool of the driver's buffers
     * ({@link DmaBufRegistry#poolOf}), and the refill thread queues each frame again when the pool has it back, as
     * for {@link #into}. A consumer in another process that holds a frame (a channel with releases keeps a reference
     * until it returns it) keeps the driver from writing into it.
     *
     * @param device the node, its format set and its MMAP buffers requested
     * @param format the format the driver set
     * @param handles the exported buffers, index by index: the ones the pool holds, for the frames' indices
     * @param pool the pool of those buffers, owned by the capture from now on
     * @param onClose run once when the capture is closed, after its resources are released
     */
    V4l2Capture(V4l2Device device, BufferFormat format, List<List<DmaBuf>> handles, BufferPool pool,
            Runnable onClose) {
        this(device, format, handles, V4l2Uapi.V4L2_MEMORY_MMAP, pool, null, onClose, true);
    }

    private V4l2Capture(CaptureDevice device, BufferFormat format, List<List<DmaBuf>> handles, int memory,
            BufferPool pool, V4l2Importer importer, Runnable onClose, boolean threaded) {
        for (List<DmaBuf> frame : handles) {
            if (frame.size() != format.buffers()) {
                throw new IllegalArgumentException(frame.size() + " buffers for " + format.describe());
            }
        }
        this.device = device;
        this.format = format;
        this.handles = new ArrayList<>();
        for (List<DmaBuf> frame : handles) {
            this.handles.add(List.copyOf(frame));
        }
        this.memory = memory;
        this.onClose = onClose;
        this.pool = pool;
        int count = pool == null ? handles.size() : pool.size();
        this.inDriver = new FrameBuffer[pool == null ? 0 : count];
        this.capacity = Math.max(1, count - 2);
        this.importer = importer;
        this.threaded = threaded;
    }

    /**
     * A capture straight into buffers of another exporter ({@code V4L2_MEMORY_DMABUF}): a pool of {@code count}
     * frames of the driver's layout ({@link DmaBufRegistry#createPool}), one buffer per buffer of the layout, each at
     * least as large as the driver's {@code sizeimage} of that V4L2 plane. Each buffer's {@link DmaBuf#format()} is
     * the driver's layout for a single-buffer format.
     *
     * @param device the node, its format set
     * @param format the format the driver set
     * @param registry where the buffers come from
     * @param exporter the exporter's name, for example {@code system}
     * @param count how many frames
     * @return the capture; close it to stop and release the buffers
     */
    static V4l2Capture into(V4l2Device device, BufferFormat format, DmaBufRegistry registry, String exporter,
            int count) {
        V4l2Importer importer = new V4l2Importer(device, device.queueAttachesDmaBufs());
        long size = (format.bufferSize(0) + 4095) & -4096L;
        BufferPool pool = registry.createPool(BufferRequest.ofSize(size).format(format).exporter(exporter)
                .name("v4l2-capture"), count);
        try {
            return new V4l2Capture(device, format, List.of(), V4l2Uapi.V4L2_MEMORY_DMABUF, pool, importer, () -> {
            }, true);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** The pool of a capture {@link #into} another exporter's buffers, else null: for tests. */
    BufferPool pool() {
        return pool;
    }

    /** QBUF of one buffer; the caller holds the device's lock and has checked {@link #streaming} or is starting. */
    private void queue(int index) {
        List<DmaBuf> frame = pool == null ? handles.get(index) : inDriver[index].buffers();
        if (memory == V4l2Uapi.V4L2_MEMORY_MMAP) {
            device.queueMmap(index, frame.size());
        } else {
            int[] fds = new int[frame.size()];
            long[] sizes = new long[frame.size()];
            for (int b = 0; b < fds.length; b++) {
                fds[b] = frame.get(b).fd();
                sizes[b] = frame.get(b).size();
            }
            device.queueDmabuf(index, fds, sizes);
        }
    }

    /** Queues every buffer, streams and starts the capture thread; the caller holds {@link #lifecycle}. */
    private void startLocked() {
        synchronized (device) {
            try {
                if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                    int granted = device.requestBuffers(inDriver.length, memory);
                    if (granted < inDriver.length) {
                        throw new DmaBufException("VIDIOC_REQBUFS", "ENOMEM", device.path() + " granted " + granted
                                + " of " + inDriver.length + " DMABUF buffers");
                    }
                    for (int i = 0; i < inDriver.length; i++) {
                        FrameBuffer f = pool.acquire(Duration.ZERO); // the pool is new and the capture's alone
                        if (f == null) {
                            throw new DmaBufException("start", "EBUSY", "frame " + i + " of the capture's pool on "
                                    + device.path() + " is held");
                        }
                        inDriver[i] = f;
                        indexOf.put(f.buffer(0).id(), i);
                        for (DmaBuf h : f.buffers()) {
                            attachments.add(h.attach(importer)); // videobuf2 attaches each at its first QBUF
                        }
                    }
                }
                if (memory == V4l2Uapi.V4L2_MEMORY_MMAP && pool != null) {
                    for (int i = 0; i < handles.size(); i++) {
                        indexOf.put(handles.get(i).get(0).id(), i);
                    }
                    for (int i = 0; i < inDriver.length; i++) {
                        FrameBuffer f = pool.acquire(Duration.ZERO); // the pool is new and the capture's alone
                        Integer index = f == null ? null : indexOf.get(f.buffer(0).id());
                        if (index == null) {
                            if (f != null) {
                                f.close();
                            }
                            throw new DmaBufException("start", "EBUSY", "frame " + i + " of the capture's pool on "
                                    + device.path() + " is held");
                        }
                        inDriver[index] = f;
                    }
                }
                int count = pool == null ? handles.size() : inDriver.length;
                for (int i = 0; i < count; i++) {
                    queue(i);
                }
                device.streamOn();
                streaming = true;
            } catch (RuntimeException e) {
                state = State.FAILED;
                stopStreaming(e); // STREAMOFF takes back what was queued
                fail(e);
                throw e;
            }
        }
        state = State.STREAMING;
        if (!threaded) {
            return; // the test runs the loop's steps
        }
        Thread t = new Thread(this::loop, THREAD_NAME + device.path());
        t.setDaemon(true);
        thread = t;
        t.start();
        if (pool != null) {
            Thread r = new Thread(this::refillLoop, REFILL_THREAD_NAME + device.path());
            r.setDaemon(true);
            refill = r;
            r.start();
        }
    }

    /**
     * The refill thread: takes every frame that comes free in the pool and gives it back to the driver at its
     * index. Ends when streaming stops (close interrupts it) or the pool closes.
     */
    private void refillLoop() {
        try {
            while (streaming && !Thread.currentThread().isInterrupted()) {
                FrameBuffer f = pool.acquire(POLL_FREE);
                if (f == null) {
                    continue;
                }
                synchronized (device) {
                    Integer index = indexOf.get(f.buffer(0).id());
                    if (!streaming || index == null || inDriver[index] != null) {
                        f.close();
                        continue;
                    }
                    inDriver[index] = f;
                    try {
                        queue(index);
                    } catch (LinuxException e) {
                        inDriver[index] = null;
                        f.close();
                        fail(e);
                        return;
                    }
                }
            }
        } catch (BufferStateException closed) {
            // the pool closed: the capture is closing
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    /** STREAMOFF and, for DMABUF, the queue's release; errors are added to {@code failure}. */
    private void stopStreaming(RuntimeException failure) {
        synchronized (device) {
            streaming = false;
            try {
                device.streamOff();
            } catch (LinuxException e) {
                failure.addSuppressed(e);
            }
            if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                try {
                    device.requestBuffers(0, memory); // videobuf2 detaches the dma-bufs
                } catch (LinuxException e) {
                    failure.addSuppressed(e);
                }
                for (org.dmabuf.api.Attachment a : attachments) {
                    try {
                        a.close();
                    } catch (RuntimeException e) {
                        failure.addSuppressed(e);
                    }
                }
                attachments.clear();
            }
        }
    }

    private void loop() {
        try {
            while (streaming) {
                pumpOnce(POLL);
            }
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    /**
     * The capture loop's body: one dequeue (waiting at most {@code timeout}) and, if a buffer came, its frame offered
     * to the queue, the oldest waiting frame given back when the queue is full, or the new one when it is closed.
     *
     * @throws RuntimeException what ends the loop: the capture fails with it
     */
    private void pumpOnce(Duration timeout) {
        V4l2Device.Dequeued d = device.dequeue(memory, timeout);
        if (d == null) {
            return;
        }
        captured.incrementAndGet();
        FrameBuffer filled = null;
        if (pool != null) {
            synchronized (device) {
                filled = inDriver[d.index()];
                inDriver[d.index()] = null;
            }
            if (filled == null) {
                throw new DmaBufException("VIDIOC_DQBUF", "EINVAL", device.path() + " returned buffer "
                        + d.index() + ", which was not queued");
            }
        }
        V4l2Frame oldest = offer(new V4l2Frame(d, filled));
        if (oldest != null) {
            oldest.close();
        }
    }

    /**
     * For a {@link #stepped} capture: one turn of the capture loop, as the capture thread would run it, without
     * waiting for a buffer; nothing once streaming stopped, as the loop ends then. Any thread may call it; close
     * waits for a step under way, as it joins the capture thread.
     *
     * @return whether the loop would have run this turn (streaming)
     */
    boolean step() {
        stepping.lock();
        try {
            if (!streaming) {
                return false;
            }
            pumpOnce(Duration.ZERO);
            return true;
        } catch (RuntimeException e) {
            fail(e);
            return false;
        } finally {
            stepping.unlock();
        }
    }

    /** The V4L2 indexes of the frames waiting in the hand-off queue, oldest first: for tests. */
    List<Integer> readyIndexes() {
        queueLock.lock();
        try {
            List<Integer> out = new ArrayList<>();
            for (V4l2Frame f : ready) {
                out.add(f.d.index());
            }
            return out;
        } finally {
            queueLock.unlock();
        }
    }

    /** Adds a frame; returns the frame to give back: the oldest when the queue is full, or this one if closed. */
    private V4l2Frame offer(V4l2Frame f) {
        queueLock.lock();
        try {
            if (queueClosed) {
                return f;
            }
            V4l2Frame oldest = null;
            if (ready.size() >= capacity) {
                oldest = ready.pollFirst();
                dropped.incrementAndGet();
            }
            ready.addLast(f);
            queueChanged.signalAll();
            return oldest;
        } finally {
            queueLock.unlock();
        }
    }

    private void fail(RuntimeException e) {
        queueLock.lock();
        try {
            if (failure == null) {
                failure = e;
            }
            queueChanged.signalAll();
        } finally {
            queueLock.unlock();
        }
    }

    private void requeue(int index) {
        if (pool != null) {
            return; // the refill thread queues a frame once the pool has it back
        }
        synchronized (device) {
            if (!streaming) {
                return;
            }
            try {
                queue(index);
            } catch (LinuxException e) {
                fail(e); // the consumer closing a frame is not to blame: next() reports it
            }
        }
    }

    private DmaBufException closed() {
        return new DmaBufException("next", null, "the capture on " + device.path() + " is closed");
    }

    @Override
    public Frame next(Duration timeout) {
        synchronized (lifecycle) {
            switch (state) {
                case NEW -> startLocked();
                case CLOSED -> throw closed();
                default -> {
                }
            }
        }
        long nanos = timeout.toNanos();
        queueLock.lock();
        try {
            while (ready.isEmpty()) {
                if (queueClosed) {
                    throw closed();
                }
                if (failure != null) {
                    throw new DmaBufException("next", null, "capture on " + device.path() + " failed: "
                            + failure.getMessage(), failure);
                }
                if (nanos <= 0) {
                    return null;
                }
                nanos = queueChanged.awaitNanos(nanos);
            }
            return ready.pollFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            queueLock.unlock();
        }
    }

    @Override
    public BufferFormat format() {
        return format;
    }

    @Override
    public long framesCaptured() {
        return captured.get();
    }

    @Override
    public long framesDropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        RuntimeException error = null;
        synchronized (lifecycle) {
            if (state == State.CLOSED) {
                return;
            }
            boolean wasStreaming = state == State.STREAMING;
            state = State.CLOSED;
            synchronized (device) {
                streaming = false; // the loop ends within one poll; frames closed from now on are not queued
            }
            List<V4l2Frame> waiting = new ArrayList<>();
            queueLock.lock();
            try {
                queueClosed = true;
                waiting.addAll(ready);
                ready.clear();
                queueChanged.signalAll();
            } finally {
                queueLock.unlock();
            }
            Thread t = thread;
            thread = null;
            if (t != null && t != Thread.currentThread()) {
                Threads.joinUninterruptibly(t);
            } else if (!threaded) {
                stepping.lock(); // a step under way ends first, as the thread would; later steps see no streaming
                stepping.unlock();
            }
            Thread r = refill;
            refill = null;
            if (r != null) {
                r.interrupt(); // wakes it in acquire; it sees streaming is over
                Threads.joinUninterruptibly(r);
            }
            if (wasStreaming) {
                RuntimeException stop = new DmaBufException("close", null, "stopping the capture on "
                        + device.path() + " failed");
                stopStreaming(stop);
                if (stop.getSuppressed().length > 0) {
                    error = stop;
                }
            }
            for (V4l2Frame f : waiting) {
                f.close();
            }
            if (pool != null) {
                synchronized (device) {
                    for (int i = 0; i < inDriver.length; i++) {
                        if (inDriver[i] != null) {
                            inDriver[i].close(); // STREAMOFF took them back from the driver
                            inDriver[i] = null;
                        }
                    }
                }
                try {
                    pool.close(); // frames still with consumers stay valid until they close them
                } catch (RuntimeException e) {
                    if (error == null) {
                        error = e;
                    } else {
                        error.addSuppressed(e);
                    }
                }
            }
            for (List<DmaBuf> frame : pool == null ? handles : List.<List<DmaBuf>>of()) {
                // a pool owns its handles: it puts each once its frame's last holder released it
                for (DmaBuf h : frame) {
                    try {
                        h.close();
                    } catch (RuntimeException e) {
                        if (error == null) {
                            error = e;
                        } else {
                            error.addSuppressed(e);
                        }
                    }
                }
            }
            handles.clear();
        }
        onClose.run();
        if (error != null) {
            throw error;
        }
    }

    /**
     * One dequeued V4L2 buffer: a reference of its own on every dma-buf of the layout, so that it outlives a stopped
     * capture. Thread-safe.
     */
    private final class V4l2Frame implements Frame {
        private final V4l2Device.Dequeued d;
        private final List<DmaBuf> buffers;
        /** The pool's frame this is, owned by this frame; null for the driver's MMAP buffers. */
        private final FrameBuffer pooled;
        private final AtomicBoolean closed = new AtomicBoolean();

        V4l2Frame(V4l2Device.Dequeued d, FrameBuffer pooled) {
            this.d = d;
            this.pooled = pooled;
            if (pooled != null) {
                this.buffers = pooled.buffers();
                return;
            }
            List<DmaBuf> refs = new ArrayList<>();
            try {
                for (DmaBuf h : handles.get(d.index())) {
                    refs.add(h.get());
                }
            } catch (RuntimeException e) {
                refs.forEach(DmaBuf::close);
                throw e;
            }
            this.buffers = List.copyOf(refs);
        }

        @Override
        public long sequence() {
            return d.sequence();
        }

        @Override
        public long timestampNanos() {
            return d.timestampNanos();
        }

        @Override
        public List<DmaBuf> buffers() {
            return buffers;
        }

        /** The {@code bytesused} of the V4L2 plane that is this buffer. */
        @Override
        public long bytesUsed(int index) {
            if (index < 0 || index >= d.bytesUsed().size() || index >= buffers.size()) {
                throw new org.dmabuf.api.InvalidArgumentException("Frame.bytesUsed", "buffer " + index
                        + " of a frame of " + buffers.size());
            }
            return d.bytesUsed().get(index);
        }

        @Override
        public BufferFormat format() {
            return format;
        }

        /**
         * Gives the buffers back to the driver while the capture streams; after it, only drops the references. A
         * frame of the pool goes back to the pool, and from there to the driver, once every holder released it.
         */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                if (pooled != null) {
                    pooled.close();
                    return;
                }
                try {
                    requeue(d.index());
                } finally {
                    for (DmaBuf b : buffers) {
                        b.close();
                    }
                }
            }
        }

        @Override
        public String toString() {
            return "frame " + d.sequence() + " of " + device.path() + " (buffer " + d.index() + ", "
                    + format.describe() + ")";
        }
    }
}
