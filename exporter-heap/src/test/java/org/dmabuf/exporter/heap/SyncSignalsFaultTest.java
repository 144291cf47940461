package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.FaultSignals;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code DMA_BUF_IOCTL_SYNC} interrupted by signals sent in a loop, in the kernel guest: a system-heap buffer is
 * imported into vgem ({@code PRIME_FD_TO_HANDLE}: the GEM object shares the dma-buf's reservation object) and gets
 * an unsignalled vgem write fence, so {@code beginCpuAccess(READ)} waits in the kernel
 * ({@code dma_resv_wait_timeout}, interruptible); a handler without {@code SA_RESTART} ({@link FaultSignals}) makes
 * each signal end that wait with {@code EINTR}. The project's retry must absorb every one (counted), and the
 * access starts once the fence is signalled, with the buffer's data intact.
 */
@Tag("kernel")
class SyncSignalsFaultTest {
    private static final int DRM = 'd';
    private static final int RETRIES = 3;

    /** {@code struct drm_prime_handle { __u32 handle; __u32 flags; __s32 fd; }}. */
    @FieldOrder({"handle", "flags", "fd"})
    public static class PrimeHandle extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 flags}. */
        public int flags;
        /** {@code __s32 fd}. */
        public int fd;
    }

    /** {@code struct drm_vgem_fence_attach { __u32 handle; __u32 flags; __u32 out_fence; __u32 pad; }}. */
    @FieldOrder({"handle", "flags", "out_fence", "pad"})
    public static class FenceAttach extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 flags}: {@code VGEM_FENCE_WRITE} (1). */
        public int flags;
        /** {@code __u32 out_fence}. */
        public int out_fence;
        /** {@code __u32 pad}. */
        public int pad;
    }

    /** {@code struct drm_vgem_fence_signal { __u32 fence; __u32 flags; }}; also {@code struct drm_gem_close}. */
    @FieldOrder({"fence", "flags"})
    public static class TwoU32 extends Structure {
        /** {@code __u32 fence} (or {@code handle}). */
        public int fence;
        /** {@code __u32 flags} (or {@code pad}). */
        public int flags;
    }

    /** {@code DRM_IOCTL_PRIME_FD_TO_HANDLE = DRM_IOWR(0x2e, struct drm_prime_handle)}. */
    private static final NativeLong PRIME_FD_TO_HANDLE = Ioc.request(Ioc.iowr(DRM, 0x2e, PrimeHandle.class));
    /** {@code DRM_IOCTL_GEM_CLOSE = DRM_IOW(0x09, struct drm_gem_close)}. */
    private static final NativeLong GEM_CLOSE = Ioc.request(Ioc.iow(DRM, 0x09, TwoU32.class));
    /** {@code DRM_IOCTL_VGEM_FENCE_ATTACH = DRM_IOWR(DRM_COMMAND_BASE + 1, struct drm_vgem_fence_attach)}. */
    private static final NativeLong FENCE_ATTACH = Ioc.request(Ioc.iowr(DRM, 0x41, FenceAttach.class));
    /** {@code DRM_IOCTL_VGEM_FENCE_SIGNAL = DRM_IOW(DRM_COMMAND_BASE + 2, struct drm_vgem_fence_signal)}. */
    private static final NativeLong FENCE_SIGNAL = Ioc.request(Ioc.iow(DRM, 0x42, TwoU32.class));

    @Test
    void aSyncWaitingForAFenceAndInterruptedAgainAndAgainIsRetriedUntilTheFenceSignals() throws Exception {
        // the signal library first (built with gcc, slow in the guest): vgem signals its fence itself after 10 s
        FaultSignals.lib();
        DmaHeapExporter heap = new DmaHeapExporter("/dev/dma_heap/system");
        ExecutorService signaller = Executors.newSingleThreadExecutor();
        try (StandaloneRegistry registry = new StandaloneRegistry("sync-signals").addExporter(heap,
                heap.properties(300));
             Fd vgem = Sys.open("/dev/dri/card0", LibC.O_RDWR);
             DmaBuf buf = registry.allocate(BufferRequest.ofSize(65536).name("fenced"))) {
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long i = 0; i < 65536; i += 4096) {
                    w.putLong(i, i * 7 + 1);
                }
            }
            PrimeHandle p = new PrimeHandle();
            p.fd = buf.fd();
            Sys.ioctlRetrying(vgem.get(), PRIME_FD_TO_HANDLE, "DRM_IOCTL_PRIME_FD_TO_HANDLE", "vgem", p, null, true);
            FenceAttach f = new FenceAttach();
            f.handle = p.handle;
            f.flags = 1;
            Sys.ioctlRetrying(vgem.get(), FENCE_ATTACH, "DRM_IOCTL_VGEM_FENCE_ATTACH", "vgem", f, null, true);
            try {
                long before = FaultSignals.retried();
                long handledBefore = FaultSignals.handled();
                try (FaultSignals.Sender signals = FaultSignals.interrupting(FaultSignals.tid(), 500)) {
                    // the fence is signalled once the SYNC below was interrupted and retried RETRIES times; vgem
                    // signals it itself after 10 s, and then refuses FENCE_SIGNAL with ETIMEDOUT: a successful
                    // signal proves the SYNC was still waiting for it
                    CompletableFuture<Void> signalled = CompletableFuture.runAsync(() -> {
                        await("SYNC retries under signals").atMost(Duration.ofSeconds(8))
                                .until(() -> FaultSignals.retried() - before >= RETRIES);
                        TwoU32 s = new TwoU32();
                        s.fence = f.out_fence;
                        Sys.ioctlRetrying(vgem.get(), FENCE_SIGNAL, "DRM_IOCTL_VGEM_FENCE_SIGNAL", "vgem", s, null,
                                true);
                    }, signaller);
                    try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                        for (long i = 0; i < 65536; i += 4096) {
                            assertThat(r.getLong(i)).isEqualTo(i * 7 + 1);
                        }
                    }
                    signalled.get(60, TimeUnit.SECONDS);
                    assertThat(signals.sent()).isPositive();
                }
                long retried = FaultSignals.retried() - before;
                System.out.println("SYNC under signals: " + (FaultSignals.handled() - handledBefore)
                        + " signals handled, " + retried + " interrupted calls retried");
                assertThat(retried).as("SYNC calls interrupted (EINTR) and retried").isGreaterThanOrEqualTo(RETRIES);
            } finally {
                TwoU32 c = new TwoU32();
                c.fence = p.handle;
                Sys.ioctlRetrying(vgem.get(), GEM_CLOSE, "DRM_IOCTL_GEM_CLOSE", "vgem", c, null, true);
            }
        } finally {
            signaller.shutdownNow();
            assertThat(signaller.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            heap.close();
        }
    }
}
