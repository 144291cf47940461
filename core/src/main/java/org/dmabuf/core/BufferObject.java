package org.dmabuf.core;

import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.ConstraintException;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.NoExporterException;
import org.dmabuf.api.Segment;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.ExportedBuffer;

/**
 * One buffer object: the core's {@code struct dma_buf}. It holds the reference count, the attachments, the storage
 * once committed and the cached CPU mapping, and enforces {@code dma-buf.c}'s rules before calling the exporter's
 * ops.
 *
 * <p>Thread-safe: every state change happens under this object's monitor, so the exporter's attach, detach, map,
 * unmap, mmap, setName and release ops are serialised for one buffer. CPU accesses do not take the monitor.
 */
final class BufferObject {
    final long serial;
    /** The size asked for, or reported at adoption. */
    final long requestedSize;
    /** The client that made or adopted the buffer: its registry, and its name for bufinfo's owner column. */
    private final OwnerScope creator;
    /**
     * The request, until storage is committed (late allocation reads it then); null afterwards and for adopted
     * storage, so that a live buffer does not keep its request. Guarded by this object's monitor.
     */
    private BufferRequest request;

    private String name;
    private ExportedBuffer storage;
    private ExporterRef exporter;
    /** The storage's real size once committed ({@link org.dmabuf.linux.Sys#sizeOf}), else the requested size. */
    private volatile long size;
    private volatile BufferId id = BufferId.NONE;
    /** The layout committed storage has: the exporter's, or the one planned for the request; null if none. */
    private volatile BufferFormat layout;
    private volatile String expName;
    private int refs = 1;
    private boolean released;
    /**
     * Released by {@link #forceRelease()}: references still out are void, their puts no-ops. Volatile: read without
     * the monitor where a CPU access ends, a hot path.
     */
    private volatile boolean forced;
    private List<AttachmentImpl> attachments;
    private volatile GuardedMemory cpu;
    /** Told when the count crosses between 1 and 2: a pool's; guarded by this object's monitor. */
    private Watcher watcher;
    /**
     * Set by the registry when the buffer became one of its live buffers (before it is published there); a buffer
     * never listed (an adoption that lost a race) leaves nothing behind when released.
     */
    volatile boolean listed;
    /** Set once this memfd is known to carry F_SEAL_SHRINK and F_SEAL_GROW: the kernel never removes a seal. */
    private volatile boolean sealedAgainstResize;

    /**
     * Learns when a buffer's reference count crosses between 1 and 2, under the buffer's monitor: a pool that keeps
     * one reference of its own sees in {@link #idle} that every other holder released the buffer, in {@link #held}
     * that someone took it again (a handle on it from {@code get(fd)} counts). Implementations must not call back
     * into the buffer, and may take only locks that are never held while calling a buffer.
     */
    interface Watcher {
        /** The count rose from 1 to 2. */
        void held(BufferObject b);

        /** The count fell from 2 to 1. */
        void idle(BufferObject b);
    }

    /** The registry the buffer belongs to. */
    BufferRegistry registry() {
        return creator.registry();
    }

    BufferObject(long serial, BufferRequest request, OwnerScope creator) {
        this.serial = serial;
        this.requestedSize = request.size();
        this.size = request.size();
        this.creator = creator;
        this.name = request.name();
        this.request = request;
    }

    /** Wraps storage that already exists: an adopted or imported fd. */
    BufferObject(long serial, ExportedBuffer storage, ExporterRef exporter, String name, OwnerScope creator) {
        this.serial = serial;
        this.requestedSize = storage.size();
        this.creator = creator;
        this.name = name;
        this.storage = storage;
        this.exporter = exporter;
        measure(storage, exporter.name);
    }

    /**
     * Takes the storage's identity and size from the kernel ({@code statx}, {@code lseek}), not from the
     * exporter; refuses storage smaller than the request.
     */
    private void measure(ExportedBuffer s, String exporterName) {
        // the Linux layer's FdBuffer measured its fd with statx and lseek when it took it; others are measured here
        BufferId fileId;
        long real;
        if (s instanceof FdBuffer fb) {
            fileId = fb.id();
            real = fb.kernelSize();
        } else {
            org.dmabuf.linux.FileStat st = Sys.fstat(s.fd()); // one statx: identity and (see sizeOf) size
            fileId = st.id();
            real = Sys.sizeOf(s.fd(), s.kind(), st);
        }
        if (real < requestedSize) {
            throw new DmaBufException("allocate", "EINVAL", "exporter '" + exporterName + "' returned " + real
                    + " bytes (as the kernel reports fd " + s.fd() + ") for " + describe() + " of "
                    + requestedSize);
        }
        if (s.size() > real) {
            throw new DmaBufException("allocate", "EINVAL", "exporter '" + exporterName + "' claims " + s.size()
                    + " bytes for " + describe() + " where the kernel reports " + real + " for fd " + s.fd());
        }
        size = real;
        id = fileId;
    }

    /**
     * The layout the storage has: the exporter's own, checked to describe one whole image that fits in the
     * storage, else the planned one, which has to fit too.
     */
    private BufferFormat checkLayout(ExportedBuffer s, String exporterName, BufferFormat planned,
            DeviceConstraints merged) {
        BufferFormat made = s.format().orElse(planned);
        if (made == null) {
            return null;
        }
        if (made.buffers() != 1) {
            throw new DmaBufException("allocate", "EINVAL", "exporter '" + exporterName + "' reports "
                    + made.describe() + " for " + describe() + ": a buffer's own layout keeps every plane in it");
        }
        if (made.bufferSize(0) > size) {
            throw new DmaBufException("allocate", "EINVAL", "exporter '" + exporterName + "' reports "
                    + made.describe() + " for " + describe() + ", which needs " + made.bufferSize(0)
                    + " bytes where the kernel reports " + size);
        }
        java.util.Optional<String> unmet = merged.unmetBy(made);
        if (unmet.isPresent()) {
            throw new ConstraintException("allocate", "exporter '" + exporterName + "' laid out "
                    + made.describe() + " for " + describe() + " against the attached devices' alignment ("
                    + merged + "): " + unmet.get());
        }
        return made;
    }

    /** The layout: the committed one, else the requested format if it describes a single buffer; or null. */
    BufferFormat format() {
        BufferFormat l = layout;
        if (l != null) {
            return l;
        }
        synchronized (this) {
            BufferFormat asked = request == null ? null : request.format().orElse(null);
            return asked != null && asked.buffers() == 1 && storage == null ? asked : null;
        }
    }

    String describe() {
        String n;
        synchronized (this) {
            n = name;
        }
        BufferId i = id;
        return "buffer #" + serial + (n.isEmpty() ? "" : " '" + FdInfo.printable(n) + "'")
                + (i.inode() == 0 ? "" : " (inode " + i.inode() + ", id " + i + ")");
    }

    // ---- references ----

    /** Takes a reference; the caller already holds one, so the buffer cannot be released. */
    synchronized void ref(String call) {
        checkLive(call);
        if (++refs == 2 && watcher != null) {
            watcher.held(this);
        }
    }

    /** Sets or (null) clears the watcher of the count; the caller holds a reference. */
    synchronized void watch(Watcher w) {
        watcher = w;
    }

    /** Takes a reference unless the buffer is being released (lookup by inode). */
    synchronized boolean tryRef() {
        if (released) {
            return false;
        }
        if (++refs == 2 && watcher != null) {
            watcher.held(this);
        }
        return true;
    }

    /** Drops a reference; the last one releases. */
    void unref() {
        unrefOrForce(false);
    }

    /**
     * Releases the buffer now, whatever references are still out: the core is stopping. Puts, CPU-access ends and
     * the cleaner's leak checks of those references are no-ops afterwards.
     *
     * @return false if the buffer was already released
     */
    boolean forceRelease() {
        return unrefOrForce(true);
    }

    private boolean unrefOrForce(boolean force) {
        List<AttachmentImpl> leftover;
        ExportedBuffer s;
        GuardedMemory m;
        BufferInfo last;
        synchronized (this) {
            if (force) {
                if (released) {
                    return false;
                }
                forced = true;
                refs = 0;
            } else {
                if (forced) {
                    return false; // the core stopped and released the buffer: this reference was void already
                }
                if (released || refs <= 0) {
                    throw new IllegalStateException("reference count underflow on " + describe());
                }
                if (--refs > 0) {
                    if (refs == 1 && watcher != null) {
                        watcher.idle(this);
                    }
                    return false;
                }
            }
            last = registry().hasListeners() ? info() : null; // info() reads fdinfo once for a dma-buf: only if needed
            released = true;
            watcher = null;
            leftover = attachments;
            attachments = null;
            s = storage;
            m = cpu;
            cpu = null;
            if (leftover != null) {
                for (AttachmentImpl a : leftover) {
                    registry().warn("release: " + describe() + " released with device '" + a.device().name()
                            + "' still attached (detach before the last put); detaching it");
                    for (SgTableImpl t : a.takeTables()) {
                        if (s != null) {
                            safely(() -> s.unmapDmaBuf(a, t.segments(), t.direction()));
                        }
                    }
                    safely(a::closeImport);
                    if (s != null) {
                        safely(() -> s.detach(a));
                    }
                    a.ended();
                }
            }
        }
        try {
            if (m != null) {
                m.close();
            }
        } finally {
            if (s != null) {
                registry().forget(this, id, last);
                s.release();
            } else {
                registry().forget(this, BufferId.NONE, last);
            }
        }
        return true;
    }

    boolean isForced() {
        return forced;
    }

    private void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            registry().warn("release: " + describe() + ": exporter op failed during release: " + e);
        }
    }

    synchronized int refCount() {
        return released ? 0 : refs;
    }

    synchronized boolean isReleased() {
        return released;
    }

    private void checkLive(String call) {
        if (released) {
            throw new BufferReleasedException(call, describe() + " was released");
        }
    }

    // ---- naming, identity ----

    synchronized String name() {
        return name;
    }

    synchronized void setName(String value) {
        checkLive("setName");
        BufferRequest.checkName("setName", value);
        if (storage != null) {
            storage.setName(value);
        }
        name = value;
    }

    long inode() {
        return id.inode();
    }

    BufferId id() {
        return id;
    }

    long size() {
        return size;
    }

    /** The kernel's {@code exp_name} (read once from fdinfo), {@code memfd} for a memfd, null without storage. */
    String expName() {
        String e = expName;
        if (e != null) {
            return e;
        }
        synchronized (this) {
            return storage == null || released ? null : expNameLocked();
        }
    }

    /** Under the monitor, with storage: reads fdinfo's {@code exp_name} once. */
    private String expNameLocked() {
        String e = expName;
        if (e == null) {
            if (storage.kind() == org.dmabuf.api.BufferKind.MEMFD) {
                e = "memfd";
            } else {
                try {
                    e = FdInfo.read(storage.fd()).expName();
                } catch (RuntimeException ex) {
                    e = null;
                }
                if (e == null) {
                    e = exporter.expName == null ? "" : exporter.expName;
                }
            }
            expName = e;
        }
        return e;
    }

    synchronized ExporterRef exporter() {
        return exporter;
    }

    synchronized org.dmabuf.api.BufferKind kind() {
        return storage == null ? null : storage.kind();
    }

    synchronized boolean isAllocated() {
        return storage != null;
    }

    // ---- late allocation ----

    /** Commits storage if there is none yet. Returns it. */
    synchronized ExportedBuffer commit(String call) {
        checkLive(call);
        if (storage != null) {
            return storage;
        }
        DeviceConstraints merged = request.constraints();
        String requestedExporter = request.exporter().orElse(null);
        if (attachments != null) {
            for (AttachmentImpl a : attachments) {
                merged = merged.mergedWith(a.device().constraints());
            }
        }
        BufferFormat planned = plan(request.format().orElse(null), merged);
        long want = planned == null ? size : Math.max(size, planned.bufferSize(0));
        List<ExporterRef> candidates = registry().exporterList();
        StringBuilder why = null; // made only where an exporter is passed over
        List<DmaBufException> failures = null;
        boolean named = false;
        for (ExporterRef ref : candidates) {
            if (requestedExporter != null && !requestedExporter.equals(ref.name)) {
                continue;
            }
            named = true;
            String unmet = ref.unmet(merged, want);
            if (unmet != null) {
                why = (why == null ? new StringBuilder() : why).append("; ").append(ref.name).append(": ")
                        .append(unmet);
                continue;
            }
            ExportedBuffer s;
            DmaBufException failed;
            try {
                s = ref.exporter.allocate(new AllocationRequest(want, name, planned, merged));
                failed = s != null ? null : new DmaBufException(call, "EINVAL", "exporter '" + ref.name
                        + "' returned no buffer");
            } catch (DmaBufException e) {
                s = null;
                failed = e;
            } catch (RuntimeException e) {
                // a broken exporter: its failure is typed here, as any other exporter's, and the next one tried
                s = null;
                failed = new DmaBufException(call, "EIO", "exporter '" + ref.name + "' failed: " + e, e);
            }
            if (failed != null) {
                (failures == null ? failures = new ArrayList<>() : failures).add(failed);
                why = (why == null ? new StringBuilder() : why).append("; ").append(ref.name).append(": ")
                        .append(failed.getMessage());
                continue;
            }
            install(call, s, ref, planned, merged);
            return s;
        }
        if (requestedExporter != null && !named) {
            throw new NoExporterException(call, "ENODEV", "exporter '" + requestedExporter
                    + "' asked for by " + describe() + " is not registered (registered: " + names(candidates) + ")");
        }
        if (candidates.isEmpty()) {
            throw new NoExporterException(call, "ENODEV", "no exporter is registered to allocate " + describe()
                    + " of " + size + " bytes");
        }
        NoExporterException e = new NoExporterException(call, failures == null ? "ENODEV" : errnoOf(failures),
                "no exporter could allocate " + describe() + " of " + size + " bytes with constraints [" + merged
                        + "]" + (why == null ? "" : why));
        if (failures != null) {
            failures.forEach(e::addSuppressed);
        }
        throw e;
    }

    /**
     * The errno of a failed allocation: the one every exporter failed with when they agree (EMFILE when no fd was
     * left, ENOMEM when memory ran out), so that a caller can tell them apart; ENOMEM when they differ.
     */
    private static String errnoOf(List<DmaBufException> failures) {
        String errno = failures.get(0).errno();
        for (DmaBufException f : failures) {
            if (errno == null || !errno.equals(f.errno())) {
                return "ENOMEM";
            }
        }
        return errno;
    }

    private static String names(List<ExporterRef> refs) {
        return refs.isEmpty() ? "none" : String.join(", ", refs.stream().map(r -> r.name).toList());
    }

    /**
     * The layout to ask an exporter for: the requested one where it meets the merged alignments; else, for a format
     * of the table, linear and in one buffer, the layout that meets them; any other format as it was asked for;
     * null for none.
     */
    static BufferFormat plan(BufferFormat requested, DeviceConstraints merged) {
        if (requested == null || !requested.isLinear() || requested.buffers() != 1
                || merged.unmetBy(requested).isEmpty()) {
            return requested;
        }
        return requested.pixelFormat()
                .map(pf -> BufferFormat.layout(pf, requested.width(), requested.height(), merged))
                .orElse(requested);
    }

    /** Makes new storage this buffer's: the attachments made so far are attached to it now. */
    private void install(String call, ExportedBuffer s, ExporterRef ref, BufferFormat planned,
            DeviceConstraints merged) {
        try {
            measure(s, ref.name);
            layout = checkLayout(s, ref.name, planned, merged);
        } catch (RuntimeException e) {
            s.release();
            throw e;
        }
        List<AttachmentImpl> done = attachments == null ? List.of() : new ArrayList<>();
        storage = s;
        exporter = ref;
        try {
            if (!name.isEmpty()) {
                s.setName(name);
            }
            if (attachments != null) {
                for (AttachmentImpl a : attachments) {
                    s.attach(a);
                    done.add(a);
                    a.importInto(s);
                }
            }
        } catch (RuntimeException e) {
            for (AttachmentImpl a : done) {
                safely(a::closeImport);
                safely(() -> s.detach(a));
            }
            storage = null;
            exporter = null;
            id = BufferId.NONE;
            layout = null;
            size = requestedSize;
            s.release();
            throw e;
        }
        request = null; // committed: the request is not needed any more
        registry().committed(this, id);
    }

    // ---- attach / detach ----

    synchronized AttachmentImpl attach(Handle handle, org.dmabuf.api.Device device) {
        checkLive("attach");
        AttachmentImpl a = new AttachmentImpl(this, handle, device);
        if (storage != null) {
            String unmet = exporter.unmetByStorage(device.constraints(), size);
            BufferFormat l = layout;
            if (unmet == null && l != null) {
                unmet = device.constraints().unmetBy(l).orElse(null);
            }
            if (unmet != null) {
                throw new ConstraintException("attach", "device '" + device.name() + "' cannot use " + describe()
                        + ": " + unmet + " (storage was committed before the device attached)");
            }
            storage.attach(a);
            try {
                a.importInto(storage);
            } catch (RuntimeException e) {
                safely(() -> storage.detach(a));
                throw e;
            }
        }
        if (attachments == null) {
            attachments = new ArrayList<>(2);
        }
        attachments.add(a);
        return a;
    }

    synchronized void detach(AttachmentImpl a) {
        if (a.buffer != this) {
            throw new BufferStateException("detach", "EINVAL", "the attachment of device '" + a.device().name()
                    + "' belongs to " + a.buffer.describe() + ", not to " + describe());
        }
        if (!a.isAttached()) {
            return;
        }
        if (a.hasTables()) {
            throw new BufferStateException("detach", "EBUSY", "device '" + a.device().name() + "' still has "
                    + a.tableCount() + " mapping(s) of " + describe() + ": unmap before detach");
        }
        attachments.remove(a);
        a.ended();
        try {
            a.closeImport();
        } finally {
            if (storage != null) {
                storage.detach(a);
            }
        }
    }

    // ---- map / unmap ----

    synchronized SgTableImpl map(AttachmentImpl a, DmaDirection direction) {
        checkLive("map");
        if (a.buffer != this) {
            throw new BufferStateException("map", "EINVAL", "the attachment of device '" + a.device().name()
                    + "' belongs to " + a.buffer.describe() + ", not to " + describe());
        }
        if (!a.isAttached()) {
            throw new BufferStateException("map", "EINVAL", "device '" + a.device().name() + "' is not attached to "
                    + describe() + ": attach before map");
        }
        ExportedBuffer s = commit("map");
        List<Segment> segments = List.copyOf(s.mapDmaBuf(a, direction));
        long total = 0;
        for (Segment seg : segments) {
            total += seg.length();
        }
        if (segments.size() > a.device().constraints().maxSegmentCount() || total < size) {
            s.unmapDmaBuf(a, segments, direction);
            throw new DmaBufException("map", "EINVAL", "exporter '" + exporter.name + "' mapped " + describe()
                    + " into " + segments.size() + " segments of " + total + " bytes, which device '"
                    + a.device().name() + "' cannot take (" + a.device().constraints() + ")");
        }
        SgTableImpl t = new SgTableImpl(a, direction, segments);
        a.addTable(t);
        return t;
    }

    synchronized void unmap(SgTableImpl t) {
        if (t.attachment().buffer != this) {
            throw new BufferStateException("unmap", "EINVAL", "the mapping belongs to "
                    + t.attachment().buffer.describe() + ", not to " + describe());
        }
        if (!t.attachment().removeTable(t)) {
            throw new BufferStateException("unmap", "EINVAL", "the mapping of device '"
                    + t.attachment().device().name() + "' on " + describe() + " was already unmapped");
        }
        storage.unmapDmaBuf(t.attachment(), t.segments(), t.direction());
    }

    // ---- CPU ----

    GuardedMemory mmap(String call) {
        GuardedMemory m = cpu;
        if (m != null) {
            return m;
        }
        synchronized (this) {
            ExportedBuffer s = commit(call);
            if (cpu == null) {
                cpu = new GuardedMemory(s.mmap(), this::describe, registry()::cleaner);
            }
            return cpu;
        }
    }

    synchronized ExportedBuffer storage(String call) {
        return commit(call);
    }

    /** The storage, committed if need be, and a new reference on the buffer: one monitor entry for a CPU access. */
    synchronized ExportedBuffer refStorage(String call) {
        ExportedBuffer s = commit(call);
        ref(call);
        return s;
    }

    /**
     * Makes sure this memfd is sealed against shrinking and growing (adding the seals it lacks), asking the kernel
     * only until it was once.
     */
    void sealAgainstResize(String call) {
        if (!sealedAgainstResize) {
            org.dmabuf.linux.FdBuffer.sealAgainstResize(fd(), call);
            sealedAgainstResize = true;
        }
    }

    int fd() {
        return storage("fd").fd();
    }

    // ---- bufinfo ----

    synchronized BufferInfo info() {
        List<String> devices = new ArrayList<>();
        List<String> kernel = new ArrayList<>();
        int maps = 0;
        if (attachments != null) {
            for (AttachmentImpl a : attachments) {
                devices.add(a.device().name());
                a.kernelName().ifPresent(kernel::add);
                maps += a.tableCount();
            }
        }
        String kind = storage == null ? "pending" : storage.kind() == org.dmabuf.api.BufferKind.MEMFD ? "memfd"
                : "dma-buf";
        return new BufferInfo(id, size, requestedSize, name, storage == null || released ? "" : expNameLocked(),
                exporter == null ? "" : exporter.name, kind, released ? 0 : refs, devices, kernel, maps, cpu != null,
                creator.name(), java.util.Optional.ofNullable(format()));
    }

    /** A buffer holds one buffer's planes: a format whose planes live in several is a frame's. */
    static void checkSingleBuffer(String call, BufferRequest request) {
        BufferFormat f = request.format().orElse(null);
        if (f != null && f.buffers() != 1) {
            throw new InvalidArgumentException(call, f.describe() + " spreads its planes over " + f.buffers()
                    + " buffers: allocate it with allocateFrame");
        }
    }

    static void checkSize(String call, long size) {
        if (size <= 0) {
            throw new InvalidArgumentException(call, "size " + size + " must be greater than 0");
        }
    }
}
