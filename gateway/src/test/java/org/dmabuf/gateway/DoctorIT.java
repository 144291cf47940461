package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code dmabuf-gateway.jar --doctor} as a process on the build machine, before any framework: the exporter jars on
 * the launcher's {@code Class-Path} give their DRM and V4L2 checks to {@link java.util.ServiceLoader}; what this
 * machine lacks (no dma-heap, udmabuf, DRM or V4L2 node on the build hosts) is named with what to do, and sealed
 * memfds are the way that works, so the status is 0.
 */
class DoctorIT {
    private record Run(int status, String out) {
    }

    private static Run doctor(String... args) throws Exception {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void theCheckNamesWhatIsAbsentAndTheMemfdFallback() throws Exception {
        Run r = doctor("--doctor");
        assertThat(r.status()).as(r.out()).isZero();
        assertThat(r.out()).startsWith("dmabuf-osgi machine check").contains("memfd memfd: sealed memfds work")
                .as("the exporter jars' checks were found").doesNotContain("no device checks are installed")
                .containsPattern("\\] +drm +/dev/dri").containsPattern("\\] +v4l2 +/dev/video")
                .doesNotContain("Felix").contains("exit status 0");
        if (!Files.isDirectory(Path.of("/dev/dma_heap")) && !Files.exists(Path.of("/dev/udmabuf"))) {
            assertThat(r.out()).contains("Result: buffers can be allocated and shared (memfd memfd)")
                    .contains("dma-heap /dev/dma_heap: use a kernel with CONFIG_DMABUF_HEAPS_SYSTEM")
                    .contains("udmabuf /dev/udmabuf: use a kernel with CONFIG_UDMABUF");
        }
        if (!Files.isDirectory(Path.of("/dev/dri"))) {
            assertThat(r.out()).contains("[ABSENT] drm        /dev/dri: no DRM nodes")
                    .contains("drm /dev/dri: load the GPU's DRM driver");
        }
        try (var s = Files.list(Path.of("/dev"))) {
            if (s.noneMatch(p -> p.getFileName().toString().matches("video[0-9]+"))) {
                assertThat(r.out()).contains("v4l2 /dev/video*: connect a camera or load its driver");
            }
        }
    }

    @Test
    void jsonAndABadArgument() throws Exception {
        Run json = doctor("--doctor", "--json");
        assertThat(json.status()).as(json.out()).isZero();
        assertThat(json.out()).startsWith("{\"status\":0,\"shareable\":true,\"findings\":[")
                .contains("{\"area\":\"memfd\",\"subject\":\"memfd\",\"status\":\"OK\"")
                .contains("{\"area\":\"drm\",").contains("{\"area\":\"v4l2\",");
        Run bad = doctor("--doctor", "--frames", "3");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.out()).contains("doctor: unknown argument '--frames'");
    }
}
