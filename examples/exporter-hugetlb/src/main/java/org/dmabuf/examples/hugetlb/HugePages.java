package org.dmabuf.examples.hugetlb;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;

/**
 * One huge page pool of the kernel, as sysfs shows it: {@code /sys/kernel/mm/hugepages/hugepages-<kB>kB} with its
 * {@code nr_hugepages} and {@code free_hugepages}, and what to tell an administrator whose pool is empty. The
 * default page size is {@code Hugepagesize:} of {@code /proc/meminfo}.
 *
 * <p>Immutable; any thread. The counters are read anew on every call.
 *
 * @param dir the pool's folder
 * @param pageSize the page size in bytes
 * @param defaultSize whether it is the kernel's default huge page size ({@code /proc/sys/vm/nr_hugepages} sizes it)
 */
record HugePages(Path dir, long pageSize, boolean defaultSize) {
    /** Where the kernel lists its huge page pools. */
    static final Path SYSFS = Path.of("/sys/kernel/mm/hugepages");
    /** Where the kernel says its default huge page size. */
    static final Path MEMINFO = Path.of("/proc/meminfo");

    /**
     * The pool of a page size.
     *
     * @param sysfs the pools' folder ({@link #SYSFS})
     * @param meminfo {@link #MEMINFO}
     * @param pageSize bytes, or 0 for the kernel's default huge page size
     * @return the pool
     * @throws LinuxException {@code ENOENT} naming the folder that is absent, the page sizes the kernel has, and
     *         what to do; {@code EINVAL} naming the page size if it is not a power of two of at least 64 kB
     */
    static HugePages of(Path sysfs, Path meminfo, long pageSize) {
        if (!Files.isDirectory(sysfs)) {
            throw new LinuxException("activate", sysfs.toString(), Errno.ENOENT, "the kernel has no huge pages "
                    + "(built without CONFIG_HUGETLBFS, or /sys not mounted): no huge-page exporter");
        }
        long deflt = defaultPageSize(meminfo);
        long size = pageSize == 0 ? deflt : pageSize;
        if (size < 65536 || Long.bitCount(size) != 1) {
            throw new LinuxException("activate", "page.size " + pageSize, Errno.EINVAL,
                    "a huge page size is a power of two of at least 64 kB; this kernel has " + sizes(sysfs));
        }
        Path dir = sysfs.resolve("hugepages-" + (size >> 10) + "kB");
        if (!Files.isDirectory(dir)) {
            throw new LinuxException("activate", dir.toString(), Errno.ENOENT, "this kernel has no pool of "
                    + label(size) + " pages; it has " + sizes(sysfs) + " (page.size 0 takes the default, "
                    + label(deflt) + ")");
        }
        return new HugePages(dir, size, size == deflt);
    }

    /**
     * {@code Hugepagesize:} of {@code /proc/meminfo}.
     *
     * @param meminfo the file
     * @return bytes
     * @throws LinuxException {@code ENOENT} naming the file if it cannot be read or has no such line
     */
    static long defaultPageSize(Path meminfo) {
        try (Stream<String> lines = Files.lines(meminfo)) {
            return lines.filter(l -> l.startsWith("Hugepagesize:")).findFirst()
                    .map(l -> Long.parseLong(l.substring("Hugepagesize:".length()).replace("kB", "").trim()) << 10)
                    .orElseThrow(() -> new LinuxException("activate", meminfo.toString(), Errno.ENOENT,
                            "no Hugepagesize: line: the kernel has no huge pages (CONFIG_HUGETLBFS)"));
        } catch (IOException e) {
            throw new LinuxException("activate", meminfo.toString(), Errno.ENOENT, e.toString());
        }
    }

    /**
     * The page sizes the kernel has pools of.
     *
     * @param sysfs the pools' folder
     * @return for example {@code [2MB, 1GB]}
     */
    static List<String> sizes(Path sysfs) {
        try (Stream<Path> s = Files.list(sysfs)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("hugepages-") && n.endsWith("kB"))
                    .map(n -> Long.parseLong(n.substring("hugepages-".length(), n.length() - 2)) << 10).sorted()
                    .map(HugePages::label).toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /**
     * A page size as the {@code MFD_HUGE_*} constants name it.
     *
     * @param size bytes
     * @return for example {@code 2MB} or {@code 1GB}
     */
    static String label(long size) {
        if (size >= 1L << 30 && size % (1L << 30) == 0) {
            return (size >> 30) + "GB";
        }
        if (size >= 1L << 20 && size % (1L << 20) == 0) {
            return (size >> 20) + "MB";
        }
        return (size >> 10) + "KB";
    }

    /**
     * The pages the pool has, reserved by the administrator ({@code nr_hugepages}).
     *
     * @return pages, or -1 if unreadable
     */
    long total() {
        return read("nr_hugepages");
    }

    /**
     * The pages of the pool no file or mapping holds ({@code free_hugepages}).
     *
     * @return pages, or -1 if unreadable
     */
    long free() {
        return read("free_hugepages");
    }

    private long read(String name) {
        try {
            return Long.parseLong(Files.readString(dir.resolve(name)).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The {@code memfd_create} flags that choose this pool: {@code MFD_HUGETLB}, with the page size encoded
     * ({@code log2 << MFD_HUGE_SHIFT}) unless it is the default.
     *
     * @return {@code MFD_*} flags
     */
    int memfdFlags() {
        return HugetlbLibC.MFD_HUGETLB
                | (defaultSize ? 0 : Long.numberOfTrailingZeros(pageSize) << HugetlbLibC.MFD_HUGE_SHIFT);
    }

    /**
     * What to do about a pool with too few pages for {@code pages} more, in one sentence for an error message.
     *
     * @param pages the pages wanted
     * @return the pool's state and the commands that fill it
     */
    String advice(long pages) {
        long kb = pageSize >> 10;
        String sysfsFile = dir.resolve("nr_hugepages").toString();
        String more = total() < 0 ? "N" : String.valueOf(total() + pages);
        return "the " + label(pageSize) + " huge page pool has " + free() + " free of " + total() + " pages ("
                + dir + "), " + pages + " needed; reserve pages: echo " + more + " > "
                + (defaultSize ? "/proc/sys/vm/nr_hugepages" : sysfsFile) + " (as root), or boot with "
                + (defaultSize ? "hugepages=" + more : "hugepagesz=" + label(pageSize).replace("B", "")
                        + " hugepages=" + more)
                + " on the kernel command line" + (kb >= 1 << 20 ? " (1 GB pages are best reserved at boot)" : "");
    }

    @Override
    public String toString() {
        return label(pageSize) + " huge pages (" + dir + ")";
    }
}
