package org.dmabuf.exporter.drm;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.util.function.IntSupplier;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;

/**
 * The DRM UAPI of {@code <drm/drm.h>} and {@code <drm/drm_mode.h>} this exporter uses. Request numbers come from
 * {@link Ioc} with the struct sizes; a C probe checks them. Stateless; any thread (each struct instance belongs
 * to one thread).
 */
final class DrmUapi {
    static final int DRM_IOCTL_BASE = 'd';
    static final long DRM_IOCTL_VERSION = Ioc.iowr(DRM_IOCTL_BASE, 0x00, Version.class);
    static final long DRM_IOCTL_GEM_CLOSE = Ioc.iow(DRM_IOCTL_BASE, 0x09, GemClose.class);
    static final long DRM_IOCTL_GET_CAP = Ioc.iowr(DRM_IOCTL_BASE, 0x0c, GetCap.class);
    static final long DRM_IOCTL_AUTH_MAGIC = Ioc.iow(DRM_IOCTL_BASE, 0x11, Auth.class);
    static final long DRM_IOCTL_SET_MASTER = Ioc.io(DRM_IOCTL_BASE, 0x1e);
    static final long DRM_IOCTL_DROP_MASTER = Ioc.io(DRM_IOCTL_BASE, 0x1f);
    static final long DRM_IOCTL_PRIME_HANDLE_TO_FD = Ioc.iowr(DRM_IOCTL_BASE, 0x2d, PrimeHandle.class);
    static final long DRM_IOCTL_PRIME_FD_TO_HANDLE = Ioc.iowr(DRM_IOCTL_BASE, 0x2e, PrimeHandle.class);
    static final long DRM_IOCTL_MODE_CREATE_DUMB = Ioc.iowr(DRM_IOCTL_BASE, 0xB2, CreateDumb.class);
    static final long DRM_IOCTL_MODE_MAP_DUMB = Ioc.iowr(DRM_IOCTL_BASE, 0xB3, MapDumb.class);
    static final long DRM_IOCTL_MODE_DESTROY_DUMB = Ioc.iowr(DRM_IOCTL_BASE, 0xB4, DestroyDumb.class);

    static final NativeLong VERSION = Ioc.request(DRM_IOCTL_VERSION);
    static final NativeLong GEM_CLOSE = Ioc.request(DRM_IOCTL_GEM_CLOSE);
    static final NativeLong GET_CAP = Ioc.request(DRM_IOCTL_GET_CAP);
    static final NativeLong AUTH_MAGIC = Ioc.request(DRM_IOCTL_AUTH_MAGIC);
    static final NativeLong SET_MASTER = Ioc.request(DRM_IOCTL_SET_MASTER);
    static final NativeLong DROP_MASTER = Ioc.request(DRM_IOCTL_DROP_MASTER);
    static final NativeLong PRIME_HANDLE_TO_FD = Ioc.request(DRM_IOCTL_PRIME_HANDLE_TO_FD);
    static final NativeLong PRIME_FD_TO_HANDLE = Ioc.request(DRM_IOCTL_PRIME_FD_TO_HANDLE);
    static final NativeLong MODE_CREATE_DUMB = Ioc.request(DRM_IOCTL_MODE_CREATE_DUMB);
    static final NativeLong MODE_MAP_DUMB = Ioc.request(DRM_IOCTL_MODE_MAP_DUMB);
    static final NativeLong MODE_DESTROY_DUMB = Ioc.request(DRM_IOCTL_MODE_DESTROY_DUMB);

    /** {@code DRM_CAP_DUMB_BUFFER}. */
    static final long DRM_CAP_DUMB_BUFFER = 0x1;
    /** {@code DRM_CAP_PRIME}. */
    static final long DRM_CAP_PRIME = 0x5;
    /** {@code DRM_PRIME_CAP_IMPORT}. */
    static final long DRM_PRIME_CAP_IMPORT = 0x1;
    /** {@code DRM_PRIME_CAP_EXPORT}. */
    static final long DRM_PRIME_CAP_EXPORT = 0x2;
    /** {@code DRM_CLOEXEC} ({@code O_CLOEXEC}). */
    static final int DRM_CLOEXEC = 0x80000;
    /** {@code DRM_RDWR} ({@code O_RDWR}). */
    static final int DRM_RDWR = 2;

    private DrmUapi() {
    }

    /**
     * An ioctl with a struct argument, as libdrm's {@code drmIoctl} makes it: repeated while it fails with
     * {@code EINTR} or {@code EAGAIN}. The struct, and the native memory it points to ({@code keepAlive}), stay
     * reachable until the call has returned.
     *
     * @param fd the DRM fd
     * @param request the request
     * @param name its name, for errors
     * @param target the node and what the call is about, for errors
     * @param arg the argument
     * @param keepAlive native memory the struct points to, or null
     * @return what the driver returns
     * @throws LinuxException naming the ioctl, the target and errno
     */
    static int ioctl(int fd, NativeLong request, String name, String target, Structure arg, Object keepAlive) {
        return Sys.ioctlRetrying(fd, request, name, target, arg, keepAlive, true);
    }

    /** {@link #ioctl(int, NativeLong, String, String, Structure, Object)} of an ioctl without an argument. */
    static int ioctl(int fd, NativeLong request, String name, String target) {
        return retrying(() -> Sys.ioctl(fd, request, name, target, (Pointer) null));
    }

    /**
     * Runs a call again while it fails with {@code EINTR} (a signal came) or {@code EAGAIN} (the driver asks for
     * another try), as {@code drmIoctl} does; any other error is thrown.
     *
     * @param call the call
     * @return its result
     */
    static int retrying(IntSupplier call) {
        return Sys.retrying(call, true);
    }

    /**
     * {@code struct drm_version { int version_major; int version_minor; int version_patchlevel;
     * __kernel_size_t name_len; char *name; __kernel_size_t date_len; char *date; __kernel_size_t desc_len;
     * char *desc; }}. {@code __kernel_size_t} is C {@code unsigned long}, hence {@link NativeLong}.
     */
    @FieldOrder({"version_major", "version_minor", "version_patchlevel", "name_len", "name", "date_len", "date",
        "desc_len", "desc"})
    public static class Version extends Structure {
        /** {@code int version_major}. */
        public int version_major;
        /** {@code int version_minor}. */
        public int version_minor;
        /** {@code int version_patchlevel}. */
        public int version_patchlevel;
        /** {@code __kernel_size_t name_len}. */
        public NativeLong name_len = new NativeLong();
        /** {@code char *name}. */
        public Pointer name;
        /** {@code __kernel_size_t date_len}. */
        public NativeLong date_len = new NativeLong();
        /** {@code char *date}. */
        public Pointer date;
        /** {@code __kernel_size_t desc_len}. */
        public NativeLong desc_len = new NativeLong();
        /** {@code char *desc}. */
        public Pointer desc;
    }

    /** {@code struct drm_auth { drm_magic_t magic; }}: {@code drm_magic_t} is C {@code unsigned int}. */
    @FieldOrder({"magic"})
    public static class Auth extends Structure {
        /** {@code drm_magic_t magic}. */
        public int magic;
    }

    /** {@code struct drm_get_cap { __u64 capability; __u64 value; }}. */
    @FieldOrder({"capability", "value"})
    public static class GetCap extends Structure {
        /** {@code __u64 capability}. */
        public long capability;
        /** {@code __u64 value}. */
        public long value;
    }

    /**
     * {@code struct drm_mode_create_dumb { __u32 height; __u32 width; __u32 bpp; __u32 flags; __u32 handle;
     * __u32 pitch; __u64 size; }}.
     */
    @FieldOrder({"height", "width", "bpp", "flags", "handle", "pitch", "size"})
    public static class CreateDumb extends Structure {
        /** {@code __u32 height}. */
        public int height;
        /** {@code __u32 width}. */
        public int width;
        /** {@code __u32 bpp}. */
        public int bpp;
        /** {@code __u32 flags}. */
        public int flags;
        /** {@code __u32 handle}: out. */
        public int handle;
        /** {@code __u32 pitch}: out. */
        public int pitch;
        /** {@code __u64 size}: out. */
        public long size;
    }

    /** {@code struct drm_mode_map_dumb { __u32 handle; __u32 pad; __u64 offset; }}. */
    @FieldOrder({"handle", "pad", "offset"})
    public static class MapDumb extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 pad}. */
        public int pad;
        /** {@code __u64 offset}: out, the fake offset to mmap the DRM fd at. */
        public long offset;
    }

    /** {@code struct drm_mode_destroy_dumb { __u32 handle; }}. */
    @FieldOrder({"handle"})
    public static class DestroyDumb extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
    }

    /** {@code struct drm_prime_handle { __u32 handle; __u32 flags; __s32 fd; }}. */
    @FieldOrder({"handle", "flags", "fd"})
    public static class PrimeHandle extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 flags}: {@code DRM_CLOEXEC | DRM_RDWR} on export. */
        public int flags;
        /** {@code __s32 fd}. */
        public int fd;
    }

    /** {@code struct drm_gem_close { __u32 handle; __u32 pad; }}. */
    @FieldOrder({"handle", "pad"})
    public static class GemClose extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 pad}. */
        public int pad;
    }
}
