/* An independent DRM_IOCTL_MODE_CREATE_DUMB through libdrm's drmIoctl: prints the pitch and size the driver
 * returns for WIDTH HEIGHT BPP on a node, then destroys the buffer. DrmFormatKernelTest compares the exporter's
 * reported layout with it. Usage: dumb_check NODE WIDTH HEIGHT BPP */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>
#include <drm_mode.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s NODE WIDTH HEIGHT BPP\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct drm_mode_create_dumb c;
    memset(&c, 0, sizeof c);
    c.width = (unsigned) strtoul(argv[2], NULL, 10);
    c.height = (unsigned) strtoul(argv[3], NULL, 10);
    c.bpp = (unsigned) strtoul(argv[4], NULL, 10);
    if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) != 0) {
        fprintf(stderr, "DRM_IOCTL_MODE_CREATE_DUMB: %s\n", strerror(errno));
        return 1;
    }
    printf("pitch %u\nsize %llu\n", c.pitch, (unsigned long long) c.size);
    struct drm_mode_destroy_dumb d = {.handle = c.handle};
    drmIoctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
    close(fd);
    return 0;
}
