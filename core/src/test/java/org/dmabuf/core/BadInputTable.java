package org.dmabuf.core;

import static org.dmabuf.core.BadInputCase.ACCEPTED;
import static org.dmabuf.core.BadInputCase.NO_ERRNO;
import static org.dmabuf.core.BadInputCase.STATUS_2;
import static org.dmabuf.core.BadInputCase.of;
import static org.dmabuf.core.BadInputCase.ref;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The bad-input table: every row of every module, as data. {@code BadInputTableTest} writes it as Markdown and
 * compares it with {@code docs/bad-input.md}; each module's {@code BadInput*Test} runs the rows of its module
 * ({@link #rows(String)}) and checks it has a body for each and no other. Published in the core's test jar for the
 * exporters' and the gateway's tests. Stateless; any thread.
 */
public final class BadInputTable {
    private static final String H = "host";
    private static final String G = "guest";
    private static final String CORE = "core";
    private static final String HEAP = "exporter-heap";
    private static final String DRM = "exporter-drm";
    private static final String V4L2 = "exporter-v4l2";
    private static final String GATEWAY = "gateway";

    private static final String LINUX = "LinuxException";
    private static final String EINVAL = "EINVAL";
    private static final String EBADF = "EBADF";
    private static final String EPROTO = "EPROTO";
    private static final String PROTO = "ChannelProtocolException";
    private static final String RELEASED = "BufferReleasedException";
    private static final String ARG = "InvalidArgumentException";
    private static final String NEITHER = "is neither a dma-buf nor a memfd";
    private static final String SPI = "SPI";
    private static final String FD = "fd import";
    private static final String IOCTL = "ioctl";
    private static final String WIRE = "wire";
    private static final String CONFIG = "config";
    private static final String JAVA = "plain Java";
    private static final String NODE = "device node";
    private static final String TOOL = "tools";
    private static final String DRM_PID = "org.dmabuf.exporter.drm";
    private static final String V4L2_PID = "org.dmabuf.exporter.v4l2";
    private static final String HEAP_PID = "org.dmabuf.exporter.heap";
    private static final String REQUIRED = "(it has no default) and is absent";
    private static final String HEAP_NAME = ": it must be a heap's name as the kernel gives it";
    private static final String NODE_ACCESS =
            "NodeAccessKernelTest#aUserRefusedANodeIsToldTheNodesOwnerGroupModeItsOwnIdsAndWhatToDoAndTheGroupOpensIt";
    private static final String DUMP_USAGE = "usage: dump [--json] [--pid PID]";

    /** Every row, in the table's order. */
    public static final List<BadInputCase> ROWS = List.of(
            // ---- the API ----
            of("api-01", CORE, H, "API", "`BufferRequest.ofSize(0)`", ARG, "BufferRequest.ofSize", EINVAL,
                    "size 0 must be greater than 0"),
            of("api-02", CORE, H, "API", "`BufferRequest.ofSize(-1)`", ARG, "BufferRequest.ofSize", EINVAL,
                    "size -1"),
            of("api-03", CORE, H, "API", "`BufferRequest.ofSize(Long.MIN_VALUE)`", ARG, "BufferRequest.ofSize",
                    EINVAL, "size -9223372036854775808"),
            of("api-04", CORE, H, "API", "allocate 2^31 - 1 bytes (exporters' maximum 64 MiB)",
                    "NoExporterException", "allocate", "ENODEV",
                    "system: size 2147483647 exceeds the exporter's maximum of 67108864"),
            of("api-05", CORE, H, "API", "allocate 2^31 + 1 bytes", "NoExporterException", "allocate", "ENODEV",
                    "size 2147483649 exceeds"),
            of("api-06", CORE, H, "API", "allocate `Long.MAX_VALUE` bytes", "NoExporterException", "allocate",
                    "ENODEV", "size 9223372036854775807 exceeds"),
            of("api-07", CORE, H, "API", "allocate 1 byte (memfd test exporter)", ACCEPTED, "allocate", NO_ERRNO),
            of("api-08", CORE, H, "API", "name of 32 ASCII bytes", ARG, "BufferRequest.name", EINVAL,
                    "longer than 31 bytes of UTF-8 (DMA_BUF_NAME_LEN)"),
            of("api-09", CORE, H, "API", "name of 11 characters, 33 bytes of UTF-8 (`€` × 11)", ARG,
                    "BufferRequest.name", EINVAL, "name of 11 characters is longer than 31 bytes"),
            of("api-10", CORE, H, "API", "name with NUL (`a\\0b`)", ARG, "BufferRequest.name", EINVAL,
                    "control character U+0000 at index 1"),
            of("api-11", CORE, H, "API", "name with a newline (`a\\nexp_name:x`)", ARG, "BufferRequest.name",
                    EINVAL, "control character U+000A"),
            of("api-12", CORE, H, "API", "name with DEL (U+007F)", ARG, "BufferRequest.name", EINVAL,
                    "control character U+007F"),
            of("api-13", CORE, H, "API", "name with an unpaired surrogate", ARG, "BufferRequest.name", EINVAL,
                    "unpaired surrogate at index 1"),
            of("api-14", CORE, H, "API", "`setName` of 32 bytes on a live buffer", ARG, "setName", EINVAL,
                    "DMA_BUF_NAME_LEN"),
            of("api-15", CORE, H, "API", "`BufferRequest.ofFormat(NV12, 0, 480)`", ARG, "BufferFormat.layout", EINVAL,
                    "width and height must be positive: 0x480"),
            of("api-16", CORE, H, "API", "`allocate(ofFormat(NV12M, 64, 64))`: planes in 2 buffers", ARG,
                    "allocate", EINVAL, "spreads its planes over 2 buffers: allocate it with allocateFrame"),
            of("api-17", CORE, H, "API", "`DeviceConstraints.strideAlignment(3)`", ARG,
                    "DeviceConstraints.strideAlignment", EINVAL, "stride alignment 3 is not a positive power of two"),
            of("api-18", CORE, H, "API", "`fd()` on a put handle", RELEASED, "fd", EBADF, "already put"),
            of("api-19", CORE, H, "API", "`mmap()` on a put handle", RELEASED, "mmap", EBADF, "already put"),
            of("api-20", CORE, H, "API", "`attach(device)` on a put handle", RELEASED, "attach", EBADF,
                    "already put"),
            of("api-21", CORE, H, "API", "`beginCpuAccess(READ)` on a put handle", RELEASED, "beginCpuAccess", EBADF,
                    "already put"),
            of("api-22", CORE, H, "API", "`get()` on a put handle", RELEASED, "get", EBADF, "already put"),
            of("api-23", CORE, H, "API", "`put()` twice", RELEASED, "put", EBADF, "double put"),
            of("api-24", CORE, H, "API", "`map` with another buffer's attachment", "BufferStateException", "map",
                    EINVAL, "belongs to"),
            of("api-25", CORE, H, "API", "`detach` while mapped", "BufferStateException", "detach", "EBUSY",
                    "unmap before detach"),
            of("api-26", CORE, H, "API", "`getByte` in a WRITE access", "DmaBufException", "getByte", "EPERM",
                    "not for reading"),
            of("api-27", CORE, H, "API", "`putByte` in a READ access", "DmaBufException", "putByte", "EPERM",
                    "not for writing"),
            of("api-28", CORE, H, "API", "`putLong(size - 4)` in a 4096-byte access", "IndexOutOfBoundsException",
                    "putLong", NO_ERRNO, "[4092, 4092 + 8)"),
            of("api-29", CORE, H, "API", "`getByte(-1)`", "IndexOutOfBoundsException", "getByte", NO_ERRNO,
                    "[-1, -1 + 1)"),
            of("api-30", CORE, H, "API", "`read(0, byte[4097], 0, 4097)` of 4096 bytes",
                    "IndexOutOfBoundsException", "read", NO_ERRNO, "4097"),
            of("api-31", CORE, H, "API", "`byteBuffer(4000, 200)` of 4096 bytes", "IndexOutOfBoundsException",
                    "byteBuffer", NO_ERRNO, "[4000, 4000 + 200)"),
            of("api-32", CORE, H, "API", "`getByte` after the access ended", RELEASED, "getByte", EBADF,
                    "has ended"),
            of("api-33", CORE, H, "API", "`byteBuffer()` after the access ended", RELEASED, "byteBuffer", EBADF,
                    "has ended"),
            of("api-34", CORE, H, "API", "`mmap()` view read after the buffer's release", RELEASED, "getByte",
                    EBADF, "no longer mapped"),
            of("api-35", CORE, H, "API", "`beginCpuAccess(null)`", ARG, "beginCpuAccess", EINVAL,
                    "direction is null"),
            of("api-36", CORE, H, "API", "`map(attachment, null)`", ARG, "map", EINVAL, "direction is null"),
            of("api-37", CORE, H, "API", "`attach(null)`", ARG, "attach", EINVAL, "device is null"),
            of("api-38", CORE, H, "API", "`awaitIdle(READ, null)`", ARG, "awaitIdle", EINVAL, "timeout is null"),
            // ---- the SPI: an exporter that breaks its contract ----
            of("spi-01", CORE, H, SPI, "`allocate` returns null", "NoExporterException", "allocate", "EINVAL",
                    "bad: allocate: EINVAL: exporter 'bad' returned no buffer"),
            of("spi-02", CORE, H, SPI, "`allocate` throws an untyped `IllegalStateException`",
                    "NoExporterException", "allocate", "EIO",
                    "bad: allocate: EIO: exporter 'bad' failed: java.lang.IllegalStateException: driver bug"),
            of("spi-03", CORE, H, SPI, "storage of 4096 bytes for 8192 asked", "DmaBufException", "allocate",
                    EINVAL, "exporter 'bad' returned 4096 bytes (as the kernel reports fd"),
            of("spi-04", CORE, H, SPI, "`size()` claims 8192 where the kernel reports 4096", "DmaBufException",
                    "allocate", EINVAL, "exporter 'bad' claims 8192 bytes", "where the kernel reports 4096 for fd"),
            of("spi-05", CORE, H, SPI, "an fd that is a pipe, no dma-buf", LINUX, "lseek(SEEK_END)", "ESPIPE"),
            of("spi-06", CORE, H, SPI, "`fd()` is -1", LINUX, "statx", EBADF, "fd -1"),
            of("spi-07", CORE, H, SPI, "a format needing 16384 bytes in 4096", "DmaBufException", "allocate",
                    EINVAL, "which needs 16384 bytes where the kernel reports 4096"),
            of("spi-08", CORE, H, SPI, "a format whose planes are in 2 buffers", "DmaBufException", "allocate",
                    EINVAL, "a buffer's own layout keeps every plane in it"),
            of("spi-09", CORE, H, SPI, "`adopt` returns another file's storage", "DmaBufException", "get", EINVAL,
                    "but its adopted storage is"),
            of("spi-10", CORE, H, SPI, "`adopt` throws an untyped `IllegalStateException`", "DmaBufException",
                    "get", EINVAL, "could not be adopted: java.lang.IllegalStateException"),
            // ---- an exporter's service properties (its configuration, as the registry reads it) ----
            of("cfg-01", CORE, H, CONFIG, "exporter property `dmabuf.exporter.max.size = -1`", ARG, "bindExporter",
                    EINVAL, "exporter 'bad': service property dmabuf.exporter.max.size -1 must be greater than 0"),
            of("cfg-02", CORE, H, CONFIG, "`dmabuf.exporter.max.size = \"64M\"`", ARG, "bindExporter", EINVAL,
                    "dmabuf.exporter.max.size '64M' is not a number"),
            of("cfg-03", CORE, H, CONFIG, "`dmabuf.exporter.alignment = 3`", ARG, "bindExporter", EINVAL,
                    "dmabuf.exporter.alignment 3 is not a power of two"),
            of("cfg-04", CORE, H, CONFIG, "`dmabuf.exporter.segment.size = 0`", ARG, "bindExporter", EINVAL,
                    "dmabuf.exporter.segment.size 0 must be greater than 0"),
            of("cfg-05", CORE, H, CONFIG, "`dmabuf.exporter.kind = \"dmabuf\"`", ARG, "bindExporter", EINVAL,
                    "dmabuf.exporter.kind 'dmabuf' is neither dma-buf nor memfd"),
            ref("cfg-06", CORE, H, CONFIG, "exporter without `dmabuf.exporter.name`", "IllegalArgumentException",
                    "bindExporter", NO_ERRNO,
                    "ExporterBindingTest#exporterWithoutANameIsRefusedAtBind"),
            // ---- fd import: registry.get(fd) of every kind of fd ----
            of("fd-01", CORE, H, FD, "fd -1", LINUX, "get", EBADF, "fd -1"),
            of("fd-02", CORE, H, FD, "a number never open (RLIMIT_NOFILE)", LINUX, "statx", EBADF),
            of("fd-03", CORE, H, FD, "a closed number", LINUX, "statx", EBADF),
            of("fd-04", CORE, H, FD, "a buffer's number closed and reused by a pipe", LINUX, "get", EINVAL,
                    "(pipe:[", NEITHER),
            of("fd-05", CORE, H, FD, "a buffer's number closed and reused by another memfd", ACCEPTED, "get",
                    NO_ERRNO),
            of("fd-06", CORE, H, FD, "`O_PATH` of a regular file", LINUX, "get", EINVAL, NEITHER),
            of("fd-07", CORE, H, FD, "`O_PATH` of a memfd", LINUX, "fcntl(F_GET_SEALS)", EBADF),
            of("fd-08", CORE, H, FD, "eventfd", LINUX, "get", EINVAL, "(anon_inode:[eventfd])", NEITHER),
            of("fd-09", CORE, H, FD, "pipe, read end", LINUX, "get", EINVAL, "(pipe:[", NEITHER),
            of("fd-10", CORE, H, FD, "pipe, write end", LINUX, "get", EINVAL, "(pipe:[", NEITHER),
            of("fd-11", CORE, H, FD, "TCP socket", LINUX, "get", EINVAL, "(socket:[", NEITHER),
            of("fd-12", CORE, H, FD, "socketpair (`AF_UNIX`, `SOCK_SEQPACKET`)", LINUX, "get", EINVAL, "(socket:[",
                    NEITHER),
            of("fd-13", CORE, H, FD, "directory", LINUX, "get", EINVAL, NEITHER),
            of("fd-14", CORE, H, FD, "`/dev/null`", LINUX, "get", EINVAL, "(/dev/null)", NEITHER),
            of("fd-15", CORE, H, FD, "`/dev/zero`", LINUX, "get", EINVAL, "(/dev/zero)", NEITHER),
            of("fd-16", CORE, H, FD, "regular file", LINUX, "get", EINVAL, NEITHER),
            ref("fd-17", CORE, H, FD, "file on `/dev/shm` (tmpfs, not the memfds' mount)", LINUX, "get", EINVAL,
                    "GetFdTest#aFileOnAnotherTmpfsIsNoMemfdAndIsRefusedNamingItsPath"),
            of("fd-18", CORE, H, FD, "timerfd", LINUX, "get", EINVAL, "(anon_inode:[timerfd])", NEITHER),
            of("fd-19", CORE, H, FD, "signalfd", LINUX, "get", EINVAL, "(anon_inode:[signalfd])", NEITHER),
            of("fd-20", CORE, H, FD, "epoll fd", LINUX, "get", EINVAL, "(anon_inode:[eventpoll])", NEITHER),
            of("fd-21", CORE, H, FD, "unsealed memfd (`MFD_ALLOW_SEALING`): sealed on adoption", ACCEPTED, "get",
                    NO_ERRNO),
            of("fd-22", CORE, H, FD, "memfd without `MFD_ALLOW_SEALING` (can never be sealed)", LINUX, "adopt",
                    "EPERM", "can no longer be (F_SEAL_SEAL)"),
            of("fd-23", CORE, H, FD, "memfd sealed `F_SEAL_WRITE`: `mmap` for writing", LINUX, "mmap", "EPERM"),
            of("fd-24", CORE, H, FD, "memfd sealed `F_SEAL_FUTURE_WRITE`: `mmap` for writing", LINUX, "mmap",
                    "EPERM"),
            of("fd-25", CORE, H, FD, "sealed memfd reopened `O_RDONLY`: `mmap` for writing", LINUX, "mmap",
                    "EACCES"),
            of("fd-26", CORE, H, FD, "unsealed memfd reopened `O_RDONLY` (cannot be sealed)", LINUX,
                    "fcntl(F_ADD_SEALS)", "EPERM"),
            of("fd-27", CORE, H, FD, "memfd of 0 bytes", LINUX, "get", EINVAL, "memfd of 0 bytes"),
            // ---- the kernel guest: the system heap and udmabuf ----
            of("heap-01", HEAP, G, "API", "allocate 1 byte on the system heap", ACCEPTED, "allocate", NO_ERRNO),
            of("heap-02", HEAP, G, "API", "allocate 4095 bytes (page - 1)", ACCEPTED, "allocate", NO_ERRNO),
            of("heap-03", HEAP, G, "API", "allocate 4097 bytes (page + 1)", ACCEPTED, "allocate", NO_ERRNO),
            of("heap-04", HEAP, G, IOCTL, "`DMA_HEAP_IOCTL_ALLOC` of 0 bytes", LINUX, "ioctl(DMA_HEAP_IOCTL_ALLOC)",
                    EINVAL, "/dev/dma_heap/system"),
            of("heap-05", HEAP, G, IOCTL, "`DMA_HEAP_IOCTL_ALLOC`, `fd_flags` ~0", LINUX,
                    "ioctl(DMA_HEAP_IOCTL_ALLOC)", EINVAL, "/dev/dma_heap/system"),
            of("heap-06", HEAP, G, IOCTL, "`DMA_HEAP_IOCTL_ALLOC`, `heap_flags` ~0", LINUX,
                    "ioctl(DMA_HEAP_IOCTL_ALLOC)", EINVAL, "/dev/dma_heap/system"),
            of("heap-07", HEAP, G, "API", "allocate `Long.MAX_VALUE` bytes on the system heap (the kernel would "
                    + "take every page: the OOM killer)", "NoExporterException", "allocate", "ENODEV",
                    "system: size 9223372036854775807 exceeds the exporter's maximum of"),
            of("heap-26", HEAP, G, "API", "allocate `MemTotal` + 1 bytes on the system heap", "NoExporterException",
                    "allocate", "ENODEV", "exceeds the exporter's maximum of"),
            of("heap-08", HEAP, G, FD, "read-only dma-buf (`fd_flags` `O_RDONLY`): `mmap` for writing", LINUX, "mmap",
                    "EACCES", "dma-buf adopted from fd"),
            of("heap-09", HEAP, G, IOCTL, "`DMA_HEAP_IOCTL_ALLOC` on a dma-buf (wrong ioctl)", LINUX,
                    "ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOTTY"),
            of("heap-10", HEAP, G, IOCTL, "`DMA_BUF_IOCTL_SYNC` with flags 0xff", LINUX,
                    "ioctl(DMA_BUF_IOCTL_SYNC)", EINVAL),
            of("heap-11", HEAP, G, IOCTL, "`DMA_BUF_IOCTL_SYNC` START without a direction (flags 0)", LINUX,
                    "ioctl(DMA_BUF_IOCTL_SYNC)", EINVAL),
            of("heap-12", HEAP, G, FD, "the heap node `/dev/dma_heap/system`", LINUX, "get", EINVAL,
                    "(/dev/dma_heap/system)", NEITHER),
            of("heap-13", HEAP, G, FD, "the `/dev/udmabuf` node", LINUX, "get", EINVAL, "(/dev/udmabuf)", NEITHER),
            of("heap-14", HEAP, G, FD, "a sync_file (a heap buffer's fence)", LINUX, "get", EINVAL,
                    "(anon_inode:sync_file)", NEITHER),
            of("heap-15", HEAP, G, IOCTL, "`UDMABUF_CREATE` of a memfd not sealed against shrinking", LINUX,
                    "ioctl(UDMABUF_CREATE)", EINVAL, "/dev/udmabuf"),
            of("heap-16", HEAP, G, IOCTL, "`UDMABUF_CREATE` of 4097 bytes (not page-aligned)", LINUX,
                    "ioctl(UDMABUF_CREATE)", EINVAL, "/dev/udmabuf"),
            of("heap-17", HEAP, G, IOCTL, "`UDMABUF_CREATE` at offset 100", LINUX, "ioctl(UDMABUF_CREATE)", EINVAL,
                    "/dev/udmabuf"),
            of("heap-18", HEAP, G, IOCTL, "`UDMABUF_CREATE` of 0 bytes", LINUX, "ioctl(UDMABUF_CREATE)", EINVAL,
                    "/dev/udmabuf"),
            of("heap-19", HEAP, G, IOCTL, "`UDMABUF_CREATE` with flags ~0: the 6.12 kernel takes them (the project "
                    + "passes `UDMABUF_FLAGS_CLOEXEC` only)", ACCEPTED, "ioctl(UDMABUF_CREATE)", NO_ERRNO),
            of("heap-20", HEAP, G, IOCTL, "`UDMABUF_CREATE` of 8192 bytes of a 4096-byte memfd", LINUX,
                    "ioctl(UDMABUF_CREATE)", EINVAL, "/dev/udmabuf"),
            of("heap-21", HEAP, G, IOCTL, "`UDMABUF_CREATE` of a file that is no memfd", LINUX,
                    "ioctl(UDMABUF_CREATE)", "EBADFD", "/dev/udmabuf"),
            of("heap-22", HEAP, H, CONFIG, "a dma-heap node that is `/dev/null`: allocate", "NoExporterException",
                    "allocate", "ENOTTY", "ioctl(DMA_HEAP_IOCTL_ALLOC): ENOTTY: /dev/null"),
            of("heap-23", HEAP, H, CONFIG, "`udmabuf.path = /dev/null`: allocate", "NoExporterException", "allocate",
                    "ENOTTY", "ioctl(UDMABUF_CREATE): ENOTTY: /dev/null"),
            of("heap-24", HEAP, H, CONFIG, "`udmabuf.path` absent", LINUX, "open", "ENOENT", "/nonexistent/udmabuf"),
            of("heap-25", HEAP, H, CONFIG, "`dmaheap.dir` with no such heap", LINUX, "open", "ENOENT",
                    "/nonexistent/dma_heap/system"),
            // ---- the kernel guest: DRM (vgem) ----
            of("drm-01", DRM, G, IOCTL, "`DRM_IOCTL_MODE_CREATE_DUMB` 0x0, 32 bpp", LINUX,
                    "ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", EINVAL, "/dev/dri/card0, 0x0x32"),
            of("drm-02", DRM, G, IOCTL, "`DRM_IOCTL_MODE_CREATE_DUMB` 2^20 x 2^20, 32 bpp", LINUX,
                    "ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", EINVAL, "/dev/dri/card0, 1048576x1048576x32"),
            of("drm-03", DRM, G, IOCTL, "`DRM_IOCTL_MODE_CREATE_DUMB` 64x64, 0 bpp", LINUX,
                    "ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", EINVAL, "/dev/dri/card0, 64x64x0"),
            of("drm-04", DRM, G, IOCTL, "`DRM_IOCTL_PRIME_FD_TO_HANDLE` of a memfd", LINUX,
                    "ioctl(DRM_IOCTL_PRIME_FD_TO_HANDLE)", EINVAL, "/dev/dri/card0, dma-buf fd"),
            of("drm-05", DRM, G, IOCTL, "`DRM_IOCTL_PRIME_FD_TO_HANDLE` of fd -1", LINUX,
                    "ioctl(DRM_IOCTL_PRIME_FD_TO_HANDLE)", EBADF, "/dev/dri/card0, dma-buf fd -1"),
            of("drm-06", DRM, G, IOCTL, "`DRM_IOCTL_MODE_MAP_DUMB` of a handle never made", LINUX,
                    "ioctl(DRM_IOCTL_MODE_MAP_DUMB)", "ENOENT", "/dev/dri/card0, handle 999999"),
            of("drm-07", DRM, G, IOCTL, "`DRM_IOCTL_VERSION` on a dma-buf (wrong ioctl)", LINUX,
                    "ioctl(DRM_IOCTL_VERSION)", "ENOTTY"),
            of("drm-08", DRM, G, FD, "a DRM primary node fd (`/dev/dri/card0`)", LINUX, "get", EINVAL,
                    "(/dev/dri/card0)", NEITHER),
            of("drm-09", DRM, G, FD, "a DRM render node fd (`/dev/dri/renderD128`)", LINUX, "get", EINVAL,
                    "(/dev/dri/renderD128)", NEITHER),
            of("drm-20", DRM, H, CONFIG, "DRM `dev.path` absent (`/dev/dri/card9`)", LINUX, "open", "ENOENT",
                    "/dev/dri/card9"),
            of("drm-21", DRM, H, CONFIG, "DRM `dev.path = /dev/null` (no DRM node)", LINUX,
                    "ioctl(DRM_IOCTL_VERSION)", "ENOTTY", "/dev/null"),
            of("drm-22", DRM, H, CONFIG, "DRM `dev.path` empty", LINUX, "open", "ENOENT"),
            of("drm-23", DRM, H, CONFIG, "DRM `dev.path` a directory (`/`)", LINUX, "open", "EISDIR", ": /:"),
            // ---- the kernel guest: V4L2 (vivid) ----
            of("v4l2-01", V4L2, G, CONFIG, "`pixel.format = ZZZZ` (not in the table)", ARG,
                    "V4l2Device.setFormat", EINVAL, "/dev/video0 (vivid): ZZZZ is not a pixel format of the table",
                    "the node captures YUYV"),
            of("v4l2-05", V4L2, G, CONFIG, "`pixel.format = NM12` on a single-planar node", LINUX,
                    "ioctl(VIDIOC_S_FMT)", EINVAL, "/dev/video0 (vivid) does not capture NM12; it offered"),
            of("v4l2-02", V4L2, G, IOCTL, "`VIDIOC_EXPBUF` of buffer 99 (4 requested)", LINUX,
                    "ioctl(VIDIOC_EXPBUF)", EINVAL, "/dev/video0, buffer 99 plane 0"),
            of("v4l2-03", V4L2, G, IOCTL, "`VIDIOC_QBUF` (`V4L2_MEMORY_DMABUF`) of a memfd", LINUX,
                    "ioctl(VIDIOC_QBUF)", EINVAL, "/dev/video0"),
            of("v4l2-04", V4L2, G, FD, "a V4L2 node fd (`/dev/video0`)", LINUX, "get", EINVAL, "(/dev/video0)",
                    NEITHER),
            of("v4l2-20", V4L2, H, CONFIG, "V4L2 `dev.path = /dev/null` (no V4L2 node)", LINUX,
                    "ioctl(VIDIOC_QUERYCAP)", "ENOTTY", "/dev/null"),
            of("v4l2-21", V4L2, H, CONFIG, "V4L2 `dev.path` absent (`/dev/video9`)", LINUX, "open", "ENOENT",
                    "/dev/video9"),
            of("v4l2-22", V4L2, H, CONFIG, "V4L2 `width = -1`", ARG, "activate", EINVAL,
                    "width -1 and height 480 must be at least 1"),
            of("v4l2-23", V4L2, H, CONFIG, "V4L2 `height = 0`", ARG, "activate", EINVAL,
                    "width 640 and height 0 must be at least 1"),
            of("v4l2-24", V4L2, H, CONFIG, "V4L2 `buffer.count = 0`", ARG, "activate", EINVAL,
                    "buffer.count 0 must be at least 1"),
            of("v4l2-25", V4L2, H, CONFIG, "V4L2 `pixel.format = YUYVX`", ARG, "activate", EINVAL,
                    "pixel.format 'YUYVX' is not a four-character V4L2 fourcc"),
            // ---- ioctls on the host's fds ----
            of("io-01", CORE, H, IOCTL, "`DMA_BUF_IOCTL_SYNC` on a memfd", LINUX, "ioctl(DMA_BUF_IOCTL_SYNC)",
                    "ENOTTY"),
            of("io-02", CORE, H, IOCTL, "`exportFence` of a memfd buffer (no fences)", "FenceUnsupportedException",
                    "ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE)", "ENOTTY", "no fences"),
            of("io-03", CORE, H, IOCTL, "`SyncFile.dup` of a pipe (no sync_file)", LINUX, "ioctl(SYNC_IOC_FILE_INFO)",
                    "ENOTTY", "is not a sync_file"),
            // ---- wire messages, from a hostile peer over a real socket ----
            of("w-01", CORE, H, WIRE, "0-byte message", PROTO, "receive", EPROTO, "0 bytes"),
            of("w-02", CORE, H, WIRE, "10 bytes", PROTO, "receive", EPROTO,
                    "frame of 10 bytes is shorter than the 16 bytes every message starts with"),
            of("w-03", CORE, H, WIRE, "bad magic", PROTO, "receive", EPROTO, "bad magic 0x00000000"),
            of("w-04", CORE, H, WIRE, "version 3", PROTO, "receive", EPROTO, "unsupported version 3"),
            of("w-05", CORE, H, WIRE, "version 0", PROTO, "receive", EPROTO, "unsupported version 0"),
            of("w-06", CORE, H, WIRE, "v2, message type 7", PROTO, "receive", EPROTO,
                    "unknown message type 7 in version 2"),
            of("w-07", CORE, H, WIRE, "v2, length field 1 more than sent", PROTO, "receive", EPROTO,
                    "frame length field says"),
            of("w-08", CORE, H, WIRE, "v2 truncated: last byte missing", PROTO, "receive", EPROTO,
                    "frame length field says"),
            of("w-09", CORE, H, WIRE, "v1, 40 bytes (header of 52)", PROTO, "receive", EPROTO,
                    "shorter than the 52-byte header of version 1"),
            of("w-10", CORE, H, WIRE, "v2, 60 bytes (header of 64)", PROTO, "receive", EPROTO,
                    "shorter than the 64-byte header of version 2"),
            of("w-11", CORE, H, WIRE, "v1 with flag RELEASE_WANTED (v2 only)", PROTO, "receive", EPROTO,
                    "reserved flags 0x1 are not zero"),
            of("w-12", CORE, H, WIRE, "v2 with reserved flag 0x2", PROTO, "receive", EPROTO,
                    "reserved flags 0x2 are not zero"),
            of("w-13", CORE, H, WIRE, "v2, 0 buffers", PROTO, "receive", EPROTO, "buffer count 0 is not 1 to 4"),
            of("w-14", CORE, H, WIRE, "v2, 5 buffers", PROTO, "receive", EPROTO, "buffer count 5 is not 1 to 4"),
            of("w-15", CORE, H, WIRE, "v2, 2 fences", PROTO, "receive", EPROTO,
                    "announces 2 fence fds; a frame carries at most 1"),
            of("w-16", CORE, H, WIRE, "v2, plane in buffer 1 of a 1-buffer frame", PROTO, "receive", EPROTO,
                    "plane 1 names buffer 1, but the frame carries 1 buffers"),
            of("w-17", CORE, H, WIRE, "v2, plane beyond its buffer", PROTO, "receive", EPROTO,
                    "beyond the 4096 bytes of buffer 0"),
            of("w-18", CORE, H, WIRE, "v2, size 4096 for a buffer of 8192", PROTO, "receive", EPROTO,
                    "the frame says 4096 bytes but the fd's buffer has 8192"),
            of("w-19", CORE, H, WIRE, "v2, buffer size 0", PROTO, "receive", EPROTO,
                    "buffer 0: size 0 is not positive"),
            of("w-20", CORE, H, WIRE, "v2, name with byte 0xff (no UTF-8)", PROTO, "receive", EPROTO,
                    "the name is not valid UTF-8"),
            of("w-21", CORE, H, WIRE, "v2, name with NUL", PROTO, "receive", EPROTO,
                    "the name holds the control character U+0000"),
            of("w-22", CORE, H, WIRE, "v1, name with a newline", PROTO, "receive", EPROTO,
                    "the name holds the control character U+000A"),
            of("w-23", CORE, H, WIRE, "v2, 1 buffer, no fd", PROTO, "receive", EPROTO,
                    "carries exactly one fd, this one 0"),
            of("w-24", CORE, H, WIRE, "v2, 1 buffer, 2 fds", PROTO, "receive", EPROTO,
                    "carries exactly one fd, this one 2"),
            of("w-25", CORE, H, WIRE, "v2, the fd is a pipe", LINUX, "get", EINVAL, "(pipe:[", NEITHER),
            of("w-26", CORE, H, WIRE, "600 bytes (limit 512)", PROTO, "receive", "EMSGSIZE"),
            of("w-27", CORE, H, WIRE, "v2, fourcc NV12 without planes", PROTO, "receive", EPROTO,
                    "format NV12 without planes"),
            of("w-28", CORE, H, WIRE, "v2, NV12 0x64", PROTO, "receive", EPROTO, "is not a size in pixels"),
            of("w-29", CORE, H, WIRE, "v1, NV12 64x128 stride 64 in 8192 bytes", PROTO, "receive", EPROTO,
                    "plane 1 (offset 8192, length 4096) ends at 12288, beyond the 8192 bytes of buffer 0"),
            of("w-30", CORE, H, WIRE, "RELEASE of 20 bytes", PROTO, "receive", EPROTO,
                    "a RELEASE is 24 bytes", "RELEASE refused"),
            of("w-31", CORE, H, WIRE, "RELEASE with an fd", PROTO, "receive", EPROTO,
                    "a RELEASE carries no fds, this one 1"),
            of("w-32", CORE, H, WIRE, "RELEASE with flags 0x1", PROTO, "receive", EPROTO,
                    "a RELEASE's flags 0x1 are not zero"),
            of("w-33", CORE, H, WIRE, "RELEASE of a frame never sent", PROTO, "receive", EPROTO,
                    "which is not out on this channel"),
            // ---- plain Java: DmaBufs and its configurations (maps, a .cfg folder) ----
            of("java-01", DRM, H, JAVA, "`" + DRM_PID + "~gpu` without `dev.path`", ARG, "activate", EINVAL,
                    DRM_PID + "~gpu: property dev.path is required " + REQUIRED),
            of("java-02", V4L2, H, JAVA, "`" + V4L2_PID + "~camera` without `dev.path`", ARG, "activate", EINVAL,
                    V4L2_PID + "~camera: property dev.path is required " + REQUIRED),
            of("java-03", HEAP, H, JAVA, "`dmaheap.ranking = \"high\"`", ARG, "activate", EINVAL,
                    HEAP_PID + ": property dmaheap.ranking = 'high' is not an integer"),
            of("java-04", V4L2, H, JAVA, "V4L2 `width = \"wide\"`", ARG, "activate", EINVAL,
                    V4L2_PID + "~camera: property width = 'wide' is not an integer"),
            of("java-05", CORE, H, JAVA, "a configuration of a PID no provider has (`" + DRM_PID + "~card0`, no DRM "
                    + "jar): reported in `fallbacks()`", ACCEPTED, "open", NO_ERRNO),
            of("java-06", DRM, H, JAVA, "factory PID `" + DRM_PID + "` configured without `~NAME`", ARG, "activate",
                    EINVAL, DRM_PID + " is a factory PID: name the configuration, " + DRM_PID + "~NAME"),
            of("java-07", HEAP, H, JAVA, "PID `" + HEAP_PID + "~x` (not a factory PID) with `~NAME`", ARG, "activate",
                    EINVAL, HEAP_PID + "~x: " + HEAP_PID + " is not a factory PID: no ~NAME"),
            of("java-08", CORE, H, JAVA, "`configurationFolder` that does not exist", "DmaBufException",
                    "configurationFolder", "ENOENT"),
            of("java-09", CORE, H, JAVA, "a `~x.cfg` file (its name gives no PID)", ARG, "configurationFolder",
                    EINVAL, "the file name gives no PID"),
            of("java-10", CORE, H, JAVA, "a `.cfg` file (its name gives no PID)", ARG, "configurationFolder",
                    EINVAL, "the file name gives no PID"),
            of("java-11", CORE, H, JAVA, "a provider that throws after another opened an exporter, allocated and "
                    + "mapped a buffer and an fd: all closed", "DmaBufException", "open", "ENOENT", "/dev/video9"),
            of("java-12", DRM, G, JAVA, "`" + DRM_PID + "~card0` (vgem) then `~bad` with `dev.path = /dev/null`: "
                    + "card0's nodes closed", LINUX, "ioctl(DRM_IOCTL_VERSION)", "ENOTTY", "/dev/null"),
            // ---- heap names configured: dmaheap.contiguous ----
            of("names-01", HEAP, H, CONFIG, "`dmaheap.contiguous = \"\"`", ARG, "activate", EINVAL,
                    HEAP_PID + ": dmaheap.contiguous '' is empty" + HEAP_NAME),
            of("names-02", HEAP, H, CONFIG, "`dmaheap.contiguous = \"..\"`", ARG, "activate", EINVAL,
                    "dmaheap.contiguous '..' is not a file name" + HEAP_NAME),
            of("names-03", HEAP, H, CONFIG, "`dmaheap.contiguous = \"a/b\"`", ARG, "activate", EINVAL,
                    "dmaheap.contiguous 'a/b' contains '/'" + HEAP_NAME),
            of("names-04", HEAP, H, CONFIG, "`dmaheap.contiguous` with a control character (U+0001)", ARG,
                    "activate", EINVAL, "dmaheap.contiguous 'bad?name' contains a control character" + HEAP_NAME),
            of("names-05", HEAP, H, CONFIG, "`dmaheap.contiguous` of 256 bytes", ARG, "activate", EINVAL,
                    "' is longer than 255 bytes" + HEAP_NAME),
            // ---- device nodes a user may not open ----
            ref("perm-01", CORE, G, NODE, "`/dev/dma_heap/system` (0660, group video) opened by uid 65534 without "
                    + "the group: owner, group, mode, its ids and what to do", LINUX, "open", "EACCES", NODE_ACCESS),
            ref("perm-02", CORE, G, NODE, "`/dev/udmabuf` (0660, group video) opened by uid 65534 without the group",
                    LINUX, "open", "EACCES", NODE_ACCESS),
            ref("perm-03", CORE, G, NODE, "`/dev/dri/card0`, `/dev/dri/renderD128` (0660, group video) opened by "
                    + "uid 65534 without the group", LINUX, "open", "EACCES", NODE_ACCESS),
            ref("perm-04", CORE, G, NODE, "`/dev/video0` (0660, group video) opened by uid 65534 without the group",
                    LINUX, "open", "EACCES", NODE_ACCESS),
            ref("perm-05", CORE, G, NODE, "each of those nodes 0600 root:root, opened by uid 65534 in group video: "
                    + "the udev rule to give", LINUX, "open", "EACCES", NODE_ACCESS),
            // ---- the tools: the gateway's --dump (SystemBuffers) and --doctor (Doctor) ----
            of("tool-01", CORE, H, TOOL, "`--dump --pid 0` (`SystemBuffers.run`)", STATUS_2, "dump", NO_ERRNO,
                    "--pid takes a process id, not '0'", DUMP_USAGE),
            of("tool-02", CORE, H, TOOL, "`--dump --pid x` (`SystemBuffers.run`)", STATUS_2, "dump", NO_ERRNO,
                    "--pid takes a process id, not 'x'", DUMP_USAGE),
            of("tool-03", CORE, H, TOOL, "`--dump --pid` without a number (`SystemBuffers.run`)", STATUS_2, "dump",
                    NO_ERRNO, "--pid takes a process id", DUMP_USAGE),
            of("tool-04", CORE, H, TOOL, "`--dump --bogus` (`SystemBuffers.run`)", STATUS_2, "dump", NO_ERRNO,
                    "unknown argument '--bogus'", DUMP_USAGE),
            of("tool-05", CORE, H, TOOL, "`--doctor --bogus` (`Doctor.run`)", STATUS_2, "doctor", NO_ERRNO,
                    "unknown argument '--bogus' (only --json)"),
            ref("tool-06", GATEWAY, H, TOOL, "`java -jar dmabuf-gateway.jar --doctor --frames 3`", STATUS_2,
                    "doctor", NO_ERRNO, "DoctorIT#jsonAndABadArgument"),
            ref("tool-07", GATEWAY, H, TOOL, "`--status=0`, `--status=65536`, `--status=http`, `--status=` "
                    + "(`Main.parse`)", ARG, "--status", EINVAL,
                    "MainTest#statusTakesAnOptionalPortAndTurnsThePageOn"));

    private BadInputTable() {
    }

    /**
     * The rows one module's test runs (references excluded: another test runs them).
     *
     * @param module {@code core}, {@code exporter-heap}, ...
     * @return its rows
     */
    public static List<BadInputCase> rows(String module) {
        return ROWS.stream().filter(r -> r.module().equals(module) && r.reference() == null).toList();
    }

    /**
     * The rows one module's test runs where it runs.
     *
     * @param module the module
     * @param where {@code host} or {@code guest}
     * @return its rows
     */
    public static List<BadInputCase> rows(String module, String where) {
        return rows(module).stream().filter(r -> r.where().equals(where)).toList();
    }

    /**
     * Fails unless a test's bodies are exactly the rows of its module that run where it runs.
     *
     * @param module the module
     * @param where {@code host} or {@code guest}
     * @param bodies the ids it has bodies for
     */
    public static void checkBodies(String module, String where, Set<String> bodies) {
        compare(module + " (" + where + ")", rows(module, where), bodies);
    }

    /**
     * Fails unless a module's bodies are exactly its rows.
     *
     * @param module the module
     * @param bodies the ids it has bodies for
     */
    public static void checkBodies(String module, Set<String> bodies) {
        compare(module, rows(module), bodies);
    }

    private static void compare(String module, List<BadInputCase> rows, Set<String> bodies) {
        Set<String> want = rows.stream().map(BadInputCase::id).collect(Collectors.toSet());
        Set<String> missing = new HashSet<>(want);
        missing.removeAll(bodies);
        Set<String> extra = new HashSet<>(bodies);
        extra.removeAll(want);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new AssertionError(module + ": rows without a body " + missing + ", bodies without a row " + extra);
        }
    }

    /**
     * The table as Markdown: one line per row, numbered in order.
     *
     * @return the text of {@code docs/bad-input.md}
     */
    public static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Bad input\n\n");
        b.append("Every input below is refused with a typed error (`org.dmabuf.api.DmaBufException` or a subclass such "
                + "as `org.dmabuf.linux.LinuxException`) whose message starts with the call and errno by name "
                + "(`call: ERRNO: ...`) and names the fd or path; or, where the error column says *accepted*, taken "
                + "as the test asserts. Each case counts this process's open fds by kind and its buffer mappings "
                + "before and after: nothing is left behind. `IndexOutOfBoundsException` is the documented error "
                + "of an access outside a buffer (as `ByteBuffer`'s), naming the call and the range. A command-line "
                + "tool's bad argument (*status 2*) is printed rather than thrown: a line starting with the tool's "
                + "name and holding the argument, then the usage, and exit status 2.\n\n");
        b.append("Generated from `core/src/test/java/org/dmabuf/core/BadInputTable.java` by `BadInputTableTest`, "
                + "which fails when this file differs. Regenerate with\n`./mvnw -B -o test -pl core -am "
                + "-Dkernel.tests=skip -Dtest=BadInputTableTest -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dbadinput.write=true`.\n");
        b.append("Rows run in the kernel guest (`guest`) use the real drivers (system heap, udmabuf, vgem, vivid).\n\n");
        b.append("| # | area | input | error | errno | test |\n");
        b.append("|---:|---|---|---|---|---|\n");
        int n = 0;
        for (BadInputCase r : ROWS) {
            n++;
            String error = r.error().equals(ACCEPTED) ? "*accepted*"
                    : r.error().equals(STATUS_2) ? "*status 2*, printed by `" + r.call() + "`"
                    : "`" + r.error() + "` from `" + r.call() + "`";
            b.append("| ").append(n).append(" | ").append(r.area()).append(" | ").append(r.input().replace("|", "\\|"))
                    .append(" | ").append(error).append(" | ").append(r.errno()).append(" | `").append(r.test())
                    .append("` |\n");
        }
        b.append("\n").append(n).append(" cases: ");
        b.append(ROWS.stream().collect(Collectors.groupingBy(BadInputCase::area, java.util.LinkedHashMap::new,
                Collectors.counting())).entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")));
        b.append(".\n");
        return b.toString();
    }
}
