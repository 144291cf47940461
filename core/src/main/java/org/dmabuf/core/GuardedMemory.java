package org.dmabuf.core;

import com.sun.jna.Pointer;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.MemoryView;
import org.dmabuf.linux.Mapping;
import org.dmabuf.spi.MappedMemory;

/**
 * The CPU view of a buffer's cached mapping. Every access is bounds-checked and counted in flight; {@link #close()}
 * waits for accesses in flight, then unmaps, so no access ever touches unmapped memory: later ones throw
 * {@link BufferReleasedException}.
 *
 * <p>Accesses go through a direct {@link ByteBuffer} over the mapping (plain loads and stores, no native call per
 * element) when the mapping fits one (2 GiB - 1), and through JNA's {@link Pointer} otherwise.
 *
 * <p>Zero-copy views ({@link #view}) escape the guard: once handed out, the mapping's addresses must never be
 * unmapped while a view can still reach them. {@link #close()} then retires the mapping instead
 * ({@link Mapping#retire()}: the fd's pages are replaced by private zero-filled ones) and the reservation is
 * unmapped by the registry's {@link Cleaner} once every view is unreachable.
 *
 * <p>Thread-safe: any thread may access; {@link #close()} is called once, by the buffer's release.
 */
final class GuardedMemory implements MemoryView {
    private static final int CLOSED = Integer.MIN_VALUE;

    private final MappedMemory mapping;
    private final Pointer base;
    /** The whole mapping, native order, never handed out; null when larger than a ByteBuffer can address. */
    private final ByteBuffer bytes;
    private final long size;
    private final String what;
    private final Cleaner cleaner;
    /** Accesses in flight, or {@link #CLOSED}. */
    private final AtomicInteger users = new AtomicInteger();
    private final Views views = new Views();
    /** The root of the views of a mapping that fits one ByteBuffer; made at the first view. Guarded by views. */
    private ByteBuffer viewRoot;

    GuardedMemory(MappedMemory mapping, String what, Cleaner cleaner) {
        this.mapping = mapping;
        this.base = new Pointer(mapping.address());
        this.size = mapping.size();
        this.bytes = size <= Integer.MAX_VALUE ? base.getByteBuffer(0, size).order(ByteOrder.nativeOrder()) : null;
        this.what = what;
        this.cleaner = cleaner;
    }

    /**
     * What the views of one mapping share, apart from the views themselves (the cleaner's actions hold this, so it
     * must not reach a view).
     */
    private static final class Views {
        /** View roots not yet garbage collected. */
        private int liveRoots;
        /** Set by close() when views were live: the retired range, unmapped when the last root is collected. */
        private AutoCloseable reservation;

        synchronized void rootCollected() {
            if (--liveRoots == 0 && reservation != null) {
                release();
            }
        }

        /** Holds the lock. */
        void release() {
            AutoCloseable r = reservation;
            reservation = null;
            try {
                r.close();
            } catch (Exception e) {
                // munmap of a range this object reserved cannot fail but for a bug; nothing can use it either way
            }
        }
    }

    private void enter(String call, long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException(call + ": range [" + offset + ", " + offset + " + " + length
                    + ") is outside " + what + " of " + size + " bytes");
        }
        while (true) {
            int u = users.get();
            if (u < 0) {
                throw new BufferReleasedException(call, what + " is no longer mapped: the buffer was released");
            }
            if (users.compareAndSet(u, u + 1)) {
                return;
            }
        }
    }

    private void exit() {
        users.decrementAndGet();
    }

    boolean isMapped() {
        return users.get() >= 0;
    }

    /**
     * Refuses new accesses, waits for those in flight, and unmaps; if views were handed out, retires the mapping
     * until they are collected. Idempotent.
     */
    void close() {
        while (true) {
            int u = users.get();
            if (u < 0) {
                return;
            }
            if (u == 0 && users.compareAndSet(0, CLOSED)) {
                break;
            }
            Thread.onSpinWait(); // an access in flight is a bounded memory copy
        }
        synchronized (views) {
            viewRoot = null;
            if (views.liveRoots == 0) {
                mapping.close();
                return;
            }
            if (mapping instanceof Mapping m) {
                views.reservation = m.retire().orElse(null);
            } else {
                views.reservation = mapping::close; // an exporter's own mapping: kept until the views are gone
            }
        }
    }

    /** Whether views of this mapping may still be reachable (their roots are not yet collected). */
    boolean hasLiveViews() {
        synchronized (views) {
            return views.liveRoots > 0;
        }
    }

    /**
     * A zero-copy view of {@code [offset, offset + length)}: a direct, native-order buffer, read-only if asked.
     *
     * @throws IndexOutOfBoundsException if the range is outside the mapping
     * @throws BufferReleasedException if the mapping is gone
     */
    ByteBuffer view(String call, long offset, int length, boolean readOnly) {
        enter(call, offset, length);
        try {
            ByteBuffer v;
            synchronized (views) {
                if (bytes != null) {
                    if (viewRoot == null) {
                        viewRoot = newRoot(0, (int) size);
                    }
                    v = viewRoot.slice((int) offset, length);
                } else {
                    v = newRoot(offset, length);
                }
            }
            return (readOnly ? v.asReadOnlyBuffer() : v).order(ByteOrder.nativeOrder());
        } finally {
            exit();
        }
    }

    /** Holds the views' lock. Slices and duplicates of the root keep it reachable (their attachment). */
    private ByteBuffer newRoot(long offset, int length) {
        ByteBuffer root = base.getByteBuffer(offset, length);
        views.liveRoots++;
        cleaner.register(root, views::rootCollected);
        return root;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public byte getByte(long offset) {
        enter("getByte", offset, 1);
        try {
            return bytes != null ? bytes.get((int) offset) : base.getByte(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putByte(long offset, byte value) {
        enter("putByte", offset, 1);
        try {
            if (bytes != null) {
                bytes.put((int) offset, value);
            } else {
                base.setByte(offset, value);
            }
        } finally {
            exit();
        }
    }

    @Override
    public int getInt(long offset) {
        enter("getInt", offset, 4);
        try {
            return bytes != null ? bytes.getInt((int) offset) : base.getInt(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putInt(long offset, int value) {
        enter("putInt", offset, 4);
        try {
            if (bytes != null) {
                bytes.putInt((int) offset, value);
            } else {
                base.setInt(offset, value);
            }
        } finally {
            exit();
        }
    }

    @Override
    public long getLong(long offset) {
        enter("getLong", offset, 8);
        try {
            return bytes != null ? bytes.getLong((int) offset) : base.getLong(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putLong(long offset, long value) {
        enter("putLong", offset, 8);
        try {
            if (bytes != null) {
                bytes.putLong((int) offset, value);
            } else {
                base.setLong(offset, value);
            }
        } finally {
            exit();
        }
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        enter("read", offset, length);
        try {
            if (bytes != null) {
                bytes.get((int) offset, dst, dstOffset, length);
            } else {
                base.read(offset, dst, dstOffset, length);
            }
        } finally {
            exit();
        }
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        enter("write", offset, length);
        try {
            if (bytes != null) {
                bytes.put((int) offset, src, srcOffset, length);
            } else {
                base.write(offset, src, srcOffset, length);
            }
        } finally {
            exit();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        enter("read", offset, n);
        try {
            dst.put(bytes != null ? bytes.slice((int) offset, n) : base.getByteBuffer(offset, n));
        } finally {
            exit();
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        int n = src.remaining();
        enter("write", offset, n);
        try {
            (bytes != null ? bytes.slice((int) offset, n) : base.getByteBuffer(offset, n)).put(src);
        } finally {
            exit();
        }
    }

    @Override
    public void fill(long offset, long length, byte value) {
        enter("fill", offset, length);
        try {
            base.setMemory(offset, length, value);
        } finally {
            exit();
        }
    }
}
