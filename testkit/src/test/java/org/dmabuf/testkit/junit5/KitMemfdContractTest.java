package org.dmabuf.testkit.junit5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.KitMemfdSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The JUnit 5 adapter as an exporter's test uses it: a few lines, one dynamic test per check. */
class KitMemfdContractTest extends ExporterContractTest {
    private final ContractRegistry registry = KitMemfdSupport.registry();
    private boolean noFrames;

    @Override
    protected ExporterContract contract() {
        return KitMemfdSupport.contract(registry).supportsFrames(!noFrames);
    }

    @Override
    protected void closeContract() {
        registry.close();
        KitMemfdSupport.closeExporter(registry);
    }

    @Test
    void aSkippedCheckIsAnAbortedTestThatSaysWhy() {
        noFrames = true;
        List<DynamicTest> tests = exporterContract().toList();
        DynamicTest frame = tests.stream().filter(t -> t.getDisplayName().startsWith("a frame")).findFirst()
                .orElseThrow();
        assertThatThrownBy(frame.getExecutable()::execute).isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("supportsFrames(false)");
        assertThat(tests).hasSize(contract().checks().size());
    }
}
