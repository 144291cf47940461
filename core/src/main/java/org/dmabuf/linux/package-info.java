/**
 * The Linux layer that exporter bundles share: JNA bindings of the system calls dma-buf needs, an owned fd and an
 * owned mapping, {@code _IOC} encoding computed from struct sizes, errno as typed exceptions, and the dma-buf UAPI
 * ({@code DMA_BUF_IOCTL_SYNC}, {@code DMA_BUF_SET_NAME}, fdinfo).
 *
 * <p>This is the one package of {@code org.dmabuf.core} that is exported: on purpose, so that the exporters
 * ({@code org.dmabuf.exporter.*}) and third-party exporter bundles call the kernel through one tested layer. It is
 * not a consumer API; its version follows semantic versioning like the API's.
 */
@Version("1.2.0")
@Export
package org.dmabuf.linux;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
