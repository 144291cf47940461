package org.dmabuf.itests.client;

import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * The activator of a client bundle the dynamics test builds on the fly: it allocates two buffers, attaches a
 * device to one, maps it for the CPU, and never releases anything, so that stopping the bundle must.
 */
public class ClientActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        DmaBufRegistry registry = context.getService(context.getServiceReference(DmaBufRegistry.class));
        DmaBuf a = registry.allocate(BufferRequest.ofSize(65536).name("client-a"));
        DmaBuf b = registry.allocate(BufferRequest.ofSize(8192).name("client-b"));
        b.attach(Device.of("client-dev", DeviceConstraints.NONE));
        a.mmap().putInt(0, 42);
        context.registerService(Object.class, new Object[] {a, b}, null); // keeps the handles reachable
    }

    @Override
    public void stop(BundleContext context) {
        // deliberately careless: the registry must clean up after this bundle
    }
}
