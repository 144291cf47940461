package org.dmabuf.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
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
 * {@code get(fd)} then put: of a buffer this registry knows, among {@code live} live buffers (C: dup, fstat,
 * close); of a memfd it has never seen (the fd made outside the measured call).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class Get {
    /** A registry with {@code live} live buffers of 4 KiB; the measured one is the middle one. */
    @State(Scope.Thread)
    public static class Live {
        @Param({"100", "10000", "100000"})
        public int live;

        Env env;
        final List<DmaBuf> buffers = new ArrayList<>();
        int fd;

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-get");
            BufferRequest r = BufferRequest.ofSize(4096).name("live");
            for (int i = 0; i < live; i++) {
                buffers.add(env.registry.allocate(r));
            }
            fd = buffers.get(live / 2).fd();
        }

        @TearDown(Level.Trial)
        public void close() {
            buffers.forEach(DmaBuf::close);
            env.close();
        }
    }

    /** A fresh sealable memfd of 4 KiB for each call, closed after it. */
    @State(Scope.Thread)
    public static class Fresh {
        Env env;
        Fd memfd;

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-get-new");
        }

        @Setup(Level.Invocation)
        public void make() {
            memfd = Sys.memfd("peer-made", LibC.MFD_ALLOW_SEALING);
            Sys.ftruncate(memfd.get(), 4096);
        }

        @TearDown(Level.Invocation)
        public void drop() {
            memfd.close();
        }

        @TearDown(Level.Trial)
        public void close() {
            env.close();
        }
    }

    @Benchmark
    public long known(Live s) {
        DmaBuf b = s.env.registry.get(s.fd);
        long size = b.size();
        b.close();
        return size;
    }

    @Benchmark
    public long unknown(Fresh s) {
        DmaBuf b = s.env.registry.get(s.memfd.get());
        long size = b.size();
        b.close();
        return size;
    }
}
