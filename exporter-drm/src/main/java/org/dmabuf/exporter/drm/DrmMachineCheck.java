package org.dmabuf.exporter.drm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.NodeAccess;
import org.dmabuf.spi.MachineCheck;
import org.osgi.service.component.annotations.Component;

/**
 * The DRM part of the machine check: every node in {@code /dev/dri} with its owner, group and mode, its driver
 * ({@code DRM_IOCTL_VERSION}), whether it makes dumb buffers ({@code DRM_CAP_DUMB_BUFFER}; a 1x1 dumb buffer made
 * and destroyed where a driver without modesetting, as vgem, does not answer that capability) and whether it
 * exports and imports with PRIME ({@code DRM_CAP_PRIME}). A primary node ({@code cardN}) works when it has dumb
 * buffers and PRIME export (the exporter); a render node ({@code renderDN}) when it has PRIME import (the importer:
 * render nodes make no dumb buffers). Opening a primary node does not keep DRM master ({@link DrmDevice} drops it).
 *
 * <p>A DS component service without configuration in OSGi, and listed in {@code META-INF/services} for
 * {@link java.util.ServiceLoader} outside it. Threads: stateless; any thread.
 */
@Component(service = MachineCheck.class)
public final class DrmMachineCheck implements MachineCheck {
    private final Path dir;

    /** A check of {@code /dev/dri}. */
    public DrmMachineCheck() {
        this(Path.of("/dev/dri"));
    }

    DrmMachineCheck(Path dir) {
        this.dir = dir;
    }

    @Override
    public String area() {
        return "drm";
    }

    @Override
    public List<Finding> check() {
        if (!Files.isDirectory(dir)) {
            return List.of(new Finding("drm", dir.toString(), Status.ABSENT, "no DRM nodes: no DRM driver is "
                    + "loaded", Map.of(), "load the GPU's DRM driver (or vgem to try PRIME); until then buffers come "
                            + "from dma-heaps, udmabuf or memfd"));
        }
        List<Path> nodes;
        try (Stream<Path> s = Files.list(dir)) {
            nodes = s.filter(p -> !Files.isDirectory(p)).sorted().toList();
        } catch (IOException e) {
            return List.of(new Finding("drm", dir.toString(), Status.FAILED, dir + " cannot be listed: " + e,
                    Map.of(), "let this user read " + dir));
        }
        if (nodes.isEmpty()) {
            return List.of(new Finding("drm", dir.toString(), Status.ABSENT, "no DRM nodes in " + dir, Map.of(),
                    "load the GPU's DRM driver (or vgem to try PRIME)"));
        }
        NodeAccess.Credentials me = NodeAccess.Credentials.current();
        List<Finding> out = new ArrayList<>();
        for (Path p : nodes) {
            out.add(node(p.toString(), me));
        }
        return out;
    }

    private static Finding node(String path, NodeAccess.Credentials me) {
        Map<String, String> facts = new LinkedHashMap<>();
        Optional<NodeAccess.Node> node = NodeAccess.stat(path);
        node.ifPresent(n -> facts.putAll(NodeAccess.facts(n, me)));
        DrmDevice d;
        try {
            d = new DrmDevice(path);
        } catch (LinuxException e) {
            facts.put("open", e.errno());
            return new Finding("drm", path, Status.FAILED, NodeAccess.openFailure(e.errno(), me), facts,
                    NodeAccess.openAdvice(node, e.errnoValue(), me));
        }
        try (d) {
            facts.put("open", "yes");
            facts.put("driver", d.driver());
            d.kernelName().ifPresent(k -> facts.put("device", k));
            facts.put("node", d.primary() ? "primary" : "render");
            long prime = d.cap(DrmUapi.DRM_CAP_PRIME);
            boolean exp = (prime & DrmUapi.DRM_PRIME_CAP_EXPORT) != 0;
            boolean imp = (prime & DrmUapi.DRM_PRIME_CAP_IMPORT) != 0;
            facts.put("prime", (imp ? "import" : "") + (imp && exp ? "," : "") + (exp ? "export" : "")
                    + (imp || exp ? "" : "none"));
            if (!d.primary()) {
                facts.put("dumb", "n/a (render node)");
                return imp
                        ? new Finding("drm", path, Status.OK, d.driver() + " render node: imports dma-bufs (PRIME)",
                                facts, "")
                        : new Finding("drm", path, Status.FAILED, d.driver() + " render node without PRIME import",
                                facts, "use a driver with PRIME import");
            }
            String dumb = dumb(d);
            facts.put("dumb", dumb);
            boolean hasDumb = dumb.startsWith("yes");
            if (hasDumb && exp && imp) {
                return new Finding("drm", path, Status.OK, d.driver() + ": dumb buffers, PRIME export and import",
                        facts, "");
            }
            return new Finding("drm", path, Status.FAILED, d.driver() + ": " + (hasDumb ? "" : "no dumb buffers; ")
                    + (exp ? "" : "no PRIME export; ") + (imp ? "" : "no PRIME import"), facts,
                    "this node cannot export buffers: use another DRM device or a dma-heap");
        } catch (LinuxException e) {
            facts.put("error", e.errno());
            return new Finding("drm", path, Status.FAILED, "the driver refused a query: " + e.getMessage(), facts,
                    "see the error");
        }
    }

    /** Whether the node makes dumb buffers: the capability, or a 1x1 one made and destroyed. */
    private static String dumb(DrmDevice d) {
        try {
            return d.cap(DrmUapi.DRM_CAP_DUMB_BUFFER) != 0 ? "yes" : "no (DRM_CAP_DUMB_BUFFER 0)";
        } catch (LinuxException e) {
            if (e.errnoValue() != Errno.EOPNOTSUPP) {
                return "no (" + e.errno() + ")";
            }
        }
        try {
            d.releaseDumb(d.createDumb(1, 1, 32).handle());
            return "yes (no modesetting: a 1x1 dumb buffer made)";
        } catch (LinuxException e) {
            return "no (" + e.errno() + ")";
        }
    }
}
