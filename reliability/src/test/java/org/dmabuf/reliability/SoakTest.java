package org.dmabuf.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short soak on the host: 20 000 cycles over 8 threads of memfds shared to a peer JVM; the long one is
 * {@code reliability/soak --cycles 1000000}.
 */
class SoakTest {
    @Test
    void memfdCyclesOverEightThreadsLeaveFdsMappingsAndMemoryAtTheirBaseline() throws Exception {
        Soak.Config c = new Soak.Config(20_000, 8, List.of("memfd"), 250, Soak.DEFAULT_TOLERANCE);

        Soak.Result r = Soak.run(c);

        System.out.println(r.report("Soak (host, short): 20000 cycles, memfd"));
        assertThat(r.failures()).isEmpty();
        assertThat(r.host().nmtCommitted()).as("NMT on (surefire's argLine)").isPositive();
        assertThat(r.peer().nmtCommitted()).as("NMT on in the peer").isPositive();
        assertThat(r.peerFrames()).as("frames the peer checked, warm-up and markers aside")
                .isEqualTo(20_000 + 8 * 250);
        assertThat(r.host().fds()).containsKey("socket");
    }
}
