/**
 * The exporter test kit: the contract every {@code org.dmabuf.spi.DmaBufExporter} passes, judged by the kernel
 * (fdinfo, {@code lseek}, {@code fstat}, {@code /proc/self/fd}, {@code /proc/self/maps}, debugfs {@code bufinfo}).
 *
 * <p>From plain JUnit 5, extend {@link org.dmabuf.testkit.junit5.ExporterContractTest} and build the contract over
 * a {@link org.dmabuf.testkit.ContractRegistry} holding the exporter alone. Inside an OSGi framework (Pax Exam),
 * call {@code ExporterContract.of(registry, "name").verify()} with the registry service.
 */
@Version("1.0.0")
@Export
package org.dmabuf.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
