package org.dmabuf.itests.client;

import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.DmaDirection;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * The activator of a client bundle {@code FaultIT} builds on the fly: it allocates three buffers from the exporter
 * named {@code itest-counting} and uses each in another way (mapped and written; attached and mapped for a device;
 * a second handle from {@code get(fd)}), and releases nothing, so that stopping the bundle must. Its start runs on
 * the framework's thread that starts it.
 */
public class FaultClientActivator implements BundleActivator {
    /** The exporter the buffers come from. */
    public static final String EXPORTER = "itest-counting";

    @Override
    public void start(BundleContext context) {
        DmaBufRegistry registry = context.getService(context.getServiceReference(DmaBufRegistry.class));
        DmaBuf a = registry.allocate(BufferRequest.ofSize(65536).name("fault-client-a").exporter(EXPORTER));
        a.mmap().putInt(0, 42);
        DmaBuf b = registry.allocate(BufferRequest.ofSize(8192).name("fault-client-b").exporter(EXPORTER));
        b.map(b.attach(Device.of("fault-client-dev", DeviceConstraints.NONE)), DmaDirection.BIDIRECTIONAL);
        DmaBuf c = registry.allocate(BufferRequest.ofSize(4096).name("fault-client-c").exporter(EXPORTER));
        DmaBuf c2 = registry.get(c.fd());
        context.registerService(Object.class, new Object[] {a, b, c, c2}, null); // keeps the handles reachable
    }

    @Override
    public void stop(BundleContext context) {
        // deliberately careless: the registry must clean up after this bundle
    }
}
