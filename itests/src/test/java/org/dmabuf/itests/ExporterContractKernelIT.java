package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.awaitility.Awaitility;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.testkit.ContractCheck;
import org.dmabuf.testkit.ExporterContract;
import org.junit.Test;
import org.junit.experimental.categories.Category;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The exporter test kit in the framework, in the kernel guest: the system heap and udmabuf exporters the heap bundle
 * discovers pass the contract, every check run (the kit reads their exp_name from their service properties).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
@Category(KernelTests.class)
public class ExporterContractKernelIT {
    @Inject
    private DmaBufRegistry registry;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base(), DmabufOptions.testKit()};
    }

    private ExporterContract contract(String name) {
        Awaitility.await("the exporter " + name).atMost(60, TimeUnit.SECONDS)
                .until(() -> registry.exporters().stream().anyMatch(e -> e.name().equals(name)));
        ExporterContract c = ExporterContract.of(registry, name);
        List<String> skipped = c.checks().stream().filter(k -> k.skipReason().isPresent()).map(ContractCheck::toString)
                .toList();
        assertEquals("checks skipped for " + name, List.of(), skipped);
        return c;
    }

    @Test
    public void theSystemHeapExporterPassesTheContract() {
        contract("system").verify();
    }

    @Test
    public void theUdmabufExporterPassesTheContract() {
        contract("udmabuf").verify();
    }
}
