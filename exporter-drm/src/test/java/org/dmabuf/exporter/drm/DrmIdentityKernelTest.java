package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;

import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.InodeCollision;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A vgem dumb buffer's dma-buf and a memfd with the same inode number stay two buffers, in the kernel guest: the
 * registry knows both by ({@code st_dev}, {@code st_ino}).
 */
@Tag("kernel")
class DrmIdentityKernelTest {
    @Test
    void aVgemDmaBufAndAMemfdWithTheSameInodeNumberStayApart() {
        long fdsBefore = TestSupport.openFds();
        try (DrmDevice device = new DrmDevice("/dev/dri/card0");
             StandaloneRegistry registry = new StandaloneRegistry("identity")) {
            DrmExporter vgem = new DrmExporter(device);
            registry.addExporter(vgem, vgem.properties(150));
            DmaBuf[] both = InodeCollision.make(
                    new InodeCollision.Side(() -> receivedMemfd(registry), InodeCollision::advanceMemfd),
                    new InodeCollision.Side(() -> fill(registry.allocate(BufferRequest.ofSize(4096)
                            .name("vgem-side")), 0x22), InodeCollision::advanceDmaBuf));
            try (DmaBuf memfd = both[0]; DmaBuf dumb = both[1]) {
                assertThat(dumb.inode()).isEqualTo(memfd.inode());
                assertThat(dumb.id()).isNotEqualTo(memfd.id());
                try (Fd d = Sys.dup(dumb.fd(), "vgem dma-buf"); DmaBuf got = registry.get(d.get())) {
                    assertThat(got.id()).isEqualTo(dumb.id());
                    assertThat(got.kind()).contains(BufferKind.DMA_BUF);
                    assertThat(got.exporterName()).contains("drm");
                    assertThat(got.exporterService()).contains("drm:vgem:card0");
                    assertThat(read(got)).as("the vgem buffer's bytes").isEqualTo(0x22);
                }
                try (Fd m = Sys.dup(memfd.fd(), "memfd"); DmaBuf got = registry.get(m.get())) {
                    assertThat(got.id()).isEqualTo(memfd.id());
                    assertThat(got.kind()).contains(BufferKind.MEMFD);
                    assertThat(read(got)).as("the memfd's bytes").isEqualTo(0x11);
                }
            }
        }
        assertThat(TestSupport.openFds()).as("fds left open").isEqualTo(fdsBefore);
    }

    /** A memfd as a peer would send it, turned into a buffer with get(fd). */
    private static DmaBuf receivedMemfd(StandaloneRegistry registry) {
        try (Fd f = Sys.memfd("peer", LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(f.get(), 4096);
            return fill(registry.get(f.get()), 0x11);
        }
    }

    private static DmaBuf fill(DmaBuf b, int value) {
        try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
            w.fill(0, b.size(), (byte) value);
        }
        return b;
    }

    private static int read(DmaBuf b) {
        try (CpuAccess r = b.beginCpuAccess(SyncDirection.READ)) {
            return r.getByte(100) & 0xff;
        }
    }
}
