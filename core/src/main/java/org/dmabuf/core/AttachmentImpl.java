package org.dmabuf.core;

import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.Device;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.SgTable;

/**
 * A device attached to a buffer ({@code struct dma_buf_attachment}). Its state is guarded by its buffer's
 * monitor; any thread may call it.
 */
final class AttachmentImpl implements Attachment {
    final BufferObject buffer;
    /**
     * The handle {@code attach} was called on, held weakly: the buffer keeps its attachments, and a strong
     * reference from here would keep a dropped handle reachable, so that the leak would never be found.
     */
    private final java.lang.ref.WeakReference<Handle> handle;
    private final Device device;
    private final OwnerScope owner;
    private volatile boolean attached = true;
    /** What an importer device made of the buffer; set and closed under {@code buffer}'s monitor. */
    private volatile AutoCloseable imported;
    /** Live mappings; guarded by {@code buffer}. */
    private List<SgTableImpl> tables;

    AttachmentImpl(BufferObject buffer, Handle handle, Device device) {
        this.buffer = buffer;
        this.handle = new java.lang.ref.WeakReference<>(handle);
        this.device = device;
        this.owner = handle.owner();
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DmaBuf buffer() {
        Handle h = handle.get();
        if (h == null) {
            throw new org.dmabuf.api.BufferReleasedException("buffer", "the handle on " + buffer.describe()
                    + " that device '" + device.name() + "' was attached through was dropped without put()");
        }
        return h;
    }

    @Override
    public boolean isAttached() {
        return attached;
    }

    @Override
    public <T> T imported(Class<T> type) {
        return type.cast(imported);
    }

    /** Lets an importer device import the storage; called under the buffer's monitor once storage exists. */
    void importInto(org.dmabuf.spi.ExportedBuffer storage) {
        if (device instanceof org.dmabuf.api.ImporterDevice d && imported == null) {
            Handle h = handle.get();
            if (h != null && !h.isPut()) {
                imported = d.importBuffer(h, storage.fd());
                java.lang.ref.Reference.reachabilityFence(h);
            } else {
                // the attaching handle is gone but the buffer lives on: lend the device a reference of its own
                buffer.ref("attach");
                Handle lent;
                try {
                    lent = new Handle(buffer, owner, "import");
                } catch (RuntimeException | Error e) { // the owner's scope closed meanwhile
                    buffer.unref();
                    throw e;
                }
                try {
                    imported = d.importBuffer(lent, storage.fd());
                } finally {
                    lent.close();
                }
            }
        }
    }

    /** The kernel's name of the device while its import holds a kernel attachment; under the buffer's monitor. */
    java.util.Optional<String> kernelName() {
        AutoCloseable i = imported;
        if (i != null && device instanceof org.dmabuf.api.ImporterDevice d) {
            return d.kernelName(i);
        }
        return java.util.Optional.empty();
    }

    /** Closes the device's import, if any; called under the buffer's monitor at detach. */
    void closeImport() {
        AutoCloseable i = imported;
        imported = null;
        if (i != null) {
            try {
                i.close();
            } catch (org.dmabuf.api.DmaBufException e) {
                throw e;
            } catch (Exception e) {
                throw new org.dmabuf.api.DmaBufException("detach", null, "device '" + device.name()
                        + "' failed to release its import of " + buffer.describe() + ": " + e, e);
            }
        }
    }

    @Override
    public SgTable map(DmaDirection direction) {
        Handle.given("map", "direction", direction);
        return owner.track(buffer.map(this, direction));
    }

    @Override
    public void close() {
        buffer.detach(this);
        owner.untrack(this);
    }

    OwnerScope owner() {
        return owner;
    }

    void ended() {
        attached = false;
        owner.untrack(this);
    }

    // guarded by buffer
    void addTable(SgTableImpl t) {
        if (tables == null) {
            tables = new ArrayList<>(1);
        }
        tables.add(t);
    }

    boolean removeTable(SgTableImpl t) {
        if (tables != null && tables.remove(t)) {
            t.ended();
            return true;
        }
        return false;
    }

    boolean hasTables() {
        return tables != null && !tables.isEmpty();
    }

    int tableCount() {
        return tables == null ? 0 : tables.size();
    }

    List<SgTableImpl> takeTables() {
        List<SgTableImpl> t = tables == null ? List.of() : tables;
        tables = null;
        t.forEach(SgTableImpl::ended);
        return t;
    }

    @Override
    public String toString() {
        return "attachment of '" + device.name() + "' to " + buffer.describe();
    }
}
