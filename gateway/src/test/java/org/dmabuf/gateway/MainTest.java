package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void statusTakesAnOptionalPortAndTurnsThePageOn() {
        assertThat(Main.parse(new String[] {"--run", "--status"}).options()).containsEntry(Main.STATUS, "");
        assertThat(Main.parse(new String[] {"--status=18080", "--run"}).options()).containsEntry(Main.STATUS,
                "18080");
        assertThat(Main.parse(new String[] {"--run"}).options()).doesNotContainKey(Main.STATUS);
        for (String bad : new String[] {"0", "65536", "http", ""}) {
            assertThatThrownBy(() -> Main.parse(new String[] {"--status=" + bad})).as(bad)
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("--status")
                    .hasMessageContaining("'" + bad + "' is no TCP port");
        }
    }

    @Test
    void theStatusPageListensOnLoopbackUnlessItsConfigurationSaysOtherwise(@TempDir Path conf) throws Exception {
        Map<String, String> off = new HashMap<>(Map.of(ConfigLoader.CONF, conf.toString()));
        assertThat(Main.status(off)).as("neither --status nor org.dmabuf.status.cfg").isFalse();
        assertThat(off).doesNotContainKeys(Main.HTTP_HOST, Main.HTTP_PORT);

        Map<String, String> option = new HashMap<>(Map.of(ConfigLoader.CONF, conf.toString(), Main.STATUS, ""));
        assertThat(Main.status(option)).isTrue();
        assertThat(option).containsEntry(Main.HTTP_HOST, "127.0.0.1").containsEntry(Main.HTTP_PORT, "8080")
                .containsEntry(Main.STATUS, "8080");

        Files.writeString(conf.resolve("org.dmabuf.status.cfg"), "port=9090\nhost=0.0.0.0\n");
        Map<String, String> file = new HashMap<>(Map.of(ConfigLoader.CONF, conf.toString()));
        assertThat(Main.status(file)).as("the configuration file alone").isTrue();
        assertThat(file).containsEntry(Main.HTTP_HOST, "0.0.0.0").containsEntry(Main.HTTP_PORT, "9090");

        Map<String, String> both = new HashMap<>(Map.of(ConfigLoader.CONF, conf.toString(), Main.STATUS, "7070"));
        assertThat(Main.status(both)).isTrue();
        assertThat(both).as("--status=PORT over the file's port").containsEntry(Main.HTTP_PORT, "7070");
    }

    @Test
    void theStatusPagesBundlesAreKnownByTheirJarsNames() {
        assertThat(Path.of("bundle/org.apache.felix.http.jetty.jar")).matches(Main::statusOnly);
        assertThat(Path.of("bundle/org.apache.felix.http.servlet-api.jar")).matches(Main::statusOnly);
        assertThat(Path.of("bundle/org.dmabuf.status.jar")).matches(Main::statusOnly);
        assertThat(Path.of("bundle/org.dmabuf.core.jar")).matches(p -> !Main.statusOnly(p));
    }

    @Test
    void nameIsCheckedAsABufferNameIs() {
        assertThat(Main.parse(new String[] {"--name", "cam<0>"}).options()).containsEntry(MainJob.NAME, "cam<0>");
        assertThatThrownBy(() -> Main.parse(new String[] {"--name", "x".repeat(40)}))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("--name");
    }

    @Test
    void bundlesAreInstalledByReferenceSoFelixReadsTheJarInPlace() {
        assertThat(Main.reference(Path.of("/opt/gw/bundle/org.dmabuf.core.jar")))
                .isEqualTo("reference:file:///opt/gw/bundle/org.dmabuf.core.jar");
    }
}
