package org.dmabuf.gateway;

import java.io.PrintStream;
import java.util.List;
import java.util.function.IntConsumer;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.SyncDirection;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The gateway's main job, run when the launcher was started with {@code --run}: allocate a buffer from the best
 * exporter present, write and verify a pattern under begin/end CPU access, share the fd and get the same buffer
 * back, print {@code bufinfo}, release everything, and report the exit status to the launcher.
 *
 * <p>Threads: SCR activates it; the job runs on its own thread, which {@link #deactivate()} interrupts.
 */
@Component(immediate = true)
public final class MainJob {
    private static final long SIZE = 1 << 20;
    private final DmaBufRegistry registry;
    private final BundleContext context;
    private final PrintStream out = System.out;
    private volatile Thread thread;

    /**
     * Starts the job if the launcher asked for it.
     *
     * @param registry this bundle's registry
     * @param context this bundle's context
     */
    @Activate
    public MainJob(@Reference DmaBufRegistry registry, BundleContext context) {
        this.registry = registry;
        this.context = context;
        if (Boolean.parseBoolean(context.getProperty(Main.RUN))) {
            thread = new Thread(this::run, "dmabuf-gateway-job");
            thread.start();
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            t.join(10_000);
        }
    }

    private void run() {
        int status;
        try {
            status = job();
        } catch (InterruptedException e) {
            status = 1;
            out.println("dmabuf-gateway: FAILED: interrupted");
        } catch (RuntimeException e) {
            status = 1;
            out.println("dmabuf-gateway: FAILED: " + e.getMessage());
        }
        report(status);
    }

    private int job() throws InterruptedException {
        List<ExporterInfo> exporters = registry.exporters();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (exporters.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20); // the exporters' bundles may still be starting; the launcher's timeout bounds this
            exporters = registry.exporters();
        }
        if (exporters.isEmpty()) {
            out.println("dmabuf-gateway: FAILED: no exporter registered within 10 s (is org.dmabuf.exporter.heap "
                    + "active?)");
            return 1;
        }
        out.println("exporters: " + String.join(", ", exporters.stream()
                .map(e -> e.name() + " (" + e.kind() + ", ranking " + e.ranking() + ")").toList()));
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(SIZE).name("gateway-demo"))) {
            long startNanos = Long.parseLong(context.getProperty(Main.START));
            out.printf("first buffer: %d bytes from %s (%s), inode %d, %.0f ms after start%n", buf.size(),
                    buf.exporterName().orElse("?"), buf.kind().map(Enum::name).orElse("?"), buf.inode(),
                    (System.nanoTime() - startNanos) / 1e6);
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off < SIZE; off += 8) {
                    w.putLong(off, pattern(off));
                }
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < SIZE; off += 8) {
                    if (r.getLong(off) != pattern(off)) {
                        out.println("dmabuf-gateway: FAILED: pattern mismatch at offset " + off);
                        return 1;
                    }
                }
            }
            out.println("pattern verified: " + SIZE + " bytes written and read back under begin/end CPU access");
            try (DmaBuf again = registry.get(buf.fd())) {
                if (again.inode() != buf.inode() || buf.refCount() != 2) {
                    out.println("dmabuf-gateway: FAILED: get(fd) gave inode " + again.inode() + ", refcount "
                            + buf.refCount());
                    return 1;
                }
                out.println("fd " + buf.fd() + " -> get(fd): the same buffer (inode " + again.inode()
                        + ", refcount " + buf.refCount() + ")");
            }
            printBufinfo("bufinfo");
        }
        printBufinfo("bufinfo after release");
        return registry.bufinfo().isEmpty() ? 0 : 1;
    }

    private static long pattern(long off) {
        return off * 0x9E3779B97F4A7C15L ^ 0x5a5a5a5a5a5a5a5aL;
    }

    private void printBufinfo(String title) {
        List<BufferInfo> infos = registry.bufinfo();
        out.println(title + ": " + infos.size() + " buffer(s)");
        for (BufferInfo i : infos) {
            out.printf("  inode %d  size %d  exporter %s  kind %s  refcount %d  name %s  owner %s%n", i.inode(),
                    i.size(), i.exporter(), i.kind(), i.refCount(), i.name(), i.owner());
        }
    }

    private void report(int status) {
        try {
            for (ServiceReference<IntConsumer> ref : context.getServiceReferences(IntConsumer.class,
                    "(" + Main.EXIT + "=true)")) {
                IntConsumer exit = context.getService(ref);
                if (exit != null) {
                    exit.accept(status);
                    context.ungetService(ref);
                    return;
                }
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            out.println("dmabuf-gateway: cannot report the job's status: " + e);
        }
    }
}
