package org.dmabuf.api;

import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A fence: a kernel {@code sync_file} ({@code <linux/sync_file.h>}) that signals once the work it stands for is
 * done, for example a device's write into a buffer. It is the explicit form of the implicit synchronisation a
 * dma-buf carries: {@link DmaBuf#exportFence(SyncDirection)} takes a snapshot of a buffer's fences as one fence,
 * {@link DmaBuf#importFence(Fence, SyncDirection)} adds one to the buffer, and its {@link #fd()} travels to another
 * process as any fd does.
 *
 * <p>A fence owns its fd and is closed exactly once by its one owner ({@link #close()} is idempotent). Thread-safe:
 * any thread may wait on it or ask its status, but the owner must not close it while another thread still waits.
 *
 * @since 1.3
 */
@ProviderType
public interface Fence extends AutoCloseable {
    /**
     * The fence's file descriptor: {@code O_CLOEXEC}, owned by the fence and valid until {@link #close()}. Send it
     * or {@code dup} it; do not close it.
     *
     * @return the fd
     * @throws DmaBufException {@code EBADF} if the fence was closed
     */
    int fd();

    /**
     * The fence's name, as {@code SYNC_IOC_FILE_INFO} reports it (the name given to {@link #merge}, or the kernel's
     * {@code driver-timeline} name of its fence).
     *
     * @return the name
     * @throws DmaBufException {@code EBADF} if the fence was closed
     */
    String name();

    /**
     * The fence's status, as {@code SYNC_IOC_FILE_INFO} reports it.
     *
     * @return 0 while active, 1 once signalled, a negative errno when it signalled with an error
     * @throws DmaBufException {@code EBADF} if the fence was closed
     */
    int status();

    /**
     * Whether the fence has signalled ({@code poll} with {@code POLLIN} and no wait); a fence that signalled with an
     * error has signalled too: {@link #status()} tells them apart.
     *
     * @return true once signalled
     * @throws DmaBufException {@code EBADF} if the fence was closed
     */
    boolean isSignalled();

    /**
     * Waits until the fence signals ({@code poll} with {@code POLLIN}); a signal that interrupts the wait does not
     * end it: the wait goes on for the time that is left.
     *
     * @param timeout the longest wait; zero only checks
     * @throws FenceTimeoutException ({@code ETIME}) naming the fence if it did not signal in time
     * @throws DmaBufException {@code EBADF} if the fence was closed
     */
    void await(Duration timeout);

    /**
     * Merges this fence with another ({@code SYNC_IOC_MERGE}): the result signals when both have signalled. Both
     * stay open and owned by their owners.
     *
     * @param other the other fence, open
     * @param name the new fence's name, at most 31 bytes of UTF-8
     * @return the new fence, owned by the caller
     * @throws DmaBufException naming the call, the fds and errno ({@code EBADF} for a closed fence,
     *         {@code EINVAL} for a name too long)
     */
    Fence merge(Fence other, String name);

    /**
     * Whether the fence was closed.
     *
     * @return true after {@link #close()}
     */
    boolean isClosed();

    /**
     * Closes the fence's fd the first time; later calls do nothing.
     */
    @Override
    void close();
}
