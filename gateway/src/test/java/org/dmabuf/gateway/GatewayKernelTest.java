package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The distribution on real devices, in the kernel guest: a vivid camera configured through the conf folder feeds
 * the pipeline, the heaps are the exporters, and the consumer program receives the camera's dma-bufs.
 */
@Tag("kernel")
class GatewayKernelTest {
    @TempDir
    Path tmp;

    /** What a run of the gateway and the consumer program printed. */
    private record Run(String out, String seen, long consumerPid) {
    }

    private static Path jar() throws Exception {
        Path testClasses = Path.of(GatewayKernelTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = testClasses.resolveSibling("dmabuf-gateway.jar");
        assertThat(jar).isRegularFile();
        return jar;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Runs the distribution's gateway job to its end and checks that it exited 0; returns what it printed. */
    private String gateway(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1",
                "-jar", jar().toString(), "--run", "--timeout", "400"));
        command.addAll(List.of(args));
        Process gateway = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(gateway.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gateway.waitFor(420, TimeUnit.SECONDS)).isTrue();
        assertThat(gateway.exitValue()).as(out).isZero();
        return out;
    }

    /**
     * Runs the gateway with a vivid camera and its consumer program in another process, both to the end, and
     * checks that both exited 0.
     */
    private Run run(String node, String fourcc, int frames, int every, Path thumbs, Path consumerThumbs)
            throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("org.dmabuf.exporter.v4l2~camera.cfg"),
                "dev.path=" + node + "\nwidth=320\nheight=240\npixel.format=" + fourcc + "\nbuffer.count=4\n");
        Path socket = tmp.resolve("run/frames.sock");
        List<String> consumerCommand = new ArrayList<>(List.of(java(), "-XX:-UsePerfData",
                "-XX:TieredStopAtLevel=1", "-cp", jar().toString(), "org.dmabuf.gateway.Consumer", socket.toString(),
                "300"));
        if (consumerThumbs != null) {
            consumerCommand.add(consumerThumbs.toString());
        }
        Process consumer = new ProcessBuilder(consumerCommand).redirectErrorStream(true).start();
        // --queue 32: the consumer's JVM warms up under emulation while it holds the first frames; the bound on
        // frames held is not what these tests are about
        String out = gateway("--source", "camera", "--frames", String.valueOf(frames), "--every",
                String.valueOf(every), "--consumers", "1", "--queue", "32", "--conf", conf.toString(), "--output",
                thumbs.toString(), "--socket", socket.toString());
        String seen = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(consumer.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(consumer.exitValue()).as(seen).isZero();
        return new Run(out, seen, consumer.pid());
    }

    @Test
    void aHeapFrameWithPaddedLinesGivesTheSameThumbnailAsATightOne() throws Exception {
        Path tight = tmp.resolve("tight");
        Path padded = tmp.resolve("padded");
        String a = gateway("--source", "pattern", "--format", "NV12", "--exporter", "system", "--frames", "1",
                "--every", "1", "--output", tight.toString(), "--socket", tmp.resolve("a/frames.sock").toString());
        String b = gateway("--source", "pattern", "--format", "NV12", "--exporter", "system", "--frames", "1",
                "--every", "1", "--stride-align", "256", "--output", padded.toString(), "--socket",
                tmp.resolve("b/frames.sock").toString());
        assertThat(a).as(a).contains("(NV12 320x240 LINEAR [0:0+76800/320 0:76800+38400/320]) in buffers from system");
        assertThat(b).as(b).contains("(NV12 320x240 LINEAR [0:0+122880/512 0:122880+61440/512]) in buffers from "
                + "system");
        BufferedImage t = ImageIO.read(tight.resolve("frame-0000.jpg").toFile());
        BufferedImage p = ImageIO.read(padded.resolve("frame-0000.jpg").toFile());
        assertThat(p.getWidth()).isEqualTo(t.getWidth());
        assertThat(p.getHeight()).isEqualTo(t.getHeight());
        for (int y = 0; y < t.getHeight(); y++) {
            for (int x = 0; x < t.getWidth(); x++) {
                assertThat(p.getRGB(x, y)).as("pixel (%d, %d)", x, y).isEqualTo(t.getRGB(x, y));
            }
        }
    }

    @Test
    void theCameraFeedsThumbnailsAndTheConsumer() throws Exception {
        Path thumbs = tmp.resolve("thumbs");
        Run run = run("/dev/video0", "YUYV", 12, 6, thumbs, null);
        String out = run.out();
        String seen = run.seen();
        assertThat(out).containsPattern("exporters: system \\(dma-buf, ranking 300\\), udmabuf \\(dma-buf, ranking 200\\)"
                + ".*memfd \\(memfd, ranking 100\\)")
                .contains("source: V4L2 camera YUYV 320x180")
                .contains("thumbnail " + thumbs.resolve("frame-0000.jpg") + " (160x90)")
                .containsPattern("done: 12 frames in .*, 2 thumbnails in " + thumbs + ", 1 consumer\\(s\\)")
                .contains("buffers of the job left: 0");
        assertThat(out).contains("consumer pid " + run.consumerPid() + ": 12 frames sent, 0 dropped");
        // the frame's exporter field: the kernel's exp_name of vivid's buffers, or the exporter service's name
        assertThat(seen).contains("consumer: received 12 frames")
                .containsPattern("from (videobuf2_vmalloc|v4l2:vivid:video0)").contains(", 0 refused");
        BufferedImage img = ImageIO.read(thumbs.resolve("frame-0006.jpg").toFile());
        assertThat(img.getWidth()).isEqualTo(160);
        assertThat(img.getHeight()).isEqualTo(90);
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int x = 5; x < 160; x += 20) {
            colours.add(img.getRGB(x, 45) & 0xe0e0e0);
        }
        assertThat(colours).as("vivid's colour bars").hasSizeGreaterThan(3);
    }

    /** vivid's default test pattern, 75% colour bars: white, yellow, cyan, green, magenta, red, blue, black. */
    private static final int[][] BARS = {{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0},
        {191, 0, 191}, {191, 0, 0}, {0, 0, 191}, {0, 0, 0}};

    /** How far a thumbnail's colour may be from the bar's, per channel: YUV rounding, chroma subsampling, JPEG. */
    private static final int TOLERANCE = 48;

    @ParameterizedTest(name = "{1} on {0}")
    @CsvSource({"/dev/video0, YUYV, 1", "/dev/video0, NV12, 1", "/dev/video1, NM12, 2", "/dev/video1, YM12, 3",
        "/dev/video1, YUYV, 1"})
    void aCapturedFrameOfEveryLayoutIsSharedWithAnotherProcessWhoseThumbnailShowsTheColourBars(String node,
            String fourcc, int buffers) throws Exception {
        Path thumbs = tmp.resolve("consumer-thumbs");
        Run run = run(node, fourcc, 3, 100, tmp.resolve("thumbs"), thumbs);
        String out = run.out();
        String seen = run.seen();
        assertThat(out).as(out).contains("consumer pid " + run.consumerPid() + ": 3 frames sent, 0 dropped")
                .contains("buffers of the job left: 0");
        Matcher layout = Pattern.compile("source: V4L2 camera \\S+ \\d+x\\d+ \\((.*)\\)").matcher(out);
        assertThat(layout.find()).as(out).isTrue();
        assertThat(seen).as(seen).contains("consumer: received 3 frames").contains(", 0 refused")
                .contains(buffers + " buffer(s) of")
                .as("the consumer received the layout the driver set").contains(", " + layout.group(1));
        Path first = thumbs.resolve("consumer-0000.jpg");
        assertThat(seen).contains("consumer: thumbnail " + first);
        BufferedImage img = ImageIO.read(first.toFile());
        assertThat(img.getWidth()).isEqualTo(Thumbnails.WIDTH);
        int y = img.getHeight() * 7 / 8; // below vivid's text lines
        for (int bar = 0; bar < BARS.length; bar++) {
            int x = (2 * bar + 1) * img.getWidth() / (2 * BARS.length);
            int rgb = img.getRGB(x, y);
            int[] got = {rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff};
            for (int c = 0; c < 3; c++) {
                assertThat(got[c]).as("%s on %s: bar %d at (%d, %d) is %s, expected %s", fourcc, node, bar, x, y,
                        Arrays.toString(got), Arrays.toString(BARS[bar]))
                        .isBetween(BARS[bar][c] - TOLERANCE, BARS[bar][c] + TOLERANCE);
            }
        }
    }
}
