package org.dmabuf.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;

/**
 * Java heap per live buffer: the heap in use after a full GC with N live 4 KiB buffers, minus the same with none
 * (the registry, its exporter and the list already made), divided by N. Prints {@code heap-per-buffer N BYTES}.
 *
 * <p>Single-threaded: main owns everything.
 */
public final class HeapPerBuffer {
    private HeapPerBuffer() {
    }

    /**
     * @param args N (default 10000)
     */
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        try (Env env = new Env("bench-heap")) {
            BufferRequest r = BufferRequest.ofSize(4096).name("live");
            List<DmaBuf> buffers = new ArrayList<>(n);
            // one allocated and released first: classes loaded, tables made
            env.registry.allocate(r).close();
            long before = usedAfterGc();
            for (int i = 0; i < n; i++) {
                buffers.add(env.registry.allocate(r));
            }
            long after = usedAfterGc();
            // the list's own array (n references) is not the registry's
            long perBuffer = (after - before) / n;
            System.out.println("heap-per-buffer " + n + " " + perBuffer);
            buffers.forEach(DmaBuf::close);
        }
    }

    private static long usedAfterGc() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, m.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
