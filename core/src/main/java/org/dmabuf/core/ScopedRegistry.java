package org.dmabuf.core;

import java.util.List;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;

/**
 * A {@link DmaBufRegistry} for one owner: every call goes to the owner's {@link OwnerScope}. The OSGi service
 * (one per bundle) and the standalone registry are both this. Thread-safe; any thread.
 */
abstract class ScopedRegistry implements DmaBufRegistry {
    final OwnerScope scope;

    ScopedRegistry(OwnerScope scope) {
        this.scope = scope;
    }

    @Override
    public DmaBuf create(BufferRequest request) {
        return scope.create(request);
    }

    @Override
    public DmaBuf allocate(BufferRequest request) {
        return scope.allocate(request);
    }

    @Override
    public org.dmabuf.api.FrameBuffer allocateFrame(BufferRequest request) {
        return scope.allocateFrame(request);
    }

    @Override
    public org.dmabuf.api.BufferPool createPool(BufferRequest request, int count) {
        return scope.createPool(request, count);
    }

    @Override
    public org.dmabuf.api.BufferPool poolOf(List<? extends org.dmabuf.api.FrameBuffer> frames) {
        return scope.poolOf(frames);
    }

    @Override
    public DmaBuf get(int fd) {
        return scope.get(fd);
    }

    @Override
    public DmaBuf get(DmaBuf buffer) {
        return scope.get(buffer);
    }

    @Override
    public List<BufferInfo> bufinfo() {
        return scope.bufinfo();
    }

    @Override
    public List<ExporterInfo> exporters() {
        return scope.exporters();
    }
}
