package org.dmabuf.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The short soak in the kernel guest: 900 cycles over the system heap, udmabuf and vgem's dumb buffers (taking
 * turns), shared to a peer JVM; the kernel's debugfs bufinfo lists none of them at the end. The long one is
 * {@code reliability/soak --guest --cycles 100000}.
 */
@Tag("kernel")
class SoakKernelTest {
    @Test
    void heapUdmabufAndVgemCyclesLeaveFdsMappingsMemoryAndBufinfoAtTheirBaseline() throws Exception {
        Soak.Config c = new Soak.Config(900, 3, Soak.guestExporters(), 20, Soak.DEFAULT_TOLERANCE);

        Soak.Result r = Soak.run(c);

        System.out.println(r.report("Soak (kernel guest, short): 900 cycles, system heap + udmabuf + vgem"));
        assertThat(r.failures()).isEmpty();
        assertThat(r.bufinfo()).as("debugfs bufinfo was read").isNotNull();
        assertThat(r.bufinfo()[2]).as("the soak's buffers bufinfo lists at the end").isZero();
        assertThat(r.peerFrames()).isEqualTo(900 + 3 * 20);
        assertThat(r.host().nmtCommitted()).as("NMT on (target/kernel-test/jvm.args)").isPositive();
    }
}
