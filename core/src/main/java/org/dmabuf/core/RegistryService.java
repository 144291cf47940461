package org.dmabuf.core;

import org.dmabuf.api.DmaBufRegistry;
import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

/**
 * The {@link DmaBufRegistry} service, one instance per client bundle ({@link ServiceScope#BUNDLE}, the DS form of
 * a {@code ServiceFactory}). When the client bundle stops or ungets the service, SCR deactivates its instance and
 * everything the bundle left open is released. Thread-safe; any thread.
 */
@Component(service = DmaBufRegistry.class, scope = ServiceScope.BUNDLE)
public final class RegistryService extends ScopedRegistry {
    /**
     * Opens the registry for the bundle that got the service.
     *
     * @param registry the shared registry
     * @param context the component context, which names the using bundle
     */
    @Activate
    public RegistryService(@Reference BufferRegistry registry, ComponentContext context) {
        super(registry.open(ownerName(context.getUsingBundle())));
    }

    static String ownerName(Bundle b) {
        return b == null ? "unknown" : b.getSymbolicName() + " [" + b.getBundleId() + "]";
    }

    @Deactivate
    void deactivate() {
        scope.close();
    }
}
