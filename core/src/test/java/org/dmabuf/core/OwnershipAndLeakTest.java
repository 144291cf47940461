package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.Test;

/** Per-client ownership and the leak detector. */
class OwnershipAndLeakTest extends RegistryFixture {
    @Test
    void closingAClientReleasesItsBuffersAttachmentsMappingsAndAccesses() {
        OwnerScope client = registry.open("client.bundle [42]");
        DmaBuf mine = client.allocate(BufferRequest.ofSize(8192).name("theirs"));
        Attachment a = mine.attach(Device.of("vpu", DeviceConstraints.NONE));
        SgTable t = a.map(DmaDirection.TO_DEVICE);
        CpuAccess open = mine.beginCpuAccess(SyncDirection.READ);
        DmaBuf kept = scope.get(mine.fd());
        assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
            assertThat(i.owner()).isEqualTo("client.bundle [42]");
            assertThat(i.refCount()).isEqualTo(3);
        });

        client.close();

        assertThat(t.isMapped()).isFalse();
        assertThat(a.isAttached()).isFalse();
        assertThat(mine.isPut()).isTrue();
        assertThatThrownBy(() -> open.getByte(0)).isInstanceOf(org.dmabuf.api.BufferReleasedException.class);
        assertThat(system.unmapped).hasValue(1);
        assertThat(system.detached).hasValue(1);
        assertThat(warnings).as("a careful teardown: unmap, detach, then put").isEmpty();
        assertThat(kept.refCount()).as("another client's reference keeps the buffer").isEqualTo(1);
        assertThat(system.released).hasValue(0);
        assertThatThrownBy(() -> client.allocate(BufferRequest.ofSize(4096))).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("registry of client.bundle [42] was released");
        kept.put();
        assertThat(system.released).hasValue(1);
    }

    @Test
    void aDroppedHandleIsReleasedAndReportedWithItsOrigin() {
        dropHandle(scope, "forgotten");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            System.gc();
            return registry.leakCount() == 1;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> system.released.get() == 1);
        assertThat(warnings).singleElement().asString()
                .contains("leak: a handle on buffer #1 'forgotten'")
                .contains("created by allocate in test")
                .contains("leak.trace=true");
        assertThat(registry.bufinfo()).isEmpty();
    }

    @Test
    void leakTraceRecordsTheCreationStack() {
        registry.leakTrace = true;
        dropHandle(scope, "traced");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            System.gc();
            return registry.leakCount() == 1;
        });
        assertThat(warnings).singleElement().asString()
                .contains("allocate in test on thread")
                .contains("OwnershipAndLeakTest.dropHandle");
    }

    @Test
    void aDroppedHandleFromGetNamesGetAndItsOwner() {
        try (DmaBuf kept = scope.allocate(BufferRequest.ofSize(4096).name("shared"))) {
            OwnerScope other = registry.open("other.bundle [7]");
            dropGot(other, kept.fd()); // the leak site's words are made only now, from the call and the owner
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
                System.gc();
                return registry.leakCount() == 1;
            });
            assertThat(warnings).singleElement().asString()
                    .contains("leak: a handle on buffer #1 'shared'")
                    .contains("created by get in other.bundle [7] (set");
            assertThat(kept.refCount()).isEqualTo(1);
            other.close();
        }
    }

    private static void dropGot(OwnerScope scope, int fd) {
        assertThat(scope.get(fd).refCount()).isEqualTo(2);
    }

    private static void dropHandle(OwnerScope scope, String name) {
        DmaBuf lost = scope.allocate(BufferRequest.ofSize(4096).name(name));
        assertThat(lost.isAllocated()).isTrue();
    }

    @Test
    void aHandlePutExplicitlyIsNeverReportedAsLeaked() {
        List<WeakReference<DmaBuf>> putHandles = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            DmaBuf b = scope.allocate(BufferRequest.ofSize(4096).name("put-" + i));
            b.put();
            putHandles.add(new WeakReference<>(b));
        }
        assertThat(system.released).hasValue(100);
        // a handle dropped without put(), after the others: once the cleaner reported it, and every put handle
        // was collected too, a put handle reported as leaked would have been reported by now
        dropHandle(scope, "sentinel");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            System.gc();
            return registry.leakCount() >= 1 && putHandles.stream().allMatch(r -> r.get() == null);
        });
        assertThat(registry.leakCount()).as("only the dropped handle is a leak").isEqualTo(1);
        assertThat(warnings).singleElement().asString().contains("'sentinel'");
        await().atMost(Duration.ofSeconds(5)).until(() -> system.released.get() == 101);
    }
}
