package org.dmabuf.core;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;

/**
 * A pool of frames recycled on their buffers' reference counts. The pool holds one reference of its own on every
 * buffer (the handles {@code allocate} gave it) and is each buffer's {@link BufferObject.Watcher}: a buffer whose
 * count falls to 1 is held by the pool alone, and a frame whose every buffer is so goes to the back of the free
 * queue and wakes the threads waiting in {@link #acquire}. A buffer taken again while its frame is free (a handle
 * from {@code get(fd)} in this process) takes the frame off the queue until it is released once more.
 *
 * <p>Locking: the pool's lock is taken inside a buffer's monitor (by the watcher's calls), never the other way
 * round: nothing here calls into a buffer while holding the lock.
 *
 * <p>The state lives in {@link State}, which the client's {@link OwnerScope} tracks (its bundle stopping closes
 * the pool) and which a {@link Cleaner} closes, reporting a leak, if this object is dropped without
 * {@link #close()}. Thread-safe; any thread.
 */
final class PoolImpl implements BufferPool {
    private final State state;
    private final Cleaner.Cleanable cleanable;

    private PoolImpl(State state) {
        this.state = state;
        this.cleanable = state.registry.cleaner().register(this, state);
    }

    /**
     * Allocates every buffer of a pool through a client's scope; on any failure the buffers allocated before are
     * put and nothing stays.
     */
    static PoolImpl create(BufferRegistry registry, OwnerScope scope, BufferRequest request, int count) {
        if (count <= 0) {
            throw new InvalidArgumentException("createPool", "count " + count + " must be greater than 0");
        }
        BufferFormat asked = request.format().orElseThrow(() -> new InvalidArgumentException("createPool",
                "the request has no format: use BufferRequest.ofFormat"));
        List<FrameBuffer> frames = new ArrayList<>(count);
        try {
            BufferRequest each = request;
            String exporter = null;
            for (int i = 0; i < count; i++) {
                FrameBuffer f = FrameBufferImpl.allocate(scope, named(each, i));
                frames.add(f);
                for (DmaBuf b : f.buffers()) {
                    String made = b.exporterService().orElse("?");
                    if (exporter == null) {
                        exporter = made;
                    } else if (!exporter.equals(made)) {
                        throw new DmaBufException("createPool", "EINVAL", "frame " + i + " of a pool of "
                                + asked.describe() + " has a buffer from exporter '" + made + "' where the pool's "
                                + "come from '" + exporter + "': one pool, one exporter (name it in the request)");
                    }
                }
                if (i == 0 && request.exporter().isEmpty()) {
                    each = request.exporter(exporter); // late allocation chose it: every other buffer comes from it
                }
                BufferFormat first = frames.get(0).format();
                if (!f.format().equals(first)) {
                    throw new DmaBufException("createPool", "EINVAL", "exporter '" + exporter + "' laid frame " + i
                            + " out as " + f.format().describe() + " and frame 0 as " + first.describe()
                            + ": a pool has one format");
                }
            }
        } catch (RuntimeException | Error e) {
            frames.forEach(FrameBuffer::close);
            throw e;
        }
        State s = new State(registry, scope, frames, true);
        scope.track(s);
        return new PoolImpl(s);
    }

    /**
     * Makes a pool of frames that exist already (a device's own buffers): the pool takes over the caller's handles,
     * which must be the only references to their buffers.
     */
    static PoolImpl adopt(BufferRegistry registry, OwnerScope scope, List<? extends FrameBuffer> frames) {
        if (frames == null || frames.isEmpty()) {
            throw new InvalidArgumentException("poolOf", "no frames");
        }
        BufferFormat first = frames.get(0).format();
        for (int i = 0; i < frames.size(); i++) {
            FrameBuffer f = frames.get(i);
            if (!f.format().equals(first)) {
                throw new InvalidArgumentException("poolOf", "frame " + i + " is " + f.format().describe()
                        + " and frame 0 " + first.describe() + ": a pool has one format");
            }
            for (DmaBuf b : f.buffers()) {
                if (!(b instanceof Handle h) || h.buffer().registry() != registry) {
                    throw new InvalidArgumentException("poolOf", "a buffer of frame " + i + " was not made by this "
                            + "registry");
                }
                if (b.refCount() != 1) {
                    throw new BufferStateException("poolOf", "EBUSY", "buffer " + b.id() + " of frame " + i
                            + " has " + b.refCount() + " references: the pool takes over the only one");
                }
            }
        }
        State s = new State(registry, scope, List.copyOf(frames), false);
        scope.track(s);
        return new PoolImpl(s);
    }

    /** The request with the frame's index after its name, where that fits in a dma-buf name. */
    private static BufferRequest named(BufferRequest request, int index) {
        String name = request.name();
        if (name.isEmpty()) {
            return request;
        }
        String indexed = name + "-" + index;
        return indexed.getBytes(StandardCharsets.UTF_8).length <= BufferRequest.MAX_NAME_LENGTH
                ? request.name(indexed) : request;
    }

    @Override
    public FrameBuffer acquire(Duration timeout) {
        return state.acquire(timeout);
    }

    @Override
    public int size() {
        return state.slots.size();
    }

    @Override
    public int available() {
        return state.available();
    }

    @Override
    public BufferFormat format() {
        return state.format;
    }

    @Override
    public long allocations() {
        return state.allocations;
    }

    @Override
    public void close() {
        state.close();
        cleanable.clean(); // the state is closed: the cleaner's action finds nothing to do
    }

    @Override
    public String toString() {
        return "BufferPool[" + size() + " x " + state.format.describe() + ", " + available() + " free]";
    }

    /** The pool itself: the slots, the free queue and the lock. Also the cleaner's action. */
    static final class State implements Runnable {
        final BufferRegistry registry;
        final OwnerScope scope;
        final BufferFormat format;
        final List<Slot> slots;
        final long allocations;
        private final ReentrantLock lock = new ReentrantLock();
        /** Signalled when a frame comes free or the pool closes. */
        private final Condition changed = lock.newCondition();
        /** The free frames, oldest freed first; guarded by {@link #lock}. */
        private final ArrayDeque<Slot> free = new ArrayDeque<>();
        private boolean closed;

        State(BufferRegistry registry, OwnerScope scope, List<? extends FrameBuffer> frames, boolean allocated) {
            this.registry = registry;
            this.scope = scope;
            this.format = frames.get(0).format();
            List<Slot> all = new ArrayList<>(frames.size());
            long n = 0;
            for (int i = 0; i < frames.size(); i++) {
                List<Handle> own = new ArrayList<>();
                for (DmaBuf b : frames.get(i).buffers()) {
                    own.add((Handle) b);
                    n++;
                }
                all.add(new Slot(i, own));
            }
            this.slots = List.copyOf(all);
            this.allocations = allocated ? n : 0;
            lock.lock();
            try {
                for (Slot s : slots) {
                    s.queued = true;
                    free.addLast(s);
                }
            } finally {
                lock.unlock();
            }
            for (Slot s : slots) {
                for (Handle h : s.own) {
                    h.buffer().watch(s); // nobody else holds the new buffers: every count is 1
                }
            }
        }

        FrameBuffer acquire(Duration timeout) {
            long nanos = nanos(timeout);
            Slot slot;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw closed("acquire");
                    }
                    slot = free.pollFirst();
                    if (slot != null) {
                        slot.queued = false;
                        slot.reserved = true; // held back from close() until its references are taken
                        break;
                    }
                    if (nanos <= 0) {
                        return null;
                    }
                    try {
                        nanos = changed.awaitNanos(nanos);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            } finally {
                lock.unlock();
            }
            List<Handle> own = slot.own;
            DmaBuf[] handles = new DmaBuf[own.size()];
            int taken = 0;
            try {
                for (; taken < handles.length; taken++) {
                    handles[taken] = own.get(taken).getFor(scope);
                }
            } catch (RuntimeException | Error e) {
                for (int i = 0; i < taken; i++) {
                    handles[i].close();
                }
                unreserve(slot);
                throw e;
            }
            unreserve(slot);
            return new FrameBufferImpl(format, List.of(handles));
        }

        /** Ends a reservation: back on the queue if nobody holds the frame, dropped if the pool closed meanwhile. */
        private void unreserve(Slot slot) {
            boolean drop = false;
            lock.lock();
            try {
                slot.reserved = false;
                if (closed) {
                    drop = !slot.dropped;
                    slot.dropped = true;
                } else {
                    slot.queueIfFree();
                }
            } finally {
                lock.unlock();
            }
            if (drop) {
                slot.drop();
            }
        }

        int available() {
            lock.lock();
            try {
                return free.size();
            } finally {
                lock.unlock();
            }
        }

        private BufferStateException closed(String call) {
            return new BufferStateException(call, "ESHUTDOWN", "the pool of " + slots.size() + " x "
                    + format.describe() + " is closed");
        }

        /** Closes the pool; returns false if it was closed already. */
        boolean close() {
            return close(null);
        }

        /**
         * Closes the pool, saying {@code leak} first if it is not null; returns false if it was closed already (then
         * nothing is said). The warning comes before the buffers are released, so whoever sees them released sees
         * it too.
         */
        private boolean close(String leak) {
            List<Slot> toDrop = new ArrayList<>();
            lock.lock();
            try {
                if (closed) {
                    return false;
                }
                closed = true;
                free.clear();
                for (Slot s : slots) {
                    s.queued = false;
                    if (!s.reserved && !s.dropped) {
                        s.dropped = true;
                        toDrop.add(s);
                    }
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            scope.untrack(this);
            if (leak != null) {
                registry.warn(leak);
            }
            RuntimeException error = null;
            for (Slot s : toDrop) {
                try {
                    s.drop();
                } catch (RuntimeException e) {
                    if (error == null) {
                        error = e;
                    } else {
                        error.addSuppressed(e);
                    }
                }
            }
            if (error != null) {
                throw error;
            }
            return true;
        }

        /** The cleaner's action: the pool object was dropped without {@code close()}. */
        @Override
        public void run() {
            close("leak: a buffer pool of " + slots.size() + " x " + format.describe() + " of " + scope.name()
                    + " was dropped without close(); closed it");
        }

        private static long nanos(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                return 0;
            }
            try {
                return timeout.toNanos();
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }

        /**
         * One frame of the pool: the pool's own handles on its buffers, and how many of them someone else holds.
         * Its fields are guarded by the pool's lock.
         */
        final class Slot implements BufferObject.Watcher {
            final int index;
            final List<Handle> own;
            /** Buffers of the frame whose count is above the pool's own reference. */
            int held;
            /** On the free queue. */
            boolean queued;
            /** Being handed out by {@link #acquire}. */
            boolean reserved;
            /** The pool's references were dropped (closed). */
            boolean dropped;

            Slot(int index, List<Handle> own) {
                this.index = index;
                this.own = List.copyOf(own);
            }

            @Override
            public void held(BufferObject b) {
                lock.lock();
                try {
                    held++;
                    if (queued) {
                        free.remove(this); // a handle from get(fd) in this process: not free until released
                        queued = false;
                    }
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void idle(BufferObject b) {
                lock.lock();
                try {
                    held--;
                    queueIfFree();
                } finally {
                    lock.unlock();
                }
            }

            /** Under the lock: puts the frame at the back of the queue if nobody but the pool holds it. */
            void queueIfFree() {
                if (held == 0 && !reserved && !queued && !closed) {
                    queued = true;
                    free.addLast(this);
                    changed.signalAll();
                }
            }

            /** Drops the pool's references; outside the lock. */
            void drop() {
                for (Handle h : own) {
                    h.buffer().watch(null);
                    h.close();
                }
            }

            @Override
            public String toString() {
                return "frame " + index + " of the pool";
            }
        }
    }
}
