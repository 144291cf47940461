package org.dmabuf.linux;

import com.sun.jna.IntegerType;
import com.sun.jna.Native;

/** C {@code size_t}: as wide as a pointer. Immutable once made; any thread. */
public final class SizeT extends IntegerType {
    private static final long serialVersionUID = 1L;

    /** JNA needs a no-argument constructor. */
    public SizeT() {
        this(0);
    }

    /**
     * A size_t of this value.
     *
     * @param value the value
     */
    public SizeT(long value) {
        super(Native.SIZE_T_SIZE, value, true);
    }
}
