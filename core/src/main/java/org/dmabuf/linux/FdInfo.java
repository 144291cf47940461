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
     * Parses fdinfo text as the kernel writes it: the generic lines ({@code pos}, {@code flags}, {@code mnt_id},
     * {@code ino}), then {@code dma_buf_show_fdinfo()}'s {@code size}, {@code count}, {@code exp_name} and, last,
     * {@code name}. The name is set by whoever holds the buffer ({@code DMA_BUF_SET_NAME}) and may hold newlines:
     * everything after {@code name:\t} is the name, so that it cannot forge another key, and for every other key
     * the first occurrence is the kernel's.
     *
     * @param text the file's content
     * @return what it says
     * @throws LinuxException {@code EPROTO} naming the key if a number is malformed
     */
    public static FdInfo parse(String text) {
        int flags = 0;
        long inode = 0;
        long size = -1;
        long count = -1;
        String expName = null;
        String name = "";
        java.util.Set<String> seen = new java.util.HashSet<>();
        int pos = 0;
        while (pos < text.length()) {
            int eol = text.indexOf('\n', pos);
            String line = text.substring(pos, eol < 0 ? text.length() : eol);
            int colon = line.indexOf(':');
            String key = colon < 0 ? "" : line.substring(0, colon);
            if (key.equals("name")) {
                // the last line: the rest of the text, less the one newline the kernel ends it with
                String rest = text.substring(pos + colon + 1);
                if (rest.startsWith("\t")) {
                    rest = rest.substring(1);
                }
                name = rest.endsWith("\n") ? rest.substring(0, rest.length() - 1) : rest;
                break;
            }
            pos = eol < 0 ? text.length() : eol + 1;
            if (colon < 0 || !seen.add(key)) {
                continue;
            }
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "flags" -> flags = (int) number(key, value, 8);
                case "ino" -> inode = number(key, value, 10);
                case "size" -> size = number(key, value, 10);
                case "count" -> count = number(key, value, 10);
                case "exp_name" -> expName = value;
                default -> {
                }
            }
        }
        return new FdInfo(flags, inode, size, count, expName, name);
    }

    private static long number(String key, String value, int radix) {
        try {
            return Long.parseLong(value, radix);
        } catch (NumberFormatException e) {
            throw new LinuxException("read(/proc/self/fdinfo)", "'" + key + ":' is not a number: '"
                    + printable(value) + "'", Errno.EPROTO);
        }
    }

    /**
     * Text a peer controls, made safe to print on one line: control characters as {@code \xNN}.
     *
     * @param text any text
     * @return the text with every character below 0x20 and 0x7f escaped
     */
    public static String printable(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (b == null) {
                    b = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                b.append(String.format("\\x%02x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
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
