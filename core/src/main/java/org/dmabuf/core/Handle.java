package org.dmabuf.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Optional;
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

    /**
     * A new reference, tracked by {@code owner} and watched by the registry's cleaner.
     *
     * @param call the call that made it, a constant ({@code "allocate"}, {@code "get"}): where a leak report says
     *        the handle was made; the report's text is built only when there is a leak
     */
    Handle(BufferObject buffer, OwnerScope owner, String call) {
        this.buffer = buffer;
        this.owner = owner;
        BufferRegistry registry = buffer.registry;
        this.ref = new Ref(buffer, owner, registry.leakTrace ? new Site(call, owner.name()) : call);
        owner.track(ref);
        ref.cleanable = registry.cleaner.register(this, ref);
    }

    /**
     * Where a handle was made when leak traces are on: the creation stack, with the call, the owner and the thread
     * put into words only when a leak is reported.
     */
    static final class Site extends Throwable {
        private static final long serialVersionUID = 1L;
        private final String call;
        private final String owner;
        private final String thread;

        Site(String call, String owner) {
            super(null, null, false, true); // the stack is the point; no suppression list
            this.call = call;
            this.owner = owner;
            this.thread = Thread.currentThread().getName();
        }

        @Override
        public String getMessage() {
            return call + " in " + owner + " on thread " + thread;
        }
    }

    /**
     * The reference itself, kept apart from the handle so that the cleaner can act once the handle is
     * unreachable. Small, as there is one per handle: the put flag is a field of its own, and where the handle was
     * made is the call's constant name (with the owner, words are made only for a leak report) or a {@link Site}.
     */
    static final class Ref implements Runnable {
        private static final VarHandle PUT;

        static {
            try {
                PUT = MethodHandles.lookup().findVarHandle(Ref.class, "put", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final BufferObject buffer;
        final OwnerScope owner;
        /** The call that made the handle ({@code String}), or a {@link Site} with its stack. */
        final Object site;
        /** 1 once put; changed only through {@link #PUT}. */
        private volatile int put;
        volatile Cleaner.Cleanable cleanable;

        Ref(BufferObject buffer, OwnerScope owner, Object site) {
            this.buffer = buffer;
            this.owner = owner;
            this.site = site;
        }

        /** Marks the reference put; false if it was already. */
        private boolean markPut() {
            return PUT.compareAndSet(this, 0, 1);
        }

        boolean isPut() {
            return put != 0;
        }

        /** Where the handle was made, in words: {@code "allocate in client.bundle [42]"}, or the {@link Site}. */
        Object site() {
            return site instanceof Site ? site : site + " in " + owner.name();
        }

        /** Puts the reference once; returns false if it was already put. */
        boolean drop() {
            if (!markPut()) {
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
            if (markPut()) {
                owner.untrack(this);
                if (!buffer.isForced()) { // a reference the stopping core voided is no leak
                    buffer.registry.leaked(buffer, site());
                }
                buffer.unref();
            }
        }
    }

    private void live(String call) {
        if (ref.isPut()) {
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
        return ref.isPut();
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
