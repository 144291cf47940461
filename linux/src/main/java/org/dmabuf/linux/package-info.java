/**
 * The Linux layer that exporter bundles share: JNA bindings of the system calls dma-buf needs, an owned fd and an
 * owned mapping, {@code _IOC} encoding computed from struct sizes, errno as typed exceptions, and the dma-buf UAPI
 * ({@code DMA_BUF_IOCTL_SYNC}, {@code DMA_BUF_SET_NAME}, fdinfo).
 *
 * <p>The bundle {@code org.dmabuf.linux} holds this package alone and depends on {@code org.dmabuf.api} and JNA
 * only, so that the exporters ({@code org.dmabuf.exporter.*}) and third-party exporter bundles call the kernel through
 * one tested layer without depending on the registry ({@code org.dmabuf.core}). It is not a consumer API; its
 * version follows semantic versioning like the API's: a change that breaks a caller raises the major version, an
 * addition the minor one.
 *
 * <p>What an exporter uses: {@link org.dmabuf.linux.Fd} (an owned fd), {@link org.dmabuf.linux.Mapping} (an owned
 * {@code mmap}), {@link org.dmabuf.linux.FdBuffer} (an {@code ExportedBuffer} backed by an fd),
 * {@link org.dmabuf.linux.Sys} (the system calls, each failure a {@link org.dmabuf.linux.LinuxException} naming the
 * call, the fd or path and errno by name), {@link org.dmabuf.linux.Ioc} ({@code _IOC} from a struct's size),
 * {@link org.dmabuf.linux.Errno}, {@link org.dmabuf.linux.FdInfo} and the UAPI structs.
 */
@Version("1.2.0")
@Export
package org.dmabuf.linux;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
