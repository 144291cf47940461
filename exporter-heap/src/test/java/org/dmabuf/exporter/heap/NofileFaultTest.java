package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code RLIMIT_NOFILE} lowered to 64 while allocating sealed memfds, in a child JVM ({@link NofileFault}: the
 * limit comes down in the child once its JVM runs, never in this one): the allocation the kernel cannot give an fd
 * fails with a typed error naming {@code memfd_create} and {@code EMFILE}, leaves the open fds and bufinfo as they
 * were, and allocations succeed again once buffers are released.
 */
class NofileFaultTest {
    /** Runs the child for these exporters and returns what it printed, once it said OK and exited 0. */
    static String run(String... exporters) throws Exception {
        Process p = new ProcessBuilder(NofileFault.command(exporters)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        System.out.print(out);
        assertThat(p.exitValue()).as("the child's status; it said:%n%s", out).isZero();
        for (String exporter : exporters) {
            assertThat(out).contains("nofile: " + exporter + ": limit 64, ");
        }
        assertThat(out).endsWith("nofile: OK\n");
        return out;
    }

    @Test
    void aMemfdAllocationAtTheFdLimitIsACleanEmfileAndAllocationsResumeAfterReleases() throws Exception {
        assertThat(run("memfd"))
                .containsPattern("nofile: memfd: \\d+ buffers, then NoExporterException: allocate: EMFILE: .*memfd: "
                        + "memfd_create: EMFILE.*; fds unchanged \\(64\\)")
                .containsPattern("nofile: memfd: no fd left: allocate: EMFILE: .*memfd_create: EMFILE")
                .contains("nofile: memfd: released 8, allocated 8 again");
    }
}
