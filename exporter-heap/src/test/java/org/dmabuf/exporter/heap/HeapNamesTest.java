package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.exporter.heap.HeapNames.Heap;
import org.dmabuf.exporter.heap.HeapNames.KernelNode;
import org.dmabuf.exporter.heap.HeapNames.Place;
import org.dmabuf.linux.FileStat;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The heap-name table, its configuration and the preference it gives, on any host. */
class HeapNamesTest {
    /**
     * What each named heap is, written out here apart from the table: name, contiguous, uncached, place. Every
     * entry of the table must have its row.
     */
    private static final Map<String, Heap> EXPECTED = new LinkedHashMap<>();

    private static void expect(String name, boolean contiguous, boolean uncached, Place place) {
        EXPECTED.put(name, new Heap(name, contiguous, uncached, place, true));
    }

    static {
        expect("system", false, false, Place.SYSTEM);
        expect("linux,cma", true, false, Place.CMA);
        expect("reserved", true, false, Place.CMA);
        expect("default_cma_region", true, false, Place.CMA);
        expect("default-pool", true, false, Place.CMA);
        expect("cma", true, false, Place.CMA);
        expect("cma-uncached", true, true, Place.LAST);
        expect("linux,cma-uncached", true, true, Place.LAST);
        expect("reserved-uncached", true, true, Place.LAST);
        expect("default_cma_region-uncached", true, true, Place.LAST);
        expect("system-uncached", false, true, Place.LAST);
        expect("system-dma32", false, false, Place.SYSTEM);
        expect("system-uncached-dma32", false, true, Place.LAST);
        expect("qcom,system", false, false, Place.SYSTEM);
        expect("qcom,system-uncached", false, true, Place.LAST);
        expect("qcom,secure-pixel", false, false, Place.RESTRICTED);
        expect("qcom,secure-non-pixel", false, false, Place.RESTRICTED);
        expect("mtk_mm", false, false, Place.SYSTEM);
        expect("mtk_mm-uncached", false, true, Place.LAST);
    }

    static Stream<String> named() {
        return EXPECTED.keySet().stream();
    }

    private static HeapExporters.Config defaults() {
        return HeapConfigs.config(Map.of());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("named")
    void everyNamedHeapIsWhatItsSourceSays(String name) {
        assertThat(HeapNames.DEFAULT.classify(name)).isEqualTo(EXPECTED.get(name));
    }

    @Test
    void theTableHasNoNameWithoutItsExpectedRowAndNoNameTwice() {
        assertThat(HeapNames.TABLE).extracting(Heap::name).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"carveout_edgeai_shared-memories", "carveout_vision_apps_shared-memories"})
    void tiCarveoutsAreContiguousCachedAndUsedAfterUdmabuf(String name) {
        assertThat(HeapNames.DEFAULT.classify(name)).isEqualTo(new Heap(name, true, false, Place.LAST, true));
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify(name), defaults())).isEqualTo(150);
    }

    /** Names the table does not know, some of which the old file-name heuristic took for CMA or uncached. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vframe-secure", "my-cma", "reserved-mem", "contig_pool", "vendor-uncached", "carveout",
        "System", "linux,cma2"})
    void anUnknownNameIsNotContiguousCachedAndRankedJustBelowTheSystemHeap(String name) {
        Heap h = HeapNames.DEFAULT.classify(name);
        assertThat(h).isEqualTo(new Heap(name, false, false, Place.SYSTEM, false));
        assertThat(HeapNames.ranking(h, defaults())).isEqualTo(299)
                .isLessThan(HeapNames.ranking(HeapNames.DEFAULT.classify("system"), defaults()))
                .isGreaterThan(defaults().udmabuf_ranking());
    }

    @Test
    void theConfigurationDeclaresMoreContiguousAndUncachedHeaps() {
        HeapExporters.Config config = HeapConfigs.config(Map.of(
                "dmaheap_contiguous", new String[] {"vendor_cma both", "linux,cma2", "qcom,secure-pixel"},
                "dmaheap_uncached", new String[] {"vendor_wc", "both", "linux,cma"}));
        HeapNames names = HeapNames.of(config);
        assertThat(names.classify("vendor_cma")).isEqualTo(new Heap("vendor_cma", true, false, Place.CMA, true));
        assertThat(HeapNames.ranking(names.classify("vendor_cma"), config)).isEqualTo(400);
        assertThat(names.classify("linux,cma2")).isEqualTo(new Heap("linux,cma2", true, false, Place.CMA, true));
        assertThat(names.classify("vendor_wc")).isEqualTo(new Heap("vendor_wc", false, true, Place.LAST, true));
        assertThat(names.classify("both")).isEqualTo(new Heap("both", true, true, Place.LAST, true));
        assertThat(names.classify("linux,cma")).as("a CMA heap declared uncached is used after udmabuf")
                .isEqualTo(new Heap("linux,cma", true, true, Place.LAST, true));
        assertThat(names.classify("qcom,secure-pixel").place()).as("the CPU cannot map it, contiguous or not")
                .isEqualTo(Place.RESTRICTED);
        assertThat(names.classify("system")).isEqualTo(EXPECTED.get("system"));
        assertThat(names.classify("other")).isEqualTo(new Heap("other", false, false, Place.SYSTEM, false));
    }

    @Test
    void theConfiguredRankingsAreTheOnesGiven() {
        HeapExporters.Config config = HeapConfigs.config(Map.of("dmaheap_cma_ranking", 10, "dmaheap_ranking", 20,
                "dmaheap_uncached_ranking", 30));
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify("linux,cma"), config)).isEqualTo(10);
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify("system"), config)).isEqualTo(20);
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify("unknown"), config)).isEqualTo(19);
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify("system-uncached"), config)).isEqualTo(30);
        assertThat(HeapNames.ranking(HeapNames.DEFAULT.classify("qcom,secure-pixel"), config))
                .isEqualTo(HeapNames.RESTRICTED_RANKING);
    }

    /** An exporter that only carries properties: the registry orders exporters without calling them. */
    private static DmaBufExporter none() {
        return new DmaBufExporter() {
            @Override
            public ExportedBuffer allocate(AllocationRequest request) {
                throw new UnsupportedOperationException("allocate");
            }
        };
    }

    private static long serviceId;

    private static Map<String, Object> props(String name, int ranking, boolean contiguous, boolean uncached) {
        Map<String, Object> p = new HashMap<>();
        p.put(DmaBufExporter.NAME, name);
        p.put(DmaBufExporter.CONTIGUOUS, contiguous);
        p.put(DmaBufExporter.UNCACHED, uncached);
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        p.put(org.osgi.framework.Constants.SERVICE_ID, ++serviceId); // registration order, as the framework's
        return p;
    }

    @Test
    void theDefaultPreferenceIsLibcamerasCmaThenSystemThenUdmabufThenMemfd() {
        HeapExporters.Config config = defaults();
        // the registry orders its exporters as late allocation tries them; added here in the wrong order
        try (StandaloneRegistry registry = new StandaloneRegistry("order")) {
            Map<String, Object> memfd = new HashMap<>(MemfdExporter.properties(config.memfd_ranking()));
            memfd.put(org.osgi.framework.Constants.SERVICE_ID, ++serviceId);
            registry.addExporter(none(), memfd);
            registry.addExporter(none(), props("udmabuf", config.udmabuf_ranking(), false, false));
            for (String heap : List.of("qcom,secure-pixel", "system-uncached", "vendor-heap", "system",
                    "default_cma_region", "reserved", "linux,cma")) {
                Heap h = HeapNames.DEFAULT.classify(heap);
                registry.addExporter(none(), props(heap, HeapNames.ranking(h, config), h.contiguous(), h.uncached()));
            }
            assertThat(registry.exporters()).extracting(org.dmabuf.api.ExporterInfo::name).containsExactly(
                    "default_cma_region", "reserved", "linux,cma", // CMA: libcamera's CmaHeap, first
                    "system", // libcamera's SystemHeap
                    "vendor-heap", // a name the table does not know: with system, after it
                    "udmabuf", // libcamera's UDmaBuf
                    "system-uncached", // not in libcamera: after udmabuf, for devices that ask for uncached memory
                    "memfd", // the project's fallback: not a dma-buf
                    "qcom,secure-pixel"); // the CPU cannot map it
        }
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"", " ", "a/b", "..", ".", "bad\u0001name"})
    void aNameNoHeapCanHaveIsRefusedNamingTheProperty(String bad) {
        for (String property : List.of("dmaheap_contiguous", "dmaheap_uncached")) {
            HeapExporters.Config config = HeapConfigs.config(Map.of(property, new String[] {"linux,cma", bad}));
            assertThatThrownBy(() -> HeapNames.of(config)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("activate").hasMessageContaining("EINVAL")
                    .hasMessageContaining(HeapExporters.PID + ": " + property.replace('_', '.') + " '"
                            + bad.trim().replace('\u0001', '?') + "'");
        }
    }

    @Test
    void aNameLongerThanAFileNameIsRefused() {
        HeapExporters.Config config = HeapConfigs.config(Map.of("dmaheap_uncached", new String[] {"x".repeat(256)}));
        assertThatThrownBy(() -> HeapNames.of(config)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("dmaheap.uncached").hasMessageContaining("longer than 255 bytes");
    }

    @Test
    void activationWithABadNameFailsAndRegistersNothing() {
        HeapConfigs.Recording r = new HeapConfigs.Recording();
        HeapExporters.Config config = HeapConfigs.config(Map.of("dmaheap_contiguous", new String[] {"../x"}));
        assertThatThrownBy(() -> new HeapExporters().activate(r.context, config))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("dmaheap.contiguous '../x'");
        assertThat(r.services).isEmpty();
    }

    @Test
    void sysfsGivesTheKernelsNameOfADeviceNumber(@TempDir Path sys) throws IOException {
        Files.createSymbolicLink(sys.resolve("251:0"), Path.of("../../devices/virtual/dma_heap/system"));
        Files.createSymbolicLink(sys.resolve("251:1"), Path.of("../../devices/virtual/dma_heap/linux,cma"));
        Files.createSymbolicLink(sys.resolve("1:3"), Path.of("../../devices/virtual/mem/null"));
        Files.createSymbolicLink(sys.resolve("4000:300000"), Path.of("../../devices/virtual/dma_heap/far"));
        assertThat(HeapNames.kernelNode(FileStat.dev(251, 0), sys)).contains(new KernelNode("dma_heap", "system"));
        assertThat(HeapNames.kernelNode(FileStat.dev(251, 1), sys))
                .hasValueSatisfying(n -> assertThat(n.isHeap()).isTrue()).map(KernelNode::name).contains("linux,cma");
        assertThat(HeapNames.kernelNode(FileStat.dev(1, 3), sys)).hasValueSatisfying(n -> {
            assertThat(n.isHeap()).isFalse();
            assertThat(n).isEqualTo(new KernelNode("mem", "null"));
        });
        assertThat(HeapNames.kernelNode(FileStat.dev(4000, 300000), sys)).as("glibc's wide major and minor")
                .contains(new KernelNode("dma_heap", "far"));
        assertThat(HeapNames.kernelNode(FileStat.dev(251, 7), sys)).isEmpty();
    }

    @Test
    void majorAndMinorUndoGlibcsMakedev() {
        for (int[] mm : new int[][] {{0, 0}, {251, 0}, {4095, 255}, {4096, 256}, {0x7fffffff, 0x7fffffff}}) {
            long dev = FileStat.dev(mm[0], mm[1]);
            assertThat(HeapNames.major(dev)).isEqualTo(mm[0]);
            assertThat(HeapNames.minor(dev)).isEqualTo(mm[1]);
        }
    }

    @Test
    void aNodeThatIsNoHeapIsClassifiedByItsFileName() {
        try (DmaHeapExporter devNull = new DmaHeapExporter("/dev/null")) {
            assertThat(devNull.kernelName()).isEqualTo("null");
            assertThat(devNull.properties(300)).containsEntry(DmaBufExporter.EXP_NAME, "null")
                    .containsEntry(DmaBufExporter.NAME, "null");
        }
    }
}
