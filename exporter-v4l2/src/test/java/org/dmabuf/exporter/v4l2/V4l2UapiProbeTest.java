package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.dmabuf.linux.CProbe;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LinuxException;
import org.junit.jupiter.api.Test;

/** On the host: the V4L2 sizes, offsets and numbers against a C probe. */
class V4l2UapiProbeTest {
    @Test
    void everyStructSizeOffsetAndIoctlNumberEqualsTheHeaders() throws Exception {
        Map<String, Long> c = CProbe.run(Path.of("src/test/c/v4l2_probe.c"), Path.of("target/probe"));
        V4l2Uapi.Format f = new V4l2Uapi.Format();
        V4l2Uapi.Buffer b = new V4l2Uapi.Buffer();
        V4l2Uapi.Plane p = new V4l2Uapi.Plane();
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("sizeof(struct v4l2_capability)", (long) Ioc.sizeOf(V4l2Uapi.Capability.class));
        java.put("sizeof(struct v4l2_format)", (long) f.size());
        java.put("offsetof(struct v4l2_format, fmt)", (long) f.offsetOf("fmt"));
        java.put("offsetof(struct v4l2_pix_format, bytesperline)", (long) V4l2Uapi.PIX_BYTESPERLINE);
        java.put("offsetof(struct v4l2_pix_format, sizeimage)", (long) V4l2Uapi.PIX_SIZEIMAGE);
        java.put("offsetof(struct v4l2_pix_format_mplane, plane_fmt)", (long) V4l2Uapi.MP_PLANE_FMT);
        java.put("sizeof(struct v4l2_plane_pix_format)", (long) V4l2Uapi.MP_PLANE_FMT_SIZE);
        java.put("offsetof(struct v4l2_pix_format_mplane, num_planes)", (long) V4l2Uapi.MP_NUM_PLANES);
        java.put("sizeof(struct v4l2_requestbuffers)", (long) Ioc.sizeOf(V4l2Uapi.RequestBuffers.class));
        java.put("sizeof(struct v4l2_buffer)", (long) b.size());
        java.put("offsetof(struct v4l2_buffer, sequence)", (long) b.offsetOf("sequence"));
        java.put("offsetof(struct v4l2_buffer, m)", (long) b.offsetOf("m"));
        java.put("offsetof(struct v4l2_buffer, length)", (long) b.offsetOf("length"));
        java.put("sizeof(struct v4l2_plane)", (long) p.size());
        java.put("offsetof(struct v4l2_plane, data_offset)", (long) p.offsetOf("data_offset"));
        java.put("sizeof(struct v4l2_exportbuffer)", (long) Ioc.sizeOf(V4l2Uapi.ExportBuffer.class));
        V4l2Uapi.FmtDesc fd = new V4l2Uapi.FmtDesc();
        java.put("sizeof(struct v4l2_fmtdesc)", (long) fd.size());
        java.put("offsetof(struct v4l2_fmtdesc, pixelformat)", (long) fd.offsetOf("pixelformat"));
        java.put("VIDIOC_QUERYCAP", V4l2Uapi.VIDIOC_QUERYCAP);
        java.put("VIDIOC_ENUM_FMT", V4l2Uapi.VIDIOC_ENUM_FMT);
        java.put("VIDIOC_G_FMT", V4l2Uapi.VIDIOC_G_FMT);
        java.put("VIDIOC_S_FMT", V4l2Uapi.VIDIOC_S_FMT);
        java.put("VIDIOC_REQBUFS", V4l2Uapi.VIDIOC_REQBUFS);
        java.put("VIDIOC_QUERYBUF", V4l2Uapi.VIDIOC_QUERYBUF);
        java.put("VIDIOC_QBUF", V4l2Uapi.VIDIOC_QBUF);
        java.put("VIDIOC_EXPBUF", V4l2Uapi.VIDIOC_EXPBUF);
        java.put("VIDIOC_DQBUF", V4l2Uapi.VIDIOC_DQBUF);
        java.put("VIDIOC_STREAMON", V4l2Uapi.VIDIOC_STREAMON);
        java.put("VIDIOC_STREAMOFF", V4l2Uapi.VIDIOC_STREAMOFF);
        java.put("V4L2_CAP_VIDEO_CAPTURE", (long) V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE);
        java.put("V4L2_CAP_VIDEO_CAPTURE_MPLANE", (long) V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE_MPLANE);
        java.put("V4L2_CAP_STREAMING", (long) V4l2Uapi.V4L2_CAP_STREAMING);
        java.put("V4L2_CAP_DEVICE_CAPS", V4l2Uapi.V4L2_CAP_DEVICE_CAPS & 0xffffffffL);
        java.put("V4L2_BUF_TYPE_VIDEO_CAPTURE", (long) V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE);
        java.put("V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE", (long) V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
        java.put("V4L2_MEMORY_MMAP", (long) V4l2Uapi.V4L2_MEMORY_MMAP);
        java.put("V4L2_MEMORY_DMABUF", (long) V4l2Uapi.V4L2_MEMORY_DMABUF);
        java.put("V4L2_FIELD_NONE", (long) V4l2Uapi.V4L2_FIELD_NONE);
        java.put("VIDEO_MAX_PLANES", (long) V4l2Uapi.VIDEO_MAX_PLANES);
        java.put("V4L2_BUF_FLAG_QUEUED", (long) V4l2Uapi.V4L2_BUF_FLAG_QUEUED);
        java.put("V4L2_BUF_FLAG_DONE", (long) V4l2Uapi.V4L2_BUF_FLAG_DONE);
        assertThat(java).containsExactlyEntriesOf(c);
    }

    @Test
    void ioctlsAreRepeatedOnEintrButEagainIsTheCallersToDecide() {
        int[] calls = {0};
        int r = V4l2Uapi.retryingOnEintr(() -> {
            if (++calls[0] < 3) {
                throw new LinuxException("ioctl(VIDIOC_TEST)", "video", Errno.EINTR);
            }
            return 7;
        });
        assertThat(r).isEqualTo(7);
        assertThat(calls[0]).isEqualTo(3);
        calls[0] = 0;
        assertThatThrownBy(() -> V4l2Uapi.retryingOnEintr(() -> {
            calls[0]++;
            throw new LinuxException("ioctl(VIDIOC_DQBUF)", "video", Errno.EAGAIN);
        })).isInstanceOf(LinuxException.class).hasMessageContaining("ioctl(VIDIOC_DQBUF): EAGAIN");
        assertThat(calls[0]).as("EAGAIN is not retried").isEqualTo(1);
    }
}
