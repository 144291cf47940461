package org.dmabuf.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.SyncFile;
import org.dmabuf.spi.ExportedBuffer;

/**
 * One reference to a buffer, handed to a caller. A handle dropped without {@link #put()} is found by the registry's
 * leak reaper ({@link BufferRegistry}), reported as a leak with where it was created, and put. Thread-safe; any
 * thread.
 *
 * <p>Small, as there is one per reference: the handle holds only its {@link Ref}, which holds the rest.
 */
final class Handle implements DmaBuf {
    private final Ref ref;

    /**
     * A new reference, tracked by {@code owner} and watched by the registry's leak reaper.
     *
     * @param call the call that made it, a constant ({@code "allocate"}, {@code "get"}): where a leak report says
     *        the handle was made; the report's text is built only when there is a leak
     */
    Handle(BufferObject buffer, OwnerScope owner, String call) {
        BufferRegistry registry = buffer.registry();
        this.ref = new Ref(this, registry.droppedHandles(), buffer, owner,
                registry.leakTrace ? new Site(call, owner.name()) : call);
        owner.track(ref, call);
    }

    /** The buffer this handle references. */
    BufferObject buffer() {
        return ref.buffer;
    }

    /** The client that holds this handle. */
    OwnerScope owner() {
        return ref.owner;
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
     * The reference itself: a phantom reference to its handle, so that the registry's leak reaper learns when the
     * handle became unreachable without a put. Strongly held by its owner's list until put, so it is always
     * enqueued if the handle is dropped; a put clears it, so it never is then. Small, as there is one per handle:
     * the put flag is a field of its own, and where the handle was made is the call's constant name (with the
     * owner, words are made only for a leak report) or a {@link Site}.
     */
    static final class Ref extends java.lang.ref.PhantomReference<Handle> implements Runnable {
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
        /** The owner's list of references ({@link OwnerScope#track(Ref)}); guarded by the owner. */
        Ref newer;
        Ref older;

        Ref(Handle handle, java.lang.ref.ReferenceQueue<Handle> dropped, BufferObject buffer, OwnerScope owner,
                Object site) {
            super(handle, dropped);
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
        /**
         * A reference its scope refused as it closed ({@link OwnerScope#track(Ref, String)}): marked put and taken
         * from the reaper's watch, without giving back its count on the buffer, which the caller that made it does
         * when the handle's construction fails.
         */
        void refused() {
            markPut();
            clear();
        }

        boolean drop() {
            if (!markPut()) {
                return false;
            }
            owner.untrack(this);
            clear(); // put: the reaper never sees this reference
            buffer.unref();
            return true;
        }

        /** The reaper's action: the handle became unreachable without a put. */
        @Override
        public void run() {
            if (markPut()) {
                owner.untrack(this);
                boolean leak = !buffer.isForced(); // a reference the stopping core voided is no leak
                if (leak) {
                    buffer.registry().leaked(buffer, site());
                }
                buffer.unref();
                if (leak) {
                    buffer.registry().leakHandled();
                }
            }
        }
    }

    private void live(String call) {
        if (ref.isPut()) {
            throw new BufferReleasedException(call, "this handle on " + ref.buffer.describe() + " was already put");
        }
    }

    @Override
    public long size() {
        return ref.buffer.size();
    }

    @Override
    public long requestedSize() {
        return ref.buffer.requestedSize;
    }

    @Override
    public String name() {
        return ref.buffer.name();
    }

    @Override
    public void setName(String name) {
        live("setName");
        ref.buffer.setName(name);
    }

    @Override
    public Optional<String> exporterName() {
        return Optional.ofNullable(ref.buffer.expName());
    }

    @Override
    public Optional<String> exporterService() {
        ExporterRef e = ref.buffer.exporter();
        return e == null ? Optional.empty() : Optional.of(e.name);
    }

    @Override
    public Optional<BufferKind> kind() {
        return Optional.ofNullable(ref.buffer.kind());
    }

    @Override
    public long inode() {
        return ref.buffer.inode();
    }

    @Override
    public BufferId id() {
        return ref.buffer.id();
    }

    @Override
    public Optional<BufferFormat> format() {
        return Optional.ofNullable(ref.buffer.format());
    }

    @Override
    public boolean isAllocated() {
        return ref.buffer.isAllocated();
    }

    @Override
    public int refCount() {
        return ref.buffer.refCount();
    }

    @Override
    public DmaBuf get() {
        return getFor(ref.owner);
    }

    /** A new reference on the buffer, owned by {@code scope}. */
    Handle getFor(OwnerScope scope) {
        live("get");
        ref.buffer.ref("get");
        try {
            return new Handle(ref.buffer, scope, "get");
        } catch (RuntimeException | Error e) {
            ref.buffer.unref();
            throw e;
        }
    }

    @Override
    public void put() {
        if (!ref.drop()) {
            throw new BufferReleasedException("put", "this handle on " + ref.buffer.describe()
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
        given("attach", "device", device);
        AttachmentImpl a = ref.owner.track(ref.buffer.attach(this, device));
        ref.buffer.registry().fireAttached(ref.buffer, device.name());
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
        given("map", "direction", direction);
        return own("map", attachment).map(direction);
    }

    @Override
    public void unmap(SgTable table) {
        if (!(table instanceof SgTableImpl t)) {
            throw new BufferStateException("unmap", "EINVAL", "the mapping was not made by this registry");
        }
        ref.buffer.unmap(t);
    }

    private AttachmentImpl own(String call, Attachment attachment) {
        if (!(attachment instanceof AttachmentImpl a)) {
            throw new BufferStateException(call, "EINVAL", "the attachment was not made by this registry");
        }
        if (a.buffer != ref.buffer) {
            throw new BufferStateException(call, "EINVAL", "the attachment of device '" + a.device().name()
                    + "' belongs to " + a.buffer.describe() + ", not to " + ref.buffer.describe());
        }
        return a;
    }

    @Override
    public MemoryView mmap() {
        live("mmap");
        return ref.buffer.mmap("mmap");
    }

    @Override
    public CpuAccess beginCpuAccess(SyncDirection direction) {
        live("beginCpuAccess");
        given("beginCpuAccess", "direction", direction);
        GuardedMemory memory = ref.buffer.mmap("beginCpuAccess");
        ExportedBuffer storage = ref.buffer.refStorage("beginCpuAccess");
        try {
            storage.beginCpuAccess(direction);
        } catch (RuntimeException | Error e) {
            ref.buffer.unref();
            throw e;
        }
        return ref.owner.track(new CpuAccessImpl(ref.buffer, storage, memory, direction, ref.owner));
    }

    @Override
    public int fd() {
        live("fd");
        return ref.buffer.fd();
    }

    @Override
    public Fence exportFence(SyncDirection direction) {
        live("exportFence");
        given("exportFence", "direction", direction);
        int fd = ref.buffer.fd();
        try {
            return SyncFile.export(fd, direction, ref.buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public void importFence(Fence fence, SyncDirection direction) {
        live("importFence");
        given("importFence", "fence", fence);
        given("importFence", "direction", direction);
        int fd = ref.buffer.fd();
        try {
            SyncFile.importInto(fd, fence, direction, ref.buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public void awaitIdle(SyncDirection direction, Duration timeout) {
        live("awaitIdle");
        given("awaitIdle", "direction", direction);
        given("awaitIdle", "timeout", timeout);
        int fd = ref.buffer.fd();
        try {
            SyncFile.awaitIdle(fd, direction, timeout, ref.buffer.describe());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    /**
     * An argument the call needs: {@code null} is refused as the kernel refuses a bad argument, typed and named,
     * before anything is mapped, counted or tracked.
     */
    static <T> T given(String call, String name, T value) {
        if (value == null) {
            throw new InvalidArgumentException(call, name + " is null");
        }
        return value;
    }

    @Override
    public String toString() {
        return "DmaBuf[" + ref.buffer.describe() + ", size " + ref.buffer.size() + (isPut() ? ", put" : "") + "]";
    }
}
