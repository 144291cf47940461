package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferId;
import org.dmabuf.core.JsonReader;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Test;

/**
 * {@code java -jar dmabuf-gateway.jar --dump} as a user runs it: no framework starts, the core's classes come from
 * the jar's class path; the JSON lists a memfd of the project's that this test process holds, with this process
 * as its holder, and the table has its three parts.
 */
class DumpIT {
    private static Path jar() {
        return Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar")).toAbsolutePath();
    }

    /** What the launcher printed and its exit status. */
    private record Run(int status, String out) {
    }

    private static Run gateway(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void dumpAsJsonListsAMemfdThisProcessHolds() throws Exception {
        long self = ProcessHandle.current().pid();
        try (Fd fd = Sys.memfd("dmabuf:dump-it", 0)) {
            Sys.ftruncate(fd.get(), 16384);
            BufferId id = Sys.fstat(fd.get()).id();
            Run r = gateway("--dump", "--json");
            assertThat(r.status()).as(r.out()).isZero();
            Map<String, Object> doc = JsonReader.object(r.out());
            Map<String, Object> b = ((List<Object>) doc.get("buffers")).stream().map(x -> (Map<String, Object>) x)
                    .filter(x -> x.get("id").equals(id.toString())).findFirst().orElseThrow(() ->
                            new AssertionError("no " + id + " in " + r.out()));
            assertThat(b).containsEntry("kind", "memfd").containsEntry("size", 16384L)
                    .containsEntry("name", "dmabuf:dump-it").containsEntry("exp_name", "memfd");
            assertThat((List<Object>) b.get("holders")).singleElement().satisfies(h -> assertThat(
                    (Map<String, Object>) h).containsEntry("pid", self).containsEntry("fds", List.of((long) fd.get())));

            Run table = gateway("--dump", "--pid", Long.toString(self));
            assertThat(table.status()).isZero();
            assertThat(table.out()).startsWith("dma-bufs and shared memfds held by pid " + self + "\n")
                    .contains(id + " ").contains("\nper process\n").contains("\nper exporter\n")
                    .contains("\nTotal 1 buffers, 16384 bytes (each buffer once)\n");
        }
        Run bad = gateway("--dump", "--pid", "none");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.out()).contains("--pid takes a process id");
    }
}
