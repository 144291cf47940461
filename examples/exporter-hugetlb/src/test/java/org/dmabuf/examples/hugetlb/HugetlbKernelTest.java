package org.dmabuf.examples.hugetlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.exporter.heap.HeapExporterProvider;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The huge-page exporter on the guest's 6.12 kernel, which reserves pages for it ({@code /proc/sys/vm/nr_hugepages},
 * set back after): the kernel judges by {@code /proc/meminfo}'s {@code HugePages_Free}, the memfd's {@code fstat}
 * size, {@code /proc/self/smaps}' {@code KernelPageSize} and {@code /proc/self/fd}; a child process maps the same
 * pages; an empty pool is the typed {@code ENOSPC} with nothing left behind.
 */
@Tag("kernel")
class HugetlbKernelTest {
    private static final long PAGE = 2L << 20;
    private static final int POOL = 8;
    private static AutoCloseable reserved;

    @BeforeAll
    static void reserve() throws Exception {
        assertThat(KernelPages.meminfo("Hugepagesize")).as("the guest's default huge page, kB").isEqualTo(2048);
        reserved = KernelPages.reserve(POOL);
        assertThat(KernelPages.meminfo("HugePages_Free")).isEqualTo(POOL);
    }

    @AfterAll
    static void restore() throws Exception {
        reserved.close();
    }

    private static DmaBufs open(String name, Map<String, ?> config) {
        return DmaBufs.builder().discover(false).provider(new HugetlbExporterProvider())
                .configure(HugetlbExporterComponent.PID + "~" + name, config).open();
    }

    private static void assertNothingLeft(String name) throws Exception {
        assertThat(KernelPages.fds(HugetlbExporter.PREFIX + name)).as("fds of " + name).isEmpty();
        assertThat(KernelPages.maps(HugetlbExporter.PREFIX + name)).as("mappings of " + name).isEmpty();
    }

    @Test
    void aBufferHoldsWholeHugePagesFromThePoolSharedWithAChildAndAnImportAndGivesThemBackOnClose()
            throws Exception {
        String name = "hp-share";
        try (DmaBufs d = open("hp", Map.of())) {
            DmaBuf buf = d.allocate(BufferRequest.ofSize(3L << 20).name(name));
            // 3 MB asked for: two 2 MB pages, taken from the pool at allocation
            assertThat(buf.size()).isEqualTo(2 * PAGE);
            assertThat(Sys.fstat(buf.fd()).size()).as("fstat size of the memfd").isEqualTo(2 * PAGE);
            assertThat(buf.kind()).contains(BufferKind.MEMFD);
            assertThat(buf.exporterService()).contains("hugetlb-2MB");
            assertThat(KernelPages.meminfo("HugePages_Free")).isEqualTo(POOL - 2);
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.putLong(0, 0x1122334455667788L);
                w.putLong(2 * PAGE - 8, 0x0102030405060708L);
            }
            assertThat(KernelPages.kernelPageSizes(HugetlbExporter.PREFIX + name)).as("KernelPageSize, kB")
                    .isNotEmpty().containsOnly(2048L);

            // a child process opens the same memfd, maps it, reads what was written and writes back
            Process child = new ProcessBuilder("python3", "-c", CHILD, "/proc/" + ProcessHandle.current().pid()
                    + "/fd/" + buf.fd(), String.valueOf(2 * PAGE), HugetlbExporter.PREFIX + name)
                    .redirectErrorStream(true).start();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child finished").isTrue();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(child.exitValue()).as(out).isZero();
            assertThat(out).isEqualTo(0x1122334455667788L + " " + 0x0102030405060708L + " 2048");
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                assertThat(r.getLong(8)).as("what the child wrote").isEqualTo(0x1122334455667789L);
            }
            assertThat(KernelPages.meminfo("HugePages_Free")).as("the child's mapping took no page")
                    .isEqualTo(POOL - 2);

            // a duplicate fd imported into another registry: the same file, adopted by this exporter
            try (Fd dup = Sys.dup(buf.fd(), "dup of " + name); DmaBufs other = open("other", Map.of());
                    DmaBuf imported = other.get(dup.get())) {
                assertThat(imported.id()).isEqualTo(buf.id());
                assertThat(imported.exporterService()).contains("hugetlb-2MB");
                assertThat(imported.size()).isEqualTo(2 * PAGE);
                try (CpuAccess r = imported.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(r.getLong(2 * PAGE - 8)).isEqualTo(0x0102030405060708L);
                }
            }
            buf.close();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(KernelPages.meminfo("HugePages_Free"))
                .as("pages given back").isEqualTo(POOL));
        assertNothingLeft(name);
    }

    /** Reads the first and last long, writes the first + 1 at 8, prints them and its mapping's KernelPageSize. */
    private static final String CHILD = String.join("\n",
            "import mmap, os, struct, sys",
            "path, size, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]",
            "fd = os.open(path, os.O_RDWR)",
            "m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)",
            "a = struct.unpack_from('<q', m, 0)[0]",
            "b = struct.unpack_from('<q', m, size - 8)[0]",
            "struct.pack_into('<q', m, 8, a + 1)",
            "kps, inside = [], False",
            "for line in open('/proc/self/smaps'):",
            "    f = line.split()",
            "    if '-' in f[0] and len(f) >= 5: inside = name in line",
            "    elif inside and f[0] == 'KernelPageSize:': kps.append(f[1])",
            "print(a, b, ' '.join(sorted(set(kps))))");

    @Test
    void anEmptyPoolIsENOSPCNamingFallocateTheSizeAndWhatToDoAndLeavesNothing() throws Exception {
        try (AutoCloseable empty = KernelPages.reserve(0); DmaBufs d = open("hp", Map.of())) {
            assertThatThrownBy(() -> d.allocate(BufferRequest.ofSize(1).name("hp-empty")))
                    .isInstanceOfSatisfying(DmaBufException.class, e -> {
                        assertThat(e.errno()).isEqualTo("ENOSPC");
                        assertThat(e.getMessage()).contains("fallocate", HugetlbExporter.PREFIX + "hp-empty",
                                "size " + PAGE, "0 free of 0", "echo 1 > /proc/sys/vm/nr_hugepages", "hugepages=1");
                    });
            assertNothingLeft("hp-empty");
        }
    }

    @Test
    void aRequestLargerThanThePoolFailsAndGivesBackThePagesFallocateTookBeforeFailing() throws Exception {
        try (DmaBufs d = open("hp", Map.of())) {
            assertThatThrownBy(() -> d.allocate(BufferRequest.ofSize((POOL + 1) * PAGE).name("hp-large")))
                    .isInstanceOfSatisfying(DmaBufException.class, e -> {
                        assertThat(e.errno()).isEqualTo("ENOSPC");
                        assertThat(e.getMessage()).contains("size " + (POOL + 1) * PAGE, (POOL + 1) + " needed");
                    });
            assertThat(KernelPages.meminfo("HugePages_Free")).isEqualTo(POOL);
            assertNothingLeft("hp-large");
        }
    }

    @Test
    void anEmpty1GBPoolSaysToReserveItsPagesAtBoot() throws Exception {
        try (DmaBufs d = open("gb", Map.of("page.size", 1L << 30))) {
            assertThatThrownBy(() -> d.allocate(BufferRequest.ofSize(1).name("hp-gb").exporter("hugetlb-1GB")))
                    .isInstanceOfSatisfying(DmaBufException.class, e -> {
                        assertThat(e.errno()).isEqualTo("ENOSPC");
                        assertThat(e.getMessage()).contains("size " + (1L << 30),
                                "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "hugepagesz=1G",
                                "best reserved at boot");
                    });
            assertNothingLeft("hp-gb");
        }
    }

    /**
     * Why the exporter takes its pages with {@code fallocate}: a huge-page memfd whose pages were never taken is made
     * and sized with an empty pool, and only its {@code mmap} fails ({@code ENOMEM}: the mapping's reservation),
     * which the buffer's mmap op reports with the pool's state.
     */
    @Test
    void withoutFallocateAnEmptyPoolFailsOnlyAtMmapWithENOMEM() throws Exception {
        HugePages pool = HugePages.of(HugePages.SYSFS, HugePages.MEMINFO, 0);
        try (AutoCloseable empty = KernelPages.reserve(0)) {
            Fd fd = Sys.memfd(HugetlbExporter.PREFIX, "hp-unreserved", LibC.MFD_ALLOW_SEALING | pool.memfdFlags());
            Sys.ftruncate(fd.get(), PAGE); // no page needed yet
            assertThatThrownBy(() -> Mapping.map(fd.get(), PAGE, "unreserved").close())
                    .isInstanceOfSatisfying(LinuxException.class, e -> {
                        assertThat(e.call()).isEqualTo("mmap");
                        assertThat(e.errnoValue()).isEqualTo(Errno.ENOMEM);
                    });
            HugetlbExporter.HugetlbBuffer buffer = new HugetlbExporter.HugetlbBuffer(fd, PAGE, pool);
            try {
                assertThatThrownBy(buffer::mmap).isInstanceOfSatisfying(LinuxException.class, e -> {
                    assertThat(e.errnoValue()).isEqualTo(Errno.ENOMEM);
                    assertThat(e.getMessage()).contains("mmap", "size " + PAGE, "echo 1 > /proc/sys/vm/nr_hugepages");
                });
            } finally {
                buffer.release();
            }
        }
        assertNothingLeft("hp-unreserved");
    }

    @Test
    void theHeapsAndTheSealedMemfdAreChosenBeforeItUnlessItIsAskedForByName() throws Exception {
        try (DmaBufs d = DmaBufs.builder().discover(false).provider(new HeapExporterProvider())
                .provider(new HugetlbExporterProvider()).configure(HugetlbExporterComponent.PID + "~hp", Map.of())
                .open(); DmaBuf heap = d.allocate(BufferRequest.ofSize(4096));
                DmaBuf mine = d.allocate(BufferRequest.ofSize(4096).exporter("hugetlb-2MB"))) {
            assertThat(heap.kind()).contains(BufferKind.DMA_BUF);
            assertThat(heap.exporterService()).contains("system");
            assertThat(mine.exporterService()).contains("hugetlb-2MB");
            assertThat(mine.size()).isEqualTo(PAGE);
        }
        try (DmaBufs d = DmaBufs.builder().discover(false).provider(new HeapExporterProvider())
                .configure("org.dmabuf.exporter.heap", Map.of("dmaheap.enabled", false, "udmabuf.enabled", false))
                .provider(new HugetlbExporterProvider()).configure(HugetlbExporterComponent.PID + "~hp", Map.of())
                .open(); DmaBuf memfd = d.allocate(BufferRequest.ofSize(4096))) {
            assertThat(memfd.exporterService()).as("the sealed memfd, ranked 100, before this exporter's 50")
                    .contains("memfd");
        }
        assertThat(List.of(KernelPages.meminfo("HugePages_Free"))).containsExactly((long) POOL);
    }
}
