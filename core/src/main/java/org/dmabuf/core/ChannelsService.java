package org.dmabuf.core;

import java.nio.file.Path;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

/**
 * The {@link BufferChannels} service, one instance per client bundle: buffers received on its channels belong to
 * that bundle and are released when it stops, and the listeners and channels it opened are closed then (socket
 * files removed, blocked receives woken with {@code EPIPE}); later calls fail with {@code ENODEV}. Thread-safe; any
 * thread, deactivation included.
 */
@Component(service = BufferChannels.class, scope = ServiceScope.BUNDLE)
public final class ChannelsService implements BufferChannels {
    private final OwnerScope scope;
    private final Channels channels;

    /**
     * Opens channels for the bundle that got the service.
     *
     * @param registry the shared registry
     * @param context the component context, which names the using bundle
     */
    @Activate
    public ChannelsService(@Reference BufferRegistry registry, ComponentContext context) {
        String owner = RegistryService.ownerName(context.getUsingBundle());
        this.scope = registry.open(owner);
        this.channels = new Channels(scope, owner);
    }

    /** Closes every listener and channel the bundle left open, then releases its buffers. */
    @Deactivate
    void deactivate() {
        try {
            channels.close();
        } finally {
            scope.close();
        }
    }

    /** Listeners and channels still open, for tests. */
    int openCount() {
        return channels.openCount();
    }

    @Override
    public ChannelListener listen(Path socket, ChannelOptions options) {
        return channels.listen(socket, options);
    }

    @Override
    public BufferChannel connect(Path socket, ChannelOptions options) {
        return channels.connect(socket, options);
    }
}
