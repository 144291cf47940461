package org.dmabuf.core;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.MemoryView;
import org.dmabuf.spi.MappedMemory;

/**
 * The CPU view of a buffer's cached mapping. Every access is bounds-checked and counted in flight; {@link #close()}
 * waits for accesses in flight, then unmaps, so no access ever touches unmapped memory: later ones throw
 * {@link BufferReleasedException}.
 *
 * <p>Thread-safe: any thread may access; {@link #close()} is called once, by the buffer's release.
 */
final class GuardedMemory implements MemoryView {
    private static final int CLOSED = Integer.MIN_VALUE;

    private final MappedMemory mapping;
    private final Pointer base;
    private final long size;
    private final String what;
    /** Accesses in flight, or {@link #CLOSED}. */
    private final AtomicInteger users = new AtomicInteger();

    GuardedMemory(MappedMemory mapping, String what) {
        this.mapping = mapping;
        this.base = new Pointer(mapping.address());
        this.size = mapping.size();
        this.what = what;
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

    /** Refuses new accesses, waits for those in flight, and unmaps. Idempotent. */
    void close() {
        while (true) {
            int u = users.get();
            if (u < 0) {
                return;
            }
            if (u == 0 && users.compareAndSet(0, CLOSED)) {
                break;
            }
            Thread.onSpinWait();
        }
        mapping.close();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public byte getByte(long offset) {
        enter("getByte", offset, 1);
        try {
            return base.getByte(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putByte(long offset, byte value) {
        enter("putByte", offset, 1);
        try {
            base.setByte(offset, value);
        } finally {
            exit();
        }
    }

    @Override
    public int getInt(long offset) {
        enter("getInt", offset, 4);
        try {
            return base.getInt(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putInt(long offset, int value) {
        enter("putInt", offset, 4);
        try {
            base.setInt(offset, value);
        } finally {
            exit();
        }
    }

    @Override
    public long getLong(long offset) {
        enter("getLong", offset, 8);
        try {
            return base.getLong(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void putLong(long offset, long value) {
        enter("putLong", offset, 8);
        try {
            base.setLong(offset, value);
        } finally {
            exit();
        }
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
        enter("read", offset, length);
        try {
            base.read(offset, dst, dstOffset, length);
        } finally {
            exit();
        }
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        java.util.Objects.checkFromIndexSize(srcOffset, length, src.length);
        enter("write", offset, length);
        try {
            base.write(offset, src, srcOffset, length);
        } finally {
            exit();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        enter("read", offset, n);
        try {
            if (dst.hasArray()) {
                base.read(offset, dst.array(), dst.arrayOffset() + dst.position(), n);
                dst.position(dst.position() + n);
            } else {
                dst.put(base.getByteBuffer(offset, n));
            }
        } finally {
            exit();
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        int n = src.remaining();
        enter("write", offset, n);
        try {
            if (src.hasArray()) {
                base.write(offset, src.array(), src.arrayOffset() + src.position(), n);
                src.position(src.position() + n);
            } else {
                base.getByteBuffer(offset, n).put(src);
            }
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
