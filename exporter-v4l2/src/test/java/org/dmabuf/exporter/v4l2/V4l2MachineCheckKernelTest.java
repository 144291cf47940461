package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.MachineCheck.Finding;
import org.dmabuf.spi.MachineCheck.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The V4L2 machine check on vivid, in the kernel guest: both capture nodes are found with capture, streaming,
 * EXPBUF and DMABUF import; a node whose queue another file owns answers {@code EBUSY}, which is reported as busy,
 * and the owner's buffers are left as they were.
 */
@Tag("kernel")
class V4l2MachineCheckKernelTest {
    private static Finding of(List<Finding> found, String path) {
        return found.stream().filter(f -> f.subject().equals(path)).findFirst().orElseThrow(() ->
                new AssertionError(path + " not in " + found));
    }

    @Test
    void vividsNodesCaptureStreamExportAndImport() {
        List<Finding> found = new V4l2MachineCheck().check();
        Finding v0 = of(found, "/dev/video0");
        assertThat(v0.status()).as("%s", v0).isEqualTo(Status.OK);
        assertThat(v0.facts()).containsEntry("driver", "vivid").containsEntry("capture", "yes")
                .containsEntry("streaming", "yes").containsEntry("expbuf", "yes (buffer 0 exported)")
                .containsEntry("dmabuf_import", "yes");
        assertThat(of(found, "/dev/video1").facts()).containsEntry("capture", "yes (multi-planar)");
        assertThat(found).allSatisfy(f -> assertThat(f.area()).isEqualTo("v4l2"));
    }

    @Test
    void aNodeInUseIsReportedBusyAndLeftAlone() {
        try (V4l2Device owner = new V4l2Device("/dev/video0")) {
            int granted = owner.requestBuffers(2, V4l2Uapi.V4L2_MEMORY_MMAP);
            assertThat(granted).isPositive();
            Finding busy = of(new V4l2MachineCheck().check(), "/dev/video0");
            assertThat(busy.status()).as("%s", busy).isEqualTo(Status.FAILED);
            assertThat(busy.facts()).containsEntry("busy", "yes (EBUSY)").containsEntry("capture", "yes")
                    .doesNotContainKey("expbuf");
            assertThat(busy.summary()).contains("busy: another process streams from it");
            try (Fd exported = owner.export(granted - 1, 0)) {
                assertThat(Sys.fstat(exported.get()).size()).as("the owner's last buffer is still there")
                        .isPositive();
            }
            owner.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_MMAP);
        }
        assertThat(of(new V4l2MachineCheck().check(), "/dev/video0").status()).as("free again").isEqualTo(Status.OK);
    }
}
