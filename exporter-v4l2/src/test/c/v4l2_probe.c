/* Prints the V4L2 struct sizes, offsets and ioctl numbers as <linux/videodev2.h> defines them.
 * V4l2UapiProbeTest compiles and runs this and compares every line with the Java side. */
#include <linux/videodev2.h>
#include <stddef.h>
#include <stdio.h>

#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))

int main(void) {
    P("sizeof(struct v4l2_capability)", sizeof(struct v4l2_capability));
    P("sizeof(struct v4l2_format)", sizeof(struct v4l2_format));
    P("offsetof(struct v4l2_format, fmt)", offsetof(struct v4l2_format, fmt));
    P("offsetof(struct v4l2_pix_format, bytesperline)", offsetof(struct v4l2_pix_format, bytesperline));
    P("offsetof(struct v4l2_pix_format, sizeimage)", offsetof(struct v4l2_pix_format, sizeimage));
    P("offsetof(struct v4l2_pix_format_mplane, plane_fmt)", offsetof(struct v4l2_pix_format_mplane, plane_fmt));
    P("sizeof(struct v4l2_plane_pix_format)", sizeof(struct v4l2_plane_pix_format));
    P("offsetof(struct v4l2_pix_format_mplane, num_planes)", offsetof(struct v4l2_pix_format_mplane, num_planes));
    P("sizeof(struct v4l2_requestbuffers)", sizeof(struct v4l2_requestbuffers));
    P("sizeof(struct v4l2_buffer)", sizeof(struct v4l2_buffer));
    P("offsetof(struct v4l2_buffer, sequence)", offsetof(struct v4l2_buffer, sequence));
    P("offsetof(struct v4l2_buffer, m)", offsetof(struct v4l2_buffer, m));
    P("offsetof(struct v4l2_buffer, length)", offsetof(struct v4l2_buffer, length));
    P("sizeof(struct v4l2_plane)", sizeof(struct v4l2_plane));
    P("offsetof(struct v4l2_plane, data_offset)", offsetof(struct v4l2_plane, data_offset));
    P("sizeof(struct v4l2_exportbuffer)", sizeof(struct v4l2_exportbuffer));
    P("sizeof(struct v4l2_fmtdesc)", sizeof(struct v4l2_fmtdesc));
    P("offsetof(struct v4l2_fmtdesc, pixelformat)", offsetof(struct v4l2_fmtdesc, pixelformat));
    P("VIDIOC_QUERYCAP", VIDIOC_QUERYCAP);
    P("VIDIOC_ENUM_FMT", VIDIOC_ENUM_FMT);
    P("VIDIOC_G_FMT", VIDIOC_G_FMT);
    P("VIDIOC_S_FMT", VIDIOC_S_FMT);
    P("VIDIOC_REQBUFS", VIDIOC_REQBUFS);
    P("VIDIOC_QUERYBUF", VIDIOC_QUERYBUF);
    P("VIDIOC_QBUF", VIDIOC_QBUF);
    P("VIDIOC_EXPBUF", VIDIOC_EXPBUF);
    P("VIDIOC_DQBUF", VIDIOC_DQBUF);
    P("VIDIOC_STREAMON", VIDIOC_STREAMON);
    P("VIDIOC_STREAMOFF", VIDIOC_STREAMOFF);
    P("V4L2_CAP_VIDEO_CAPTURE", V4L2_CAP_VIDEO_CAPTURE);
    P("V4L2_CAP_VIDEO_CAPTURE_MPLANE", V4L2_CAP_VIDEO_CAPTURE_MPLANE);
    P("V4L2_CAP_STREAMING", V4L2_CAP_STREAMING);
    P("V4L2_CAP_DEVICE_CAPS", V4L2_CAP_DEVICE_CAPS);
    P("V4L2_BUF_TYPE_VIDEO_CAPTURE", V4L2_BUF_TYPE_VIDEO_CAPTURE);
    P("V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE", V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
    P("V4L2_MEMORY_MMAP", V4L2_MEMORY_MMAP);
    P("V4L2_MEMORY_DMABUF", V4L2_MEMORY_DMABUF);
    P("V4L2_FIELD_NONE", V4L2_FIELD_NONE);
    P("VIDEO_MAX_PLANES", VIDEO_MAX_PLANES);
    P("V4L2_BUF_FLAG_QUEUED", V4L2_BUF_FLAG_QUEUED);
    P("V4L2_BUF_FLAG_DONE", V4L2_BUF_FLAG_DONE);
    return 0;
}
