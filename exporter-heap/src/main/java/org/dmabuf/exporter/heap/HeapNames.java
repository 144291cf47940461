package org.dmabuf.exporter.heap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The dma-heap names that kernels and boards ship, what their buffers are (physically contiguous? mapped uncached?)
 * and where each comes in the default preference, plus the names a configuration adds. A heap is classified by the
 * kernel's name for it (what fdinfo's {@code exp_name:} says of its buffers, see {@link #kernelNode(int)}), not by
 * the file name of its node.
 *
 * <p>The default preference follows libcamera's {@code DmaBufAllocator}
 * ({@code src/libcamera/dma_buf_allocator.cpp}), whose providers are tried in this order:
 *
 * <pre>
 * { CmaHeap,    "/dev/dma_heap/linux,cma" },
 * { CmaHeap,    "/dev/dma_heap/reserved" },
 * { SystemHeap, "/dev/dma_heap/system" },
 * { UDmaBuf,    "/dev/udmabuf" },
 * </pre>
 *
 * <p>that is CMA heaps first, then the system heap, then udmabuf; the sealed memfd, which libcamera does not have,
 * comes last. In {@code service.ranking} (the registry takes the best-ranked exporter that meets a request's
 * constraints), with the defaults of {@link HeapExporters.Config}:
 *
 * <ol>
 * <li>{@link Place#CMA} ({@code dmaheap.cma.ranking}, 400): the CMA heaps of the table ({@code linux,cma},
 *     {@code reserved}, {@code default_cma_region}, {@code default-pool}, Rockchip's {@code cma}) and every cached
 *     heap the configuration declares contiguous;
 * <li>{@link Place#SYSTEM} ({@code dmaheap.ranking}, 300): {@code system} and the vendors' page-allocator heaps;
 *     heaps of names the table does not know rank 1 lower, so that {@code system} wins the tie;
 * <li>udmabuf ({@code udmabuf.ranking}, 200);
 * <li>{@link Place#LAST} ({@code dmaheap.uncached.ranking}, 150): uncached heaps ({@code system-uncached},
 *     {@code linux,cma-uncached}, …) and vendor carveouts reserved for one use ({@code carveout_*}). libcamera lists
 *     no uncached heap: CPU reads of uncached memory are many times slower than cached ones, and every buffer here
 *     is filled or read by the CPU at some point, so an uncached heap serves a request only when a device asks for
 *     uncached memory ({@code DeviceConstraints.uncached()}) or when nothing cached is there; a carveout only when a
 *     device needs contiguous memory and no CMA heap can give it;
 * <li>the sealed memfd ({@code memfd.ranking}, 100);
 * <li>{@link Place#RESTRICTED} (ranking {@value #RESTRICTED_RANKING}): secure heaps, whose buffers the CPU cannot
 *     map; never the choice while anything else meets the request.
 * </ol>
 *
 * <p>A name the table does not know is not contiguous, cached, and ranked with the system heaps. Immutable; any
 * thread.
 */
final class HeapNames {
    /** The ranking of {@link Place#RESTRICTED} heaps, below every other exporter's default. */
    static final int RESTRICTED_RANKING = 0;

    /** Where a heap comes in the default preference. */
    enum Place {
        /** Physically contiguous and cached: first, as libcamera. */
        CMA,
        /** Pages from the page allocator, cached: after CMA, before udmabuf. */
        SYSTEM,
        /** Uncached, or a carveout reserved for one use: after udmabuf, before the memfd. */
        LAST,
        /** The CPU cannot map the buffers (content protection): after everything. */
        RESTRICTED
    }

    /**
     * A heap name and what its buffers are.
     *
     * @param name the kernel's heap name (a name prefix for a {@code prefix} entry)
     * @param contiguous every buffer is physically contiguous
     * @param uncached buffers are mapped uncached / write-combined
     * @param place where it comes in the default preference
     * @param known whether the table (or the configuration) names it; unknown names rank after known system heaps
     */
    record Heap(String name, boolean contiguous, boolean uncached, Place place, boolean known) {
    }

    private static Heap cma(String name) {
        return new Heap(name, true, false, Place.CMA, true);
    }

    private static Heap cmaUncached(String name) {
        return new Heap(name, true, true, Place.LAST, true);
    }

    private static Heap system(String name) {
        return new Heap(name, false, false, Place.SYSTEM, true);
    }

    private static Heap systemUncached(String name) {
        return new Heap(name, false, true, Place.LAST, true);
    }

    private static Heap restricted(String name) {
        return new Heap(name, false, false, Place.RESTRICTED, true);
    }

    /** The table: heap names as kernels name them, each with where it was found. */
    static final List<Heap> TABLE = List.of(
            // Linux drivers/dma-buf/heaps/system_heap.c: exp_info.name = "system"; libcamera's SystemHeap
            system("system"),
            // Linux drivers/dma-buf/heaps/cma_heap.c names the default CMA area's heap cma_get_name(): the name of
            // its device-tree node, "linux,cma" on Raspberry Pi (libcamera src/libcamera/dma_buf_allocator.cpp,
            // raspberrypi/rpicam-apps core/dma_heaps.cpp) and NXP i.MX (nxp-imx/linux-imx cma_heap.c legacy name)
            cma("linux,cma"),
            // Linux kernel/dma/contiguous.c: dma_contiguous_reserve_area() declares the area sized by cma= on the
            // command line as "reserved"; libcamera's comment: "When the cma heap size is specified on the kernel
            // command line, this gets renamed to reserved"
            cma("reserved"),
            // Linux commit 854acbe75ff4 "dma-buf: heaps: Give default CMA heap a fixed name" (drivers/dma-buf/heaps/
            // cma_heap.c: #define DEFAULT_CMA_NAME "default_cma_region"), the legacy name kept beside it
            cma("default_cma_region"),
            // the same commit's message: "if a CMA area is defined in the devicetree, the heap takes on the
            // devicetree node's name, such as default-pool or linux,cma"
            cma("default-pool"),
            // Rockchip: rockchip-toybrick/kernel drivers/dma-buf/heaps/rk_cma_heap.c, exp_info.name = "cma" and
            // "cma-uncached" for the default CMA area
            cma("cma"),
            cmaUncached("cma-uncached"),
            // NXP i.MX: nxp-imx/linux-imx drivers/dma-buf/heaps/cma_heap.c __add_cma_heap() adds, for each CMA heap,
            // a twin named with the postfix "-uncached"
            cmaUncached("linux,cma-uncached"),
            cmaUncached("reserved-uncached"),
            cmaUncached("default_cma_region-uncached"),
            // Android common kernel: aosp-mirror/kernel_common drivers/dma-buf/heaps/system_heap.c adds
            // "system-uncached"; Rockchip's rk_system_heap.c too
            systemUncached("system-uncached"),
            // Rockchip: rockchip-toybrick/kernel drivers/dma-buf/heaps/rk_system_heap.c, pages below 4 GiB
            system("system-dma32"),
            systemUncached("system-uncached-dma32"),
            // Qualcomm: CodeLinaro-mirror/la_kernel_qcom drivers/dma-buf/heaps/qcom_dma_heap.c
            // qcom_system_heap_create("qcom,system", ...), ("qcom,system-uncached", ...) and
            // qcom_secure_system_heap_create("qcom,secure-pixel" / "qcom,secure-non-pixel", ...)
            system("qcom,system"),
            systemUncached("qcom,system-uncached"),
            restricted("qcom,secure-pixel"),
            restricted("qcom,secure-non-pixel"),
            // MediaTek: MiCode/Xiaomi_Kernel_OpenSource drivers/dma-buf/heaps/mtk_mm_heap.c,
            // exp_info.name = "mtk_mm" and "mtk_mm-uncached" (page-pool heaps)
            system("mtk_mm"),
            systemUncached("mtk_mm-uncached"));

    /**
     * Names classified by prefix: TI's carveout heaps, one per {@code dma-heap-carveout} reserved-memory region,
     * named {@code carveout_<region node name>} (RobertCNelson/ti-linux-kernel drivers/dma-buf/heaps/carveout-heap.c:
     * {@code kasprintf(GFP_KERNEL, "carveout_%s", name)}, for example {@code carveout_edgeai_shared-memories}): one
     * physically contiguous region set aside for a remote core, cached unless the region is {@code no-map}
     * (declare such a heap in {@code dmaheap.uncached}).
     */
    static final List<Heap> PREFIXES = List.of(new Heap("carveout_", true, false, Place.LAST, true));

    private static final Map<String, Heap> BY_NAME = TABLE.stream()
            .collect(Collectors.toUnmodifiableMap(Heap::name, Function.identity()));

    /** The table alone, with no configured names. */
    static final HeapNames DEFAULT = new HeapNames(Set.of(), Set.of());

    private final Set<String> contiguous;
    private final Set<String> uncached;

    /**
     * The table plus configured names.
     *
     * @param contiguous more kernel heap names whose buffers are physically contiguous
     * @param uncached more kernel heap names whose buffers are mapped uncached
     */
    HeapNames(Collection<String> contiguous, Collection<String> uncached) {
        this.contiguous = Set.copyOf(contiguous);
        this.uncached = Set.copyOf(uncached);
    }

    /**
     * The table plus a configuration's {@code dmaheap.contiguous} and {@code dmaheap.uncached}, checked. Each value
     * is one name or several separated by white space.
     *
     * @param config the configuration
     * @return the names
     * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) naming the property and the value: a name
     *         that is empty, {@code .} or {@code ..}, contains {@code /} or a control character (no heap node can be
     *         named so), or is longer than 255 bytes
     */
    static HeapNames of(HeapExporters.Config config) {
        return new HeapNames(check("dmaheap.contiguous", config.dmaheap_contiguous()),
                check("dmaheap.uncached", config.dmaheap_uncached()));
    }

    private static List<String> check(String property, String[] values) {
        if (values == null) {
            return List.of();
        }
        // one name per value, or several separated by white space (a .cfg file's single value); no heap name has
        // white space (device-tree node names and the drivers' names have none) while some have commas
        List<String> names = new java.util.ArrayList<>();
        for (String v : values) {
            if (v == null || v.isBlank()) {
                names.add("");
            } else {
                names.addAll(List.of(v.trim().split("\\s+")));
            }
        }
        for (String n : names) {
            String why = n.isEmpty() ? "is empty"
                    : n.equals(".") || n.equals("..") ? "is not a file name"
                    : n.indexOf('/') >= 0 ? "contains '/'"
                    : n.chars().anyMatch(c -> c < 0x20 || c == 0x7f) ? "contains a control character"
                    : n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255 ? "is longer than 255 bytes"
                    : null;
            if (why != null) {
                throw new org.dmabuf.api.InvalidArgumentException("activate", HeapExporters.PID + ": " + property
                        + " '" + n.replaceAll("\\p{Cntrl}", "?") + "' " + why
                        + ": it must be a heap's name as the kernel gives it (an entry of /dev/dma_heap)");
            }
        }
        return names;
    }

    /**
     * What a heap of this kernel name is: the table's entry (or a prefix's), then the configured names.
     *
     * @param kernelName the kernel's name for the heap
     * @return what its buffers are and where it comes; for a name nobody knows: not contiguous, cached,
     *         {@link Place#SYSTEM}, not {@code known}
     */
    Heap classify(String kernelName) {
        Heap base = BY_NAME.get(kernelName);
        if (base == null) {
            base = PREFIXES.stream().filter(p -> kernelName.startsWith(p.name())).findFirst()
                    .map(p -> new Heap(kernelName, p.contiguous(), p.uncached(), p.place(), true))
                    .orElse(new Heap(kernelName, false, false, Place.SYSTEM, false));
        }
        boolean c = base.contiguous() || contiguous.contains(kernelName);
        boolean u = base.uncached() || uncached.contains(kernelName);
        Place place = base.place();
        if (place != Place.RESTRICTED) {
            if (u) {
                place = Place.LAST;
            } else if (c && place == Place.SYSTEM) {
                place = Place.CMA;
            }
        }
        boolean known = base.known() || contiguous.contains(kernelName) || uncached.contains(kernelName);
        return new Heap(kernelName, c, u, place, known);
    }

    /**
     * The {@code service.ranking} of a heap.
     *
     * @param heap what {@link #classify} said
     * @param config the rankings
     * @return {@code dmaheap.cma.ranking}, {@code dmaheap.ranking} (1 less for an unknown name),
     *         {@code dmaheap.uncached.ranking}, or {@value #RESTRICTED_RANKING}
     */
    static int ranking(Heap heap, HeapExporters.Config config) {
        return switch (heap.place()) {
            case CMA -> config.dmaheap_cma_ranking();
            case SYSTEM -> heap.known() ? config.dmaheap_ranking() : config.dmaheap_ranking() - 1;
            case LAST -> config.dmaheap_uncached_ranking();
            case RESTRICTED -> RESTRICTED_RANKING;
        };
    }

    /**
     * The kernel's device behind a character-device node, as sysfs names it.
     *
     * @param subsystem the class the device belongs to: {@code dma_heap} for a heap
     * @param name the device's name: for a heap, the heap's name, which is what fdinfo's {@code exp_name:} says of
     *        its buffers ({@code exp_info.exp_name = dma_heap_get_name(heap)} in Linux's system and CMA heaps, NXP's
     *        CMA heap and TI's carveout heap; checked in the kernel guest by {@code HeapNamesKernelTest})
     */
    record KernelNode(String subsystem, String name) {
        /** @return whether the node is a dma-heap */
        boolean isHeap() {
            return "dma_heap".equals(subsystem);
        }
    }

    /**
     * The kernel's device behind an open node: the node's device number ({@code st_rdev} of the opened file, through
     * {@code /proc/self/fd}) looked up in {@code /sys/dev/char}, whose {@code MAJOR:MINOR} entry links to
     * {@code ../../devices/virtual/dma_heap/NAME} for a heap, whatever the node's own file name is.
     *
     * @param fd an open fd of the node
     * @return the device, or empty where the fd is not a character device or sysfs does not say
     */
    static Optional<KernelNode> kernelNode(int fd) {
        try {
            Path self = Path.of("/proc/self/fd/" + fd);
            int mode = (Integer) Files.getAttribute(self, "unix:mode");
            if ((mode & 0xf000) != 0x2000) { // S_IFCHR
                return Optional.empty();
            }
            return kernelNode((Long) Files.getAttribute(self, "unix:rdev"), Path.of("/sys/dev/char"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return Optional.empty();
        }
    }

    /**
     * The kernel's device of a device number, from a {@code /sys/dev/char}-like folder.
     *
     * @param rdev the device number in glibc's encoding
     * @param sysDevChar {@code /sys/dev/char}
     * @return the device, or empty where the folder has no link for the number
     */
    static Optional<KernelNode> kernelNode(long rdev, Path sysDevChar) {
        Path link = sysDevChar.resolve(major(rdev) + ":" + minor(rdev));
        try {
            Path target = Files.readSymbolicLink(link);
            Path parent = target.getParent();
            if (target.getFileName() == null || parent == null || parent.getFileName() == null) {
                return Optional.empty();
            }
            return Optional.of(new KernelNode(parent.getFileName().toString(), target.getFileName().toString()));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** glibc's {@code major(dev)}. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    /** glibc's {@code minor(dev)}. */
    static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }

    @Override
    public String toString() {
        return "heap names (table of " + TABLE.size() + ", configured contiguous " + contiguous + ", uncached "
                + uncached + ")";
    }
}
