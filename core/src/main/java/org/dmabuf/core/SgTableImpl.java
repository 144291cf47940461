package org.dmabuf.core;

import java.util.List;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.Segment;
import org.dmabuf.api.SgTable;

/** A mapping of an attachment ({@code struct sg_table}). Immutable but for its end; any thread. */
final class SgTableImpl implements SgTable {
    private final AttachmentImpl attachment;
    private final DmaDirection direction;
    private final List<Segment> segments;
    private volatile boolean mapped = true;

    SgTableImpl(AttachmentImpl attachment, DmaDirection direction, List<Segment> segments) {
        this.attachment = attachment;
        this.direction = direction;
        this.segments = segments;
    }

    @Override
    public AttachmentImpl attachment() {
        return attachment;
    }

    @Override
    public DmaDirection direction() {
        return direction;
    }

    @Override
    public List<Segment> segments() {
        return segments;
    }

    @Override
    public boolean isMapped() {
        return mapped;
    }

    void ended() {
        mapped = false;
        attachment.owner().untrack(this);
    }

    @Override
    public void close() {
        if (mapped) {
            try {
                attachment.buffer.unmap(this);
            } catch (org.dmabuf.api.BufferStateException e) {
                // unmapped concurrently by another thread or by the buffer's release: close() is idempotent
            }
        }
    }
}
