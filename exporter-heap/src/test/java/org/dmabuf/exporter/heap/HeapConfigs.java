package org.dmabuf.exporter.heap;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

/**
 * Test support: a {@link HeapExporters.Config} with some attributes set (the others at their defaults, as SCR gives
 * them), and a {@link BundleContext} that records the services {@link HeapExporters} registers. Test threads only.
 */
final class HeapConfigs {
    private HeapConfigs() {
    }

    /**
     * A configuration.
     *
     * @param set attribute method names ({@code dmaheap_dir}) and values; the rest at their defaults
     * @return the configuration
     */
    static HeapExporters.Config config(Map<String, Object> set) {
        Map<String, Object> values = new HashMap<>(set);
        return (HeapExporters.Config) Proxy.newProxyInstance(HeapExporters.Config.class.getClassLoader(),
                new Class<?>[] {HeapExporters.Config.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "annotationType" -> HeapExporters.Config.class;
                    case "toString" -> "config " + values;
                    case "hashCode" -> values.hashCode();
                    case "equals" -> proxy == args[0];
                    default -> values.containsKey(m.getName()) ? values.get(m.getName()) : m.getDefaultValue();
                });
    }

    /** A service {@link HeapExporters} registered: the exporter and its properties. */
    record Service(DmaBufExporter exporter, Map<String, Object> properties, boolean[] unregistered) {
        String name() {
            return (String) properties.get(DmaBufExporter.NAME);
        }

        int ranking() {
            return (Integer) properties.get(org.osgi.framework.Constants.SERVICE_RANKING);
        }
    }

    /** A bundle context that only registers services, into a list. */
    static final class Recording {
        final List<Service> services = new ArrayList<>();
        final BundleContext context = (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, m, args) -> {
                    if (!m.getName().equals("registerService") || !(args[2] instanceof Dictionary)) {
                        throw new UnsupportedOperationException(m.getName());
                    }
                    Dictionary<?, ?> d = (Dictionary<?, ?>) args[2];
                    Map<String, Object> props = new HashMap<>();
                    for (var keys = d.keys(); keys.hasMoreElements();) {
                        Object k = keys.nextElement();
                        props.put((String) k, d.get(k));
                    }
                    Service s = new Service((DmaBufExporter) args[1], props, new boolean[1]);
                    services.add(s);
                    return registration(s);
                });

        private static ServiceRegistration<?> registration(Service s) {
            ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(
                    ServiceReference.class.getClassLoader(), new Class<?>[] {ServiceReference.class},
                    (proxy, m, args) -> {
                        if (m.getName().equals("getProperty")) {
                            return s.properties().get((String) args[0]);
                        }
                        throw new UnsupportedOperationException(m.getName());
                    });
            return (ServiceRegistration<?>) Proxy.newProxyInstance(ServiceRegistration.class.getClassLoader(),
                    new Class<?>[] {ServiceRegistration.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "getReference" -> ref;
                        case "unregister" -> {
                            s.unregistered()[0] = true;
                            yield null;
                        }
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }
    }
}
