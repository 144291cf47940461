package org.dmabuf.exporter.drm;

import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Statx;
import org.dmabuf.linux.Sys;

/**
 * One open DRM node: the driver's name ({@code DRM_IOCTL_VERSION}), its capabilities ({@code DRM_IOCTL_GET_CAP}),
 * dumb buffers, PRIME export and import.
 *
 * <p>GEM handles belong to the open file, and the kernel gives one object one handle per file: a dumb buffer's
 * creation returns a handle, and {@code PRIME_FD_TO_HANDLE} of a dma-buf this file exported returns that same
 * handle again, as does a second import of one dma-buf. So every handle this file holds is counted here, in one
 * table shared by the exporter and the importer that use this instance: the creation of a dumb buffer counts one,
 * each import one more, and only the release of the last closes the handle ({@code DRM_IOCTL_MODE_DESTROY_DUMB}
 * when the exporter releases last, {@code DRM_IOCTL_GEM_CLOSE} when an import does). Without the count, an importer
 * closing the exporter's own handle would make the exporter's later destroy fail, or destroy whatever buffer took
 * the handle's number in between.
 *
 * <p>A primary node ({@code cardN}) makes the first process to open it DRM master; this class gives mastership up
 * at once ({@code DRM_IOCTL_DROP_MASTER}), since it needs none and a compositor started later would fail to get
 * it. {@link #openImportNode} prefers the device's render node for imports.
 *
 * <p>Thread-safe: the kernel serialises ioctls on the node; the handle table, and every ioctl that creates or
 * closes a handle, are guarded by this object.
 */
final class DrmDevice implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.dmabuf.exporter.drm");
    private static final AtomicBoolean NOT_MASTER_LOGGED = new AtomicBoolean();

    /**
     * A dumb buffer: the {@code CREATE_DUMB} arguments it was made with, and the GEM handle, line pitch and size
     * the driver returned.
     */
    record Dumb(int width, int height, int bpp, int handle, int pitch, long size) {
    }

    private final Fd fd;
    private final String path;
    private final String driver;
    /** What an exported dma-buf's fd is, less its handle: shared by every export, the handle joined when asked. */
    private final String exportWhat;
    /** The node's folder in sysfs ({@code /sys/devices/.../drm/card0}), or null if sysfs does not show it. */
    private final Path sysfs;
    private final boolean primary;
    /** References to each GEM handle of this file: one for a dumb buffer's creation, one per import. */
    private final Map<Integer, Integer> handles = new HashMap<>();
    /** The dma-bufs this node exported that are still alive, by identity: imports of them make no kernel attachment. */
    private final java.util.Set<org.dmabuf.api.BufferId> exports = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Handles closed by imports ({@code DRM_IOCTL_GEM_CLOSE}), for tests. */
    final AtomicInteger gemCloses = new AtomicInteger();

    /**
     * Opens a DRM node, names its driver and, for a primary node, drops DRM master.
     *
     * @param path {@code /dev/dri/card0} or a render node
     * @throws LinuxException naming {@code open}, {@code statx} or {@code ioctl(DRM_IOCTL_VERSION)}, the path and
     *         errno ({@code ENOTTY} for a node that is not DRM); nothing stays open
     */
    DrmDevice(String path) {
        this.path = path;
        this.fd = Sys.open(path, LibC.O_RDWR);
        try {
            this.driver = version();
            this.exportWhat = "dma-buf of " + driver + " handle ";
            this.sysfs = sysfsOf(fd.get(), path);
            this.primary = sysfs != null ? sysfs.getFileName().toString().startsWith("card")
                    : Path.of(path).getFileName().toString().startsWith("card");
            if (primary) {
                dropMaster();
            }
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private String version() {
        DrmUapi.Version v = new DrmUapi.Version();
        DrmUapi.ioctl(fd.get(), DrmUapi.VERSION, "DRM_IOCTL_VERSION", path, v, null); // first call: the lengths
        Memory name = new Memory(v.name_len.longValue() + 1);
        name.clear();
        DrmUapi.Version w = new DrmUapi.Version();
        w.name_len = v.name_len;
        w.name = name;
        DrmUapi.ioctl(fd.get(), DrmUapi.VERSION, "DRM_IOCTL_VERSION", path, w, name);
        return name.getString(0);
    }

    /**
     * The node's folder in sysfs, found from the device number ({@code st_rdev}) rather than the path's text:
     * {@code /sys/dev/char/MAJOR:MINOR} links to {@code /sys/devices/.../drm/card0}.
     */
    private static Path sysfsOf(int fd, String path) {
        Statx st = new Statx();
        try {
            LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_BASIC, st.getPointer());
        } catch (com.sun.jna.LastErrorException e) {
            throw new LinuxException("statx", path + " (fd " + fd + ")", e.getErrorCode());
        }
        st.read();
        if ((st.stx_mode & Statx.S_IFMT) != Statx.S_IFCHR) {
            return null; // not a device node: the VERSION ioctl failed already for anything but DRM
        }
        try {
            return Path.of("/sys/dev/char/" + st.stx_rdev_major + ":" + st.stx_rdev_minor).toRealPath();
        } catch (IOException e) {
            return null; // no sysfs (a container without /sys): the path's name decides, no render node
        }
    }

    /**
     * {@code DRM_IOCTL_DROP_MASTER}. A process that is not master gets {@code EINVAL} (or {@code EACCES} without
     * {@code CAP_SYS_ADMIN}): that is logged once and otherwise ignored.
     */
    private void dropMaster() {
        try {
            DrmUapi.ioctl(fd.get(), DrmUapi.DROP_MASTER, "DRM_IOCTL_DROP_MASTER", path);
        } catch (LinuxException e) {
            if (e.errnoValue() != Errno.EINVAL && e.errnoValue() != Errno.EACCES) {
                throw e;
            }
            if (NOT_MASTER_LOGGED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.DEBUG, path + " did not make this process DRM master (another process "
                        + "holds it): " + e.getMessage());
            }
        }
    }

    /**
     * The node to import into for a device: its render node ({@code renderD*} in the same sysfs device folder),
     * which needs no DRM master or authentication, if it has one that opens; else the device itself.
     *
     * @param device an open node
     * @return a newly opened render node, owned by the caller, or {@code device} itself
     */
    static DrmDevice openImportNode(DrmDevice device) {
        Optional<String> render = device.renderNode();
        if (render.isEmpty()) {
            return device;
        }
        try {
            return new DrmDevice(render.get());
        } catch (LinuxException e) {
            LOG.log(System.Logger.Level.WARNING, render.get() + " cannot be opened; imports go through " + device.path
                    + ": " + e.getMessage());
            return device;
        }
    }

    /**
     * The render node of this node's device.
     *
     * @return {@code /dev/dri/renderDN}, or empty if the device has none (or this is one)
     */
    Optional<String> renderNode() {
        if (sysfs == null || !primary) {
            return Optional.empty();
        }
        try (Stream<Path> nodes = Files.list(sysfs.getParent())) {
            return nodes.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("renderD")).sorted()
                    .findFirst().map(n -> "/dev/dri/" + n);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Records a dma-buf this node exported ({@code PRIME_HANDLE_TO_FD}). */
    void exported(org.dmabuf.api.BufferId id) {
        exports.add(id);
    }

    /** Forgets a dma-buf this node exported, at its release. */
    void unexported(org.dmabuf.api.BufferId id) {
        exports.remove(id);
    }

    /**
     * Whether this node exported the dma-buf and it is still alive: the kernel's {@code drm_gem_prime_import_dev}
     * then hands the device its own GEM object back, without a dma-buf attachment.
     */
    boolean exports(org.dmabuf.api.BufferId id) {
        return exports.contains(id);
    }

    /**
     * The kernel's name of the device ({@code dev_name}): the name of the node's {@code device} link in sysfs, as
     * debugfs {@code dma_buf/bufinfo} lists it under "Attached Devices" ({@code vgem}, {@code 0000:00:02.0}).
     *
     * @return the name, or empty where sysfs does not show it
     */
    Optional<String> kernelName() {
        if (sysfs == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(sysfs.resolve("device").toRealPath().getFileName().toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    boolean primary() {
        return primary;
    }

    int fd() {
        return fd.get();
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
        DrmUapi.ioctl(fd.get(), DrmUapi.GET_CAP, "DRM_IOCTL_GET_CAP", path, c, null);
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
                releaseDumb(createDumb(1, 1, 32).handle());
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
     * {@code DRM_IOCTL_MODE_CREATE_DUMB}; the new handle counts one reference.
     *
     * @return the dumb buffer; release it with {@link #releaseDumb(int)}
     * @throws LinuxException naming the ioctl, the node, the shape and errno ({@code EINVAL} for absurd sizes)
     */
    synchronized Dumb createDumb(int width, int height, int bpp) {
        DrmUapi.CreateDumb c = new DrmUapi.CreateDumb();
        c.width = width;
        c.height = height;
        c.bpp = bpp;
        DrmUapi.ioctl(fd.get(), DrmUapi.MODE_CREATE_DUMB, "DRM_IOCTL_MODE_CREATE_DUMB", path + ", " + width + "x"
                + height + "x" + bpp, c, null);
        handles.merge(c.handle, 1, Integer::sum);
        return new Dumb(width, height, bpp, c.handle, c.pitch, c.size);
    }

    /**
     * Drops the creation's reference to a dumb buffer's handle; if no import holds the handle any more,
     * {@code DRM_IOCTL_MODE_DESTROY_DUMB}.
     *
     * @throws IllegalStateException if this file holds no reference to the handle
     * @throws LinuxException naming the ioctl, the node, the handle and errno
     */
    synchronized void releaseDumb(int handle) {
        if (unref(handle) == 0) {
            DrmUapi.DestroyDumb d = new DrmUapi.DestroyDumb();
            d.handle = handle;
            DrmUapi.ioctl(fd.get(), DrmUapi.MODE_DESTROY_DUMB, "DRM_IOCTL_MODE_DESTROY_DUMB", path + ", handle "
                    + handle, d, null);
        }
    }

    private int unref(int handle) {
        Integer n = handles.get(handle);
        if (n == null) {
            throw new IllegalStateException("GEM handle " + handle + " of " + path + " is not held");
        }
        if (n > 1) {
            handles.put(handle, n - 1);
            return n - 1;
        }
        handles.remove(handle);
        return 0;
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
        DrmUapi.ioctl(fd.get(), DrmUapi.PRIME_HANDLE_TO_FD, "DRM_IOCTL_PRIME_HANDLE_TO_FD", path + ", handle "
                + handle, p, null);
        return new Fd(p.fd, exportWhat, handle);
    }

    /**
     * Maps a dumb buffer through the DRM node: {@code DRM_IOCTL_MODE_MAP_DUMB}, then {@code mmap} at the fake
     * offset.
     *
     * @param size the bytes to map: the buffer's size as the kernel reports it
     * @return the mapping, owned by the caller
     */
    Mapping mapDumb(int handle, long size) {
        DrmUapi.MapDumb m = new DrmUapi.MapDumb();
        m.handle = handle;
        DrmUapi.ioctl(fd.get(), DrmUapi.MODE_MAP_DUMB, "DRM_IOCTL_MODE_MAP_DUMB", path + ", handle " + handle, m,
                null);
        return Mapping.map(fd.get(), size, m.offset, LibC.PROT_READ | LibC.PROT_WRITE, path + " handle " + handle);
    }

    /**
     * Imports a dma-buf ({@code DRM_IOCTL_PRIME_FD_TO_HANDLE}) and counts one more reference to its handle, which
     * may be a handle this file already holds: the exporter's own for a buffer it exported, or an earlier import's.
     *
     * @return the GEM handle; release it with {@link #releaseImport(int)}
     */
    synchronized int importFd(int dmabuf) {
        DrmUapi.PrimeHandle p = new DrmUapi.PrimeHandle();
        p.fd = dmabuf;
        DrmUapi.ioctl(fd.get(), DrmUapi.PRIME_FD_TO_HANDLE, "DRM_IOCTL_PRIME_FD_TO_HANDLE", path + ", dma-buf fd "
                + dmabuf, p, null);
        handles.merge(p.handle, 1, Integer::sum);
        return p.handle;
    }

    /**
     * Drops one import's reference to a handle; the last reference closes it ({@code DRM_IOCTL_GEM_CLOSE}).
     *
     * @throws IllegalStateException if this file holds no reference to the handle
     */
    synchronized void releaseImport(int handle) {
        if (unref(handle) == 0) {
            gemClose(handle);
            gemCloses.incrementAndGet();
        }
    }

    /** {@code DRM_IOCTL_GEM_CLOSE}, uncounted: for {@link #releaseImport} and tests. */
    void gemClose(int handle) {
        DrmUapi.GemClose c = new DrmUapi.GemClose();
        c.handle = handle;
        DrmUapi.ioctl(fd.get(), DrmUapi.GEM_CLOSE, "DRM_IOCTL_GEM_CLOSE", path + ", handle " + handle, c, null);
    }

    /** The references this file holds to a handle: 0 when it holds none. */
    synchronized int references(int handle) {
        return handles.getOrDefault(handle, 0);
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
