package org.dmabuf.api;

import java.util.Objects;
import java.util.Optional;

/**
 * What a caller asks of a new buffer: its size, and optionally a name ({@code DMA_BUF_SET_NAME}), an image format,
 * an exporter by name and constraints of its own. Immutable and thread-safe; build with {@link #ofSize(long)}.
 */
public final class BufferRequest {
    /** The longest name {@code DMA_BUF_SET_NAME} accepts: {@code DMA_BUF_NAME_LEN} (32) less the NUL. */
    public static final int MAX_NAME_LENGTH = 31;

    private final long size;
    private final String name;
    private final BufferFormat format;
    private final String exporter;
    private final DeviceConstraints constraints;

    private BufferRequest(long size, String name, BufferFormat format, String exporter,
            DeviceConstraints constraints) {
        this.size = size;
        this.name = name;
        this.format = format;
        this.exporter = exporter;
        this.constraints = constraints;
    }

    /**
     * A request for a buffer of this size, with no name, format, exporter or constraints.
     *
     * @param size bytes, greater than zero
     * @return the request
     * @throws InvalidArgumentException if {@code size} is zero or negative
     */
    public static BufferRequest ofSize(long size) {
        if (size <= 0) {
            throw new InvalidArgumentException("BufferRequest.ofSize", "size " + size + " must be greater than 0");
        }
        return new BufferRequest(size, "", null, null, DeviceConstraints.NONE);
    }

    /**
     * A request for a frame of a pixel format: its format is the tightest linear layout
     * ({@link BufferFormat#linear}), its size that of the first buffer. The layout the buffer gets follows the
     * stride and offset alignment of the request and of every attached device ({@link DmaBuf#format()}).
     *
     * @param format the pixel format
     * @param width width in pixels
     * @param height height in pixels
     * @return the request
     * @throws InvalidArgumentException if width or height is not positive
     * @since 1.2
     */
    public static BufferRequest ofFormat(PixelFormat format, int width, int height) {
        BufferFormat layout = BufferFormat.linear(Objects.requireNonNull(format, "format"), width, height);
        return new BufferRequest(layout.bufferSize(0), "", layout, null, DeviceConstraints.NONE);
    }

    /**
     * The same request with a name.
     *
     * @param value at most {@link #MAX_NAME_LENGTH} bytes of UTF-8
     * @return a new request
     * @throws InvalidArgumentException if the name is too long
     */
    public BufferRequest name(String value) {
        return new BufferRequest(size, checkName("BufferRequest.name", value), format, exporter, constraints);
    }

    /**
     * The same request with an image format: the layout asked for. An exporter may make another (a driver's pitch);
     * {@link DmaBuf#format()} reports what it made.
     *
     * @param value the format
     * @return a new request
     */
    public BufferRequest format(BufferFormat value) {
        return new BufferRequest(size, name, Objects.requireNonNull(value, "format"), exporter, constraints);
    }

    /**
     * The same request, asking for one exporter by its {@code dmabuf.exporter.name}.
     *
     * @param value the exporter's name, for example {@code "system"}
     * @return a new request
     */
    public BufferRequest exporter(String value) {
        return new BufferRequest(size, name, format, Objects.requireNonNull(value, "exporter"), constraints);
    }

    /**
     * The same request with constraints of the caller's own, merged with those of every attachment.
     *
     * @param value the constraints
     * @return a new request
     */
    public BufferRequest constraints(DeviceConstraints value) {
        return new BufferRequest(size, name, format, exporter, Objects.requireNonNull(value, "constraints"));
    }

    /**
     * The size.
     *
     * @return bytes, greater than zero
     */
    public long size() {
        return size;
    }

    /**
     * The name.
     *
     * @return the name, empty when none was given
     */
    public String name() {
        return name;
    }

    /**
     * The format.
     *
     * @return the format, if one was given
     */
    public Optional<BufferFormat> format() {
        return Optional.ofNullable(format);
    }

    /**
     * The exporter asked for.
     *
     * @return its name, if one was asked for
     */
    public Optional<String> exporter() {
        return Optional.ofNullable(exporter);
    }

    /**
     * The caller's own constraints.
     *
     * @return the constraints, {@link DeviceConstraints#NONE} by default
     */
    public DeviceConstraints constraints() {
        return constraints;
    }

    /**
     * Checks a buffer name as {@code DMA_BUF_SET_NAME} would.
     *
     * @param call the call to name in the error
     * @param value the name
     * @return the name
     * @throws InvalidArgumentException if it is longer than {@link #MAX_NAME_LENGTH} bytes of UTF-8, holds a
     *         control character (NUL, a newline, any below U+0020, or U+007F: fdinfo and bufinfo print a name on
     *         one line) or an unpaired surrogate (no UTF-8)
     */
    public static String checkName(String call, String value) {
        Objects.requireNonNull(value, "name");
        if (value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_LENGTH) {
            throw new InvalidArgumentException(call, "name of " + value.length() + " characters is longer than "
                    + MAX_NAME_LENGTH + " bytes of UTF-8 (DMA_BUF_NAME_LEN)");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new InvalidArgumentException(call, String.format("name holds the control character U+%04X at "
                        + "index %d: fdinfo and bufinfo print a name on one line", (int) c, i));
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidArgumentException(call, "name holds an unpaired surrogate at index " + i
                        + ": it has no UTF-8 form");
            }
        }
        return value;
    }

    @Override
    public String toString() {
        return "BufferRequest[size=" + size + (name.isEmpty() ? "" : ", name=" + name)
                + (exporter == null ? "" : ", exporter=" + exporter) + ", constraints=" + constraints + "]";
    }
}
