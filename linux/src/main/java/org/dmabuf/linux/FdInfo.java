package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.nio.charset.StandardCharsets;

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
    /** The bytes of {@code /proc/self/fdinfo/}; a path is these, the fd's digits and a NUL. */
    private static final byte[] PREFIX = "/proc/self/fdinfo/".getBytes(StandardCharsets.US_ASCII);
    /** Room for a dma-buf's fdinfo with a 32-byte name many times over; a longer text grows the buffer. */
    private static final int BUFFER = 512;
    /** Each thread's read buffer, reused: fdinfo is read on every adoption of a received fd. */
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[BUFFER]);

    /**
     * Reads the fdinfo of one of this process's fds: {@code open}, one {@code read(2)} into this thread's reused
     * buffer (more only for a text longer than it), {@code close}, then {@link #parse}.
     *
     * @param fd the fd
     * @return what it says
     * @throws LinuxException naming the fd, {@code EBADF} if it is not open, the errno of {@code open} or
     *         {@code read} otherwise; {@code EPROTO} if a number is malformed
     */
    public static FdInfo read(int fd) {
        return read(fd, BUFFERS.get());
    }

    /**
     * {@link #read(int)} into a buffer of the caller's, grown (copied) when the text fills it.
     *
     * @param fd the fd
     * @param buffer at least 32 bytes: it first holds the path
     * @return what it says
     */
    static FdInfo read(int fd, byte[] buffer) {
        if (fd < 0) {
            throw new LinuxException("read(/proc/self/fdinfo)", "fd " + fd, Errno.EBADF);
        }
        byte[] buf = buffer;
        int p = PREFIX.length;
        System.arraycopy(PREFIX, 0, buf, 0, p);
        int digits = 1;
        for (int v = fd / 10; v > 0; v /= 10) {
            digits++;
        }
        for (int i = p + digits - 1, v = fd; i >= p; i--, v /= 10) {
            buf[i] = (byte) ('0' + v % 10);
        }
        buf[p + digits] = 0;
        int file;
        try {
            file = Calls.open(buf, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new LinuxException("open(/proc/self/fdinfo)", "fd " + fd,
                    e.getErrorCode() == Errno.ENOENT ? Errno.EBADF : e.getErrorCode());
        }
        int n = 0;
        try {
            while (true) {
                long got = Calls.read(file, buf, buf.length - n, n);
                if (got == 0) {
                    break;
                }
                n += (int) got;
                if (n < buf.length) {
                    break; // a seq_file gives the whole of a short text in one read: this was all of it
                }
                buf = java.util.Arrays.copyOf(buf, buf.length * 2);
            }
        } catch (LastErrorException e) {
            throw new LinuxException("read(/proc/self/fdinfo)", "fd " + fd, e.getErrorCode());
        } finally {
            try {
                Calls.close(file);
            } catch (LastErrorException e) {
                // a read-only proc file: nothing was lost
            }
        }
        return parse(new String(buf, 0, n, StandardCharsets.UTF_8));
    }

    /** The three calls {@link #read} makes, bound with JNA direct mapping. */
    private static final class Calls {
        static {
            Native.register(Calls.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        private Calls() {
        }

        /** {@code int open(const char *path, int flags)}: {@code path} NUL-terminated. */
        static native int open(byte[] path, int flags) throws LastErrorException;

        /** {@code ssize_t read(int fd, void *buf, size_t count)} into {@code buf} from {@code offset}. */
        static long read(int fd, byte[] buf, int count, int offset) {
            if (offset == 0) {
                return read(fd, buf, count);
            }
            byte[] more = new byte[count];
            long got = read(fd, more, count);
            System.arraycopy(more, 0, buf, offset, (int) got);
            return got;
        }

        static native long read(int fd, byte[] buf, long count) throws LastErrorException;

        /** {@code int close(int fd)}. */
        static native int close(int fd) throws LastErrorException;
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
        int seen = 0; // one bit per key read: the first occurrence is the kernel's
        int pos = 0;
        int length = text.length();
        while (pos < length) {
            int eol = text.indexOf('\n', pos);
            int end = eol < 0 ? length : eol;
            int colon = text.indexOf(':', pos);
            if (colon < 0 || colon > end) {
                pos = end + 1;
                continue; // a line without a key
            }
            if (key(text, pos, colon, "name")) {
                // the last line: the rest of the text, less the one newline the kernel ends it with
                int from = colon + 1;
                if (from < length && text.charAt(from) == '\t') {
                    from++;
                }
                int to = text.endsWith("\n") && length - 1 >= from ? length - 1 : length;
                name = text.substring(from, to);
                break;
            }
            int bit = key(text, pos, colon, "flags") ? 1 : key(text, pos, colon, "ino") ? 2
                    : key(text, pos, colon, "size") ? 4 : key(text, pos, colon, "count") ? 8
                    : key(text, pos, colon, "exp_name") ? 16 : 0;
            if (bit != 0 && (seen & bit) == 0) {
                seen |= bit;
                String value = text.substring(colon + 1, end).trim();
                switch (bit) {
                    case 1 -> flags = (int) number("flags", value, 8);
                    case 2 -> inode = number("ino", value, 10);
                    case 4 -> size = number("size", value, 10);
                    case 8 -> count = number("count", value, 10);
                    default -> expName = value;
                }
            }
            pos = end + 1;
        }
        return new FdInfo(flags, inode, size, count, expName, name);
    }

    /** Whether the text from {@code from} to the colon at {@code colon} is exactly {@code key}. */
    private static boolean key(String text, int from, int colon, String key) {
        return colon - from == key.length() && text.startsWith(key, from);
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
