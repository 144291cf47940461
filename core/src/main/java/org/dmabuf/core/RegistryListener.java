package org.dmabuf.core;

import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.ExporterInfo;

/**
 * What the registry tells its observers (the EventAdmin publisher). Called on the thread that made the change,
 * outside the buffer's lock; implementations must be quick and must not call back into the buffer.
 */
interface RegistryListener {
    void bufferCreated(BufferInfo info);

    void bufferAttached(BufferInfo info, String device);

    void bufferReleased(BufferInfo info);

    void exporterAdded(ExporterInfo info);

    void exporterRemoved(ExporterInfo info);
}
