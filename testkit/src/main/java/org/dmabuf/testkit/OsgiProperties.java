package org.dmabuf.testkit;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;

/**
 * The service properties of an exporter registered in the OSGi framework the kit runs in; only loaded when
 * {@code org.osgi.framework} is there (imported optionally). Any thread.
 */
final class OsgiProperties {
    private OsgiProperties() {
    }

    /** The properties of the exporter service of that name, or null outside a framework or when none is found. */
    static Map<String, Object> of(String exporterName) {
        try {
            return lookup(exporterName);
        } catch (LinkageError e) { // no org.osgi.framework on the class path: plain JUnit
            return null;
        }
    }

    private static Map<String, Object> lookup(String exporterName) {
        Bundle bundle = FrameworkUtil.getBundle(OsgiProperties.class);
        BundleContext context = bundle == null ? null : bundle.getBundleContext();
        if (context == null) {
            return null;
        }
        try {
            for (ServiceReference<DmaBufExporter> ref : context.getServiceReferences(DmaBufExporter.class,
                    "(" + DmaBufExporter.NAME + "=" + escape(exporterName) + ")")) {
                Map<String, Object> out = new HashMap<>();
                for (String key : ref.getPropertyKeys()) {
                    out.put(key, ref.getProperty(key));
                }
                return out;
            }
        } catch (org.osgi.framework.InvalidSyntaxException | IllegalStateException e) {
            return null;
        }
        return null;
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("*", "\\*").replace("(", "\\(").replace(")", "\\)");
    }
}
