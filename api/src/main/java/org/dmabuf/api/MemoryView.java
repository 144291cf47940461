package org.dmabuf.api;

import java.nio.ByteBuffer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * CPU access to a buffer's memory through its mapping. Every access is bounds-checked; once the mapping is gone
 * (the buffer was released) every access throws {@link BufferReleasedException}, never a crash. Multi-byte values
 * are in the platform's native byte order, as devices and C code on the same machine write them.
 *
 * <p>Thread-safe: any thread may read and write; the caller orders concurrent writes to the same bytes.
 */
@ProviderType
public interface MemoryView {
    /**
     * The mapped length.
     *
     * @return bytes; the buffer's size
     */
    long size();

    /**
     * Reads one byte.
     *
     * @param offset from the start of the buffer
     * @return the byte
     * @throws IndexOutOfBoundsException if the offset is outside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    byte getByte(long offset);

    /**
     * Writes one byte.
     *
     * @param offset from the start of the buffer
     * @param value the byte
     * @throws IndexOutOfBoundsException if the offset is outside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void putByte(long offset, byte value);

    /**
     * Reads a native-order int.
     *
     * @param offset from the start of the buffer
     * @return the value
     * @throws IndexOutOfBoundsException if the four bytes are not all inside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    int getInt(long offset);

    /**
     * Writes a native-order int.
     *
     * @param offset from the start of the buffer
     * @param value the value
     * @throws IndexOutOfBoundsException if the four bytes are not all inside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void putInt(long offset, int value);

    /**
     * Reads a native-order long.
     *
     * @param offset from the start of the buffer
     * @return the value
     * @throws IndexOutOfBoundsException if the eight bytes are not all inside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    long getLong(long offset);

    /**
     * Writes a native-order long.
     *
     * @param offset from the start of the buffer
     * @param value the value
     * @throws IndexOutOfBoundsException if the eight bytes are not all inside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void putLong(long offset, long value);

    /**
     * Copies bytes out of the buffer.
     *
     * @param offset from the start of the buffer
     * @param dst the destination
     * @param dstOffset where in {@code dst} to start
     * @param length how many bytes
     * @throws IndexOutOfBoundsException if either range is out of bounds
     * @throws BufferReleasedException if the mapping is gone
     */
    void read(long offset, byte[] dst, int dstOffset, int length);

    /**
     * Copies bytes into the buffer.
     *
     * @param offset from the start of the buffer
     * @param src the source
     * @param srcOffset where in {@code src} to start
     * @param length how many bytes
     * @throws IndexOutOfBoundsException if either range is out of bounds
     * @throws BufferReleasedException if the mapping is gone
     */
    void write(long offset, byte[] src, int srcOffset, int length);

    /**
     * Copies {@code dst.remaining()} bytes out of the buffer into {@code dst}, advancing its position.
     *
     * @param offset from the start of the buffer
     * @param dst the destination, heap or direct
     * @throws IndexOutOfBoundsException if the range is outside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void read(long offset, ByteBuffer dst);

    /**
     * Copies {@code src.remaining()} bytes into the buffer, advancing {@code src}'s position.
     *
     * @param offset from the start of the buffer
     * @param src the source, heap or direct
     * @throws IndexOutOfBoundsException if the range is outside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void write(long offset, ByteBuffer src);

    /**
     * Sets a range of bytes to one value ({@code memset}).
     *
     * @param offset from the start of the buffer
     * @param length how many bytes
     * @param value the byte
     * @throws IndexOutOfBoundsException if the range is outside the buffer
     * @throws BufferReleasedException if the mapping is gone
     */
    void fill(long offset, long length, byte value);
}
