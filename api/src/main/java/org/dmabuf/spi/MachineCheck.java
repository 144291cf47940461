package org.dmabuf.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A part of the machine check ({@code dmabuf:doctor}, {@code dmabuf-gateway --doctor}): what one kind of device
 * offers on this machine, found by asking the kernel, as an exporter bundle knows how to ask (the DRM exporter of
 * its DRM nodes, the V4L2 exporter of its video nodes). The core's own checks (kernel, dma-heaps, udmabuf, memfd,
 * sync_file) need none.
 *
 * <p>Found with {@link java.util.ServiceLoader} outside OSGi (the exporter's jar lists its check in
 * {@code META-INF/services/org.dmabuf.spi.MachineCheck}) and as a whiteboard of services in OSGi (each exporter
 * bundle registers its check as a service of this interface). A check needs no configuration, and must not disturb
 * a device another process uses: a node that is busy ({@code EBUSY}) is a finding, not a failure. Whatever a check
 * allocates to try a device, it releases before it returns.
 *
 * <p>Threads: {@link #check()} is called from any thread, one call at a time per caller; implementations must be
 * thread-safe.
 */
@ConsumerType
public interface MachineCheck {
    /**
     * The area this check covers, as it heads its part of the report.
     *
     * @return for example {@code drm} or {@code v4l2}
     */
    String area();

    /**
     * Looks at the machine.
     *
     * @return one finding per device node (or one saying there is none); never null
     */
    List<Finding> check();

    /** How far a finding's subject works. */
    enum Status {
        /** It works: buffers can be allocated, shared or imported through it. */
        OK,
        /** It is not on this machine (no node, no driver): not an error, but not available either. */
        ABSENT,
        /** It is there but does not work for this process (permissions, a missing capability, busy). */
        FAILED
    }

    /**
     * What a check found of one subject.
     *
     * @param area the check's area ({@code drm})
     * @param subject what it looked at: a node ({@code /dev/dri/card0}) or a feature ({@code sync_file})
     * @param status whether it works
     * @param summary what it is and what works, in one line (device names as the driver reports them)
     * @param facts what the check measured, by name, in order ({@code driver=vgem}, {@code prime=import,export});
     *        values are text as the report prints them
     * @param advice what to do where it does not work, in one line; empty where nothing is to be done
     */
    record Finding(String area, String subject, Status status, String summary, Map<String, String> facts,
            String advice) {
        /**
         * Checks the parts and copies the facts, keeping their order.
         */
        public Finding {
            Objects.requireNonNull(area, "area");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(summary, "summary");
            facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts));
            advice = advice == null ? "" : advice;
        }
    }
}
