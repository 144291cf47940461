package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution on real devices, in the kernel guest: a vivid camera configured through the conf folder feeds
 * the pipeline, the heaps are the exporters, and the consumer program receives the camera's dma-bufs.
 */
@Tag("kernel")
class GatewayKernelTest {
    @TempDir
    Path tmp;

    @Test
    void theCameraFeedsThumbnailsAndTheConsumer() throws Exception {
        Path testClasses = Path.of(GatewayKernelTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = testClasses.resolveSibling("dmabuf-gateway.jar");
        assertThat(jar).isRegularFile();
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("org.dmabuf.exporter.v4l2~camera.cfg"),
                "dev.path=/dev/video0\nwidth=320\nheight=240\npixel.format=YUYV\nbuffer.count=4\n");
        Path thumbs = tmp.resolve("thumbs");
        Path socket = tmp.resolve("run/frames.sock");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process consumer = new ProcessBuilder(java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-cp",
                jar.toString(), "org.dmabuf.gateway.Consumer", socket.toString(), "300").redirectErrorStream(true)
                .start();
        Process gateway = new ProcessBuilder(java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-jar",
                jar.toString(), "--run", "--source", "camera", "--frames", "12", "--every", "6", "--consumers", "1",
                "--conf", conf.toString(), "--output", thumbs.toString(), "--socket", socket.toString(), "--timeout",
                "400").redirectErrorStream(true).start();
        String out = new String(gateway.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gateway.waitFor(420, TimeUnit.SECONDS)).isTrue();
        assertThat(gateway.exitValue()).as(out).isZero();
        String seen = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(consumer.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(consumer.exitValue()).as(seen).isZero();

        assertThat(out).containsPattern("exporters: system \\(dma-buf, ranking 300\\), udmabuf \\(dma-buf, ranking 200\\)"
                + ".*memfd \\(memfd, ranking 100\\)")
                .contains("source: V4L2 camera YUYV 320x180")
                .contains("thumbnail " + thumbs.resolve("frame-0000.jpg") + " (160x90)")
                .containsPattern("done: 12 frames in .*, 2 thumbnails in " + thumbs + ", 1 consumer\\(s\\)")
                .contains("buffers of the job left: 0");
        assertThat(out).contains("consumer pid " + consumer.pid() + ": 12 frames sent, 0 dropped");
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
}
