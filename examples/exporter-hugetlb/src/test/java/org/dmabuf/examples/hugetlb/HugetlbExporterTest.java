package org.dmabuf.examples.hugetlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.exporter.heap.HeapExporters;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.MachineCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The huge-page exporter on the build host, which has huge page pools in sysfs but (as a rule) no page in them:
 * the pools are found and their memfds made, and an allocation is the typed {@code ENOSPC} that says how to reserve
 * pages, leaving no fd and no mapping. The guest ({@link HugetlbKernelTest}) reserves pages and allocates.
 */
class HugetlbExporterTest {
    @TempDir
    Path tmp;

    private Path meminfo(long kb) throws Exception {
        Path m = tmp.resolve("meminfo");
        Files.writeString(m, "MemTotal:       1000 kB\nHugepagesize:       " + kb + " kB\n");
        return m;
    }

    private Path sysfs(long... kbs) throws Exception {
        Path s = Files.createDirectories(tmp.resolve("hugepages"));
        for (long kb : kbs) {
            Files.createDirectories(s.resolve("hugepages-" + kb + "kB"));
        }
        return s;
    }

    @Test
    void activationWithoutHugePagesInTheKernelIsENOENTNamingTheFolder() throws Exception {
        Path absent = tmp.resolve("no-hugepages");
        assertThatThrownBy(() -> HugetlbExporterComponent.open(KernelPages.config(Map.of()), absent, meminfo(2048)))
                .isInstanceOfSatisfying(LinuxException.class, e -> {
                    assertThat(e.errnoValue()).isEqualTo(Errno.ENOENT);
                    assertThat(e.call()).isEqualTo("activate");
                    assertThat(e.getMessage()).contains(absent.toString(), "ENOENT", "CONFIG_HUGETLBFS");
                });
    }

    @Test
    void activationForAPageSizeTheKernelHasNoPoolOfIsENOENTNamingItsFolderAndTheSizesThereAre() throws Exception {
        Path sysfs = sysfs(2048);
        assertThatThrownBy(() -> HugetlbExporterComponent.open(KernelPages.config(Map.of("page.size", 1L << 30)),
                sysfs, meminfo(2048))).isInstanceOfSatisfying(LinuxException.class, e -> {
                    assertThat(e.errnoValue()).isEqualTo(Errno.ENOENT);
                    assertThat(e.getMessage()).contains(sysfs.resolve("hugepages-1048576kB").toString(),
                            "no pool of 1GB pages", "it has [2MB]");
                });
    }

    @Test
    void aPageSizeThatIsNoPowerOfTwoIsEINVAL() throws Exception {
        assertThatThrownBy(() -> HugetlbExporterComponent.open(KernelPages.config(Map.of("page.size", 3L << 20)),
                sysfs(2048), meminfo(2048))).isInstanceOfSatisfying(LinuxException.class, e -> {
                    assertThat(e.errnoValue()).isEqualTo(Errno.EINVAL);
                    assertThat(e.getMessage()).contains("page.size 3145728");
                });
    }

    @Test
    void theDefaultPageSizeIsMeminfosAndNamesTheExporter() throws Exception {
        HugetlbExporter e = HugetlbExporterComponent.open(KernelPages.config(Map.of()), sysfs(2048, 1048576),
                meminfo(2048));
        assertThat(e.pool().pageSize()).isEqualTo(2L << 20);
        assertThat(e.pool().defaultSize()).isTrue();
        assertThat(e.pool().memfdFlags()).isEqualTo(HugetlbLibC.MFD_HUGETLB); // the kernel's default: no size bits
        assertThat(e.properties(50)).containsEntry(DmaBufExporter.NAME, "hugetlb-2MB")
                .containsEntry(DmaBufExporter.ALIGNMENT, 2L << 20).containsEntry(DmaBufExporter.SEGMENT_SIZE, 2L << 20)
                .containsEntry(DmaBufExporter.KIND, DmaBufExporter.KIND_MEMFD);
        HugetlbExporter g = HugetlbExporterComponent.open(KernelPages.config(Map.of("page.size", 1L << 30,
                "name", "big")), sysfs(2048, 1048576), meminfo(2048));
        assertThat(g.pool().memfdFlags()).isEqualTo(HugetlbLibC.MFD_HUGETLB | HugetlbLibC.MFD_HUGE_1GB);
        assertThat(g.properties(50)).containsEntry(DmaBufExporter.NAME, "big");
    }

    @Test
    void theDefaultRankingIsBelowTheSealedMemfdsSoTheRealHeapsAreChosenFirst() throws Exception {
        int memfd = (Integer) HeapExporters.Config.class.getMethod("memfd_ranking").getDefaultValue();
        int mine = KernelPages.config(Map.of()).service_ranking();
        assertThat(mine).isLessThan(memfd);
        assertThat(KernelPages.config(Map.of("service.ranking", 500)).service_ranking()).isEqualTo(500);
    }

    /** Each pool's flags make a memfd whose file system (hugetlbfs) has that pool's page size as its block size. */
    @Test
    void eachPoolsMemfdIsOnHugetlbfsWithItsPageSize() throws Exception {
        assumeThat(Files.isDirectory(HugePages.SYSFS)).as("a kernel with huge pages").isTrue();
        List<String> sizes = HugePages.sizes(HugePages.SYSFS);
        assertThat(sizes).isNotEmpty();
        try (var dirs = Files.list(HugePages.SYSFS)) {
            for (Path d : dirs.toList()) {
                long size = Long.parseLong(d.getFileName().toString().replaceAll("\\D", "")) << 10;
                HugePages pool = HugePages.of(HugePages.SYSFS, HugePages.MEMINFO, size);
                try (Fd fd = Sys.memfd("hugetlb-test", LibC.MFD_ALLOW_SEALING | pool.memfdFlags())) {
                    long[] fs = HugetlbLibC.fstatfs(fd.get());
                    assertThat(fs[0]).as("f_type of " + pool).isEqualTo(HugetlbLibC.HUGETLBFS_MAGIC);
                    assertThat(fs[1]).as("f_bsize of " + pool).isEqualTo(size);
                }
            }
        }
    }

    @Test
    void sizesAreRoundedUpToWholeHugePages() throws Exception {
        HugetlbExporter e = new HugetlbExporter("t", HugePages.of(sysfs(2048), meminfo(2048), 0));
        long page = 2L << 20;
        assertThat(e.roundUp(1)).isEqualTo(page);
        assertThat(e.roundUp(page)).isEqualTo(page);
        assertThat(e.roundUp(page + 1)).isEqualTo(2 * page);
        assertThatThrownBy(() -> e.roundUp(Long.MAX_VALUE)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("size " + Long.MAX_VALUE);
    }

    /**
     * The host's pools are empty: an allocation fails in {@code fallocate} with {@code ENOSPC}, naming the memfd, the
     * rounded size and what to do, and leaves no fd and no mapping.
     */
    @Test
    void anEmptyPoolIsENOSPCFromFallocateNamingSizeAndWhatToDoAndLeavesNothing() throws Exception {
        assumeThat(Files.isDirectory(HugePages.SYSFS)).as("a kernel with huge pages").isTrue();
        HugePages pool = HugePages.of(HugePages.SYSFS, HugePages.MEMINFO, 0);
        assumeThat(pool.free()).as("free pages in " + pool + " (the test needs an empty pool)").isZero();
        HugetlbExporter e = new HugetlbExporter("hugetlb-test", pool);
        assertThatThrownBy(() -> e.allocate(new AllocationRequest(1, "empty-pool", null, DeviceConstraints.NONE)))
                .isInstanceOfSatisfying(LinuxException.class, x -> {
                    assertThat(x.call()).isEqualTo("fallocate");
                    assertThat(x.errnoValue()).isEqualTo(Errno.ENOSPC);
                    assertThat(x.getMessage()).contains("dmabuf-hugetlb:empty-pool", "size " + pool.pageSize(),
                            "0 free", "echo 1 > /proc/sys/vm/nr_hugepages", "hugepages=1");
                });
        assertThat(KernelPages.fds(HugetlbExporter.PREFIX)).as("fds").isEmpty();
        assertThat(KernelPages.maps("dmabuf-hugetlb:")).as("mappings").isEmpty();
    }

    /** What a plain-Java program sees: the same error, through the registry, asking for the exporter by name. */
    @Test
    void thePlainJavaEntryPointOpensItPerConfigurationAndReportsTheEmptyPool() throws Exception {
        assumeThat(Files.isDirectory(HugePages.SYSFS)).as("a kernel with huge pages").isTrue();
        HugePages pool = HugePages.of(HugePages.SYSFS, HugePages.MEMINFO, 0);
        assumeThat(pool.free()).as("free pages in " + pool + " (the test needs an empty pool)").isZero();
        try (DmaBufs d = DmaBufs.builder().discover(false).provider(new HugetlbExporterProvider())
                .configure(HugetlbExporterComponent.PID + "~pool", Map.of("name", "hp"))
                // as a .cfg file gives it: an Integer for a long property
                .configure(HugetlbExporterComponent.PID + "~cfg", Map.of("page.size", (int) pool.pageSize())).open()) {
            assertThat(d.exporters()).extracting(i -> i.name())
                    .containsExactlyInAnyOrder("hp", "hugetlb-" + HugePages.label(pool.pageSize()));
            assertThatThrownBy(() -> d.allocate(BufferRequest.ofSize(4096).exporter("hp")))
                    .isInstanceOfSatisfying(DmaBufException.class, x -> {
                        assertThat(x.errno()).isEqualTo("ENOSPC");
                        assertThat(x.getMessage()).contains("hp: fallocate", "nr_hugepages");
                    });
        }
    }

    @Test
    void withoutAConfigurationThePlainJavaEntryPointOpensNothingAndABadOneFailsTyped() {
        assertThat(ServiceLoader.load(ExporterProvider.class).stream().map(p -> p.type().getName()).toList())
                .contains(HugetlbExporterProvider.class.getName());
        try (DmaBufs d = DmaBufs.builder().discover(false).provider(new HugetlbExporterProvider()).open()) {
            assertThat(d.exporters()).isEmpty();
        }
        assertThatThrownBy(() -> DmaBufs.builder().discover(false).provider(new HugetlbExporterProvider())
                .configure(HugetlbExporterComponent.PID + "~odd", Map.of("page.size", 1L << 24)).open())
                .isInstanceOfSatisfying(LinuxException.class, x -> {
                    assertThat(x.errnoValue()).isEqualTo(Errno.ENOENT);
                    assertThat(x.getMessage()).contains("hugepages-16384kB");
                });
    }

    @Test
    void theMachineCheckReportsEachPoolWithItsCounters() throws Exception {
        Path sysfs = sysfs(2048);
        Files.writeString(sysfs.resolve("hugepages-2048kB/nr_hugepages"), "4\n");
        Files.writeString(sysfs.resolve("hugepages-2048kB/free_hugepages"), "0\n");
        List<MachineCheck.Finding> f = new HugetlbMachineCheck(sysfs, meminfo(2048)).check();
        assertThat(f).singleElement().satisfies(x -> {
            assertThat(x.status()).isEqualTo(MachineCheck.Status.ABSENT);
            assertThat(x.facts()).containsEntry("nr_hugepages", "4").containsEntry("free_hugepages", "0");
            assertThat(x.advice()).contains("echo 5 > /proc/sys/vm/nr_hugepages");
        });
        Files.writeString(sysfs.resolve("hugepages-2048kB/free_hugepages"), "3\n");
        assertThat(new HugetlbMachineCheck(sysfs, meminfo(2048)).check()).singleElement()
                .satisfies(x -> assertThat(x.status()).isEqualTo(MachineCheck.Status.OK));
        assertThat(new HugetlbMachineCheck(tmp.resolve("absent"), meminfo(2048)).check()).singleElement()
                .satisfies(x -> assertThat(x.status()).isEqualTo(MachineCheck.Status.ABSENT));
        assertThat(ServiceLoader.load(MachineCheck.class).stream().map(p -> p.type().getName()).toList())
                .contains(HugetlbMachineCheck.class.getName());
        assertThat(Optional.of(new HugetlbMachineCheck().area())).contains("hugetlb");
    }
}
