package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owned file descriptor: one owner, closed exactly once. {@link #get()} after {@link #close()} throws
 * {@link LinuxException} with {@code EBADF} instead of handing out a number the process may have reused.
 *
 * <p>Thread-safe: any thread may call {@link #get()}; {@link #close()} closes once however many threads call it.
 * The owner must not close while another thread still uses the number it got.
 */
public final class Fd implements AutoCloseable {
    private final AtomicInteger fd;
    private final String what;

    /**
     * Takes ownership of an fd.
     *
     * @param fd the fd, not negative
     * @param what what it is, for error messages, for example a path
     */
    public Fd(int fd, String what) {
        if (fd < 0) {
            throw new IllegalArgumentException("negative fd " + fd + " for " + what);
        }
        this.fd = new AtomicInteger(fd);
        this.what = what;
    }

    /**
     * The fd number.
     *
     * @return the fd
     * @throws LinuxException {@code EBADF} if it was closed
     */
    public int get() {
        int v = fd.get();
        if (v < 0) {
            throw new LinuxException("Fd.get", what, Errno.EBADF);
        }
        return v;
    }

    /**
     * Whether it is still open.
     *
     * @return false once closed
     */
    public boolean isOpen() {
        return fd.get() >= 0;
    }

    /**
     * What the fd is.
     *
     * @return the description given at creation
     */
    public String what() {
        return what;
    }

    /**
     * Gives up ownership without closing: the caller owns the number from now on.
     *
     * @return the fd
     * @throws LinuxException {@code EBADF} if it was closed
     */
    public int release() {
        int v = fd.getAndSet(-1);
        if (v < 0) {
            throw new LinuxException("Fd.release", what, Errno.EBADF);
        }
        return v;
    }

    /**
     * Closes the fd the first time; later calls do nothing. {@code EINTR} from close still closed the fd on Linux
     * and is ignored.
     *
     * @throws LinuxException if close fails otherwise
     */
    @Override
    public void close() {
        int v = fd.getAndSet(-1);
        if (v >= 0) {
            try {
                LibC.close(v);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new LinuxException("close", "fd " + v + " (" + what + ")", e.getErrorCode());
                }
            }
        }
    }

    @Override
    public String toString() {
        return "fd " + fd.get() + " (" + what + ")";
    }
}
