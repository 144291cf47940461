package org.dmabuf.api;

/**
 * An exporter the registry knows, as its service properties describe it. Immutable and thread-safe.
 *
 * @param name {@code dmabuf.exporter.name}
 * @param kind {@code dma-buf} or {@code memfd}
 * @param ranking {@code service.ranking}
 * @param serviceId {@code service.id}
 * @param contiguous whether it allocates physically contiguous memory
 * @param uncached whether it allocates uncached memory
 * @param maxSize the largest buffer it allocates
 * @param alignment the alignment of every buffer it allocates
 */
public record ExporterInfo(String name, String kind, int ranking, long serviceId, boolean contiguous,
        boolean uncached, long maxSize, long alignment) {
}
