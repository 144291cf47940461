package org.dmabuf.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.felix.service.command.Descriptor;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands in scope {@code dmabuf}: {@code exporters}, {@code bufinfo}, {@code alloc}, {@code release},
 * {@code share}. Buffers allocated from the shell are held by this component until released (or until it stops).
 * Immediate, so that the buffers it holds survive between commands (SCR would otherwise deactivate it when the
 * shell ungets the service). Threads: the shell's; the held buffers are in a concurrent map.
 */
@Component(immediate = true, service = DmabufCommands.class, property = {"osgi.command.scope=dmabuf",
    "osgi.command.function=exporters", "osgi.command.function=bufinfo", "osgi.command.function=alloc",
    "osgi.command.function=release", "osgi.command.function=share"})
public final class DmabufCommands {
    @Reference
    private DmaBufRegistry registry;

    @Reference
    private BufferChannels channels;

    private final Map<Long, DmaBuf> held = new ConcurrentHashMap<>();

    @Deactivate
    void deactivate() {
        held.values().forEach(DmaBuf::close);
        held.clear();
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
     * Lists every live buffer, as the kernel's debugfs bufinfo does.
     *
     * @return one line per buffer, then a total
     */
    @Descriptor("list the live buffers")
    public String bufinfo() {
        List<BufferInfo> infos = registry.bufinfo();
        StringBuilder b = new StringBuilder(String.format("%-10s %-8s %-16s %8s %5s %-20s %-24s %s%n", "SIZE", "KIND",
                "EXPORTER", "INODE", "COUNT", "NAME", "OWNER", "ATTACHED DEVICES"));
        long total = 0;
        for (BufferInfo i : infos) {
            total += i.size();
            b.append(String.format("%-10d %-8s %-16s %8d %5d %-20s %-24s %s%n", i.size(), i.kind(), i.exporter(),
                    i.inode(), i.refCount(), i.name(), i.owner(), String.join(",", i.attachedDevices())));
        }
        b.append("Total ").append(infos.size()).append(" objects, ").append(total).append(" bytes");
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

    private String hold(DmaBuf b) {
        held.put(b.inode(), b);
        return "allocated inode " + b.inode() + " size " + b.size() + " exporter " + b.exporterName().orElse("")
                + " kind " + b.kind().map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).orElse("");
    }

    /**
     * Releases a buffer allocated from the shell.
     *
     * @param inode its inode
     * @return what was released
     */
    @Descriptor("release a buffer allocated with alloc: release INODE")
    public String release(@Descriptor("inode") long inode) {
        DmaBuf b = held.remove(inode);
        if (b == null) {
            return "no buffer with inode " + inode + " was allocated from the shell";
        }
        b.put();
        return "released inode " + inode;
    }

    /**
     * Sends a buffer allocated from the shell to a listening channel.
     *
     * @param inode its inode
     * @param socket the listener's socket file
     * @param tag the tag to send
     * @return what was sent
     */
    @Descriptor("send a buffer allocated with alloc to a channel listener: share INODE SOCKET TAG")
    public String share(@Descriptor("inode") long inode, @Descriptor("socket file") String socket,
            @Descriptor("tag") long tag) {
        DmaBuf b = held.get(inode);
        if (b == null) {
            return "no buffer with inode " + inode + " was allocated from the shell";
        }
        try (BufferChannel ch = channels.connect(Path.of(socket), ChannelOptions.sameUser())) {
            ch.send(b, tag);
            return "shared inode " + inode + " with pid " + ch.peer().pid() + " on " + socket + " (tag " + tag + ")";
        }
    }
}
