package org.dmabuf.core;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.DmaBufEvents;
import org.dmabuf.api.ExporterInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

/**
 * Posts the registry's changes as EventAdmin events ({@link DmaBufEvents}). Active only where an EventAdmin is;
 * the core works without it. Threads: called by whichever thread changed the registry; {@code postEvent} is
 * asynchronous.
 */
@Component(immediate = true, service = {})
public final class EventPublisher implements RegistryListener {
    private final BufferRegistry registry;
    private final EventAdmin events;

    /**
     * Subscribes to the registry.
     *
     * @param registry the registry
     * @param events where events go
     */
    @Activate
    public EventPublisher(@Reference BufferRegistry registry, @Reference EventAdmin events) {
        this.registry = registry;
        this.events = events;
        registry.addListener(this);
    }

    @Deactivate
    void deactivate() {
        registry.removeListener(this);
    }

    private static Map<String, Object> buffer(BufferInfo i) {
        Map<String, Object> p = new HashMap<>();
        p.put(DmaBufEvents.INODE, i.inode());
        p.put(DmaBufEvents.DEV, i.id().dev());
        p.put(DmaBufEvents.EXP_NAME, i.expName());
        p.put(DmaBufEvents.SIZE, i.size());
        p.put(DmaBufEvents.NAME, i.name());
        p.put(DmaBufEvents.EXPORTER, i.exporter());
        p.put(DmaBufEvents.OWNER, i.owner());
        return p;
    }

    private static Map<String, Object> exporter(ExporterInfo i) {
        Map<String, Object> p = new HashMap<>();
        p.put(DmaBufEvents.EXPORTER, i.name());
        p.put("service.ranking", i.ranking());
        return p;
    }

    @Override
    public void bufferCreated(BufferInfo info) {
        events.postEvent(new Event(DmaBufEvents.TOPIC_BUFFER_CREATED, buffer(info)));
    }

    @Override
    public void bufferAttached(BufferInfo info, String device) {
        Map<String, Object> p = buffer(info);
        p.put(DmaBufEvents.DEVICE, device);
        events.postEvent(new Event(DmaBufEvents.TOPIC_BUFFER_ATTACHED, p));
    }

    @Override
    public void bufferReleased(BufferInfo info) {
        events.postEvent(new Event(DmaBufEvents.TOPIC_BUFFER_RELEASED, buffer(info)));
    }

    @Override
    public void exporterAdded(ExporterInfo info) {
        events.postEvent(new Event(DmaBufEvents.TOPIC_EXPORTER_ADDED, exporter(info)));
    }

    @Override
    public void exporterRemoved(ExporterInfo info) {
        events.postEvent(new Event(DmaBufEvents.TOPIC_EXPORTER_REMOVED, exporter(info)));
    }
}
