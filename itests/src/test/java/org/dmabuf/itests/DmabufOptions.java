package org.dmabuf.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.nio.file.Files;
import java.nio.file.Path;
import org.ops4j.pax.exam.Option;

/**
 * The one set of Pax Exam options every test shares: Apache Felix with SCR, ConfigAdmin, EventAdmin, Metatype,
 * Gogo and JNA, Awaitility for the tests, and the project's bundles from the reactor (files copied by
 * maven-dependency-plugin into {@code target/bundles}, installed by {@code file:} URL). Unresolved bundles fail the run
 * ({@code pax.exam.osgi.unresolved.fail}, set by failsafe). Stateless; any thread.
 */
public final class DmabufOptions {
    /** The project's bundles, in install order. */
    public static final String[] PROJECT_BUNDLES = {"org.dmabuf.api", "org.dmabuf.core", "org.dmabuf.exporter.heap",
        "org.dmabuf.exporter.drm", "org.dmabuf.exporter.v4l2"};

    private DmabufOptions() {
    }

    /**
     * The framework and every bundle.
     *
     * @return the options
     */
    public static Option base() {
        return composite(
                workingDirectory(System.getProperty("itest.workdir", "target/paxexam")),
                systemProperty("pax.exam.osgi.unresolved.fail").value("true"),
                systemProperty("ds.loglevel").value("warn"),
                junitBundles(),
                // Awaitility, for the tests' waits, with the Hamcrest 2 it imports
                mavenBundle("org.hamcrest", "hamcrest").versionAsInProject(),
                mavenBundle("org.awaitility", "awaitility").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.configadmin").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.eventadmin").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.log").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.metatype").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.runtime").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.command").versionAsInProject(),
                mavenBundle("net.java.dev.jna", "jna").versionAsInProject(),
                projectBundles());
    }

    /**
     * The exporter test kit ({@code org.dmabuf.testkit}) as a bundle, from the reactor like the project's bundles:
     * {@code mvn verify} does not install it, so a {@code mvn:} URL would find a stale copy or none.
     *
     * @return the option
     */
    public static Option testKit() {
        return projectBundle("org.dmabuf.testkit");
    }

    private static Option projectBundles() {
        Option[] out = new Option[PROJECT_BUNDLES.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = projectBundle(PROJECT_BUNDLES[i]);
        }
        return composite(out);
    }

    private static Option projectBundle(String name) {
        Path jar = Path.of(System.getProperty("itest.bundles", "target/bundles")).resolve(name + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the itests through mvn verify");
        }
        return bundle(jar.toUri().toString());
    }
}
