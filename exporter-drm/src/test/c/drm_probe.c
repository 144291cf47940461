/* Prints the DRM struct sizes and ioctl numbers as libdrm's copy of the kernel headers defines them.
 * DrmUapiProbeTest compiles and runs this and compares every line with the Java side. */
#include <fcntl.h>
#include <drm.h>
#include <drm_mode.h>
#include <stdio.h>
#if __has_include(<vgem_drm.h>)
#include <vgem_drm.h>
#else
/* Debian's libdrm-dev ships no vgem_drm.h: the definitions of the kernel's include/uapi/drm/vgem_drm.h, with
 * DRM_IOWR, DRM_IOW and DRM_COMMAND_BASE from drm.h */
#define DRM_VGEM_FENCE_ATTACH 0x1
#define DRM_VGEM_FENCE_SIGNAL 0x2
#define DRM_IOCTL_VGEM_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, struct drm_vgem_fence_signal)
struct drm_vgem_fence_attach {
    __u32 handle;
    __u32 flags;
#define VGEM_FENCE_WRITE 0x1
    __u32 out_fence;
    __u32 pad;
};
struct drm_vgem_fence_signal {
    __u32 fence;
    __u32 flags;
};
#endif

#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))

int main(void) {
    P("sizeof(struct drm_version)", sizeof(struct drm_version));
    P("sizeof(struct drm_get_cap)", sizeof(struct drm_get_cap));
    P("sizeof(struct drm_mode_create_dumb)", sizeof(struct drm_mode_create_dumb));
    P("sizeof(struct drm_mode_map_dumb)", sizeof(struct drm_mode_map_dumb));
    P("sizeof(struct drm_mode_destroy_dumb)", sizeof(struct drm_mode_destroy_dumb));
    P("sizeof(struct drm_prime_handle)", sizeof(struct drm_prime_handle));
    P("sizeof(struct drm_gem_close)", sizeof(struct drm_gem_close));
    P("sizeof(struct drm_auth)", sizeof(struct drm_auth));
    P("DRM_IOCTL_VERSION", DRM_IOCTL_VERSION);
    P("DRM_IOCTL_GEM_CLOSE", DRM_IOCTL_GEM_CLOSE);
    P("DRM_IOCTL_GET_CAP", DRM_IOCTL_GET_CAP);
    P("DRM_IOCTL_AUTH_MAGIC", DRM_IOCTL_AUTH_MAGIC);
    P("DRM_IOCTL_SET_MASTER", DRM_IOCTL_SET_MASTER);
    P("DRM_IOCTL_DROP_MASTER", DRM_IOCTL_DROP_MASTER);
    P("DRM_IOCTL_PRIME_HANDLE_TO_FD", DRM_IOCTL_PRIME_HANDLE_TO_FD);
    P("DRM_IOCTL_PRIME_FD_TO_HANDLE", DRM_IOCTL_PRIME_FD_TO_HANDLE);
    P("DRM_IOCTL_MODE_CREATE_DUMB", DRM_IOCTL_MODE_CREATE_DUMB);
    P("DRM_IOCTL_MODE_MAP_DUMB", DRM_IOCTL_MODE_MAP_DUMB);
    P("DRM_IOCTL_MODE_DESTROY_DUMB", DRM_IOCTL_MODE_DESTROY_DUMB);
    P("DRM_CAP_DUMB_BUFFER", DRM_CAP_DUMB_BUFFER);
    P("DRM_CAP_PRIME", DRM_CAP_PRIME);
    P("DRM_PRIME_CAP_IMPORT", DRM_PRIME_CAP_IMPORT);
    P("DRM_PRIME_CAP_EXPORT", DRM_PRIME_CAP_EXPORT);
    P("DRM_CLOEXEC", DRM_CLOEXEC);
    P("DRM_RDWR", DRM_RDWR);
    P("sizeof(struct drm_vgem_fence_attach)", sizeof(struct drm_vgem_fence_attach));
    P("sizeof(struct drm_vgem_fence_signal)", sizeof(struct drm_vgem_fence_signal));
    P("DRM_IOCTL_VGEM_FENCE_ATTACH", DRM_IOCTL_VGEM_FENCE_ATTACH);
    P("DRM_IOCTL_VGEM_FENCE_SIGNAL", DRM_IOCTL_VGEM_FENCE_SIGNAL);
    P("VGEM_FENCE_WRITE", VGEM_FENCE_WRITE);
    return 0;
}
