package org.dmabuf.exporter.drm;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ImporterDevice;

/**
 * A DRM device as an importer: attaching it to a buffer imports the buffer with
 * {@code DRM_IOCTL_PRIME_FD_TO_HANDLE}; detaching releases the import. The handle is counted in the node's table
 * ({@link DrmDevice}), which the exporter of the same open node shares: importing a buffer that node exported
 * yields the exporter's own handle, which stays open until both have let it go. The import is an
 * {@link IntSupplier} of the GEM handle ({@code attachment.imported(IntSupplier.class)}). Thread-safe.
 */
final class DrmImporter implements ImporterDevice {
    private final DrmDevice device;

    private final Optional<String> kernelName;

    /** The node that exports this device's own buffers (the primary node), for telling self-imports apart. */
    private final DrmDevice exportNode;

    DrmImporter(DrmDevice device) {
        this(device, device);
    }

    /**
     * An importer through {@code device} for the DRM device whose buffers {@code exportNode} exports.
     *
     * @param device the node imports go through (the render node where there is one)
     * @param exportNode the node the same device's exporter uses
     */
    DrmImporter(DrmDevice device, DrmDevice exportNode) {
        this.device = device;
        this.exportNode = exportNode;
        this.kernelName = device.kernelName();
    }

    DrmDevice device() {
        return device;
    }

    @Override
    public String name() {
        return device.driver();
    }

    /**
     * The kernel's {@code dev_name} of the DRM device ({@code vgem}), as debugfs bufinfo lists it under "Attached
     * Devices" while an import is live.
     */
    @Override
    public Optional<String> kernelName() {
        return kernelName;
    }

    @Override
    public DeviceConstraints constraints() {
        return DeviceConstraints.NONE;
    }

    /**
     * Empty for an import of a buffer this device exported itself: the kernel gives the device its own GEM object
     * back and attaches nothing ({@code drm_gem_prime_import_dev}), so debugfs lists no attached device for it.
     */
    @Override
    public Optional<String> kernelName(AutoCloseable imported) {
        return imported instanceof GemImport g && g.selfImport ? Optional.empty() : kernelName;
    }

    @Override
    public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
        boolean self = exportNode.exports(org.dmabuf.linux.Sys.fstat(fd).id());
        int handle = device.importFd(fd);
        return new GemImport(handle, self);
    }

    /** One import of a GEM handle; closing it releases that import once. */
    final class GemImport implements AutoCloseable, IntSupplier {
        private final int handle;
        /** The buffer was exported by this device: no kernel attachment. */
        final boolean selfImport;
        private final AtomicBoolean closed = new AtomicBoolean();

        GemImport(int handle, boolean selfImport) {
            this.handle = handle;
            this.selfImport = selfImport;
        }

        @Override
        public int getAsInt() {
            return handle;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                device.releaseImport(handle);
            }
        }
    }

    @Override
    public String toString() {
        return "DRM importer " + device;
    }
}
