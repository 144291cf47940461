package org.dmabuf.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.dmabuf.testkit.ContractCheck.Skipped;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The kit judges: a sound exporter passes every check, and an exporter broken on purpose fails the check named for
 * what it broke, with a message naming the exporter and the kernel's view.
 */
class ExporterContractTest {
    private final KitMemfdExporter exporter = new KitMemfdExporter();
    private final ContractRegistry registry = ContractRegistry.of(exporter, KitMemfdExporter.properties());

    @AfterEach
    void close() {
        registry.close();
        exporter.close();
    }

    @Test
    void aSoundMemfdExporterPassesEveryCheckAndOnlyTheDmaBufSyncCheckIsSkipped() {
        ExporterContract contract = ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE);
        List<ContractCheck> checks = contract.checks();
        assertThat(checks).filteredOn(c -> c.skipReason().isPresent()).singleElement()
                .satisfies(c -> assertThat(c.skipReason()).contains("a memfd has no DMA_BUF_IOCTL_SYNC"));
        assertThat(checks).extracting(ContractCheck::name).doesNotHaveDuplicates()
                .anyMatch(n -> n.contains("10000 bytes")).anyMatch(n -> n.contains("released"));
        contract.verify();
    }

    @Test
    void anExporterHandingOutMemoryThatIsNotZeroFailsTheZerosChecksNamingTheExporterAndTheOffset() {
        exporter.fill = 0x5a;
        assertThatThrownBy(ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE).sizes(4096)::verify)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("exporter 'kit-memfd' failed 2 of")
                .hasMessageContaining("a new buffer of 4096 bytes reads as zeros on every page [exporter kit-memfd]")
                .hasMessageContaining("holds 0x5a at offset 0");
    }

    @Test
    void anExporterKeepingTheFdAfterTheReleaseFailsTheReleaseCheckWithTheKernelsFdTable() {
        exporter.leak = true;
        ContractCheck release = ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE).checks()
                .stream().filter(c -> c.name().startsWith("a released buffer")).findFirst().orElseThrow();
        assertThatThrownBy(release::run).isInstanceOf(AssertionError.class)
                .hasMessageContaining("[exporter kit-memfd]")
                .hasMessageContaining("after the release the process still holds the buffer")
                .hasMessageContaining("/proc/self/fd: [").hasMessageContaining("/memfd:kit:contract-release");
    }

    @Test
    void anExporterHandingAReleasedBuffersStorageOutAgainUnclearedFailsTheReuseCheckAndMayDeclareIt() {
        exporter.recycle = true;
        String reuse = "bytes a released buffer held read as zeros in the next buffer handed out of that size";
        ContractCheck check = ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE).checks().stream()
                .filter(c -> c.name().equals(reuse)).findFirst().orElseThrow();
        assertThatThrownBy(check::run).isInstanceOf(AssertionError.class)
                .hasMessageContaining(reuse + " [exporter kit-memfd]")
                .hasMessageContaining("holds 0xa5 at offset 0 (the same storage, handed out again)");
        assertThat(ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE).zeroesReusedMemory(false)
                .checks()).filteredOn(c -> c.name().equals(reuse)).singleElement()
                .satisfies(c -> assertThat(c.skipReason()).contains("the exporter declared zeroesReusedMemory(false)"));
    }

    @Test
    void aCapabilityDeclaredMissingSkipsItsChecksSayingWhy() throws Exception {
        List<ContractCheck> checks = ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE)
                .supportsAttach(false).supportsImport(false).supportsFrames(false).checks();
        List<ContractCheck> skipped = checks.stream().filter(c -> c.skipReason().isPresent()).toList();
        assertThat(skipped).extracting(c -> c.skipReason().get()).containsExactly(
                "a memfd has no DMA_BUF_IOCTL_SYNC", "the exporter declared supportsAttach(false)",
                "the exporter declared supportsAttach(false)",
                "the exporter declared supportsImport(false)", "the exporter declared supportsFrames(false)");
        assertThatThrownBy(skipped.get(1)::run).isInstanceOf(Skipped.class)
                .hasMessageContaining("skipped: the exporter declared supportsAttach(false)");
    }

    @Test
    void anExporterTheRegistryDoesNotHaveFailsNamingThoseItHas() {
        assertThatThrownBy(ExporterContract.of(registry.registry(), "nosuch").sizes(1)::verify)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("no exporter named 'nosuch'").hasMessageContaining("[kit-memfd]");
    }

    @Test
    void badOptionsAreRefused() {
        ExporterContract c = ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE);
        assertThatThrownBy(() -> c.sizes()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.sizes(4096, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[4096, 0]");
    }
}
