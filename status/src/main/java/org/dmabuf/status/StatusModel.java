package org.dmabuf.status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.Plane;

/**
 * What {@code /dmabuf/status.json} says, as plain maps and lists for {@link JsonText}: the exporters (from
 * {@link ExporterInfo} and the service properties only the exporter's service carries: {@code exp_name} and the
 * device node), the live buffers (from {@link BufferInfo}) and the pipeline's figures as the gateway publishes them
 * (see {@link StatusServlet#PIPELINE}), or {@code {"running": false}} when no pipeline runs. Stateless; any thread.
 */
final class StatusModel {
    /** The pipeline's value that is the latest thumbnail's JPEG: served on its own, left out of the JSON. */
    static final String THUMBNAIL_JPEG = "thumbnailJpeg";

    private StatusModel() {
    }

    /**
     * The status.
     *
     * @param exporters the registry's exporters
     * @param serviceProperties each exporter's service properties, by its {@code service.id}
     * @param buffers the registry's live buffers
     * @param pipeline the pipeline's figures, or null when no pipeline runs
     * @return the JSON's top-level object
     */
    static Map<String, Object> status(List<ExporterInfo> exporters, Map<Long, Map<String, Object>> serviceProperties,
            List<BufferInfo> buffers, Map<String, ?> pipeline) {
        Map<String, Object> status = new LinkedHashMap<>();
        List<Object> ex = new ArrayList<>();
        for (ExporterInfo e : exporters) {
            Map<String, Object> props = serviceProperties.getOrDefault(e.serviceId(), Map.of());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("expName", text(props.get("dmabuf.exporter.exp_name")));
            m.put("kind", e.kind());
            m.put("ranking", e.ranking());
            m.put("devPath", text(props.get("dev.path")));
            m.put("serviceId", e.serviceId());
            m.put("contiguous", e.contiguous());
            m.put("uncached", e.uncached());
            m.put("maxSize", e.maxSize());
            ex.add(m);
        }
        status.put("exporters", ex);
        List<Object> bufs = new ArrayList<>();
        for (BufferInfo b : buffers) {
            bufs.add(buffer(b));
        }
        status.put("buffers", bufs);
        Map<String, Object> p = new LinkedHashMap<>();
        if (pipeline == null) {
            p.put("running", false);
        } else {
            for (Map.Entry<String, ?> e : pipeline.entrySet()) {
                if (!THUMBNAIL_JPEG.equals(e.getKey())) {
                    p.put(e.getKey(), e.getValue());
                }
            }
            p.put("running", true);
        }
        status.put("pipeline", p);
        return status;
    }

    private static String text(Object v) {
        return v == null ? "" : String.valueOf(v);
    }

    private static Map<String, Object> buffer(BufferInfo b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", b.id().toString());
        m.put("dev", b.id().dev());
        m.put("inode", b.id().inode());
        m.put("size", b.size());
        m.put("requestedSize", b.requestedSize());
        m.put("name", b.name());
        m.put("expName", b.expName());
        m.put("exporter", b.exporter());
        m.put("kind", b.kind());
        m.put("refCount", b.refCount());
        m.put("owner", b.owner());
        m.put("attachedDevices", b.attachedDevices());
        m.put("kernelDevices", b.kernelDevices());
        m.put("mappings", b.mappings());
        m.put("cpuMapped", b.cpuMapped());
        m.put("format", b.format().map(StatusModel::format).orElse(null));
        return m;
    }

    private static Map<String, Object> format(BufferFormat f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fourcc", f.fourccName());
        m.put("modifier", f.modifierName());
        m.put("width", Integer.toUnsignedLong(f.width()));
        m.put("height", Integer.toUnsignedLong(f.height()));
        List<Object> planes = new ArrayList<>();
        for (Plane p : f.planes()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("buffer", p.buffer());
            pm.put("offset", p.offset());
            pm.put("length", p.length());
            pm.put("stride", p.stride());
            planes.add(pm);
        }
        m.put("planes", planes);
        m.put("describe", f.describe());
        return m;
    }
}
