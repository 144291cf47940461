package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The C library calls the project makes, bound with JNA direct mapping (no proxy, no per-call reflection). Every
 * call that sets errno declares {@link LastErrorException}, which JNA fills from errno right after the call;
 * callers turn it into a {@link LinuxException} that names the call and target ({@link Sys} does).
 *
 * <p>Stateless; any thread. Prefer {@link Sys}, {@link Fd} and {@link Mapping}, which own what these return.
 */
public final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    /** {@code O_RDONLY}. */
    public static final int O_RDONLY = 0;
    /** {@code O_WRONLY}. */
    public static final int O_WRONLY = 1;
    /** {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** {@code O_NONBLOCK}. */
    public static final int O_NONBLOCK = 0x800;
    /** {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 0x80000;
    /** {@code PROT_READ}. */
    public static final int PROT_READ = 1;
    /** {@code PROT_WRITE}. */
    public static final int PROT_WRITE = 2;
    /** {@code MAP_SHARED}. */
    public static final int MAP_SHARED = 1;
    /** {@code F_DUPFD_CLOEXEC}. */
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** {@code F_GETFD}. */
    public static final int F_GETFD = 1;
    /** {@code F_GETFL}. */
    public static final int F_GETFL = 3;
    /** {@code F_ADD_SEALS}. */
    public static final int F_ADD_SEALS = 1033;
    /** {@code F_GET_SEALS}. */
    public static final int F_GET_SEALS = 1034;
    /** {@code F_SEAL_SEAL}. */
    public static final int F_SEAL_SEAL = 1;
    /** {@code F_SEAL_SHRINK}. */
    public static final int F_SEAL_SHRINK = 2;
    /** {@code F_SEAL_GROW}. */
    public static final int F_SEAL_GROW = 4;
    /** {@code F_SEAL_WRITE}. */
    public static final int F_SEAL_WRITE = 8;
    /** {@code MFD_CLOEXEC}. */
    public static final int MFD_CLOEXEC = 1;
    /** {@code MFD_ALLOW_SEALING}. */
    public static final int MFD_ALLOW_SEALING = 2;
    /** {@code AT_EMPTY_PATH}. */
    public static final int AT_EMPTY_PATH = 0x1000;
    /** {@code STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE}. */
    public static final int STATX_BASIC = 0x1 | 0x2 | 0x100 | 0x200;
    /** {@code MAP_FAILED}. */
    public static final Pointer MAP_FAILED = new Pointer(-1);

    /**
     * {@code int open(const char *pathname, int flags, mode_t mode)}.
     *
     * @param path the path
     * @param flags {@code O_*}
     * @param mode the mode for a new file
     * @return the fd
     * @throws LastErrorException with errno
     */
    public static native int open(String path, int flags, int mode) throws LastErrorException;

    /**
     * {@code int close(int fd)}.
     *
     * @param fd the fd
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int close(int fd) throws LastErrorException;

    /**
     * {@code int fcntl(int fd, int cmd, int arg)}.
     *
     * @param fd the fd
     * @param cmd {@code F_*}
     * @param arg the argument
     * @return what the command returns
     * @throws LastErrorException with errno
     */
    public static native int fcntl(int fd, int cmd, int arg) throws LastErrorException;

    /**
     * {@code int ioctl(int fd, unsigned long request, void *arg)}.
     *
     * @param fd the fd
     * @param request the request, from {@link Ioc}
     * @param arg the argument struct
     * @return what the driver returns
     * @throws LastErrorException with errno
     */
    public static native int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;

    /**
     * {@code int ioctl(int fd, unsigned long request, void *arg)} with an argument of one or more {@code __u64}:
     * the array is copied in and back out.
     *
     * @param fd the fd
     * @param request the request, from {@link Ioc}
     * @param arg the argument words
     * @return what the driver returns
     * @throws LastErrorException with errno
     */
    public static native int ioctl(int fd, NativeLong request, long[] arg) throws LastErrorException;

    /**
     * {@code int ioctl(int fd, unsigned long request, void *arg)} with an argument of one or more C {@code int}s
     * ({@code VIDIOC_STREAMON} takes an {@code int *}): the array is copied in and back out.
     *
     * @param fd the fd
     * @param request the request, from {@link Ioc}
     * @param arg the argument ints
     * @return what the driver returns
     * @throws LastErrorException with errno
     */
    public static native int ioctl(int fd, NativeLong request, int[] arg) throws LastErrorException;

    /**
     * {@code int ioctl(int fd, unsigned long request, void *arg)} with a byte buffer argument.
     *
     * @param fd the fd
     * @param request the request, from {@link Ioc}
     * @param arg the argument bytes
     * @return what the driver returns
     * @throws LastErrorException with errno
     */
    public static native int ioctl(int fd, NativeLong request, byte[] arg) throws LastErrorException;

    /**
     * {@code void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset)}.
     *
     * @param addr a hint, usually null
     * @param length bytes
     * @param prot {@code PROT_*}
     * @param flags {@code MAP_*}
     * @param fd the fd
     * @param offset the offset in the file
     * @return the address
     * @throws LastErrorException with errno
     */
    public static native Pointer mmap64(Pointer addr, SizeT length, int prot, int flags, int fd, long offset)
            throws LastErrorException;

    /**
     * {@code int munmap(void *addr, size_t length)}.
     *
     * @param addr the address
     * @param length bytes
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int munmap(Pointer addr, SizeT length) throws LastErrorException;

    /**
     * {@code int memfd_create(const char *name, unsigned int flags)}.
     *
     * @param name the name, shown in /proc
     * @param flags {@code MFD_*}
     * @return the fd
     * @throws LastErrorException with errno
     */
    public static native int memfd_create(String name, int flags) throws LastErrorException;

    /**
     * {@code int memfd_create(const char *name, unsigned int flags)} with the name as NUL-terminated bytes: JNA
     * copies a byte array without the charset lookup a {@code String} argument costs on every call.
     *
     * @param name the name in UTF-8, ending with a NUL byte
     * @param flags {@code MFD_*}
     * @return the fd
     * @throws LastErrorException with errno
     */
    public static native int memfd_create(byte[] name, int flags) throws LastErrorException;

    /**
     * {@code int ftruncate64(int fd, off64_t length)}.
     *
     * @param fd the fd
     * @param length the new size
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int ftruncate64(int fd, long length) throws LastErrorException;

    /**
     * {@code int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)}.
     *
     * @param dirfd the fd, with an empty path and {@link #AT_EMPTY_PATH}
     * @param path the path
     * @param flags {@code AT_*}
     * @param mask {@code STATX_*}
     * @param buf a {@link Statx}-sized buffer
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int statx(int dirfd, String path, int flags, int mask, Pointer buf)
            throws LastErrorException;

    /**
     * {@code int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)} with the
     * path as native memory: {@link Sys#fstat} passes one shared empty string instead of converting {@code ""}
     * from Java on every call.
     *
     * @param dirfd the fd, with an empty path and {@link #AT_EMPTY_PATH}
     * @param path a NUL-terminated path in native memory
     * @param flags {@code AT_*}
     * @param mask {@code STATX_*}
     * @param buf a {@link Statx}-sized buffer
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int statx(int dirfd, Pointer path, int flags, int mask, Pointer buf)
            throws LastErrorException;

    /**
     * {@code off64_t lseek64(int fd, off64_t offset, int whence)}.
     *
     * @param fd the fd
     * @param offset the offset
     * @param whence {@link #SEEK_SET} or {@link #SEEK_END}
     * @return the resulting offset; for a dma-buf and {@code SEEK_END}, its size ({@code dma_buf_llseek})
     * @throws LastErrorException with errno
     */
    public static native long lseek64(int fd, long offset, int whence) throws LastErrorException;

    /** {@code SEEK_SET}. */
    public static final int SEEK_SET = 0;
    /** {@code SEEK_END}. */
    public static final int SEEK_END = 2;

    /**
     * {@code char *strerror(int errnum)}.
     *
     * @param errnum the errno
     * @return the description
     */
    public static native String strerror(int errnum);
}
