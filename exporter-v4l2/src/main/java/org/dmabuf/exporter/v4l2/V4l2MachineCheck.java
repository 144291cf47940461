package org.dmabuf.exporter.v4l2;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.NodeAccess;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.MachineCheck;
import org.osgi.service.component.annotations.Component;

/**
 * The V4L2 part of the machine check: every {@code /dev/video*} node with its owner, group and mode, its driver
 * and card ({@code VIDIOC_QUERYCAP}), whether it captures with streaming I/O (its device caps), and for a capture
 * node the buffer capabilities that {@code VIDIOC_REQBUFS} with count 0 returns without allocating
 * ({@code V4L2_BUF_CAP_SUPPORTS_MMAP}, {@code V4L2_BUF_CAP_SUPPORTS_DMABUF}: DMABUF import) and whether
 * {@code VIDIOC_EXPBUF} exports (one MMAP buffer requested, exported, closed and freed again). A node another
 * process streams from answers {@code EBUSY}: that is reported (busy), and the node is left alone. The node is
 * opened non-blocking, and the format is not changed.
 *
 * <p>A DS component service without configuration in OSGi, and listed in {@code META-INF/services} for
 * {@link java.util.ServiceLoader} outside it. Threads: stateless; any thread.
 */
@Component(service = MachineCheck.class)
public final class V4l2MachineCheck implements MachineCheck {
    /** {@code V4L2_CAP_VIDEO_OUTPUT}. */
    static final int V4L2_CAP_VIDEO_OUTPUT = 0x00000002;
    /** {@code V4L2_CAP_VIDEO_OUTPUT_MPLANE}. */
    static final int V4L2_CAP_VIDEO_OUTPUT_MPLANE = 0x00002000;
    /** {@code V4L2_CAP_VIDEO_M2M_MPLANE}. */
    static final int V4L2_CAP_VIDEO_M2M_MPLANE = 0x00004000;
    /** {@code V4L2_CAP_VIDEO_M2M}. */
    static final int V4L2_CAP_VIDEO_M2M = 0x00008000;
    /** {@code V4L2_BUF_CAP_SUPPORTS_MMAP}. */
    static final int V4L2_BUF_CAP_SUPPORTS_MMAP = 1;
    /** {@code V4L2_BUF_CAP_SUPPORTS_DMABUF}. */
    static final int V4L2_BUF_CAP_SUPPORTS_DMABUF = 1 << 2;

    private final Path dir;

    /** A check of {@code /dev/video*}. */
    public V4l2MachineCheck() {
        this(Path.of("/dev"));
    }

    V4l2MachineCheck(Path dir) {
        this.dir = dir;
    }

    @Override
    public String area() {
        return "v4l2";
    }

    @Override
    public List<Finding> check() {
        List<Path> nodes;
        try (Stream<Path> s = Files.list(dir)) {
            nodes = s.filter(p -> p.getFileName().toString().matches("video[0-9]+"))
                    .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(5))))
                    .toList();
        } catch (IOException e) {
            return List.of(new Finding("v4l2", dir + "/video*", Status.FAILED, dir + " cannot be listed: " + e,
                    Map.of(), "let this user read " + dir));
        }
        if (nodes.isEmpty()) {
            return List.of(new Finding("v4l2", dir + "/video*", Status.ABSENT, "no V4L2 video nodes: no camera "
                    + "driver is loaded", Map.of(), "connect a camera or load its driver (or vivid to try V4L2); the "
                            + "gateway's test pattern serves without one"));
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
        Fd fd;
        try {
            fd = Sys.open(path, LibC.O_RDWR | LibC.O_NONBLOCK);
        } catch (LinuxException e) {
            facts.put("open", e.errno());
            return new Finding("v4l2", path, Status.FAILED, NodeAccess.openFailure(e.errno(), me), facts,
                    NodeAccess.openAdvice(node, e.errnoValue(), me));
        }
        try (fd) {
            facts.put("open", "yes");
            V4l2Uapi.Capability c = new V4l2Uapi.Capability();
            V4l2Uapi.ioctl(fd.get(), V4l2Uapi.QUERYCAP, "VIDIOC_QUERYCAP", path, c, null);
            String driver = cString(c.driver);
            String card = cString(c.card);
            int caps = (c.capabilities & V4l2Uapi.V4L2_CAP_DEVICE_CAPS) != 0 ? c.device_caps : c.capabilities;
            facts.put("driver", driver);
            facts.put("card", card);
            facts.put("device_caps", String.format("0x%08x", caps));
            boolean single = (caps & V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE) != 0;
            boolean mplane = (caps & V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0;
            boolean streaming = (caps & V4l2Uapi.V4L2_CAP_STREAMING) != 0;
            facts.put("capture", mplane ? "yes (multi-planar)" : single ? "yes" : "no");
            facts.put("streaming", streaming ? "yes" : "no");
            String name = driver + " '" + card + "'";
            if (!(single || mplane)) {
                String what = (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) != 0 ? "a memory-to-memory "
                        + "device" : (caps & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE)) != 0
                        ? "a video output" : "no video capture";
                return new Finding("v4l2", path, Status.ABSENT, name + ": " + what + ", not a camera the V4L2 "
                        + "exporter captures from", facts, "");
            }
            if (!streaming) {
                return new Finding("v4l2", path, Status.FAILED, name + ": captures without streaming I/O (read() "
                        + "only): no buffers to export", facts, "use a driver with streaming I/O (videobuf2)");
            }
            int type = mplane ? V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE;
            return buffers(fd, path, type, name, facts);
        } catch (LinuxException e) {
            facts.put("error", e.errno());
            return new Finding("v4l2", path, Status.FAILED, "the driver refused a query: " + e.getMessage(), facts,
                    e.errnoValue() == Errno.ENOTTY ? "not a V4L2 node" : "see the error");
        }
    }

    /** {@code REQBUFS(0)} for the buffer capabilities, then one MMAP buffer exported with {@code EXPBUF}. */
    private static Finding buffers(Fd fd, String path, int type, String name, Map<String, String> facts) {
        int bufCaps;
        try {
            bufCaps = reqbufs(fd, path, type, V4l2Uapi.V4L2_MEMORY_MMAP, 0).capabilities;
        } catch (LinuxException e) {
            if (e.errnoValue() != Errno.EBUSY) {
                throw e;
            }
            return busy(path, name, facts);
        }
        facts.put("buf_caps", String.format("0x%08x", bufCaps));
        boolean mmap = (bufCaps & V4L2_BUF_CAP_SUPPORTS_MMAP) != 0;
        boolean dmabuf = (bufCaps & V4L2_BUF_CAP_SUPPORTS_DMABUF) != 0;
        facts.put("mmap", mmap ? "yes" : "no");
        facts.put("dmabuf_import", dmabuf ? "yes" : "no");
        String expbuf;
        if (!mmap) {
            expbuf = "no (no MMAP buffers)";
        } else {
            try {
                expbuf = expbuf(fd, path, type);
            } catch (LinuxException e) {
                if (e.errnoValue() == Errno.EBUSY) {
                    return busy(path, name, facts);
                }
                expbuf = "no (" + e.errno() + ")";
            }
        }
        facts.put("expbuf", expbuf);
        boolean exports = expbuf.startsWith("yes");
        if (exports && dmabuf) {
            return new Finding("v4l2", path, Status.OK, name + ": capture, streaming, EXPBUF and DMABUF import",
                    facts, "");
        }
        if (exports || dmabuf) {
            return new Finding("v4l2", path, Status.OK, name + ": capture, streaming, " + (exports ? "EXPBUF; no "
                    + "DMABUF import" : "DMABUF import; no EXPBUF"), facts, "");
        }
        return new Finding("v4l2", path, Status.FAILED, name + ": neither EXPBUF nor DMABUF import", facts,
                "frames from this node are copied: use a driver on videobuf2 with dma-buf support");
    }

    private static Finding busy(String path, String name, Map<String, String> facts) {
        facts.put("busy", "yes (EBUSY)");
        return new Finding("v4l2", path, Status.FAILED, name + ": busy: another process streams from it; EXPBUF and "
                + "DMABUF import not tried", facts, "stop the other user of " + path + ", or take its frames from "
                        + "it (a channel)");
    }

    /** One MMAP buffer: requested, exported and the dma-buf closed, the queue freed again whatever happens. */
    private static String expbuf(Fd fd, String path, int type) {
        int got = reqbufs(fd, path, type, V4l2Uapi.V4L2_MEMORY_MMAP, 1).count;
        try {
            if (got < 1) {
                return "no (REQBUFS granted no buffer)";
            }
            V4l2Uapi.ExportBuffer e = new V4l2Uapi.ExportBuffer();
            e.type = type;
            e.index = 0;
            e.plane = 0;
            e.flags = LibC.O_CLOEXEC | LibC.O_RDWR;
            V4l2Uapi.ioctl(fd.get(), V4l2Uapi.EXPBUF, "VIDIOC_EXPBUF", path + ", buffer 0", e, null);
            try (Fd exported = new Fd(e.fd, "dma-buf of " + path + " buffer 0")) {
                return "yes (buffer 0 exported)";
            }
        } finally {
            reqbufs(fd, path, type, V4l2Uapi.V4L2_MEMORY_MMAP, 0);
        }
    }

    private static V4l2Uapi.RequestBuffers reqbufs(Fd fd, String path, int type, int memory, int count) {
        V4l2Uapi.RequestBuffers r = new V4l2Uapi.RequestBuffers();
        r.count = count;
        r.type = type;
        r.memory = memory;
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.REQBUFS, "VIDIOC_REQBUFS", path + ", count " + count, r, null);
        return r;
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
