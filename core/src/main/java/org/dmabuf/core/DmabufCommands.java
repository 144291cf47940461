package org.dmabuf.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.felix.service.command.Descriptor;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Gogo commands in scope {@code dmabuf}: {@code exporters}, {@code bufinfo} (with each buffer's format and
 * modifier), {@code info} (one buffer in detail, every plane of its layout), {@code alloc}, {@code allocframe} (a
 * frame of a pixel format, one buffer or one per plane), {@code release}, {@code share}, {@code dump} (every
 * dma-buf and shared memfd of the machine, {@link SystemBuffers}), {@code doctor} (the machine check,
 * {@link Doctor}, with the exporter bundles' {@link org.dmabuf.spi.MachineCheck} services). Buffers allocated from
 * the shell are held by this component until released (or until it stops).
 * Immediate, so that the buffers it holds survive between commands (SCR would otherwise deactivate it when the
 * shell ungets the service). Threads: the shell's; the held buffers are in a concurrent map.
 */
@Component(immediate = true, service = DmabufCommands.class, property = {"osgi.command.scope=dmabuf",
    "osgi.command.function=exporters", "osgi.command.function=bufinfo", "osgi.command.function=alloc",
    "osgi.command.function=release", "osgi.command.function=share", "osgi.command.function=info",
    "osgi.command.function=allocframe",
    "osgi.command.function=dump", "osgi.command.function=doctor"})
public final class DmabufCommands {
    private final DmaBufRegistry registry;
    private final BufferChannels channels;

    /** The machine checks of the exporter bundles (DRM and V4L2 nodes), a whiteboard: SCR replaces the list. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<org.dmabuf.spi.MachineCheck> machineChecks = List.of();

    /** Buffers allocated from the shell, by identity ({@code st_dev}, {@code st_ino}). */
    private final Map<BufferId, DmaBuf> held = new ConcurrentHashMap<>();

    /**
     * Binds the commands to this bundle's registry and channels.
     *
     * @param registry the registry
     * @param channels the channels
     */
    @Activate
    public DmabufCommands(@Reference DmaBufRegistry registry, @Reference BufferChannels channels) {
        this.registry = registry;
        this.channels = channels;
    }

    @Deactivate
    void deactivate() {
        held.values().forEach(DmaBuf::close);
        held.clear();
    }

    /**
     * The machine check ({@link Doctor}): the kernel, dma-heaps, udmabuf, memfd and sync_file, and the DRM and V4L2
     * nodes through the exporter bundles' {@link org.dmabuf.spi.MachineCheck} services; then what works, what does
     * not, and what to do.
     *
     * @param json whether to print JSON
     * @return the report, and its exit status as {@code --doctor} gives it
     */
    @Descriptor("check what this machine offers for allocating and sharing buffers: doctor [--json]")
    public String doctor(@org.apache.felix.service.command.Parameter(names = "--json", presentValue = "true",
            absentValue = "false") @Descriptor("print JSON") boolean json) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        List<org.dmabuf.spi.MachineCheck> checks = new java.util.ArrayList<>(machineChecks);
        checks.sort(java.util.Comparator.comparing(org.dmabuf.spi.MachineCheck::area));
        Doctor.run(json ? List.of("--json") : List.of(), out, checks);
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8).stripTrailing();
    }

    /**
     * Lists the exporters in the order late allocation tries them.
     *
     * @return one line per exporter
     */
    @Descriptor("list the exporters, best first")
    public String exporters() {
        StringBuilder b = new StringBuilder(String.format("%-24s %-8s %8s %6s %-10s %-8s%n", "NAME", "KIND",
                "RANKING", "ID", "CONTIGUOUS", "UNCACHED"));
        for (ExporterInfo e : registry.exporters()) {
            b.append(String.format("%-24s %-8s %8d %6d %-10s %-8s%n", e.name(), e.kind(), e.ranking(),
                    e.serviceId(), e.contiguous(), e.uncached()));
        }
        return b.toString();
    }

    /**
     * Lists every live buffer, as the kernel's debugfs bufinfo does, with its format and modifier.
     *
     * @return one line per buffer, then a total
     */
    @Descriptor("list the live buffers")
    public String bufinfo() {
        List<BufferInfo> infos = registry.bufinfo();
        StringBuilder b = new StringBuilder(String.format("%-10s %-8s %-18s %-20s %-7s %8s %5s %-20s %-24s %-26s %s%n",
                "SIZE", "KIND", "EXP_NAME", "EXPORTER", "DEV", "INODE", "COUNT", "NAME", "OWNER", "FORMAT",
                "ATTACHED DEVICES (KERNEL)"));
        long total = 0;
        for (BufferInfo i : infos) {
            total += i.size();
            b.append(String.format("%-10d %-8s %-18s %-20s %-7s %8d %5d %-20s %-24s %-26s %s%s%n", i.size(), i.kind(),
                    FdInfo.printable(i.expName()), i.exporter(), i.id().major() + ":" + i.id().minor(), i.inode(),
                    i.refCount(), i.name().isEmpty() ? "<none>" : FdInfo.printable(i.name()), i.owner(),
                    i.format().map(DmabufCommands::formatColumn).orElse("-"),
                    String.join(",", i.attachedDevices()), i.kernelDevices().isEmpty() ? ""
                            : " (" + String.join(",", i.kernelDevices()) + ")"));
        }
        b.append("Total ").append(infos.size()).append(" objects, ").append(total).append(" bytes");
        return b.toString();
    }

    /** A format in one column: fourcc, size and modifier ({@code NV12 640x480 LINEAR}). */
    static String formatColumn(BufferFormat f) {
        return f.fourccName().strip() + " " + Integer.toUnsignedString(f.width()) + "x"
                + Integer.toUnsignedString(f.height()) + " " + f.modifierName();
    }

    /**
     * Shows one live buffer in detail: what bufinfo lists, and its layout plane by plane.
     *
     * @param id the buffer's id ({@code MAJOR:MINOR/INODE}) or its inode, as bufinfo lists it
     * @return the buffer's lines
     */
    @Descriptor("show a live buffer in detail, with every plane of its format: info ID|INODE")
    public String info(@Descriptor("id (MAJOR:MINOR/INODE) or inode") String id) {
        List<BufferInfo> found = registry.bufinfo().stream()
                .filter(i -> id.equals(i.id().toString()) || id.equals(Long.toString(i.inode()))).toList();
        if (found.isEmpty()) {
            return "no live buffer with id or inode " + id;
        }
        if (found.size() > 1) {
            return "inode " + id + " names " + found.size() + " buffers (" + String.join(", ", found.stream()
                    .map(i -> i.id().toString()).toList()) + "): give the id MAJOR:MINOR/INODE";
        }
        BufferInfo i = found.get(0);
        StringBuilder b = new StringBuilder();
        b.append("id ").append(i.id()).append('\n');
        b.append("name ").append(i.name().isEmpty() ? "<none>" : FdInfo.printable(i.name())).append('\n');
        b.append("size ").append(i.size()).append(" (requested ").append(i.requestedSize()).append(")\n");
        b.append("kind ").append(i.kind()).append(", exp_name ").append(FdInfo.printable(i.expName()))
                .append(", exporter ").append(i.exporter()).append('\n');
        b.append("count ").append(i.refCount()).append(", mappings ").append(i.mappings()).append(", cpu mapped ")
                .append(i.cpuMapped()).append('\n');
        b.append("owner ").append(i.owner()).append('\n');
        b.append("attached ").append(i.attachedDevices().isEmpty() ? "-" : String.join(",", i.attachedDevices()))
                .append(i.kernelDevices().isEmpty() ? "" : " (kernel: " + String.join(",", i.kernelDevices()) + ")")
                .append('\n');
        if (i.format().isEmpty()) {
            b.append("format -");
            return b.toString();
        }
        BufferFormat f = i.format().get();
        b.append("format ").append(f.describe()).append('\n');
        b.append("fourcc ").append(f.fourccName()).append(String.format(" (0x%08x)", f.fourcc()))
                .append(f.pixelFormat().map(p -> ", " + p).orElse("")).append(", modifier ").append(f.modifierName())
                .append(String.format(" (0x%016x)", f.modifier()));
        for (int p = 0; p < f.planes().size(); p++) {
            Plane pl = f.planes().get(p);
            b.append(String.format("%nplane %d: buffer %d offset %d length %d stride %d", p, pl.buffer(),
                    pl.offset(), pl.length(), pl.stride()));
        }
        return b.toString();
    }

    /**
     * Allocates a buffer from the best exporter and holds it.
     *
     * @param size bytes
     * @param name the buffer's name
     * @return what was allocated
     */
    @Descriptor("allocate a buffer from the best exporter: alloc SIZE NAME")
    public String alloc(@Descriptor("bytes") long size, @Descriptor("name") String name) {
        return hold(registry.allocate(BufferRequest.ofSize(size).name(name)));
    }

    /**
     * Allocates a buffer from one exporter and holds it.
     *
     * @param size bytes
     * @param name the buffer's name
     * @param exporter the exporter's name
     * @return what was allocated
     */
    @Descriptor("allocate a buffer from one exporter: alloc SIZE NAME EXPORTER")
    public String alloc(@Descriptor("bytes") long size, @Descriptor("name") String name,
            @Descriptor("exporter") String exporter) {
        return hold(registry.allocate(BufferRequest.ofSize(size).name(name).exporter(exporter)));
    }

    /**
     * Allocates a frame of a pixel format from the best exporter and holds its buffers.
     *
     * @param format a {@link PixelFormat} name ({@code NV12}, {@code NV12M}, {@code YUYV}, ...)
     * @param width width in pixels
     * @param height height in pixels
     * @param name the buffers' name
     * @return what was allocated, a line per buffer
     */
    @Descriptor("allocate a frame of a pixel format: allocframe FORMAT WIDTH HEIGHT NAME")
    public String allocframe(@Descriptor("pixel format (NV12, NV12M, YUYV, XBGR32, ...)") String format,
            @Descriptor("width") int width, @Descriptor("height") int height, @Descriptor("name") String name) {
        return holdFrame(BufferRequest.ofFormat(pixelFormat(format), width, height).name(name));
    }

    /**
     * Allocates a frame of a pixel format from one exporter and holds its buffers.
     *
     * @param format a {@link PixelFormat} name
     * @param width width in pixels
     * @param height height in pixels
     * @param name the buffers' name
     * @param exporter the exporter's name
     * @return what was allocated, a line per buffer
     */
    @Descriptor("allocate a frame of a pixel format from one exporter: allocframe FORMAT WIDTH HEIGHT NAME EXPORTER")
    public String allocframe(@Descriptor("pixel format") String format, @Descriptor("width") int width,
            @Descriptor("height") int height, @Descriptor("name") String name,
            @Descriptor("exporter") String exporter) {
        return holdFrame(BufferRequest.ofFormat(pixelFormat(format), width, height).name(name).exporter(exporter));
    }

    private static PixelFormat pixelFormat(String name) {
        try {
            return PixelFormat.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new org.dmabuf.api.InvalidArgumentException("allocframe", "no pixel format '" + name + "'; one of "
                    + java.util.Arrays.toString(PixelFormat.values()));
        }
    }

    private String holdFrame(BufferRequest request) {
        StringBuilder b = new StringBuilder();
        try (FrameBuffer frame = registry.allocateFrame(request)) {
            b.append("allocated frame ").append(frame.format().describe());
            for (DmaBuf buf : frame.buffers()) {
                b.append('\n').append(hold(buf.get()));
            }
        }
        return b.toString();
    }

    private String hold(DmaBuf b) {
        held.put(b.id(), b);
        return "allocated inode " + b.inode() + " size " + b.size() + " exporter " + b.exporterService().orElse("")
                + " kind " + b.kind().map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).orElse("")
                + " exp_name " + b.exporterName().orElse("") + " id " + b.id()
                + b.format().map(f -> " format " + formatColumn(f)).orElse("");
    }

    /**
     * Finds a held buffer by its id ({@code MAJOR:MINOR/INODE}, as {@code alloc} prints it) or by its inode alone
     * when exactly one held buffer has that inode.
     */
    private Map.Entry<BufferId, DmaBuf> find(String key) {
        List<Map.Entry<BufferId, DmaBuf>> found = held.entrySet().stream()
                .filter(e -> key.equals(e.getKey().toString()) || key.equals(Long.toString(e.getKey().inode())))
                .toList();
        if (found.size() > 1) {
            throw new IllegalArgumentException("inode " + key + " names " + found.size() + " buffers ("
                    + String.join(", ", found.stream().map(e -> e.getKey().toString()).toList())
                    + "): give the id MAJOR:MINOR/INODE");
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /**
     * Releases a buffer allocated from the shell.
     *
     * @param id its id ({@code MAJOR:MINOR/INODE}) or its inode
     * @return what was released
     */
    @Descriptor("release a buffer allocated with alloc: release ID|INODE")
    public String release(@Descriptor("id (MAJOR:MINOR/INODE) or inode") String id) {
        Map.Entry<BufferId, DmaBuf> e = find(id);
        if (e == null || held.remove(e.getKey()) == null) {
            return "no buffer with id or inode " + id + " was allocated from the shell";
        }
        e.getValue().put();
        return "released inode " + e.getKey().inode() + " (id " + e.getKey() + ")";
    }

    /**
     * Sends a buffer allocated from the shell to a listening channel.
     *
     * @param id its id ({@code MAJOR:MINOR/INODE}) or its inode
     * @param socket the listener's socket file
     * @param tag the tag to send
     * @return what was sent
     */
    @Descriptor("send a buffer allocated with alloc to a channel listener: share ID|INODE SOCKET TAG")
    public String share(@Descriptor("id (MAJOR:MINOR/INODE) or inode") String id,
            @Descriptor("socket file") String socket, @Descriptor("tag") long tag) {
        Map.Entry<BufferId, DmaBuf> e = find(id);
        if (e == null) {
            return "no buffer with id or inode " + id + " was allocated from the shell";
        }
        try (BufferChannel ch = channels.connect(Path.of(socket), ChannelOptions.sameUser())) {
            ch.send(e.getValue(), tag);
            return "shared inode " + e.getKey().inode() + " (id " + e.getKey() + ") with pid " + ch.peer().pid()
                    + " on " + socket + " (tag " + tag + ")";
        }
    }

    /**
     * Every dma-buf and shared memfd of the machine with its holders, and totals per process and per exporter, as
     * Android's {@code dmabuf_dump}: {@link SystemBuffers}.
     *
     * @param json print JSON instead of the table
     * @param pid a process to show alone, or 0 for all
     * @return the table or JSON
     */
    @Descriptor("every dma-buf and shared memfd of the machine, who holds it, totals: dump [--json] [--pid PID]")
    public String dump(
            @Descriptor("print JSON") @org.apache.felix.service.command.Parameter(names = "--json",
                    presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("one process alone") @org.apache.felix.service.command.Parameter(names = "--pid",
                    absentValue = "0") int pid) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        List<String> args = new java.util.ArrayList<>();
        if (json) {
            args.add("--json");
        }
        if (pid != 0) {
            args.addAll(List.of("--pid", Integer.toString(pid)));
        }
        SystemBuffers.run(args, out);
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
