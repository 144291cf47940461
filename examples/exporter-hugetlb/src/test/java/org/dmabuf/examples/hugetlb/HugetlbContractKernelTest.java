package org.dmabuf.examples.hugetlb;

import java.util.Map;
import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The exporter contract of {@code org.dmabuf.testkit}, run in the kernel guest against the exporter of the default
 * huge page pool, with pages reserved for it. Every check applies to a memfd but {@code DMA_BUF_IOCTL_SYNC}'s, which
 * the kit skips for memfd exporters.
 */
@Tag("kernel")
class HugetlbContractKernelTest extends ExporterContractTest {
    private static AutoCloseable reserved;
    private ContractRegistry registry;

    @BeforeAll
    static void reserve() throws Exception {
        reserved = KernelPages.reserve(16);
    }

    @AfterAll
    static void restore() throws Exception {
        reserved.close();
    }

    @Override
    protected ExporterContract contract() {
        HugetlbExporter exporter = HugetlbExporterComponent.open(KernelPages.config(Map.of()), HugePages.SYSFS,
                HugePages.MEMINFO);
        registry = ContractRegistry.of(exporter, exporter.properties(50));
        return ExporterContract.of(registry.registry(), "hugetlb-2MB").sizes(1, 2L << 20, (2L << 20) + 1);
    }

    @Override
    protected void closeContract() {
        registry.close();
    }
}
