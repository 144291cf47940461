/* Prints the V4L2 pixel formats and DRM fourccs of org.dmabuf.api.PixelFormat as the kernel headers define them,
 * one "NAME value" line each, for PixelFormatProbeTest. Built with -I/usr/include/libdrm (drm_fourcc.h). */
#include <stdio.h>
#include <linux/videodev2.h>
#include <drm_fourcc.h>

#define P(x) printf("%s %llu\n", #x, (unsigned long long) (x))

int main(void) {
    P(V4L2_PIX_FMT_YUYV); P(DRM_FORMAT_YUYV);
    P(V4L2_PIX_FMT_UYVY); P(DRM_FORMAT_UYVY);
    P(V4L2_PIX_FMT_NV12); P(DRM_FORMAT_NV12);
    P(V4L2_PIX_FMT_NV21); P(DRM_FORMAT_NV21);
    P(V4L2_PIX_FMT_NV16); P(DRM_FORMAT_NV16);
    P(V4L2_PIX_FMT_NV12M);
    P(V4L2_PIX_FMT_NV21M);
    P(V4L2_PIX_FMT_YUV420); P(DRM_FORMAT_YUV420);
    P(V4L2_PIX_FMT_YUV420M);
    P(V4L2_PIX_FMT_GREY); P(DRM_FORMAT_R8);
    P(V4L2_PIX_FMT_RGB24); P(DRM_FORMAT_BGR888);
    P(V4L2_PIX_FMT_BGR24); P(DRM_FORMAT_RGB888);
    P(V4L2_PIX_FMT_XBGR32); P(DRM_FORMAT_XRGB8888);
    P(V4L2_PIX_FMT_XRGB32); P(DRM_FORMAT_BGRX8888);
    P(DRM_FORMAT_MOD_LINEAR);
    P(DRM_FORMAT_MOD_INVALID);
    return 0;
}
