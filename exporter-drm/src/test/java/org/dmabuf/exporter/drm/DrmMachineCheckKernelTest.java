package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.dmabuf.spi.MachineCheck.Finding;
import org.dmabuf.spi.MachineCheck.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The DRM machine check on vgem, in the kernel guest: card0 has dumb buffers (made, since vgem has no modesetting
 * to answer {@code DRM_CAP_DUMB_BUFFER}) and PRIME import and export; renderD128 imports; the driver is the one the
 * kernel names to {@code DRM_IOCTL_VERSION}.
 */
@Tag("kernel")
class DrmMachineCheckKernelTest {
    @Test
    void vgemsNodesAreFoundWithTheirDriverDumbBuffersAndPrime() throws Exception {
        List<Finding> found = new DrmMachineCheck().check();
        String driver = drmVersionName("/dev/dri/card0");
        assertThat(drmVersionName("/dev/dri/renderD128")).isEqualTo(driver);
        Finding card = found.stream().filter(f -> f.subject().equals("/dev/dri/card0")).findFirst().orElseThrow();
        assertThat(card.status()).as("%s", card).isEqualTo(Status.OK);
        assertThat(card.facts()).containsEntry("driver", driver).containsEntry("node", "primary")
                .containsEntry("prime", "import,export")
                .containsEntry("dumb", "yes (no modesetting: a 1x1 dumb buffer made)");
        Finding render = found.stream().filter(f -> f.subject().equals("/dev/dri/renderD128")).findFirst()
                .orElseThrow();
        assertThat(render.status()).as("%s", render).isEqualTo(Status.OK);
        assertThat(render.facts()).containsEntry("driver", driver).containsEntry("node", "render")
                .containsEntry("dumb", "n/a (render node)");
    }

    /**
     * The driver's name as the kernel answers {@code DRM_IOCTL_VERSION} to Python's {@code fcntl.ioctl} (not this
     * project's code): vgem's device is bound to no driver in sysfs, so there is no {@code device/driver} link.
     */
    static String drmVersionName(String node) throws Exception {
        String py = "import ctypes,fcntl,os,sys\n"
                + "class V(ctypes.Structure):\n"
                + "  _fields_=[('a',ctypes.c_int),('b',ctypes.c_int),('c',ctypes.c_int),('nl',ctypes.c_size_t),"
                + "('n',ctypes.c_void_p),('dl',ctypes.c_size_t),('d',ctypes.c_void_p),('sl',ctypes.c_size_t),"
                + "('s',ctypes.c_void_p)]\n"
                + "fd=os.open(sys.argv[1],os.O_RDWR)\n"
                + "buf=ctypes.create_string_buffer(64)\n"
                + "v=V(); v.nl=63; v.n=ctypes.addressof(buf)\n"
                + "fcntl.ioctl(fd,0xC0406400,v)\n" // DRM_IOWR(0x00, struct drm_version), 64 bytes
                + "print(buf.value.decode())\n";
        Process p = new ProcessBuilder("python3", "-c", py, node).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        org.assertj.core.api.Assertions.assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        org.assertj.core.api.Assertions.assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
