package org.dmabuf.testkit;

import java.util.Map;
import java.util.WeakHashMap;

/** Builds the kit's test memfd exporter in a registry, for tests outside this package. */
public final class KitMemfdSupport {
    private static final Map<ContractRegistry, KitMemfdExporter> EXPORTERS = new WeakHashMap<>();

    private KitMemfdSupport() {
    }

    /** A registry holding a sound test memfd exporter. */
    public static synchronized ContractRegistry registry() {
        KitMemfdExporter e = new KitMemfdExporter();
        ContractRegistry r = ContractRegistry.of(e, KitMemfdExporter.properties());
        EXPORTERS.put(r, e);
        return r;
    }

    /** The contract of that exporter. */
    public static ExporterContract contract(ContractRegistry registry) {
        return ExporterContract.of(registry.registry(), KitMemfdExporter.NAME_VALUE);
    }

    /** Closes the exporter of that registry. */
    public static synchronized void closeExporter(ContractRegistry registry) {
        KitMemfdExporter e = EXPORTERS.remove(registry);
        if (e != null) {
            e.close();
        }
    }
}
