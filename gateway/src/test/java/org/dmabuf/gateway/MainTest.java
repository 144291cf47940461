package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.dmabuf.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** The launcher's command line. */
class MainTest {
    @Test
    void formatTakesAPixelFormatNameOrItsV4l2FourccAndTheJobGetsTheConstant() {
        assertThat(Main.parse(new String[] {"--run", "--format", "nv12m"}).options())
                .containsEntry(MainJob.FORMAT, "NV12M");
        assertThat(Main.parse(new String[] {"--format", "XR24"}).options()).containsEntry(MainJob.FORMAT, "XBGR32");
        assertThat(Main.parse(new String[] {"--run"}).options()).doesNotContainKey(MainJob.FORMAT);
    }

    @Test
    void anUnknownFormatOrAMissingValueIsRefusedNamingIt() {
        assertThatThrownBy(() -> Main.parse(new String[] {"--format", "NV99"}))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("--format")
                .hasMessageContaining("no pixel format 'NV99'");
        assertThatThrownBy(() -> Main.parse(new String[] {"--run", "--format"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--format needs a value");
        assertThatThrownBy(() -> Main.parse(new String[] {"--frames", "many"}))
                .isInstanceOf(NumberFormatException.class);
    }

    @Test
    void strideAlignTakesAPowerOfTwoForThePatternsLines() {
        assertThat(Main.parse(new String[] {"--run", "--stride-align", "256"}).options())
                .containsEntry(MainJob.STRIDE_ALIGN, "256");
        assertThatThrownBy(() -> Main.parse(new String[] {"--stride-align", "100"}))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("stride alignment 100")
                .hasMessageContaining("power of two");
    }

    @Test
    void sizeTakesWidthByHeightForThePatternAndRefusesAnythingElseNamingIt() {
        assertThat(Main.parse(new String[] {"--run", "--size", "1920X1080"}).options())
                .containsEntry(MainJob.SIZE, "1920x1080");
        assertThat(Main.parse(new String[] {"--run"}).options()).doesNotContainKey(MainJob.SIZE);
        for (String bad : new String[] {"1920", "1920x", "x1080", "0x1080", "1920x-1", "axb", "1920x1080x2"}) {
            assertThatThrownBy(() -> Main.parse(new String[] {"--size", bad})).as(bad)
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("--size")
                    .hasMessageContaining("'" + bad + "' is no size");
        }
    }

    @Test
    void aBundleOfTheShellIsInteractiveOnlyByItsJarsName() {
        assertThat(Path.of("bundle/org.apache.felix.gogo.runtime.jar")).matches(Main::interactiveOnly);
        assertThat(Path.of("bundle/org.apache.felix.scr.jar")).matches(p -> !Main.interactiveOnly(p));
        assertThat(Path.of("bundle/org.apache.felix.logback.jar")).as("a prefix ends with a dot")
                .matches(p -> !Main.interactiveOnly(p));
    }

    @Test
    void bundlesAreInstalledByReferenceSoFelixReadsTheJarInPlace() {
        assertThat(Main.reference(Path.of("/opt/gw/bundle/org.dmabuf.core.jar")))
                .isEqualTo("reference:file:///opt/gw/bundle/org.dmabuf.core.jar");
    }
}
