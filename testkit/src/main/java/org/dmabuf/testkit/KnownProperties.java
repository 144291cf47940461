package org.dmabuf.testkit;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.dmabuf.api.DmaBufRegistry;

/**
 * The service properties each {@link ContractRegistry} was given, by registry: where the contract reads an
 * exporter's exp_name outside a framework. Kept apart from {@link ContractRegistry} so that the contract never loads
 * the core's registry in OSGi (the kit imports {@code org.dmabuf.core} optionally). Thread-safe.
 */
final class KnownProperties {
    private static final Map<DmaBufRegistry, Map<String, Object>> PROPERTIES =
            Collections.synchronizedMap(new WeakHashMap<>());

    private KnownProperties() {
    }

    static void put(DmaBufRegistry registry, Map<String, Object> properties) {
        PROPERTIES.put(registry, Map.copyOf(properties));
    }

    static void remove(DmaBufRegistry registry) {
        PROPERTIES.remove(registry);
    }

    /** The properties a registry was made with, or null. */
    static Map<String, Object> of(DmaBufRegistry registry) {
        return PROPERTIES.get(registry);
    }
}
