/**
 * The consumer API of dmabuf-osgi: Linux dma-buf buffer sharing for Java.
 *
 * <p>The model is the kernel's ({@code drivers/dma-buf/dma-buf.c}), with its names:
 * <ol>
 * <li>{@link org.dmabuf.api.DmaBufRegistry#create create} a buffer of a fixed size (storage may come later:
 *     late allocation) or {@link org.dmabuf.api.DmaBufRegistry#allocate allocate} it at once;</li>
 * <li>{@link org.dmabuf.api.DmaBuf#attach attach} each importer {@link org.dmabuf.api.Device device} with its
 *     {@link org.dmabuf.api.DeviceConstraints constraints}; the first
 *     {@link org.dmabuf.api.DmaBuf#map map}, {@link org.dmabuf.api.DmaBuf#mmap mmap} or
 *     {@link org.dmabuf.api.DmaBuf#fd fd} commits storage that satisfies every attachment;</li>
 * <li>{@link org.dmabuf.api.DmaBuf#map map} an attachment to get the {@link org.dmabuf.api.SgTable segments} the
 *     device sees; unmap, then detach;</li>
 * <li>for CPU access, bracket every access with {@link org.dmabuf.api.DmaBuf#beginCpuAccess beginCpuAccess} and
 *     the returned {@link org.dmabuf.api.CpuAccess}'s {@code close()} ({@code DMA_BUF_IOCTL_SYNC});</li>
 * <li>share {@link org.dmabuf.api.DmaBuf#fd fd()}; whoever receives it turns it back into the buffer with
 *     {@link org.dmabuf.api.DmaBufRegistry#get(int) get(fd)};</li>
 * <li>every handle holds one reference; {@link org.dmabuf.api.DmaBuf#put put} (or {@code close()}) drops it and
 *     the last one releases the storage through the exporter.</li>
 * </ol>
 * Errors are {@link org.dmabuf.api.DmaBufException}s that name the call, the buffer and the errno the kernel would
 * have returned.
 */
@Version("1.4.0")
@Export
package org.dmabuf.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
