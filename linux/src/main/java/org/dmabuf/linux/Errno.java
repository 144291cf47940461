package org.dmabuf.linux;

/**
 * errno values by name, as the generic Linux ABI numbers them (x86, arm, arm64, riscv). Stateless; any thread.
 */
public final class Errno {
    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** I/O error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** Try again. */
    public static final int EAGAIN = 11;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Not a directory. */
    public static final int ENOTDIR = 20;
    /** Is a directory. */
    public static final int EISDIR = 21;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl for device. */
    public static final int ENOTTY = 25;
    /** File too large. */
    public static final int EFBIG = 27;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Illegal seek. */
    public static final int ESPIPE = 29;
    /** Broken pipe. */
    public static final int EPIPE = 32;
    /** Function not implemented. */
    public static final int ENOSYS = 38;
    /** File name too long. */
    public static final int ENAMETOOLONG = 36;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Protocol error. */
    public static final int EPROTO = 71;
    /** Address already in use. */
    public static final int EADDRINUSE = 98;
    /** Timer expired: a fence wait that ran out of time. */
    public static final int ETIME = 62;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;

    private static final String[] NAMES = new String[134];

    static {
        String[] all = {
            "1 EPERM", "2 ENOENT", "3 ESRCH", "4 EINTR", "5 EIO", "6 ENXIO", "7 E2BIG", "8 ENOEXEC", "9 EBADF",
            "10 ECHILD", "11 EAGAIN", "12 ENOMEM", "13 EACCES", "14 EFAULT", "15 ENOTBLK", "16 EBUSY", "17 EEXIST",
            "18 EXDEV", "19 ENODEV", "20 ENOTDIR", "21 EISDIR", "22 EINVAL", "23 ENFILE", "24 EMFILE", "25 ENOTTY",
            "26 ETXTBSY", "27 EFBIG", "28 ENOSPC", "29 ESPIPE", "30 EROFS", "31 EMLINK", "32 EPIPE", "33 EDOM",
            "34 ERANGE", "35 EDEADLK", "36 ENAMETOOLONG", "37 ENOLCK", "38 ENOSYS", "39 ENOTEMPTY", "40 ELOOP",
            "42 ENOMSG", "61 ENODATA", "62 ETIME", "71 EPROTO", "74 EBADMSG", "75 EOVERFLOW", "77 EBADFD", "84 EILSEQ",
            "88 ENOTSOCK", "90 EMSGSIZE", "93 EPROTONOSUPPORT", "95 EOPNOTSUPP", "98 EADDRINUSE", "103 ECONNABORTED", "104 ECONNRESET",
            "105 ENOBUFS", "107 ENOTCONN", "110 ETIMEDOUT", "111 ECONNREFUSED", "115 EINPROGRESS", "125 ECANCELED"
        };
        for (String e : all) {
            int sp = e.indexOf(' ');
            NAMES[Integer.parseInt(e.substring(0, sp))] = e.substring(sp + 1);
        }
    }

    private Errno() {
    }

    /**
     * The symbolic name of an errno value.
     *
     * @param errno the value
     * @return for example {@code "ENOTTY"}; {@code "errno 200"} for a value without a known name
     */
    public static String name(int errno) {
        String n = errno > 0 && errno < NAMES.length ? NAMES[errno] : null;
        return n != null ? n : "errno " + errno;
    }

    /**
     * The C library's description of an errno value.
     *
     * @param errno the value
     * @return {@code strerror(errno)}
     */
    public static String describe(int errno) {
        try {
            return LibC.strerror(errno);
        } catch (RuntimeException | LinkageError e) {
            return name(errno);
        }
    }
}
