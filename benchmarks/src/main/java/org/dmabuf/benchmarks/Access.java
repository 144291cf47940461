package org.dmabuf.benchmarks;

import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
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

/**
 * What a user does with one live buffer: attach a device and map it for DMA; a CPU access pair (SYNC start and
 * end on a dma-buf); a sequential read or write of a 64 MiB mapping in 1 MiB chunks (C: memcpy) or one long at a
 * time, summing, through MemoryView.getLong or the zero-copy view CpuAccess.byteBuffer() (C: a loop over
 * uint64_t).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class Access {
    static final int BIG = 64 << 20;
    static final int CHUNK = 1 << 20;

    /** One 4 KiB buffer and a device. */
    @State(Scope.Thread)
    public static class Small {
        Env env;
        DmaBuf buf;
        ImporterDevice device;

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-access");
            buf = env.registry.allocate(BufferRequest.ofSize(4096).name("small"));
            device = env.importer();
        }

        @TearDown(Level.Trial)
        public void close() {
            buf.close();
            env.close();
        }
    }

    /** One 64 MiB buffer, mapped and written once, and a 1 MiB chunk. */
    @State(Scope.Thread)
    public static class Big {
        Env env;
        DmaBuf buf;
        MemoryView view;
        final byte[] chunk = new byte[CHUNK];
        final ByteBuffer direct = ByteBuffer.allocateDirect(CHUNK);

        @Setup(Level.Trial)
        public void open() {
            env = new Env("bench-64m");
            buf = env.registry.allocate(BufferRequest.ofSize(BIG).name("big"));
            view = buf.mmap();
            for (int i = 0; i < CHUNK; i++) {
                chunk[i] = (byte) (i * 31);
            }
            for (long o = 0; o < BIG; o += CHUNK) {
                view.write(o, chunk, 0, CHUNK);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            buf.close();
            env.close();
        }
    }

    @Benchmark
    public int attachMapUnmapDetach(Small s) {
        Attachment a = s.buf.attach(s.device);
        SgTable t = a.map(DmaDirection.BIDIRECTIONAL);
        int n = t.segments().size();
        s.buf.unmap(t);
        s.buf.detach(a);
        return n;
    }

    /** One JNA call of a cheap system call, fcntl(F_GETFD) (C: the same fcntl): the cost of a native call. */
    @Benchmark
    public int jnaFcntl(Small s) {
        return org.dmabuf.linux.LibC.fcntl(s.buf.fd(), org.dmabuf.linux.LibC.F_GETFD, 0);
    }

    @Benchmark
    public SyncDirection syncPair(Small s) {
        try (CpuAccess a = s.buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
            return a.direction();
        }
    }

    @Benchmark
    public byte bulkRead(Big s) {
        for (long o = 0; o < BIG; o += CHUNK) {
            s.view.read(o, s.chunk, 0, CHUNK);
        }
        return s.chunk[CHUNK - 1];
    }

    @Benchmark
    public int bulkReadDirect(Big s) {
        for (long o = 0; o < BIG; o += CHUNK) {
            s.direct.clear();
            s.view.read(o, s.direct);
        }
        return s.direct.position();
    }

    @Benchmark
    public void bulkWrite(Big s) {
        for (long o = 0; o < BIG; o += CHUNK) {
            s.view.write(o, s.chunk, 0, CHUNK);
        }
    }

    @Benchmark
    public long sumGetLong(Big s) {
        MemoryView v = s.view;
        long sum = 0;
        for (long o = 0; o < BIG; o += 8) {
            sum += v.getLong(o);
        }
        return sum;
    }

    /**
     * The same scan through the view's native-order {@code LongBuffer}, as the view's javadoc recommends for
     * scans of longs (the access begun and ended in the call).
     */
    @Benchmark
    public long sumLongBuffer(Big s) {
        try (CpuAccess a = s.buf.beginCpuAccess(SyncDirection.READ)) {
            LongBuffer b = a.byteBuffer().asLongBuffer();
            long sum = 0;
            for (int i = 0, n = b.capacity(); i < n; i++) {
                sum += b.get(i);
            }
            return sum;
        }
    }

    /** The same scan through the zero-copy view of a read access (the access begun and ended in the call). */
    @Benchmark
    public long sumByteBuffer(Big s) {
        try (CpuAccess a = s.buf.beginCpuAccess(SyncDirection.READ)) {
            ByteBuffer b = a.byteBuffer();
            long sum = 0;
            for (int o = 0; o < BIG; o += 8) {
                sum += b.getLong(o);
            }
            return sum;
        }
    }
}
