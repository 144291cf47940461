package org.dmabuf.linux;

/**
 * A child process for {@code NodeAccessKernelTest}: opens each node given with {@link Sys#open} ({@code O_RDWR})
 * and prints one line per node, {@code OK path} or {@code ERR path message}, so that a test running as root can see
 * what a process of another user is told. Exits 0 when it could try every node.
 */
public final class NodeOpenMain {
    private NodeOpenMain() {
    }

    /**
     * Opens the nodes.
     *
     * @param args the nodes' paths
     */
    public static void main(String[] args) {
        for (String path : args) {
            try (Fd fd = Sys.open(path, LibC.O_RDWR)) {
                System.out.println("OK " + path);
            } catch (LinuxException e) {
                System.out.println("ERR " + path + " " + e.getMessage());
            }
        }
    }
}
