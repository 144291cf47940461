package org.dmabuf.core;

import java.nio.file.Path;
import java.time.Duration;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;

/**
 * The second process of the channel tests, started with {@link ProcessBuilder}:
 * <ul>
 * <li>{@code answer SOCKET}: receive one buffer, check the pattern, write {@code tag * 3 + 1} at {@code size - 8};</li>
 * <li>{@code send SOCKET SIZE TAG}: send a buffer holding the pattern, wait until the peer closes, check that it
 *     wrote {@code tag * 5} at offset 8;</li>
 * <li>{@code hold SOCKET}: receive one buffer, say so, and block until killed.</li>
 * </ul>
 * Exits 0 on success, 1 with a line on stdout otherwise. The pattern: byte {@code i} is {@code i * 31 + tag}.
 */
public final class PeerMain {
    private PeerMain() {
    }

    /**
     * The classpath a peer process needs, from where its classes were loaded (under a JUnit launcher
     * {@code java.class.path} names only the launcher).
     */
    static String classpath() {
        java.util.Set<String> parts = new java.util.LinkedHashSet<>();
        for (Class<?> c : new Class<?>[] {PeerMain.class, StandaloneRegistry.class, org.dmabuf.linux.Sys.class,
            org.dmabuf.api.DmaBuf.class, com.sun.jna.Native.class}) {
            try {
                parts.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (java.net.URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** A command line that starts this class in a new JVM. */
    static java.util.List<String> command(String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                "-XX:TieredStopAtLevel=1", "-Djna.tmpdir=" + System.getProperty("java.io.tmpdir") + "/jna-peer",
                "-cp", classpath(), PeerMain.class.getName()));
        cmd.addAll(java.util.List.of(args));
        return cmd;
    }

    static byte pattern(long i, long tag) {
        return (byte) (i * 31 + tag);
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[1]);
        try (StandaloneRegistry registry = new StandaloneRegistry("peer")) {
            TestExporter exporter = new TestExporter("peer-memfd", 1);
            registry.addExporter(exporter, exporter.props);
            try (BufferChannel ch = registry.channels().connect(socket, ChannelOptions.sameUser())) {
                switch (args[0]) {
                    case "answer" -> answer(ch);
                    case "send" -> send(registry, ch, Long.parseLong(args[2]), Long.parseLong(args[3]));
                    case "hold" -> {
                        ReceivedBuffer r = ch.receive(Duration.ofSeconds(60));
                        r.buffer().mmap();
                        System.out.println("peer: holding inode " + r.buffer().inode());
                        System.out.flush();
                        Thread.sleep(Long.MAX_VALUE);
                    }
                    default -> throw new IllegalArgumentException(args[0]);
                }
            }
        } catch (Throwable t) {
            System.out.println("peer: FAILED: " + t);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void answer(BufferChannel ch) {
        try (ReceivedBuffer r = ch.receive(Duration.ofSeconds(60))) {
            DmaBuf b = r.buffer();
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ_WRITE)) {
                byte[] all = new byte[(int) b.size() - 8];
                a.read(0, all, 0, all.length);
                for (int i = 0; i < all.length; i++) {
                    if (all[i] != pattern(i, r.tag())) {
                        throw new AssertionError("pattern wrong at " + i);
                    }
                }
                a.putLong(b.size() - 8, r.tag() * 3 + 1);
            }
            System.out.println("peer: received '" + r.name() + "' tag " + r.tag() + " from " + r.exporter()
                    + ", pattern ok, answered");
        }
    }

    private static void send(StandaloneRegistry registry, BufferChannel ch, long size, long tag) {
        try (DmaBuf b = registry.allocate(BufferRequest.ofSize(size).name("from-peer"))) {
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
                byte[] all = new byte[(int) size];
                for (int i = 0; i < all.length; i++) {
                    all[i] = pattern(i, tag);
                }
                a.write(0, all, 0, all.length);
                a.putLong(8, 0);
            }
            ch.send(b, tag);
            try {
                ch.receive(Duration.ofSeconds(60));
                throw new AssertionError("expected the peer to close");
            } catch (org.dmabuf.api.DmaBufException e) {
                if (!"EPIPE".equals(e.errno())) {
                    throw e;
                }
            }
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
                long answer = a.getLong(8);
                if (answer != tag * 5) {
                    throw new AssertionError("answer " + answer + ", expected " + tag * 5);
                }
            }
            System.out.println("peer: sent, answer ok");
        }
    }
}
