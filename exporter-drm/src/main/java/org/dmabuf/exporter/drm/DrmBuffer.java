package org.dmabuf.exporter.drm;

import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.spi.MappedMemory;

/**
 * A dumb buffer exported with PRIME: the dma-buf fd plus the GEM handle it came from. CPU mappings go through the
 * dma-buf fd, or through {@code DRM_IOCTL_MODE_MAP_DUMB} where the driver cannot map its dma-bufs. Release closes
 * the fd and drops the creation's reference to the GEM handle ({@link DrmDevice#releaseDumb}: the dumb buffer is
 * destroyed once no import of it into the same file remains). The size is the kernel's ({@code lseek} of the
 * dma-buf), which covers {@code CREATE_DUMB}'s {@code size}; MAP_DUMB maps all of it. A buffer made for an image
 * reports the layout the driver's pitch gives it ({@link #format()}). Threads: as {@link FdBuffer}.
 */
final class DrmBuffer extends FdBuffer {
    private final DrmDevice device;
    private final DrmDevice.Dumb dumb;
    private final int handle;
    private final int pitch;
    private final boolean mapDumb;
    private volatile BufferFormat format;

    DrmBuffer(DrmDevice device, DrmDevice.Dumb dumb, Fd fd, boolean mapDumb) {
        super(fd, dumb.size(), BufferKind.DMA_BUF);
        this.device = device;
        this.dumb = dumb;
        this.handle = dumb.handle();
        this.pitch = dumb.pitch();
        this.mapDumb = mapDumb;
        device.exported(id()); // recorded with the node while the buffer lives
    }

    int handle() {
        return handle;
    }

    int pitch() {
        return pitch;
    }

    /** The {@code CREATE_DUMB} arguments and answer this buffer came from. */
    DrmDevice.Dumb dumb() {
        return dumb;
    }

    /** Sets the image layout the exporter made from the pitch, once, before the core sees the buffer. */
    void format(BufferFormat value) {
        this.format = value;
    }

    @Override
    public Optional<BufferFormat> format() {
        return Optional.ofNullable(format);
    }

    @Override
    public MappedMemory mmap() {
        if (!mapDumb) {
            try {
                return super.mmap();
            } catch (LinuxException e) {
                if (e.errnoValue() != Errno.ENODEV && e.errnoValue() != Errno.EINVAL
                        && e.errnoValue() != Errno.EOPNOTSUPP) {
                    throw e;
                }
                // the driver cannot mmap its dma-bufs: map through the DRM node instead
            }
        }
        return device.mapDumb(handle, size);
    }

    @Override
    public void release() {
        device.unexported(id());
        try {
            super.release();
        } finally {
            device.releaseDumb(handle);
        }
    }
}
