package org.dmabuf.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's plain-Java example compiled and run as two JVMs on this host, where no dma-heap exists: the buffer
 * is a sealed memfd. Once on the class path, once on the module path with the README's module-info (every jar an
 * automatic module, the exporters' providers found there by {@link java.util.ServiceLoader}).
 */
class ReadmeExampleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @Test
    void theReadmeHasTheExampleAndItsModuleInfo() throws Exception {
        Map<String, String> blocks = ReadmeExample.blocks(Files.readString(ReadmeExample.readme()));
        assertThat(blocks.keySet()).containsExactly("org/dmabuf/example/ShareExample.java", "module-info.java");
        assertThat(blocks.get("module-info.java")).contains("module " + ReadmeExample.MODULE);
    }

    @Test
    void sharesAndGetsBackOnTheClassPath() throws Exception {
        ReadmeExample.assertShared(ReadmeExample.run(false, TIMEOUT), "memfd");
    }

    @Test
    void sharesAndGetsBackOnTheModulePath() throws Exception {
        ReadmeExample.assertShared(ReadmeExample.run(true, TIMEOUT), "memfd");
    }
}
