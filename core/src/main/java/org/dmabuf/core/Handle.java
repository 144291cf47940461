package org.dmabuf.core;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.Fence;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.SyncFile;
import org.dmabuf.spi.ExportedBuffer;

/**
 * One reference to a buffer, handed to a caller. A handle dropped without {@link #put()} is found by a
 * {@link Cleaner}, reported as a leak with where it was created, and put. Thread-safe; any thread.
 */
final class Handle implements DmaBuf {
    final BufferObject buffer;
    final OwnerScope owner;
    private final Ref ref;

    Handle(BufferObject buffer, OwnerScope owner, String call) {
        this.buffer = buffer;
        this.owner = owner;
        BufferRegistry registry = buffer.registry;
        Object site = registry.leakTrace ? new Throwable(call + " in " + owner.name() + " on thread "
                + Thread.currentThread().getName()) : call + " in " + owner.name();
        this.ref = new Ref(buffer, owner, site);
        owner.track(ref);
        ref.cleanable = registry.cleaner.register(this, ref);
    }

    /**
     * The reference itself, kept apart from the handle so that the cleaner can act once the handle is
     * unreachable.
     */
    static final class Ref implements Runnable {
        final BufferObject buffer;
        final OwnerScope owner;
        final Object site;
        final AtomicBoolean put = new AtomicBoolean();
        volatile Cleaner.Cleanable cleanable;

        Ref(BufferObject buffer, OwnerScope owner, Object site) {
            this.buffer = buffer;
            this.owner = owner;
            this.site = site;
        }

        /** Puts the reference once; returns false if it was already put. */
        boolean drop() {
            if (!put.compareAndSet(false, true)) {
                return false;
            }
            owner.untrack(this);
            Cleaner.Cleanable c = cleanable;
            if (c != null) {
                c.clean();
            }
            buffer.unref();
            return true;
        }

        /** The cleaner's action: runs when the handle became unreachable, or from {@link #drop()} (no-op then). */
        @Override
        public void run() {
            if (put.compareAndSet(false, true)) {
                owner.untrack(this);
                if (!buffer.isForced()) { // a reference the stopping core voided is no leak
                    buffer.registry.leaked(buffer, site);
                }
                buffer.unref();
            }
        }
    }

    private void live(String call) {
        if (ref.put.get()) {
            throw new BufferReleasedException(call, "this handle on " + buffer.describe() + " was already put");
        }
    }

    @Override
    public long size() {
        return buffer.size();
    }

    @Override
    public long requestedSize() {
        return buffer.requestedSize;
    }

    @Override
    public String name() {
        return buffer.name();
    }

    @Override
    public void setName(String name) {
        live("setName");
        buffer.setName(name);
    }

    @Override
    public Optional<String> exporterName() {
        return Optional.ofNullable(buffer.expName());
    }

    @Override
    public Optional<String> exporterService() {
        ExporterRef e = buffer.exporter();
        return e == null ? Optional.empty() : Optional.of(e.name);
    }

    @Override
    public Optional<BufferKind> kind() {
        return Optional.ofNullable(buffer.kind());
    }

    @Override
    public long inode() {
        return buffer.inode();
    }

    @Override
    public BufferId id() {
        return buffer.id();
    }

    @Override
    public Optional<BufferFormat> format() {
        return Optional.ofNullable(buffer.format());
    }

    @Override
    public boolean isAllocated() {
        return buffer.isAllocated();
    }

    @Override
    public int refCount() {
        return buffer.refCount();
    }

    @Override
    public DmaBuf get() {
        return getFor(owner);
    }

    /** A new reference on the buffer, owned by {@code scope}. */
    Handle getFor(OwnerScope scope) {
        live("get");
        buffer.ref("get");
        try {
            return new Handle(buffer, scope, "get");
        } catch (RuntimeException | Error e) {
            buffer.unref();
            throw e;
        }
    }

    @Override
    public void put() {
        if (!ref.drop()) {
            throw new BufferReleasedException("put", "this handle on " + buffer.describe()
                    + " was already put (double put)");
        }
    }

    @Override
    public void close() {
        ref.drop();
    }

    @Override
    public boolean isPut() {
        return ref.put.get();
    }

    @Override
    public Attachment attach(Device device) {
        live("attach");
        AttachmentImpl a = owner.track(buffer.attach(this, device));
        buffer.registry.fireAttached(buffer, device.name());
        return a;
    }

    @Override
    public void detach(Attachment attachment) {
        AttachmentImpl a = own("detach", attachment);
        a.close();
    }

    @Override
    public SgTable map(Attachment attachment, DmaDirection direction) {
        live("map");
        return own("map", attachment).map(direction);
    }

    @Override
    public void unmap(SgTable table) {
        if (!(table instanceof SgTableImpl t)) {
            throw new BufferStateException("unmap", "EINVAL", "the mapping was not made by this registry");
        }
        buffer.unmap(t);
    }

    private AttachmentImpl own(String call, Attachment attachment) {
        if (!(attachment instanceof AttachmentImpl a)) {
            throw new BufferStateException(call, "EINVAL", "the attachment was not made by this registry");
        }
        if (a.buffer != buffer) {
            throw new BufferStateException(call, "EINVAL", "the attachment of device '" + a.device().name()
                    + "' belongs to " + a.buffer.describe() + ", not to " + buffer.describe());
        }
        return a;
    }

    @Override
    public MemoryView mmap() {
        live("mmap");
        return buffer.mmap("mmap");
    }

    @Override
    public CpuAccess beginCpuAccess(SyncDirection direction) {
        live("beginCpuAccess");
        GuardedMemory memory = buffer.mmap("beginCpuAccess");
        ExportedBuffer storage = buffer.storage("beginCpuAccess");
        buffer.ref("beginCpuAccess");
        try {
            storage.beginCpuAccess(direction);
        } catch (RuntimeException | Error e) {
            buffer.unref();
            throw e;
        }
        return owner.track(new CpuAccessImpl(buffer, storage, memory, direction, owner));
    }

    @Override
    public int fd() {
        live("fd");
        return buffer.fd();
    }

    @Override
    public Fence exportFence(SyncDirection direction) {
        live("exportFence");
        int fd = buffer.fd();
        try {
            return SyncFile.export(fd, direction, buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public void importFence(Fence fence, SyncDirection direction) {
        live("importFence");
        int fd = buffer.fd();
        try {
            SyncFile.importInto(fd, fence, direction, buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public void awaitIdle(SyncDirection direction, Duration timeout) {
        live("awaitIdle");
        int fd = buffer.fd();
        try {
            SyncFile.awaitIdle(fd, direction, timeout, buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public String toString() {
        return "DmaBuf[" + buffer.describe() + ", size " + buffer.size() + (isPut() ? ", put" : "") + "]";
    }
}
