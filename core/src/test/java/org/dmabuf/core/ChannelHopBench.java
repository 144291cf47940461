package org.dmabuf.core;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;

/**
 * A measurement, not a test: the channel hop of {@code docs/wire-format.md} between two processes, Java and C, in one
 * run and interleaved, so that ratios compare like with like on a busy machine. A hop: a one-buffer 4 KiB memfd frame
 * sent with releases, received by a peer process that closes it (which sends the RELEASE), the sender seeing the
 * release. Per round it prints the median hop of Java to Java, Java to C, C to Java and C to C
 * ({@code src/test/c/channel_hop.c}), and of a 64 MiB zero-copy share to a Java receiver that keeps the buffers it
 * has seen (so their mappings) and reads the first and last 8 bytes of each frame.
 *
 * <pre>
 * java -cp CLASSPATH org.dmabuf.core.ChannelHopBench run ROUNDS HOPS [PATH_OF_BUILT_channel_hop] [rel|plain]
 * </pre>
 *
 * {@code plain}: the Java receivers connect without releases of their own (no reader thread); {@code rel}: with.
 * The system property {@code peer.jvm} adds JVM options to the Java peers ({@code %n} is replaced by their mode,
 * e.g. {@code -XX:StartFlightRecording=filename=peer-%n.jfr}). Threads: main only, plus one draining thread.
 */
public final class ChannelHopBench {
    static volatile long released;
    /** What the share receiver read, kept so that the reads are not optimised away. */
    static volatile long sink;
    static Thread main;
    static final Map<BufferChannel, Long> IDS = new HashMap<>();

    public static void main(String[] args) throws Exception {
        if (args[0].equals("recv") || args[0].equals("share")) {
            peer(Path.of(args[1]), args[0].equals("share"), args.length > 2 && args[2].equals("plain"));
            return;
        }
        int rounds = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        String hop = args.length > 3 ? args[3] : org.dmabuf.linux.CProbe.compile(Path.of("src/test/c/channel_hop.c"),
                Path.of("target/probe"), "-O2").toString();
        String peerOpts = args.length > 4 ? args[4] : "rel";
        String jvmExtra = System.getProperty("peer.jvm", "");
        main = Thread.currentThread();
        Path dir = Files.createTempDirectory("hop");
        StandaloneRegistry reg = ChannelFixture.registry("bench");
        ChannelListener l = reg.channels().listen(dir.resolve("s"), ChannelOptions.sameUser().withReleases());
        List<String> jcmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (!jvmExtra.isEmpty()) {
            jcmd.addAll(List.of(jvmExtra.split(" ")));
        }
        jcmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ChannelHopBench.class.getName()));
        List<String> recv = new ArrayList<>(jcmd);
        recv.replaceAll(x -> x.replace("%n", "recv"));
        recv.addAll(List.of("recv", l.path().toString(), peerOpts));
        Process jp = new ProcessBuilder(recv).inheritIO().start();
        BufferChannel toJava = l.accept(Duration.ofSeconds(60));
        List<String> share = new ArrayList<>(jcmd);
        share.replaceAll(x -> x.replace("%n", "share"));
        share.addAll(List.of("share", l.path().toString(), peerOpts));
        Process js = new ProcessBuilder(share).inheritIO().start();
        BufferChannel toJavaShare = l.accept(Duration.ofSeconds(60));
        Process cp = new ProcessBuilder(hop, "recv", l.path().toString()).inheritIO().start();
        BufferChannel toC = l.accept(Duration.ofSeconds(60));
        Process cs = new ProcessBuilder(hop, "send", l.path().toString(), "4096").redirectError(
                ProcessBuilder.Redirect.INHERIT).start();
        BufferChannel fromC = l.accept(Duration.ofSeconds(60));
        Thread drain = new Thread(() -> {
            try {
                while (true) {
                    ReceivedBuffer r = fromC.receive(null);
                    r.close();
                }
            } catch (RuntimeException e) {
                // end
            }
        });
        drain.setDaemon(true);
        drain.start();
        Process cc = new ProcessBuilder(hop, "pair", "4096").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        DmaBuf b = reg.allocate(BufferRequest.ofSize(4096).name("hop"));
        DmaBuf big = reg.allocate(BufferRequest.ofSize(64L << 20).name("share"));
        try (CpuAccess a = big.beginCpuAccess(SyncDirection.WRITE)) {
            a.putLong(0, 1);
            a.putLong(big.size() - 8, 2);
        }
        for (BufferChannel ch : List.of(toJava, toC, toJavaShare)) {
            ch.onRelease(id -> {
                released = id;
                LockSupport.unpark(main);
            });
        }
        System.out.printf("%6s %8s %8s %8s %8s %8s  %6s %6s %6s%n", "round", "J->J", "J->C", "C->J", "C->C",
                "share", "JJ/CC", "JC/CC", "CJ/CC");
        for (int r = 0; r < rounds; r++) {
            long jj = hops(toJava, b, n);
            long jc = hops(toC, b, n);
            long cj = ask(cs, n);
            long ccx = ask(cc, n);
            long sh = hops(toJavaShare, big, Math.max(1, n / 4));
            System.out.printf("%6d %8.1f %8.1f %8.1f %8.1f %8.1f  %6.2f %6.2f %6.2f%n", r, jj / 1e3, jc / 1e3,
                    cj / 1e3, ccx / 1e3, sh / 1e3, (double) jj / ccx, (double) jc / ccx, (double) cj / ccx);
        }
        toJava.close();
        toJavaShare.close();
        toC.close();
        cs.getOutputStream().close();
        cc.getOutputStream().close();
        jp.waitFor();
        js.waitFor();
        cp.waitFor();
        cs.waitFor();
        cc.waitFor();
        fromC.close();
        b.close();
        big.close();
        l.close();
        reg.close();
        Files.deleteIfExists(dir);
        System.exit(0);
    }

    private static long hops(BufferChannel ch, DmaBuf b, int n) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long a = System.nanoTime();
            ch.send(b, i, Duration.ofSeconds(10));
            long id = IDS.merge(ch, 1L, Long::sum);
            while (released != id) {
                LockSupport.park();
            }
            t[i] = System.nanoTime() - a;
        }
        Arrays.sort(t);
        return t[n / 2];
    }

    private static long ask(Process p, int n) throws Exception {
        PrintWriter w = new PrintWriter(p.getOutputStream(), true);
        w.println(n);
        BufferedReader r = p.inputReader();
        return Long.parseLong(r.readLine().trim());
    }

    private static void peer(Path sock, boolean share, boolean plain) {
        StandaloneRegistry reg = ChannelFixture.registry("peer");
        ChannelOptions o = plain ? ChannelOptions.sameUser() : ChannelOptions.sameUser().withReleases();
        Map<BufferId, DmaBuf> kept = new HashMap<>();
        long sum = 0;
        try (BufferChannel ch = reg.channels().connect(sock, o)) {
            while (true) {
                try (ReceivedBuffer r = ch.receive(null)) {
                    if (share) {
                        DmaBuf d = r.buffer();
                        kept.computeIfAbsent(d.id(), k -> d.get());
                        try (CpuAccess a = d.beginCpuAccess(SyncDirection.READ)) {
                            sum += a.getLong(0) + a.getLong(d.size() - 8);
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            // end
        }
        kept.values().forEach(DmaBuf::close);
        reg.close();
        sink = sum;
        System.exit(0);
    }
}
