package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link UnixSocket} reuses one block of native memory per direction (msghdr, iovec, control, data) for every
 * message: nothing of a message may reach the next one.
 */
class UnixSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + seed);
        }
        return b;
    }

    @Test
    void aTimeAlreadyOutStillLooksOnceAndFindsWhatIsThere() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            a.send(bytes(3, 1), WAIT);
            // a deadline already past when the poll comes, as for a thread descheduled between the two
            assertThat(b.awaitReadable(Duration.ofMillis(-5))).as("past deadline, a message waiting").isTrue();
            assertThat(b.awaitReadable(Duration.ZERO)).as("zero timeout, a message waiting").isTrue();
            try (UnixSocket.Message m = b.receive(4096, Duration.ZERO)) {
                assertThat(m.data()).isEqualTo(bytes(3, 1));
            }
            assertThat(b.awaitReadable(Duration.ofMillis(-5))).as("past deadline, nothing waiting").isFalse();
            assertThat(b.awaitReadable(Duration.ZERO)).as("zero timeout, nothing waiting").isFalse();
        }
    }

    @Test
    void eachMessageCarriesItsOwnBytesAndFdsAndNothingOfTheOneBefore() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
             Fd one = Sys.memfd("one", 0); Fd two = Sys.memfd("two", 0); Fd three = Sys.memfd("three", 0)) {
            int[][] fds = {{one.get(), two.get(), three.get()}, {}, {two.get()}, {}, {one.get(), three.get()}};
            int[] lengths = {4096, 3, 0, 1000, 17};
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < fds.length; i++) {
                    byte[] data = bytes(lengths[i], i + round);
                    a.send(data, i % 2 == 0 ? null : WAIT, fds[i]);
                    // null timeout: recvmsg waits itself; a timeout: poll first
                    try (UnixSocket.Message m = b.receive(4096, i % 2 == 0 ? WAIT : null)) {
                        assertThat(m.data()).as("message %d", i).isEqualTo(data);
                        assertThat(m.fds()).as("fds of message %d", i).hasSize(fds[i].length);
                        for (int k = 0; k < fds[i].length; k++) {
                            assertThat(Sys.fstat(m.fds().get(k).get()).id())
                                    .isEqualTo(Sys.fstat(fds[i][k]).id());
                        }
                    }
                }
            }
            // and back the other way, with the other direction's block
            b.send(bytes(5, 9), one.get());
            b.send(bytes(2, 8));
            try (UnixSocket.Message m = a.receive(4096, WAIT)) {
                assertThat(m.data()).isEqualTo(bytes(5, 9));
                assertThat(m.fds()).hasSize(1);
            }
            try (UnixSocket.Message m = a.receive(4096, null)) {
                assertThat(m.data()).isEqualTo(bytes(2, 8));
                assertThat(m.fds()).isEmpty();
            }
        }
    }

    @Test
    void aMessageTooLongIsRefusedAndTheNextOneReadsWhole() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Fd fd = Sys.memfd("refused", 0)) {
            a.send(bytes(300, 1), fd.get());
            a.send(bytes(100, 2));
            assertThatThrownBy(() -> b.receive(200, null)).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("EMSGSIZE");
            try (UnixSocket.Message m = b.receive(200, null)) {
                assertThat(m.data()).isEqualTo(bytes(100, 2));
                assertThat(m.fds()).isEmpty();
            }
        }
    }

    @Test
    void aReceiveWithoutTimeoutBlockedInRecvmsgEndsTypedWhenTheSocketIsClosed() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]) {
            UnixSocket b = pair[1];
            java.util.concurrent.CompletableFuture<Throwable> ended = new java.util.concurrent.CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    b.receive(4096, null);
                    ended.complete(null);
                } catch (Throwable e) {
                    ended.complete(e);
                }
            });
            t.start();
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> Arrays.stream(t.getStackTrace())
                    .anyMatch(e -> e.getMethodName().equals("recvmsg")));
            b.close();
            assertThat(ended.get(10, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("EPIPE").hasMessageContaining("the socket was closed");
            t.join();
            assertThatThrownBy(() -> b.send(bytes(1, 1))).hasMessageContaining("EPIPE");
            assertThatThrownBy(() -> b.receive(4096, null)).hasMessageContaining("EPIPE");
        }
    }
}
