package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FenceUnsupportedException;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Test;

/**
 * On the host, with memfd buffers: the fence calls of {@link DmaBuf} refuse a buffer that is no dma-buf with a
 * {@link FenceUnsupportedException} the caller can fall back on, leave nothing open, and a memfd is idle at once.
 */
class FenceApiTest extends RegistryFixture {
    @Test
    void exportAndImportOnAMemfdBufferAreUnsupportedWithEnotty() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("cpu-only"))) {
            for (SyncDirection d : SyncDirection.values()) {
                assertThatThrownBy(() -> buf.exportFence(d)).isInstanceOf(FenceUnsupportedException.class)
                        .hasMessageContaining("ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE): ENOTTY")
                        .hasMessageContaining("(fd " + buf.fd() + ")").hasMessageContaining("use CPU sync");
            }
            assertThat(TestSupport.syncFiles()).isZero();
            buf.awaitIdle(SyncDirection.READ, Duration.ZERO);
            buf.awaitIdle(SyncDirection.READ_WRITE, Duration.ZERO);
        }
    }

    @Test
    void fenceCallsOnAPutHandleAreRefused() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        buf.put();
        assertThatThrownBy(() -> buf.exportFence(SyncDirection.READ)).isInstanceOf(BufferReleasedException.class)
                .hasMessageStartingWith("exportFence");
        assertThatThrownBy(() -> buf.awaitIdle(SyncDirection.READ, Duration.ZERO))
                .isInstanceOf(BufferReleasedException.class).hasMessageStartingWith("awaitIdle");
        assertThatThrownBy(() -> buf.importFence(null, SyncDirection.READ))
                .isInstanceOf(BufferReleasedException.class).hasMessageStartingWith("importFence");
    }
}
