package org.dmabuf.exporter.heap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Finds what memory exporters the kernel offers and registers one {@link DmaBufExporter} service for each: every
 * {@code /dev/dma_heap/*} node, {@code /dev/udmabuf} and the sealed-memfd exporter, ranked as libcamera prefers its
 * providers: CMA heaps (400), then system heaps (300), then udmabuf (200), then uncached heaps and dedicated
 * carveouts (150), then the memfd (100); {@link HeapNames} has the heap names, what each is and why. Whatever is
 * absent is said once, with the fallback taken. Enablement, paths, rankings and more contiguous or uncached heap
 * names are configured through ConfigAdmin (PID {@value #PID}); a change re-registers the exporters.
 *
 * <p>Threads: SCR calls activate and deactivate; the registered exporters are thread-safe.
 */
@Component(immediate = true, configurationPid = HeapExporters.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {})
@Designate(ocd = HeapExporters.Config.class)
public final class HeapExporters {
    /** The configuration PID. */
    public static final String PID = "org.dmabuf.exporter.heap";

    private static final System.Logger LOG = System.getLogger("org.dmabuf.exporter.heap");

    /** What to register, and how to rank it. */
    @ObjectClassDefinition(name = "dmabuf-osgi heap exporters",
            description = "dma-heap, udmabuf and sealed-memfd exporters of dmabuf-osgi.")
    public @interface Config {
        /** @return whether to register the dma-heaps */
        @AttributeDefinition(name = "dma-heaps enabled")
        boolean dmaheap_enabled() default true;

        /** @return where the heap nodes are */
        @AttributeDefinition(name = "dma-heap folder")
        String dmaheap_dir() default "/dev/dma_heap";

        /** @return the ranking of CMA heaps and other cached contiguous heaps: first, as libcamera */
        @AttributeDefinition(name = "CMA heap ranking", description = "ranking of cached contiguous heaps (CMA)")
        int dmaheap_cma_ranking() default 400;

        /** @return the ranking of the system heaps; heaps of names the table does not know get 1 less */
        @AttributeDefinition(name = "dma-heap ranking", description = "ranking of system heaps (unknown names: 1 less)")
        int dmaheap_ranking() default 300;

        /** @return the ranking of uncached heaps and dedicated carveouts: after udmabuf, before the memfd */
        @AttributeDefinition(name = "uncached heap ranking",
                description = "ranking of uncached heaps and dedicated carveouts")
        int dmaheap_uncached_ranking() default 150;

        /** @return more heap names (the kernel's, as in /dev/dma_heap) whose buffers are physically contiguous */
        @AttributeDefinition(name = "contiguous heaps", description = "more heap names whose buffers are physically "
                + "contiguous (a vendor CMA heap the table does not know)")
        String[] dmaheap_contiguous() default {};

        /** @return more heap names (the kernel's) whose buffers are mapped uncached */
        @AttributeDefinition(name = "uncached heaps", description = "more heap names whose buffers are mapped "
                + "uncached / write-combined")
        String[] dmaheap_uncached() default {};

        /** @return whether to register udmabuf */
        @AttributeDefinition(name = "udmabuf enabled")
        boolean udmabuf_enabled() default true;

        /** @return the udmabuf node */
        @AttributeDefinition(name = "udmabuf path")
        String udmabuf_path() default "/dev/udmabuf";

        /** @return udmabuf's ranking */
        @AttributeDefinition(name = "udmabuf ranking")
        int udmabuf_ranking() default 200;

        /** @return whether to register the sealed-memfd exporter */
        @AttributeDefinition(name = "memfd enabled")
        boolean memfd_enabled() default true;

        /** @return the memfd exporter's ranking */
        @AttributeDefinition(name = "memfd ranking")
        int memfd_ranking() default 100;
    }

    /** The registered services and what they own. */
    private final AtomicReference<List<Registered>> registered = new AtomicReference<>();

    private record Registered(ServiceRegistration<DmaBufExporter> registration, AutoCloseable owned) {
    }

    @Activate
    void activate(BundleContext context, Config config) {
        List<Registered> out = new ArrayList<>();
        open(config, (exporter, props, owned) -> out.add(register(context, exporter, props, owned)));
        registered.set(out);
    }

    /** Where {@link #open} puts each exporter it makes: the framework's service registry, or a plain registry. */
    @FunctionalInterface
    interface Sink {
        /**
         * Takes an exporter.
         *
         * @param exporter the exporter
         * @param props its service properties
         * @param owned what to close when it goes, or null
         */
        void add(DmaBufExporter exporter, Map<String, Object> props, AutoCloseable owned);
    }

    /**
     * What activation does, with or without a framework: makes the exporters the configuration asks for and the
     * kernel has, gives each to the sink, and logs what is absent, with the fallback taken, once.
     *
     * @param config the configuration
     * @param sink where each exporter goes
     * @return what was absent, as logged
     */
    static List<String> open(Config config, Sink sink) {
        HeapNames names = HeapNames.of(config); // refuses a bad dmaheap.contiguous or dmaheap.uncached first
        List<Map<String, Object>> out = new ArrayList<>();
        Sink adding = (exporter, props, owned) -> {
            sink.add(exporter, props, owned);
            out.add(props);
        };
        List<String> fallbacks = new ArrayList<>();
        if (config.dmaheap_enabled()) {
            for (Path node : heapNodes(Path.of(config.dmaheap_dir()), fallbacks)) {
                try {
                    DmaHeapExporter heap = new DmaHeapExporter(node.toString(), names);
                    int ranking = HeapNames.ranking(heap.heap(), config);
                    adding.add(heap, heap.properties(ranking), heap);
                } catch (LinuxException e) {
                    // an EACCES names the node's owner, group and mode and what to do (NodeAccess)
                    fallbacks.add("dma-heap " + node + " cannot be opened: " + e.getMessage());
                }
            }
        }
        if (config.udmabuf_enabled()) {
            if (Files.exists(Path.of(config.udmabuf_path()))) {
                try {
                    UdmabufExporter u = new UdmabufExporter(config.udmabuf_path());
                    adding.add(u, u.properties(config.udmabuf_ranking()), u);
                } catch (LinuxException e) {
                    fallbacks.add("udmabuf cannot be opened: " + e.getMessage());
                }
            } else {
                fallbacks.add(config.udmabuf_path() + " is absent (kernel without CONFIG_UDMABUF)");
            }
        }
        if (config.memfd_enabled()) {
            adding.add(new MemfdExporter(), MemfdExporter.properties(config.memfd_ranking()), null);
        }
        for (String f : fallbacks) {
            LOG.log(System.Logger.Level.WARNING, f);
        }
        LOG.log(out.stream().anyMatch(p -> !(p.get(DmaBufExporter.KIND)
                .equals(DmaBufExporter.KIND_MEMFD))) ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                "exporters registered: " + names(out) + (out.size() == 1 && config.memfd_enabled()
                    ? " (only sealed memfds: shareable between processes, not importable by devices)" : ""));
        return fallbacks;
    }

    private static List<Path> heapNodes(Path dir, List<String> fallbacks) {
        if (!Files.isDirectory(dir)) {
            fallbacks.add(dir + " is absent (kernel without CONFIG_DMABUF_HEAPS): no dma-heap exporter");
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> nodes = s.sorted().toList();
            if (nodes.isEmpty()) {
                fallbacks.add(dir + " has no heap: no dma-heap exporter");
            }
            return nodes;
        } catch (IOException e) {
            fallbacks.add(dir + " cannot be listed: " + e);
            return List.of();
        }
    }

    private static Registered register(BundleContext context, DmaBufExporter exporter, Map<String, Object> props,
            AutoCloseable owned) {
        Dictionary<String, Object> d = new Hashtable<>(props);
        return new Registered(context.registerService(DmaBufExporter.class, exporter, d), owned);
    }

    private static String names(List<Map<String, Object>> props) {
        return String.join(", ", props.stream()
                .map(p -> p.get(DmaBufExporter.NAME) + "(ranking " + p.get("service.ranking") + ")").toList());
    }

    @Deactivate
    void deactivate() {
        List<Registered> regs = registered.getAndSet(null);
        if (regs == null) {
            return;
        }
        for (Registered r : regs) {
            try {
                r.registration.unregister();
            } catch (IllegalStateException e) {
                // already unregistered by the framework as the bundle stops
            }
            if (r.owned != null) {
                try {
                    r.owned.close();
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "closing " + r.owned + ": " + e);
                }
            }
        }
    }
}
