package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of whole processes around the distribution ({@code java -jar dmabuf-gateway.jar --run}, memfd buffers on
 * this host): a consumer program SIGKILLed while it holds frames, and the gateway itself SIGKILLed and started
 * again on the same work folder and socket. Every process is read by its own reader thread, which the test owns
 * and joins; every process it started is killed at the end if still alive.
 */
class GatewayFaultIT {
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    private final List<Output> started = new ArrayList<>();

    /** A started process and what it printed so far, read by a thread of its own. */
    private static final class Output {
        final Process process;
        final StringBuffer text = new StringBuffer();
        final Thread reader;

        Output(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                        text.append(line).append('\n');
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "output of pid " + process.pid());
            reader.start();
        }

        String finish(String who) throws Exception {
            assertThat(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as(who + " exits").isTrue();
            reader.join(WAIT.toMillis());
            assertThat(process.exitValue()).as("%s's exit status; output:%n%s", who, text).isZero();
            return text.toString();
        }
    }

    private Output start(String... command) throws IOException {
        Output o = new Output(new ProcessBuilder(command).redirectErrorStream(true).start());
        started.add(o);
        return o;
    }

    @AfterEach
    void killWhatIsLeft() throws Exception {
        for (Output o : started) {
            o.process.destroyForcibly();
            o.process.waitFor(30, TimeUnit.SECONDS);
            o.reader.join(30_000);
        }
    }

    private static String jar() {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar"));
        assertThat(jar).isRegularFile();
        return jar.toString();
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private Output consumer(Path socket) throws IOException {
        return start(java(), "-cp", jar(), "org.dmabuf.gateway.Consumer", socket.toString(), "60");
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %d", signal, p.pid()).isZero();
    }

    /** The highest frame number of the gateway's thumbnail lines so far ({@code frame N/M ...}), or 0. */
    private static int lastFrame(Output gateway) {
        Matcher m = Pattern.compile("frame (\\d+)/\\d+ \\(sequence").matcher(gateway.text);
        int last = 0;
        while (m.find()) {
            last = Math.max(last, Integer.parseInt(m.group(1)));
        }
        return last;
    }

    /**
     * A connected consumer was sent every frame or had it dropped (a consumer that falls behind on a loaded machine
     * loses frames, by design), and received and verified every frame it was sent.
     */
    private static void assertEveryFrameSentOrDropped(String out, String seen, long pid, int frames) {
        Matcher m = Pattern.compile("consumer pid " + pid + ": (\\d+) frames sent, (\\d+) dropped").matcher(out);
        assertThat(m.find()).as("the consumer's count in:%n%s", out).isTrue();
        long sent = Long.parseLong(m.group(1));
        assertThat(sent + Long.parseLong(m.group(2))).as("every frame sent or dropped").isEqualTo(frames);
        assertThat(sent).isPositive();
        assertThat(seen).contains("consumer: received " + sent + " frames (" + sent + " pattern frames verified), "
                + "0 refused");
    }

    @Test
    void aConsumerSigkilledWhileHoldingFramesLeavesAndThePipelineGoesOnWithEveryFrameReturned() throws Exception {
        int frames = 240;
        int queue = 16;
        Path socket = tmp.resolve("run/frames.sock");
        Output survivor = consumer(socket);
        Output victim = consumer(socket);
        Output gateway = start(java(), "-jar", jar(), "--run", "--frames", Integer.toString(frames), "--every", "10",
                "--fps", "60", "--consumers", "2", "--queue", Integer.toString(queue), "--output",
                tmp.resolve("thumbs").toString(), "--socket", socket.toString(), "--work", tmp.resolve("work")
                .toString());
        await("the victim's first frame").atMost(WAIT).until(() -> victim.text.indexOf("consumer: frame ") >= 0);
        // stopped, the victim reads no more: the frames sent to it stay sent and unreturned (held) up to the bound
        signal(victim.process, "STOP");
        int stoppedAt = lastFrame(gateway);
        await("the gateway " + 2 * queue + " frames further").atMost(WAIT)
                .until(() -> lastFrame(gateway) >= stoppedAt + 2 * queue);
        signal(victim.process, "KILL");
        assertThat(victim.process.waitFor(30, TimeUnit.SECONDS)).isTrue();

        String out = gateway.finish("the gateway");
        String seen = survivor.finish("the surviving consumer");
        long pid = victim.process.pid();
        Matcher left = Pattern.compile("consumer pid " + pid + " left: .*\\((\\d+) frames sent, (\\d+) dropped\\)")
                .matcher(out);
        assertThat(left.find()).as("the killed consumer left; the gateway said:%n%s", out).isTrue();
        assertThat(Long.parseLong(left.group(2))).as("frames dropped for the stopped consumer: it held the bound")
                .isPositive();
        assertThat(out).containsPattern("done: " + frames + " frames in [0-9.]+ s")
                .contains("bufinfo after release: 0 buffer(s)").contains("buffers of the job left: 0");
        assertEveryFrameSentOrDropped(out, seen, survivor.process.pid(), frames);
    }

    @Test
    void aGatewaySigkilledAndStartedAgainIsNotStoppedByTheSocketFileItLeft() throws Exception {
        Path socket = tmp.resolve("run/frames.sock");
        Path work = tmp.resolve("work");
        Output first = start(java(), "-jar", jar(), "--run", "--frames", "1000000", "--every", "1000000", "--fps",
                "30", "--output", tmp.resolve("thumbs").toString(), "--socket", socket.toString(), "--work",
                work.toString(), "--timeout", "600");
        await("the first gateway's first frame").atMost(WAIT)
                .until(() -> first.text.indexOf("first frame: ") >= 0);
        assertThat(socket).exists();
        signal(first.process, "KILL");
        assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(socket).as("the socket file the killed gateway left").exists();
        assertThatThrownBy(() -> UnixSocket.connect(socket).close()).as("nobody listens on it")
                .isInstanceOf(LinuxException.class).hasMessageContaining("ECONNREFUSED");

        Output second = start(java(), "-jar", jar(), "--run", "--frames", "30", "--every", "10", "--consumers", "1",
                "--queue", "32", "--output", tmp.resolve("thumbs2").toString(), "--socket", socket.toString(), "--work",
                work.toString());
        // the consumer once the new gateway listens (the file's identity cannot tell: the new socket file may get
        // the stale one's inode number again)
        await("the gateway started again listens").atMost(WAIT)
                .until(() -> second.text.indexOf("frames offered on " + socket) >= 0);
        Output consumer = consumer(socket);
        String out = second.finish("the gateway started again");
        String seen = consumer.finish("the consumer");
        assertThat(out).contains("consumer connected: pid " + consumer.process.pid())
                .containsPattern("done: 30 frames in [0-9.]+ s")
                .contains("bufinfo after release: 0 buffer(s)").contains("buffers of the job left: 0");
        assertThat(seen).contains("consumer: connected to pid " + second.process.pid());
        assertEveryFrameSentOrDropped(out, seen, consumer.process.pid(), 30);
        assertThat(Files.exists(socket)).as("the socket file, removed when the gateway ended").isFalse();
    }
}
