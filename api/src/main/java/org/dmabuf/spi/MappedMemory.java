package org.dmabuf.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A CPU mapping made by an exporter's {@code mmap} op: a native address range. The core reads and writes it only
 * within bounds and closes it exactly once, after every access has finished.
 *
 * <p>Threads: {@link #address()} and {@link #size()} from any thread; {@link #close()} once, from the core.
 */
@ConsumerType
public interface MappedMemory extends AutoCloseable {
    /**
     * The first mapped byte.
     *
     * @return a native address
     */
    long address();

    /**
     * The mapped length.
     *
     * @return bytes
     */
    long size();

    /** Unmaps ({@code munmap}). */
    @Override
    void close();
}
