package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.spi.MappedMemory;

/**
 * An owned {@code mmap} region: unmapped exactly once. The core reads and writes it through a guarded view that
 * refuses access after the end, so a stale view never touches unmapped memory.
 *
 * <p>Thread-safe: {@link #address()} and {@link #size()} from any thread; {@link #close()} unmaps once.
 */
public final class Mapping implements MappedMemory {
    private final Pointer pointer;
    private final long size;
    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();

    Mapping(Pointer pointer, long size, String what) {
        this.pointer = pointer;
        this.size = size;
        this.what = what;
    }

    /**
     * Maps {@code size} bytes of an fd shared and read-write ({@code PROT_READ | PROT_WRITE}, {@code MAP_SHARED}).
     *
     * @param fd the fd
     * @param size bytes, greater than zero
     * @param what what the fd is, for errors
     * @return the mapping, owned by the caller
     * @throws LinuxException naming {@code mmap}, the fd and errno
     */
    public static Mapping map(int fd, long size, String what) {
        return map(fd, size, 0, LibC.PROT_READ | LibC.PROT_WRITE, what);
    }

    /**
     * Maps {@code size} bytes of an fd, shared, at an offset.
     *
     * @param fd the fd
     * @param size bytes, greater than zero
     * @param offset the offset in the file, page-aligned (a DRM fake offset, for example)
     * @param prot {@code PROT_*}
     * @param what what the fd is, for errors
     * @return the mapping, owned by the caller
     * @throws LinuxException naming {@code mmap}, the fd and errno
     */
    public static Mapping map(int fd, long size, long offset, int prot, String what) {
        if (size <= 0) {
            throw new LinuxException("mmap", "fd " + fd + " (" + what + "), size " + size, Errno.EINVAL);
        }
        try {
            Pointer p = LibC.mmap64(null, new SizeT(size), prot, LibC.MAP_SHARED, fd, offset);
            return new Mapping(p, size, what);
        } catch (LastErrorException e) {
            throw new LinuxException("mmap", "fd " + fd + " (" + what + "), size " + size, e.getErrorCode());
        }
    }

    @Override
    public long address() {
        return Pointer.nativeValue(pointer);
    }

    /**
     * The mapping as a JNA pointer.
     *
     * @return the pointer; valid until {@link #close()}
     */
    public Pointer pointer() {
        return pointer;
    }

    @Override
    public long size() {
        return size;
    }

    /**
     * Whether it is still mapped.
     *
     * @return false once closed
     */
    public boolean isMapped() {
        return !closed.get();
    }

    /** {@code MAP_PRIVATE}. */
    private static final int MAP_PRIVATE = 0x02;
    /** {@code MAP_FIXED}. */
    private static final int MAP_FIXED = 0x10;
    /** {@code MAP_ANONYMOUS}. */
    private static final int MAP_ANONYMOUS = 0x20;
    /** {@code MAP_NORESERVE}. */
    private static final int MAP_NORESERVE = 0x4000;

    /**
     * Ends the mapping of the fd while keeping its addresses reserved: the pages are replaced, in one
     * {@code mmap(MAP_FIXED)}, by private zero-filled anonymous ones. The fd's memory is no longer mapped (the
     * kernel drops the mapping's reference to it), yet a pointer into the range left behind somewhere reads zeros
     * and writes to throwaway pages instead of faulting or reaching whatever the kernel maps there next. The caller
     * owns the returned reservation and closes it ({@code munmap}) once nothing can use those addresses.
     *
     * <p>If the replacement fails (no memory for the new mapping), the fd's mapping itself stays as the
     * reservation: it is unmapped when the reservation is closed.
     *
     * @return the reservation, owned by the caller; nothing if the mapping was already closed
     */
    public Optional<AutoCloseable> retire() {
        if (!closed.compareAndSet(false, true)) {
            return Optional.empty();
        }
        try { // MAP_FIXED: the address asked for, or an error
            LibC.mmap64(pointer, new SizeT(size), LibC.PROT_READ | LibC.PROT_WRITE,
                    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        } catch (LastErrorException e) {
            // keep the fd's mapping as the reservation
        }
        AtomicBoolean released = new AtomicBoolean();
        return Optional.of(() -> {
            if (released.compareAndSet(false, true)) {
                try {
                    LibC.munmap(pointer, new SizeT(size));
                } catch (LastErrorException e) {
                    throw new LinuxException("munmap", what + " (reserved), size " + size, e.getErrorCode());
                }
            }
        });
    }

    /**
     * Unmaps the first time; later calls do nothing.
     *
     * @throws LinuxException if munmap fails
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                LibC.munmap(pointer, new SizeT(size));
            } catch (LastErrorException e) {
                throw new LinuxException("munmap", what + ", size " + size, e.getErrorCode());
            }
        }
    }
}
