package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An owned file descriptor: one owner, closed exactly once. {@link #get()} after {@link #close()} throws
 * {@link LinuxException} with {@code EBADF} instead of handing out a number the process may have reused.
 *
 * <p>Thread-safe: any thread may call {@link #get()}; {@link #close()} closes once however many threads call it.
 * The owner must not close while another thread still uses the number it got.
 *
 * <p>Small: an fd lives as long as its buffer, so it holds its number in a field of its own (no atomic wrapper) and
 * its description in two parts joined only when asked for ({@link #what()}, error messages).
 */
public final class Fd implements AutoCloseable {
    private static final VarHandle FD;

    static {
        try {
            FD = MethodHandles.lookup().findVarHandle(Fd.class, "fd", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The number, or -1 once closed or released; changed only through {@link #FD}. */
    private volatile int fd;
    private final String what;
    /** What follows {@link #what} in the description, or null: joined only when the description is asked for. */
    private final Object detail;

    /**
     * Takes ownership of an fd.
     *
     * @param fd the fd, not negative
     * @param what what it is, for error messages, for example a path
     */
    public Fd(int fd, String what) {
        this(fd, what, null);
    }

    /**
     * Takes ownership of an fd described in two parts, {@code what + detail}, joined only when the description is
     * asked for: an exporter passes a text it shares between its buffers and the buffer's own part.
     *
     * @param fd the fd, not negative
     * @param what the start of the description, for example {@code "dma-buf from /dev/dma_heap/system"}
     * @param detail what follows it ({@code toString()} is taken when the description is asked for), or null
     */
    public Fd(int fd, String what, Object detail) {
        if (fd < 0) {
            throw new IllegalArgumentException("negative fd " + fd + " for " + (detail == null ? what : what + detail));
        }
        this.fd = fd;
        this.what = what;
        this.detail = detail;
    }

    /**
     * The fd number.
     *
     * @return the fd
     * @throws LinuxException {@code EBADF} if it was closed
     */
    public int get() {
        int v = fd;
        if (v < 0) {
            throw new LinuxException("Fd.get", what(), Errno.EBADF);
        }
        return v;
    }

    /**
     * Whether it is still open.
     *
     * @return false once closed
     */
    public boolean isOpen() {
        return fd >= 0;
    }

    /**
     * What the fd is.
     *
     * @return the description given at creation
     */
    public String what() {
        return detail == null ? what : what + detail;
    }

    /**
     * Gives up ownership without closing: the caller owns the number from now on.
     *
     * @return the fd
     * @throws LinuxException {@code EBADF} if it was closed
     */
    public int release() {
        int v = (int) FD.getAndSet(this, -1);
        if (v < 0) {
            throw new LinuxException("Fd.release", what(), Errno.EBADF);
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
        int v = (int) FD.getAndSet(this, -1);
        if (v >= 0) {
            try {
                LibC.close(v);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new LinuxException("close", "fd " + v + " (" + what() + ")", e.getErrorCode());
                }
            }
        }
    }

    @Override
    public String toString() {
        return "fd " + fd + " (" + what() + ")";
    }
}
