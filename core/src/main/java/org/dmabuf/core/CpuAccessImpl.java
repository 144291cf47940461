package org.dmabuf.core;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.spi.ExportedBuffer;

/**
 * One bracketed CPU access. It holds a reference to its buffer until {@link #close()}, so the mapping outlives it.
 * Meant for one thread; {@link #close()} is safe from any.
 */
final class CpuAccessImpl implements CpuAccess {
    private final BufferObject buffer;
    private final ExportedBuffer storage;
    private final GuardedMemory memory;
    private final SyncDirection direction;
    private final OwnerScope owner;
    private final AtomicBoolean ended = new AtomicBoolean();

    CpuAccessImpl(BufferObject buffer, ExportedBuffer storage, GuardedMemory memory, SyncDirection direction,
            OwnerScope owner) {
        this.buffer = buffer;
        this.storage = storage;
        this.memory = memory;
        this.direction = direction;
        this.owner = owner;
    }

    @Override
    public SyncDirection direction() {
        return direction;
    }

    @Override
    public void close() {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        owner.untrack(this);
        try {
            if (!buffer.isForced()) { // the stopping core closed the storage's fd: no ioctl on a stale number
                storage.endCpuAccess(direction);
            }
        } finally {
            buffer.unref();
        }
    }

    private void reading(String call) {
        open(call);
        if (!direction.allowsRead()) {
            throw new DmaBufException(call, "EPERM", "the CPU access to " + buffer.describe() + " was begun for "
                    + direction + ", not for reading");
        }
    }

    private void writing(String call) {
        open(call);
        if (!direction.allowsWrite()) {
            throw new DmaBufException(call, "EPERM", "the CPU access to " + buffer.describe() + " was begun for "
                    + direction + ", not for writing");
        }
    }

    @Override
    public ByteBuffer byteBuffer() {
        open("byteBuffer");
        if (memory.size() > Integer.MAX_VALUE) {
            throw new DmaBufException("byteBuffer", "EOVERFLOW", buffer.describe() + " has " + memory.size()
                    + " bytes, more than one ByteBuffer can address: take views of parts with byteBuffer(offset, length)");
        }
        return memory.view("byteBuffer", 0, (int) memory.size(), !direction.allowsWrite());
    }

    @Override
    public ByteBuffer byteBuffer(long offset, int length) {
        open("byteBuffer");
        return memory.view("byteBuffer", offset, length, !direction.allowsWrite());
    }

    private void open(String call) {
        if (ended.get()) {
            throw new BufferReleasedException(call, "the CPU access to " + buffer.describe() + " has ended");
        }
    }

    @Override
    public long size() {
        return memory.size();
    }

    @Override
    public byte getByte(long offset) {
        reading("getByte");
        return memory.getByte(offset);
    }

    @Override
    public void putByte(long offset, byte value) {
        writing("putByte");
        memory.putByte(offset, value);
    }

    @Override
    public int getInt(long offset) {
        reading("getInt");
        return memory.getInt(offset);
    }

    @Override
    public void putInt(long offset, int value) {
        writing("putInt");
        memory.putInt(offset, value);
    }

    @Override
    public long getLong(long offset) {
        reading("getLong");
        return memory.getLong(offset);
    }

    @Override
    public void putLong(long offset, long value) {
        writing("putLong");
        memory.putLong(offset, value);
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        reading("read");
        memory.read(offset, dst, dstOffset, length);
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        writing("write");
        memory.write(offset, src, srcOffset, length);
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        reading("read");
        memory.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        writing("write");
        memory.write(offset, src);
    }

    @Override
    public void fill(long offset, long length, byte value) {
        writing("fill");
        memory.fill(offset, length, value);
    }
}
