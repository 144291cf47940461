package org.dmabuf.core;

import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The buffer registry: the core's {@code dma-buf.c}. It tracks the exporter services, owns every live buffer
 * object (by inode, for O(1) {@code get(fd)}), runs late allocation, finds leaked handles, and produces
 * {@code bufinfo}. Clients reach it through {@link RegistryService}, one per bundle.
 *
 * <p>Thread-safe: any thread may call any method; SCR calls bind/unbind concurrently with clients.
 */
@Component(service = BufferRegistry.class, immediate = true, configurationPid = BufferRegistry.PID)
@Designate(ocd = BufferRegistry.Config.class)
public final class BufferRegistry {
    /** The configuration PID. */
    public static final String PID = "org.dmabuf.core.registry";

    private static final System.Logger LOG = System.getLogger("org.dmabuf.core");

    /** The registry's configuration. */
    @ObjectClassDefinition(name = "dmabuf-osgi registry", description = "The buffer registry of dmabuf-osgi.")
    public @interface Config {
        /**
         * Whether leak reports carry the full stack trace of where a leaked buffer handle was created.
         *
         * @return true to record a stack trace for every handle (costly)
         */
        @AttributeDefinition(name = "Leak stack traces", description = "Record where every buffer handle is "
                + "created, so that a leak report shows the full stack (costs a stack walk per handle).")
        boolean leak_trace() default false;
    }

    /** Handles dropped without put: their references, enqueued by the garbage collector for the reaper. */
    private final java.lang.ref.ReferenceQueue<Handle> dropped = new java.lang.ref.ReferenceQueue<>();
    /** The leak reaper's thread, started with the first handle; guarded by {@code this}. */
    private Thread reaper;
    private volatile boolean reaperStarted;
    /** For pools dropped without close (rare): made with the first pool; guarded by {@code this}. */
    private Cleaner cleaner;
    /**
     * Committed buffers by the identity of their file: ({@code st_dev}, {@code st_ino}), never the inode alone.
     * {@link BufferId} is a record of two longs, whose hash mixes both; the map spreads it further: O(1) lookups
     * however many buffers live.
     */
    private final ConcurrentHashMap<BufferId, BufferObject> byId = new ConcurrentHashMap<>();
    /**
     * The live buffers that {@link #byId} does not hold: buffers without storage yet (late allocation), and any
     * whose entry another object took. Every live buffer is in one of the two, so there is no third set to keep.
     */
    private final Set<BufferObject> others = ConcurrentHashMap.newKeySet();
    /** The clients' views not yet closed. */
    private final Set<OwnerScope> scopes = ConcurrentHashMap.newKeySet();
    private final AtomicLong serials = new AtomicLong();
    private final AtomicLong leaks = new AtomicLong();
    private volatile List<ExporterRef> exporters = List.of();
    volatile boolean leakTrace;
    private volatile Consumer<String> warnings = m -> LOG.log(System.Logger.Level.WARNING, m);
    private final java.util.List<RegistryListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** For SCR and tests: an empty registry. */
    public BufferRegistry() {
    }

    @Activate
    @Modified
    void configure(Config config) {
        leakTrace = config.leak_trace();
    }

    /**
     * Releases what is still live when the core stops (clients' registries were released before), then stops and
     * joins the leak reaper.
     */
    @Deactivate
    void deactivate() {
        for (BufferObject b : liveBuffers()) {
            warn("core stopping: " + b.describe() + " is still referenced (" + b.refCount()
                    + "); releasing it");
            b.forceRelease(); // references still out become void: their put is a no-op, not a leak
        }
        for (OwnerScope s : scopes) {
            s.forgetVoidReferences(); // the reaper stops: no dropped handle of theirs is left for it to find
        }
        Thread t;
        synchronized (this) {
            t = reaper;
            reaper = null;
        }
        if (t != null) {
            t.interrupt();
            org.dmabuf.linux.Threads.joinUninterruptibly(t);
        }
    }

    // ---- leaks ----

    /**
     * The queue a new handle's reference is registered with; starts the leak reaper with the first handle. The
     * reaper is this registry's thread: it only takes dropped handles' references off the queue and reports them
     * ({@link Handle.Ref#run()}); {@link #deactivate()} stops and joins it. It holds the registry weakly, so a
     * registry dropped without deactivation (a test's) lets it end too.
     */
    java.lang.ref.ReferenceQueue<Handle> droppedHandles() {
        if (!reaperStarted) {
            startReaper();
        }
        return dropped;
    }

    private synchronized void startReaper() {
        if (reaperStarted) {
            return;
        }
        Thread t = new Thread(new Reaper(dropped, new java.lang.ref.WeakReference<>(this)), "dmabuf-leak-reaper");
        t.setDaemon(true);
        t.start();
        reaper = t;
        reaperStarted = true;
    }

    /** The leak reaper's loop; see {@link #droppedHandles()}. */
    private static final class Reaper implements Runnable {
        private final java.lang.ref.ReferenceQueue<Handle> queue;
        private final java.lang.ref.WeakReference<BufferRegistry> registry;

        Reaper(java.lang.ref.ReferenceQueue<Handle> queue, java.lang.ref.WeakReference<BufferRegistry> registry) {
            this.queue = queue;
            this.registry = registry;
        }

        @Override
        public void run() {
            while (!Thread.currentThread().isInterrupted()) {
                java.lang.ref.Reference<? extends Handle> r;
                try {
                    r = queue.remove(1000);
                } catch (InterruptedException e) {
                    return; // deactivate() stops the reaper
                }
                if (r instanceof Handle.Ref ref) {
                    try {
                        ref.run();
                    } catch (RuntimeException e) {
                        BufferRegistry reg = registry.get();
                        if (reg != null) {
                            reg.warn("leak: putting a dropped handle failed: " + e);
                        }
                    }
                } else if (registry.get() == null) {
                    return; // the registry is gone, and every handle with it
                }
            }
        }
    }

    /** For tests: the leak reaper's thread, or null before the first handle and after deactivation. */
    synchronized Thread reaperThread() {
        return reaper;
    }

    /** The cleaner that closes pools dropped without close(); made with the first pool. */
    synchronized Cleaner cleaner() {
        if (cleaner == null) {
            cleaner = Cleaner.create();
        }
        return cleaner;
    }

    // ---- exporters (MULTIPLE, DYNAMIC, ordered by service.ranking then service.id) ----

    @Reference(service = DmaBufExporter.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, updated = "updatedExporter")
    synchronized void bindExporter(DmaBufExporter exporter, Map<String, Object> props) {
        ExporterRef ref = ExporterRef.of(exporter, props);
        List<ExporterRef> next = new ArrayList<>(exporters);
        boolean update = next.removeIf(r -> r.exporter == exporter);
        next.add(ref);
        next.sort(null);
        exporters = List.copyOf(next);
        if (!update) {
            listeners.forEach(l -> l.exporterAdded(ref.info()));
        }
    }

    synchronized void updatedExporter(DmaBufExporter exporter, Map<String, Object> props) {
        bindExporter(exporter, props);
    }

    synchronized void unbindExporter(DmaBufExporter exporter, Map<String, Object> props) {
        List<ExporterRef> next = new ArrayList<>(exporters);
        List<ExporterRef> gone = next.stream().filter(r -> r.exporter == exporter).toList();
        next.removeAll(gone);
        exporters = List.copyOf(next);
        gone.forEach(r -> listeners.forEach(l -> l.exporterRemoved(r.info())));
    }

    // ---- observers ----

    void addListener(RegistryListener l) {
        listeners.add(l);
    }

    void removeListener(RegistryListener l) {
        listeners.remove(l);
    }

    void fireCreated(BufferObject b) {
        if (!listeners.isEmpty()) {
            BufferInfo i = b.info();
            listeners.forEach(l -> l.bufferCreated(i));
        }
    }

    void fireAttached(BufferObject b, String device) {
        if (!listeners.isEmpty()) {
            BufferInfo i = b.info();
            listeners.forEach(l -> l.bufferAttached(i, device));
        }
    }

    List<ExporterRef> exporterList() {
        return exporters;
    }

    List<ExporterInfo> exporters() {
        return exporters.stream().map(ExporterRef::info).toList();
    }

    // ---- clients ----

    /**
     * Opens the registry for one client.
     *
     * @param owner the client's name, shown in bufinfo
     * @return the client's view; close it to release what the client left open
     */
    OwnerScope open(String owner) {
        OwnerScope s = new OwnerScope(this, owner);
        scopes.add(s);
        return s;
    }

    /** A client's view was closed. */
    void closed(OwnerScope scope) {
        scopes.remove(scope);
    }

    DmaBuf create(BufferRequest request, OwnerScope owner) {
        BufferObject.checkSize("create", request.size());
        BufferObject.checkSingleBuffer("create", request);
        BufferObject b = new BufferObject(serials.incrementAndGet(), request, owner);
        b.listed = true;
        others.add(b);
        Handle h = handle(b, owner, "create");
        fireCreated(b);
        return h;
    }

    DmaBuf allocate(BufferRequest request, OwnerScope owner) {
        BufferObject.checkSize("allocate", request.size());
        BufferObject.checkSingleBuffer("allocate", request);
        BufferObject b = new BufferObject(serials.incrementAndGet(), request, owner);
        b.listed = true; // in byId once committed
        try {
            b.commit("allocate");
        } catch (RuntimeException e) {
            b.unref();
            throw e;
        }
        Handle h = handle(b, owner, "allocate");
        fireCreated(b);
        return h;
    }

    private Handle handle(BufferObject b, OwnerScope owner, String call) {
        try {
            return new Handle(b, owner, call);
        } catch (RuntimeException | Error e) {
            b.unref();
            throw e;
        }
    }

    /**
     * {@code dma_buf_get(fd)}: the buffer behind an fd. A known inode gives the same buffer object; otherwise the
     * fd is adopted by the exporter that fdinfo's {@code exp_name:} names, or as a foreign dma-buf or memfd.
     */
    DmaBuf get(int fd, OwnerScope owner) {
        if (fd < 0) {
            throw new LinuxException("get", "fd " + fd, Errno.EBADF);
        }
        FileStat stat = Sys.fstat(fd);
        BufferId id = stat.id();
        BufferObject known = byId.get(id);
        if (known != null && known.tryRef()) {
            return handle(known, owner, "get");
        }
        // unknown, or being released (its storage, and so its identity, is going away: a new object is right)
        BufferObject adopted;
        try {
            adopted = adopt(fd, stat, owner);
        } catch (DmaBufException e) {
            throw e;
        } catch (RuntimeException e) {
            // an exporter's adopt op or a malformed kernel answer: typed, naming the fd
            throw new DmaBufException("get", "EINVAL", "fd " + fd + " (" + stat.id() + ") could not be adopted: " + e,
                    e);
        }
        adopted.listed = true; // before it is published in byId: whoever releases it there must see it listed
        while (true) {
            BufferObject raced = byId.putIfAbsent(id, adopted);
            if (raced == null) {
                Handle h = handle(adopted, owner, "get");
                fireCreated(adopted);
                return h;
            }
            if (raced.tryRef()) {
                // another thread adopted the same buffer first: use its object, drop ours
                adopted.listed = false;
                adopted.unref();
                return handle(raced, owner, "get");
            }
            // the known object is between its last put and forget(): take its place
            if (byId.replace(id, raced, adopted)) {
                Handle h = handle(adopted, owner, "get");
                fireCreated(adopted);
                return h;
            }
        }
    }

    private BufferObject adopt(int fd, FileStat stat, OwnerScope owner) {
        // a memfd is known by its file system: no fdinfo to read, no link to follow
        BufferObject b = stat.isRegular() && stat.dev() == Sys.memfdDevice() ? adoptMemfd(fd, stat, owner)
                : adoptAs(fd, stat, FdInfo.read(fd), owner);
        if (!b.id().equals(stat.id())) {
            b.unref();
            throw new DmaBufException("get", "EINVAL", "fd " + fd + " is " + stat.id() + " but its adopted storage is "
                    + b.id() + ": refused");
        }
        if (b.size() == 0) {
            // no buffer is empty (a request of 0 bytes is refused, a dma-buf has pages): nothing could be mapped
            b.unref();
            throw new LinuxException("get", "fd " + fd + " (" + describeFd(fd) + ") is a "
                    + (b.kind() == BufferKind.MEMFD ? "memfd" : "dma-buf") + " of 0 bytes: refused", Errno.EINVAL);
        }
        return b;
    }

    /** Wraps adopted storage; the storage is released if the kernel's view of it cannot be read. */
    private BufferObject adopted(ExportedBuffer s, ExporterRef ref, String name, OwnerScope owner) {
        try {
            return new BufferObject(serials.incrementAndGet(), s, ref, name, owner);
        } catch (RuntimeException e) {
            s.release();
            throw e;
        }
    }

    private BufferObject adoptAs(int fd, FileStat stat, FdInfo info, OwnerScope owner) {
        if (info.isDmaBuf()) {
            for (ExporterRef ref : exporters) {
                if (info.expName().equals(ref.expName)) {
                    ExportedBuffer s;
                    try {
                        s = ref.exporter.adopt(fd, info.size());
                    } catch (UnsupportedOperationException e) {
                        continue;
                    }
                    return adopted(s, ref, info.name(), owner);
                }
            }
            ExportedBuffer s = FdBuffer.adopt(fd, info.size(), BufferKind.DMA_BUF);
            return adopted(s, ExporterRef.foreign(info.expName(), BufferKind.DMA_BUF), info.name(), owner);
        }
        String target = describeFd(fd);
        if (stat.isRegular() && target.startsWith("/memfd:")) {
            return adoptMemfd(fd, stat, owner);
        }
        throw new LinuxException("get", "fd " + fd + " (" + target + ") is neither a dma-buf nor a memfd",
                Errno.EINVAL);
    }

    private BufferObject adoptMemfd(int fd, FileStat stat, OwnerScope owner) {
        for (ExporterRef ref : exporters) {
            if (ref.kind == BufferKind.MEMFD) {
                ExportedBuffer s;
                try {
                    s = ref.exporter.adopt(fd, stat.size());
                } catch (UnsupportedOperationException e) {
                    continue; // try the next memfd exporter, then adopt it plainly
                }
                return adopted(s, ref, "", owner);
            }
        }
        ExportedBuffer s = FdBuffer.adoptSealedMemfd(fd);
        return adopted(s, ExporterRef.foreign("memfd", BufferKind.MEMFD), "", owner);
    }

    private static String describeFd(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (Exception e) {
            return "unknown";
        }
    }

    // ---- buffer lifecycle callbacks ----

    void committed(BufferObject b, BufferId id) {
        BufferObject shadowed = byId.put(id, b);
        if (shadowed != null && shadowed != b) {
            others.add(shadowed); // storage handed out twice (the same file): both objects stay listed
        }
        others.remove(b);
    }

    /** Whether a buffer's release has anyone to tell: the buffer computes its last {@code BufferInfo} only then. */
    boolean hasListeners() {
        return !listeners.isEmpty();
    }

    /** A released buffer leaves the registry; called once per buffer object, after its last reference. */
    void forget(BufferObject b, BufferId id, BufferInfo last) {
        if (!b.listed) {
            return; // an adoption that lost a race, or was refused: never live
        }
        others.remove(b);
        if (last != null && !listeners.isEmpty()) {
            listeners.forEach(l -> l.bufferReleased(last)); // before its identity is forgotten, as before
        }
        if (!BufferId.NONE.equals(id)) {
            byId.remove(id, b);
        }
    }

    /** Every live buffer object, a snapshot. */
    private List<BufferObject> liveBuffers() {
        if (others.isEmpty()) {
            return new ArrayList<>(byId.values());
        }
        // a buffer being committed is in both for a moment: count it once
        Set<BufferObject> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        all.addAll(byId.values());
        all.addAll(others);
        return new ArrayList<>(all);
    }

    /** Reports a leaked handle; {@code site} is where it was made: words, or a {@code Throwable} with the stack. */
    void leaked(BufferObject b, Object site) {
        String msg = "leak: a handle on " + b.describe() + " of " + b.size() + " bytes was dropped without put()";
        if (site instanceof Throwable t) {
            java.io.StringWriter sw = new java.io.StringWriter();
            t.printStackTrace(new java.io.PrintWriter(sw));
            warn(msg + "; it was created by " + sw);
        } else {
            warn(msg + "; it was created by " + site + " (set " + PID
                    + " leak.trace=true for the creation stack)");
        }
    }

    /** Counts a leaked handle once the reaper has reported it and put its reference (the buffer maybe released). */
    void leakHandled() {
        leaks.incrementAndGet();
    }

    /** Leaked handles fully handled: reported, and their reference put. */
    long leakCount() {
        return leaks.get();
    }

    void warn(String message) {
        warnings.accept(message);
    }

    void info(String message) {
        LOG.log(System.Logger.Level.INFO, message);
    }

    /** For tests: where warnings go. */
    void onWarning(Consumer<String> sink) {
        warnings = sink;
    }

    // ---- bufinfo ----

    List<BufferInfo> bufinfo() {
        List<BufferObject> live = liveBuffers();
        List<BufferInfo> out = new ArrayList<>(live.size());
        for (BufferObject b : live) {
            BufferInfo i = b.info();
            if (i.refCount() > 0) {
                out.add(i);
            }
        }
        out.sort(java.util.Comparator.comparingLong((BufferInfo i) -> i.id().dev()).thenComparingLong(BufferInfo::inode));
        return out;
    }

    int liveCount() {
        return liveBuffers().size();
    }
}
