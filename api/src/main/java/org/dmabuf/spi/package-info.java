/**
 * The exporter SPI of dmabuf-osgi: what a bundle implements to provide buffer storage, as a driver implements
 * {@code struct dma_buf_ops}.
 *
 * <p>An exporter registers a {@link org.dmabuf.spi.DmaBufExporter} service with the properties named by that
 * interface's constants. The core registry calls {@link org.dmabuf.spi.DmaBufExporter#allocate allocate} when a
 * buffer needs storage and then the returned {@link org.dmabuf.spi.ExportedBuffer}'s ops; it enforces every rule
 * (attach before map, unmap before detach, nothing after release) so that an exporter only implements the ops.
 */
@Version("1.2.0")
@Export
package org.dmabuf.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
