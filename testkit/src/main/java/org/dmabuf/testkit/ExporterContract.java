package org.dmabuf.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UnixSocket;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The contract every dma-buf exporter passes, with the kernel as the judge wherever it has a view: sizes as
 * {@code lseek(SEEK_END)} and {@code fstat} give them, zeroed new memory, names as fdinfo prints them, exp_name,
 * {@code DMA_BUF_IOCTL_SYNC} brackets, mmap coherence across mappings and fds, the attach/map rules, import by
 * identity (st_dev, st_ino) and release with nothing left in {@code /proc/self/fd}, {@code /proc/self/maps} or
 * debugfs {@code bufinfo}.
 *
 * <p>Framework-neutral: {@link #verify()} runs every check and throws one {@link AssertionError} listing each
 * failure; {@link #checks()} gives them one by one (the JUnit 5 adapter,
 * {@link org.dmabuf.testkit.junit5.ExporterContractTest}, makes a dynamic test of each). Every failure names the
 * check, the exporter and what the kernel says. Buffers are asked of the exporter by name
 * ({@link BufferRequest#exporter(String)}), so the registry may hold other exporters too (an OSGi framework).
 *
 * <p>A capability the exporter lacks is declared with an option ({@link #supportsAttach}, {@link #supportsImport},
 * {@link #supportsFrames}, {@link #zeroesReusedMemory}): its checks are then skipped with that reason, never
 * passed silently. Sizes larger than the exporter's {@code dmabuf.exporter.max.size} are skipped the same way.
 *
 * <p>Not thread-safe: configure and run from one thread.
 */
public final class ExporterContract {
    /** The sizes asked for when {@link #sizes} is not called. */
    static final long[] DEFAULT_SIZES = {1, 4096, 10000, 1 << 20};
    private static final long PAGE = 4096;

    private final DmaBufRegistry registry;
    private final String exporterName;
    private long[] sizes = DEFAULT_SIZES.clone();
    private Boolean attach;
    private Boolean importing;
    private Boolean frames;
    private boolean zeroesReused = true;

    private ExporterContract(DmaBufRegistry registry, String exporterName) {
        this.registry = registry;
        this.exporterName = exporterName;
    }

    /**
     * The contract of an exporter as the registry knows it.
     *
     * @param registry the registry (the OSGi service, or {@link ContractRegistry#registry()})
     * @param exporterName the exporter's service property {@code dmabuf.exporter.name}
     * @return the contract, with the default options
     */
    public static ExporterContract of(DmaBufRegistry registry, String exporterName) {
        return new ExporterContract(Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(exporterName, "exporterName"));
    }

    /**
     * The sizes to ask for (default 1, 4096, 10000 and 1 MiB).
     *
     * @param sizes requested sizes, each greater than 0
     * @return this
     */
    public ExporterContract sizes(long... sizes) {
        if (sizes.length == 0 || Arrays.stream(sizes).anyMatch(s -> s <= 0)) {
            throw new IllegalArgumentException("ExporterContract.sizes: give at least one size, each greater than 0: "
                    + Arrays.toString(sizes));
        }
        this.sizes = sizes.clone();
        return this;
    }

    /**
     * Whether the exporter's buffers take attachments and maps (default: yes; the registry's rules apply to any
     * exporter).
     *
     * @param value false to skip the attach/map checks, saying so
     * @return this
     */
    public ExporterContract supportsAttach(boolean value) {
        this.attach = value;
        return this;
    }

    /**
     * Whether a buffer's fd, received, imports back to the same buffer (default: yes).
     *
     * @param value false to skip the import checks, saying so
     * @return this
     */
    public ExporterContract supportsImport(boolean value) {
        this.importing = value;
        return this;
    }

    /**
     * Whether the exporter allocates frames of a format it is asked for ({@code NV12 640x480}; default: yes).
     *
     * @param value false to skip the frame check, saying so
     * @return this
     */
    public ExporterContract supportsFrames(boolean value) {
        this.frames = value;
        return this;
    }

    /**
     * Whether a buffer handed out again after a release reads as zeros (default: yes; the check fills a buffer,
     * releases it and reads the next one of that size). An exporter over a fixed set of driver buffers that hands
     * back what they held declares false: the reuse check is then skipped, saying so, and the zeros check runs on
     * each buffer's first hand-out only. (The project's V4L2 exporter clears a buffer before handing it out again.)
     *
     * @param value false when the exporter recycles storage without clearing it
     * @return this
     */
    public ExporterContract zeroesReusedMemory(boolean value) {
        this.zeroesReused = value;
        return this;
    }

    /**
     * The checks with the options given so far, each independent of the others.
     *
     * @return the checks, in order
     */
    public List<ContractCheck> checks() {
        List<ContractCheck> out = new ArrayList<>();
        long max = maxSize();
        for (long size : sizes) {
            out.add(sized(size, max, "a buffer asked for " + size + " bytes holds at least that many, page-aligned, "
                    + "as lseek(SEEK_END) and fstat measure it", () -> sizeCheck(size)));
        }
        for (long size : sizes) {
            out.add(sized(size, max, "a new buffer of " + size + " bytes reads as zeros on every page",
                    () -> zeroCheck(size)));
        }
        String reuse = "bytes a released buffer held read as zeros in the next buffer handed out of that size";
        out.add(zeroesReused ? check(reuse, this::reuseCheck)
                : ContractCheck.skipped(reuse, "the exporter declared zeroesReusedMemory(false)"));
        out.add(check("a buffer's name is the kernel's (fdinfo name:, or the memfd's name), and one asked for without "
                + "a name has none", this::nameCheck));
        out.add(check("a name too long or holding a control character is refused with InvalidArgumentException "
                + "and the name stays", this::badNameCheck));
        out.add(check("the buffer's exp_name is fdinfo's exp_name and the exporter's " + DmaBufExporter.EXP_NAME,
                this::expNameCheck));
        out.add(check("CPU accesses for READ, WRITE and READ_WRITE bracket the buffer with DMA_BUF_IOCTL_SYNC and "
                + "see each other's writes", this::syncCheck));
        String sync = "DMA_BUF_IOCTL_SYNC with no direction or an unknown flag is refused by the kernel (EINVAL) "
                + "and the buffer stays usable";
        out.add(kind().map(k -> !DmaBufExporter.KIND_MEMFD.equals(k)).orElse(true) ? check(sync,
                this::badDirectionCheck) : ContractCheck.skipped(sync, "a memfd has no DMA_BUF_IOCTL_SYNC"));
        out.add(check("a CPU access is refused once ended and a second end does nothing", this::endedAccessCheck));
        out.add(check("a write through one mapping reads back through a second mapping and through a received "
                + "copy of the fd", this::mmapCheck));
        String noAttach = "the exporter declared supportsAttach(false)";
        out.add(optional(attach, "a map with a detached attachment is refused with BufferStateException (EINVAL)",
                noAttach, this::mapDetachedCheck));
        out.add(optional(attach, "a detach while mapped is refused (EBUSY); after unmap it detaches, and a second "
                + "detach does nothing", noAttach, this::detachRulesCheck));
        out.add(optional(importing, "an fd sent over a socket and imported again is the same buffer: the same "
                + "BufferId (st_dev, st_ino) and the same object", "the exporter declared supportsImport(false)",
                this::importCheck));
        out.add(check("a released buffer leaves no fd, no mapping of its inode, no reserved address and no "
                + "bufinfo entry", this::releaseCheck));
        out.add(optional(frames, "a frame of NV12 640x480 has the layout it was asked for in kernel buffers that "
                + "hold it", "the exporter declared supportsFrames(false)", this::frameCheck));
        return out;
    }

    /**
     * Runs every check and collects the failures.
     *
     * @throws AssertionError listing each failed check with its message, the exporter and the kernel's view
     */
    public void verify() {
        List<ContractCheck> all = checks();
        List<Throwable> failures = new ArrayList<>();
        for (ContractCheck c : all) {
            if (c.skipReason().isPresent()) {
                continue;
            }
            try {
                c.run();
            } catch (ContractCheck.Skipped skip) {
                // its message says why; not a failure
            } catch (Exception | AssertionError t) {
                failures.add(t);
            }
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("exporter '" + exporterName + "' failed " + failures.size()
                    + " of " + all.size() + " contract checks:\n" + failures.stream().map(t -> "- " + t.getMessage())
                            .collect(Collectors.joining("\n")));
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    @Override
    public String toString() {
        return "ExporterContract[" + exporterName + ", sizes " + Arrays.toString(sizes) + "]";
    }

    // ------------------------------------------------------------------------------------------------ the checks

    private void sizeCheck(long requested) {
        Exporter e = exporter();
        try (DmaBuf buf = allocate(requested, "contract-size")) {
            int fd = buf.fd();
            long lseek = LibC.lseek64(fd, 0, LibC.SEEK_END);
            LibC.lseek64(fd, 0, LibC.SEEK_SET);
            FileStat st = Sys.fstat(fd);
            String kernel = "lseek(SEEK_END) " + lseek + ", fstat size " + st.size()
                    + (e.dmaBuf() ? ", fdinfo size " + FdInfo.read(fd).size() : "");
            expect(buf.requestedSize() == requested, "requestedSize() is " + buf.requestedSize() + ", not "
                    + requested, kernel);
            expect(buf.size() >= requested, "size() " + buf.size() + " is less than the " + requested
                    + " bytes asked for", kernel);
            expect(buf.size() == lseek, "size() " + buf.size() + " is not the kernel's", kernel);
            if (e.dmaBuf()) {
                expect(st.size() == lseek, "fstat and lseek disagree", kernel);
                expect(lseek % PAGE == 0, "the dma-buf's size " + lseek + " is not a multiple of the page ("
                        + PAGE + ")", kernel);
            } else {
                expect(st.size() == lseek, "the memfd's fstat and lseek disagree", kernel);
            }
            expect(buf.mmap().size() == buf.size(), "the CPU view is " + buf.mmap().size() + " bytes, not size() "
                    + buf.size(), kernel);
        }
    }

    private void zeroCheck(long requested) {
        try (DmaBuf buf = allocate(requested, "contract-zero")) {
            if (!zeroesReused && wasHandedOutBefore(buf)) {
                throw new ContractCheck.Skipped(buf.id() + " was handed out before and the exporter declared "
                        + "zeroesReusedMemory(false); its first hand-out was checked");
            }
            byte[] chunk = new byte[(int) Math.min(buf.size(), 1 << 20)];
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < buf.size(); off += chunk.length) {
                    int n = (int) Math.min(chunk.length, buf.size() - off);
                    r.read(off, chunk, 0, n);
                    for (int i = 0; i < n; i++) {
                        if (chunk[i] != 0) {
                            throw fail("a new buffer of " + buf.size() + " bytes holds 0x"
                                    + Integer.toHexString(chunk[i] & 0xff) + " at offset " + (off + i),
                                    "read through the buffer's mapping (" + describe(buf) + ")");
                        }
                    }
                }
            }
        }
    }

    /**
     * A buffer filled and released, then one of the same size: whether the exporter hands the same storage out again
     * (a fixed set of driver buffers) or new memory, its next holder must not read the last one's bytes.
     */
    private void reuseCheck() {
        long size = Math.min(PAGE, maxSize());
        BufferId first;
        byte[] fill = new byte[(int) size];
        Arrays.fill(fill, (byte) 0xa5);
        try (DmaBuf buf = allocate(size, "contract-reuse-first")) {
            first = buf.id();
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off < buf.size(); off += fill.length) {
                    w.write(off, fill, 0, (int) Math.min(fill.length, buf.size() - off));
                }
            }
        }
        try (DmaBuf next = allocate(size, "contract-reuse-next")) {
            byte[] chunk = new byte[(int) Math.min(next.size(), 1 << 20)];
            try (CpuAccess r = next.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < next.size(); off += chunk.length) {
                    int n = (int) Math.min(chunk.length, next.size() - off);
                    r.read(off, chunk, 0, n);
                    for (int i = 0; i < n; i++) {
                        if (chunk[i] != 0) {
                            throw fail("the buffer handed out after " + first + " was filled with 0xa5 and released "
                                    + "holds 0x" + Integer.toHexString(chunk[i] & 0xff) + " at offset " + (off + i)
                                    + (next.id().equals(first) ? " (the same storage, handed out again)" : ""),
                                    "read through the buffer's mapping (" + describe(next) + ")");
                        }
                    }
                }
            }
        }
    }

    private final Set<BufferId> seen = new HashSet<>();

    /** Whether this contract already saw a buffer of that identity (recycled driver storage). */
    private boolean wasHandedOutBefore(DmaBuf buf) {
        return !seen.add(buf.id());
    }

    private void nameCheck() {
        Exporter e = exporter();
        try (DmaBuf buf = allocate(4096, "contract-first")) {
            if (e.dmaBuf()) {
                String kernel = FdInfo.read(buf.fd()).name();
                expect("contract-first".equals(kernel) && "contract-first".equals(buf.name()),
                        "the name asked for is '" + buf.name() + "'", "fdinfo name: '" + kernel + "'");
                buf.setName("contract-second");
                kernel = FdInfo.read(buf.fd()).name();
                expect("contract-second".equals(kernel) && "contract-second".equals(buf.name()),
                        "after setName(\"contract-second\") name() is '" + buf.name() + "'",
                        "fdinfo name: '" + kernel + "'");
            } else {
                String link = KernelView.link(Path.of("/proc/self/fd/" + buf.fd()));
                expect(link.contains("contract-first"), "a memfd asked for with the name 'contract-first' is not "
                        + "named so", "/proc/self/fd link " + link);
                buf.setName("contract-second");
                expect("contract-second".equals(buf.name()), "after setName name() is '" + buf.name() + "'",
                        "/proc/self/fd link " + link);
            }
        }
        if (e.dmaBuf()) { // the next buffer, asked for without a name (perhaps the same storage, recycled), has none
            try (DmaBuf unnamed = registry.allocate(BufferRequest.ofSize(4096).exporter(exporterName))) {
                String kernel = FdInfo.read(unnamed.fd()).name();
                expect(kernel.isEmpty() && unnamed.name().isEmpty(), "a buffer asked for without a name is named '"
                        + unnamed.name() + "'", "fdinfo name: '" + kernel + "' (" + describe(unnamed) + ")");
            }
        }
    }

    private void badNameCheck() {
        Exporter e = exporter();
        try (DmaBuf buf = allocate(4096, "contract-kept")) {
            String tooLong = "n".repeat(BufferRequest.MAX_NAME_LENGTH + 1);
            for (String bad : List.of(tooLong, "line\nbreak", "nul\u0000byte")) {
                try {
                    buf.setName(bad);
                    throw fail("setName(" + printable(bad) + ") was accepted", kernelName(e, buf));
                } catch (InvalidArgumentException expected) {
                    expect(expected.getMessage().contains("setName"), "the refusal does not name setName: "
                            + expected.getMessage(), kernelName(e, buf));
                }
                expect("contract-kept".equals(buf.name()), "after a refused setName(" + printable(bad)
                        + ") name() is '" + buf.name() + "'", kernelName(e, buf));
                if (e.dmaBuf()) {
                    expect("contract-kept".equals(FdInfo.read(buf.fd()).name()), "after a refused setName("
                            + printable(bad) + ") the kernel's name changed", kernelName(e, buf));
                }
            }
        }
    }

    private void expNameCheck() {
        Exporter e = exporter();
        try (DmaBuf buf = allocate(4096, "contract-exp")) {
            String kernel = e.dmaBuf() ? FdInfo.read(buf.fd()).expName() : "memfd";
            String view = e.dmaBuf() ? "fdinfo exp_name: " + kernel : "a memfd (no fdinfo exp_name)";
            expect(buf.exporterName().equals(Optional.of(kernel)), "exporterName() is " + buf.exporterName(), view);
            expect(buf.exporterService().equals(Optional.of(exporterName)), "exporterService() is "
                    + buf.exporterService(), view);
            if (e.expName() != null) {
                expect(kernel.equals(e.expName()), "the exporter's " + DmaBufExporter.EXP_NAME + " is '"
                        + e.expName() + "'", view);
            } else {
                expect(!e.dmaBuf(), "the exporter's " + DmaBufExporter.EXP_NAME + " property could not be read ("
                        + "not a ContractRegistry, not an OSGi service)", view);
            }
        }
    }

    private void syncCheck() {
        try (DmaBuf buf = allocate(3 * PAGE, "contract-sync")) {
            long last = buf.size() - 8;
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                expect(w.direction() == SyncDirection.WRITE, "the access is for " + w.direction(), describe(buf));
                w.putLong(0, 0x1122334455667788L);
                w.putLong(last, -2L);
            }
            try (CpuAccess rw = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                expect(rw.getLong(0) == 0x1122334455667788L && rw.getLong(last) == -2L,
                        "READ_WRITE does not see the WRITE access's bytes", describe(buf));
                rw.putLong(PAGE, 42L);
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                expect(r.getLong(PAGE) == 42L && r.getLong(0) == 0x1122334455667788L,
                        "READ does not see the READ_WRITE access's bytes", describe(buf));
                try {
                    r.putLong(0, 1L);
                    throw fail("a READ access wrote", describe(buf));
                } catch (DmaBufException expected) {
                    // refused: begun for READ
                }
            }
        }
    }

    private void badDirectionCheck() {
        try (DmaBuf buf = allocate(PAGE, "contract-direction")) {
            // the kernel itself: a SYNC with neither READ nor WRITE, or with a flag it does not know, is EINVAL
            for (long flags : new long[] {DmaBufUapi.DMA_BUF_SYNC_START, DmaBufUapi.DMA_BUF_SYNC_START
                    | SyncDirection.READ.flags() | 8}) {
                DmaBufUapi.DmaBufSync sync = new DmaBufUapi.DmaBufSync();
                sync.flags = flags;
                try {
                    Sys.ioctlRetrying(buf.fd(), Ioc.request(DmaBufUapi.DMA_BUF_IOCTL_SYNC), "DMA_BUF_IOCTL_SYNC",
                            describe(buf), sync, null, true);
                    throw fail("DMA_BUF_IOCTL_SYNC with flags 0x" + Long.toHexString(flags) + " was accepted",
                            describe(buf));
                } catch (LinuxException expected) {
                    expect("EINVAL".equals(expected.errno()), "DMA_BUF_IOCTL_SYNC with flags 0x"
                            + Long.toHexString(flags) + " failed with " + expected.errno(), "expected EINVAL: "
                            + expected.getMessage());
                }
            }
            try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                a.putLong(0, 9L);
                expect(a.getLong(0) == 9L, "the buffer is not usable after refused SYNCs", describe(buf));
            }
        }
    }

    private void endedAccessCheck() {
        try (DmaBuf buf = allocate(PAGE, "contract-ended")) {
            CpuAccess a = buf.beginCpuAccess(SyncDirection.READ_WRITE);
            a.putInt(0, 7);
            a.close();
            try {
                a.getInt(0);
                throw fail("an ended access still reads", describe(buf));
            } catch (BufferReleasedException expected) {
                // refused
            }
            a.close(); // a second end: no second DMA_BUF_SYNC_END, no error
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                expect(r.getInt(0) == 7, "a new access does not see the ended one's write", describe(buf));
            }
        }
    }

    private void mmapCheck() {
        try (DmaBuf buf = allocate(2 * PAGE + 1, "contract-mmap")) {
            long size = buf.size();
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off + 8 <= size; off += PAGE) {
                    w.putLong(off, off * 31 + 7);
                }
            }
            try (Mapping second = Mapping.map(buf.fd(), size, "the contract's second mapping")) {
                for (long off = 0; off + 8 <= size; off += PAGE) {
                    long v = second.pointer().getLong(off);
                    expect(v == off * 31 + 7, "a second mapping reads " + v + " at offset " + off,
                            "mmap(" + buf.fd() + ") of " + describe(buf));
                }
                second.pointer().setLong(8, -1L);
            }
            try (Fd received = sendAndReceive(buf.fd());
                    Mapping third = Mapping.map(received.get(), size, "a received copy's mapping")) {
                expect(Sys.fstat(received.get()).id().equals(buf.id()), "the received fd is another file",
                        "fstat " + Sys.fstat(received.get()).id() + " vs " + buf.id());
                expect(third.pointer().getLong(8) == -1L && third.pointer().getLong(PAGE) == PAGE * 31 + 7,
                        "a mapping of the received fd does not see the writes", describe(buf));
                third.pointer().setLong(16, -3L);
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                expect(r.getLong(8) == -1L && r.getLong(16) == -3L,
                        "the buffer's own mapping does not see the other mappings' writes", describe(buf));
            }
        }
    }

    private void mapDetachedCheck() {
        try (DmaBuf buf = allocate(PAGE, "contract-map")) {
            Attachment a = buf.attach(contractDevice());
            buf.detach(a);
            try {
                SgTable t = buf.map(a, DmaDirection.BIDIRECTIONAL);
                buf.unmap(t);
                throw fail("map of a detached attachment returned segments", describe(buf));
            } catch (BufferStateException expected) {
                expect("EINVAL".equals(expected.errno()), "refused with " + expected.errno() + ", not EINVAL",
                        expected.getMessage());
            }
            try (DmaBuf other = allocate(PAGE, "contract-other"); Attachment b = other.attach(contractDevice())) {
                try {
                    SgTable t = buf.map(b, DmaDirection.BIDIRECTIONAL);
                    buf.unmap(t);
                    throw fail("map with another buffer's attachment returned segments", describe(buf));
                } catch (BufferStateException expected) {
                    expect("EINVAL".equals(expected.errno()), "refused with " + expected.errno() + ", not EINVAL",
                            expected.getMessage());
                }
            }
        }
    }

    private void detachRulesCheck() {
        try (DmaBuf buf = allocate(PAGE, "contract-detach")) {
            Attachment a = buf.attach(contractDevice());
            SgTable t = buf.map(a, DmaDirection.BIDIRECTIONAL);
            long covered = t.segments().stream().mapToLong(org.dmabuf.api.Segment::length).sum();
            expect(covered >= buf.size(), "the map's segments cover " + covered + " bytes of " + buf.size(),
                    describe(buf));
            try {
                buf.detach(a);
                throw fail("detach of a mapped attachment was accepted", describe(buf));
            } catch (BufferStateException expected) {
                expect("EBUSY".equals(expected.errno()), "refused with " + expected.errno() + ", not EBUSY",
                        expected.getMessage());
            }
            expect(a.isAttached(), "a refused detach detached", describe(buf));
            buf.unmap(t);
            buf.detach(a);
            expect(!a.isAttached(), "detach after unmap left it attached", describe(buf));
            buf.detach(a); // documented: a no-op
            expect(!a.isAttached(), "a second detach changed the attachment", describe(buf));
        }
    }

    private void importCheck() {
        try (DmaBuf buf = allocate(65536, "contract-import")) {
            BufferId id = buf.id();
            FileStat own = Sys.fstat(buf.fd());
            expect(id.equals(own.id()), "id() " + id + " is not fstat's", "fstat " + own.id());
            try (Fd received = sendAndReceive(buf.fd()); DmaBuf again = registry.get(received.get())) {
                FileStat st = Sys.fstat(received.get());
                expect(again.id().equals(id) && st.id().equals(id), "the import's id() is " + again.id()
                        + ", the buffer's " + id, "fstat of the received fd " + st.id());
                expect(buf.refCount() == 2, "the buffer's refCount() is " + buf.refCount()
                        + " with the import held (expected 2: the same buffer)", "fstat " + st.id());
                expect(again.mmap() == buf.mmap(), "the import is another buffer object (another mapping)",
                        "fstat " + st.id());
                expect(again.exporterService().equals(buf.exporterService()), "the import's exporter is "
                        + again.exporterService(), "fstat " + st.id());
            }
            try (Fd dup = Sys.dup(buf.fd(), "the contract's dup"); DmaBuf again = registry.get(dup.get())) {
                expect(again.id().equals(id) && buf.refCount() == 2, "a dup imports as " + again.id()
                        + " with refCount " + buf.refCount(), "fstat " + Sys.fstat(dup.get()).id());
            }
            expect(buf.refCount() == 1, "the imports gave back their references: refCount() " + buf.refCount(),
                    describe(buf));
        }
    }

    /**
     * Release, as the kernel sees it. An exporter may hold the storage itself (the fds of a V4L2 device's exported
     * buffers): the fds and mappings of the buffer that the process held before the hand-out are its own and may
     * stay; nothing else may.
     */
    private void releaseCheck() {
        Exporter e = exporter();
        SortedMap<Integer, String> fdsBefore = KernelView.bufferFds();
        List<KernelView.MapsLine> mapsBefore = KernelView.maps();
        BufferId id;
        long inode;
        Set<Integer> heldBefore;
        List<KernelView.MapsLine> mapped;
        DmaBuf buf = allocate(5 * PAGE, "contract-release");
        try {
            id = buf.id();
            inode = buf.inode();
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.fill(0, buf.size(), (byte) 0x5a);
            }
            SortedMap<Integer, String> fds = KernelView.fdsOf(id);
            heldBefore = new TreeSet<>(fds.keySet());
            heldBefore.retainAll(fdsBefore.keySet());
            expect(fds.size() > heldBefore.size(), "no fd of this process is the buffer " + id
                    + " beyond those held before it was handed out", "/proc/self/fd: " + KernelView.show(fds));
            mapped = KernelView.mappingsOf(id).stream().filter(l -> !mapsBefore.contains(l))
                    .collect(Collectors.toList());
            expect(!mapped.isEmpty(), "the buffer was written, yet no new mapping of " + id
                    + " is in /proc/self/maps", lines(KernelView.mappingsOf(id)));
            if (e.dmaBuf()) {
                KernelView.bufinfoLinesOf(inode).ifPresent(lines -> expect(!lines.isEmpty(),
                        "debugfs bufinfo does not list the live buffer's inode " + inode, "bufinfo: no such line"));
            }
        } finally {
            buf.close();
        }
        SortedMap<Integer, String> fds = KernelView.fdsOf(id);
        expect(heldBefore.containsAll(fds.keySet()), "after the release the process still holds the buffer " + id
                + (heldBefore.isEmpty() ? "" : " beyond the exporter's own fds " + heldBefore),
                "/proc/self/fd: " + KernelView.show(fds));
        SortedMap<Integer, String> fdsAfter = KernelView.bufferFds();
        expect(fdsAfter.keySet().equals(fdsBefore.keySet()), "the buffer fds differ from those before the "
                + "allocation " + KernelView.show(fdsBefore), "/proc/self/fd: " + KernelView.show(fdsAfter));
        List<KernelView.MapsLine> maps = KernelView.mappingsOf(id).stream().filter(l -> !mapsBefore.contains(l))
                .collect(Collectors.toList());
        expect(maps.isEmpty(), "after the release the buffer " + id + " is still mapped", lines(maps));
        List<KernelView.MapsLine> reserved = KernelView.maps().stream()
                .filter(l -> mapped.stream().anyMatch(l::overlaps)).collect(Collectors.toList());
        expect(reserved.isEmpty(), "after the release the addresses of its mapping " + lines(mapped)
                + " are still reserved", lines(reserved));
        if (e.dmaBuf() && heldBefore.isEmpty()) {
            KernelView.bufinfoLinesOf(inode).ifPresent(lines -> expect(lines.isEmpty(),
                    "after the release debugfs bufinfo still lists inode " + inode, "bufinfo: " + lines));
        }
    }

    private void frameCheck() {
        try (FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12, 640, 480)
                .name("contract-frame").exporter(exporterName))) {
            BufferFormat f = frame.format();
            expect(f.pixelFormat().equals(Optional.of(PixelFormat.NV12)) && f.width() == 640 && f.height() == 480,
                    "the frame is " + f.describe(), "asked for NV12 640x480");
            for (int i = 0; i < f.buffers(); i++) {
                DmaBuf b = frame.buffer(i);
                long lseek = LibC.lseek64(b.fd(), 0, LibC.SEEK_END);
                LibC.lseek64(b.fd(), 0, LibC.SEEK_SET);
                expect(lseek >= f.bufferSize(i) && b.size() == lseek, "buffer " + i + " of " + f.describe()
                        + " needs " + f.bufferSize(i) + " bytes; size() " + b.size(), "lseek(SEEK_END) " + lseek);
                expect(b.format().isPresent(), "buffer " + i + " has no format()", describe(b));
            }
            DmaBuf last = frame.buffer(f.planes().get(1).buffer());
            long at = f.planes().get(1).offset() + (long) f.planes().get(1).stride() * 239 + 639;
            try (CpuAccess w = last.beginCpuAccess(SyncDirection.WRITE)) {
                w.putByte(at, (byte) 0x77);
            }
            try (Mapping m = Mapping.map(last.fd(), last.size(), "the frame's chroma")) {
                expect(m.pointer().getByte(at) == 0x77, "the last chroma byte is not where the layout says",
                        describe(last));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** What the contract knows of the exporter: from the registry's list and its service properties. */
    private record Exporter(ExporterInfo info, String expName) {
        boolean dmaBuf() {
            return !DmaBufExporter.KIND_MEMFD.equals(info.kind());
        }
    }

    /** The exporter's kind as the registry lists it, or empty when it has no such exporter (its checks say so). */
    private Optional<String> kind() {
        return registry.exporters().stream().filter(i -> i.name().equals(exporterName)).findFirst()
                .map(ExporterInfo::kind);
    }

    private Exporter exporter() {
        List<ExporterInfo> all = registry.exporters();
        ExporterInfo info = all.stream().filter(i -> i.name().equals(exporterName)).findFirst()
                .orElseThrow(() -> new AssertionError("no exporter named '" + exporterName + "' ("
                        + DmaBufExporter.NAME + ") in the registry, which has " + all.stream()
                                .map(ExporterInfo::name).collect(Collectors.toList())));
        Map<String, Object> props = KnownProperties.of(registry);
        if (props == null || !exporterName.equals(props.get(DmaBufExporter.NAME))) {
            props = OsgiProperties.of(exporterName);
        }
        Object exp = props == null ? null : props.get(DmaBufExporter.EXP_NAME);
        if (exp == null && DmaBufExporter.KIND_MEMFD.equals(info.kind())) {
            exp = "memfd";
        }
        return new Exporter(info, exp == null ? null : exp.toString());
    }

    private DmaBuf allocate(long size, String name) {
        return registry.allocate(BufferRequest.ofSize(size).name(name).exporter(exporterName));
    }

    private ContractCheck check(String name, ContractCheck.Body body) {
        return ContractCheck.of(name, () -> {
            try {
                body.run();
            } catch (ContractCheck.Skipped skip) {
                throw skip;
            } catch (CheckFailure f) {
                throw new AssertionError(name + " [exporter " + exporterName + "]: " + f.getMessage(), f.getCause());
            } catch (AssertionError | Exception ex) {
                throw new AssertionError(name + " [exporter " + exporterName + "]: " + ex, ex);
            }
        });
    }

    /** A check of one size, skipped with the reason when the size is above the exporter's maximum. */
    private ContractCheck sized(long size, long max, String name, ContractCheck.Body body) {
        return size > max ? ContractCheck.skipped(name, size + " bytes is more than the exporter's "
                + DmaBufExporter.MAX_SIZE + " (" + max + ")") : check(name, body);
    }

    /** The exporter's maximum buffer size as the registry lists it; no limit when it has no such exporter. */
    private long maxSize() {
        return registry.exporters().stream().filter(i -> i.name().equals(exporterName)).findFirst()
                .map(ExporterInfo::maxSize).filter(m -> m > 0).orElse(Long.MAX_VALUE);
    }

    private ContractCheck optional(Boolean declared, String name, String reason, ContractCheck.Body body) {
        if (declared != null && !declared) {
            return ContractCheck.skipped(name, reason);
        }
        return check(name, body);
    }

    /** A failed expectation of a check, turned into its AssertionError by {@link #check}. */
    private static final class CheckFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CheckFailure(String message) {
            super(message, null, false, false);
        }
    }

    private static CheckFailure fail(String what, String kernel) {
        return new CheckFailure(what + "; the kernel: " + kernel);
    }

    private static void expect(boolean ok, String what, String kernel) {
        if (!ok) {
            throw fail(what, kernel);
        }
    }

    private static String describe(DmaBuf buf) {
        try {
            FileStat st = Sys.fstat(buf.fd());
            FdInfo info = FdInfo.read(buf.fd());
            return "buffer " + st.id() + " of " + st.size() + " bytes" + (info.isDmaBuf() ? ", fdinfo exp_name "
                    + info.expName() + ", name '" + info.name() + "'" : "");
        } catch (RuntimeException e) {
            return "buffer " + buf.id() + " (" + e.getMessage() + ")";
        }
    }

    private static String kernelName(Exporter e, DmaBuf buf) {
        return e.dmaBuf() ? "fdinfo name: '" + FdInfo.read(buf.fd()).name() + "'"
                : "/proc/self/fd link " + KernelView.link(Path.of("/proc/self/fd/" + buf.fd()));
    }

    private static String printable(String s) {
        return "\"" + FdInfo.printable(s) + "\"";
    }

    private static String lines(List<KernelView.MapsLine> lines) {
        return lines.isEmpty() ? "no maps line" : lines.stream().map(KernelView.MapsLine::line)
                .collect(Collectors.joining("; "));
    }

    /** A software importer with no constraints: what the attach/map rules are checked with. */
    private static Device contractDevice() {
        return Device.of("exporter-contract", DeviceConstraints.NONE);
    }

    /** Sends the fd over a socket pair with SCM_RIGHTS and returns the copy received, owned by the caller. */
    private static Fd sendAndReceive(int fd) {
        UnixSocket[] pair = UnixSocket.pair();
        try {
            pair[0].send(new byte[] {1}, fd);
            UnixSocket.Message m = pair[1].receive(16, Duration.ofSeconds(10));
            if (m.fds().size() != 1) {
                m.close();
                throw new AssertionError("SCM_RIGHTS carried " + m.fds().size() + " fds, not 1");
            }
            return m.fds().get(0);
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }
}
