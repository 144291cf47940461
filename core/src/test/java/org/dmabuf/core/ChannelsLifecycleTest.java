package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;

/**
 * The per-bundle {@link ChannelsService} as SCR drives it: constructed for a using bundle, deactivated when that
 * bundle stops, which closes every listener (removing its socket file) and channel the bundle left open, even while
 * other threads listen, connect, accept and receive.
 */
class ChannelsLifecycleTest {
    @TempDir
    Path tmp;
    BufferRegistry registry;
    StandaloneRegistry other;
    private long socketsBefore;
    private long fdsBefore;

    @BeforeEach
    void open() {
        socketsBefore = sockets();
        fdsBefore = Leaks.openFds();
        registry = new BufferRegistry();
        TestExporter e = new TestExporter("system", 100);
        registry.bindExporter(e, e.props);
        other = ChannelFixture.registry("other-process");
    }

    @AfterEach
    void nothingLeft() {
        other.close();
        assertThat(registry.liveCount()).as("buffers left").isZero();
        assertThat(sockets()).as("sockets left").isEqualTo(socketsBefore);
        assertThat(Leaks.openFds()).as("buffer fds left").isEqualTo(fdsBefore);
    }

    /** Open socket fds of this process. */
    static long sockets() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static ComponentContext contextFor(String bundle) {
        Bundle b = (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "getSymbolicName" -> bundle;
                    case "getBundleId" -> 7L;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        return (ComponentContext) Proxy.newProxyInstance(ComponentContext.class.getClassLoader(),
                new Class<?>[] {ComponentContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getUsingBundle" -> b;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static List<Path> socketFiles(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void deactivateClosesTheListenersAndChannelsTheBundleLeftOpen() throws Exception {
        ChannelsService service = new ChannelsService(registry, contextFor("client"));
        Path dir = tmp.resolve("run");
        ChannelListener listener = service.listen(dir.resolve("a.sock"), ChannelOptions.sameUser());
        BufferChannel remote = other.channels().connect(listener.path(), ChannelOptions.sameUser());
        BufferChannel accepted = listener.accept(Duration.ofSeconds(10));
        ChannelListener theirs = other.channels().listen(dir.resolve("theirs.sock"), ChannelOptions.sameUser());
        BufferChannel connected = service.connect(theirs.path(), ChannelOptions.sameUser());
        try (BufferChannel theirEnd = theirs.accept(Duration.ofSeconds(10));
             DmaBuf b = other.allocate(BufferRequest.ofSize(4096).name("held"))) {
            remote.send(b, 1);
            ReceivedBuffer held = accepted.receive(Duration.ofSeconds(10));
            assertThat(held.buffer().refCount()).isPositive();
            assertThat(service.openCount()).isEqualTo(3);

            service.deactivate();

            assertThat(socketFiles(dir)).as("the bundle's socket file is removed, the other's kept")
                    .containsExactly(theirs.path());
            assertThat(service.openCount()).isZero();
            assertThatThrownBy(() -> remote.receive(Duration.ofSeconds(10))).hasMessageContaining("EPIPE");
            assertThatThrownBy(() -> theirEnd.receive(Duration.ofSeconds(10))).hasMessageContaining("EPIPE");
            assertThat(registry.liveCount()).as("the bundle's received buffer is released; the sender's remains")
                    .isZero();
            assertThatThrownBy(() -> service.listen(dir.resolve("b.sock"), ChannelOptions.sameUser()))
                    .isInstanceOf(DmaBufException.class).hasMessageContaining("listen: ENODEV");
            assertThatThrownBy(() -> service.connect(theirs.path(), ChannelOptions.sameUser()))
                    .isInstanceOf(DmaBufException.class).hasMessageContaining("connect: ENODEV");
            assertThat(socketFiles(dir)).containsExactly(theirs.path());
            assertThatThrownBy(() -> accepted.receive(Duration.ofSeconds(1))).hasMessageContaining("EPIPE");
            // closing them again, as their user still may, is harmless
            listener.close();
            accepted.close();
            connected.close();
            held.close();
        } finally {
            remote.close();
            theirs.close();
        }
    }

    @Test
    void deactivateRacingListenConnectAcceptAndReceiveLeavesNothingBehind() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 10; round++) {
                race(threads, tmp.resolve("round-" + round));
            }
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private void race(ExecutorService threads, Path dir) throws Exception {
        ChannelsService service = new ChannelsService(registry, contextFor("racer"));
        ChannelListener base = service.listen(dir.resolve("base.sock"), ChannelOptions.sameUser());
        BufferChannel client = other.channels().connect(base.path(), ChannelOptions.sameUser());
        BufferChannel server = base.accept(Duration.ofSeconds(10));
        List<Throwable> untyped = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch started = new CountDownLatch(4);
        CountDownLatch done = new CountDownLatch(4);
        Runnable[] work = {
            () -> { // listen, leaving some open for deactivate to close
                for (int i = 0; i < 100; i++) {
                    ChannelListener l = service.listen(dir.resolve("l" + i + ".sock"), ChannelOptions.sameUser());
                    if (i % 2 == 0) {
                        l.close();
                    }
                }
            },
            () -> { // connect to the base listener, leaving the channels open
                for (int i = 0; i < 100; i++) {
                    service.connect(base.path(), ChannelOptions.sameUser());
                }
            },
            () -> { // accept them
                while (true) {
                    base.accept(null);
                }
            },
            () -> { // a receive blocked until deactivate wakes it
                while (true) {
                    try (ReceivedBuffer r = server.receive(null)) {
                        assertThat(r).isNotNull();
                    }
                }
            },
        };
        for (Runnable w : work) {
            threads.execute(() -> {
                started.countDown();
                try {
                    w.run();
                } catch (DmaBufException e) {
                    // typed: ENODEV after deactivate, EPIPE for a closed socket, ECONNREFUSED for a closed listener
                } catch (Throwable t) {
                    untyped.add(t);
                } finally {
                    done.countDown();
                }
            });
        }
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> service.openCount() >= 20);
        service.deactivate();
        assertThat(done.await(60, TimeUnit.SECONDS)).as("every thread ended").isTrue();
        assertThat(untyped).as("only typed errors").isEmpty();
        assertThat(service.openCount()).isZero();
        assertThat(socketFiles(dir)).as("no socket file left").isEmpty();
        assertThatThrownBy(() -> client.receive(Duration.ofSeconds(10))).hasMessageContaining("EPIPE");
        client.close();
    }
}
