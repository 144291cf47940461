package org.dmabuf.exporter.drm;

import com.sun.jna.Memory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;

/**
 * One open DRM node: the driver's name ({@code DRM_IOCTL_VERSION}), its capabilities ({@code DRM_IOCTL_GET_CAP}),
 * dumb buffers, PRIME export and import. GEM handles from {@code PRIME_FD_TO_HANDLE} are counted here: the kernel
 * hands out the same handle when the same buffer is imported again and does not count, so {@code GEM_CLOSE} runs
 * once, when the last import of a handle is released.
 *
 * <p>Thread-safe: the kernel serialises ioctls on the node; the import table is guarded by this object.
 */
final class DrmDevice implements AutoCloseable {
    /** A dumb buffer: its GEM handle, line pitch and size. */
    record Dumb(int handle, int pitch, long size) {
    }

    private final Fd fd;
    private final String path;
    private final String driver;
    private final Map<Integer, Integer> imports = new HashMap<>();
    /** {@code GEM_CLOSE} calls made for imports, for tests. */
    final AtomicInteger gemCloses = new AtomicInteger();

    /**
     * Opens a DRM node and names its driver.
     *
     * @param path {@code /dev/dri/card0} or a render node
     * @throws LinuxException naming {@code open} or {@code ioctl(DRM_IOCTL_VERSION)}, the path and errno
     *         ({@code ENOTTY} for a node that is not DRM); nothing stays open
     */
    DrmDevice(String path) {
        this.path = path;
        this.fd = Sys.open(path, LibC.O_RDWR);
        try {
            this.driver = version();
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private String version() {
        DrmUapi.Version v = new DrmUapi.Version();
        Sys.ioctl(fd.get(), DrmUapi.VERSION, "DRM_IOCTL_VERSION", path, v); // first call: the lengths
        Memory name = new Memory(v.name_len.longValue() + 1);
        name.clear();
        DrmUapi.Version w = new DrmUapi.Version();
        w.name_len = v.name_len;
        w.name = name;
        Sys.ioctl(fd.get(), DrmUapi.VERSION, "DRM_IOCTL_VERSION", path, w);
        return name.getString(0);
    }

    String path() {
        return path;
    }

    String driver() {
        return driver;
    }

    /**
     * {@code DRM_IOCTL_GET_CAP}.
     *
     * @param capability a {@code DRM_CAP_*}
     * @return its value
     */
    long cap(long capability) {
        DrmUapi.GetCap c = new DrmUapi.GetCap();
        c.capability = capability;
        Sys.ioctl(fd.get(), DrmUapi.GET_CAP, "DRM_IOCTL_GET_CAP", path, c);
        return c.value;
    }

    /**
     * Checks that the driver can export dumb buffers and import with PRIME.
     *
     * @throws LinuxException {@code EOPNOTSUPP} naming the path, the driver and the missing capability
     */
    void requireExportAndImport() {
        long dumb;
        try {
            dumb = cap(DrmUapi.DRM_CAP_DUMB_BUFFER);
        } catch (LinuxException e) {
            if (e.errnoValue() != Errno.EOPNOTSUPP) {
                throw e;
            }
            // drivers without modesetting (vgem) answer only a few caps: try a 1x1 dumb buffer instead
            try {
                destroyDumb(createDumb(1, 1, 32).handle());
                dumb = 1;
            } catch (LinuxException none) {
                throw new LinuxException("ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", path + " (driver " + driver
                        + ") has no dumb buffers: " + none.getMessage(), none.errnoValue());
            }
        }
        if (dumb == 0) {
            throw new LinuxException("ioctl(DRM_IOCTL_GET_CAP)", path + " (driver " + driver
                    + ") has no DRM_CAP_DUMB_BUFFER", Errno.EOPNOTSUPP);
        }
        long prime = cap(DrmUapi.DRM_CAP_PRIME);
        if ((prime & (DrmUapi.DRM_PRIME_CAP_EXPORT | DrmUapi.DRM_PRIME_CAP_IMPORT)) != (DrmUapi.DRM_PRIME_CAP_EXPORT
                | DrmUapi.DRM_PRIME_CAP_IMPORT)) {
            throw new LinuxException("ioctl(DRM_IOCTL_GET_CAP)", path + " (driver " + driver
                    + ") lacks DRM_CAP_PRIME import and export (value " + prime + ")", Errno.EOPNOTSUPP);
        }
    }

    /**
     * {@code DRM_IOCTL_MODE_CREATE_DUMB}.
     *
     * @throws LinuxException naming the ioctl, the node, the shape and errno ({@code EINVAL} for absurd sizes)
     */
    Dumb createDumb(int width, int height, int bpp) {
        DrmUapi.CreateDumb c = new DrmUapi.CreateDumb();
        c.width = width;
        c.height = height;
        c.bpp = bpp;
        Sys.ioctl(fd.get(), DrmUapi.MODE_CREATE_DUMB, "DRM_IOCTL_MODE_CREATE_DUMB", path + ", " + width + "x"
                + height + "x" + bpp, c);
        return new Dumb(c.handle, c.pitch, c.size);
    }

    /** {@code DRM_IOCTL_MODE_DESTROY_DUMB}. */
    void destroyDumb(int handle) {
        DrmUapi.DestroyDumb d = new DrmUapi.DestroyDumb();
        d.handle = handle;
        Sys.ioctl(fd.get(), DrmUapi.MODE_DESTROY_DUMB, "DRM_IOCTL_MODE_DESTROY_DUMB", path + ", handle " + handle,
                d);
    }

    /**
     * {@code DRM_IOCTL_PRIME_HANDLE_TO_FD} with {@code DRM_CLOEXEC | DRM_RDWR}.
     *
     * @return the dma-buf fd, owned by the caller
     */
    Fd primeExport(int handle) {
        DrmUapi.PrimeHandle p = new DrmUapi.PrimeHandle();
        p.handle = handle;
        p.flags = DrmUapi.DRM_CLOEXEC | DrmUapi.DRM_RDWR;
        p.fd = -1;
        Sys.ioctl(fd.get(), DrmUapi.PRIME_HANDLE_TO_FD, "DRM_IOCTL_PRIME_HANDLE_TO_FD", path + ", handle " + handle,
                p);
        return new Fd(p.fd, "dma-buf of " + driver + " handle " + handle);
    }

    /**
     * Maps a dumb buffer through the DRM node: {@code DRM_IOCTL_MODE_MAP_DUMB}, then {@code mmap} at the fake
     * offset.
     *
     * @return the mapping, owned by the caller
     */
    Mapping mapDumb(int handle, long size) {
        DrmUapi.MapDumb m = new DrmUapi.MapDumb();
        m.handle = handle;
        Sys.ioctl(fd.get(), DrmUapi.MODE_MAP_DUMB, "DRM_IOCTL_MODE_MAP_DUMB", path + ", handle " + handle, m);
        return Mapping.map(fd.get(), size, m.offset, LibC.PROT_READ | LibC.PROT_WRITE, path + " handle " + handle);
    }

    /**
     * Imports a dma-buf ({@code DRM_IOCTL_PRIME_FD_TO_HANDLE}) and counts the import of its handle.
     *
     * @return the GEM handle; release it with {@link #releaseImport(int)}
     */
    synchronized int importFd(int dmabuf) {
        DrmUapi.PrimeHandle p = new DrmUapi.PrimeHandle();
        p.fd = dmabuf;
        Sys.ioctl(fd.get(), DrmUapi.PRIME_FD_TO_HANDLE, "DRM_IOCTL_PRIME_FD_TO_HANDLE", path + ", dma-buf fd "
                + dmabuf, p);
        imports.merge(p.handle, 1, Integer::sum);
        return p.handle;
    }

    /** Drops one import of a handle; the last one closes it ({@code DRM_IOCTL_GEM_CLOSE}). */
    synchronized void releaseImport(int handle) {
        Integer n = imports.get(handle);
        if (n == null) {
            throw new IllegalStateException("handle " + handle + " of " + path + " is not imported");
        }
        if (n > 1) {
            imports.put(handle, n - 1);
            return;
        }
        imports.remove(handle);
        gemClose(handle);
        gemCloses.incrementAndGet();
    }

    /** {@code DRM_IOCTL_GEM_CLOSE}. */
    void gemClose(int handle) {
        DrmUapi.GemClose c = new DrmUapi.GemClose();
        c.handle = handle;
        Sys.ioctl(fd.get(), DrmUapi.GEM_CLOSE, "DRM_IOCTL_GEM_CLOSE", path + ", handle " + handle, c);
    }

    synchronized int importCount(int handle) {
        return imports.getOrDefault(handle, 0);
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return path + " (" + driver + ")";
    }
}
