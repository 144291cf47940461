package org.dmabuf.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.core.DmaBufs;
import org.junit.jupiter.api.Test;

/** The soak's figures see what it is meant to catch: a buffer, a mapping, native memory or heap kept. */
class SnapshotTest {
    private static final Snapshot.Tolerance TOLERANCE = new Snapshot.Tolerance(1 << 20, 1 << 20);
    private static final Snapshot.Tolerance SOAK = Soak.DEFAULT_TOLERANCE;

    @Test
    void aBufferAndItsMappingKeptShowAsAMemfdFdAndAMemfdMapping() {
        try (DmaBufs registry = DmaBufs.builder().owner("snapshot-test").configure("org.dmabuf.exporter.heap",
                Map.of("dmaheap.enabled", false, "udmabuf.enabled", false)).open()) {
            try (DmaBuf warm = registry.allocate(BufferRequest.ofSize(4096).name("snap-warm"))) {
                warm.mmap().putByte(0, (byte) 1); // loads the classes a buffer and a mapping need
            }
            Snapshot.take(); // what measuring loads
            Snapshot before = Snapshot.take();
            try (DmaBuf kept = registry.allocate(BufferRequest.ofSize(4096).name("snap-kept"))) {
                kept.mmap().putByte(0, (byte) 1);

                Snapshot during = Snapshot.take();

                assertThat(during.differencesFrom(before, SOAK)).contains(
                        "open fds of kind memfd: " + before.fds().getOrDefault("memfd", 0) + " at the baseline, "
                                + (before.fds().getOrDefault("memfd", 0) + 1) + " at the end",
                        "mappings of kind memfd: " + before.kernelMaps().getOrDefault("memfd", 0)
                                + " at the baseline, " + (before.kernelMaps().getOrDefault("memfd", 0) + 1)
                                + " at the end");
            }
            assertThat(Snapshot.take().differencesFrom(before, SOAK)).isEmpty();
        }
    }

    @Test
    void memoryGrowthBeyondTheToleranceFails() {
        // NMT: total 50 MiB of which 20 volatile, 8 malloc; mallinfo 10 MiB; heap 5 MiB
        Snapshot base = new Snapshot(Map.of("socket", 2), 100, Map.of(), 50 << 20, 20 << 20, 8 << 20, 10 << 20,
                5 << 20, Map.of());
        // the volatile categories grow by 100 MiB (not checked); the rest by 1 MiB + 1; malloc outside by 1 MiB + 1
        Snapshot grown = new Snapshot(Map.of("socket", 2), 140, Map.of(), (151 << 20) + 1, 120 << 20, 9 << 20,
                (12 << 20) + 1, (6 << 20) + 1, Map.of());

        List<String> d = grown.differencesFrom(base, TOLERANCE);

        assertThat(d).containsExactly("NMT committed outside the heap, GC and JIT grew by " + ((1 << 20) + 1)
                        + " bytes (limit 1048576)", "malloc outside the JVM grew by " + ((1 << 20) + 1)
                        + " bytes (limit 1048576)", "Java heap used after GC grew by " + ((1 << 20) + 1)
                        + " bytes (limit 1048576)");
        assertThat(new Snapshot(Map.of("socket", 2), 100, Map.of(), (51 << 20), 20 << 20, 8 << 20, 11 << 20,
                6 << 20, Map.of()).differencesFrom(base, TOLERANCE)).as("growth at the limit").isEmpty();
    }

    @Test
    void aFileOfProcOrSysLeftOpenIsADifferenceAndAJarTheJvmClosedIsNot() {
        Snapshot base = new Snapshot(Map.of(Snapshot.PROC_FILE, 1, Snapshot.JVM_FILE, 34), 100, Map.of(), 50 << 20,
                20 << 20, 8 << 20, 10 << 20, 5 << 20, Map.of());
        Snapshot now = new Snapshot(Map.of(Snapshot.PROC_FILE, 2, Snapshot.JVM_FILE, 33), 100, Map.of(), 50 << 20,
                20 << 20, 8 << 20, 10 << 20, 5 << 20, Map.of());

        assertThat(now.differencesFrom(base, TOLERANCE))
                .containsExactly("open fds of kind " + Snapshot.PROC_FILE + ": 1 at the baseline, 2 at the end");
    }

    @Test
    void fdKindsComeFromTheLinkTargets() {
        assertThat(Snapshot.kindOf("anon_inode:dmabuf")).isEqualTo("dmabuf");
        assertThat(Snapshot.kindOf("/dmabuf:")).isEqualTo("dmabuf");
        assertThat(Snapshot.kindOf("/memfd:soak (deleted)")).isEqualTo("memfd");
        assertThat(Snapshot.kindOf("socket:[1234]")).isEqualTo("socket");
        assertThat(Snapshot.kindOf("pipe:[99]")).isEqualTo("pipe");
        assertThat(Snapshot.kindOf("anon_inode:[eventfd]")).isEqualTo("eventfd");
        assertThat(Snapshot.kindOf("anon_inode:sync_file")).isEqualTo("sync_file");
        assertThat(Snapshot.kindOf("/dev/dri/card0")).isEqualTo("/dev/dri/card0");
        assertThat(Snapshot.kindOf("/usr/lib/jvm/lib/modules")).isEqualTo(Snapshot.JVM_FILE);
        assertThat(Snapshot.kindOf("/proc/42/fdinfo/7")).isEqualTo(Snapshot.PROC_FILE);
        assertThat(Snapshot.kindOf("/sys/kernel/debug/dma_buf/bufinfo")).isEqualTo(Snapshot.PROC_FILE);
        assertThat(Snapshot.mapKind("7f00-7f01 rw-s 00000000 00:01 42   /memfd:soak-1-2 (deleted)"))
                .isEqualTo("memfd");
        assertThat(Snapshot.mapKind("7f00-7f01 rw-s 00000000 00:0e 77   /dmabuf:soak-1-2")).isEqualTo("dmabuf");
        assertThat(Snapshot.mapKind("7f00-7f01 rw-s 1000 00:05 5   /dev/dri/card0")).isEqualTo("/dev/dri/card0");
        assertThat(Snapshot.mapKind("7f00-7f01 r--p 00000000 08:01 9   /usr/lib/x86_64-linux-gnu/libc.so.6"))
                .isNull();
    }

    @Test
    void thePeersLineReadsBackAsTheSameSnapshot() {
        Snapshot s = Snapshot.take();

        assertThat(Snapshot.parseLine(s.toLine())).isEqualTo(s);
    }
}
