package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ConstraintException;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.NoExporterException;
import org.dmabuf.api.SgTable;
import org.junit.jupiter.api.Test;

/** Late allocation: storage chosen at first use to satisfy every device attached before. */
class LateAllocationTest extends RegistryFixture {
    private static final Device PLAIN = Device.of("gpu", DeviceConstraints.NONE);
    private static final Device NO_IOMMU = Device.of("isp", DeviceConstraints.builder().contiguous(true).build());

    @Test
    void createDoesNotAllocateUntilFirstUse() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(1 << 20).name("late"))) {
            assertThat(buf.isAllocated()).isFalse();
            assertThat(buf.inode()).isZero();
            assertThat(buf.exporterService()).isEmpty();
            Attachment a = buf.attach(PLAIN);
            assertThat(system.allocated.get() + cma.allocated.get()).isZero();
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
                assertThat(i.kind()).isEqualTo("pending");
                assertThat(i.attachedDevices()).containsExactly("gpu");
            });
            SgTable t = a.map(DmaDirection.BIDIRECTIONAL);
            assertThat(buf.isAllocated()).isTrue();
            assertThat(buf.exporterService()).contains("system");
            assertThat(buf.inode()).isPositive();
            assertThat(system.attached).as("the early attachment reached the exporter at commit").hasValue(1);
            assertThat(system.requests).singleElement().satisfies(r -> assertThat(r.name()).isEqualTo("late"));
            t.close();
            a.close();
        }
    }

    @Test
    void noConstraintsPicksTheBestRankedExporter() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(4096))) {
            buf.fd();
            assertThat(buf.exporterService()).contains("system");
        }
    }

    @Test
    void contiguousDeviceMakesTheLowerRankedContiguousExporterWin() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(1 << 20))) {
            Attachment gpu = buf.attach(PLAIN);
            Attachment isp = buf.attach(NO_IOMMU);
            SgTable t = isp.map(DmaDirection.FROM_DEVICE);
            assertThat(buf.exporterService()).contains("cma");
            assertThat(t.segments()).as("contiguous: one segment").hasSize(1);
            assertThat(cma.requests).singleElement()
                    .satisfies(r -> assertThat(r.constraints().contiguous()).isTrue());
            assertThat(cma.attached).hasValue(2);
            t.close();
            isp.close();
            gpu.close();
        }
    }

    @Test
    void segmentCountLimitIsPartOfTheChoice() {
        Device fewSegments = Device.of("dma-engine", DeviceConstraints.builder().maxSegmentCount(4).build());
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(64 * 1024))) {
            Attachment a = buf.attach(fewSegments);
            SgTable t = a.map(DmaDirection.TO_DEVICE);
            assertThat(buf.exporterService()).as("16 pages of system heap exceed 4 segments").contains("cma");
            assertThat(t.segments()).hasSizeLessThanOrEqualTo(4);
            t.close();
            a.close();
        }
    }

    @Test
    void attachAfterCommitThatStorageCannotServeIsRefusedWithEbusy() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(4096).name("committed"))) {
            Attachment gpu = buf.attach(PLAIN);
            gpu.map(DmaDirection.TO_DEVICE).close();
            assertThatThrownBy(() -> buf.attach(NO_IOMMU)).isInstanceOf(ConstraintException.class)
                    .hasMessageContaining("attach: EBUSY")
                    .hasMessageContaining("device 'isp'")
                    .hasMessageContaining("physically contiguous memory is required but exporter 'system'")
                    .hasMessageContaining("'committed'");
            assertThat(system.attached).as("the refused device never reached the exporter").hasValue(1);
            assertThat(registry.bufinfo()).singleElement()
                    .satisfies(i -> assertThat(i.attachedDevices()).containsExactly("gpu"));
            gpu.close();
        }
    }

    @Test
    void explicitExporterIsUsedEvenIfRankedLower() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).exporter("cma"))) {
            assertThat(buf.exporterService()).contains("cma");
        }
    }

    @Test
    void explicitExporterThatIsAbsentIsNamed() {
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(4096).exporter("linux,cma")))
                .isInstanceOf(NoExporterException.class).hasMessageContaining("ENODEV")
                .hasMessageContaining("exporter 'linux,cma'").hasMessageContaining("registered: system, cma");
    }

    @Test
    void explicitExporterThatCannotServeTheConstraintsIsRefused() {
        try (DmaBuf buf = scope.create(BufferRequest.ofSize(4096).exporter("system"))) {
            buf.attach(NO_IOMMU);
            assertThatThrownBy(buf::fd).isInstanceOf(NoExporterException.class)
                    .hasMessageContaining("system: physically contiguous memory is required");
            assertThat(buf.isAllocated()).isFalse();
        }
    }

    @Test
    void failedAllocationFallsBackToTheNextExporter() {
        system.failAllocation = new DmaBufException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOMEM", "heap exhausted");
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096))) {
            assertThat(buf.exporterService()).contains("cma");
        }
    }

    @Test
    void everyExporterFailingIsEnomemWithEachFailureAttached() {
        system.failAllocation = new DmaBufException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOMEM", "system exhausted");
        cma.failAllocation = new DmaBufException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOMEM", "CMA exhausted");
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(4096)))
                .isInstanceOf(NoExporterException.class).hasMessageContaining("allocate: ENOMEM")
                .hasMessageContaining("CMA exhausted")
                .satisfies(e -> assertThat(e.getSuppressed()).hasSize(2));
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void noExporterAtAll() {
        registry.unbindExporter(system, system.props);
        registry.unbindExporter(cma, cma.props);
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(4096)))
                .isInstanceOf(NoExporterException.class).hasMessageContaining("no exporter is registered");
    }
}
