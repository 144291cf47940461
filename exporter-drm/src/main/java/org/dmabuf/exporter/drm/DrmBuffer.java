package org.dmabuf.exporter.drm;

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
 * dma-buf), which covers {@code CREATE_DUMB}'s {@code size}; MAP_DUMB maps all of it. Threads: as {@link FdBuffer}.
 */
final class DrmBuffer extends FdBuffer {
    private final DrmDevice device;
    private final int handle;
    private final int pitch;
    private final boolean mapDumb;

    DrmBuffer(DrmDevice device, DrmDevice.Dumb dumb, Fd fd, boolean mapDumb) {
        super(fd, dumb.size(), BufferKind.DMA_BUF);
        this.device = device;
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
