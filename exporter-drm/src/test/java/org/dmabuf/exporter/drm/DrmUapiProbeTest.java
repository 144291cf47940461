package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.dmabuf.linux.CProbe;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LinuxException;
import org.junit.jupiter.api.Test;

/** On the host: the DRM numbers against a C probe, and the dumb shapes. */
class DrmUapiProbeTest {
    @Test
    void everyStructSizeAndIoctlNumberEqualsTheHeaders() throws Exception {
        Map<String, Long> c = CProbe.run(Path.of("src/test/c/drm_probe.c"), Path.of("target/probe"),
                "-I/usr/include/libdrm");
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("sizeof(struct drm_version)", (long) Ioc.sizeOf(DrmUapi.Version.class));
        java.put("sizeof(struct drm_get_cap)", (long) Ioc.sizeOf(DrmUapi.GetCap.class));
        java.put("sizeof(struct drm_mode_create_dumb)", (long) Ioc.sizeOf(DrmUapi.CreateDumb.class));
        java.put("sizeof(struct drm_mode_map_dumb)", (long) Ioc.sizeOf(DrmUapi.MapDumb.class));
        java.put("sizeof(struct drm_mode_destroy_dumb)", (long) Ioc.sizeOf(DrmUapi.DestroyDumb.class));
        java.put("sizeof(struct drm_prime_handle)", (long) Ioc.sizeOf(DrmUapi.PrimeHandle.class));
        java.put("sizeof(struct drm_gem_close)", (long) Ioc.sizeOf(DrmUapi.GemClose.class));
        java.put("sizeof(struct drm_auth)", (long) Ioc.sizeOf(DrmUapi.Auth.class));
        java.put("DRM_IOCTL_VERSION", DrmUapi.DRM_IOCTL_VERSION);
        java.put("DRM_IOCTL_GEM_CLOSE", DrmUapi.DRM_IOCTL_GEM_CLOSE);
        java.put("DRM_IOCTL_GET_CAP", DrmUapi.DRM_IOCTL_GET_CAP);
        java.put("DRM_IOCTL_AUTH_MAGIC", DrmUapi.DRM_IOCTL_AUTH_MAGIC);
        java.put("DRM_IOCTL_SET_MASTER", DrmUapi.DRM_IOCTL_SET_MASTER);
        java.put("DRM_IOCTL_DROP_MASTER", DrmUapi.DRM_IOCTL_DROP_MASTER);
        java.put("DRM_IOCTL_PRIME_HANDLE_TO_FD", DrmUapi.DRM_IOCTL_PRIME_HANDLE_TO_FD);
        java.put("DRM_IOCTL_PRIME_FD_TO_HANDLE", DrmUapi.DRM_IOCTL_PRIME_FD_TO_HANDLE);
        java.put("DRM_IOCTL_MODE_CREATE_DUMB", DrmUapi.DRM_IOCTL_MODE_CREATE_DUMB);
        java.put("DRM_IOCTL_MODE_MAP_DUMB", DrmUapi.DRM_IOCTL_MODE_MAP_DUMB);
        java.put("DRM_IOCTL_MODE_DESTROY_DUMB", DrmUapi.DRM_IOCTL_MODE_DESTROY_DUMB);
        java.put("DRM_CAP_DUMB_BUFFER", DrmUapi.DRM_CAP_DUMB_BUFFER);
        java.put("DRM_CAP_PRIME", DrmUapi.DRM_CAP_PRIME);
        java.put("DRM_PRIME_CAP_IMPORT", DrmUapi.DRM_PRIME_CAP_IMPORT);
        java.put("DRM_PRIME_CAP_EXPORT", DrmUapi.DRM_PRIME_CAP_EXPORT);
        java.put("DRM_CLOEXEC", (long) DrmUapi.DRM_CLOEXEC);
        java.put("DRM_RDWR", (long) DrmUapi.DRM_RDWR);
        java.put("sizeof(struct drm_vgem_fence_attach)", (long) Ioc.sizeOf(VgemFence.Attach.class));
        java.put("sizeof(struct drm_vgem_fence_signal)", (long) Ioc.sizeOf(VgemFence.Signal.class));
        java.put("DRM_IOCTL_VGEM_FENCE_ATTACH", VgemFence.DRM_IOCTL_VGEM_FENCE_ATTACH);
        java.put("DRM_IOCTL_VGEM_FENCE_SIGNAL", VgemFence.DRM_IOCTL_VGEM_FENCE_SIGNAL);
        java.put("VGEM_FENCE_WRITE", (long) VgemFence.VGEM_FENCE_WRITE);
        assertThat(java).containsExactlyEntriesOf(c);
    }

    @Test
    void ioctlsAreRepeatedOnEintrAndEagainAsDrmIoctlDoesAndOtherErrorsAreThrown() {
        int[] calls = {0};
        int r = DrmUapi.retrying(() -> {
            calls[0]++;
            if (calls[0] == 1) {
                throw new LinuxException("ioctl(DRM_IOCTL_TEST)", "card", Errno.EINTR);
            }
            if (calls[0] == 2) {
                throw new LinuxException("ioctl(DRM_IOCTL_TEST)", "card", Errno.EAGAIN);
            }
            return 42;
        });
        assertThat(r).isEqualTo(42);
        assertThat(calls[0]).isEqualTo(3);
        calls[0] = 0;
        assertThatThrownBy(() -> DrmUapi.retrying(() -> {
            calls[0]++;
            throw new LinuxException("ioctl(DRM_IOCTL_TEST)", "card", Errno.EINVAL);
        })).isInstanceOf(LinuxException.class).hasMessageContaining("ioctl(DRM_IOCTL_TEST): EINVAL");
        assertThat(calls[0]).isEqualTo(1);
    }

    @Test
    void aByteSizeBecomesPageWideLinesAndAFormatItsOwnShape() {
        assertThat(DrmExporter.shape(1, null)).containsExactly(1024, 1, 32);
        assertThat(DrmExporter.shape(4096 * 3 + 1, null)).containsExactly(1024, 4, 32);
        BufferFormat yuyv = new BufferFormat(BufferFormat.fourcc("YUYV"), 640, 480,
                List.of(new Plane(0, 640 * 480 * 2, 1280)));
        assertThat(DrmExporter.shape(640 * 480 * 2, yuyv)).containsExactly(640, 480, 16);
        // a fourcc outside the table: only a single-plane one of known bits per pixel
        BufferFormat nv24 = new BufferFormat(BufferFormat.fourcc("NV24"), 64, 64, List.of(new Plane(0, 4096, 64)));
        assertThatThrownBy(() -> DrmExporter.shape(12288, nv24)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("'NV24' is not a single-plane format");
    }

    @Test
    void aFormatOfTheTableGetsGbmsDumbShape() {
        assertThat(DrmExporter.dumbBpp(PixelFormat.NV12)).isEqualTo(8);
        assertThat(DrmExporter.dumbBpp(PixelFormat.YUYV)).isEqualTo(16);
        assertThat(DrmExporter.dumbBpp(PixelFormat.RGB24)).isEqualTo(24);
        assertThat(DrmExporter.dumbBpp(PixelFormat.XBGR32)).isEqualTo(32);
        assertThat(DrmExporter.dumbHeight(PixelFormat.NV12, 1080)).isEqualTo(1620);
        assertThat(DrmExporter.dumbHeight(PixelFormat.NV21, 481)).isEqualTo(722);
        assertThat(DrmExporter.dumbHeight(PixelFormat.NV16, 240)).isEqualTo(480);
        assertThat(DrmExporter.dumbHeight(PixelFormat.YUV420, 480)).isEqualTo(720);
        assertThat(DrmExporter.dumbHeight(PixelFormat.YUV420, 481)).isEqualTo(722);
        assertThat(DrmExporter.dumbHeight(PixelFormat.YUYV, 480)).isEqualTo(480);
        assertThat(DrmExporter.dumbWidth(PixelFormat.NV12, 641)).isEqualTo(642);
        assertThat(DrmExporter.dumbWidth(PixelFormat.XBGR32, 641)).isEqualTo(641);
        assertThat(DrmExporter.pitchMultiple(PixelFormat.NV12, 256)).isEqualTo(256);
        assertThat(DrmExporter.pitchMultiple(PixelFormat.YUV420, 256)).isEqualTo(512);
        assertThat(DrmExporter.pitchMultiple(PixelFormat.RGB24, 1)).isEqualTo(1);
        assertThat(DrmExporter.widerWidth(PixelFormat.NV12, 642, 256)).isEqualTo(768);
        assertThat(DrmExporter.widerWidth(PixelFormat.RGB24, 300, 256)).as("768 bytes: 256 pixels of 3")
                .isEqualTo(256);
        assertThat(DrmExporter.widerWidth(PixelFormat.XBGR32, 400, 256)).isEqualTo(128);
    }

    @Test
    void theLayoutFollowsThePitchWithTheChromaPlanesBelowTheLuma() {
        BufferFormat nv12 = DrmExporter.layout(PixelFormat.NV12, 641, 480, 704);
        assertThat(nv12.planes()).containsExactly(new Plane(0, 0, 704L * 480, 704),
                new Plane(0, 704L * 480, 704L * 240, 704));
        BufferFormat yuv420 = DrmExporter.layout(PixelFormat.YUV420, 640, 481, 640);
        assertThat(yuv420.planes()).containsExactly(new Plane(0, 0, 640L * 481, 640),
                new Plane(0, 640L * 481, 320L * 241, 320), new Plane(0, 640L * 481 + 320L * 241, 320L * 241, 320));
        assertThat(DrmExporter.layout(PixelFormat.NV12, 641, 480, 641)).as("641 bytes hold no chroma line of 642")
                .isNull();
        assertThat(DrmExporter.layout(PixelFormat.YUV420, 640, 480, 641)).as("an odd pitch has no half").isNull();
    }
}
