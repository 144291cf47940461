package org.dmabuf.benchmarks;

import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.MemoryView;
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
 * A buffer's whole life: allocate, mmap, one write per 4 KiB page, release (C: memfd_create, ftruncate,
 * F_ADD_SEALS, mmap, the writes, munmap, close on the host).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@State(Scope.Thread)
public class Buffers {
    @Param({"4096", "1048576", "8388608", "33554432"})
    public long size;

    private Env env;
    private BufferRequest request;

    @Setup(Level.Trial)
    public void open() {
        env = new Env("bench-alloc");
        request = BufferRequest.ofSize(size).name("bench");
    }

    @TearDown(Level.Trial)
    public void close() {
        env.close();
    }

    @Benchmark
    public long allocateMapTouchRelease() {
        try (DmaBuf b = env.registry.allocate(request)) {
            MemoryView v = b.mmap();
            for (long o = 0; o < size; o += 4096) {
                v.putByte(o, (byte) 1);
            }
            return b.size();
        }
    }
}
