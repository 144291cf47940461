package org.dmabuf.examples;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The README's plain-Java example on a real kernel: the entry point finds the system dma-heap, and the buffer the
 * two processes share is a dma-buf of it ({@code exp_name} {@code system}). {@code share} runs in a JVM of its own,
 * {@code check} in the test's (JVMs start slowly in the guest), which also checks that it left no fd open. On the
 * class path only: the module path is the same program with other launch flags, run on the host
 * ({@link ReadmeExampleTest}).
 */
@Tag("kernel")
class ReadmeExampleKernelTest {
    @Test
    void sharesASystemHeapBufferAndGetsItBack() throws Exception {
        ReadmeExample.assertShared(ReadmeExample.run(false, true, Duration.ofSeconds(300)), "system");
    }
}
