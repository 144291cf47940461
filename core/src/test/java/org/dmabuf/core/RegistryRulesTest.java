package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rules of dma-buf.c, enforced before any exporter op runs. */
class RegistryRulesTest extends RegistryFixture {
    private static final Device DEV = Device.of("dev0", DeviceConstraints.NONE);

    @Test
    void attachMapUnmapDetachPutCallsEachOpOnce() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(8192).name("frame"));
        Attachment a = buf.attach(DEV);
        SgTable t = buf.map(a, DmaDirection.TO_DEVICE);
        assertThat(t.segments()).extracting(s -> s.length()).containsExactly(4096L, 4096L);
        assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
            assertThat(i.attachedDevices()).containsExactly("dev0");
            assertThat(i.mappings()).isEqualTo(1);
            assertThat(i.name()).isEqualTo("frame");
            assertThat(i.owner()).isEqualTo("test");
        });
        buf.unmap(t);
        assertThat(t.isMapped()).isFalse();
        a.close();
        assertThat(a.isAttached()).isFalse();
        buf.put();
        assertThat(system.attached).hasValue(1);
        assertThat(system.mapped).hasValue(1);
        assertThat(system.released).hasValue(1);
        assertThat(warnings).isEmpty();
    }

    /**
     * A null argument is a typed EINVAL naming the call and the argument, before the exporter is asked anything and
     * with nothing left tracked (the fixture checks fds and mappings after the test): it was a bare
     * NullPointerException for beginCpuAccess on a dma-buf, and an access "for null" on a memfd.
     */
    @Test
    void nullArgumentsAreRefusedTypedNamingTheCallAndNothingIsLeftBegun() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            Attachment a = buf.attach(DEV);
            int syncs = system.syncs.get();
            int mapped = system.mapped.get();
            java.util.Map<String, org.assertj.core.api.ThrowableAssert.ThrowingCallable> calls =
                    new java.util.LinkedHashMap<>();
            calls.put("beginCpuAccess: EINVAL: direction is null", () -> buf.beginCpuAccess(null));
            calls.put("map: EINVAL: direction is null", () -> buf.map(a, null));
            calls.put("map: EINVAL: direction is null ", () -> a.map(null));
            calls.put("attach: EINVAL: device is null", () -> buf.attach(null));
            calls.put("exportFence: EINVAL: direction is null", () -> buf.exportFence(null));
            calls.put("awaitIdle: EINVAL: direction is null", () -> buf.awaitIdle(null, java.time.Duration.ZERO));
            calls.put("awaitIdle: EINVAL: timeout is null", () -> buf.awaitIdle(SyncDirection.READ, null));
            calls.put("importFence: EINVAL: fence is null", () -> buf.importFence(null, SyncDirection.READ));
            calls.forEach((message, call) -> assertThatThrownBy(call).as(message)
                    .isInstanceOf(org.dmabuf.api.InvalidArgumentException.class)
                    .hasMessageContaining(message.strip()));
            assertThat(system.syncs).hasValue(syncs);
            assertThat(system.mapped).hasValue(mapped);
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
                assertThat(i.attachedDevices()).containsExactly("dev0");
                assertThat(i.mappings()).isZero();
            });
            a.close();
        }
    }

    @Test
    void mapWithoutAttachmentIsRefused() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
             DmaBuf other = scope.allocate(BufferRequest.ofSize(4096))) {
            Attachment foreign = other.attach(DEV);
            assertThatThrownBy(() -> buf.map(foreign, DmaDirection.BIDIRECTIONAL))
                    .isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("map: EINVAL")
                    .hasMessageContaining("belongs to");
            foreign.close();
            assertThatThrownBy(() -> other.map(foreign, DmaDirection.BIDIRECTIONAL))
                    .isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("attach before map");
            assertThat(system.mapped).hasValue(0);
        }
    }

    @Test
    void detachWithLiveMappingIsRefusedWithEbusy() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            Attachment a = buf.attach(DEV);
            SgTable t = a.map(DmaDirection.FROM_DEVICE);
            assertThatThrownBy(a::close).isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("detach: EBUSY").hasMessageContaining("unmap before detach");
            assertThat(a.isAttached()).isTrue();
            assertThat(system.detached).hasValue(0);
            t.close();
            a.close();
        }
    }

    @Test
    void secondUnmapIsRefusedAndCloseIsIdempotent() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            Attachment a = buf.attach(DEV);
            SgTable t = a.map(DmaDirection.FROM_DEVICE);
            buf.unmap(t);
            assertThatThrownBy(() -> buf.unmap(t)).isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("unmap: EINVAL").hasMessageContaining("already unmapped");
            t.close();
            assertThat(system.unmapped).hasValue(1);
            a.close();
            a.close();
            assertThat(system.detached).hasValue(1);
        }
    }

    @Test
    void releaseWithAttachedDeviceWarnsAndDetaches() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("careless"));
        Attachment a = buf.attach(DEV);
        SgTable t = a.map(DmaDirection.TO_DEVICE);
        buf.put();
        assertThat(warnings).singleElement().asString()
                .contains("released with device 'dev0' still attached").contains("careless");
        assertThat(a.isAttached()).isFalse();
        assertThat(t.isMapped()).isFalse();
        assertThat(system.unmapped).hasValue(1);
        assertThat(system.detached).hasValue(1);
        assertThat(system.released).hasValue(1);
    }

    @Test
    void everyCallAfterPutFails() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        MemoryView view = buf.mmap();
        buf.put();
        List<Runnable> calls = List.of(buf::get, buf::fd, buf::mmap, () -> buf.attach(DEV),
                () -> buf.beginCpuAccess(SyncDirection.READ), () -> buf.setName("x"));
        for (Runnable call : calls) {
            assertThatThrownBy(call::run).isInstanceOf(BufferReleasedException.class)
                    .hasMessageContaining("EBADF").hasMessageContaining("already put");
        }
        assertThat(buf.refCount()).isZero();
        // a view kept past the release is refused, never a crash
        assertThatThrownBy(() -> view.getByte(0)).isInstanceOf(BufferReleasedException.class)
                .hasMessageContaining("no longer mapped");
    }

    @Test
    void doublePutIsRefusedButCloseIsIdempotent() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        DmaBuf second = buf.get();
        assertThat(buf.refCount()).isEqualTo(2);
        buf.put();
        assertThatThrownBy(buf::put).isInstanceOf(BufferReleasedException.class)
                .hasMessageContaining("put: EBADF").hasMessageContaining("double put");
        buf.close();
        assertThat(second.refCount()).as("the double put must not drop the other handle's reference").isEqualTo(1);
        assertThat(system.released).hasValue(0);
        second.close();
        assertThat(system.released).hasValue(1);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void zeroAndNegativeSizesAreRefused(long size) {
        assertThatThrownBy(() -> BufferRequest.ofSize(size)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("EINVAL").hasMessageContaining("size " + size);
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void oversizedBufferIsRefusedNamingTheLimits() {
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(1L << 40)))
                .isInstanceOf(org.dmabuf.api.NoExporterException.class)
                .hasMessageContaining("ENODEV")
                .hasMessageContaining("system: size 1099511627776 exceeds the exporter's maximum of 67108864")
                .hasMessageContaining("cma: size 1099511627776 exceeds");
        assertThat(system.allocated).hasValue(0);
    }

    @Test
    void namesAreCheckedAsDmaBufSetNameChecksThem() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(4096))) {
            buf.setName("a".repeat(31));
            assertThat(buf.name()).hasSize(31);
            assertThatThrownBy(() -> buf.setName("a".repeat(32))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("DMA_BUF_NAME_LEN");
        }
    }

    @Test
    void cpuAccessChecksDirectionBoundsAndEnd() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.fill(0, 4096, (byte) 0x5a);
                w.putInt(100, 0x01020304);
                w.write(200, new byte[] {1, 2, 3}, 0, 3);
                assertThatThrownBy(() -> w.getByte(0)).isInstanceOf(DmaBufException.class)
                        .hasMessageContaining("EPERM").hasMessageContaining("not for reading");
                assertThatThrownBy(() -> w.putLong(4090, 1)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("[4090, 4090 + 8)");
            }
            assertThat(buf.refCount()).as("the access's reference is gone").isEqualTo(1);
            CpuAccess r = buf.beginCpuAccess(SyncDirection.READ);
            assertThat(buf.refCount()).isEqualTo(2);
            assertThat(r.getByte(0)).isEqualTo((byte) 0x5a);
            assertThat(r.getInt(100)).isEqualTo(0x01020304);
            byte[] three = new byte[3];
            r.read(200, three, 0, 3);
            assertThat(three).containsExactly(1, 2, 3);
            assertThatThrownBy(() -> r.putByte(0, (byte) 1)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("not for writing");
            r.close();
            r.close();
            assertThatThrownBy(() -> r.getByte(0)).isInstanceOf(BufferReleasedException.class)
                    .hasMessageContaining("has ended");
            assertThat(system.syncs).as("one START and one END per access").hasValue(4);
        }
    }

    @Test
    void mmapIsMadeOnceAndShared() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096)); DmaBuf other = buf.get()) {
            MemoryView a = buf.mmap();
            assertThat(other.mmap()).isSameAs(a);
            a.putLong(8, 42L);
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocateDirect(16);
            other.mmap().read(0, bb);
            assertThat(bb.flip().order(java.nio.ByteOrder.nativeOrder()).getLong(8)).isEqualTo(42L);
            assertThat(Leaks.memfdMappings()).isEqualTo(1);
        }
    }
}
