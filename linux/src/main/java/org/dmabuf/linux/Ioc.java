package org.dmabuf.linux;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;

/**
 * The one place ioctl request numbers are computed: {@code _IOC(dir, type, nr, size)} from
 * {@code <asm-generic/ioctl.h>}, with the size taken from the JNA {@link Structure#size()} of the argument struct,
 * so a struct layout and its request number cannot disagree. Checked against a C probe in the tests. Stateless;
 * any thread.
 */
public final class Ioc {
    /** {@code _IOC_NONE}. */
    public static final int NONE = 0;
    /** {@code _IOC_WRITE}: user space writes the argument. */
    public static final int WRITE = 1;
    /** {@code _IOC_READ}: the kernel writes the argument. */
    public static final int READ = 2;

    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;

    private Ioc() {
    }

    /**
     * {@code _IOC(dir, type, nr, size)}.
     *
     * @param dir {@link #NONE}, {@link #WRITE}, {@link #READ} or both
     * @param type the driver's letter, for example {@code 'b'} for dma-buf
     * @param nr the command number
     * @param size the argument's size in bytes
     * @return the request, as C's {@code unsigned long} holds it
     * @throws IllegalArgumentException if a field does not fit
     */
    public static long ioc(int dir, int type, int nr, int size) {
        if (size < 0 || size >= 1 << SIZEBITS || type < 0 || type > 0xff || nr < 0 || nr > 0xff) {
            throw new IllegalArgumentException("_IOC field out of range: type=" + type + " nr=" + nr + " size=" + size);
        }
        return ((long) dir << DIRSHIFT | (long) type << TYPESHIFT | (long) nr << NRSHIFT | (long) size << SIZESHIFT)
                & 0xffffffffL;
    }

    /**
     * {@code _IO(type, nr)}.
     *
     * @param type the driver's letter
     * @param nr the command number
     * @return the request
     */
    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    /**
     * {@code _IOR(type, nr, struct)}.
     *
     * @param type the driver's letter
     * @param nr the command number
     * @param struct the argument's struct type
     * @return the request
     */
    public static long ior(int type, int nr, Class<? extends Structure> struct) {
        return ioc(READ, type, nr, sizeOf(struct));
    }

    /**
     * {@code _IOW(type, nr, struct)}.
     *
     * @param type the driver's letter
     * @param nr the command number
     * @param struct the argument's struct type
     * @return the request
     */
    public static long iow(int type, int nr, Class<? extends Structure> struct) {
        return ioc(WRITE, type, nr, sizeOf(struct));
    }

    /**
     * {@code _IOWR(type, nr, struct)}.
     *
     * @param type the driver's letter
     * @param nr the command number
     * @param struct the argument's struct type
     * @return the request
     */
    public static long iowr(int type, int nr, Class<? extends Structure> struct) {
        return ioc(READ | WRITE, type, nr, sizeOf(struct));
    }

    /**
     * {@code _IOW(type, nr, T)} for a scalar argument type.
     *
     * @param type the driver's letter
     * @param nr the command number
     * @param size {@code sizeof(T)}
     * @return the request
     */
    public static long iow(int type, int nr, int size) {
        return ioc(WRITE, type, nr, size);
    }

    /**
     * The request as the {@code unsigned long} JNA passes to {@code ioctl}.
     *
     * @param request a request from this class
     * @return the value to pass; immutable, share it
     */
    public static NativeLong request(long request) {
        return new NativeLong(request, true);
    }

    /**
     * The C {@code sizeof} of a JNA struct type.
     *
     * @param struct the struct type
     * @return its size in bytes
     */
    public static int sizeOf(Class<? extends Structure> struct) {
        return Structure.newInstance(struct).size();
    }
}
