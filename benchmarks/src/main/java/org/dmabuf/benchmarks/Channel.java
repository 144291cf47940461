package org.dmabuf.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A channel hop between two processes on a wire-v2 channel with releases: send a frame, the peer receives it and
 * closes it (which sends the RELEASE), the sender waits for it with awaitRelease (reading the RELEASE itself). The peer is a second JVM ({@link Peer}) or the
 * C program ({@code baseline peer}). {@code hop4k}: a 4 KiB memfd; {@code share64m}: a 64 MiB frame of a pool of
 * two, which the Java peer maps and reads the first and last 8 bytes of, keeping a reference to every buffer it
 * has seen.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@State(Scope.Thread)
public class Channel {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** The peer: {@code java} or {@code c}. */
    @Param({"java", "c"})
    public String peer;

    private Env env;
    private Path dir;
    private ChannelListener listener;
    private Process process;
    private BufferChannel channel;
    private FrameBuffer small;
    private BufferPool pool;
    private long sent;

    @Setup(Level.Trial)
    public void open() throws IOException {
        env = new Env("bench-channel");
        dir = Files.createTempDirectory("dmabuf-bench");
        listener = env.registry.channels().listen(dir.resolve("hop.sock"), ChannelOptions.sameUser().withReleases());
        List<String> cmd = new ArrayList<>();
        if (peer.equals("c")) {
            cmd.add(System.getProperty("dmabuf.bench.cbin", "target/c/baseline"));
            cmd.add("peer");
        } else {
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("-Ddmabuf.bench.exporter=" + Env.EXPORTER);
            cmd.add(Peer.class.getName());
        }
        cmd.add(listener.path().toString());
        process = new ProcessBuilder(cmd).inheritIO().start();
        channel = listener.accept(WAIT);
        small = env.registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64).name("hop")); // 4 KiB
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        channel.close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        listener.close();
        small.close();
        if (pool != null) {
            pool.close();
        }
        env.close();
        Files.deleteIfExists(dir);
    }

    /** Waits for the frame back as a producer reusing its buffer does: the waiting thread reads the RELEASE. */
    private void awaitRelease(long frameId) {
        if (!channel.awaitRelease(frameId, WAIT)) {
            throw new IllegalStateException("frame " + frameId + " not released within " + WAIT);
        }
    }

    @Benchmark
    public void hop4k() {
        awaitRelease(channel.send(small, sent++, WAIT));
    }

    @Benchmark
    public void share64m() {
        if (pool == null) {
            pool = env.registry.createPool(BufferRequest.ofFormat(PixelFormat.GREY, 8192, 8192).name("share"), 2);
        }
        long id;
        try (FrameBuffer f = pool.acquire(WAIT)) {
            id = channel.send(f, sent++, WAIT);
        }
        awaitRelease(id);
    }
}
