package org.dmabuf.exporter.drm;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import org.dmabuf.linux.Ioc;

/**
 * vgem's fences ({@code include/uapi/drm/vgem_drm.h}), which stand for a device's work on a buffer in the tests:
 * {@code DRM_IOCTL_VGEM_FENCE_ATTACH} adds an unsignalled fence to a GEM object's reservation object,
 * {@code DRM_IOCTL_VGEM_FENCE_SIGNAL} signals it. The kernel signals a fence itself after 10 s, and then refuses
 * {@code FENCE_SIGNAL} with {@code ETIMEDOUT}: a test that signals successfully knows its fence was still pending.
 * Stateless; any thread.
 */
final class VgemFence {
    /** {@code DRM_COMMAND_BASE}. */
    static final int DRM_COMMAND_BASE = 0x40;
    /** {@code DRM_IOCTL_VGEM_FENCE_ATTACH = DRM_IOWR(DRM_COMMAND_BASE + 1, struct drm_vgem_fence_attach)}. */
    static final long DRM_IOCTL_VGEM_FENCE_ATTACH = Ioc.iowr(DrmUapi.DRM_IOCTL_BASE, DRM_COMMAND_BASE + 1,
            Attach.class);
    /** {@code DRM_IOCTL_VGEM_FENCE_SIGNAL = DRM_IOW(DRM_COMMAND_BASE + 2, struct drm_vgem_fence_signal)}. */
    static final long DRM_IOCTL_VGEM_FENCE_SIGNAL = Ioc.iow(DrmUapi.DRM_IOCTL_BASE, DRM_COMMAND_BASE + 2,
            Signal.class);
    /** {@code VGEM_FENCE_WRITE}: an exclusive (write) fence; without it a shared (read) one. */
    static final int VGEM_FENCE_WRITE = 0x1;

    private static final NativeLong ATTACH = Ioc.request(DRM_IOCTL_VGEM_FENCE_ATTACH);
    private static final NativeLong SIGNAL = Ioc.request(DRM_IOCTL_VGEM_FENCE_SIGNAL);

    private VgemFence() {
    }

    /** {@code struct drm_vgem_fence_attach { __u32 handle; __u32 flags; __u32 out_fence; __u32 pad; }}. */
    @FieldOrder({"handle", "flags", "out_fence", "pad"})
    public static class Attach extends Structure {
        /** {@code __u32 handle}: the GEM handle. */
        public int handle;
        /** {@code __u32 flags}: {@code VGEM_FENCE_WRITE} or 0. */
        public int flags;
        /** {@code __u32 out_fence}: the fence's id in this DRM file, returned. */
        public int out_fence;
        /** {@code __u32 pad}: 0. */
        public int pad;
    }

    /** {@code struct drm_vgem_fence_signal { __u32 fence; __u32 flags; }}. */
    @FieldOrder({"fence", "flags"})
    public static class Signal extends Structure {
        /** {@code __u32 fence}: the id from attach. */
        public int fence;
        /** {@code __u32 flags}: 0. */
        public int flags;
    }

    /**
     * Attaches an unsignalled fence to a GEM object.
     *
     * @param device the DRM file that holds the handle
     * @param handle the GEM handle
     * @param write a write fence (readers and writers wait), else a read fence (writers wait)
     * @return the fence's id, for {@link #signal}
     */
    static int attach(DrmDevice device, int handle, boolean write) {
        Attach a = new Attach();
        a.handle = handle;
        a.flags = write ? VGEM_FENCE_WRITE : 0;
        DrmUapi.ioctl(device.fd(), ATTACH, "DRM_IOCTL_VGEM_FENCE_ATTACH", device.path() + ", handle " + handle, a,
                null);
        return a.out_fence;
    }

    /**
     * Signals a fence.
     *
     * @param device the DRM file that attached it
     * @param fence its id
     * @throws org.dmabuf.linux.LinuxException {@code ETIMEDOUT} if the kernel had signalled it already (10 s)
     */
    static void signal(DrmDevice device, int fence) {
        Signal s = new Signal();
        s.fence = fence;
        DrmUapi.ioctl(device.fd(), SIGNAL, "DRM_IOCTL_VGEM_FENCE_SIGNAL", device.path() + ", fence " + fence, s,
                null);
    }
}
