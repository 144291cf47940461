/**
 * The exporter contract as a JUnit 5 test factory: one dynamic test per check. Needs {@code junit-jupiter-api}
 * (imported optionally by the kit's bundle).
 */
@Version("1.0.0")
@Export
package org.dmabuf.testkit.junit5;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
