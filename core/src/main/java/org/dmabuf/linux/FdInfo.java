package org.dmabuf.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code /proc/self/fdinfo/FD} of a dma-buf: what {@code dma_buf_show_fdinfo()} prints. Immutable; any thread.
 *
 * @param flags the fd's {@code flags:} (octal in the file)
 * @param inode {@code ino:}, or 0 on kernels that do not print it
 * @param size {@code size:}, or -1 if absent (not a dma-buf)
 * @param count {@code count:} (the file's reference count), or -1 if absent
 * @param expName {@code exp_name:}, or null if absent (not a dma-buf)
 * @param name {@code name:}, or empty
 */
public record FdInfo(int flags, long inode, long size, long count, String expName, String name) {
    /**
     * Reads the fdinfo of one of this process's fds.
     *
     * @param fd the fd
     * @return what it says
     * @throws LinuxException naming the fd, {@code EBADF} if it is not open
     */
    public static FdInfo read(int fd) {
        String text;
        try {
            text = Files.readString(Path.of("/proc/self/fdinfo/" + fd));
        } catch (NoSuchFileException e) {
            throw new LinuxException("read(/proc/self/fdinfo)", "fd " + fd, Errno.EBADF);
        } catch (IOException e) {
            throw new LinuxException("read(/proc/self/fdinfo)", "fd " + fd + " (" + e.getMessage() + ")", Errno.EIO);
        }
        return parse(text);
    }

    /**
     * Parses fdinfo text.
     *
     * @param text the file's content
     * @return what it says
     */
    public static FdInfo parse(String text) {
        int flags = 0;
        long inode = 0;
        long size = -1;
        long count = -1;
        String expName = null;
        String name = "";
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "flags" -> flags = Integer.parseInt(value, 8);
                case "ino" -> inode = Long.parseLong(value);
                case "size" -> size = Long.parseLong(value);
                case "count" -> count = Long.parseLong(value);
                case "exp_name" -> expName = value;
                case "name" -> name = value;
                default -> {
                }
            }
        }
        return new FdInfo(flags, inode, size, count, expName, name);
    }

    /**
     * Whether the fd is a dma-buf.
     *
     * @return true if fdinfo has {@code exp_name:}
     */
    public boolean isDmaBuf() {
        return expName != null;
    }
}
