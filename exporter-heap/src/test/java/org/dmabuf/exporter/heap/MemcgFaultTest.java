package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Heap allocations under a memory cgroup (cgroup2, in the kernel guest, as root): a child JVM ({@link MemcgFault}) is
 * moved into a cgroup whose {@code memory.max} leaves it 32 MiB, exempt from the OOM killer. udmabuf's memfd pages
 * are charged to the cgroup, so udmabuf allocations end with {@code UDMABUF_CREATE} refused with {@code ENOMEM}: a
 * typed error that leaves no fd and no bufinfo entry, and allocations succeed again after releases. The 6.12 system
 * heap allocates with {@code alloc_pages} without {@code __GFP_ACCOUNT}: it does not charge the cgroup at all, and
 * twice the room is allocated without a refusal (asserted, so that a kernel that starts charging it shows here).
 * The sealed-memfd exporter allocates no page until the first touch, so a cgroup cannot refuse its allocation.
 */
@Tag("kernel")
class MemcgFaultTest {
    private static final long ROOM = 32L << 20;

    @Test
    void udmabufOverTheCgroupsLimitIsACleanEnomemAndTheSystemHeapIsNotCharged() throws Exception {
        Path root = Path.of("/sys/fs/cgroup");
        boolean mounted = false;
        if (!Files.exists(root.resolve("cgroup.controllers"))) {
            root = Files.createDirectories(Path.of("/tmp/dmabuf-cgroup2"));
            if (!Files.exists(root.resolve("cgroup.controllers"))) {
                Process mount = new ProcessBuilder("mount", "-t", "cgroup2", "none", root.toString()).inheritIO()
                        .start();
                assertThat(mount.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(mount.exitValue()).as("mount -t cgroup2").isZero();
                mounted = true;
            }
        }
        Files.writeString(root.resolve("cgroup.subtree_control"), "+memory");
        Path cg = Files.createDirectories(root.resolve("dmabuf-memcg-" + ProcessHandle.current().pid()));
        Process child = new ProcessBuilder(MemcgFault.command(cg, ROOM)).redirectErrorStream(true).start();
        StringBuffer said = new StringBuffer();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the child's first line").isEqualTo("memcg: ready");
            Files.writeString(cg.resolve("cgroup.procs"), Long.toString(child.pid()));
            Files.writeString(Path.of("/proc/" + child.pid() + "/oom_score_adj"), "-1000");
            long current = Long.parseLong(Files.readString(cg.resolve("memory.current")).trim());
            Files.writeString(cg.resolve("memory.max"), Long.toString(current + ROOM));
            try (OutputStream in = child.getOutputStream()) {
                in.write("go\n".getBytes(StandardCharsets.UTF_8));
            }
            Thread reader = new Thread(() -> {
                try {
                    for (String l = out.readLine(); l != null; l = out.readLine()) {
                        said.append(l).append('\n');
                    }
                } catch (java.io.IOException e) {
                    said.append("(reading the child: ").append(e).append(")\n");
                }
            }, "memcg child's output");
            reader.start();
            boolean ended = child.waitFor(300, TimeUnit.SECONDS);
            if (!ended) {
                Files.writeString(cg.resolve("memory.max"), "max"); // let a child stuck at the limit go on
                child.destroyForcibly();
            }
            reader.join(60_000);
            System.out.print(said);
            assertThat(ended).as("the child ended; it said:%n%s", said).isTrue();
            assertThat(child.exitValue()).as("the child's status; it said:%n%s", said).isZero();
            String events = Files.readString(cg.resolve("memory.events"));
            System.out.print("memory.events: " + events.replace('\n', ' ') + "\n");
            assertThat(events).as("the cgroup reached its limit").containsPattern("max [1-9]");
        } finally {
            child.destroyForcibly();
            child.waitFor(60, TimeUnit.SECONDS);
            Files.delete(cg);
            if (mounted) {
                new ProcessBuilder("umount", root.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
            }
        }
        assertThat(said.toString())
                .containsPattern("memcg: system: \\d+ MiB allocated with 32 MiB of room: memory.current grew by "
                        + "\\d+ KiB: not charged")
                .containsPattern("memcg: udmabuf: [1-8] buffers of 4 MiB, then NoExporterException: "
                        + "allocate: ENOMEM: .*ioctl\\(UDMABUF_CREATE\\): ENOMEM.*; fds and bufinfo unchanged")
                .contains("memcg: udmabuf: released 2, allocated 2 again")
                .endsWith("memcg: OK\n");
    }
}
