package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;

/** bind/unbind of exporter services, called directly as SCR calls them. */
class ExporterBindingTest extends RegistryFixture {
    @Test
    void orderIsRankingThenServiceId() {
        TestExporter a = new TestExporter("a", 100);
        TestExporter b = new TestExporter("b", 300);
        registry.bindExporter(a, a.props);
        registry.bindExporter(b, b.props);
        // same ranking as system (100) but a later service.id: after system
        assertThat(registry.exporters()).extracting(e -> e.name()).containsExactly("b", "system", "a", "cma");
        registry.unbindExporter(b, b.props);
        registry.unbindExporter(a, a.props);
        assertThat(registry.exporters()).extracting(e -> e.name()).containsExactly("system", "cma");
    }

    @Test
    void updatedPropertiesReorder() {
        cma.props.put(Constants.SERVICE_RANKING, 500);
        registry.updatedExporter(cma, cma.props);
        assertThat(registry.exporters()).extracting(e -> e.name()).containsExactly("cma", "system");
        assertThat(registry.exporters().get(0).contiguous()).isTrue();
        assertThat(registry.exporters().get(0).maxSize()).isEqualTo(16L << 20);
    }

    @Test
    void exporterWithoutANameIsRefusedAtBind() {
        TestExporter nameless = new TestExporter("x", 1);
        nameless.props.remove(DmaBufExporter.NAME);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> registry.bindExporter(nameless, nameless.props))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(DmaBufExporter.NAME);
    }

    @Test
    void buffersOutliveTheirExporterAndNewAllocationsGoElsewhere() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
            w.putInt(0, 0xcafe);
        }
        registry.unbindExporter(system, Map.of());
        try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
            assertThat(r.getInt(0)).isEqualTo(0xcafe);
        }
        try (DmaBuf next = scope.allocate(BufferRequest.ofSize(4096))) {
            assertThat(next.exporterService()).contains("cma");
        }
        assertThat(buf.exporterService()).contains("system");
        buf.put();
        assertThat(system.released).hasValue(1);
    }
}
