package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped consumer program ({@code java -cp dmabuf-gateway.jar org.dmabuf.gateway.Consumer SOCKET}) against a
 * peer that sends bad frames between good ones. The peer's good frames are the library's own: it sends each buffer
 * on a channel to itself, reads the message raw from the other end, and passes it on to the consumer as it came,
 * or spoiled.
 */
class ConsumerIT {
    @TempDir
    Path tmp;

    @Test
    void aRefusedFrameIsCountedAndTheConsumerGoesOnToThePeersEndOfStream() throws Exception {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar"));
        Path run = Files.createDirectories(tmp.resolve("run"));
        Path socket = run.resolve("frames.sock");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (StandaloneRegistry registry = new StandaloneRegistry("peer").addExporter(new MemfdTestExporter(),
                MemfdTestExporter.properties("memfd"));
             UnixSocket selfListener = UnixSocket.listen(run.resolve("self.sock"), 0600);
             BufferChannel toSelf = registry.channels().connect(run.resolve("self.sock"), ChannelOptions.sameUser());
             UnixSocket fromSelf = selfListener.accept(Duration.ofSeconds(30));
             UnixSocket listener = UnixSocket.listen(socket, 0600)) {
            Process consumer = new ProcessBuilder(java, "-cp", jar.toString(), "org.dmabuf.gateway.Consumer",
                    socket.toString(), "60").redirectErrorStream(true).start();
            try (UnixSocket toConsumer = listener.accept(Duration.ofSeconds(60))) {
                assertThat(toConsumer).as("the consumer connects").isNotNull();
                for (int tag = 0; tag < 6; tag++) {
                    try (DmaBuf b = registry.allocate(BufferRequest.ofSize(4096).name("good-" + tag))) {
                        toSelf.send(b, tag);
                        try (UnixSocket.Message m = fromSelf.receive(4096, Duration.ofSeconds(30))) {
                            int fd = m.fds().get(0).get();
                            byte[] frame = m.data().clone();
                            if (tag == 2) {
                                toConsumer.send(frame); // a buffer frame without its fd
                            } else if (tag == 4) {
                                frame[0] ^= (byte) 0xff; // bad magic
                                toConsumer.send(frame, fd);
                            } else {
                                toConsumer.send(frame, fd);
                            }
                        }
                    }
                }
            } // the peer's end of stream
            String out = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(consumer.waitFor(60, TimeUnit.SECONDS)).as("the consumer exits").isTrue();
            assertThat(consumer.exitValue()).as("its status; it said:%n%s", out).isZero();
            assertThat(out).contains("consumer: frame refused: receive: EPROTO")
                    .containsPattern("frame refused: .*exactly one fd")
                    .containsPattern("frame refused: .*bad magic")
                    .contains("consumer: received 4 frames (0 pattern frames verified), 2 refused");
            consumer.getOutputStream().close();
            consumer.getInputStream().close();
        }
    }
}
