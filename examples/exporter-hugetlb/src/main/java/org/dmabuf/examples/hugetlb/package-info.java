/**
 * An example exporter, walked through in {@code docs/writing-an-exporter.md}: sealed memfds backed by huge pages
 * ({@code MFD_HUGETLB}), as a Declarative Services component per factory configuration, an
 * {@link org.dmabuf.spi.ExporterProvider} for plain Java and a {@link org.dmabuf.spi.MachineCheck}. Nothing here is
 * exported: other bundles see the exporter only as a {@link org.dmabuf.spi.DmaBufExporter} service.
 */
package org.dmabuf.examples.hugetlb;
