package org.dmabuf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A device backed by a kernel driver that imports dma-bufs: a DRM device ({@code DRM_IOCTL_PRIME_FD_TO_HANDLE}),
 * a V4L2 device ({@code V4L2_MEMORY_DMABUF}). The core calls {@link #importBuffer} once per attachment as soon as
 * the buffer has storage (at {@code attach}, or at the commit of late allocation for devices attached before) and
 * closes what it returned at {@code detach}, or when the buffer is released.
 *
 * <p>Implemented by exporter bundles; implementations must be thread-safe: different buffers may be imported and
 * released concurrently.
 */
@ConsumerType
public interface ImporterDevice extends Device {
    /**
     * Imports a buffer into the device.
     *
     * @param buffer the buffer, for its size, name and format; not a new reference: do not put it
     * @param fd the buffer's fd, owned by the buffer: duplicate it to keep it
     * @return the import (a GEM handle, a queued V4L2 buffer), closed exactly once at detach; exposed to the
     *         attacher through {@link Attachment#imported(Class)}
     * @throws DmaBufException naming the ioctl, the device and errno if the device refuses the buffer; the attach
     *         fails then
     */
    AutoCloseable importBuffer(DmaBuf buffer, int fd);

    /**
     * The name the kernel gives this device ({@code dev_name(dev)}), as debugfs {@code dma_buf/bufinfo} lists it
     * under "Attached Devices" while one of its imports holds a kernel attachment: for example {@code vgem} or
     * {@code vivid.0}.
     *
     * @return the kernel's name, or empty when the device makes no kernel attachment
     */
    default java.util.Optional<String> kernelName() {
        return java.util.Optional.empty();
    }

    /**
     * The kernel's name of this device for one of its imports: {@link #kernelName()}, or empty where that import
     * made no kernel attachment (a DRM device importing a dma-buf it exported itself gets its own GEM object back).
     *
     * @param imported what {@link #importBuffer} returned
     * @return the name debugfs bufinfo lists for that buffer while the import lives, or empty
     */
    default java.util.Optional<String> kernelName(AutoCloseable imported) {
        return kernelName();
    }
}
