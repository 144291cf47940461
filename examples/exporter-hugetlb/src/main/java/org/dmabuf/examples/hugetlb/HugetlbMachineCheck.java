package org.dmabuf.examples.hugetlb;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.spi.MachineCheck;
import org.osgi.service.component.annotations.Component;

/**
 * The huge-page part of the machine check ({@code dmabuf:doctor}, {@code dmabuf-gateway --doctor}): one finding per
 * pool in {@code /sys/kernel/mm/hugepages}, with its page size and counters. A pool with free pages is
 * {@link MachineCheck.Status#OK}; an empty one (the kernel's default: nothing reserved) is
 * {@link MachineCheck.Status#ABSENT} with the command that reserves pages. It reads sysfs only: it allocates nothing.
 *
 * <p>A DS component service without configuration in OSGi, and listed in {@code META-INF/services} for
 * {@link java.util.ServiceLoader} outside it. Threads: stateless; any thread.
 */
@Component(service = MachineCheck.class)
public final class HugetlbMachineCheck implements MachineCheck {
    private static final String AREA = "hugetlb";

    private final Path sysfs;
    private final Path meminfo;

    /** A check of {@code /sys/kernel/mm/hugepages}. */
    public HugetlbMachineCheck() {
        this(HugePages.SYSFS, HugePages.MEMINFO);
    }

    /**
     * A check of other folders, for tests.
     *
     * @param sysfs the pools' folder
     * @param meminfo the file with {@code Hugepagesize:}
     */
    HugetlbMachineCheck(Path sysfs, Path meminfo) {
        this.sysfs = sysfs;
        this.meminfo = meminfo;
    }

    @Override
    public String area() {
        return AREA;
    }

    @Override
    public List<Finding> check() {
        if (!Files.isDirectory(sysfs)) {
            return List.of(new Finding(AREA, sysfs.toString(), Status.ABSENT, "no huge pages: the kernel was built "
                    + "without CONFIG_HUGETLBFS", Map.of(), "use a kernel with CONFIG_HUGETLBFS for huge-page "
                            + "buffers; the other exporters do not need it"));
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.list(sysfs)) {
            dirs = s.filter(p -> p.getFileName().toString().startsWith("hugepages-")).sorted().toList();
        } catch (IOException e) {
            return List.of(new Finding(AREA, sysfs.toString(), Status.FAILED, sysfs + " cannot be listed: " + e,
                    Map.of(), "let this user read " + sysfs));
        }
        long deflt;
        try {
            deflt = HugePages.defaultPageSize(meminfo);
        } catch (RuntimeException e) {
            deflt = -1;
        }
        List<Finding> out = new ArrayList<>();
        for (Path d : dirs) {
            String n = d.getFileName().toString();
            long size = Long.parseLong(n.substring("hugepages-".length(), n.length() - 2)) << 10;
            HugePages pool = new HugePages(d, size, size == deflt);
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("page.size", HugePages.label(size));
            facts.put("default", String.valueOf(size == deflt));
            facts.put("nr_hugepages", String.valueOf(pool.total()));
            facts.put("free_hugepages", String.valueOf(pool.free()));
            out.add(pool.free() > 0
                    ? new Finding(AREA, d.toString(), Status.OK, HugePages.label(size) + " pages: " + pool.free()
                            + " free of " + pool.total(), facts, "")
                    : new Finding(AREA, d.toString(), Status.ABSENT, HugePages.label(size) + " pages: none free ("
                            + pool.total() + " reserved)", facts, pool.advice(1)));
        }
        if (out.isEmpty()) {
            out.add(new Finding(AREA, sysfs.toString(), Status.ABSENT, "no huge page pool in " + sysfs, Map.of(),
                    "use a kernel with huge page support"));
        }
        return out;
    }
}
