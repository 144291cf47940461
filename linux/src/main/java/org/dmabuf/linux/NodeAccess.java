package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Who may open a device node, and why this process may not: the one place that describes a permission error on
 * {@code /dev/dma_heap/*}, {@code /dev/udmabuf}, {@code /dev/dri/*} and {@code /dev/video*} (and on any other
 * character device). {@link Sys#open} adds {@link #explain} to an {@code EACCES} or {@code EPERM} of a device node,
 * so the error names the node, its owner, group and mode, the process's uid and groups, and what to do:
 *
 * <pre>
 * open: EACCES: /dev/dma_heap/system: Permission denied; node: owner root(0), group video(44), mode crw-rw----
 * (dma_heap system, char 253:0); this process: uid 1000(app), gid 1000(app), groups 1000(app); to fix: add the
 * user to group video (sudo usermod -aG video app) and log in again ...
 * </pre>
 *
 * <p>The kind of a node comes from the kernel ({@code /sys/dev/char/MAJOR:MINOR}, the class its device is in), not
 * from its path, so a node made elsewhere with {@code mknod} is recognised too. Names of users and groups come
 * from {@code /etc/passwd} and {@code /etc/group} (numbers alone where a name is not there); the process's
 * credentials from {@code /proc/self/status} (the effective uid and gid, which the kernel checks, and the
 * supplementary groups). Stateless; any thread.
 */
public final class NodeAccess {
    private static final int AT_FDCWD = -100;
    /** {@code STATX_BASIC_STATS}: type, mode, nlink, uid, gid, times, ino, size, blocks. */
    private static final int STATX_BASIC_STATS = 0x7ff;

    private NodeAccess() {
    }

    /**
     * What {@code statx} and sysfs say of a file that a process tried to open.
     *
     * @param path the path
     * @param uid the owner's uid
     * @param gid the group's gid
     * @param mode {@code st_mode}: type and permission bits
     * @param major the device's major number (0 for a file that is no device)
     * @param minor the device's minor number
     * @param kind the class of the device in sysfs ({@code dma_heap}, {@code misc}, {@code drm},
     *        {@code video4linux}, ...), or empty where sysfs does not say
     * @param kernelName the device's name in that class ({@code system}, {@code udmabuf}, {@code renderD128},
     *        {@code video0}), or empty
     */
    public record Node(String path, int uid, int gid, int mode, int major, int minor, String kind,
            String kernelName) {
        /**
         * Whether it is a character device.
         *
         * @return {@code S_ISCHR(mode)}
         */
        public boolean characterDevice() {
            return (mode & Statx.S_IFMT) == Statx.S_IFCHR;
        }

        /**
         * The mode as {@code ls -l} prints it.
         *
         * @return for example {@code crw-rw----}
         */
        public String modeString() {
            return NodeAccess.modeString(mode);
        }

        /**
         * The owner by name and number.
         *
         * @return for example {@code root(0)}
         */
        public String owner() {
            return userName(uid) + "(" + Integer.toUnsignedString(uid) + ")";
        }

        /**
         * The group by name and number.
         *
         * @return for example {@code video(44)}
         */
        public String group() {
            return groupName(gid) + "(" + Integer.toUnsignedString(gid) + ")";
        }

        /**
         * The owner, group and mode, and what the kernel calls the device.
         *
         * @return for example {@code owner root(0), group video(44), mode crw-rw---- (dma_heap system, char 253:0)}
         */
        public String describe() {
            String dev = characterDevice() ? "char " + major + ":" + minor : "";
            String what = kind.isEmpty() ? dev : kind + " " + kernelName + (dev.isEmpty() ? "" : ", " + dev);
            return "owner " + owner() + ", group " + group() + ", mode " + modeString()
                    + (what.isEmpty() ? "" : " (" + what + ")");
        }

        /**
         * The permission bits that apply to a process: the owner's if it is the owner, else the group's if the
         * node's group is one of its groups, else everyone else's (the kernel checks in that order and stops at
         * the first class that matches).
         *
         * @param c the process's credentials
         * @return 3 bits: 4 read, 2 write, 1 execute
         */
        public int bitsFor(Credentials c) {
            if (c.uid() == uid) {
                return (mode >> 6) & 7;
            }
            if (c.inGroup(gid)) {
                return (mode >> 3) & 7;
            }
            return mode & 7;
        }

        /**
         * Whether the mode lets a process open the node for reading and writing (root may open any node; other
         * refusals, as a device cgroup's, are not seen here).
         *
         * @param c the process's credentials
         * @return whether the permission bits grant read and write
         */
        public boolean grantsReadWrite(Credentials c) {
            return c.uid() == 0 || (bitsFor(c) & 6) == 6;
        }

        /**
         * The group to join for this kind of node, where distributions have one: {@code render} for DRM render
         * nodes, {@code video} for DRM primary nodes, V4L2 nodes, dma-heaps and udmabuf (which the README's udev
         * rule gives to {@code video}).
         *
         * @return the group's name
         */
        public String usualGroup() {
            return kind.equals("drm") && kernelName.startsWith("renderD") ? "render" : "video";
        }
    }

    /**
     * The credentials the kernel checks a process's access with.
     *
     * @param uid the effective uid
     * @param gid the effective gid
     * @param groups the supplementary groups
     */
    public record Credentials(int uid, int gid, List<Integer> groups) {
        /**
         * Copies the groups.
         */
        public Credentials {
            groups = List.copyOf(groups);
        }

        /**
         * This process's, from {@code /proc/self/status}.
         *
         * @return its effective uid and gid and its supplementary groups
         * @throws java.io.UncheckedIOException if {@code /proc/self/status} cannot be read
         */
        public static Credentials current() {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            int uid = -1;
            int gid = -1;
            List<Integer> groups = new ArrayList<>();
            for (String l : lines) {
                String[] f = l.split("\\s+");
                if (l.startsWith("Uid:") && f.length > 2) {
                    uid = Integer.parseUnsignedInt(f[2]);
                } else if (l.startsWith("Gid:") && f.length > 2) {
                    gid = Integer.parseUnsignedInt(f[2]);
                } else if (l.startsWith("Groups:")) {
                    for (int i = 1; i < f.length; i++) {
                        if (!f[i].isEmpty()) {
                            groups.add(Integer.parseUnsignedInt(f[i]));
                        }
                    }
                }
            }
            return new Credentials(uid, gid, groups);
        }

        /**
         * Whether a group is this process's effective or one of its supplementary groups.
         *
         * @param g a gid
         * @return whether the kernel counts the process in the group
         */
        public boolean inGroup(int g) {
            return gid == g || groups.contains(g);
        }

        /**
         * The uid, gid and groups, by name and number.
         *
         * @return for example {@code uid 1000(app), gid 1000(app), groups 44(video),1000(app)}; {@code groups none}
         *         for none
         */
        public String describe() {
            StringBuilder b = new StringBuilder("uid ").append(userName(uid)).append('(')
                    .append(Integer.toUnsignedString(uid)).append("), gid ").append(groupName(gid)).append('(')
                    .append(Integer.toUnsignedString(gid)).append("), groups ");
            if (groups.isEmpty()) {
                return b.append("none").toString();
            }
            for (int i = 0; i < groups.size(); i++) {
                int g = groups.get(i);
                b.append(i == 0 ? "" : ",").append(groupName(g)).append('(').append(Integer.toUnsignedString(g))
                        .append(')');
            }
            return b.toString();
        }
    }

    /**
     * {@code statx} of a path (following links), and the device's class in sysfs.
     *
     * @param path the path
     * @return what they say, or empty where the path cannot be looked at
     */
    public static Optional<Node> stat(String path) {
        Statx st = new Statx();
        try {
            LibC.statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, st.getPointer());
        } catch (LastErrorException e) {
            return Optional.empty();
        }
        st.read();
        int mode = st.stx_mode & 0xffff;
        String kind = "";
        String name = "";
        if ((mode & Statx.S_IFMT) == Statx.S_IFCHR) {
            try {
                Path sys = Path.of("/sys/dev/char/" + st.stx_rdev_major + ":" + st.stx_rdev_minor).toRealPath();
                name = sys.getFileName().toString();
                Path parent = sys.getParent();
                kind = parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
                if (kind.startsWith("card") && sys.toString().contains("/drm/")) {
                    kind = "drm"; // a connector's folder is under its card's: not a node, but be safe
                }
            } catch (IOException | RuntimeException e) {
                // no sysfs (a container without /sys): the kind stays unknown
            }
        }
        return Optional.of(new Node(path, st.stx_uid, st.stx_gid, mode, st.stx_rdev_major, st.stx_rdev_minor, kind,
                name));
    }

    /**
     * A node's owner, group and mode, and what its permission bits let a process do, as a machine check reports
     * them.
     *
     * @param n the node
     * @param c the process's credentials
     * @return {@code owner}, {@code group}, {@code mode} ({@code crw-rw----}) and {@code access} ({@code rw},
     *         {@code r}, {@code w} or {@code none}; {@code rw (root)} for root), in that order
     */
    public static java.util.Map<String, String> facts(Node n, Credentials c) {
        java.util.Map<String, String> f = new java.util.LinkedHashMap<>();
        f.put("owner", n.owner());
        f.put("group", n.group());
        f.put("mode", n.modeString());
        int bits = n.bitsFor(c);
        String access = ((bits & 4) != 0 ? "r" : "") + ((bits & 2) != 0 ? "w" : "");
        f.put("access", c.uid() == 0 ? "rw (root)" : access.isEmpty() ? "none" : access);
        return f;
    }

    /**
     * A failed open in one short line, as a machine check's summary says it (its facts carry the node's owner,
     * group and mode, its advice what to do).
     *
     * @param errno the errno's name
     * @param c the process's credentials
     * @return for example {@code cannot be opened: EACCES for uid app(1000), gid app(1000), groups none}
     */
    public static String openFailure(String errno, Credentials c) {
        return "cannot be opened: " + errno + " for " + c.describe();
    }

    /**
     * What to do about a node that {@code open} refused, for a report such as the machine check: the
     * {@link #advice} for {@code EACCES} or {@code EPERM} on a node that could be read, else "see the error".
     *
     * @param n the node, as {@link #stat} read it
     * @param errno what {@code open} returned
     * @param c the process's credentials
     * @return the advice
     */
    public static String openAdvice(Optional<Node> n, int errno, Credentials c) {
        return (errno == Errno.EACCES || errno == Errno.EPERM) && n.isPresent() ? advice(n.get(), c)
                : "see the error";
    }

    /**
     * Why a process may not open a device node, and what to do: empty unless the errno is {@code EACCES} or
     * {@code EPERM} and the path is a character device.
     *
     * @param path the node
     * @param errno what {@code open} returned
     * @return {@code node: ...; this process: ...; to fix: ...}, or empty
     */
    public static String explain(String path, int errno) {
        if (errno != Errno.EACCES && errno != Errno.EPERM) {
            return "";
        }
        Optional<Node> n;
        Credentials c;
        try {
            n = stat(path);
            c = Credentials.current();
        } catch (RuntimeException | LinkageError e) {
            return ""; // the description is extra; the error itself stays what it was
        }
        if (n.isEmpty() || !n.get().characterDevice()) {
            return "";
        }
        return "node: " + n.get().describe() + "; this process: " + c.describe() + "; to fix: "
                + advice(n.get(), c);
    }

    /**
     * What to do so that a process may open a node, in one sentence (and the README's section to read).
     *
     * @param n the node
     * @param c the process's credentials
     * @return the advice
     */
    public static String advice(Node n, Credentials c) {
        String user = userName(c.uid());
        if (n.grantsReadWrite(c)) {
            return "the mode grants this process read and write, so something else refuses: a device cgroup (a "
                    + "container started without the device: pass it, e.g. docker run --device " + n.path()
                    + "), a security module (SELinux, AppArmor), or a filesystem mounted nodev (README: "
                    + "Troubleshooting, permissions)";
        }
        boolean groupRw = ((n.mode() >> 3) & 6) == 6;
        if (groupRw && n.gid() != 0) {
            String g = groupName(n.gid());
            if (c.inGroup(n.gid())) {
                return "this process is in group " + g + " yet is refused; check the node's ACLs (getfacl "
                        + n.path() + ") (README: Troubleshooting, permissions)";
            }
            return "add the user to group " + g + " (sudo usermod -aG " + g + " " + user + ") and log in again, or "
                    + "start the service with SupplementaryGroups=" + g + " (a running process keeps the groups it "
                    + "started with) (README: Troubleshooting, permissions)";
        }
        String g = n.usualGroup();
        return (groupRw ? "the node's group is root" : "the node grants its group no read and write") + ": "
                + (groupExists(g) ? "" : "make group " + g
                + " (sudo groupadd -r " + g + "), ") + "install the README's udev rule ("
                + udevRule(n) + " in /etc/udev/rules.d/70-dmabuf.rules, then sudo udevadm control --reload && "
                + "sudo udevadm trigger), and add the user to group " + g + " (sudo usermod -aG " + g + " " + user
                + ") (README: Troubleshooting, permissions)";
    }

    /**
     * The udev rule that gives a kind of node to its usual group, mode {@code 0660}.
     *
     * @param n the node
     * @return for example {@code SUBSYSTEM=="dma_heap", GROUP="video", MODE="0660"}
     */
    public static String udevRule(Node n) {
        String match = switch (n.kind()) {
            case "dma_heap" -> "SUBSYSTEM==\"dma_heap\"";
            case "misc" -> "KERNEL==\"" + n.kernelName() + "\"";
            case "drm" -> "SUBSYSTEM==\"drm\", KERNEL==\"" + (n.kernelName().startsWith("renderD") ? "renderD*"
                    : "card*") + "\"";
            case "video4linux" -> "SUBSYSTEM==\"video4linux\"";
            default -> n.kernelName().isEmpty() ? "KERNEL==\"" + Path.of(n.path()).getFileName() + "\""
                    : "KERNEL==\"" + n.kernelName() + "\"";
        };
        return match + ", GROUP=\"" + n.usualGroup() + "\", MODE=\"0660\"";
    }

    /**
     * A mode as {@code ls -l} prints it.
     *
     * @param mode {@code st_mode}
     * @return for example {@code crw-rw----}
     */
    public static String modeString(int mode) {
        char type = switch (mode & Statx.S_IFMT) {
            case Statx.S_IFCHR -> 'c';
            case 0060000 -> 'b';
            case 0040000 -> 'd';
            case 0010000 -> 'p';
            case 0120000 -> 'l';
            case 0140000 -> 's';
            default -> '-';
        };
        StringBuilder b = new StringBuilder().append(type);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            b.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        if ((mode & 04000) != 0) {
            b.setCharAt(3, b.charAt(3) == 'x' ? 's' : 'S');
        }
        if ((mode & 02000) != 0) {
            b.setCharAt(6, b.charAt(6) == 'x' ? 's' : 'S');
        }
        if ((mode & 01000) != 0) {
            b.setCharAt(9, b.charAt(9) == 'x' ? 't' : 'T');
        }
        return b.toString();
    }

    /**
     * A user's name from {@code /etc/passwd}.
     *
     * @param uid the uid
     * @return the name, or the number where {@code /etc/passwd} has none
     */
    public static String userName(int uid) {
        return lookup(Path.of("/etc/passwd"), uid);
    }

    /**
     * A group's name from {@code /etc/group}.
     *
     * @param gid the gid
     * @return the name, or the number where {@code /etc/group} has none
     */
    public static String groupName(int gid) {
        return lookup(Path.of("/etc/group"), gid);
    }

    /** Whether {@code /etc/group} has a group of this name. */
    private static boolean groupExists(String name) {
        try (var lines = Files.lines(Path.of("/etc/group"), StandardCharsets.UTF_8)) {
            return lines.anyMatch(l -> l.startsWith(name + ":"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return true; // unknown: say nothing of making it
        }
    }

    /** The first field of the line whose third field is the id ({@code name:x:id:...}). */
    private static String lookup(Path file, int id) {
        String want = Integer.toUnsignedString(id);
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.map(l -> l.split(":", 4)).filter(f -> f.length >= 3 && f[2].equals(want))
                    .map(f -> FdInfo.printable(f[0])).findFirst().orElse(want);
        } catch (IOException | java.io.UncheckedIOException e) {
            return want;
        }
    }
}
