package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A registry with a "system" exporter (ranking 100, not contiguous) and a "cma" exporter (ranking 50,
 * contiguous), opened for the owner "test". After each test: every buffer released, no fd and no mapping left.
 */
abstract class RegistryFixture {
    BufferRegistry registry;
    OwnerScope scope;
    TestExporter system;
    TestExporter cma;
    final List<String> warnings = new CopyOnWriteArrayList<>();
    private long fdsBefore;

    @BeforeEach
    void setUpRegistry() {
        fdsBefore = Leaks.openFds();
        registry = new BufferRegistry();
        registry.onWarning(warnings::add);
        system = new TestExporter("system", 100).with(DmaBufExporter.MAX_SIZE, 64L << 20);
        cma = new TestExporter("cma", 50).with(DmaBufExporter.CONTIGUOUS, true)
                .with(DmaBufExporter.MAX_SIZE, 16L << 20);
        registry.bindExporter(system, system.props);
        registry.bindExporter(cma, cma.props);
        scope = registry.open("test");
    }

    @AfterEach
    void nothingLeft() {
        scope.close();
        assertThat(registry.liveCount()).as("live buffers after the test").isZero();
        assertThat(system.released).as("system releases").hasValue(system.allocated.get());
        assertThat(cma.released).as("cma releases").hasValue(cma.allocated.get());
        assertThat(system.detached).as("system detaches").hasValue(system.attached.get());
        assertThat(system.unmapped).as("system unmaps").hasValue(system.mapped.get());
        assertThat(Leaks.memfdMappings()).as("memfd mappings left").isZero();
        assertThat(Leaks.openFds()).as("open fds after the test").isEqualTo(fdsBefore);
    }
}
