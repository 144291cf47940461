package org.dmabuf.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;

/**
 * The registry as one client sees it: every handle, attachment, mapping, CPU access and pool the client opened is
 * tracked here, and {@link #close()} ends them all (the client bundle stopped). Thread-safe; any thread.
 */
final class OwnerScope implements DmaBufRegistry, AutoCloseable {
    private final BufferRegistry registry;
    private final String name;
    /**
     * Attachments, mappings, CPU accesses and pools the client has open, by identity: an open-addressed table that
     * makes no entry object per resource (a CPU access is tracked for its length only). Guarded by
     * {@link #refsLock}.
     */
    private final Set<Object> open = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    /**
     * The client's buffer references, many and short-lived, newest first, in a list of their own threaded through
     * the references ({@link Handle.Ref#older}, {@link Handle.Ref#newer}): tracking one costs two fields, not a
     * set entry. Guarded by {@link #refsLock}.
     */
    private Handle.Ref refs;
    private int refCount;
    /** Guards what the scope tracks: {@link #open}, {@link #refs}, {@link #refCount}. */
    private final Object refsLock = new Object();
    private volatile boolean closed;

    OwnerScope(BufferRegistry registry, String name) {
        this.registry = registry;
        this.name = name;
    }

    String name() {
        return name;
    }

    BufferRegistry registry() {
        return registry;
    }

    <T> T track(T resource) {
        synchronized (refsLock) {
            open.add(resource);
        }
        return resource;
    }

    void untrack(Object resource) {
        synchronized (refsLock) {
            open.remove(resource);
        }
    }

    /**
     * Tracks a new buffer reference. A reference made while the scope closes is either tracked before
     * {@link #close()} takes its list (and ended by it) or finds the scope closed here: it is then refused (not
     * tracked, never reported as a leak) and the call that made it fails, giving its count on the buffer back
     * ({@code BufferRegistry.handle}), so that no reference outlives its scope.
     *
     * @param r the reference
     * @param call the call that made it ({@code allocate}, {@code get}), for the error
     * @throws DmaBufException {@code ENODEV} if the scope has closed
     */
    void track(Handle.Ref r, String call) {
        synchronized (refsLock) {
            if (!closed) {
                r.older = refs;
                if (refs != null) {
                    refs.newer = r;
                }
                refs = r;
                refCount++;
                return;
            }
        }
        r.refused();
        throw new DmaBufException(call, "ENODEV", "the registry of " + name + " was released");
    }

    /** Stops tracking a buffer reference; called once per reference, when it is put. */
    void untrack(Handle.Ref r) {
        synchronized (refsLock) {
            if (r.newer != null) {
                r.newer.older = r.older;
            } else if (refs == r) {
                refs = r.older;
            } else {
                return; // not tracked (never, or already untracked)
            }
            if (r.older != null) {
                r.older.newer = r.newer;
            }
            r.newer = null;
            r.older = null;
            refCount--;
        }
    }

    /**
     * The core stopped and voided every reference ({@link BufferObject#forceRelease()}): stops tracking them. Their
     * puts stay no-ops; a handle dropped now is no leak, and no reaper looks for it any more.
     */
    void forgetVoidReferences() {
        for (Handle.Ref r : trackedRefs()) {
            if (r.buffer.isForced()) {
                untrack(r);
            }
        }
    }

    private List<Handle.Ref> trackedRefs() {
        synchronized (refsLock) {
            List<Handle.Ref> all = new ArrayList<>(refCount);
            for (Handle.Ref r = refs; r != null; r = r.older) {
                all.add(r);
            }
            return all;
        }
    }

    int openCount() {
        synchronized (refsLock) {
            return open.size() + refCount;
        }
    }

    private void live(String call) {
        if (closed) {
            throw new DmaBufException(call, "ENODEV", "the registry of " + name + " was released");
        }
    }

    @Override
    public DmaBuf create(BufferRequest request) {
        live("create");
        return registry.create(request, this);
    }

    @Override
    public org.dmabuf.api.FrameBuffer allocateFrame(BufferRequest request) {
        live("allocateFrame");
        return FrameBufferImpl.allocate(this, request);
    }

    @Override
    public org.dmabuf.api.BufferPool createPool(BufferRequest request, int count) {
        live("createPool");
        return PoolImpl.create(registry, this, request, count);
    }

    @Override
    public org.dmabuf.api.BufferPool poolOf(List<? extends org.dmabuf.api.FrameBuffer> frames) {
        live("poolOf");
        return PoolImpl.adopt(registry, this, frames);
    }

    @Override
    public DmaBuf allocate(BufferRequest request) {
        live("allocate");
        return registry.allocate(request, this);
    }

    @Override
    public DmaBuf get(int fd) {
        live("get");
        return registry.get(fd, this);
    }

    @Override
    public DmaBuf get(DmaBuf buffer) {
        live("get");
        if (!(buffer instanceof Handle h) || h.buffer().registry() != registry) {
            throw new org.dmabuf.api.InvalidArgumentException("get", "the buffer " + buffer
                    + " was not made by this registry");
        }
        return h.getFor(this);
    }

    @Override
    public List<BufferInfo> bufinfo() {
        return registry.bufinfo();
    }

    @Override
    public List<ExporterInfo> exporters() {
        return registry.exporters();
    }

    /**
     * Ends everything the client left open: mappings first, then CPU accesses, attachments and references, as a
     * careful client would have.
     */
    @Override
    public void close() {
        List<Object> all;
        synchronized (refsLock) { // with track(Ref): a reference is either in the list taken below or refused
            closed = true;
            all = new ArrayList<>(open);
        }
        registry.closed(this);
        all.addAll(trackedRefs());
        int ended = 0;
        // pools after attachments (a free buffer of a pool is released when its pool closes), before the handles
        for (Class<?> kind : List.of(SgTableImpl.class, CpuAccessImpl.class, AttachmentImpl.class,
                PoolImpl.State.class, Handle.Ref.class)) {
            for (Object o : all) {
                if (!kind.isInstance(o)) {
                    continue;
                }
                try {
                    if (o instanceof SgTableImpl t) {
                        t.close();
                    } else if (o instanceof CpuAccessImpl c) {
                        c.close();
                    } else if (o instanceof AttachmentImpl a) {
                        a.close();
                    } else if (o instanceof PoolImpl.State p) {
                        p.close();
                    } else if (((Handle.Ref) o).drop()) {
                        ended++;
                    }
                } catch (RuntimeException e) {
                    registry.warn("release of " + name + ": " + e.getMessage());
                }
            }
        }
        if (ended > 0) {
            registry.info(name + " stopped holding " + ended + " buffer reference(s); released them");
        }
    }
}
