package org.dmabuf.examples.hugetlb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the kernel says of this process's huge pages, for the tests: {@code /proc/meminfo}'s counters, the pool size
 * ({@code /proc/sys/vm/nr_hugepages}, set and restored), this process's fds and mappings
 * ({@code /proc/self/fd}, {@code /proc/self/maps}, {@code /proc/self/smaps}). Also a component configuration
 * made from a map, as ConfigAdmin and the plain-Java entry point give it.
 */
final class KernelPages {
    static final Path NR_HUGEPAGES = Path.of("/proc/sys/vm/nr_hugepages");

    private KernelPages() {
    }

    /**
     * A counter of {@code /proc/meminfo}.
     *
     * @param key for example {@code HugePages_Free}
     * @return its value
     */
    static long meminfo(String key) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            String line = lines.filter(l -> l.startsWith(key + ":")).findFirst().orElseThrow();
            return Long.parseLong(line.substring(key.length() + 1).replace("kB", "").trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sets the default-size pool to {@code pages} pages; the returned resource sets it back.
     *
     * @param pages the pool size
     * @return what restores the size it had
     */
    static AutoCloseable reserve(long pages) throws IOException {
        String before = Files.readString(NR_HUGEPAGES).trim();
        Files.writeString(NR_HUGEPAGES, pages + "\n");
        return () -> Files.writeString(NR_HUGEPAGES, before + "\n");
    }

    /**
     * This process's fds whose file's path holds {@code text}, as {@code /proc/self/fd} links them.
     *
     * @param text for example {@code memfd:dmabuf-hugetlb:}
     * @return the links, one per fd
     */
    static List<String> fds(String text) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    String link = Files.readSymbolicLink(p).toString();
                    if (link.contains(text)) {
                        out.add(p.getFileName() + " -> " + link);
                    }
                } catch (IOException e) {
                    // the listing's own fd, closed since
                }
            }
        }
        return out;
    }

    /**
     * The lines of {@code /proc/self/maps} that map a file whose path holds {@code text}.
     *
     * @param text for example a memfd's name
     * @return the lines
     */
    static List<String> maps(String text) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(text)).toList();
    }

    /**
     * The {@code KernelPageSize:} of each mapping in {@code /proc/self/smaps} of a file whose path holds
     * {@code text}.
     *
     * @param text for example a memfd's name
     * @return the page sizes in kB, one per mapping
     */
    static List<Long> kernelPageSizes(String text) throws IOException {
        List<Long> out = new ArrayList<>();
        boolean in = false;
        for (String l : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = l.contains(text);
            } else if (in && l.startsWith("KernelPageSize:")) {
                out.add(Long.parseLong(l.substring("KernelPageSize:".length()).replace("kB", "").trim()));
            }
        }
        return out;
    }

    /**
     * A component configuration read from a map: a property ({@code page.size}) for each method ({@code page_size()})
     * that it names, the method's default otherwise.
     *
     * @param props the properties
     * @return the configuration
     */
    static HugetlbExporterComponent.Config config(Map<String, ?> props) {
        return (HugetlbExporterComponent.Config) Proxy.newProxyInstance(KernelPages.class.getClassLoader(),
                new Class<?>[] {HugetlbExporterComponent.Config.class}, (proxy, m, args) -> {
                    Object v = props.get(m.getName().replace('_', '.'));
                    return v != null ? v : m.getDefaultValue();
                });
    }
}
