package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the distribution as a user would: {@code java -jar dmabuf-gateway.jar --run}. */
class GatewayIT {
    @Test
    void theMainJobRunsOnTheEmbeddedDefaultAndExitsZero() throws Exception {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar"));
        assertThat(jar).isRegularFile();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "--run", "--timeout", "60")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("the gateway exits").isTrue();
        assertThat(p.exitValue()).as("exit status; output:%n%s", out).isZero();
        assertThat(out).contains("exporters: ").contains("memfd (memfd")
                .containsPattern("first buffer: 1048576 bytes from \\S+ \\((MEMFD|DMA_BUF)\\), inode \\d+")
                .contains("pattern verified: 1048576 bytes")
                .containsPattern("-> get\\(fd\\): the same buffer \\(inode \\d+, refcount 2\\)")
                .containsPattern("bufinfo: 1 buffer\\(s\\)\\n  inode \\d+  size \\d+  exporter \\S+")
                .contains("owner org.dmabuf.gateway [")
                .contains("bufinfo after release: 0 buffer(s)");
        assertThat(Files.isDirectory(jar.resolveSibling("work").resolve("felix-cache"))).isTrue();
    }
}
