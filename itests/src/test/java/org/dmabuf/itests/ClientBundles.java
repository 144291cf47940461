package org.dmabuf.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.osgi.framework.Constants;

/** Client bundles the tests install and stop: one activator class each, built in memory. Threads: any. */
final class ClientBundles {
    private ClientBundles() {
    }

    /**
     * A bundle holding only {@code activator}, importing the API and the framework.
     *
     * @param symbolicName its Bundle-SymbolicName
     * @param activator its activator, a class of this test bundle
     * @return the bundle's jar, for {@code BundleContext.installBundle}
     */
    static InputStream of(String symbolicName, Class<?> activator) throws Exception {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        a.putValue(Constants.BUNDLE_SYMBOLICNAME, symbolicName);
        a.putValue(Constants.BUNDLE_ACTIVATOR, activator.getName());
        a.putValue(Constants.IMPORT_PACKAGE, "org.dmabuf.api, org.osgi.framework");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes, m)) {
            String cls = activator.getName().replace('.', '/') + ".class";
            jar.putNextEntry(new JarEntry(cls));
            try (InputStream in = activator.getClassLoader().getResourceAsStream(cls)) {
                assertNotNull(cls, in);
                in.transferTo(jar);
            }
            jar.closeEntry();
        }
        assertFalse(bytes.size() == 0);
        return new ByteArrayInputStream(bytes.toByteArray());
    }
}
