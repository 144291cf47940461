package org.dmabuf.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** The registry's bookkeeping: bufinfo with 10 000 live buffers; a pool's acquire and release (Java only). */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class Registry {
    /** 10 000 live buffers of 4 KiB. */
    @State(Scope.Thread)
    public static class Many {
        Env env;
        final List<DmaBuf> buffers = new ArrayList<>();

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-bufinfo");
            BufferRequest r = BufferRequest.ofSize(4096).name("live");
            for (int i = 0; i < 10_000; i++) {
                buffers.add(env.registry.allocate(r));
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            buffers.forEach(DmaBuf::close);
            env.close();
        }
    }

    /** A pool of 4 frames of 64x64 GREY (4 KiB). */
    @State(Scope.Thread)
    public static class Pool {
        Env env;
        BufferPool pool;

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-pool");
            pool = env.registry.createPool(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64).name("pool"), 4);
        }

        @TearDown(Level.Trial)
        public void close() {
            pool.close();
            env.close();
        }
    }

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Benchmark
    public int bufinfo(Many s) {
        List<BufferInfo> all = s.env.registry.bufinfo();
        return all.size();
    }

    @Benchmark
    public int poolAcquireRelease(Pool s) {
        FrameBuffer f = s.pool.acquire(WAIT);
        int n = f.buffers().size();
        f.close();
        return n;
    }
}
